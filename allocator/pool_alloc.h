/*
 * pool_alloc.h - the pooltrace small-object allocator: public interface.
 *
 * A pymalloc-style allocator for requests of at most PT_SMALL_MAX bytes:
 * 256 KiB arenas, 4 KiB pools, one size class per pool, per-thread heaps.
 * It knows nothing of profiling, options or symbols; whoever embeds it
 * (preload/, the unit tests) decides what to do with larger requests and
 * with pointers it does not own.
 *
 * Thread safety: every function may be called from any thread at any time,
 * also before pt_configure().  Nothing here calls the C library's malloc.
 */
#ifndef POOLTRACE_POOL_ALLOC_H
#define POOLTRACE_POOL_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PT_SMALL_MAX     512          /* largest request served from pools */
#define PT_ARENA_SIZE    (256u << 10) /* 256 KiB, mapped aligned to its size */
#define PT_POOL_SIZE     4096u        /* one size class per pool */
#define PT_MIN_BLOCK     16           /* smallest block: requests of 0..16 */
#define PT_NCLASSES_MAX  64           /* 63 classes with ALIGN=8, 32 with 16 */

/*
 * Configuration, fixed at the first allocation.  align is 8 (classes 16,
 * 24, 32, ... 512, 8-byte aligned) or 16 (16, 32, 48, ... 512: every block
 * 16-aligned).  Any other value means 16.  tcache: see below; up to 255.
 */
struct pt_config {
	unsigned align;
	unsigned tcache;   /* blocks per size class in each thread's cache of
	                      freed blocks: 0 means the default (16),
	                      PT_TCACHE_NONE no cache (frees go straight to pools) */
	/* Called when a free of a block that is free already is ignored (p,
	 * the block's size); NULL: nothing is said.  It must not allocate.
	 * (The preload prints one line.) */
	void (*double_free)(void *p, size_t size);
	/* Nonzero: back the arenas with one shared memory file and mesh pools
	 * (merge two pools of a class whose live blocks do not overlap onto
	 * one physical page; see pt_mesh()). */
	unsigned mesh;
};

#define PT_TCACHE_DEFAULT 16
#define PT_TCACHE_NONE    0xffffu

/*
 * Set the configuration, applied at the first use (the allocator
 * initialises itself lazily; an embedder whose first allocation may come
 * early, as the preload's from the dynamic loader, configures before it).
 * Returns 0, or EBUSY if the allocator is already in use; then nothing
 * changes.
 */
int pt_configure(const struct pt_config *cfg);

/*
 * Initialise now if the first use has not (the configuration is then
 * fixed, and so is where the allocator's address range lies: an embedder
 * that keys tables by it calls this before it fills them).
 */
void pt_init(void);

/*
 * Allocate n <= PT_SMALL_MAX bytes from a pool.  Returns NULL with
 * errno = ENOMEM if n is too large, if the OS refuses memory, or if the
 * calling thread has already been torn down (its thread-exit destructor ran).
 */
void *pt_alloc(size_t n);

/*
 * Allocate n bytes aligned to align (a power of two) from a pool.  Blocks of a
 * class whose size is a multiple of align are align-aligned, because pools are
 * page-aligned.  Returns NULL with errno = ENOMEM when no pool class fits
 * (rounded size > PT_SMALL_MAX, align > PT_SMALL_MAX) or memory is short.
 */
void *pt_alloc_aligned(size_t align, size_t n);

/*
 * True if p points into an arena of ours (any thread, O(1), reads only our
 * own ownership map).  Never true for NULL.
 */
bool pt_owns(const void *p);

/*
 * Free a block that pt_owns().  Local frees are plain list pushes; frees
 * from another thread are lock-free.  Preserves errno.  A block found free
 * already (a double free; the test is cheap and partial: see the design
 * notes) is left alone, and the configured double_free callback is called.
 */
void pt_free(void *p);

/* Usable size of a block that pt_owns(): its class size. */
size_t pt_block_size(const void *p);

/* Class index and size for a request of n <= PT_SMALL_MAX bytes. */
unsigned pt_size_class(size_t n);
size_t pt_class_size(unsigned cls);

/* Number of size classes in the configured mode (33 or 64). */
unsigned pt_nclasses(void);

/* The configured alignment mode, 8 or 16 (initialises if needed). */
unsigned pt_align(void);

/*
 * Return the pages of every free pool to the OS now (MADV_DONTNEED), instead
 * of after the usual delay.  Returns the number of bytes purged.  Takes the
 * allocator lock.
 */
size_t pt_purge(void);

/* Per size class figures of the stats walk. */
struct pt_class_stats {
	uint32_t size;           /* block size of the class */
	uint32_t blocks_per_pool;
	uint64_t pools_used;     /* some blocks in use, some free */
	uint64_t pools_full;     /* every block in use */
	uint64_t pools_empty;    /* held by a thread heap, no block in use */
	uint64_t blocks_used;    /* handed out and not freed (remote frees not yet
	                            collected by the owner count as used) */
	uint64_t blocks_free;    /* free blocks in used pools, carved or not,
	                            and blocks in thread caches */
	uint64_t blocks_cached;  /* of those, blocks in thread caches */
	uint64_t nmalloc;        /* allocations served since start */
	uint64_t req_bytes;      /* bytes requested by those allocations: an
	                            estimate, nmalloc times the mean of the
	                            requests sampled in the malloc slow path */
};

/* The whole-heap figures of the stats walk. */
struct pt_stats {
	unsigned align;
	unsigned nclasses;
	struct pt_class_stats cls[PT_NCLASSES_MAX];
	uint64_t arenas_mapped;      /* currently mapped */
	uint64_t arenas_total;       /* ever mapped */
	uint64_t arenas_released;    /* unmapped again */
	uint64_t arenas_highwater;   /* most mapped at once */
	uint64_t arenas_outside;     /* mapped now outside the region (radix map) */
	uint64_t pools_in_use;       /* used + full */
	uint64_t pools_empty_heap;   /* empty, held by thread heaps */
	uint64_t pools_free_dirty;   /* returned to their arena, still resident */
	uint64_t pools_free_purged;  /* returned and released with MADV_DONTNEED */
	uint64_t pools_untouched;    /* never carved from their arena */
	uint64_t purges;             /* MADV_DONTNEED calls made */
	uint64_t bytes_in_blocks;    /* blocks in use * class size */
	uint64_t bytes_free_blocks;  /* free blocks in used/full pools * size */
	uint64_t bytes_rounding_est; /* estimated rounding loss of live blocks:
	                                blocks_used * (size - mean request) */
	uint64_t bytes_pool_tail;    /* unusable tail of pools in use */
	uint64_t bytes_headers;      /* arena header pages */
	uint64_t nmalloc;            /* all pool allocations since start */
	uint64_t heaps;              /* thread heaps created */
	uint64_t heaps_abandoned;    /* heaps of exited threads not yet adopted */
	uint64_t heaps_orphaned;     /* heaps of other threads inherited by fork */
};

/* What meshing has done (pt_mesh_stats). */
struct pt_mesh_stats {
	int on;                  /* the arenas are backed by the memory file */
	int error;               /* meshing was asked for but the file could not
	                            be made: why (an errno), else 0 */
	uint64_t meshed_now;     /* pools whose page is another pool's now (0
	                            once the arenas are private: a fork child) */
	uint64_t meshes;         /* pools meshed since start */
	uint64_t unmeshes;       /* meshed pools given back since */
	uint64_t rounds;         /* rounds run */
	uint64_t failed;         /* protections or remaps the kernel refused */
	uint64_t remaps;         /* mmap calls the meshes took (a run of
	                            adjacent pairs takes one) */
	uint64_t budget;         /* most pools meshed at once (vm.max_map_count / 3) */
};

void pt_mesh_stats(struct pt_mesh_stats *st);

/*
 * Mesh the calling thread's pools now, every pair found (malloc_trim's
 * work).  Returns the number of pools meshed.
 */
size_t pt_mesh(void);

/*
 * Meshing's write barrier: the embedder's SIGSEGV handler calls this with
 * the fault's address and si_code.  1: the fault was a write into a page
 * meshing or fork protects for a moment (or a fork child's first write to
 * the heap it still shares); it is over now, and the handler returns so
 * that the write is made again.  0: not ours, for the program's handler.
 * Async-signal-safe.  An embedder that configures mesh must route SIGSEGV
 * here (the preload does, preload/faults.c).
 */
int pt_mesh_fault(void *addr, int code);

/* Tests: at most n pools meshed at once. */
void pt_test_mesh_budget(uint64_t n);

/*
 * Walk every arena and fill *st.  Takes the allocator lock; figures of pools
 * that other threads are using at the same moment are approximate.
 */
void pt_stats_get(struct pt_stats *st);

/* One arena, as seen by pt_arena_walk(). */
struct pt_arena_info {
	uintptr_t base;
	unsigned pools_used;       /* used + full */
	unsigned pools_empty;      /* empty in a heap, or free in the arena */
	unsigned pools_untouched;
	uint64_t blocks_used;
	uint64_t bytes_in_blocks;
};

/*
 * Call fn once per mapped arena, under the allocator lock: fn must not
 * allocate from this allocator.  Returns the number of arenas visited.
 */
size_t pt_arena_walk(void (*fn)(const struct pt_arena_info *, void *), void *arg);

/* Both in one walk (fn NULL: pt_stats_get): the arenas fn sees are those
 * *st counts, at the same moment; the walk reads each pool once. */
void pt_stats_walk(struct pt_stats *st, void (*fn)(const struct pt_arena_info *, void *),
                   void *arg);

/*
 * Give the calling thread's heap back (as the thread-exit destructor does).
 * Later allocations by this thread fail with ENOMEM; frees still work.
 */
void pt_thread_exit(void);

/* Return the blocks in the calling thread's cache to their pools. */
void pt_thread_flush(void);

/*
 * The allocator's lock.  While it is held no arena is mapped or unmapped
 * and no heap is created or abandoned, so an embedder can read pool blocks
 * in place (the recorder's exit scan); blocks are still allocated and freed
 * on the fast paths.  pt_arenas_lock returns 1 when it took the lock (to be
 * released with pt_arenas_unlock), 0 when this thread holds it already (a
 * signal handler that interrupted the allocator: no other thread can take
 * it meanwhile; do not release it), -1 when wait is 0 and another thread
 * holds it.
 */
int pt_arenas_lock(int wait);
void pt_arenas_unlock(void);
/* Does this thread hold the allocator's lock (or wait for it)?  A signal
 * handler that interrupted the allocator must not wait for anything the
 * allocator's holder may wait for. */
int pt_arenas_held(void);

/*
 * The pools of the allocator's reserved region that hold blocks, in address
 * order, within [lo, hi) (0, 0: all): fn(pool, block size, arg) for each.
 * Call with the lock held (pt_arenas_lock).  A pool's blocks are at pool +
 * k * size for k = 0, 1, ... while they fit in PT_POOL_SIZE; which of them
 * are in use is the embedder's to know.
 */
void pt_pool_walk(uintptr_t lo, uintptr_t hi,
                  void (*fn)(uintptr_t pool, size_t block_size, void *arg), void *arg);

/* fork() support: call from pthread_atfork prepare/parent/child handlers. */
void pt_fork_prepare(void);
void pt_fork_parent(void);
void pt_fork_child(void);

#ifdef __cplusplus
}
#endif
#endif /* POOLTRACE_POOL_ALLOC_H */
