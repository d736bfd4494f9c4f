/*
 * python_code.c - code objects interned for the Python frames of stacks,
 * and their CODE records; the PYTHON record (python.h).
 *
 * A frame carries a code id; the id stands for a code object address and
 * what the object holds there: its file name, name and line table objects
 * and its first line and size, read again at every lookup (the object is
 * executing: in cache).  Code objects die and their addresses are reused;
 * one at the same address that differs in any of these is another code
 * object, and gets a new id (the stacks that named the old one keep it).
 * This needs no hook on free, so it holds when pymalloc serves the code
 * objects (the recorder never sees them freed) and with sampling (it sees
 * few frees); a new object that matches the old one in all of these, line
 * table object included, maps its instructions to the same lines.
 *
 * The table: entries by id in reserved memory, never moved; an index of
 * slots, by address, each holding the newest id of that address, probed
 * with no lock.  Inserts take a spin lock (only threads that hold a GIL
 * insert, so it is contended only between sub-interpreters with GILs of
 * their own) and define the code in the inserting thread's buffer.  A
 * fork child starts a table of its own (its trace is a new file).
 */
#include <stdatomic.h>
#include <string.h>

#include "python.h"
#include "python_lines.h"
#include "rec_internal.h"

#define CODES_MAX    (1u << 22)      /* ids per trace */
#define SLOTS_MIN    1024
#define NAME_MAX_    1024            /* bytes of a name, of a file name kept */
#define FILE_MAX_    4096
#define RUNS_MAX     (16u << 10)     /* bytes of a code's lines kept */

struct code_fp {                 /* what a code object holds, compared */
	uintptr_t file, name, lines, code;
	uint32_t firstline;
};

struct code_entry {
	uintptr_t addr;
	struct code_fp fp;
};

struct slots {
	size_t mask, used;
	_Atomic uint32_t id[];
};

static struct {
	atomic_int lock;
	pid_t pid;                    /* the process the table is for */
	int python_written;           /* its PYTHON record */
	struct code_entry *e;         /* by id, 1..n-1 */
	uint32_t n;
	struct slots *_Atomic slots;
	uint8_t name[NAME_MAX_], file[FILE_MAX_];   /* scratch, under the lock */
	uint8_t runs[RUNS_MAX];
} C;

static inline uintptr_t ld(uintptr_t a)
{
	return *(const uintptr_t *)a;
}

static void lock(void)
{
	while (atomic_exchange_explicit(&C.lock, 1, memory_order_acquire))
		while (atomic_load_explicit(&C.lock, memory_order_relaxed))
			__builtin_ia32_pause();
}

static void unlock(void)
{
	atomic_store_explicit(&C.lock, 0, memory_order_release);
}

static inline size_t slot_of(uintptr_t addr, size_t mask)
{
	return (size_t)(((addr >> 4) * 0x9e3779b97f4a7c15ull) >> 20) & mask;
}

/* A fresh table for this process: at the first use, and in a fork child
 * (whose one thread may find the lock held by a parent's thread). */
static void reset_if_forked(void)
{
	pid_t was = C.pid;
	if (was == pt__rcfg.pid)
		return;
	if (was)
		atomic_store(&C.lock, 0);
	lock();
	if (C.pid != pt__rcfg.pid) {
		if (!C.e)
			C.e = pt__map((size_t)CODES_MAX * sizeof *C.e, 1);
		else
			madvise(C.e, (size_t)C.n * sizeof *C.e, MADV_DONTNEED);
		struct slots *s = pt__map(sizeof *s + SLOTS_MIN * sizeof s->id[0], 0);
		if (s)
			s->mask = SLOTS_MIN - 1;
		else if ((s = atomic_load(&C.slots))) {
			memset((void *)s->id, 0, (s->mask + 1) * sizeof s->id[0]);
			s->used = 0;
		}
		atomic_store(&C.slots, s);
		C.n = 1;
		C.python_written = 0;
		C.pid = pt__rcfg.pid;
	}
	unlock();
}

static void fingerprint(uintptr_t code, struct code_fp *fp)
{
	const struct pt_py_layout *L = pt__py.L;
	fp->file = ld(code + L->co_filename);
	fp->name = ld(code + (L->minor >= 11 ? PT_PY_CO_QUALNAME : L->co_name));
	fp->lines = ld(code + L->co_lines);
	fp->code = L->co_code ? ld(code + L->co_code) : ld(code + PT_PY_OB_SIZE);
	fp->firstline = *(const uint32_t *)(code + L->co_firstlineno);
}

static int fp_eq(const struct code_fp *a, const struct code_fp *b)
{
	return a->file == b->file && a->name == b->name && a->lines == b->lines &&
	       a->code == b->code && a->firstline == b->firstline;
}

/* The slot of addr in s: its own, else the empty one where it would go. */
static size_t find_slot(struct slots *s, uintptr_t addr, uint32_t *id)
{
	for (size_t i = slot_of(addr, s->mask);; i = (i + 1) & s->mask) {
		*id = atomic_load_explicit(&s->id[i], memory_order_acquire);
		if (!*id || C.e[*id].addr == addr)
			return i;
	}
}

/* A bigger index with every address's newest id; the old one stays
 * mapped for readers still probing it.  The lock held. */
static struct slots *grow(struct slots *s)
{
	size_t cap = 2 * (s->mask + 1);
	struct slots *g = pt__map(sizeof *g + cap * sizeof g->id[0], 0);
	if (!g)
		return NULL;
	g->mask = cap - 1;
	for (size_t i = 0; i <= s->mask; i++) {
		uint32_t id = atomic_load_explicit(&s->id[i], memory_order_relaxed), old;
		if (id) {
			atomic_store_explicit(&g->id[find_slot(g, C.e[id].addr, &old)], id,
			                      memory_order_relaxed);
			g->used++;
		}
	}
	atomic_store_explicit(&C.slots, g, memory_order_release);
	return g;
}

/* ---- reading str and bytes objects ------------------------------------------ */

static uint8_t *put_utf8(uint8_t *p, uint32_t c)
{
	if (c >= 0xd800 && c < 0xe000)
		c = 0xfffd;   /* a lone surrogate: not UTF-8 */
	if (c < 0x80) {
		*p++ = (uint8_t)c;
	} else if (c < 0x800) {
		*p++ = (uint8_t)(0xc0 | c >> 6);
		*p++ = (uint8_t)(0x80 | (c & 63));
	} else if (c < 0x10000) {
		*p++ = (uint8_t)(0xe0 | c >> 12);
		*p++ = (uint8_t)(0x80 | (c >> 6 & 63));
		*p++ = (uint8_t)(0x80 | (c & 63));
	} else {
		*p++ = (uint8_t)(0xf0 | (c > 0x10ffff ? 0xfffd >> 18 : c >> 18));
		*p++ = (uint8_t)(0x80 | (c >> 12 & 63));
		*p++ = (uint8_t)(0x80 | (c >> 6 & 63));
		*p++ = (uint8_t)(0x80 | (c & 63));
	}
	return p;
}

/* The str object at s as UTF-8 into out (at most cap bytes, whole
 * characters); "?" if it is no compact str. */
static size_t str_utf8(uintptr_t s, uint8_t *out, size_t cap)
{
	const struct pt_py_layout *L = pt__py.L;
	if (!s || (s & 7) || ld(s + PT_PY_OB_TYPE) != pt__py.str_type) {
		out[0] = '?';
		return 1;
	}
	uint32_t state = *(const uint32_t *)(s + PT_PY_STR_STATE);
	unsigned kind = state >> 2 & 7, compact = state >> 5 & 1, ascii = state >> 6 & 1;
	size_t len = (size_t)ld(s + PT_PY_STR_LENGTH);
	if (!compact || (kind != 1 && kind != 2 && kind != 4)) {
		out[0] = '?';
		return 1;
	}
	const uint8_t *d = (const uint8_t *)s + (ascii ? L->str_ascii_data : L->str_compact_data);
	uint8_t *p = out;
	for (size_t i = 0; i < len && (size_t)(p - out) + 4 <= cap; i++) {
		uint32_t c = kind == 1 ? d[i] : kind == 2 ? ((const uint16_t *)d)[i]
		                                          : ((const uint32_t *)d)[i];
		p = put_utf8(p, c);
	}
	return (size_t)(p - out);
}

/* ---- records ------------------------------------------------------------------ */

/* The CODE record of id, for the code object at code; the lock held. */
static void write_code(struct pt_rec_thread *t, uint32_t id, uintptr_t code,
                       const struct code_fp *fp)
{
	const struct pt_py_layout *L = pt__py.L;
	struct pt_r_code r = {
		.id = id, .firstline = fp->firstline, .name = C.name, .file = C.file, .lines = C.runs,
	};
	r.name_len = str_utf8(fp->name, C.name, sizeof C.name);
	r.file_len = str_utf8(fp->file, C.file, sizeof C.file);
	if (fp->lines && !(fp->lines & 7) && ld(fp->lines + PT_PY_OB_TYPE) == pt__py.bytes_type)
		r.lines_len = pt__pylines_runs(L->lines, (const uint8_t *)fp->lines + PT_PY_BYTES_DATA,
		                               (size_t)ld(fp->lines + PT_PY_OB_SIZE),
		                               (int32_t)fp->firstline, C.runs, sizeof C.runs);
	(void)code;
	pt__rbuf_begin(t);
	uint8_t *p = pt__rbuf_room(t, 1 + PT_FIELDS_MAX(PT_FIELDS_CODE) + r.name_len + r.file_len +
	                              r.lines_len);
	p = pt_enc_type(p, PT_REC_CODE);
	PT_ENCODE(p, &r, PT_FIELDS_CODE);
	t->len = (uint32_t)(p - t->buf);
	pt__rbuf_end(t);
}

void pt__pycode_python_record(struct pt_rec_thread *t)
{
	reset_if_forked();
	if (C.python_written)
		return;
	lock();
	if (!C.python_written) {
		const struct pt_py_layout *L = pt__py.L;
		struct pt_r_ext_python r = {
			.hexversion = pt__py.hexversion, .flags = pt__py.flags, .eval_addr = pt__py.eval,
		};
		if (L) {   /* how the interpreter was configured: pymalloc or not */
			int a = *(const int *)(pt__py.runtime + L->rt_allocator);
			if (a != PT_PY_ALLOC_MALLOC && a != PT_PY_ALLOC_MALLOC_DEBUG)
				r.flags |= PT_PY_F_OWN_ALLOC;
		}
		uint8_t body[PT_FIELDS_MAX(PT_FIELDS_EXT_PYTHON)], *b = body;
		PT_ENCODE(b, &r, PT_FIELDS_EXT_PYTHON);
		struct pt_r_ext h = { .ext = PT_EXT_PYTHON, .len = (uint64_t)(b - body) };
		pt__rbuf_begin(t);
		uint8_t *p = pt__rbuf_room(t, 1 + PT_FIELDS_MAX(PT_FIELDS_EXT) + sizeof body);
		p = pt_enc_type(p, PT_REC_EXT);
		PT_ENCODE(p, &h, PT_FIELDS_EXT);
		memcpy(p, body, h.len);
		p += h.len;
		t->len = (uint32_t)(p - t->buf);
		pt__rbuf_end(t);
		C.python_written = 1;
	}
	unlock();
}

uint32_t pt__pycode_id(struct pt_rec_thread *t, uintptr_t code)
{
	struct code_fp fp;
	uint32_t id;
	reset_if_forked();
	fingerprint(code, &fp);
	struct slots *s = atomic_load_explicit(&C.slots, memory_order_acquire);
	if (!s || !C.e)
		return 0;
	find_slot(s, code, &id);
	if (id && fp_eq(&C.e[id].fp, &fp))
		return id;

	lock();
	s = atomic_load_explicit(&C.slots, memory_order_relaxed);
	size_t i = find_slot(s, code, &id);
	if (id && fp_eq(&C.e[id].fp, &fp))
		goto out;
	if (C.n >= CODES_MAX || C.n > PT_FRAME_CODE_MAX) {
		id = 0;
		goto out;
	}
	if (!id && (s->used + 1) * 2 > s->mask + 1) {
		struct slots *g = grow(s);
		if (!g) {
			id = 0;
			goto out;
		}
		s = g;
		i = find_slot(s, code, &id);
	}
	uint32_t old = id;
	id = C.n++;
	C.e[id] = (struct code_entry){ code, fp };
	atomic_store_explicit(&s->id[i], id, memory_order_release);
	s->used += !old;
	write_code(t, id, code, &fp);
out:
	unlock();
	return id;
}
