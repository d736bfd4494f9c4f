/*
 * fuzz_trace.c - libFuzzer target: the trace reader, the aggregation and
 * every report command on truncated, corrupted and hostile trace files.
 *
 * Built with -fsanitize=fuzzer,address,undefined against report/ (all of it), with
 * report/main.c's main renamed pt_fuzz_pooltrace_main (tests/fuzz.mk).
 *
 * Each input is written to a memfd and read through /proc/self/fd/N, as a
 * file named on the command line would be:
 *  1. as it is: pt_trace_open, pt_trace_read (every field of every event
 *     touched, and the read stopped early by the callback for some inputs),
 *     pt_trace_module for every recorded frame, pt_trace_close;
 *  2. with its chunk checksums recomputed (and the last plain chunk's
 *     length fitted to the file), so that mutations inside the records reach
 *     the decoder instead of stopping at the checksum; if that changed the
 *     input, step 1 again on the fixed copy;
 *  3. on the fixed copy, a command as a user runs it: dump, report, leaks
 *     (with suppressions), frag, html, export in the four formats, or diff of
 *     the trace cut at two thirds against the trace (see run_commands);
 *     their output goes to
 *     /dev/null (stdout is redirected once at start-up, files are named
 *     /dev/null, which the commands never remove).
 * A command may fail (exit status 2 and a message) but must not crash, leak,
 * hang or call exit().  The symbolizer opens the module files the trace
 * names, as it would for a real trace (seeds name the test programs and
 * libc); DEBUGINFOD_URLS is unset so that libdw never goes to the network.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../report/trace_read.h"

int pt_fuzz_pooltrace_main(int argc, char **argv);

static struct {
	int fd;                   /* memfd holding the current input */
	char path[64];            /* /proc/self/fd/N */
	int fd_base;              /* the base trace of diff: a prefix of the input */
	char path_base[64];
	char supp[64];            /* a suppressions file, another memfd */
	uint8_t *fixed;
	size_t fixed_cap;
	int all;                  /* every command on every input */
	const char *save_fixed;   /* FUZZ_TRACE_SAVE_FIXED: write the fixed copy there */
} g = { -1, "", -1, "", "", NULL, 0, 0, NULL };

static void die(const char *what)
{
	perror(what);
	abort();
}

static void put_file_fd(int fd, const uint8_t *data, size_t size)
{
	if (ftruncate(fd, 0) != 0)
		die("fuzz_trace: ftruncate");
	size_t off = 0;
	while (off < size) {
		ssize_t w = pwrite(fd, data + off, size - off, (off_t)off);
		if (w <= 0)
			die("fuzz_trace: pwrite");
		off += (size_t)w;
	}
}

static void put_file(const uint8_t *data, size_t size)
{
	put_file_fd(g.fd, data, size);
}

/* ---- the reader's chunk buffer ---------------------------------------------------
 *
 * pt_trace_read() mallocs a PT_CHUNK_MAX (16 MiB) buffer for decompressed
 * chunks on every call, whatever the chunk sizes.  ASan poisons the shadow
 * of a freed block: 2 MiB of page faults for each read, which made a run
 * five times slower than the reading itself.  The link wraps malloc and free
 * (-Wl,--wrap=malloc,--wrap=free, tests/fuzz.mk) to keep one such buffer
 * for the whole run; every other call goes to ASan's malloc unchanged.  The
 * buffer keeps its redzone, so overflows past it are still caught.
 */
void *__real_malloc(size_t n);
void __real_free(void *p);

static struct {
	void *buf;
	int busy;
} chunk_buf;

void *__wrap_malloc(size_t n)
{
	if (n == PT_CHUNK_MAX && !chunk_buf.busy) {
		if (!chunk_buf.buf)
			chunk_buf.buf = __real_malloc(n);
		chunk_buf.busy = chunk_buf.buf != NULL;
		return chunk_buf.buf;
	}
	return __real_malloc(n);
}

void __wrap_free(void *p)
{
	if (p && p == chunk_buf.buf) {
		chunk_buf.busy = 0;
		return;
	}
	__real_free(p);
}

/* ---- 1. the reader API ------------------------------------------------------ */

struct ctx {
	uint64_t sum, n, stop_at;
};

static int on_event(void *arg, const struct pt_event *e)
{
	struct ctx *c = arg;
	c->sum += e->seq + e->type + e->stream + e->tid + e->info + e->size + e->stack +
	          (uint64_t)e->temp + e->old_info + e->old_size + e->old_stack +
	          e->end_reason + e->end_code;
	c->sum += strlen(pt_record_name(e->type));
	if (e->snap) {
		const struct pt_snapshot *s = e->snap;
		c->sum += s->kind + s->time_ns + s->rss + s->live + s->nclasses + s->narenas;
		for (unsigned k = 0; k < s->nclasses; k++)
			c->sum += s->cls[k].nmalloc + s->cls[k].req_bytes + s->cls[k].blocks_used;
		for (size_t i = 0; i < s->narenas; i++)
			c->sum += s->arena[i].base + s->arena[i].bytes_in_blocks;
	}
	if (e->leaks)
		for (size_t i = 0; i < e->leaks->n; i++)
			c->sum += e->leaks->e[i].info + e->leaks->e[i].cls + e->leaks->e[i].bytes;
	if (e->pinned)
		for (size_t i = 0; i < e->pinned->n; i++) {
			const struct pt_pinned_rec *a = &e->pinned->a[i];
			c->sum += a->base + a->blocks + a->bytes;
			for (size_t k = 0; k < a->ninfos; k++)
				c->sum += a->info[k].info + a->info[k].blocks;
		}
	return c->stop_at && ++c->n >= c->stop_at;
}

static uint64_t read_api(uint64_t stop_at)
{
	char err[512];
	struct pt_trace *t = pt_trace_open(g.path, err, sizeof err);
	if (!t)
		return strlen(err);
	struct ctx c = { 0, 0, stop_at };
	pt_trace_read(t, on_event, &c);
	c.sum += strlen(t->exe) + t->nchunks + t->data_end + strlen(t->stop);
	for (size_t i = 0; i < t->nstacks; i++) {
		const struct pt_stack *s = &t->stack[i];
		for (unsigned k = 0; k < s->nframes; k++) {
			const struct pt_module *m = pt_trace_module(t, s->gen, s->ip[k]);
			if (m)
				c.sum += strlen(m->path) + m->build_id_len + m->nseg;
		}
	}
	for (size_t i = 1; i < t->ninfos; i++)
		c.sum += t->info[i].size + t->info[i].stack + t->info[i].kind;
	pt_trace_close(t);
	return c.sum;
}

/* ---- 2. checksums -------------------------------------------------------------- */

/* Copy data into g.fixed with every whole chunk's checksums recomputed; the
 * last plain chunk's length is fitted to what is left of the file.
 * Returns the size of the copy (that of the input). */
static size_t fix_checksums(const uint8_t *data, size_t size)
{
	if (size > g.fixed_cap || !g.fixed) {
		free(g.fixed);
		g.fixed_cap = size;
		g.fixed = malloc(size ? size : 1);
		if (!g.fixed)
			die("fuzz_trace: malloc");
	}
	if (size)
		memcpy(g.fixed, data, size);
	struct pt_trace_header h;
	if (size < sizeof h)
		return size;
	memcpy(&h, g.fixed, sizeof h);
	uint64_t off = h.header_size;
	struct pt_chunk_header c;
	while (off <= size && size - off >= sizeof c) {
		memcpy(&c, g.fixed + off, sizeof c);
		if (c.magic != PT_CHUNK_MAGIC)
			break;
		size_t left = size - off - sizeof c;
		if (!(c.flags & PT_CHUNK_F_ZSTD) && c.stored > left)
			c.stored = c.raw = (uint32_t)left;
		if (c.stored > left)
			break;
		c.sum = pt_trace_sum(g.fixed + off + sizeof c, c.stored);
		c.hsum = pt_trace_sum(&c, offsetof(struct pt_chunk_header, hsum));
		memcpy(g.fixed + off, &c, sizeof c);
		off += sizeof c + c.stored;
	}
	return size;
}

/* ---- 3. the commands -------------------------------------------------------------- */

static int run(const char *a0, const char *a1, const char *a2, const char *a3,
               const char *a4, const char *a5, const char *a6, const char *a7)
{
	const char *in[] = { "pooltrace", a0, a1, a2, a3, a4, a5, a6, a7, NULL };
	char *argv[10];
	char buf[10][80];
	int argc = 0;
	for (; in[argc]; argc++) {
		snprintf(buf[argc], sizeof buf[argc], "%s", in[argc]);
		argv[argc] = buf[argc];
	}
	argv[argc] = NULL;
	int rc = pt_fuzz_pooltrace_main(argc, argv);
	fflush(stdout);
	return rc;
}

/*
 * The commands, with variants picked by a hash of the input.  Fuzzing runs
 * one command per input, picked by the hash too (any mutation may move an
 * input to another command, so all of them are explored): each command loads
 * the trace again, and every load costs a 16 MiB buffer (PT_CHUNK_MAX) that
 * ASan poisons and unpoisons, five times the decoding of a small trace.
 * FUZZ_TRACE_ALL_COMMANDS=1 (the corpus replay of make check-fuzz) runs
 * them all on every input.
 */
static void run_commands(const uint8_t *data, size_t size, int all)
{
	uint32_t k = 2166136261u;   /* FNV-1a */
	for (size_t i = 0; i < size; i++)
		k = (k ^ data[i]) * 16777619u;
	k ^= k >> 16;
	static const char *const what[] = { "peak", "leaks", "allocated", "temporary" };
	static const char *const by[] = { "peak", "leaked", "calls" };
	const char *p = g.path;
	unsigned pick = k % 10;

	if (all || pick == 0)
		run("dump", k & 16 ? "--summary" : p, k & 16 ? p : NULL, NULL, NULL, NULL, NULL,
		    NULL);
	if (all || pick == 1)
		run("report", "--top", k & 16 ? "1" : "50", "--frames", k & 32 ? "1" : "64", p,
		    NULL, NULL);
	if (all || pick == 2)
		run("leaks", "--suppressions", g.supp, k & 16 ? "--no-reachable" : "--fail-on-leak",
		    "--top", k & 32 ? "1" : "40", p, NULL);
	if (all || pick == 3)
		run("frag", p, NULL, NULL, NULL, NULL, NULL, NULL);
	if (all || pick == 4)
		run("html", "-o", "/dev/null", p, NULL, NULL, NULL, NULL);
	if (all || pick == 5)
		run("export", "--format", "massif", "-o", "/dev/null", p, NULL, NULL);
	if (all || pick == 6)
		run("export", "--format", "pprof", "--what", what[(k >> 4) % 4], "-o", "/dev/null",
		    p);
	if (all || pick == 7)
		run("export", "--format", "folded", "--what", what[(k >> 4) % 4], "-o",
		    "/dev/null", p);
	if (all || pick == 8)
		run("export", "--format", "speedscope", "--what", what[(k >> 4) % 4], "-o",
		    "/dev/null", p);
	if (all || pick == 9) {
		/* against the same trace cut at two thirds: what a cut trace
		 * still has, so that sites differ */
		put_file_fd(g.fd_base, g.fixed, size - size / 3);
		run("diff", "--by", by[(k >> 4) % 3], g.path_base, p, NULL, NULL, NULL);
	}
}

/* ---- libFuzzer ------------------------------------------------------------------ */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	unsetenv("DEBUGINFOD_URLS");
	const char *all = getenv("FUZZ_TRACE_ALL_COMMANDS");
	g.all = all && *all && strcmp(all, "0") != 0;
	g.save_fixed = getenv("FUZZ_TRACE_SAVE_FIXED");
	int null = open("/dev/null", O_WRONLY);
	if (null < 0 || dup2(null, 1) < 0)
		die("fuzz_trace: /dev/null");
	close(null);
	g.fd = memfd_create("fuzz_trace", MFD_CLOEXEC);
	g.fd_base = memfd_create("fuzz_trace_base", MFD_CLOEXEC);
	int sfd = memfd_create("fuzz_trace_supp", MFD_CLOEXEC);
	if (g.fd < 0 || g.fd_base < 0 || sfd < 0)
		die("fuzz_trace: memfd_create");
	snprintf(g.path, sizeof g.path, "/proc/self/fd/%d", g.fd);
	snprintf(g.path_base, sizeof g.path_base, "/proc/self/fd/%d", g.fd_base);
	snprintf(g.supp, sizeof g.supp, "/proc/self/fd/%d", sfd);
	static const char supp[] = "# leak_prog's\nleak:lose_*\n  leak:^make_list$\n"
	                           "leak:*alloc*\nleak:main\n";
	if (write(sfd, supp, sizeof supp - 1) != (ssize_t)(sizeof supp - 1))
		die("fuzz_trace: suppressions");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static volatile uint64_t sink;   /* keeps the reads */
	/* some inputs stop the read early from the callback */
	uint64_t stop_at = size > 2 && data[size - 2] < 16 ? 1u + data[size - 2] : 0;

	put_file(data, size);
	sink += read_api(stop_at);

	size_t n = fix_checksums(data, size);
	if (g.save_fixed && *g.save_fixed) {   /* to reproduce with build/pooltrace */
		FILE *f = fopen(g.save_fixed, "wb");
		if (!f || fwrite(g.fixed, 1, n, f) != n || fclose(f))
			die(g.save_fixed);
	}
	if (n && memcmp(g.fixed, data, n) != 0) {
		put_file(g.fixed, n);
		sink += read_api(stop_at);
	}
	run_commands(data, size, g.all);
	(void)sink;
	return 0;
}
