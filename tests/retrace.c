/*
 * retrace.c - rewrite a trace with its chunks recompressed in zstd frames
 * of N chunks each, and optionally damage one chunk (its payload, after
 * its checksum), for tests/test_cli.sh: the reader must skip the damaged
 * chunk and the chunks after it in its frame, and read on from the next
 * frame.
 *
 *   retrace IN OUT N [K]   frames of N chunks; chunk K (from 0) damaged
 *
 * Prints the number of chunks written.  Exit status 0, or 1 with a message.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "../preload/trace_format.h"

static void die(const char *msg)
{
	fprintf(stderr, "retrace: %s\n", msg);
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc < 4)
		die("usage: retrace IN OUT N [K]");
	long per = atol(argv[3]), bad = argc > 4 ? atol(argv[4]) : -1;
	FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
	if (!in || !out || per < 1)
		die("cannot open the files, or N < 1");
	fseek(in, 0, SEEK_END);
	size_t size = (size_t)ftell(in);
	rewind(in);
	unsigned char *d = malloc(size), *raw = malloc(PT_CHUNK_MAX);
	size_t zcap = ZSTD_compressBound(PT_CHUNK_MAX);
	unsigned char *z = malloc(zcap);
	if (!d || !raw || !z || fread(d, 1, size, in) != size)
		die("cannot read the input");
	struct pt_trace_header h;
	memcpy(&h, d, sizeof h);
	fwrite(d, 1, h.header_size, out);
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t off = h.header_size;
	long k = 0;
	while (off + sizeof(struct pt_chunk_header) <= size) {
		struct pt_chunk_header c;
		memcpy(&c, d + off, sizeof c);
		const unsigned char *p = d + off + sizeof c;
		if (c.magic != PT_CHUNK_MAGIC || off + sizeof c + c.stored > size)
			break;
		size_t len = c.stored;
		if (c.flags & PT_CHUNK_F_ZSTD) {
			if (c.flags & PT_CHUNK_F_ZSTD_NEW)
				ZSTD_DCtx_reset(dc, ZSTD_reset_session_only);
			ZSTD_inBuffer zi = { p, c.stored, 0 };
			ZSTD_outBuffer zo = { raw, c.raw, 0 };
			while (zi.pos < zi.size && zo.pos < zo.size)
				if (ZSTD_isError(ZSTD_decompressStream(dc, &zo, &zi)))
					die("cannot decompress the input");
			p = raw;
			len = zo.pos;
		}
		off += sizeof c + c.stored;
		/* recompress, a new frame every per chunks */
		c.flags = PT_CHUNK_F_ZSTD;
		if (k % per == 0) {
			ZSTD_CCtx_reset(cc, ZSTD_reset_session_only);
			c.flags |= PT_CHUNK_F_ZSTD_NEW;
		}
		ZSTD_inBuffer zi = { p, len, 0 };
		ZSTD_outBuffer zo = { z, zcap, 0 };
		size_t r;
		do
			r = ZSTD_compressStream2(cc, &zo, &zi, ZSTD_e_flush);
		while (!ZSTD_isError(r) && r != 0);
		if (ZSTD_isError(r))
			die("cannot compress");
		c.raw = (uint32_t)len;
		c.stored = (uint32_t)zo.pos;
		c.sum = pt_trace_sum(z, c.stored);
		c.hsum = pt_trace_sum(&c, offsetof(struct pt_chunk_header, hsum));
		if (k == bad)
			z[c.stored / 2] ^= 0x5a;
		fwrite(&c, 1, sizeof c, out);
		fwrite(z, 1, c.stored, out);
		k++;
	}
	if (fclose(out))
		die("cannot write the output");
	printf("%ld\n", k);
	return 0;
}
