/*
 * trace_plain.c - rewrite a pooltrace trace with its chunks uncompressed.
 *
 *   trace_plain IN OUT
 *
 * The fuzzer mutates the records of a trace's chunks; inside zstd frames
 * almost every mutation only breaks the decompression.  This writes the
 * same trace with every chunk plain (flags 0, stored == raw) and its
 * checksums recomputed, for the seed corpus of fuzz_trace
 * (tests/fuzz/make_corpus.sh).  Reads chunks as report/trace_read.c does:
 * one decompression context, reset at PT_CHUNK_F_ZSTD_NEW; stops at the
 * first damaged chunk.  Exit 0, or 1 with a message.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "../../preload/trace_format.h"

static int die(const char *msg, const char *arg)
{
	fprintf(stderr, "trace_plain: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return die("usage: trace_plain IN OUT", NULL);
	FILE *f = fopen(argv[1], "rb");
	if (!f)
		return die("cannot open", argv[1]);
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (sz < (long)sizeof(struct pt_trace_header))
		return die("too short", argv[1]);
	uint8_t *in = malloc((size_t)sz);
	uint8_t *raw = malloc(PT_CHUNK_MAX);
	if (!in || !raw || fread(in, 1, (size_t)sz, f) != (size_t)sz)
		return die("cannot read", argv[1]);
	fclose(f);

	struct pt_trace_header h;
	memcpy(&h, in, sizeof h);
	if (memcmp(h.magic, PT_TRACE_MAGIC, 8) || h.header_size > (uint64_t)sz)
		return die("not a trace", argv[1]);
	FILE *o = fopen(argv[2], "wb");
	if (!o)
		return die("cannot create", argv[2]);
	fwrite(in, 1, h.header_size, o);

	ZSTD_DCtx *dc = ZSTD_createDCtx();
	size_t off = h.header_size, nchunks = 0;
	while (off + sizeof(struct pt_chunk_header) <= (size_t)sz) {
		struct pt_chunk_header c;
		memcpy(&c, in + off, sizeof c);
		if (c.magic != PT_CHUNK_MAGIC || c.stored > (size_t)sz - off - sizeof c)
			break;
		const uint8_t *data = in + off + sizeof c;
		size_t len = c.stored, next = off + sizeof c + c.stored;
		if (c.flags & PT_CHUNK_F_ZSTD) {
			if (c.flags & PT_CHUNK_F_ZSTD_NEW)
				ZSTD_DCtx_reset(dc, ZSTD_reset_session_only);
			ZSTD_inBuffer zi = { data, len, 0 };
			ZSTD_outBuffer zo = { raw, c.raw, 0 };
			while (zi.pos < zi.size && zo.pos < zo.size)
				if (ZSTD_isError(ZSTD_decompressStream(dc, &zo, &zi)))
					break;
			if (zo.pos != c.raw)
				break;
			data = raw;
			len = zo.pos;
		}
		c.flags = 0;
		c.stored = c.raw = (uint32_t)len;
		c.sum = pt_trace_sum(data, len);
		c.hsum = pt_trace_sum(&c, offsetof(struct pt_chunk_header, hsum));
		fwrite(&c, 1, sizeof c, o);
		fwrite(data, 1, len, o);
		off = next;
		nchunks++;
	}
	ZSTD_freeDCtx(dc);
	if (fclose(o))
		return die("cannot write", argv[2]);
	fprintf(stderr, "trace_plain: %s: %zu chunks, %zu of %ld bytes read\n", argv[2], nchunks,
	        off, sz);
	return 0;
}
