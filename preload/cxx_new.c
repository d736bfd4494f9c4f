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
 * No memory: C++ wants the new-handler called in a loop, then
 * std::bad_alloc thrown (nothrow forms: NULL), which C cannot do.  So the
 * operator ours hides is called, the C++ runtime's (libstdc++'s or
 * libc++'s, found in the loaded objects without dlsym): it asks malloc
 * again (ours), runs the handler, throws.  The exception unwinds through
 * our frames, which have unwind tables and hold no lock.  With no runtime
 * loaded (a program that calls these has one) the process aborts with a
 * line, as mimalloc does.
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

/* The allocating forms, indexing the tables below. */
enum new_op {
	OP_NEW, OP_NEW_ARRAY, OP_NEW_NOTHROW, OP_NEW_ARRAY_NOTHROW,
	OP_NEW_ALIGNED, OP_NEW_ARRAY_ALIGNED, OP_NEW_ALIGNED_NOTHROW,
	OP_NEW_ARRAY_ALIGNED_NOTHROW, N_NEW_OPS,
};

static const char *const new_symbol[N_NEW_OPS] = {
	"_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t",
	"_ZnwmSt11align_val_t", "_ZnamSt11align_val_t",
	"_ZnwmSt11align_val_tRKSt9nothrow_t", "_ZnamSt11align_val_tRKSt9nothrow_t",
};

static inline int op_is_array(enum new_op op)
{
	return op & 1;
}

static inline int op_is_aligned(enum new_op op)
{
	return op >= OP_NEW_ALIGNED;
}

/* The runtime's operator for op, looked up at the first failure of op. */
static void *runtime_new(enum new_op op)
{
	static void *found[N_NEW_OPS];
	void *f = __atomic_load_n(&found[op], __ATOMIC_ACQUIRE);
	if (!f) {
		f = pt__elf_lookup_next(new_symbol[op]);
		__atomic_store_n(&found[op], f, __ATOMIC_RELEASE);
	}
	return f;
}

/*
 * No memory for new (op, n bytes aligned to align, nt the nothrow
 * argument): the runtime's operator decides (the handler, bad_alloc, NULL,
 * or a block once the handler made room).
 */
static PT_NOINLINE void *new_failed(enum new_op op, size_t n, size_t align, const void *nt)
{
	void *f = runtime_new(op);
	if (!f) {
		pt__dprintf(2, "pooltrace: operator new: no memory for %zu bytes, and no C++ "
		            "runtime loaded to throw std::bad_alloc: aborting\n", n);
		abort();
	}
	void *p;
	switch (op) {
	case OP_NEW:
	case OP_NEW_ARRAY:
		p = ((void *(*)(size_t))f)(n);
		break;
	case OP_NEW_NOTHROW:
	case OP_NEW_ARRAY_NOTHROW:
		p = ((void *(*)(size_t, const void *))f)(n, nt);
		break;
	case OP_NEW_ALIGNED:
	case OP_NEW_ARRAY_ALIGNED:
		p = ((void *(*)(size_t, size_t))f)(n, align);
		break;
	default:
		p = ((void *(*)(size_t, size_t, const void *))f)(n, align, nt);
		break;
	}
	/* the handler found memory: the runtime's block came from malloc or
	 * aligned_alloc, and is new's for debug mode */
	pt__dbg_set_api(p, op_is_array(op) ? PT_API_NEW_ARRAY : PT_API_NEW);
	return p;
}

/* With the gate shut, a small new the fast path could not serve, and a big
 * one: malloc's own paths; then, without memory, the runtime's operator. */
static PT_NOINLINE void *new_small(size_t n, enum new_op op, const void *nt)
{
	void *p = pt__small_malloc(n);
	if (PT_LIKELY(p != NULL))
		return p;
	return new_failed(op, n, 0, nt);
}

static PT_NOINLINE void *new_big(size_t n, enum new_op op, const void *nt)
{
	void *p = pt__big_malloc(n);
	if (PT_LIKELY(p != NULL))
		return p;
	return new_failed(op, n, 0, nt);
}

/* Every other case: the malloc API's way for every mode, then, without
 * memory, the runtime's operator. */
static PT_NOINLINE void *new_slow(size_t n, enum new_op op, size_t align, const void *nt)
{
	void *p = pt__api_alloc(n, align, op_is_array(op) ? PT_API_NEW_ARRAY : PT_API_NEW);
	if (PT_LIKELY(p != NULL))
		return p;
	return new_failed(op, n, align, nt);
}

/*
 * Every new: with the gate shut (no debug mode, no recorder) as malloc
 * does, a small request that the thread cache or the head pool can serve
 * served here; so is one that sampling will not record (charged to its
 * countdown, as malloc does); every other way out is a tail call.  An
 * aligned new of at most 8, which every block has, takes the same paths as
 * a plain one.
 */
static inline __attribute__((always_inline)) void *op_new(enum new_op op, size_t n,
                                                          size_t align, const void *nt)
{
	unsigned gate = __atomic_load_n(&pt__gate, __ATOMIC_RELAXED);
	if (PT_LIKELY(gate == 0) && (!op_is_aligned(op) || align <= 8)) {
		if (PT_LIKELY(n <= PT_SMALL_MAX)) {
			void *p = pt__alloc_try(n);
			if (PT_LIKELY(p != NULL))
				return p;
			return new_small(n, op, nt);
		}
		return new_big(n, op, nt);
	}
	if (gate == PT_GATE_SAMPLE && n <= PT_SMALL_MAX && (!op_is_aligned(op) || align <= 8)) {
		int64_t left;
		void *p;
		if (pt__rec_unsampled(n, &left) && (p = pt__alloc_try(n))) {
			pt__rec_charge(left, n);
			return p;
		}
	}
	return new_slow(n, op, op_is_aligned(op) ? align : 0, nt);
}

/* Every delete: free's own path with the gate shut, or for a pool block
 * sampling did not record, as free does; else the malloc API's way, which
 * in debug mode checks the pair. */
static inline __attribute__((always_inline)) void op_delete(void *p, unsigned how, size_t size,
                                                            size_t align)
{
	const char *call = how == PT_FREE_DELETE ? "operator delete" : "operator delete[]";
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
	pt__api_free(call, p, how, size, align);
}

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
	op_delete(p, PT_FREE_DELETE, PT_DBG_NO_SIZE, 0);
}

PT_EXPORT void _ZdaPv(void *p)
{
	op_delete(p, PT_FREE_DELETE_ARRAY, PT_DBG_NO_SIZE, 0);
}

PT_EXPORT void _ZdlPvm(void *p, size_t size)
{
	op_delete(p, PT_FREE_DELETE, size, 0);
}

PT_EXPORT void _ZdaPvm(void *p, size_t size)
{
	op_delete(p, PT_FREE_DELETE_ARRAY, size, 0);
}

PT_EXPORT void _ZdlPvRKSt9nothrow_t(void *p, const void *nt)
{
	(void)nt;
	op_delete(p, PT_FREE_DELETE, PT_DBG_NO_SIZE, 0);
}

PT_EXPORT void _ZdaPvRKSt9nothrow_t(void *p, const void *nt)
{
	(void)nt;
	op_delete(p, PT_FREE_DELETE_ARRAY, PT_DBG_NO_SIZE, 0);
}

PT_EXPORT void _ZdlPvSt11align_val_t(void *p, size_t align)
{
	op_delete(p, PT_FREE_DELETE, PT_DBG_NO_SIZE, align);
}

PT_EXPORT void _ZdaPvSt11align_val_t(void *p, size_t align)
{
	op_delete(p, PT_FREE_DELETE_ARRAY, PT_DBG_NO_SIZE, align);
}

PT_EXPORT void _ZdlPvmSt11align_val_t(void *p, size_t size, size_t align)
{
	op_delete(p, PT_FREE_DELETE, size, align);
}

PT_EXPORT void _ZdaPvmSt11align_val_t(void *p, size_t size, size_t align)
{
	op_delete(p, PT_FREE_DELETE_ARRAY, size, align);
}

PT_EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *nt)
{
	(void)nt;
	op_delete(p, PT_FREE_DELETE, PT_DBG_NO_SIZE, align);
}

PT_EXPORT void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t align, const void *nt)
{
	(void)nt;
	op_delete(p, PT_FREE_DELETE_ARRAY, PT_DBG_NO_SIZE, align);
}
