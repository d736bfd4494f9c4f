/*
 * python.c - the interpreter found, and the Python frames of the thread
 * that holds the GIL merged into its native stack (python.h).
 *
 * Finding it.  At the first stack taken, the loaded objects are searched
 * (dl_iterate_phdr, their GNU hash tables) for _PyRuntime: the python
 * executable itself when it is linked statically with libpython (Debian's
 * /usr/bin/python3.11), else libpython3.X.so.  The same object gives the
 * version (Py_Version from 3.11; before, the string Py_GetVersion()
 * formats from constants), the type objects whose addresses identify
 * code, str, bytes and type objects, and _PyEval_EvalFrameDefault with
 * its size.  A build with profile-guided optimization moves the unlikely
 * paths of that function (errors, exceptions, which allocate) to a part
 * of its own, far away and unnamed in a stripped binary: the part is the
 * one function fragment (unwind table entry) that receives the function's
 * many jumps out of its body and jumps back into it.
 *
 * Merging.  libunwind gives the native return addresses; the GIL holder's
 * frame chain gives its Python frames, cut into the runs that one call of
 * the evaluation function executes (3.8-3.10: one frame; 3.11: up to a
 * frame with is_entry; 3.12 on: up to a shim frame).  Each run goes just
 * before (inner to) the native frame of the call that runs it, matched
 * innermost first.  Were a native frame of that function not recognized,
 * the runs left over when the native stack ends go at its end: every
 * Python frame is kept, in order.
 */
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <string.h>

#include "fmt.h"
#include "libc_sym.h"
#include "options.h"
#include "python.h"
#include "python_lines.h"
#include "rec_internal.h"

struct pt_py pt__py;

#define P pt__py

/* ---- cold parts of the evaluation function ---------------------------------- */

/* The unwind table of an object: PT_GNU_EH_FRAME's sorted (start, FDE)
 * pairs, as 32-bit offsets from the header (the encoding every linker
 * writes; another gives no table). */
struct fde_table {
	uintptr_t hdr;
	const int32_t *e;
	size_t n;
};

static int fde_table_of(const struct dl_phdr_info *info, struct fde_table *t)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_GNU_EH_FRAME || ph->p_memsz < 12)
			continue;
		const uint8_t *h = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		/* version 1; eh_frame_ptr pcrel|sdata4 or sdata4; count udata4;
		 * table datarel|sdata4 */
		if (h[0] != 1 || (h[1] != 0x1b && h[1] != 0x0b) || h[2] != 0x03 || h[3] != 0x3b)
			return -1;
		uint32_t n;
		memcpy(&n, h + 8, 4);
		if (12 + (uint64_t)n * 8 > ph->p_memsz)
			return -1;
		*t = (struct fde_table){ (uintptr_t)h, (const int32_t *)(h + 12), n };
		return 0;
	}
	return -1;
}

static uintptr_t fde_start(const struct fde_table *t, size_t i)
{
	return t->hdr + (intptr_t)t->e[2 * i];
}

/* The index of the entry whose code starts at or below a; n if none. */
static size_t fde_find(const struct fde_table *t, uintptr_t a)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (fde_start(t, mid) <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : t->n;
}

/* Call fn for the target of every 32-bit relative jump (jmp, jcc) that the
 * bytes of [lo, hi) may hold; decoding is not needed: a stray match lands
 * anywhere, and only many jumps to one fragment count. */
static void jumps(uintptr_t lo, uintptr_t hi, void (*fn)(uintptr_t target, void *arg),
                  void *arg)
{
	for (const uint8_t *a = (const uint8_t *)lo; (uintptr_t)a + 6 <= hi; a++) {
		int32_t rel;
		if (a[0] == 0xe9) {
			memcpy(&rel, a + 1, 4);
			fn((uintptr_t)a + 5 + (intptr_t)rel, arg);
		} else if (a[0] == 0x0f && (a[1] & 0xf0) == 0x80) {
			memcpy(&rel, a + 2, 4);
			fn((uintptr_t)a + 6 + (intptr_t)rel, arg);
		}
	}
}

#define VOTE_MAX 4096
struct votes {
	const struct fde_table *t;
	uintptr_t text_lo, text_hi, body_lo, body_hi;
	uint32_t *idx;           /* FDE index of each jump out of the body */
	size_t n;
	size_t back;             /* jumps into the body (the reverse check) */
};

static void vote_out(uintptr_t target, void *arg)
{
	struct votes *v = arg;
	if (target < v->text_lo || target >= v->text_hi ||
	    (target >= v->body_lo && target < v->body_hi) || v->n == VOTE_MAX)
		return;
	size_t i = fde_find(v->t, target);
	if (i < v->t->n)
		v->idx[v->n++] = (uint32_t)i;
}

static void vote_back(uintptr_t target, void *arg)
{
	struct votes *v = arg;
	v->back += target >= v->body_lo && target < v->body_hi;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Shell sort (qsort may allocate). */
static void sort_u32(uint32_t *a, size_t n)
{
	for (size_t gap = n / 2; gap; gap /= 2)
		for (size_t i = gap; i < n; i++)
			for (size_t j = i; j >= gap && cmp_u32(&a[j - gap], &a[j]) > 0; j -= gap) {
				uint32_t x = a[j];
				a[j] = a[j - gap];
				a[j - gap] = x;
			}
}

#define COLD_VOTES 8    /* jumps from the body into a fragment, at least */
#define COLD_BACK  4    /* and back, at least */

/* The cold parts of the function [lo, hi) of object info, into P's ranges. */
static void find_cold_parts(const struct dl_phdr_info *info, uintptr_t lo, uintptr_t hi)
{
	struct fde_table t;
	struct votes v = { .t = &t, .body_lo = lo, .body_hi = hi };
	if (fde_table_of(info, &t) || !t.n)
		return;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t s = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && lo >= s && lo < s + ph->p_memsz)
			v.text_lo = s, v.text_hi = s + ph->p_memsz;
	}
	if (!v.text_hi || !(v.idx = pt__map(VOTE_MAX * sizeof *v.idx, 0)))
		return;
	jumps(lo, hi, vote_out, &v);
	sort_u32(v.idx, v.n);
	for (size_t i = 0; i < v.n && P.neval < PT_PY_EVAL_RANGES;) {
		size_t j = i;
		while (j < v.n && v.idx[j] == v.idx[i])
			j++;
		size_t k = v.idx[i];
		uintptr_t flo = fde_start(&t, k), fhi = k + 1 < t.n ? fde_start(&t, k + 1) : v.text_hi;
		v.back = 0;
		if (j - i >= COLD_VOTES && flo < fhi && fhi <= v.text_hi && fhi - flo < (4u << 20)) {
			jumps(flo, fhi, vote_back, &v);
			if (v.back >= COLD_BACK) {
				P.eval_lo[P.neval] = flo;
				P.eval_hi[P.neval++] = fhi;
			}
		}
		i = j;
	}
	pt__unmap(v.idx, VOTE_MAX * sizeof *v.idx);
}

/* ---- finding the interpreter ------------------------------------------------- */

struct found {
	int python, ok;
	uintptr_t runtime, code_type, str_type, bytes_type, type_type, eval;
	size_t eval_size;
	const uint32_t *version;
	const char *(*get_version)(void);
};

/* The object that defines Py_GetVersion, which every CPython exports, is
 * the interpreter; what this version needs is in it, or the version is
 * not supported. */
static int detect_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct found *f = arg;
	(void)size;
	f->get_version = (const char *(*)(void))pt__elf_sym(info, "Py_GetVersion", NULL);
	if (!f->get_version)
		return 0;
	f->python = 1;
	f->runtime = (uintptr_t)pt__elf_sym(info, "_PyRuntime", NULL);
	f->code_type = (uintptr_t)pt__elf_sym(info, "PyCode_Type", NULL);
	f->str_type = (uintptr_t)pt__elf_sym(info, "PyUnicode_Type", NULL);
	f->bytes_type = (uintptr_t)pt__elf_sym(info, "PyBytes_Type", NULL);
	f->type_type = (uintptr_t)pt__elf_sym(info, "PyType_Type", NULL);
	f->eval = (uintptr_t)pt__elf_sym(info, "_PyEval_EvalFrameDefault", &f->eval_size);
	f->version = pt__elf_sym(info, "Py_Version", NULL);
	f->ok = f->runtime && f->code_type && f->str_type && f->bytes_type && f->type_type &&
	        f->eval && f->eval_size;
	if (f->ok) {
		P.eval_lo[0] = f->eval;
		P.eval_hi[0] = f->eval + f->eval_size;
		P.neval = 1;
		find_cold_parts(info, f->eval, f->eval + f->eval_size);
	}
	return 1;
}

/* "3.10.13 (main, ..." as PY_VERSION_HEX, a final release assumed */
static uint32_t parse_version(const char *s)
{
	unsigned v[3] = { 0, 0, 0 };
	for (int i = 0; i < 3 && *s >= '0' && *s <= '9'; i++) {
		while (*s >= '0' && *s <= '9')
			v[i] = v[i] * 10 + (unsigned)(*s++ - '0');
		if (*s == '.')
			s++;
	}
	if (v[0] > 255 || v[1] > 255 || v[2] > 255)
		return 0;
	return v[0] << 24 | v[1] << 16 | v[2] << 8 | 0xf0;
}

/* Does the interpreter's own PyCode_Type, PyUnicode_Type and PyBytes_Type
 * say the objects are laid out as L has them (a release build)?  The
 * type objects are static, in the interpreter's data: readable. */
static int layout_matches(const struct pt_py_layout *L, const struct found *f)
{
	const uintptr_t *code = (const uintptr_t *)f->code_type;
	const uintptr_t *str = (const uintptr_t *)f->str_type;
	const uintptr_t *bytes = (const uintptr_t *)f->bytes_type;
	return code[PT_PY_OB_TYPE / 8] == f->type_type && str[PT_PY_OB_TYPE / 8] == f->type_type &&
	       code[PT_PY_TP_BASICSIZE / 8] == L->co_basicsize &&
	       str[PT_PY_TP_BASICSIZE / 8] == (uintptr_t)L->str_compact_data + 8 &&
	       bytes[PT_PY_TP_BASICSIZE / 8] == PT_PY_BYTES_DATA + 1;
}

void pt__py_detect(void)
{
	int expect = PT_PY_UNKNOWN;
	if (!atomic_compare_exchange_strong(&P.state, &expect, PT_PY_LOOKING))
		return;
	struct found f = { 0 };
	if (!pt__opt.python) {
		atomic_store_explicit(&P.state, PT_PY_OFF, memory_order_release);
		return;
	}
	dl_iterate_phdr(detect_cb, &f);
	if (!f.python) {
		atomic_store_explicit(&P.state, PT_PY_OFF, memory_order_release);
		return;
	}
	/* before 3.11: the string Py_GetVersion() formats from constants (the
	 * interpreter need not be initialized) */
	P.hexversion = f.version ? *f.version : parse_version(f.get_version());
	P.runtime = f.runtime;
	P.code_type = f.code_type;
	P.str_type = f.str_type;
	P.bytes_type = f.bytes_type;
	P.type_type = f.type_type;
	P.eval = f.eval;
	P.L = f.ok ? pt_py_layout_of(P.hexversion >> 24, (P.hexversion >> 16) & 255) : NULL;
	if (P.L && !layout_matches(P.L, &f)) {
		P.L = NULL;
		P.flags = PT_PY_F_UNSUPPORTED;
		pt__dprintf(2, "pooltrace: CPython %u.%u.%u: its objects are not laid out as its "
		            "release builds' (a debug or free-threading build?): stacks have native "
		            "frames only\n", P.hexversion >> 24, (P.hexversion >> 16) & 255,
		            (P.hexversion >> 8) & 255);
	} else if (!P.L) {
		P.flags = PT_PY_F_UNSUPPORTED;
		pt__dprintf(2, "pooltrace: CPython %u.%u.%u: its frames are not read (3.8 to 3.13 "
		            "are): stacks have native frames only\n", P.hexversion >> 24,
		            (P.hexversion >> 16) & 255, (P.hexversion >> 8) & 255);
	}
	atomic_store_explicit(&P.state, PT_PY_ON, memory_order_release);
}

/* ---- the frames -------------------------------------------------------------- */

static inline uintptr_t ld(uintptr_t a)
{
	return *(const uintptr_t *)a;
}

static inline uint32_t ld32(uintptr_t a)
{
	return *(const uint32_t *)a;
}

static inline uint8_t ld8(uintptr_t a)
{
	return *(const uint8_t *)a;
}

/* A pointer the interpreter may have stored: user space, aligned. */
static inline int ok_ptr(uintptr_t p)
{
	return p && !(p & 7) && p < (1ull << 56);
}

/*
 * The calling thread's state if it holds the GIL, else 0.  Its state is
 * the one the interpreter's thread-specific key holds for this thread
 * (no other thread's memory is read to find it); it holds the GIL when
 * the runtime's current state is it (up to 3.11) or its own status says
 * so (3.12 on: only the thread itself sets that bit).
 */
static uintptr_t gil_holder_state(const struct pt_py_layout *L)
{
	uintptr_t tss = P.runtime + L->rt_tss;
	if (ld32(tss) != 1)
		return 0;   /* not initialized (yet, or any more) */
	uintptr_t ts = (uintptr_t)pthread_getspecific((pthread_key_t)ld32(tss + 4));
	if (!ok_ptr(ts))
		return 0;
	if (L->rt_tstate_current)
		return __atomic_load_n((const uintptr_t *)(P.runtime + L->rt_tstate_current),
		                       __ATOMIC_RELAXED) == ts ? ts : 0;
	return ld32(ts + L->ts_status) & PT_PY_STATUS_ACTIVE ? ts : 0;
}

struct walk {
	uint64_t *f;             /* Python frames, innermost first (tagged) */
	int n, cap;
	int *gsize;              /* frames per run of one evaluation call */
	int ngroups, gcap;
};

static void emit(struct pt_rec_thread *t, struct walk *w, uintptr_t code, int64_t lasti)
{
	uint32_t id = pt__pycode_id(t, code);
	int64_t o1 = lasti < 0 ? 0 : lasti + 1 > UINT32_MAX ? UINT32_MAX : lasti + 1;
	w->f[w->n++] = pt_frame_py(id, (uint32_t)o1);
	w->gsize[w->ngroups]++;
}

/* The frames of thread state ts into w. */
static void walk(struct pt_rec_thread *t, const struct pt_py_layout *L, uintptr_t ts,
                 struct walk *w)
{
	uintptr_t f = ld(ts + L->ts_frame);
	if (L->cframe && ok_ptr(f))
		f = ld(f + L->cf_current);
	w->gsize[0] = 0;
	for (int steps = 4 * w->cap + 64; ok_ptr(f) && steps > 0; steps--) {
		if (w->n == w->cap || w->ngroups + 1 == w->gcap)
			break;
		uintptr_t code = ld(f + L->fr_code);
		int valid = ok_ptr(code) && ld(code + PT_PY_OB_TYPE) == P.code_type;
		int end = 1;   /* this frame ends its run (3.8-3.10: each does) */
		if (L->frames == PT_PYF_OBJECTS) {
			if (valid) {
				int32_t lasti = (int32_t)ld32(f + L->fr_instr);
				emit(t, w, code, L->lines == PT_PYLINES_LNOTAB && lasti >= 0 ? lasti / 2 : lasti);
			}
		} else {
			unsigned owner = ld8(f + L->fr_owner);
			if (L->frames == PT_PYF_SHIM && owner == PT_PY_OWNED_BY_CSTACK) {
				/* a shim: the run of frames before it ends */
			} else {
				end = L->frames == PT_PYF_ENTRY && ld8(f + L->fr_entry);
				if (valid) {
					uintptr_t start = code + L->co_adaptive;
					int64_t lasti = ((intptr_t)ld(f + L->fr_instr) - (intptr_t)start) / 2;
					/* incomplete: not yet at its first traceable
					 * instruction (creating cells, a generator) */
					int32_t first = (int32_t)ld32(code + L->co_firsttraceable);
					if (owner == PT_PY_OWNED_BY_GENERATOR || lasti >= first)
						emit(t, w, code, lasti);
				}
			}
		}
		if (end)
			w->gsize[++w->ngroups] = 0;
		f = ld(f + L->fr_back);
	}
	if (w->gsize[w->ngroups])
		w->ngroups++;   /* a run the chain's end closes */
}

static inline int is_eval(uintptr_t ret)
{
	uintptr_t a = ret - 1;   /* the call, inside the caller */
	for (unsigned i = 0; i < P.neval; i++)
		if (a >= P.eval_lo[i] && a < P.eval_hi[i])
			return 1;
	return 0;
}

static int native_only(void **ip, int nn, int depth)
{
	if (nn <= depth)
		return nn;
	ip[depth] = (void *)PT_FRAME_TRUNCATED;
	return depth + 1;
}

int pt__py_stack(struct pt_rec_thread *t, void **ip, int nn, int depth)
{
	int state = atomic_load_explicit(&P.state, memory_order_acquire);
	if (state == PT_PY_UNKNOWN) {
		pt__py_detect();
		state = atomic_load_explicit(&P.state, memory_order_acquire);
	}
	if (state != PT_PY_ON)
		return native_only(ip, nn, depth);
	const struct pt_py_layout *L = P.L;
	uintptr_t ts = L ? gil_holder_state(L) : 0;
	if (!ts) {
		if (!L)
			pt__pycode_python_record(t);
		return native_only(ip, nn, depth);
	}
	pt__pycode_python_record(t);
	if (PT_UNLIKELY(__atomic_load_n((const uintptr_t *)(P.runtime + L->rt_finalizing),
	                                __ATOMIC_RELAXED)))
		pt__pyobj_census();   /* once: what the program left */

	int cap = depth + 1;
	uint64_t pf[cap];
	int gsize[2 * cap + 2];
	struct walk w = { .f = pf, .cap = cap, .gsize = gsize, .gcap = 2 * cap + 2 };
	walk(t, L, ts, &w);
	if (!w.n)
		return native_only(ip, nn, depth);

	void *nat[nn];
	memcpy(nat, ip, (size_t)nn * sizeof *ip);
	int k = 0, g = 0, p = 0;
	for (int i = 0; i < nn && k < cap; i++) {
		if (g < w.ngroups && is_eval((uintptr_t)nat[i])) {
			for (int j = 0; j < w.gsize[g] && k < cap; j++)
				ip[k++] = (void *)pf[p + j];
			p += w.gsize[g++];
			if (k == cap)
				break;
		}
		ip[k++] = nat[i];
	}
	/* runs whose native frame was not recognized, when the native stack
	 * ended: still in order, at its end */
	while (nn < cap && p < w.n && k < cap)
		ip[k++] = (void *)pf[p++];
	if (k == cap) {   /* more frames than the depth */
		ip[depth] = (void *)PT_FRAME_TRUNCATED;
		return depth + 1;
	}
	return k;
}
