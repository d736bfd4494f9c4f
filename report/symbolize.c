/*
 * symbolize.c - offline symbols for recorded return addresses, through
 * elfutils libdwfl (symbolize.h says what a lookup gives).
 *
 * A return address ip of map generation gen is resolved in three steps:
 *
 *   (gen, ip) --pt_trace_module--> recorded module --by path and build id-->
 *   module file  +  call site addr = ip - 1 - load bias  --libdwfl--> frames
 *
 * Each module file (one path with one recorded build id) gets its own Dwfl,
 * made on the first address that falls in it, with the file reported at
 * bias 0: addresses are looked up file-relative, so the same file loaded at
 * different places by different generations shares one Dwfl and one cache,
 * and files that occupied the same range at different times never overlap.
 * A file that cannot be used (missing, not a regular file, not ELF, another
 * build id than recorded) keeps its Dwfl NULL and gives one warning.
 *
 * Caches, all hash maps of (k1, k2) -> pointer:
 *   by_ip      (gen, ip)               -> resolved frames (no module search
 *                                         on a repeated address)
 *   by_site    (module file id, addr)  -> resolved frames; owns them.  File
 *                                         id 0 is "no module", addr then
 *                                         absolute.
 *   by_module  (struct pt_module *, 0) -> its module file
 *   demangled  (mangled name, 0)       -> its demangled form; owns it.
 *                                         Names from libdw point into the
 *                                         file data, stable until dwfl_end,
 *                                         so the pointer is the key.
 *   cu_funcs   (module file id, CU offset) -> the CU's functions by address
 *                                         (struct ranges); owns them.
 * Every resolved site is in by_site exactly once; by_ip entries alias them.
 *
 * Frame strings (func, file) point into libdw's data or into demangled;
 * module points to the trace's path.  All live until pt_sym_close().
 */
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <dwarf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pylines.h"
#include "symbolize.h"
#include "util.h"


/* libstdc++'s demangler (cxxabi.h is C++ only) */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);


/* ---- hash map (k1, k2) -> non-NULL pointer ----------------------------------
 * Open addressing, linear probing; cap is 0 or a power of two, and
 * n <= cap / 2.  A slot is empty iff its val is NULL; nothing is removed. */

struct slot {
	uint64_t k1, k2;
	void *val;
};

struct map {
	struct slot *slot;
	size_t cap, n;
};

static size_t map_find(const struct map *m, uint64_t k1, uint64_t k2)
{
	size_t i = pt_hash_u64(k1 ^ pt_hash_u64(k2)) & (m->cap - 1);
	while (m->slot[i].val && (m->slot[i].k1 != k1 || m->slot[i].k2 != k2))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void *map_get(const struct map *m, uint64_t k1, uint64_t k2)
{
	return m->cap ? m->slot[map_find(m, k1, k2)].val : NULL;
}

static void map_put(struct map *m, uint64_t k1, uint64_t k2, void *val)
{
	if (2 * (m->n + 1) > m->cap) {
		struct map g = { .cap = m->cap ? 2 * m->cap : 64, .n = m->n };
		g.slot = pt_xmalloc(g.cap * sizeof *g.slot);
		memset(g.slot, 0, g.cap * sizeof *g.slot);
		for (size_t i = 0; i < m->cap; i++)
			if (m->slot[i].val)
				g.slot[map_find(&g, m->slot[i].k1, m->slot[i].k2)] = m->slot[i];
		free(m->slot);
		*m = g;
	}
	size_t i = map_find(m, k1, k2);
	if (!m->slot[i].val)
		m->n++;
	m->slot[i] = (struct slot){ k1, k2, val };
}

/* ---- state --------------------------------------------------------------- */

/* DIEs by address: a file's CUs, a CU's functions (see ranges_find()) */
struct die_range {
	Dwarf_Addr lo, hi;        /* [lo, hi) */
	Dwarf_Die die;
};

struct ranges {                  /* sorted by lo once filled; no overlaps */
	size_t n, cap;
	struct die_range *r;
};

enum modfile_state {
	MF_UNOPENED,              /* no address resolved in it yet */
	MF_OPEN,                  /* dwfl and mod set */
	MF_UNUSABLE,              /* frames get module and offset only */
};

struct modfile {                 /* one file at one recorded build id */
	unsigned id;              /* its by_site key, from 1 */
	const char *path;         /* the trace's string */
	const uint8_t *build_id;  /* as recorded; build_id_len 0: none */
	unsigned build_id_len;
	int internal;
	int interp;               /* the Python interpreter's module */
	enum modfile_state state;
	Dwfl *dwfl;
	Dwfl_Module *mod;
	int cus_read;             /* cus filled: the file's CUs by address, */
	struct ranges cus;        /* when libdw's lookup fails (cu_at) */
};

struct resolved {                /* the frames of one call site */
	unsigned n;
	struct pt_frame f[];
};

struct pt_symbolizer {
	const struct pt_trace *t;
	struct map by_ip, by_site, by_module, demangled, cu_funcs;
	struct modfile **mf;
	unsigned nmf;
	char **warn;
	unsigned nwarn;
	char name[512];           /* pt_sym_name's fallback */
	const char *interp_path;  /* the module of the interpreter's evaluation
	                             function, when the trace has Python frames */
};

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

static void warn(struct pt_symbolizer *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	s->warn = pt_xrealloc(s->warn, (s->nwarn + 1) * sizeof *s->warn);
	s->warn[s->nwarn] = pt_xmalloc(strlen(buf) + 1);
	strcpy(s->warn[s->nwarn++], buf);
}

/* ---- module files -------------------------------------------------------- */

static char *debuginfo_path;     /* NULL: elfutils' default search path */

static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

/* The module file of recorded module m; NULL for a module without a path. */
static struct modfile *modfile_of(struct pt_symbolizer *s, const struct pt_module *m)
{
	struct modfile *mf = map_get(&s->by_module, (uintptr_t)m, 0);
	if (mf || !m->path[0])
		return mf;
	for (unsigned i = 0; i < s->nmf && !mf; i++) {
		struct modfile *o = s->mf[i];
		if (strcmp(o->path, m->path) == 0 && o->build_id_len == m->build_id_len &&
		    memcmp(o->build_id, m->build_id, m->build_id_len) == 0)
			mf = o;
	}
	if (!mf) {
		mf = pt_xmalloc(sizeof *mf);
		*mf = (struct modfile){
			.id = s->nmf + 1,
			.path = m->path,
			.build_id = m->build_id,
			.build_id_len = m->build_id_len,
			.internal = strncmp(base_name(m->path), "libpooltrace", 12) == 0,
			.interp = s->interp_path && strcmp(m->path, s->interp_path) == 0,
			.state = MF_UNOPENED,
		};
		s->mf = pt_xrealloc(s->mf, (s->nmf + 1) * sizeof *s->mf);
		s->mf[s->nmf++] = mf;
	}
	map_put(&s->by_module, (uintptr_t)m, 0, mf);
	return mf;
}

/* Open mf's file for lookups; 0, or -1 (with a warning) if it is unusable. */
static int modfile_open(struct pt_symbolizer *s, struct modfile *mf)
{
	const char *b = base_name(mf->path);
	struct stat st;

	/* the kernel's vDSO has no file: module and offset only, no warning */
	if (strncmp(b, "linux-vdso", 10) == 0 || strncmp(b, "linux-gate", 10) == 0)
		return -1;
	/* stat first: opening a FIFO would block, a directory is no ELF */
	if (stat(mf->path, &st) != 0) {
		if (errno == ENOENT)
			warn(s, "module %s not found: its frames are unsymbolized", mf->path);
		else
			warn(s, "module %s cannot be read (%s): its frames are unsymbolized",
			     mf->path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		warn(s, "module %s is not a regular file: its frames are unsymbolized",
		     mf->path);
		return -1;
	}

	Dwfl *dwfl = dwfl_begin(&offline_callbacks);
	if (!dwfl)
		goto out_dwfl_error;
	dwfl_report_begin(dwfl);
	/* bias 0: the file's own addresses (add_p_vaddr true: base is a bias) */
	Dwfl_Module *mod = dwfl_report_elf(dwfl, b, mf->path, -1, 0, true);
	if (dwfl_report_end(dwfl, NULL, NULL) != 0 || !mod)
		goto out_dwfl_error;

	if (mf->build_id_len) {
		const unsigned char *bits;
		GElf_Addr vaddr;
		int len = dwfl_module_build_id(mod, &bits, &vaddr);
		if (len != (int)mf->build_id_len || memcmp(bits, mf->build_id, (size_t)len)) {
			warn(s, "module %s changed since recording (build-id differs): "
			     "its frames are unsymbolized", mf->path);
			goto out_end;
		}
	}
	mf->dwfl = dwfl;
	mf->mod = mod;
	return 0;

out_dwfl_error:
	warn(s, "module %s cannot be read (%s): its frames are unsymbolized", mf->path,
	     dwfl_errmsg(-1));
out_end:
	dwfl_end(dwfl);
	return -1;
}

/* ---- names --------------------------------------------------------------- */

char *pt_sym_demangle(const char *name)
{
	if (!name || strncmp(name, "_Z", 2) != 0)
		return NULL;
	int status = -1;
	char *d = __cxa_demangle(name, NULL, NULL, &status);
	if (status != 0) {
		free(d);
		return NULL;
	}
	return d;
}

/* name (stable libdw data) demangled, cached by its address; NULL if it
 * is no C++ name */
static const char *demangled(struct pt_symbolizer *s, const char *name)
{
	if (!name || strncmp(name, "_Z", 2) != 0)
		return NULL;
	char *d = map_get(&s->demangled, (uintptr_t)name, 0);
	if (!d) {
		d = pt_sym_demangle(name);
		if (d)
			map_put(&s->demangled, (uintptr_t)name, 0, d);
	}
	return d;
}

/*
 * A subprogram's or inlined instance's name, through abstract origins and
 * specifications: a C++ linkage name demangled (qualified, with the
 * parameters), else DW_AT_name.  A C linkage name is an asm label (glibc's
 * __GI___libc_malloc for __libc_malloc): the source name is better.
 */
static const char *die_name(struct pt_symbolizer *s, Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *link = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	if (!link)
		link = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
	const char *name = demangled(s, link);
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
	return name ? name : link;
}

/* ---- address ranges of DIEs -----------------------------------------------
 * dwarf_getscopes() and dwarf_getscopes_die() walk a CU from its root on
 * every call, hundreds of microseconds in a big CU.  Instead every CU met
 * gets, once, the address ranges of its concrete functions, sorted: a call
 * site is then a binary search and a descent inside one function.  A table
 * of a file's CUs likewise stands in for .debug_aranges where libdw finds
 * no CU without them (clang emits none by default). */

static void ranges_add(struct ranges *t, Dwarf_Die *die)
{
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;
	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0) {
		if (lo >= hi)
			continue;
		if (t->n == t->cap) {
			t->cap = t->cap ? 2 * t->cap : 64;
			t->r = pt_xrealloc(t->r, t->cap * sizeof *t->r);
		}
		t->r[t->n++] = (struct die_range){ lo, hi, *die };
	}
}

static int die_range_cmp(const void *a, const void *b)
{
	const struct die_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The DIE whose range holds pc; NULL if none. */
static Dwarf_Die *ranges_find(struct ranges *t, Dwarf_Addr pc)
{
	size_t lo = 0, hi = t->n;         /* the first range starting above pc */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->r[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && pc < t->r[lo - 1].hi ? &t->r[lo - 1].die : NULL;
}

/* the concrete subprograms under parent, into t */
static void collect_funcs(Dwarf_Die *parent, struct ranges *t)
{
	Dwarf_Die d;
	if (dwarf_child(parent, &d) != 0)
		return;
	do {
		switch (dwarf_tag(&d)) {
		case DW_TAG_subprogram:
			ranges_add(t, &d);
			break;
		case DW_TAG_namespace:    /* where clang puts definitions */
		case DW_TAG_module:
		case DW_TAG_class_type:
		case DW_TAG_structure_type:
		case DW_TAG_union_type:
			collect_funcs(&d, t);
			break;
		}
	} while (dwarf_siblingof(&d, &d) == 0);
}

/* The CU of mf holding module address addr, and its Dwarf's bias; NULL
 * without debug info there. */
static Dwarf_Die *cu_at(struct modfile *mf, Dwarf_Addr addr, Dwarf_Addr *bias)
{
	Dwarf_Die *cu = dwfl_module_addrdie(mf->mod, addr, bias);
	if (cu)
		return cu;
	Dwarf *dw = dwfl_module_getdwarf(mf->mod, bias);
	if (!dw)
		return NULL;
	if (!mf->cus_read) {
		Dwarf_CU *u = NULL;
		uint8_t type;
		Dwarf_Die die;
		while (dwarf_get_units(dw, u, &u, NULL, &type, &die, NULL) == 0)
			if (type == DW_UT_compile)
				ranges_add(&mf->cus, &die);
		qsort(mf->cus.r, mf->cus.n, sizeof *mf->cus.r, die_range_cmp);
		mf->cus_read = 1;
	}
	return ranges_find(&mf->cus, addr - *bias);
}

/*
 * The function instances of cu (in mf) holding pc, innermost first, in
 * *chain (malloc'd): the inlined instances nested in the subprogram, then
 * the subprogram, the chain eu-addr2line -i prints.  Returns their count;
 * 0, *chain NULL, if no function of cu holds pc.
 */
static unsigned func_chain(struct pt_symbolizer *s, const struct modfile *mf, Dwarf_Die *cu,
                           Dwarf_Addr pc, Dwarf_Die **chain)
{
	Dwarf_Off cu_off = dwarf_dieoffset(cu);
	struct ranges *funcs = map_get(&s->cu_funcs, mf->id, cu_off);
	if (!funcs) {
		funcs = pt_xmalloc(sizeof *funcs);
		*funcs = (struct ranges){ 0, 0, NULL };
		collect_funcs(cu, funcs);
		qsort(funcs->r, funcs->n, sizeof *funcs->r, die_range_cmp);
		map_put(&s->cu_funcs, mf->id, cu_off, funcs);
	}
	Dwarf_Die *fn = ranges_find(funcs, pc);
	*chain = NULL;
	if (!fn)
		return 0;

	unsigned n = 1, cap = 8;
	Dwarf_Die *c = pt_xmalloc(cap * sizeof *c);      /* outermost first */
	c[0] = *fn;
	/* down the scopes holding pc: blocks, inlined instances */
	Dwarf_Die scope = *fn, d;
	while (dwarf_child(&scope, &d) == 0) {
		int tag;
		do {
			tag = dwarf_tag(&d);
			if ((tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block ||
			     tag == DW_TAG_try_block || tag == DW_TAG_catch_block) &&
			    dwarf_haspc(&d, pc) == 1)
				break;
			tag = 0;
		} while (dwarf_siblingof(&d, &d) == 0);
		if (!tag)
			break;
		if (tag == DW_TAG_inlined_subroutine) {
			if (n == cap)
				c = pt_xrealloc(c, (cap *= 2) * sizeof *c);
			c[n++] = d;
		}
		scope = d;
	}
	for (unsigned i = 0; i < n / 2; i++) {
		Dwarf_Die t = c[i];
		c[i] = c[n - 1 - i];
		c[n - 1 - i] = t;
	}
	*chain = c;
	return n;
}

static struct resolved *new_resolved(unsigned n, const struct modfile *mf, uint64_t addr)
{
	struct resolved *r = pt_xmalloc(sizeof *r + n * sizeof r->f[0]);
	r->n = n;
	for (unsigned i = 0; i < n; i++)
		r->f[i] = (struct pt_frame){
			.module = mf ? mf->path : NULL,
			.addr = addr,
			.internal = mf && mf->internal,
			.interp = mf && mf->interp,
			.inlined = i + 1 < n,
		};
	return r;
}

/*
 * The frames of call site addr in mf (NULL: in no module).  With debug
 * info: one per function instance of func_chain(), the innermost with the
 * line table's file:line, each outer one with the call_file:call_line of
 * the inlined instance inside it.  The outermost is named by the symbol
 * table when DWARF does not name it.
 */
static struct resolved *resolve(struct pt_symbolizer *s, struct modfile *mf, uint64_t addr)
{
	if (mf && mf->state == MF_UNOPENED)
		mf->state = modfile_open(s, mf) == 0 ? MF_OPEN : MF_UNUSABLE;
	if (!mf || mf->state != MF_OPEN)
		return new_resolved(1, mf, addr);

	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = cu_at(mf, addr, &bias);
	Dwarf_Die *chain = NULL;
	unsigned nf = cu ? func_chain(s, mf, cu, addr - bias, &chain) : 0;
	struct resolved *r = new_resolved(nf ? nf : 1, mf, addr);

	Dwarf_Line *line = cu ? dwarf_getsrc_die(cu, addr - bias) : NULL;
	const char *file = line ? dwarf_linesrc(line, NULL, NULL) : NULL;
	int lineno = 0;
	if (file && dwarf_lineno(line, &lineno) == 0 && lineno > 0) {
		r->f[0].file = file;
		r->f[0].line = (unsigned)lineno;
	}

	Dwarf_Files *files = NULL;
	if (nf && dwarf_getsrcfiles(cu, &files, NULL) != 0)
		files = NULL;
	for (unsigned k = 0; k < nf; k++) {
		r->f[k].func = die_name(s, &chain[k]);
		if (k + 1 == nf)
			break;
		Dwarf_Attribute a;
		Dwarf_Word v;
		if (files && dwarf_formudata(dwarf_attr(&chain[k], DW_AT_call_file, &a), &v) == 0)
			r->f[k + 1].file = dwarf_filesrc(files, v, NULL, NULL);
		if (dwarf_formudata(dwarf_attr(&chain[k], DW_AT_call_line, &a), &v) == 0)
			r->f[k + 1].line = (unsigned)v;
	}
	free(chain);

	struct pt_frame *outer = &r->f[r->n - 1];
	if (!outer->func) {
		GElf_Off off;
		GElf_Sym sym_mem;
		const char *sym = dwfl_module_addrinfo(mf->mod, addr, &off, &sym_mem, NULL, NULL,
		                                       NULL);
		outer->func = demangled(s, sym) ?: sym;
	}
	return r;
}

/* ---- API ----------------------------------------------------------------- */

struct pt_symbolizer *pt_sym_open(const struct pt_trace *t)
{
	struct pt_symbolizer *s = pt_xcalloc(1, sizeof *s);
	s->t = t;
	if (t->python.present && !(t->python.flags & PT_PY_F_UNSUPPORTED)) {
		const struct pt_module *m = pt_trace_module(t, UINT32_MAX, t->python.eval_addr);
		if (m && m->path[0])
			s->interp_path = m->path;
	}
	return s;
}

/* by_site's file id of Python frames and marks, keyed by their value */
#define PY_FILE_ID UINT64_MAX

/* A Python frame or the truncation mark (trace_format.h). */
static struct resolved *resolve_tagged(struct pt_symbolizer *s, uint64_t v)
{
	struct resolved *r = new_resolved(1, NULL, 0);
	struct pt_frame *f = &r->f[0];
	if (v == PT_FRAME_TRUNCATED) {
		f->func = "[truncated]";
		f->truncated = 1;
		return r;
	}
	uint32_t id = pt_frame_py_code(v);
	const struct pt_pycode *c = id < s->t->npycodes ? &s->t->pycode[id] : NULL;
	f->python = 1;
	f->addr = (uint64_t)pt_frame_py_offset(v);
	if (!c || !c->name) {
		f->func = "[unknown Python code]";
		return r;
	}
	f->func = c->name;
	f->file = c->file;
	f->line = pt_pylines_line(c->lines, c->nlines, c->firstline,
	                          pt_frame_py_offset(v));
	return r;
}

const struct pt_frame *pt_sym_lookup(struct pt_symbolizer *s, unsigned gen, uint64_t ip,
                                     unsigned *n)
{
	if (ip & PT_FRAME_PY_BIT) {
		struct resolved *t = map_get(&s->by_site, PY_FILE_ID, ip);
		if (!t) {
			t = resolve_tagged(s, ip);
			map_put(&s->by_site, PY_FILE_ID, ip, t);
		}
		*n = t->n;
		return t->f;
	}
	struct resolved *r = map_get(&s->by_ip, gen, ip);
	if (!r) {
		const struct pt_module *m = pt_trace_module(s->t, gen, ip);
		struct modfile *mf = m ? modfile_of(s, m) : NULL;
		uint64_t addr = (ip ? ip - 1 : 0) - (mf ? m->base : 0);
		unsigned id = mf ? mf->id : 0;
		r = map_get(&s->by_site, id, addr);
		if (!r) {
			r = resolve(s, mf, addr);
			map_put(&s->by_site, id, addr, r);
		}
		map_put(&s->by_ip, gen, ip, r);
	}
	*n = r->n;
	return r->f;
}

const char *pt_sym_name(struct pt_symbolizer *s, const struct pt_frame *f)
{
	if (f->func)
		return f->func;
	if (f->module)
		snprintf(s->name, sizeof s->name, "%s+0x%" PRIx64, base_name(f->module), f->addr);
	else
		snprintf(s->name, sizeof s->name, "0x%" PRIx64, f->addr);
	return s->name;
}

const char *const *pt_sym_warnings(const struct pt_symbolizer *s, unsigned *n)
{
	*n = s->nwarn;
	return (const char *const *)s->warn;
}

void pt_sym_close(struct pt_symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->by_site.cap; i++)
		free(s->by_site.slot[i].val);
	for (size_t i = 0; i < s->demangled.cap; i++)
		free(s->demangled.slot[i].val);
	for (size_t i = 0; i < s->cu_funcs.cap; i++) {
		struct ranges *funcs = s->cu_funcs.slot[i].val;
		if (funcs)
			free(funcs->r);
		free(funcs);
	}
	free(s->by_ip.slot);
	free(s->by_site.slot);
	free(s->by_module.slot);
	free(s->demangled.slot);
	free(s->cu_funcs.slot);
	for (unsigned i = 0; i < s->nmf; i++) {
		if (s->mf[i]->dwfl)
			dwfl_end(s->mf[i]->dwfl);
		free(s->mf[i]->cus.r);
		free(s->mf[i]);
	}
	free(s->mf);
	for (unsigned i = 0; i < s->nwarn; i++)
		free(s->warn[i]);
	free(s->warn);
	free(s);
}
