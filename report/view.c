/*
 * view.c - a loaded trace with its symbolizer, and the text helpers every
 * report uses (view.h).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "output.h"
#include "view.h"

int pt_view_native;

int pt_view_open(struct pt_view *v, const char *path)
{
	char err[512];
	memset(v, 0, sizeof *v);
	v->path = path;
	if (pt_profile_load(&v->p, path, isatty(2), err, sizeof err)) {
		fprintf(stderr, "pooltrace: %s\n", err);
		return 2;
	}
	const struct pt_trace *t = v->p.t;
	char what[600];
	pt_trace_describe(t, what, sizeof what);
	if (what[0])
		fprintf(stderr, "pooltrace: warning: %s: %s\n", path, what);
	else if (!t->ended)
		fprintf(stderr, "pooltrace: warning: %s: no end record: the program did not exit "
		        "normally (killed, or still running); reporting what was written\n", path);
	v->sym = pt_sym_open(t);
	return 0;
}

void pt_view_close(struct pt_view *v)
{
	if (v->sym) {
		unsigned n = 0;
		const char *const *w = pt_sym_warnings(v->sym, &n);
		for (unsigned i = 0; i < n; i++)
			fprintf(stderr, "pooltrace: warning: %s\n", w[i]);
		pt_sym_close(v->sym);
	}
	pt_profile_free(&v->p);
}

size_t pt_view_frames(struct pt_view *v, uint32_t stack, const struct pt_frame **out,
                      size_t max)
{
	const struct pt_trace *t = v->p.t;
	if (stack >= t->nstacks)
		return 0;
	const struct pt_stack *s = &t->stack[stack];
	/* with Python frames: the interpreter's own frames left out, and the
	 * native frames outer than the outermost Python one (the process's or
	 * the thread's start) */
	unsigned outer = s->nframes;
	for (unsigned i = s->nframes; i-- > 0 && !pt_view_native;)
		if (pt_frame_is_py(s->ip[i])) {
			outer = i + 1;
			break;
		}
	int elide = outer < s->nframes || (outer == s->nframes && s->nframes &&
	                                    pt_frame_is_py(s->ip[s->nframes - 1]));
	size_t k = 0;
	for (unsigned i = 0; i < s->nframes && k < max; i++) {
		if (elide && i >= outer && s->ip[i] != PT_FRAME_TRUNCATED)
			continue;
		unsigned n = 0;
		const struct pt_frame *f = pt_sym_lookup(v->sym, s->gen, s->ip[i], &n);
		for (unsigned j = 0; j < n && k < max; j++)
			if (!f[j].internal && !(elide && f[j].interp))
				out[k++] = &f[j];
	}
	return k;
}

void pt_print_stack(FILE *f, struct pt_view *v, uint32_t stack, unsigned max_frames,
                    const char *indent)
{
	const struct pt_frame *fr[PT_VIEW_MAX_FRAMES];
	size_t n = pt_view_frames(v, stack, fr, sizeof fr / sizeof fr[0]);
	if (n == 0) {
		fprintf(f, "%sat ??? (stack not recorded)\n", indent);
		return;
	}
	for (size_t i = 0; i < n && i < max_frames; i++) {
		const struct pt_frame *x = fr[i];
		fprintf(f, "%sat %s", indent, pt_sym_name(v->sym, x));
		if (x->file)
			fprintf(f, " (%s:%u)", x->file, x->line);
		else if (x->module && x->func)
			fprintf(f, " (%s)", x->module);
		fprintf(f, "%s\n", x->inlined ? " [inlined]" : "");
	}
	if (n > max_frames)
		fprintf(f, "%s... %zu more frames\n", indent, n - max_frames);
}

void pt_print_heading(FILE *f, const char *cmd, const struct pt_view *v)
{
	const struct pt_profile *p = &v->p;
	const struct pt_trace *t = p->t;
	fprintf(f, "pooltrace %s: %s\n", cmd, v->path);
	fprintf(f, "program:    %s", t->exe);
	const char *a = t->args, *end = t->args + t->hdr.args_len;
	if (a < end)
		a += strlen(a) + 1;   /* argv[0] */
	for (; a < end; a += strlen(a) + 1)
		fprintf(f, " %s", a);
	fprintf(f, "\n");
	fprintf(f, "pid:        %u%s\n", t->hdr.pid,
	        t->hdr.flags & PT_TRACE_F_FORKED ? " (a forked child: blocks it inherited are "
	                                           "not in this trace)" : "");
	if (p->sampled)
		fprintf(f, "recorded:   sampled, one stack per %s allocated on average: figures "
		        "are estimates\n", PT_B(t->hdr.sample_bytes));
	else if (!t->hdr.unrecorded)
		fprintf(f, "recorded:   every allocation\n");
	else
		fprintf(f, "recorded:   every allocation but %u call%s made before the recorder "
		        "could start\n", t->hdr.unrecorded, t->hdr.unrecorded == 1 ? "" : "s");
	if (p->sampled && t->hdr.unrecorded)
		fprintf(f, "            (%u allocation call%s made before the recorder could start "
		        "not counted)\n", t->hdr.unrecorded, t->hdr.unrecorded == 1 ? "" : "s");
	if (t->python.present) {
		uint32_t hv = t->python.hexversion;
		fprintf(f, "python:     CPython %u.%u.%u", hv >> 24, (hv >> 16) & 255, (hv >> 8) & 255);
		if (t->python.flags & PT_PY_F_UNSUPPORTED)
			fprintf(f, ", a version whose frames are not read: native frames only\n");
		else
			fprintf(f, ": Python frames in the stacks%s\n", pt_view_native ? "" :
			        ", the interpreter's own frames left out (--native shows them)");
		if (t->python.flags & PT_PY_F_OWN_ALLOC)
			fprintf(f, "            pymalloc served objects of up to 512 bytes: they are not in "
			        "this trace (PYTHONMALLOC=malloc sends them to malloc)\n");
	}
	fprintf(f, "duration:   %s, ", PT_T(p->duration_ns));
	if (pt_trace_partial(t))
		fprintf(f, "damaged trace, partly read (the warning says where)\n");
	else if (t->stop[0])
		fprintf(f, "trace cut short at offset %llu: %s\n",
		        (unsigned long long)t->data_end, t->stop);
	else if (!t->ended)
		fprintf(f, "no end record: the program was killed or is still running\n");
	else if (p->end_reason == PT_END_SIGNAL)
		fprintf(f, "the program died of signal %u\n", p->end_code);
	else
		fprintf(f, "the program exited\n");
}

int pt_exact_bytes;

const char *pt_fmt_bytes(char *buf, size_t cap, uint64_t b)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	if (pt_exact_bytes) {
		char n[32];
		snprintf(buf, cap, "%s B", pt_fmt_count(n, sizeof n, b));
		return buf;
	}
	if (b < 1024) {
		snprintf(buf, cap, "%llu B", (unsigned long long)b);
		return buf;
	}
	double v = (double)b / 1024;
	unsigned u = 0;
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, cap, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, unit[u]);
	return buf;
}

const char *pt_fmt_count(char *buf, size_t cap, uint64_t n)
{
	char tmp[32];
	int len = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)n);
	size_t k = 0;
	for (int i = 0; i < len && k + 1 < cap; i++) {
		if (i && (len - i) % 3 == 0 && k + 2 < cap)
			buf[k++] = ',';
		buf[k++] = tmp[i];
	}
	buf[k] = 0;
	return buf;
}

const char *pt_time_unit(uint64_t span, double *scale, int *decimals)
{
	*decimals = span >= 1000000 ? 3 : 1;
	*scale = span >= 1000000000 ? 1e9 : span >= 1000000 ? 1e6 : 1e3;
	return span >= 1000000000 ? "s" : span >= 1000000 ? "ms" : "\u00b5s";
}

const char *pt_fmt_time(char *buf, size_t cap, uint64_t ns)
{
	double scale;
	int dec;
	const char *unit = pt_time_unit(ns, &scale, &dec);
	if (ns < 1000)
		snprintf(buf, cap, ns ? "%llu ns" : "0 s", (unsigned long long)ns);
	else
		snprintf(buf, cap, "%.*f %s", dec, (double)ns / scale, unit);
	return buf;
}

int pt_listing_command(const char *cmd, const char *usage, int argc, char **argv,
                       struct pt_listing o,
                       void (*text)(FILE *f, struct pt_view *v, const struct pt_listing *o),
                       void (*json)(FILE *f, struct pt_view *v, const struct pt_listing *o))
{
	const char *path = NULL;
	struct pt_cmdline c;
	pt_opt_init(&c, cmd, usage, argc, argv);
	int rc = pt_opt_listing_only(&c, &o, &path);
	if (rc || !path)          /* an error, or --help */
		return rc;
	struct pt_view v;
	if ((rc = pt_view_open(&v, path)))
		return rc;
	FILE *f = pt_output_open(NULL);
	if (!f) {
		pt_view_close(&v);
		return PT_EXIT_OUTPUT;
	}
	(o.json ? json : text)(f, &v, &o);
	rc = pt_trace_partial(v.p.t) ? PT_EXIT_PARTIAL : PT_EXIT_OK;
	pt_view_close(&v);
	return pt_output_close(f, rc);
}
