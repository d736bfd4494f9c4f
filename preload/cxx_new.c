/*
 * cxx_new.c - the C++ allocation operators: new and new[] (plain, nothrow,
 * aligned, aligned nothrow) and delete and delete[] (plain, sized, nothrow,
 * aligned, sized aligned, aligned nothrow), the twenty functions that
 * jemalloc, tcmalloc and mimalloc also replace.
 *
 * Without them a C++ program's new is the C++ runtime's operator new,
 * which calls malloc through its PLT, and its delete the runtime's, which
 * jumps to free: two calls more per pair, and the runtime's operator on top
 * of every recorded stack.  Ours serve a small request with the pools' fast
 * path inline, pass everything else to the malloc API's own way
 * (pt__api_alloc, api.h: debug mode, the recorder, glibc above the pools),
 * and free by free's own path.  Since our code is dropped from recorded
 * stacks, the stack of a new starts at the code that called it, as
 * malloc's does.
 *
 * A block from new is a block of the malloc API: free takes it, as under
 * glibc, except that debug mode reports every mismatched pair (new freed
 * by free or delete[], malloc's block by delete, a sized or aligned delete
 * that is not the new's) as memcheck and AddressSanitizer do.
 *
 * A program may replace some of the operators itself, most often
 * operator new(size_t) and operator delete(void *) (with an arena of its
 * own, or to count).  The C++ runtime's other forms then reach those: its
 * sized delete calls the plain delete, its new[] the plain new.  Ours would
 * hand a block of the program's arena to free, or one of ours to the
 * program's delete (jemalloc, tcmalloc and mimalloc, preloaded, crash so).
 * So the first operator called checks that the program binds all twenty to
 * ours (the executable and the libraries preloaded before us come first in
 * the lookup); if one is bound elsewhere, every one of ours calls the
 * runtime's own for good, and the program gets the runtime's behaviour.
 * Until that check, and after it if it found a replacement, PT_GATE_CXX
 * stays set in pt__gate, which malloc and free mask out (common.h): the
 * fast paths of both families test the one word.
 *
 * No memory: C++ wants the new-handler called in a loop, then
 * std::bad_alloc thrown (nothrow forms: NULL).  The loop is ours (the
 * handler comes from the runtime's std::get_new_handler); throwing and
 * catching are not C's, so without a handler the operator ours hides is
 * called, the C++ runtime's (libstdc++'s or libc++'s, found in the loaded
 * objects after ours, without dlsym): it asks malloc once more and throws.
 * The runtime's nothrow forms call the throwing ones (ours: the same loop)
 * and catch.  Exceptions unwind through our frames, built with -fexceptions
 * and holding no lock.  With no runtime loaded (a program that calls these
 * has one) the process aborts with a line, as mimalloc does.
 *
 * The names are those of the x86-64 ABI (size_t is unsigned long, `m').
 */
#include <stdint.h>
#include <stdlib.h>

#include "../allocator/fastpath.h"
#include "api.h"
#include "common.h"
#include "debug.h"
#include "fmt.h"
#include "libc_sym.h"
#include "recorder.h"

/* The twenty, indexing the tables below: each array form right after its
 * single-object twin (op & 1: the array form). */
enum cxx_op {
	OP_NEW, OP_NEW_ARRAY, OP_NEW_NOTHROW, OP_NEW_ARRAY_NOTHROW,
	OP_NEW_ALIGNED, OP_NEW_ARRAY_ALIGNED, OP_NEW_ALIGNED_NOTHROW,
	OP_NEW_ARRAY_ALIGNED_NOTHROW,
	OP_DELETE, OP_DELETE_ARRAY, OP_DELETE_SIZED, OP_DELETE_ARRAY_SIZED,
	OP_DELETE_NOTHROW, OP_DELETE_ARRAY_NOTHROW, OP_DELETE_ALIGNED,
	OP_DELETE_ARRAY_ALIGNED, OP_DELETE_SIZED_ALIGNED, OP_DELETE_ARRAY_SIZED_ALIGNED,
	OP_DELETE_ALIGNED_NOTHROW, OP_DELETE_ARRAY_ALIGNED_NOTHROW, N_OPS,
};

static const char *const op_symbol[N_OPS] = {
	"_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t",
	"_ZnwmSt11align_val_t", "_ZnamSt11align_val_t",
	"_ZnwmSt11align_val_tRKSt9nothrow_t", "_ZnamSt11align_val_tRKSt9nothrow_t",
	"_ZdlPv", "_ZdaPv", "_ZdlPvm", "_ZdaPvm",
	"_ZdlPvRKSt9nothrow_t", "_ZdaPvRKSt9nothrow_t",
	"_ZdlPvSt11align_val_t", "_ZdaPvSt11align_val_t",
	"_ZdlPvmSt11align_val_t", "_ZdaPvmSt11align_val_t",
	"_ZdlPvSt11align_val_tRKSt9nothrow_t", "_ZdaPvSt11align_val_tRKSt9nothrow_t",
};

static inline int op_is_array(enum cxx_op op)
{
	return op & 1;
}

static inline int op_is_aligned_new(enum cxx_op op)
{
	return op >= OP_NEW_ALIGNED && op <= OP_NEW_ARRAY_ALIGNED_NOTHROW;
}

static inline int op_is_nothrow_new(enum cxx_op op)
{
	return op == OP_NEW_NOTHROW || op == OP_NEW_ARRAY_NOTHROW ||
	       op == OP_NEW_ALIGNED_NOTHROW || op == OP_NEW_ARRAY_ALIGNED_NOTHROW;
}

static inline unsigned op_api(enum cxx_op op)
{
	return op_is_array(op) ? PT_API_NEW_ARRAY : PT_API_NEW;
}

#define NONE_FOUND ((void *)1)   /* looked up, and absent */

/* The C++ runtime's function named symbol, looked up once into *slot. */
static void *runtime_fn(void **slot, const char *symbol)
{
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!f) {
		f = pt__elf_lookup_next(symbol);
		if (!f)
			f = NONE_FOUND;
		__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	}
	return f == NONE_FOUND ? NULL : f;
}

/* The runtime's operator op. */
static void *runtime_op(enum cxx_op op)
{
	static void *found[N_OPS];
	return runtime_fn(&found[op], op_symbol[op]);
}

/* The runtime's std::get_new_handler. */
typedef void (*new_handler_fn)(void);
static new_handler_fn (*runtime_get_new_handler(void))(void)
{
	static void *found;
	return (new_handler_fn (*)(void))runtime_fn(&found, "_ZSt15get_new_handlerv");
}

/* ---- who the program binds the operators to ----------------------------- */

enum { BINDING_UNKNOWN, BINDING_OURS, BINDING_REPLACED };
static int binding;

/* Does the program replace an operator (every one of ours then calls the
 * runtime's)?  Found at the first call that asks; racing threads find the
 * same answer. */
static PT_NOINLINE int replaced_slow(void)
{
	int b = BINDING_OURS;
	for (unsigned op = 0; op < N_OPS; op++)
		if (!pt__elf_bound_to_self(op_symbol[op])) {
			b = BINDING_REPLACED;
			break;
		}
	__atomic_store_n(&binding, b, __ATOMIC_RELEASE);
	if (b == BINDING_OURS)
		pt__gate_set(PT_GATE_CXX, 0);
	return b == BINDING_REPLACED;
}

static inline int replaced(void)
{
	int b = __atomic_load_n(&binding, __ATOMIC_ACQUIRE);
	if (PT_UNLIKELY(b == BINDING_UNKNOWN))
		return replaced_slow();
	return b == BINDING_REPLACED;
}

/* ---- new -------------------------------------------------------------------- */

/* The runtime's new op (n bytes aligned to align, nt the nothrow argument). */
static void *runtime_new(enum cxx_op op, size_t n, size_t align, const void *nt)
{
	void *f = runtime_op(op);
	if (!f) {
		pt__dprintf(2, "pooltrace: operator new: no memory for %zu bytes, and no C++ "
		            "runtime loaded to throw std::bad_alloc: aborting\n", n);
		abort();
	}
	switch (op) {
	case OP_NEW:
	case OP_NEW_ARRAY:
		return ((void *(*)(size_t))f)(n);
	case OP_NEW_NOTHROW:
	case OP_NEW_ARRAY_NOTHROW:
		return ((void *(*)(size_t, const void *))f)(n, nt);
	case OP_NEW_ALIGNED:
	case OP_NEW_ARRAY_ALIGNED:
		return ((void *(*)(size_t, size_t))f)(n, align);
	default:
		return ((void *(*)(size_t, size_t, const void *))f)(n, align, nt);
	}
}

/*
 * No memory for new.  A throwing form runs the C++ loop itself: while
 * there is a new-handler, call it (it may throw, through our frames) and
 * try again, so that a block found once the handler made room is ours, of
 * new's family, size and alignment.  Then, or for a nothrow form, the
 * runtime's operator decides: without a handler it throws std::bad_alloc;
 * the runtime's nothrow forms call the throwing ones (ours, so the same
 * loop) and catch what they throw, which C cannot.  A block it returns
 * (memory came back in between) is new's for debug mode.
 */
static PT_NOINLINE void *new_failed(enum cxx_op op, size_t n, size_t align, const void *nt)
{
	new_handler_fn (*get)(void) = op_is_nothrow_new(op) ? NULL : runtime_get_new_handler();
	new_handler_fn handler;
	while (get && (handler = get())) {
		handler();
		void *p = pt__api_alloc(n, align, op_api(op));
		if (p)
			return p;
	}
	void *p = runtime_new(op, n, align, nt);
	pt__dbg_set_api(p, op_api(op));
	return p;
}

/* With the gate shut, a small plain new the fast path could not serve, and
 * a big one: malloc's own paths; then, without memory, the runtime's
 * operator. */
static PT_NOINLINE void *new_small(size_t n, enum cxx_op op, const void *nt)
{
	void *p = pt__small_malloc(n);
	if (PT_LIKELY(p != NULL))
		return p;
	return new_failed(op, n, 0, nt);
}

static PT_NOINLINE void *new_big(size_t n, enum cxx_op op, const void *nt)
{
	void *p = pt__big_malloc(n);
	if (PT_LIKELY(p != NULL))
		return p;
	return new_failed(op, n, 0, nt);
}

/* Every other case: the runtime's operator if the program replaced one
 * (if the runtime has this one: a program linked with a static libstdc++
 * has only those it uses), else the malloc API's way for every mode, then,
 * without memory, the runtime's operator. */
static PT_NOINLINE void *new_slow(size_t n, enum cxx_op op, size_t align, const void *nt)
{
	if (PT_UNLIKELY(replaced()) && runtime_op(op))
		return runtime_new(op, n, align, nt);
	if (op_is_aligned_new(op) && !pt__is_pow2(align))
		return runtime_new(op, n, align, nt);   /* C++'s error, the runtime's to report */
	void *p = pt__api_alloc(n, align, op_api(op));
	if (PT_LIKELY(p != NULL))
		return p;
	return new_failed(op, n, align, nt);
}

/*
 * Every new: a plain one (not aligned: those are for types over 16, and go
 * to new_slow) with the gate shut (no debug mode, no recorder, the
 * operators known to be ours) as malloc does, a small request that the
 * thread cache or the head pool can serve served here; so is one that
 * sampling will not record (charged to its countdown, as malloc does);
 * every other way out is a tail call.  align is 0 for the plain forms.
 */
static inline __attribute__((always_inline)) void *op_new(enum cxx_op op, size_t n,
                                                          size_t align, const void *nt)
{
	unsigned gate = __atomic_load_n(&pt__gate, __ATOMIC_RELAXED);
	if (!op_is_aligned_new(op)) {
		if (PT_LIKELY(gate == 0)) {
			if (PT_LIKELY(n <= PT_SMALL_MAX)) {
				void *p = pt__alloc_try(n);
				if (PT_LIKELY(p != NULL))
					return p;
				return new_small(n, op, nt);
			}
			return new_big(n, op, nt);
		}
		int64_t left;
		void *p;
		if (gate == PT_GATE_SAMPLE && n <= PT_SMALL_MAX && pt__rec_unsampled(n, &left) &&
		    (p = pt__alloc_try(n))) {
			pt__rec_charge(left, n);
			return p;
		}
	}
	return new_slow(n, op, align, nt);
}

/* ---- delete ----------------------------------------------------------------- */

/* The runtime's delete op (runtime_op(op) is not NULL), with the arguments
 * its form takes. */
static void runtime_delete(enum cxx_op op, void *p, size_t size, size_t align, const void *nt)
{
	void *f = runtime_op(op);
	switch (op) {
	case OP_DELETE_SIZED:
	case OP_DELETE_ARRAY_SIZED:
	case OP_DELETE_ALIGNED:
	case OP_DELETE_ARRAY_ALIGNED:
		((void (*)(void *, size_t))f)(p, op == OP_DELETE_SIZED ||
		                                   op == OP_DELETE_ARRAY_SIZED ? size : align);
		return;
	case OP_DELETE_NOTHROW:
	case OP_DELETE_ARRAY_NOTHROW:
		((void (*)(void *, const void *))f)(p, nt);
		return;
	case OP_DELETE_SIZED_ALIGNED:
	case OP_DELETE_ARRAY_SIZED_ALIGNED:
		((void (*)(void *, size_t, size_t))f)(p, size, align);
		return;
	case OP_DELETE_ALIGNED_NOTHROW:
	case OP_DELETE_ARRAY_ALIGNED_NOTHROW:
		((void (*)(void *, size_t, const void *))f)(p, align, nt);
		return;
	default:
		((void (*)(void *))f)(p);
		return;
	}
}

/* The gate open: the runtime's delete if the program replaced an operator
 * (and the runtime has this one), else the malloc API's way, which in
 * debug mode checks the pair (size: PT_DBG_NO_SIZE, align: 0, when the
 * form gives none). */
static PT_NOINLINE void delete_slow(enum cxx_op op, void *p, size_t size, size_t align,
                                    const void *nt)
{
	if (PT_UNLIKELY(replaced()) && runtime_op(op)) {
		runtime_delete(op, p, size, align, nt);
		return;
	}
	pt__api_free(op_is_array(op) ? "operator delete[]" : "operator delete", p,
	             op_is_array(op) ? PT_FREE_DELETE_ARRAY : PT_FREE_DELETE, size, align);
}

/* Every delete: free's own path with the gate shut, or for a pool block
 * sampling did not record, as free does; else delete_slow. */
static inline __attribute__((always_inline)) void op_delete(enum cxx_op op, void *p, size_t size,
                                                            size_t align, const void *nt)
{
	const char *call = op_is_array(op) ? "operator delete[]" : "operator delete";
	unsigned gate = __atomic_load_n(&pt__gate, __ATOMIC_RELAXED);
	if (PT_LIKELY(gate == 0)) {
		pt__free_impl(call, p);
		return;
	}
	if (gate == PT_GATE_SAMPLE) {
		size_t v = pt__class_of((uintptr_t)p);
		if (PT_LIKELY(pt__rec_sampling_free_unsampled(p, v))) {
			pt__pool_free(call, p, v);
			return;
		}
	}
	delete_slow(op, p, size, align, nt);
}

/* ---- the exported operators ------------------------------------------------ */

#define NO_SIZE PT_DBG_NO_SIZE

PT_EXPORT void *_Znwm(size_t n)
{
	return op_new(OP_NEW, n, 0, NULL);
}

PT_EXPORT void *_Znam(size_t n)
{
	return op_new(OP_NEW_ARRAY, n, 0, NULL);
}

PT_EXPORT void *_ZnwmRKSt9nothrow_t(size_t n, const void *nt)
{
	return op_new(OP_NEW_NOTHROW, n, 0, nt);
}

PT_EXPORT void *_ZnamRKSt9nothrow_t(size_t n, const void *nt)
{
	return op_new(OP_NEW_ARRAY_NOTHROW, n, 0, nt);
}

PT_EXPORT void *_ZnwmSt11align_val_t(size_t n, size_t align)
{
	return op_new(OP_NEW_ALIGNED, n, align, NULL);
}

PT_EXPORT void *_ZnamSt11align_val_t(size_t n, size_t align)
{
	return op_new(OP_NEW_ARRAY_ALIGNED, n, align, NULL);
}

PT_EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const void *nt)
{
	return op_new(OP_NEW_ALIGNED_NOTHROW, n, align, nt);
}

PT_EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t align, const void *nt)
{
	return op_new(OP_NEW_ARRAY_ALIGNED_NOTHROW, n, align, nt);
}

PT_EXPORT void _ZdlPv(void *p)
{
	op_delete(OP_DELETE, p, NO_SIZE, 0, NULL);
}

PT_EXPORT void _ZdaPv(void *p)
{
	op_delete(OP_DELETE_ARRAY, p, NO_SIZE, 0, NULL);
}

PT_EXPORT void _ZdlPvm(void *p, size_t size)
{
	op_delete(OP_DELETE_SIZED, p, size, 0, NULL);
}

PT_EXPORT void _ZdaPvm(void *p, size_t size)
{
	op_delete(OP_DELETE_ARRAY_SIZED, p, size, 0, NULL);
}

PT_EXPORT void _ZdlPvRKSt9nothrow_t(void *p, const void *nt)
{
	op_delete(OP_DELETE_NOTHROW, p, NO_SIZE, 0, nt);
}

PT_EXPORT void _ZdaPvRKSt9nothrow_t(void *p, const void *nt)
{
	op_delete(OP_DELETE_ARRAY_NOTHROW, p, NO_SIZE, 0, nt);
}

PT_EXPORT void _ZdlPvSt11align_val_t(void *p, size_t align)
{
	op_delete(OP_DELETE_ALIGNED, p, NO_SIZE, align, NULL);
}

PT_EXPORT void _ZdaPvSt11align_val_t(void *p, size_t align)
{
	op_delete(OP_DELETE_ARRAY_ALIGNED, p, NO_SIZE, align, NULL);
}

PT_EXPORT void _ZdlPvmSt11align_val_t(void *p, size_t size, size_t align)
{
	op_delete(OP_DELETE_SIZED_ALIGNED, p, size, align, NULL);
}

PT_EXPORT void _ZdaPvmSt11align_val_t(void *p, size_t size, size_t align)
{
	op_delete(OP_DELETE_ARRAY_SIZED_ALIGNED, p, size, align, NULL);
}

PT_EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *nt)
{
	op_delete(OP_DELETE_ALIGNED_NOTHROW, p, NO_SIZE, align, nt);
}

PT_EXPORT void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *nt)
{
	op_delete(OP_DELETE_ARRAY_ALIGNED_NOTHROW, p, NO_SIZE, align, nt);
}
