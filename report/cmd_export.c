/*
 * cmd_export.c - pooltrace export --format
 * pprof|pprof-text|massif|folded|speedscope [--what
 * peak|leaks|allocated|temporary] [-o FILE] TRACE: a trace's heap profile
 * in the file formats of other tools.
 *
 *   pprof       profile.proto, gzipped: go tool pprof, Pyroscope, Parca
 *               (pprof.c)
 *   massif      ms_print, massif-visualizer: the timeline of live bytes, one
 *               snapshot per recorded snapshot (at most ~100, evenly spaced),
 *               with the call tree at the peak and at the end; addresses
 *               are relative to their module, as addr2line wants them
 *   pprof-text  gperftools' legacy heap profile (google-pprof, Go pprof): the
 *               raw recorded return addresses, and MAPPED_LIBRARIES made from
 *               the trace's last module map so that pprof finds the symbols
 *   folded      flamegraph.pl, inferno, speedscope: "root;...;leaf BYTES",
 *               frames by function name
 *   speedscope  speedscope's JSON file format, one "sampled" profile, frames
 *               by function (name and file)
 *
 * --what picks the bytes of a stack: live at the peak of the heap (peak,
 * the default), live at the end (leaks), allocated, or freed as temporary
 * allocations.  pprof shows it as "inuse", with the allocated totals as
 * "alloc"; massif's trees are always the peak and the end (it refuses
 * another --what).  The values of a sampled trace are the profile's
 * estimates (profile.h), written as if counted: pprof's header stays
 * "@ heapprofile" (no rescaling), and massif's timeline, the recorder's
 * exact live bytes, can pass its estimated peak.
 *
 * The output is deterministic: stacks biggest first, ties in a fixed order.
 */
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "export.h"
#include "output.h"
#include "util.h"
#include "view.h"

static const char usage[] =
	"usage: pooltrace export --format pprof|pprof-text|massif|folded|speedscope\n"
	"                        [--what peak|leaks|allocated|temporary] [-o FILE]\n"
	"                        [--native] TRACE\n"
	"\n"
	"A trace's heap profile in the format of another tool:\n"
	"  pprof        profile.proto, gzipped (go tool pprof, Pyroscope, Parca):\n"
	"               alloc_objects, alloc_space, inuse_objects, inuse_space\n"
	"  pprof-text   gperftools' legacy heap profile (google-pprof --text)\n"
	"  massif       valgrind's massif file (ms_print)\n"
	"  folded       flamegraph.pl's folded stacks, one line per stack\n"
	"  speedscope   speedscope's JSON file format\n"
	"\n"
	"  --format F   the format (required)\n"
	"  --what W     the bytes profiled: live at the peak (default), not freed\n"
	"               at exit (leaks), allocated in all, or temporary\n"
	"  -o, --output FILE   the file to write (default, and -: standard output)\n"
	"  --native            the Python interpreter's own native frames too\n";

#ifndef PT_VERSION
#define PT_VERSION "unknown"
#endif

#define MASSIF_POINTS   100
#define NO_STACK        "[unknown]"     /* the frame of a stack not recorded */

static const struct pt_export_what whats[] = {
	{ "peak", offsetof(struct pt_site, peak_n), offsetof(struct pt_site, peak_bytes) },
	{ "leaks", offsetof(struct pt_site, live_n), offsetof(struct pt_site, live_bytes) },
	{ "allocated", offsetof(struct pt_site, n_alloc), offsetof(struct pt_site, bytes_alloc) },
	{ "temporary", offsetof(struct pt_site, n_temp), offsetof(struct pt_site, bytes_temp) },
};


/* ---- text ------------------------------------------------------------------ */

/* s without line breaks (the formats are line-based), and with the
 * character bad, if not 0, written as good. */
static void buf_put_clean(struct pt_buf *b, const char *s, char bad, char good)
{
	for (; *s; s++)
		if (*s != '\n' && *s != '\r')
			pt_buf_putc(b, bad && *s == bad ? good : *s);
}

/* A stack as the interned texts of its frames (massif: innermost first,
 * speedscope: root first), and its bytes. */
struct path {
	uint64_t bytes;
	unsigned n;
	uint32_t *id;
};

/* ---- massif ---------------------------------------------------------------- */

struct mtree {
	struct path *path;        /* sorted by ids, a prefix before its extensions */
	size_t n;
	uint64_t total;
};

enum { TREE_EMPTY, TREE_PEAK, TREE_END };

struct msnap {
	uint64_t time_ns, bytes;
	unsigned tree;
};

/* massif's frame text: " 0xADDR: func (file:line)" or " 0xADDR: func (in module)"; the
 * address is relative to the module's load bias, as addr2line -e module wants it */
static void massif_frame(struct pt_buf *b, struct pt_view *v, const struct pt_frame *f)
{
	pt_buf_printf(b, " 0x%llX: ", (unsigned long long)f->addr);
	buf_put_clean(b, f->func ? pt_sym_name(v->sym, f) : "???", 0, 0);
	if (f->file) {
		pt_buf_printf(b, " (");
		buf_put_clean(b, f->file, 0, 0);
		pt_buf_printf(b, ":%u)", f->line);
	} else if (f->module) {
		pt_buf_printf(b, " (in ");
		buf_put_clean(b, f->module, 0, 0);
		pt_buf_putc(b, ')');
	}
}

static int by_ids(const void *a, const void *b)
{
	const struct path *x = a, *y = b;
	for (unsigned i = 0; i < x->n && i < y->n; i++)
		if (x->id[i] != y->id[i])
			return x->id[i] < y->id[i] ? -1 : 1;
	return x->n < y->n ? -1 : x->n > y->n;
}

static void mtree_build(struct export *x, struct pt_strtab *tab, size_t off, struct mtree *t)
{
	const struct pt_frame *fr[PT_VIEW_MAX_FRAMES];
	struct pt_buf b = { 0 };
	size_t n;
	struct pt_site **site = pt_profile_sorted(&x->v->p, off, &n);
	t->path = pt_xrealloc(NULL, n * sizeof *t->path);
	t->n = n;
	t->total = 0;
	for (size_t i = 0; i < n; i++) {
		struct path *m = &t->path[i];
		size_t nf = pt_view_frames(x->v, site[i]->stack, fr, PT_VIEW_MAX_FRAMES);
		m->bytes = pt_site_counter(site[i], off);
		m->n = nf ? (unsigned)nf : 1;
		m->id = pt_xrealloc(NULL, m->n * sizeof *m->id);
		for (size_t k = 0; k < nf; k++) {
			b.len = 0;
			massif_frame(&b, x->v, fr[k]);
			m->id[k] = pt_strtab_intern(tab, b.s);
		}
		if (!nf)
			m->id[0] = pt_strtab_intern(tab, " 0x0: " NO_STACK);
		t->total += m->bytes;
	}
	qsort(t->path, t->n, sizeof *t->path, by_ids);
	free(site);
	free(b.s);
}

static void mtree_free(struct mtree *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->path[i].id);
	free(t->path);
}

struct mrun {                     /* the children of a node: paths [lo, hi) */
	size_t lo, hi;
	uint64_t bytes;
	uint32_t id;
};

static int by_bytes_then_text(const void *a, const void *b, void *tab)
{
	const struct mrun *x = a, *y = b;
	const struct pt_strtab *t = tab;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(t->str[x->id], t->str[y->id]);
}

/*
 * The node of paths [lo, hi), which share their first depth frames, and its
 * subtree, depth-first, one more space of indent per level: the children
 * are the paths' frames at depth (callers of the frame above), biggest
 * first; those under 1% of the tree's total are summed into one line, as
 * massif does.
 */
static void massif_node(struct export *x, const struct pt_strtab *tab, const struct mtree *t,
                        size_t lo, size_t hi, unsigned depth, uint64_t bytes, const char *text)
{
	struct mrun *run = NULL;
	size_t nrun = 0, nsig = 0;
	uint64_t insig = 0;
	for (size_t i = lo; i < hi;) {
		const struct path *m = &t->path[i];
		if (m->n <= depth) {      /* ends here */
			i++;
			continue;
		}
		struct mrun r = { .lo = i, .id = m->id[depth] };
		while (i < hi && t->path[i].n > depth && t->path[i].id[depth] == r.id)
			r.bytes += t->path[i++].bytes;
		r.hi = i;
		run = pt_xrealloc(run, (nrun + 1) * sizeof *run);
		run[nrun++] = r;
	}
	if (nrun > 1)
		qsort_r(run, nrun, sizeof *run, by_bytes_then_text, (void *)tab);
	while (nsig < nrun && run[nsig].bytes * 100 >= t->total)
		nsig++;
	for (size_t r = nsig; r < nrun; r++)
		insig += run[r].bytes;
	fprintf(x->f, "%*sn%zu: %llu%s\n", (int)depth, "", nsig + (nsig < nrun),
	        (unsigned long long)bytes, text);
	for (size_t r = 0; r < nsig; r++)
		massif_node(x, tab, t, run[r].lo, run[r].hi, depth + 1, run[r].bytes,
		            tab->str[run[r].id]);
	if (nsig < nrun)
		fprintf(x->f, "%*sn0: %llu in %zu place%s below massif's threshold (1.00%%)\n",
		        (int)depth + 1, "", (unsigned long long)insig, nrun - nsig,
		        nrun - nsig == 1 ? "," : "s, all");
	free(run);
}

static void msnap_add(struct msnap *s, size_t *k, const struct pt_point *pt, unsigned tree)
{
	s[(*k)++] = (struct msnap){ .time_ns = pt->time_ns, .bytes = pt->live, .tree = tree };
}

/*
 * The snapshots to write, into s (room for MASSIF_POINTS + 2): the
 * timeline's points, evenly spaced if there are more than MASSIF_POINTS;
 * the peak, at the point that dates it (profile.h: the first snapshot
 * after it), its tree in place of that point's live bytes (else one more
 * snapshot, when the trace has none); the end, as the last point, or one
 * more after the peak.
 */
static size_t massif_timeline(const struct pt_profile *p, struct msnap *s)
{
	size_t np = p->npoints, keep = np < MASSIF_POINTS ? np : MASSIF_POINTS, k = 0;
	size_t peak = p->peak && p->peak_point >= 0 ? (size_t)p->peak_point : np;
	for (size_t j = 0, prev = 0; j < keep; j++) {
		size_t i = keep < 2 ? 0 : j * (np - 1) / (keep - 1);
		if (j && prev < peak && peak < i)
			msnap_add(s, &k, &p->point[peak], TREE_PEAK);
		msnap_add(s, &k, &p->point[i], i == peak ? TREE_PEAK : TREE_EMPTY);
		prev = i;
	}
	if (peak == np && p->peak) {
		size_t at = 0;
		while (at < k && s[at].time_ns <= p->peak_time_ns)
			at++;
		memmove(s + at + 1, s + at, (k - at) * sizeof *s);
		s[at] = (struct msnap){ .time_ns = p->peak_time_ns, .bytes = p->peak,
		                        .tree = TREE_PEAK };
		k++;
	}
	if (k && s[k - 1].tree == TREE_EMPTY) {
		s[k - 1].tree = TREE_END;
	} else {
		uint64_t end = p->duration_ns;
		if (k && s[k - 1].time_ns > end)
			end = s[k - 1].time_ns;
		s[k++] = (struct msnap){ .time_ns = end, .tree = TREE_END };
	}
	return k;
}

static void export_massif(struct export *x)
{
	static const char *const tree_name[] = { "empty", "peak", "detailed" };
	static const char root[] =
		" (heap allocation functions) malloc/new/new[], --alloc-fns, etc.";
	const struct pt_profile *p = &x->v->p;
	const struct pt_trace *t = p->t;
	struct pt_strtab tab = { 0 };
	struct mtree tree[3] = { { 0 } };     /* by TREE_*: the live heap then */
	mtree_build(x, &tab, offsetof(struct pt_site, peak_bytes), &tree[TREE_PEAK]);
	mtree_build(x, &tab, offsetof(struct pt_site, live_bytes), &tree[TREE_END]);

	struct pt_buf cmd = { 0 };
	for (size_t i = 0; i < t->hdr.args_len; i += strlen(t->args + i) + 1) {
		if (i)
			pt_buf_putc(&cmd, ' ');
		buf_put_clean(&cmd, t->args + i, 0, 0);
	}
	if (!cmd.len)
		buf_put_clean(&cmd, t->exe, 0, 0);
	fprintf(x->f, "desc: (pooltrace %s export of %s)\ncmd: %s\ntime_unit: ms\n", PT_VERSION,
	        x->v->path, cmd.s);
	free(cmd.s);

	struct msnap *s = pt_xrealloc(NULL, (MASSIF_POINTS + 2) * sizeof *s);
	size_t n = massif_timeline(p, s);
	for (size_t i = 0; i < n; i++) {
		const struct mtree *tr = &tree[s[i].tree];
		uint64_t bytes = s[i].tree ? tr->total : s[i].bytes;   /* the tree's own sum */
		fprintf(x->f, "#-----------\nsnapshot=%zu\n#-----------\ntime=%llu\n"
		        "mem_heap_B=%llu\nmem_heap_extra_B=0\nmem_stacks_B=0\nheap_tree=%s\n", i,
		        (unsigned long long)(s[i].time_ns / 1000000), (unsigned long long)bytes,
		        tree_name[s[i].tree]);
		if (s[i].tree)
			massif_node(x, &tab, tr, 0, tr->n, 0, tr->total, root);
	}
	free(s);
	mtree_free(&tree[TREE_PEAK]);
	mtree_free(&tree[TREE_END]);
	pt_strtab_free(&tab);
}

/* ---- pprof ----------------------------------------------------------------- */

#define NATIVE_CLASS (__ELF_NATIVE_CLASS == 64 ? ELFCLASS64 : ELFCLASS32)

/* The file offset of the PT_LOAD segment at vaddr in the ELF file path,
 * or the vaddr itself when the file cannot tell. */
uint64_t pt_export_segment_offset(const char *path, uint64_t vaddr)
{
	ElfW(Ehdr) eh;
	ElfW(Phdr) ph;
	uint64_t off = vaddr;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return off;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh &&
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == NATIVE_CLASS &&
	    eh.e_phentsize == sizeof ph) {
		for (unsigned i = 0; i < eh.e_phnum; i++) {
			if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) !=
			    (ssize_t)sizeof ph)
				break;
			if (ph.p_type == PT_LOAD && ph.p_vaddr == vaddr) {
				off = ph.p_offset;
				break;
			}
		}
	}
	close(fd);
	return off;
}

/* MAPPED_LIBRARIES: /proc/self/maps lines for the PT_LOAD segments of the
 * modules of the trace's last map, the ones with a path pprof can open. */
static void pprof_maps(struct export *x)
{
	const struct pt_trace *t = x->v->p.t;
	const struct pt_modmap *last = NULL;
	uint64_t page = t->hdr.page_size ? t->hdr.page_size : 4096;
	for (size_t i = 0; i < t->nmodmaps; i++)
		if (!last || t->modmap[i].seq > last->seq)
			last = &t->modmap[i];
	struct pt_buf path = { 0 };
	fprintf(x->f, "\nMAPPED_LIBRARIES:\n");
	for (unsigned k = 0; last && k < last->count; k++) {
		const struct pt_module *m = &last->mod[k];
		if (m->path[0] != '/')
			continue;
		path.len = 0;
		buf_put_clean(&path, m->path, 0, 0);
		for (unsigned i = 0; i < m->nseg; i++) {
			uint64_t lo = m->base + m->seg[i].vaddr, hi = lo + m->seg[i].memsz;
			uint32_t fl = m->seg[i].flags;
			fprintf(x->f, "%08llx-%08llx %c%c%cp %08llx 00:00 0 %s\n",
			        (unsigned long long)(lo & ~(page - 1)),
			        (unsigned long long)((hi + page - 1) & ~(page - 1)),
			        fl & PF_R ? 'r' : '-', fl & PF_W ? 'w' : '-', fl & PF_X ? 'x' : '-',
			        (unsigned long long)(pt_export_segment_offset(m->path, m->seg[i].vaddr) &
			                             ~(page - 1)),
			        path.s);
		}
	}
	free(path.s);
}

/* The recorded stack id, NULL if it was lost with a cut trace. */
static const struct pt_stack *recorded(const struct pt_trace *t, uint32_t id)
{
	return id < t->nstacks && t->stack[id].nframes ? &t->stack[id] : NULL;
}

/* The sites that allocated, with their recorded stacks; a site whose stack
 * was lost has no address to write and is left out, of the totals too. */
static void export_pprof(struct export *x)
{
	const struct pt_trace *t = x->v->p.t;
	const struct pt_export_what *w = x->what;
	size_t n;
	struct pt_site **site = pt_profile_sorted(&x->v->p, offsetof(struct pt_site, bytes_alloc),
	                                          &n);
	uint64_t tot[4] = { 0 };
	for (size_t i = 0; i < n; i++) {
		if (!recorded(t, site[i]->stack))
			continue;
		tot[0] += pt_site_counter(site[i], w->n_off);
		tot[1] += pt_site_counter(site[i], w->bytes_off);
		tot[2] += site[i]->n_alloc;
		tot[3] += site[i]->bytes_alloc;
	}
	/* the whitespace after each ':' is required: "1:4096" reads as nothing */
	fprintf(x->f, "heap profile: %6llu: %8llu [%6llu: %8llu] @ heapprofile\n",
	        (unsigned long long)tot[0], (unsigned long long)tot[1],
	        (unsigned long long)tot[2], (unsigned long long)tot[3]);
	for (size_t i = 0; i < n; i++) {
		const struct pt_stack *st = recorded(t, site[i]->stack);
		if (!st)
			continue;
		fprintf(x->f, "%6llu: %8llu [%6llu: %8llu] @",
		        (unsigned long long)pt_site_counter(site[i], w->n_off),
		        (unsigned long long)pt_site_counter(site[i], w->bytes_off),
		        (unsigned long long)site[i]->n_alloc,
		        (unsigned long long)site[i]->bytes_alloc);
		for (unsigned k = 0; k < st->nframes; k++)
			fprintf(x->f, " 0x%016llx", (unsigned long long)st->ip[k]);
		fputc('\n', x->f);
	}
	free(site);
	pprof_maps(x);
}

/* ---- folded and speedscope -------------------------------------------------- */

struct fline {
	char *text;
	uint64_t bytes;
};

static int by_text(const void *a, const void *b)
{
	return strcmp(((const struct fline *)a)->text, ((const struct fline *)b)->text);
}

static int by_bytes(const void *a, const void *b)
{
	const struct fline *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->text, y->text);
}

/* Frames outermost first, by name (';' would split a frame in two); the
 * stacks that come out the same (they differ in lines only) are summed. */
static void export_folded(struct export *x)
{
	const struct pt_frame *fr[PT_VIEW_MAX_FRAMES];
	size_t n, k = 0;
	struct pt_site **site = pt_profile_sorted(&x->v->p, x->what->bytes_off, &n);
	struct fline *line = pt_xrealloc(NULL, n * sizeof *line);
	for (size_t i = 0; i < n; i++) {
		struct pt_buf b = { 0 };
		size_t nf = pt_view_frames(x->v, site[i]->stack, fr, PT_VIEW_MAX_FRAMES);
		for (size_t j = nf; j-- > 0;) {
			buf_put_clean(&b, pt_sym_name(x->v->sym, fr[j]), ';', ':');
			if (j)
				pt_buf_putc(&b, ';');
		}
		if (!nf)
			pt_buf_printf(&b, "%s", NO_STACK);
		line[i].text = b.s;
		line[i].bytes = pt_site_counter(site[i], x->what->bytes_off);
	}
	qsort(line, n, sizeof *line, by_text);
	for (size_t i = 0; i < n; i++) {
		if (k && strcmp(line[k - 1].text, line[i].text) == 0) {
			line[k - 1].bytes += line[i].bytes;
			free(line[i].text);
		} else {
			line[k++] = line[i];
		}
	}
	qsort(line, k, sizeof *line, by_bytes);
	for (size_t i = 0; i < k; i++) {
		fprintf(x->f, "%s %llu\n", line[i].text, (unsigned long long)line[i].bytes);
		free(line[i].text);
	}
	free(line);
	free(site);
}

/*
 * A speedscope frame, as its JSON object: a function, by its name and its
 * source file (else its module).  No "line": speedscope merges the nodes
 * of a flame graph by frame, and a frame per call-site line would split
 * every function into one box per line it calls from (folded merges by
 * name alike).
 */
static void speedscope_frame(struct pt_buf *b, struct pt_view *v, const struct pt_frame *f)
{
	pt_buf_printf(b, "{\"name\":");
	const char *name = f ? pt_sym_name(v->sym, f) : NO_STACK;
	pt_buf_json(b, name, strlen(name));
	if (f && (f->file || f->module)) {
		pt_buf_printf(b, ",\"file\":");
		const char *file = f->file ? f->file : f->module;
		pt_buf_json(b, file, strlen(file));
	}
	pt_buf_putc(b, '}');
}

static void export_speedscope(struct export *x)
{
	const struct pt_frame *fr[PT_VIEW_MAX_FRAMES];
	const struct pt_trace *t = x->v->p.t;
	struct pt_strtab tab = { 0 };        /* the frames, by their JSON text */
	struct pt_buf b = { 0 };
	size_t n;
	struct pt_site **site = pt_profile_sorted(&x->v->p, x->what->bytes_off, &n);
	struct path *sample = pt_xrealloc(NULL, n * sizeof *sample);
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		struct path *m = &sample[i];
		size_t nf = pt_view_frames(x->v, site[i]->stack, fr, PT_VIEW_MAX_FRAMES);
		m->bytes = pt_site_counter(site[i], x->what->bytes_off);
		m->n = nf ? (unsigned)nf : 1;
		m->id = pt_xrealloc(NULL, m->n * sizeof *m->id);
		for (size_t j = 0; j < m->n; j++) {   /* root first */
			b.len = 0;
			speedscope_frame(&b, x->v, nf ? fr[nf - 1 - j] : NULL);
			m->id[j] = pt_strtab_intern(&tab, b.s);
		}
		total += m->bytes;
	}
	free(site);

	b.len = 0;
	pt_buf_json(&b, t->exe, strlen(t->exe));
	fprintf(x->f, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\n"
	        "\"name\":%s,\n\"exporter\":\"pooltrace %s\",\n\"activeProfileIndex\":0,\n"
	        "\"shared\":{\"frames\":[", b.s, PT_VERSION);
	for (size_t i = 0; i < tab.n; i++)
		fprintf(x->f, "%s\n%s", i ? "," : "", tab.str[i]);
	struct pt_buf name = { 0 };
	pt_buf_printf(&name, "%s bytes: %s", x->what->name, t->exe);
	b.len = 0;
	pt_buf_json(&b, name.s, name.len);
	free(name.s);
	fprintf(x->f, "]},\n\"profiles\":[{\"type\":\"sampled\",\"name\":%s,\"unit\":\"bytes\","
	        "\"startValue\":0,\"endValue\":%llu,\n\"samples\":[", b.s,
	        (unsigned long long)total);
	for (size_t i = 0; i < n; i++) {
		fprintf(x->f, "%s\n[", i ? "," : "");
		for (unsigned j = 0; j < sample[i].n; j++)
			fprintf(x->f, "%s%u", j ? "," : "", sample[i].id[j]);
		fputc(']', x->f);
	}
	fprintf(x->f, "],\n\"weights\":[");
	for (size_t i = 0; i < n; i++)
		fprintf(x->f, "%s%llu", i ? "," : "", (unsigned long long)sample[i].bytes);
	fprintf(x->f, "]}]}\n");
	for (size_t i = 0; i < n; i++)
		free(sample[i].id);
	free(sample);
	free(b.s);
	pt_strtab_free(&tab);
}

/* ---- the command ------------------------------------------------------------ */

static const struct format {
	const char *name;
	void (*write)(struct export *x);
} formats[] = {
	{ "pprof", pt_export_pprof },
	{ "pprof-text", export_pprof },
	{ "massif", export_massif },
	{ "folded", export_folded },
	{ "speedscope", export_speedscope },
};

static const struct format *find_format(const char *name)
{
	for (size_t i = 0; name && i < sizeof formats / sizeof formats[0]; i++)
		if (strcmp(name, formats[i].name) == 0)
			return &formats[i];
	return NULL;
}

static const struct pt_export_what *find_what(const char *name)
{
	for (size_t i = 0; name && i < sizeof whats / sizeof whats[0]; i++)
		if (strcmp(name, whats[i].name) == 0)
			return &whats[i];
	return NULL;
}

enum { OPT_FORMAT, OPT_WHAT, OPT_OUTPUT };

int pt_cmd_export(int argc, char **argv)
{
	static const struct pt_optdef defs[] = {
		{ "format", 0, 1, OPT_FORMAT },
		{ "what", 0, 1, OPT_WHAT },
		{ "output", 'o', 1, OPT_OUTPUT },
		{ 0 },
	};
	const struct format *fmt = NULL;
	const struct pt_export_what *what = &whats[0];
	const char *out = NULL, *path = NULL;
	struct pt_cmdline c;
	pt_opt_init(&c, "export", usage, argc, argv);
	int id;
	while ((id = pt_opt_next(&c, defs)) != PT_OPT_END) {
		int rc = 0;
		if (id == PT_OPT_STOP)
			return c.status;
		if (id == OPT_FORMAT && !(fmt = find_format(c.arg)))
			rc = pt_opt_error(&c, "--format needs pprof, pprof-text, massif, folded or "
			                  "speedscope, not '%s'", c.arg);
		if (id == OPT_WHAT && !(what = find_what(c.arg)))
			rc = pt_opt_error(&c, "--what needs peak, leaks, allocated or temporary, "
			                  "not '%s'", c.arg);
		if (id == OPT_OUTPUT)
			out = c.arg;
		if (id == PT_OPT_OPERAND)
			rc = pt_opt_trace(&c, &path, 1);
		if (rc)
			return c.status;
	}
	if (!fmt) {
		pt_opt_error(&c, "--format pprof|pprof-text|massif|folded|speedscope is required");
		return c.status;
	}
	if (!path)
		return pt_opt_no_trace(&c);
	if (fmt->write == export_massif && what != &whats[0]) {
		pt_opt_error(&c, "massif has the live heap at the peak and at the end; --what %s "
		             "does not apply", what->name);
		return c.status;
	}

	struct pt_view v;
	int rc = pt_view_open(&v, path);
	if (rc)
		return rc;
	FILE *f = pt_output_open(out);
	if (!f) {
		pt_view_close(&v);
		return PT_EXIT_OUTPUT;
	}
	struct export x = { .f = f, .v = &v, .what = what };
	fmt->write(&x);
	rc = pt_output_close(f, pt_trace_partial(v.p.t) ? PT_EXIT_PARTIAL : PT_EXIT_OK);
	pt_view_close(&v);
	return rc;
}
