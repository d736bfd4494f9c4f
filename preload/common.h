/*
 * common.h - what every file of preload/ shares: symbol visibility, the
 * one helper for private memory, thread ids and clocks, the reentrancy
 * guard, and the locks with their order written as code.
 *
 * preload/ runs inside host programs: nothing here allocates from the
 * host's heap or calls stdio, and everything may be called before any
 * constructor ran.
 */
#ifndef POOLTRACE_COMMON_H
#define POOLTRACE_COMMON_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../allocator/compiler.h"

/*
 * Private memory: n bytes of zeroed anonymous memory, NULL if refused.
 * noreserve: address space only, pages charged as they are touched (the
 * big reserved tables: stack store, shadow words).  Every mapping is
 * remembered until pt__unmap, so that the exit scan never takes our own
 * tables for the program's memory (the kernel may merge a mapping of ours
 * with a thread's stack or TLS next to it).
 */
PT_HIDDEN void *pt__map(size_t n, int noreserve);
PT_HIDDEN void pt__unmap(void *p, size_t n);

/* Our mappings that overlap [lo, hi), each clipped to it, into r (at most
 * cap, by address); their number. */
struct pt_range { uintptr_t lo, hi; };
PT_HIDDEN unsigned pt__our_maps(uintptr_t lo, uintptr_t hi, struct pt_range *r, unsigned cap);

static inline pid_t pt__gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static inline uint64_t pt__now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Where the library's exit work starts on the exiting thread: the frame of
 * its outermost function of ours (the destructor, _exit), and the
 * callee-saved registers as the program left them there.  The exit scan
 * takes the thread's stack from that frame up, and those registers, as
 * roots: our own frames below hold residue of our work, not the program's
 * pointers, and a pointer the program keeps only in a register is found.
 */
struct pt_exit_context {
	uintptr_t frame;
	uintptr_t regs[6];
};

#if defined(__x86_64__)
#define PT_EXIT_CONTEXT(c) do { \
		__asm__ volatile("mov %%rbx, 0(%0)\n\tmov %%rbp, 8(%0)\n\t" \
		                 "mov %%r12, 16(%0)\n\tmov %%r13, 24(%0)\n\t" \
		                 "mov %%r14, 32(%0)\n\tmov %%r15, 40(%0)" \
		                 : : "r"((c)->regs) : "memory"); \
		(c)->frame = (uintptr_t)__builtin_frame_address(0); \
	} while (0)
#else
#define PT_EXIT_CONTEXT(c) do { \
		__builtin_unwind_init(); \
		(c)->frame = (uintptr_t)__builtin_frame_address(0); \
		for (int pt__i = 0; pt__i < 6; pt__i++) \
			(c)->regs[pt__i] = 0; \
	} while (0)
#endif

/*
 * The reentrancy guard: nonzero while this thread runs inside the recorder
 * or the heap checker.  Their own allocations (libunwind's, glibc's inside
 * dl_iterate_phdr or pthread_create) then come back through the malloc API
 * and must be served without being recorded or checked again.  It counts,
 * so that nested entries (the checker calls itself for realloc) balance.
 */
PT_HIDDEN extern __thread int pt__inside __attribute__((tls_model("initial-exec")));

extern char __libc_single_threaded __attribute__((weak));

/* glibc says the process has had one thread only (no pthread_create yet,
 * ours included; it stays false once cleared).  A glibc without the flag:
 * never. */
/* Is a a power of two (an alignment the C and C++ calls take)? */
static inline int pt__is_pow2(size_t a)
{
	return a && !(a & (a - 1));
}

static inline int pt__single_threaded(void)
{
	return &__libc_single_threaded && __libc_single_threaded;
}

/*
 * The gate of the exported malloc, free and C++ operators: 0 while neither debug mode (or
 * the first call's reading of the options, or a pending start of the
 * recorder) nor the recorder needs to see a call, so that their fast paths
 * test one word and take no stack frame.  One bit per reason, set and
 * cleared next to the state it summarises (pt__dbg_set_state,
 * pt__rec_set_on); the states themselves stay the truth for everything
 * else.  It starts with PT_GATE_DEBUG set (the options are unread) and
 * PT_GATE_CXX (cxx_new.c has not looked at the program yet).
 */
#define PT_GATE_DEBUG  1u   /* pt__dbg_state != PT_DBG_OFF */
#define PT_GATE_REC    2u   /* pt__rec_on, every event recorded */
#define PT_GATE_SAMPLE 4u   /* pt__rec_on, sampling (pt__rec_sfilter set):
                               the only bit set, malloc and free keep an
                               inline path for the unsampled pool calls */
#define PT_GATE_CXX    8u   /* the C++ operators only (cxx_new.c): until the first
                               of them found that the program binds every one to
                               ours; for good if it replaces one */
PT_HIDDEN extern unsigned pt__gate;

/* The gate as the C operators (malloc, free) see it: every bit but
 * PT_GATE_CXX (the mask is the `and' that sets the flags the test needs:
 * no instruction more than a plain load and test). */
static inline unsigned pt__gate_c(void)
{
	return __atomic_load_n(&pt__gate, __ATOMIC_RELAXED) & ~PT_GATE_CXX;
}

static inline void pt__gate_set(unsigned bit, int on)
{
	if (on)
		__atomic_fetch_or(&pt__gate, bit, __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(&pt__gate, ~bit, __ATOMIC_RELEASE);
}

/*
 * Locks of preload/, and the one order in which they nest: a thread that
 * holds a lock takes only locks of a higher rank.  fork's prepare handler
 * takes them all in this order.  Built with PT_DEBUG, every lock checks
 * the order, and a thread that breaks it traps.
 */
enum pt_lock_rank {
	PT_RANK_DEBUG = 1,       /* debug.c: the block registry and quarantine */
	PT_RANK_DEBUG_STACKS,    /* debug.c: its stack table's inserts */
	PT_RANK_THREADS,         /* rec_buffer.c: the list of thread buffers */
	PT_RANK_STACKS,          /* the recorder's stack table's inserts */
	PT_RANK_LIVE,            /* rec_live.c: the table of live blocks */
	PT_RANK_FILE,            /* rec_file.c: the trace file and stream 0 */
	PT_RANK_MODULES,         /* modules.c: the loaded modules */
	PT_RANK_INFOS,           /* rec_info.c: new infos */
	PT_RANK_COUNT            /* the allocator's own lock nests inside all */
};

struct pt_lock {
	pthread_mutex_t m;
	unsigned rank;           /* enum pt_lock_rank */
};

#define PT_LOCK_INIT(r) { PTHREAD_MUTEX_INITIALIZER, (r) }

#if defined(PT_DEBUG) && PT_DEBUG > 0
PT_HIDDEN extern __thread unsigned pt__locks_held __attribute__((tls_model("initial-exec")));
static inline void pt__lock_note(const struct pt_lock *l, int take)
{
	if (take) {
		pt_assert((pt__locks_held >> l->rank) == 0);   /* nothing ranked at or above */
		pt__locks_held |= 1u << l->rank;
	} else {
		pt_assert(pt__locks_held & (1u << l->rank));
		pt__locks_held &= ~(1u << l->rank);
	}
}
#else
static inline void pt__lock_note(const struct pt_lock *l, int take)
{
	(void)l, (void)take;
}
#endif

static inline void pt__lock_acquire(struct pt_lock *l)
{
	pthread_mutex_lock(&l->m);
	pt__lock_note(l, 1);
}

/* 0 if taken.  A try never waits, so it may break the order (a signal
 * handler flushing what it can). */
static inline int pt__lock_try(struct pt_lock *l)
{
	if (pthread_mutex_trylock(&l->m))
		return -1;
#if defined(PT_DEBUG) && PT_DEBUG > 0
	pt__locks_held |= 1u << l->rank;
#endif
	return 0;
}

static inline void pt__lock_release(struct pt_lock *l)
{
	pt__lock_note(l, 0);
	pthread_mutex_unlock(&l->m);
}

/* The fork child: the lock as new (its holder, if any, is not copied). */
static inline void pt__lock_reinit(struct pt_lock *l)
{
	pthread_mutex_init(&l->m, NULL);
#if defined(PT_DEBUG) && PT_DEBUG > 0
	pt__locks_held &= ~(1u << l->rank);
#endif
}

#endif
