/*
 * stacks.h - call stacks: taken with libunwind, our own frames dropped,
 * and interned into a table that gives each distinct stack a small id.
 * The recorder and the heap checker each keep a table.
 *
 * A table: frames in a store of 1 MiB chunks, mapped as it fills (an
 * entry never spans two), an id -> offset array, and a lock-free-read
 * index (hindex.h).  Not one reservation of the store's size: a program
 * that caps its address space after start must not find it spent by us.
 * Lookups take no lock; an insert takes the table's lock, looks again,
 * writes the entry, then publishes it.  Ids count from 1 (0: no stack).
 *
 * An entry carries an epoch (the caller's: the recorder bumps it when a
 * module is unloaded, since an address may then mean another function, so
 * the same addresses in a new epoch are a new stack) and a generation (the
 * module map in force when the stack was first met).
 */
#ifndef POOLTRACE_STACKS_H
#define POOLTRACE_STACKS_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "common.h"
#include "hindex.h"
#include "modules.h"
#include "unwind.h"

struct pt_stack_entry {        /* in the store, 8-byte aligned */
	uint32_t nframes, epoch;
	uint32_t gen, pad;
	uintptr_t ip[];            /* innermost first */
};

struct pt_stack_table {
	struct pt_lock lock;       /* inserts */
	struct pt_hindex *_Atomic index;
	uint64_t *offs;            /* id -> byte offset in the store */
	uint8_t **chunk;           /* the store's chunks, NULL until needed */
	size_t store_used, store_size;
	uint32_t max;              /* ids stay below this */
	atomic_uint n;             /* ids 1..n-1 are in use */
};

#define PT_STACK_TABLE_INIT(rank) { .lock = PT_LOCK_INIT(rank) }

/* Reserve the table's memory: at most max stacks, store_size bytes of
 * entries.  0, or -1 if the memory was refused. */
PT_HIDDEN int pt__stacks_init(struct pt_stack_table *t, uint32_t max, size_t store_size);

/* Forget every stack (the fork child); its memory goes back to the kernel. */
PT_HIDDEN void pt__stacks_reset(struct pt_stack_table *t);

/*
 * The id of the stack ip[0..n-1] (n >= 1) in epoch, 0 if the table is full.
 * *fresh: this call created it (the caller writes its definition); gen is
 * stored with a new entry.  last (NULL: none): the caller's last id, kept
 * here; a stack equal to it is answered without the hash and the index (a
 * loop's call site gives one stack again and again).  Any value of *last
 * is safe: it is compared, not trusted.
 */
PT_HIDDEN uint32_t pt__stacks_intern(struct pt_stack_table *t, void *const *ip, int n,
                                     unsigned epoch, unsigned gen, int *fresh, uint32_t *last);

#define PT_STACK_CHUNK_SHIFT 20

static inline const struct pt_stack_entry *pt__stacks_get(const struct pt_stack_table *t,
                                                          uint32_t id)
{
	uint64_t off = t->offs[id];
	return (const struct pt_stack_entry *)(t->chunk[off >> PT_STACK_CHUNK_SHIFT] +
	                                       (off & ((1u << PT_STACK_CHUNK_SHIFT) - 1)));
}

/*
 * Unwind the calling thread's stack into ip[0..max-1]: innermost first,
 * our own frames at the top dropped (the malloc API, the recorder).
 * Returns the number of frames kept, at most max (<= PT_UNWIND_MAX); 0
 * while libunwind is not loaded.  Our own walk (unwind.h) takes nearly
 * every stack, with the calling thread's memo of its last walk (NULL:
 * none); libunwind the others.  Under PT_DEBUG every stack we walk
 * is walked by libunwind too, and a difference stops the program.
 * PT_UNWIND_SAME, ip untouched: the walk found the memo's last frames
 * again and the caller, by if_same, asked to be told so (it keeps that
 * walk's stack).
 *
 * libunwind validates memory with read(2) and write(2) on a pipe, which
 * are cancellation points (a thread with a pending cancel must not be
 * cancelled inside malloc) and leave EAGAIN in errno: it runs with
 * cancellation disabled, errno kept.
 */
#define PT_UNWIND_MAX 257   /* the deepest stack recorded, and one more frame */
#define PT_UNWIND_SLACK 7   /* frames of ours above the caller's, at most */
#define PT_UNWIND_SAME (-1)

static inline int pt__unwind_libunwind(int (*bt)(void **, int), void **raw, int n)
{
	int cancel, e = errno;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	n = bt(raw, n);
	pthread_setcancelstate(cancel, NULL);
	errno = e;
	return n;
}

/* The frames of raw[0..n) after our own: their index. */
static inline int pt__unwind_skip_self(void *const *raw, int n)
{
	int skip = 0;
	while (skip < n && pt__is_self_ip((uintptr_t)raw[skip]))
		skip++;
	return skip;
}

#ifdef PT_DEBUG
static inline void pt__unwind_check(int (*bt)(void **, int), void *const *ours, int n, int ask)
{
	void *theirs[PT_UNWIND_MAX + PT_UNWIND_SLACK];
	int m = pt__unwind_libunwind(bt, theirs, ask);
	int a = pt__unwind_skip_self(ours, n), b = pt__unwind_skip_self(theirs, m);
	int common = n - a < m - b ? n - a : m - b;
	for (int i = 0; i < common; i++)
		pt_assert(ours[a + i] == theirs[b + i]);
	if (n < ask && m < ask)   /* neither cut: the same depth */
		pt_assert(n - a == m - b);
}
#endif

static inline __attribute__((always_inline)) int pt__unwind(void **ip, int max,
                                                            struct pt_unwind_memo *memo,
                                                            int if_same)
{
	int (*bt)(void **, int) = __atomic_load_n(&pt__unw_backtrace, __ATOMIC_ACQUIRE);
	if (!bt)
		return 0;
	void *raw[PT_UNWIND_MAX + PT_UNWIND_SLACK];
	if (memo)
		memo->want_same = if_same;
	int n = pt__unwind_walk(raw, max + PT_UNWIND_SLACK, memo);
	if (if_same && memo->same)
		return PT_UNWIND_SAME;
	if (n < 0)
		n = pt__unwind_libunwind(bt, raw, max + PT_UNWIND_SLACK);
#ifdef PT_DEBUG
	else
		pt__unwind_check(bt, raw, n, max + PT_UNWIND_SLACK);
#endif
	int skip = pt__unwind_skip_self(raw, n);
	n -= skip;
	if (n > max)
		n = max;
	for (int i = 0; i < n; i++)
		ip[i] = raw[skip + i];
	return n > 0 ? n : 0;
}

#endif
