/*
 * internal.h - structures and invariants of the pool allocator.
 *
 *   arena: 256 KiB, mmap'ed aligned to 256 KiB
 *   +-----------+-----------+-----------+-- ... --+-----------+
 *   | page 0    | pool 1    | pool 2    |         | pool 63   |
 *   | arena hdr | 4 KiB     | 4 KiB     |         | 4 KiB     |
 *   | + 63 pool | class 48: |           |         |           |
 *   |   descs   | blocks    |           |         |           |
 *   +-----------+-----------+-----------+-- ... --+-----------+
 *     desc i (64 B) at base + 64*i describes pool i at base + 4096*i
 *
 *   pool i:  [blk][blk][blk]...[blk][tail]   blocks of one class, carved
 *            lazily (ncarved), recycled through the desc's free list.
 *
 * Pool descriptors live out of band, in the arena's first page, so that
 *  - a pool's whole 4 KiB holds blocks (4096 / size of them), 16-aligned;
 *  - an empty pool can be purged (MADV_DONTNEED) without losing its state;
 *  - the stats walk reads one page per arena and never faults pools in.
 *
 * Ownership: the allocator places its arenas in one range of address
 * space, the region: PT_REGION_SIZE (4 GiB) from pt__region_base.  A flat
 * byte map, pt__region_cls[(p - base) >> 12], holds the size class + 1 of
 * every pool of the region that has one: free() knows a pool block and its
 * class with a subtraction, a compare and one load, without touching the
 * pool descriptor.  The region is not reserved: reserved address space,
 * even PROT_NONE, counts against RLIMIT_AS, and a program that caps its
 * address space after start (sandboxes, test harnesses) could then map
 * nothing more.  At initialisation a 4 GiB reservation finds a hole and is
 * given straight back; arenas are then mapped one at a time at fixed slots
 * of that hole (MAP_FIXED_NOREPLACE), lowest free slot first, and unmapped
 * when released.  The kernel places other mappings top-down, so the program's
 * own fill the hole from its top while ours grow from its bottom.  So the
 * range may hold mappings that are not ours: pt__region_map[] says, per arena
 * slot, which hold an arena of ours (PT_SLOT_OURS) and which were found
 * taken (PT_SLOT_FOREIGN, never tried again); pt__region_cls is 0 for the
 * others, and a pointer in the range but in no arena of ours is foreign
 * (pt__in_region tests the slot, the fast path only the range).  An arena
 * that the kernel placed itself (the fallback below) inside the range is
 * entered in the flat maps as a slot, since the fast path never looks
 * further for an address in the range.  Arenas outside it (the slots above
 * are taken or used up, or no hole was found because RLIMIT_AS was already
 * tight at start) are plain mappings marked in a two-level radix map
 * instead, root[p >> 32] -> leaf[(p >> 18) & 0x3fff].  Either test reads
 * only our maps, never the memory at p, so foreign pointers (glibc, stack,
 * mmap) are never touched.
 *
 * Pool states (struct pt_pool.state):
 *   FREE  - in its arena: on the arena's freepools list, or never carved
 *           (index >= arena->ncarved).  owner == NULL, class unassigned.
 *   EMPTY - held by a heap's empty-pool cache, no block in use.
 *   USED  - on its owner heap's class list avail[cls]; the head of that
 *           list is the pool malloc pops from.  Some blocks may be free.
 *           The head pool is *pinned*: its nused carries +1 (pinned == 1),
 *           so that a malloc/free pair on an otherwise empty pool never
 *           takes the slow path; it is unpinned, and retired if it is empty,
 *           when it stops being the head.  The stats subtract the pin.
 *   FULL  - every block handed out: on no list.  A local free or a collected
 *           remote free moves it back to USED at the head of avail[cls].
 *
 * Counting identity of a pool owned by a heap:
 *   (nused - pinned) + |free list| + (nblocks - ncarved) == nblocks
 * where nused counts blocks pushed on xfree by other threads until the owner
 * collects them.  Hence a pool with a remote free in flight has nused >= 1
 * and cannot change owner: pool->owner is stable for remote freers.
 *
 * Remote frees (mimalloc's thread-free list, with obmalloc's pools):
 *   a thread freeing a block of a pool another heap owns CAS-pushes it on
 *   pool->xfree (a run of blocks of one pool goes in one CAS), whose top
 *   16 bits count the blocks on it, so that the owner needs no walk to
 *   count them; the push that finds xfree empty also pushes the pool on
 *   owner->pending.  The owner takes the whole pending stack with one
 *   exchange in its malloc slow path, and for each pool first reads
 *   pending_next, then exchanges xfree to 0 and splices the blocks into
 *   its free list (walking them for their tail only if that list is not
 *   empty).  A pool is thus on at most one pending stack, once.
 *
 * Thread cache (struct pt_heap.tc): per class >= 1, a LIFO list of up to
 * pt__g.tcache blocks this thread freed, of any heap's pools; they stay
 * counted in their pools' nused.  malloc pops it before the head pool, free
 * pushes while there is room; a free of another thread's block that finds
 * it full first spills its older half to the pools (tc_spill: other
 * threads' blocks in one CAS per run of one pool); a free of its own
 * block that finds it full goes to the pool.
 * tc_room[c] + the blocks on tc[c] == the cap (check.c), except for the
 * moment a free took the room of a full cache (-1, on its way to
 * pt__free_full, which stores 0 first).  pt__empty_heap's room is written
 * by heapless threads that way, and only ever to 0 or below: never a push.
 * A thread flushes its cache (pt__free_to_pool on each block) at exit.
 *
 * Double free (normal mode; debug mode has its own registry): every free
 * block of a class >= 1 carries pt__free_key, a random non-zero word, in its
 * second word (the key word); malloc clears it.  free compares the block's
 * key word with the key: one load and a compare, as glibc's tcache does.  A
 * match is confirmed by pt__double_free, which walks only lists this thread
 * may read: its cache of the class, and, if it owns the block's pool, the
 * pool's free list and remote list (nobody else pops or unlinks those);
 * otherwise the top of the pool's remote list.  Found: the free is ignored
 * and the embedder's double_free callback (pt_config) hears of it.  Not found: live data
 * that equals the key, freed normally (no false positive).  Pushes onto a
 * pool's list or remote list also refuse the block already on top.  Every
 * block has a key word: the smallest is 16 bytes (an 8-byte class, whose
 * blocks had none, skipped the cache and took the pool's path on every free:
 * glibc-bench's thread test, half of whose requests are 8 bytes or less,
 * ran 45% more iterations without it).
 * Not caught: a block freed first by another thread (in that thread's cache
 * or deep in a pool list this thread does not own), as in glibc.
 *
 * Heaps: one per thread (tl_heap), found with initial-exec TLS.  A thread
 * without a heap points at pt__empty_heap, whose class lists are the
 * read-only sentinel pool (free == NULL): its first malloc falls into the
 * slow path, which creates or adopts a heap.  At thread exit the heap is
 * abandoned: remote frees are collected, empty pools go back to the arenas,
 * and the heap (with pools still holding live blocks) waits on the abandoned
 * list for the next new thread to adopt it.  A remote free into an
 * abandoned heap collects that heap itself, under the lock.
 *
 * Arenas with free pools sit on usable_arenas, sorted by nfreepools,
 * fewest first, so pools come from the fullest arenas and nearly empty ones
 * drain (obmalloc's usable_arenas with its nfp2lasta[] fingers: O(1) per
 * transition).  An arena whose 63 pools are all free is unmapped, except one
 * spare.  A pool given back to its arena stays resident ("dirty") for
 * PT_PURGE_DELAY_MS, so that programs that free and reallocate in cycles do
 * not fault the same pages in again and again; after that the next pool
 * return purges it with MADV_DONTNEED (runs of adjacent pools in one call).
 * But when the free pools outgrow both PT_DIRTY_MIN and half the pools that
 * heaps hold (a wave of frees), the heap has shrunk and they are purged at
 * once: a program that frees everything is back near its starting RSS.
 * Unless the program is cycling: a wave starts at the first pool return
 * after the program took pools from the arenas, and if it starts less than
 * PT_WAVE_WINDOW_MS after the previous wave's last return, it leaves
 * resident (wave_keep) as many pools as the largest wave of the run gave
 * back (counted at each return, arenas released whole included), in the
 * arenas pools are taken from first; empty arenas inside that reserve stay
 * mapped.  Threads that exit and are replaced, or rounds
 * of objects built and dropped, then reuse resident pools instead of
 * faulting purged ones in.  The reserve never exceeds what the program held
 * before, and the delay above still purges what stays free.
 *
 * fork: the child inherits the other threads' heaps in whatever state their
 * owners left them, possibly halfway through a list update (their fast paths
 * take no lock).  So in the child they become orphans (abandoned == 2): never
 * adopted, never collected; blocks of theirs that the child frees stay on
 * their pools' remote lists.  What they hold is bounded by the heap at the
 * moment of the fork and never grows.  The forking thread's own heap and the
 * arenas (pt__g.lock is held across fork) are consistent and stay in use.
 *
 * Signals and fork: pt__g.lock is taken across fork only when it protects
 * something, as glibc takes its malloc locks: not in a single-threaded
 * process (glibc's __libc_single_threaded: nobody else can hold it), and not
 * when this thread already holds it (pt__tl_locked, set around every
 * acquisition: a fork from a signal handler that interrupted this thread
 * under the lock; no other thread can hold it then).  The state the child
 * gets is then the one the interrupted call left, as under glibc.  A lock
 * that prepare did not take is not reset in the child: the interrupted
 * frame releases it if the handler returns.  Meanwhile the slow paths never
 * wait for a lock this thread holds: a handler's malloc that needs a pool
 * from the arenas returns NULL (the preload asks glibc), and a free that
 * empties a pool keeps it in the heap's cache.
 *
 * Locking: one mutex (pt__lock) for arenas, the radix map writes, heap
 * creation/abandonment and the stats walk.  malloc and free never take it on
 * their fast paths.  Lock order for fork: pt__lock is the only lock here and
 * the innermost of the process's (the preload takes stdio's list lock and
 * its own locks before it, as glibc's fork does).
 */
#ifndef POOLTRACE_ALLOC_INTERNAL_H
#define POOLTRACE_ALLOC_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "compiler.h"
#include "layout.h"
#include "pool_alloc.h"

#define PT_USABLE_POOLS  (PT_POOLS_PER_ARENA - 1)           /* 63: page 0 is the header */
#define PT_HEAP_EMPTY_CACHE 4       /* empty pools a heap keeps before giving back */
#define PT_CLASS_RUN 16             /* adjacent untouched pools a class takes at once */
#define PT_PURGE_DELAY_MS 100      /* a free pool stays resident this long */
#define PT_PURGE_CHECK_MS 10       /* purge passes at most this often */
#define PT_DIRTY_MIN     256        /* 1 MiB of free pools is always allowed ... */
#define PT_DIRTY_RATIO   2          /* ... beyond, at most pools held / 2 */
#define PT_WAVE_WINDOW_MS 1000     /* waves of frees this close are one run */
#define PT_CARVE_BATCH   16         /* blocks threaded on the free list per carve */


/* Arena header: 64 bytes in front of the descriptors of pools 1..63. */
struct pt_arena {
	struct pt_pool *freepools;   /* FREE pools returned to this arena */
	struct pt_arena *next, *prev;    /* usable_arenas (sorted by nfreepools) */
	struct pt_arena *all_next, *all_prev; /* every mapped arena */
	uint16_t nfreepools;         /* FREE pools: freepools + never carved */
	uint16_t ncarved;            /* pools 1..ncarved-1 were handed out once; starts at 1 */
	uint16_t ndirty;             /* pools on freepools with dirty set */
	uint16_t in_file;            /* mapped from the memory file (meshing) */
	uint16_t pad_[8];            /* the header is 64 bytes, like a descriptor */
	struct pt_pool pool[PT_USABLE_POOLS];  /* pool[i-1] describes pool i */
};

_Static_assert(sizeof(struct pt_pool) == 64, "pool descriptor is one cache line");
_Static_assert(sizeof(struct pt_arena) == PT_POOL_SIZE, "arena header fills page 0");


/* Global state of the allocator (one struct, as SQLite's mem5 and musl's ctx). */
struct pt_global {
	pthread_mutex_t lock;
	_Atomic int initialised;
	unsigned align;
	unsigned tcache;          /* thread cache blocks per class (0: none) */
	unsigned nclasses;
	/* arenas */
	struct pt_arena *usable __attribute__((aligned(64)));   /* sorted by nfreepools, fewest first */
	struct pt_arena *nfp2lasta[PT_POOLS_PER_ARENA + 1];
	struct pt_arena *all;
	unsigned nempty_arenas;                  /* arenas with every pool FREE (<= 1 kept) */
	uint64_t arenas_mapped, arenas_total, arenas_released, arenas_highwater;
	uint64_t dirty_pools, purged_pools, purges;
	uint64_t pools_held;     /* taken by heaps and not given back */
	uint32_t last_purge_ms;
	/* waves of frees (shrink_unlocked in arena.c) */
	uint64_t wave_taken;     /* pools taken from the arenas since the last wave */
	uint64_t wave_given;     /* pools given back to the arenas in this wave */
	uint64_t wave_peak;      /* most pools a wave of this run gave back */
	uint64_t wave_keep;      /* dirty pools a wave leaves resident */
	uint32_t wave_ms;        /* time of the last wave */
	int wave_seen;
	/* heaps */
	struct pt_heap *heaps;
	struct pt_heap *abandoned;
	uint64_t nheaps;
	pthread_key_t key;
	int key_ok;
	/* the region (see the top comment) */
	size_t region_top;       /* no slot at or above it was ever ours */
	size_t region_hint;      /* no free slot below this one */
	size_t region_limit;     /* slots usable (PT_REGION_ARENAS; tests lower it) */
	uint64_t arenas_outside; /* arenas mapped outside the region now */
	void (*double_free)(void *p, size_t size);   /* the embedder's callback */
	/* meshing (mesh.c) */
	int mesh_fd;             /* the region's memory file; -1: arenas are
	                            private anonymous memory */
	int mesh_error;          /* why the file could not be made (an errno) */
	uint32_t mesh_last_ms;   /* the last round's time */
	uint64_t mesh_budget;    /* at most this many pools meshed at once */
	uint64_t meshed_now;     /* pools meshed into others now */
	uint64_t meshes, unmeshes, mesh_rounds, mesh_failed;
	uint64_t mesh_remaps;    /* mmap calls rounds made (a run takes one) */
	/* metadata bump allocator (heaps) */
	char *meta_cur, *meta_end;
};

PT_HIDDEN extern struct pt_global pt__g;
/* Nonzero while this thread holds (or is about to take) pt__g.lock: a
 * signal handler that interrupted it must not wait for the lock (see
 * "Signals and fork" above). */
PT_HIDDEN extern __thread uint8_t pt__tl_locked
	__attribute__((tls_model("initial-exec")));

/* pt__g.lock, with this thread's mark set before the wait and cleared after
 * the release, so that a handler on this thread never sees it unmarked while
 * it is held. */
static inline void pt__lock(void)
{
	pt__tl_locked = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	pthread_mutex_lock(&pt__g.lock);
}

static inline void pt__unlock(void)
{
	pthread_mutex_unlock(&pt__g.lock);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	pt__tl_locked = 0;
}

/* os.c: the only file that makes system calls.  0 or an errno value. */
PT_HIDDEN int pt__os_reserve(size_t size, size_t align, void **out);
PT_HIDDEN int pt__os_map_at(void *p, size_t size);
PT_HIDDEN int pt__os_map_aligned(size_t size, size_t align, void **out);
PT_HIDDEN int pt__os_map(size_t size, void **out);
PT_HIDDEN int pt__os_unmap(void *p, size_t size);
PT_HIDDEN int pt__os_purge(void *p, size_t size);
/* A coarse monotonic clock in milliseconds (wraps after 49 days). */
PT_HIDDEN uint32_t pt__os_now_ms(void);
/* Fault injection for tests: the n-th next map call (0 = the next) fails
 * with ENOMEM; -1 disables.  Reserving the region and committing an arena in
 * it count as map calls. */
void pt_test_fail_map_after(long n);
/* Tests: fail `count` map calls in a row, starting with the after-th next. */
void pt_test_fail_maps(long after, long count);
/* Tests: how many map calls fault injection has failed so far. */
uint64_t pt_test_failed_maps(void);
/* Tests: use at most n arena slots of the region. */
void pt_test_region_limit(size_t n);
/* How many map calls succeeded so far (tests). */
uint64_t pt_test_map_calls(void);


/* os.c: the shared backing of meshing */
PT_HIDDEN int pt__os_memfd(size_t size, int *fd);
PT_HIDDEN int pt__os_map_file_at(void *p, size_t size, int fd, uint64_t off, bool replace);
PT_HIDDEN int pt__os_punch(int fd, uint64_t off, size_t size);
PT_HIDDEN int pt__os_move(void *from, void *to, size_t size);
PT_HIDDEN void pt__os_signals_block(sigset_t *old);
PT_HIDDEN void pt__os_signals_restore(const sigset_t *old);
PT_HIDDEN unsigned long pt__os_max_map_count(void);
PT_HIDDEN int pt__os_protect(void *p, size_t size, bool writable);
PT_HIDDEN int pt__os_map_shared_page(void **out);
PT_HIDDEN int pt__os_map_populated(size_t size, void **out);
PT_HIDDEN void pt__os_futex_wait(_Atomic uint32_t *w, uint32_t v, bool shared, long ms);
PT_HIDDEN void pt__os_futex_wake(_Atomic uint32_t *w, bool shared);
PT_HIDDEN void pt__os_close(int fd);
PT_HIDDEN bool pt__os_segv_blocked(void);
PT_HIDDEN int pt__os_pid(void);

/* barrier.c: meshing's write barrier */
PT_HIDDEN void pt__barrier_begin(void);
PT_HIDDEN void pt__barrier_end(void);
PT_HIDDEN void pt__barrier_reset(void);

/* arena.c; the caller holds pt__g.lock */
PT_HIDDEN struct pt_pool *pt__arena_take_pool_unlocked(void);
/* The pool right after p (just taken from the arenas), if it is the next
 * untouched pool of the arena that serves first: taken as that call would
 * take it.  NULL otherwise. */
PT_HIDDEN struct pt_pool *pt__arena_take_next_unlocked(const struct pt_pool *p);
PT_HIDDEN void pt__arena_give_pool_unlocked(struct pt_pool *p);
PT_HIDDEN uintptr_t pt__pool_base(const struct pt_pool *p);
PT_HIDDEN void *pt__meta_alloc_unlocked(size_t size);
PT_HIDDEN void pt__purge_all_unlocked(void);
PT_HIDDEN void pt__region_init_unlocked(void);

/* check.c: the invariants above as code, for pt_assert (PT_DEBUG builds).
 * A pool or heap is checked by its owner thread (or under the lock for an
 * abandoned heap); the arenas under the lock.  True if they hold. */
PT_HIDDEN bool pt__pool_valid(const struct pt_pool *p);
PT_HIDDEN bool pt__heap_valid(const struct pt_heap *h);
PT_HIDDEN bool pt__arenas_valid(void);

/* arena.c: give the pages of [p, p + size) in an arena back to the system
 * (the next touch reads zeros); the caller holds pt__g.lock. */
PT_HIDDEN void pt__release_pages_unlocked(void *p, size_t size);

/* mesh.c */
PT_HIDDEN void pt__mesh_init_unlocked(void);
PT_HIDDEN void pt__mesh_maybe(struct pt_heap *h);
PT_HIDDEN void pt__mesh_release_unlocked(struct pt_pool *kept);
PT_HIDDEN size_t pt__mesh_heap(struct pt_heap *h, size_t max);
PT_HIDDEN void pt__mesh_fork_prepare(void);
PT_HIDDEN void pt__mesh_fork_parent(void);
PT_HIDDEN void pt__mesh_fork_child(void);
PT_HIDDEN bool pt__mesh_fork_child_fault(void);

/* alloc.c */
PT_HIDDEN void pt__init_slow(void);
PT_HIDDEN void pt__avail_unlink(struct pt_heap *h, struct pt_pool *p);
PT_HIDDEN void pt__heap_collect(struct pt_heap *h, bool locked);
PT_HIDDEN void pt__sizeclass_build(unsigned align, uint8_t *table,
                                   uint16_t *class_size, unsigned *nclasses);

/* Blocks of class c in a pool: all that fit. */
static inline unsigned pt__class_nblocks(unsigned c)
{
	return PT_POOL_SIZE / pt__cls.size[c];
}

/* Room in a thread cache, per class. */
static inline unsigned pt__tc_cap(void)
{
	return pt__g.tcache;
}

static inline struct pt_arena *pt__arena_of(uintptr_t a)
{
	return (struct pt_arena *)(a & ~(uintptr_t)(PT_ARENA_SIZE - 1));
}

/* Record the class (+1; 0: none) of pool p in the region's class map. */
static inline void pt__set_pool_class(const struct pt_pool *p, unsigned v)
{
	uintptr_t d = (uintptr_t)p;
	uintptr_t pool = (d & ~(uintptr_t)(PT_ARENA_SIZE - 1)) +
	                 (((d & (PT_ARENA_SIZE - 1)) >> 6) << PT_POOL_SHIFT);
	if (pt__in_range(pool))
		__atomic_store_n(&pt__region_cls[(pool - pt__region_base) >> PT_POOL_SHIFT],
		                 (uint8_t)v, __ATOMIC_RELEASE);
}

#endif /* POOLTRACE_ALLOC_INTERNAL_H */
