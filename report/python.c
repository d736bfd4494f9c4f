/*
 * python.c - the report tool's side of Python programs (python.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "python.h"
#include "util.h"
#include "view.h"

int pt_by_type;

int pt_python_options(const char *cmd, int argc, char **argv)
{
	int by_ok = strcmp(cmd, "report") == 0 || strcmp(cmd, "leaks") == 0;
	/* the commands that print stacks; the others' parsers refuse it */
	static const char *const stacks[] = { "report", "leaks", "frag", "html", "export", "diff" };
	int native_ok = 0;
	for (size_t j = 0; j < sizeof stacks / sizeof stacks[0]; j++)
		native_ok |= strcmp(cmd, stacks[j]) == 0;
	int k = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0 || strcmp(cmd, "run") == 0) {
			while (i < argc)   /* run: the rest is the program's */
				argv[k++] = argv[i++];
			break;
		}
		if (native_ok && strcmp(argv[i], "--native") == 0) {
			pt_view_native = 1;
			continue;
		}
		if (by_ok && strcmp(argv[i], "--by") == 0 && i + 1 < argc &&
		    strcmp(argv[i + 1], "type") == 0) {
			pt_by_type = 1;
			i++;
			continue;
		}
		if (by_ok && strcmp(argv[i], "--by=type") == 0) {
			pt_by_type = 1;
			continue;
		}
		argv[k++] = argv[i];
	}
	return k;
}

/* ---- pooltrace run: is the program a Python interpreter? -------------------- */

/* python, python3, python3.11, python3.11d ... */
static int python_name(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	if (strncmp(b, "python", 6) != 0)
		return 0;
	for (b += 6; *b; b++)
		if (!((*b >= '0' && *b <= '9') || *b == '.' || *b == 'd' || *b == 'm'))
			return 0;
	return 1;
}

/* cmd as execvp would find it, into out */
static int find_in_path(const char *cmd, char *out, size_t cap)
{
	if (strchr(cmd, '/')) {
		snprintf(out, cap, "%s", cmd);
		return access(out, X_OK);
	}
	const char *path = getenv("PATH");
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		snprintf(out, cap, "%.*s%s%s", (int)n, p, n ? "/" : "", cmd);
		struct stat st;
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
		p += n + (e != NULL);
	}
	return -1;
}

int pt_is_python_program(const char *cmd)
{
	char path[PATH_MAX];
	if (python_name(cmd))
		return 1;
	if (find_in_path(cmd, path, sizeof path))
		return 0;
	char real[PATH_MAX];
	if (realpath(path, real) && python_name(real))
		return 1;
	/* a script: its #! line, "#!/usr/bin/python3 -u" or "#!/usr/bin/env python3" */
	char line[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, line, sizeof line - 1);
	close(fd);
	if (n < 3 || line[0] != '#' || line[1] != '!')
		return 0;
	line[n] = 0;
	line[strcspn(line, "\n")] = 0;
	char *w = line + 2, *save = NULL;
	char *interp = strtok_r(w, " \t", &save);
	if (!interp)
		return 0;
	if (python_name(interp))
		return 1;
	const char *b = strrchr(interp, '/');
	if (b && strcmp(b + 1, "env") == 0) {
		char *arg;
		while ((arg = strtok_r(NULL, " \t", &save)) && arg[0] == '-')
			;
		return arg && python_name(arg);
	}
	return 0;
}

void pt_python_malloc_env(const char *cmd)
{
	if (getenv("PYTHONMALLOC") || !pt_is_python_program(cmd))
		return;
	setenv("PYTHONMALLOC", "malloc", 1);
	fprintf(stderr, "pooltrace: %s is Python: PYTHONMALLOC=malloc, so that its objects go "
	        "through malloc (--pymalloc keeps pymalloc)\n", cmd);
}

/* ---- the Python objects live at exit, by type ------------------------------------ */

struct by_type {
	uint32_t type;
	uint64_t objects, bytes;
	uint64_t cls[PT_LEAK_CLASSES];    /* objects */
};

struct by_site {
	uint32_t type, stack;
	unsigned cls;
	uint64_t objects, bytes;
	char *key;                /* its frames as shown: stacks that show alike merge */
};

static int site_key_order(const void *a, const void *b)
{
	const struct by_site *x = a, *y = b;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* The frames of stack as the reports show them, as text. */
static char *site_key(struct pt_view *v, uint32_t stack)
{
	const struct pt_frame *fr[PT_VIEW_MAX_FRAMES];
	size_t n = pt_view_frames(v, stack, fr, PT_VIEW_MAX_FRAMES);
	struct pt_buf b = { 0 };
	for (size_t i = 0; i < n; i++)
		pt_buf_printf(&b, "%s|%s|%u|%s;", pt_sym_name(v->sym, fr[i]),
		              fr[i]->file ? fr[i]->file : "", fr[i]->line,
		              fr[i]->module ? fr[i]->module : "");
	if (!b.s)
		pt_buf_printf(&b, "#%u", stack);
	return b.s;
}

static int type_order(const void *a, const void *b)
{
	const struct by_type *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->type < y->type ? -1 : x->type > y->type;
}

static uint64_t type_bytes_of(const struct by_type *bt, size_t n, uint32_t type)
{
	for (size_t i = 0; i < n; i++)
		if (bt[i].type == type)
			return bt[i].bytes;
	return 0;
}

static const struct by_type *sort_types;
static size_t sort_ntypes;

/* sites: the type's order, then biggest first */
static int site_order(const void *a, const void *b)
{
	const struct by_site *x = a, *y = b;
	if (x->type != y->type) {
		uint64_t bx = type_bytes_of(sort_types, sort_ntypes, x->type);
		uint64_t by = type_bytes_of(sort_types, sort_ntypes, y->type);
		if (bx != by)
			return bx < by ? 1 : -1;
		return x->type < y->type ? -1 : 1;
	}
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

static const char *type_name_of(const struct pt_trace *t, uint32_t type)
{
	return type < t->npytypes && t->pytype[type] ? t->pytype[type] : "?";
}

/* The objects of one scan (when), by type and by site. */
static void print_scan(FILE *f, struct pt_view *v, unsigned when, unsigned long top,
                       unsigned long frames)
{
	static const char *const cls_name[] = { "definitely lost", "indirectly lost",
	                                        "still reachable" };
	const struct pt_trace *t = v->p.t;
	struct by_type *bt = pt_xcalloc(t->npyobjs, sizeof *bt);
	struct by_site *bs = pt_xcalloc(t->npyobjs, sizeof *bs);
	size_t nt = 0, ns = 0;
	for (size_t i = 0; i < t->npyobjs; i++) {
		const struct pt_pyobject *o = &t->pyobj[i];
		if (o->when != when)
			continue;
		uint32_t stack = o->info < t->ninfos ? t->info[o->info].stack : 0;
		size_t k;
		for (k = 0; k < nt && bt[k].type != o->type; k++)
			;
		if (k == nt)
			bt[nt++].type = o->type;
		bt[k].objects += o->objects;
		bt[k].bytes += o->bytes;
		bt[k].cls[o->cls] += o->objects;
		for (k = 0; k < ns && (bs[k].type != o->type || bs[k].stack != stack ||
		                       bs[k].cls != o->cls); k++)
			;
		if (k == ns)
			bs[ns++] = (struct by_site){ o->type, stack, o->cls, 0, 0, NULL };
		bs[k].objects += o->objects;
		bs[k].bytes += o->bytes;
	}
	/* sites whose stacks show alike (they differ in frames the reports
	 * leave out, or in an instruction of the same line) are one */
	for (size_t i = 0; i < ns; i++)
		bs[i].key = site_key(v, bs[i].stack);
	qsort(bs, ns, sizeof *bs, site_key_order);
	size_t m = 0;
	for (size_t i = 0; i < ns; i++) {
		if (m && !site_key_order(&bs[m - 1], &bs[i])) {
			bs[m - 1].objects += bs[i].objects;
			bs[m - 1].bytes += bs[i].bytes;
			free(bs[i].key);
			continue;
		}
		bs[m++] = bs[i];
	}
	ns = m;
	if (when == PT_PYOBJ_FINALIZING)
		fprintf(f, "\nPYTHON OBJECTS WHEN THE INTERPRETER BEGAN TO FINALIZE: what the program "
		        "left, by type (as objgraph.show_most_common_types() counts them)\n");
	else
		fprintf(f, "\nPYTHON OBJECTS LEFT AT EXIT: what finalization did not free, by type "
		        "and by the leak scan's class\n");
	if (!nt)
		fprintf(f, "  none\n");
	qsort(bt, nt, sizeof *bt, type_order);
	sort_types = bt;
	sort_ntypes = nt;
	qsort(bs, ns, sizeof *bs, site_order);

	uint64_t all_n = 0, all_b = 0;
	for (size_t i = 0; i < nt; i++)
		all_n += bt[i].objects, all_b += bt[i].bytes;
	if (nt && when == PT_PYOBJ_EXIT)
		fprintf(f, "  %12s %10s %12s %12s %12s  %s\n", "objects", "bytes", "def. lost",
		        "ind. lost", "reachable", "type");
	else if (nt)
		fprintf(f, "  %12s %10s  %s\n", "objects", "bytes", "type");
	for (size_t i = 0; i < nt && i < top; i++) {
		fprintf(f, "  %12s %10s", PT_N(bt[i].objects), PT_B(bt[i].bytes));
		if (when == PT_PYOBJ_EXIT)
			fprintf(f, " %12s %12s %12s", PT_N(bt[i].cls[PT_LEAK_DEFINITE]),
			        PT_N(bt[i].cls[PT_LEAK_INDIRECT]), PT_N(bt[i].cls[PT_LEAK_REACHABLE]));
		fprintf(f, "  %s\n", type_name_of(t, bt[i].type));
	}
	if (nt > top)
		fprintf(f, "  ... %zu more types (--top)\n", nt - top);
	if (nt)
		fprintf(f, "  %12s %10s  in all\n", PT_N(all_n), PT_B(all_b));

	size_t shown_types = 0;
	for (size_t i = 0; i < ns;) {
		uint32_t type = bs[i].type;
		if (shown_types++ == top)
			break;
		unsigned per = 0;
		for (; i < ns && bs[i].type == type; i++) {
			if (per++ >= 5)
				continue;
			fprintf(f, "\n  %s %s %s (%s%s%s), allocated at:\n", PT_N(bs[i].objects),
			        type_name_of(t, type), pt_plural(bs[i].objects, "object", "objects"),
			        PT_B(bs[i].bytes), when == PT_PYOBJ_EXIT ? ", " : "",
			        when == PT_PYOBJ_EXIT ? cls_name[bs[i].cls] : "");
			pt_print_stack(f, v, bs[i].stack, (unsigned)frames, "      ");
		}
		if (per > 5)
			fprintf(f, "  ... %u more sites of %s\n", per - 5, type_name_of(t, type));
	}
	for (size_t i = 0; i < ns; i++)
		free(bs[i].key);
	free(bt);
	free(bs);
}

int pt_print_by_type(FILE *f, struct pt_view *v, int leaks, unsigned long top,
                     unsigned long frames)
{
	const struct pt_trace *t = v->p.t;
	pt_print_heading(f, leaks ? "leaks --by type" : "report --by type", v);
	if (!t->npyobjs) {
		fprintf(f, "\nPYTHON OBJECTS BY TYPE: none in this trace (%s)\n",
		        !t->python.present ? "the program is not CPython" :
		        t->python.flags & PT_PY_F_UNSUPPORTED ? "a version whose objects are not read" :
		        v->p.sampled ? "sampled traces have none" :
		        !t->ended ? "the program did not exit" :
		        "none of the blocks live at the end held a Python object");
		return 0;
	}
	print_scan(f, v, PT_PYOBJ_FINALIZING, top, frames);
	print_scan(f, v, PT_PYOBJ_EXIT, top, frames);
	return 0;
}
