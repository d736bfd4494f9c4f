/*
 * py_check.c DIR MANIFEST [DEPTH [cut]] - the known answers of tests/python/sites.py
 * against the traces of DIR (t.PID, one per process, as
 * `pooltrace run -o DIR/t.%p` names them), read and symbolized by report/.
 *
 * Each manifest line is "pid <tab> size <tab> name|file|line ..." (the
 * interpreter's own frames at an allocation of a bytearray of that size,
 * innermost first).  The trace of that pid must hold an allocation of that
 * size plus at most 8 bytes whose stack has exactly those Python frames in
 * that order, or, if the stack ends with the mark of a cut one, a prefix of
 * them filling it to DEPTH (default 32) frames.  The callback from C
 * (size 110000) must have a native frame of qsort between the callback
 * and its caller.  With "cut", every stack must be cut at the depth.
 * Prints "ok" or "FAIL" per site; exit status 1 if any failed, 2 on an
 * unreadable trace or manifest.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/symbolize.h"

#define MAXF 512

struct loaded {
	unsigned pid;
	struct pt_trace *t;
	struct pt_symbolizer *s;
};

static struct loaded *traces;
static size_t ntraces;
static int failed;

static int no_event(void *ctx, const struct pt_event *ev)
{
	(void)ctx, (void)ev;
	return 0;
}

static struct loaded *trace_of(const char *dir, unsigned pid)
{
	for (size_t i = 0; i < ntraces; i++)
		if (traces[i].pid == pid)
			return &traces[i];
	char path[PATH_MAX], err[512];
	snprintf(path, sizeof path, "%s/t.%u", dir, pid);
	struct pt_trace *t = pt_trace_open(path, err, sizeof err);
	if (!t) {
		fprintf(stderr, "py_check: %s\n", err);
		exit(2);
	}
	pt_trace_read(t, no_event, NULL);
	traces = realloc(traces, (ntraces + 1) * sizeof *traces);
	traces[ntraces] = (struct loaded){ pid, t, pt_sym_open(t) };
	return &traces[ntraces++];
}

/* The stack's frames as "name|file|line" (Python), "=name" (native),
 * "[truncated]"; returns their number. */
static size_t frames_of(struct loaded *l, uint32_t stack, char (*out)[300], size_t max)
{
	const struct pt_trace *t = l->t;
	if (stack >= t->nstacks)
		return 0;
	const struct pt_stack *st = &t->stack[stack];
	size_t k = 0;
	for (unsigned i = 0; i < st->nframes && k < max; i++) {
		unsigned n;
		const struct pt_frame *f = pt_sym_lookup(l->s, st->gen, st->ip[i], &n);
		for (unsigned j = 0; j < n && k < max; j++, k++) {
			const char *file = f[j].file ? strrchr(f[j].file, '/') : NULL;
			file = file ? file + 1 : f[j].file ? f[j].file : "";
			if (f[j].python)
				snprintf(out[k], 300, "%s|%s|%u", f[j].func, file, f[j].line);
			else if (f[j].truncated)
				snprintf(out[k], 300, "[truncated]");
			else
				snprintf(out[k], 300, "=%s", pt_sym_name(l->s, &f[j]));
		}
	}
	return k;
}

/* Does the stack match the expected Python frames exp[0..ne)? */
static int matches(char (*fr)[300], size_t nf, char **exp, size_t ne, const char **why)
{
	size_t py = 0;
	int cut = nf && strcmp(fr[nf - 1], "[truncated]") == 0;
	for (size_t i = 0; i < nf; i++) {
		if (fr[i][0] == '=' || fr[i][0] == '[')
			continue;
		if (py == ne || strcmp(fr[i], exp[py]) != 0) {
			*why = "a Python frame differs";
			return 0;
		}
		py++;
	}
	if (py < ne && !cut) {
		*why = "Python frames are missing and the stack is not marked as cut";
		return 0;
	}
	if (py == 0) {
		*why = "no Python frame";
		return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: py_check DIR MANIFEST [DEPTH]\n");
		return 2;
	}
	const char *dir = argv[1];
	unsigned depth = argc > 3 ? (unsigned)atoi(argv[3]) : 32;
	int want_cut = argc > 4 && strcmp(argv[4], "cut") == 0;
	FILE *m = fopen(argv[2], "r");
	if (!m) {
		perror(argv[2]);
		return 2;
	}
	static char line[65536], fr[MAXF][300];
	unsigned nlines = 0;
	while (fgets(line, sizeof line, m)) {
		line[strcspn(line, "\n")] = 0;
		char *save = NULL, *exp[MAXF];
		unsigned pid = (unsigned)strtoul(strtok_r(line, "\t", &save), NULL, 10);
		unsigned long size = strtoul(strtok_r(NULL, "\t", &save), NULL, 10);
		size_t ne = 0;
		char *w;
		while (ne < MAXF && (w = strtok_r(NULL, "\t", &save)))
			exp[ne++] = w;
		nlines++;
		struct loaded *l = trace_of(dir, pid);
		const char *why = "no allocation of that size";
		int ok = 0;
		size_t best = 0;
		for (size_t id = 1; id < l->t->ninfos && !ok; id++) {
			const struct pt_info *in = &l->t->info[id];
			if (in->size < size || in->size > size + 8)
				continue;
			size_t nf = frames_of(l, in->stack, fr, MAXF);
			best = nf;
			ok = matches(fr, nf, exp, ne, &why);
			int cut = nf && !strcmp(fr[nf - 1], "[truncated]");
			if (ok && cut && l->t->stack[in->stack].nframes != depth + 1) {
				ok = 0;
				why = "cut before its depth";
			}
			if (ok && want_cut && !cut) {
				ok = 0;
				why = "not cut at the depth";
			}
			if (ok && size == 110000) {   /* qsort between callback and caller */
				size_t i = 0;
				while (i < nf && strncmp(fr[i], exp[0], strlen(exp[0])))
					i++;
				int seen = 0;
				for (i++; i < nf && (fr[i][0] == '=' || fr[i][0] == '['); i++)
					seen |= strstr(fr[i], "qsort") != NULL;
				if (!seen) {
					ok = 0;
					why = "no native frame of qsort between the callback and its caller";
				}
			}
		}
		if (ok) {
			printf("ok   pid %u size %lu: %zu Python frames, from %s\n", pid, size, ne, exp[0]);
			continue;
		}
		failed = 1;
		printf("FAIL pid %u size %lu: %s\n     | expected:", pid, size, why);
		for (size_t i = 0; i < ne; i++)
			printf(" %s", exp[i]);
		printf("\n     | recorded (last candidate):");
		for (size_t i = 0; i < best; i++)
			printf(" %s", fr[i]);
		printf("\n");
	}
	fclose(m);
	for (size_t i = 0; i < ntraces; i++) {
		pt_sym_close(traces[i].s);
		pt_trace_close(traces[i].t);
	}
	free(traces);
	if (!nlines) {
		printf("FAIL the manifest is empty\n");
		return 1;
	}
	return failed;
}
