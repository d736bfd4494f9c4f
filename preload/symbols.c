/*
 * symbols.c - the malloc API of libpooltrace.so.
 *
 * Requests of at most PT_SMALL_MAX bytes (and alignment that a pool class
 * can give) come from the pool allocator; everything else, and every pointer
 * the pools do not own, goes to glibc's __libc_* functions.  If the pools
 * cannot serve a small request (out of memory, or a thread whose exit
 * destructor already ran) glibc serves it instead.  glibc's blocks that a
 * thread frees wait in its cache (bigcache.h), below the recorder's hooks,
 * for the thread's next request of about their size.
 *
 * Nothing here allocates or calls dlsym; the first call may come from the
 * dynamic loader or libc before any constructor ran, and the allocator
 * initialises itself lazily (the first call configures it from the options).
 *
 * With POOLTRACE_DEBUG every call goes to debug.c instead (one predictable
 * branch otherwise: the first call reads the options).  Without it, a free
 * of a pointer inside the pools that is not the start of a block, or of
 * one in the allocator's arenas that no pool holds, or of a block that is
 * free already (the allocator's double-free test), is refused with one
 * line on stderr: passing it on would corrupt a free list or crash glibc.
 */
#include <errno.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "../allocator/fastpath.h"
#include "api.h"
#include "bigcache.h"
#include "common.h"
#include "debug.h"
#include "fmt.h"
#include "faults.h"
#include "libc_sym.h"
#include "options.h"
#include "pooltrace.h"
#include "recorder.h"
#include "unwind.h"



static void configure(void);
static int start_pending(const void *caller, int alloc);

/*
 * Every call of the API starts here: one predictable test when debug mode
 * is off and the recorder, if asked for, has started.  The first call
 * (from the loader or libc, possibly before any constructor ran) finds the
 * options unread: it reads them and configures the allocator before its
 * first use, then debug mode.  With POOLTRACE_PROFILE=1 the calls that
 * follow try to start the recorder (start_pending) until one does.
 * caller: the API function's return address; alloc: an allocation call.
 */
static inline int debug_on(const void *caller, int alloc)
{
	if (PT_LIKELY(pt__dbg_state == PT_DBG_OFF))
		return 0;
	if (PT_UNLIKELY(pt__dbg_state == PT_DBG_UNREAD)) {
		configure();
		(void)pt__dbg_enabled();   /* sets the state */
	}
	if (PT_UNLIKELY(pt__dbg_state == PT_DBG_START))
		return start_pending(caller, alloc);
	return pt__dbg_state >= PT_DBG_ABORT;
}
#define DEBUG_ON() PT_UNLIKELY(debug_on(__builtin_return_address(0), 0))
#define DEBUG_ON_ALLOC() PT_UNLIKELY(debug_on(__builtin_return_address(0), 1))

/* A pointer that free or realloc must not touch: one line, and ignored.
 * The line's write(2) is no cancellation point inside free. */
void pt__refuse(const char *call, void *p, unsigned v)
{
	int cancel;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	if (v)
		pt__dprintf(2, "pooltrace: %s(%p): not the start of a block (it points inside a "
		            "%u-byte block of a pool); ignored\n", call, p,
		            (unsigned)pt__class_size(v - 1));
	else
		pt__dprintf(2, "pooltrace: %s(%p): inside the allocator's arenas but in no "
		            "block; ignored\n", call, p);
	pthread_setcancelstate(cancel, NULL);
}

/* A block that is free already: one line, and the call is ignored. */
static PT_NOINLINE void refuse_double(const char *call, void *p, size_t size)
{
	pt__dprintf(2, "pooltrace: %s(%p): double free (the %u-byte block is already free); "
	            "ignored\n", call, p, (unsigned)size);
}

/* The allocator found a free of a block that is free already. */
static void double_free_line(void *p, size_t size)
{
	refuse_double("free", p, size);
}

/* The allocator's configuration from the options, before its first use
 * (pt_configure answers EBUSY if it is in use already: a racing first
 * call configured it). */
static PT_NOINLINE void configure(void)
{
	pt__options_read();
	struct pt_config cfg = { .align = pt__opt.align, .tcache = 0,
	                         .double_free = double_free_line, .mesh = pt__opt.mesh };
	if (pt__opt.mesh)
		pt__faults_install();   /* meshing's write barrier needs it first */
	pt_configure(&cfg);
}

static PT_NOINLINE void *big_malloc(size_t n)
{
	return pt__big_malloc(n);
}

static PT_NOINLINE void *small_malloc(size_t n)
{
	return pt__small_malloc(n);
}

/* Every way out of the fast path is a tail call: no stack frame. */
static inline void *malloc_impl(size_t n)
{
	if (PT_LIKELY(n <= PT_SMALL_MAX)) {
		void *p = pt__alloc_try(n);
		if (PT_LIKELY(p != NULL))
			return p;
		return small_malloc(n);
	}
	return big_malloc(n);
}

void pt__free_foreign(const char *call, void *p)
{
	int kept = pt__bc_push(p);
	if (PT_LIKELY(kept == 0))
		__libc_free(p);   /* also NULL */
	else if (PT_UNLIKELY(kept < 0))
		refuse_double(call, p, pt__libc_usable_size(p));
}

/* Memory aligned to align (a power of two, or 0), or NULL with errno as
 * glibc sets it; errno is kept on success. */
static void *aligned_impl(size_t align, size_t n)
{
	if (align <= 8 || (align <= 16 && n > PT_SMALL_MAX))
		return malloc_impl(n);   /* glibc's blocks are 16-aligned */
	if (align <= PT_SMALL_MAX && n <= PT_SMALL_MAX) {
		int e = errno;
		void *p = pt_alloc_aligned(align, n);
		if (p)
			return p;
		errno = e;   /* the pools could not: glibc's answer is the answer */
	}
	return __libc_memalign(align, n);
}

/* glibc's aligned_alloc: since glibc 2.38 it refuses alignments that
 * memalign rounds up (NULL, EINVAL); glibc 2.36's is memalign. */
static void *libc_aligned_alloc(size_t align, size_t n)
{
	static struct pt_libc_fn fn = { "aligned_alloc", NULL, 0 };
	void *(*f)(size_t, size_t) = (void *(*)(size_t, size_t))pt__libc_fn(&fn);
	return f ? f(align, n) : __libc_memalign(align, n);
}

/*
 * Debug mode, an alignment that is 0 or not a power of two: does glibc's
 * call (memalign or aligned_alloc) take it?  Asked with a size no
 * allocator can give, so that glibc allocates nothing: it says EINVAL for
 * an alignment it refuses (above SIZE_MAX / 2 + 1 for memalign), ENOMEM
 * otherwise.  Returns the power of two to align to (0: the default), or
 * SIZE_MAX with errno = EINVAL.
 */
static size_t dbg_align(void *(*glibc)(size_t, size_t), size_t align)
{
	if (pt__is_pow2(align))
		return align;
	int e = errno;
	errno = 0;
	void *p = glibc(align, SIZE_MAX);
	int refused = !p && errno == EINVAL;
	if (p)
		__libc_free(p);   /* cannot happen */
	errno = e;
	if (refused) {
		errno = EINVAL;
		return SIZE_MAX;
	}
	size_t a = align;   /* glibc rounds up to a power of two */
	while (a & (a - 1))
		a += a & -a;    /* 0 for an alignment above 2^63 */
	if (align && !a) {
		errno = EINVAL;
		return SIZE_MAX;
	}
	return a;
}

static void *dbg_memalign(void *(*glibc)(size_t, size_t), size_t align, size_t n)
{
	size_t a = dbg_align(glibc, align);
	return a == SIZE_MAX ? NULL : pt__dbg_alloc(a, n, PT_API_ALIGNED, 0);
}

/* malloc with the gate open: debug mode, the first call, or the recorder. */
static PT_NOINLINE void *malloc_hooked(size_t n, const void *caller)
{
	if (PT_UNLIKELY(debug_on(caller, 1)))
		return pt__dbg_alloc(0, n, PT_API_MALLOC, 0);
	void *p = malloc_impl(n);
	pt__rec_alloc(p, n);
	return p;
}

/* Sampling, n <= PT_SMALL_MAX, a block that is not sampled, and the pools'
 * fast path had none: their slow path, charged as the fast path is; glibc's
 * block (the pools have no memory) goes the hooked way. */
static PT_NOINLINE void *sampled_small_malloc(size_t n, const void *caller)
{
	void *p = pt__alloc_slow(n);
	if (PT_LIKELY(p != NULL)) {
		pt__rec_charge(pt__rec_tl->sample_left, n);
		return p;
	}
	return malloc_hooked(n, caller);
}

/*
 * With the gate shut, a pool block is a tail of this function: no frame.
 * Sampling: a pool block that is not sampled is served here as well.
 */
PT_EXPORT void *malloc(size_t n)
{
	unsigned gate = pt__gate_c();
	if (PT_LIKELY(gate == 0))
		return malloc_impl(n);
	int64_t left;
	if (gate == PT_GATE_SAMPLE && n <= PT_SMALL_MAX && pt__rec_unsampled(n, &left)) {
		void *p = pt__alloc_try(n);
		if (PT_LIKELY(p != NULL)) {
			pt__rec_charge(left, n);
			return p;
		}
		return sampled_small_malloc(n, __builtin_return_address(0));
	}
	return malloc_hooked(n, __builtin_return_address(0));
}

static PT_NOINLINE void free_hooked(void *p, const void *caller)
{
	if (PT_UNLIKELY(debug_on(caller, 0))) {
		pt__dbg_free(p, PT_FREE_PLAIN, 0, 0);
		return;
	}
	pt__rec_free(p);   /* first: once freed, p may be handed out again */
	pt__free_impl("free", p);
}

/* Sampling: a pool block whose free is not recorded is freed here. */
PT_EXPORT void free(void *p)
{
	unsigned gate = pt__gate_c();
	if (PT_LIKELY(gate == 0)) {
		pt__free_impl("free", p);
		return;
	}
	if (gate == PT_GATE_SAMPLE) {
		size_t v = pt__class_of((uintptr_t)p);
		if (PT_LIKELY(pt__rec_sampling_free_unsampled(p, v))) {
			pt__pool_free("free", p, v);
			return;
		}
	}
	free_hooked(p, __builtin_return_address(0));
}

void *pt__api_alloc(size_t n, size_t align, unsigned api)
{
	if (PT_UNLIKELY(debug_on(NULL, 1)))
		return pt__dbg_alloc(align, n, api, 0);
	void *p = align ? aligned_impl(align, n) : malloc_impl(n);
	pt__rec_alloc(p, n);
	return p;
}

void pt__api_free(const char *call, void *p, unsigned how, size_t size, size_t align)
{
	if (PT_UNLIKELY(debug_on(NULL, 0))) {
		pt__dbg_free(p, how, size, align);
		return;
	}
	pt__rec_free(p);
	pt__free_impl(call, p);
}

PT_EXPORT void cfree(void *p)
{
	if (DEBUG_ON()) {
		pt__dbg_free(p, PT_FREE_PLAIN, 0, 0);
		return;
	}
	pt__rec_free(p);
	pt__free_impl("free", p);
}

/* C23: the size and alignment are hints we do not need. */
PT_EXPORT void free_sized(void *p, size_t size)
{
	if (DEBUG_ON()) {
		pt__dbg_free(p, PT_FREE_SIZED, size, 0);
		return;
	}
	pt__rec_free(p);
	pt__free_impl("free", p);
}

PT_EXPORT void free_aligned_sized(void *p, size_t align, size_t size)
{
	if (DEBUG_ON()) {
		pt__dbg_free(p, PT_FREE_ALIGNED_SIZED, size, align);
		return;
	}
	pt__rec_free(p);
	pt__free_impl("free", p);
}

static void *calloc_impl(size_t nmemb, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(nmemb, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	if (total <= PT_SMALL_MAX) {
		void *p = pt__alloc_inline(total);
		if (p) {
			memset(p, 0, total);
			return p;
		}
	} else {
		void *p = pt__bc_pop(total);   /* a freed block: old contents */
		if (p) {
			memset(p, 0, total);
			return p;
		}
		return __libc_calloc(1, pt__bc_request(total));
	}
	return __libc_calloc(nmemb, size);
}

PT_EXPORT void *calloc(size_t nmemb, size_t size)
{
	if (DEBUG_ON_ALLOC()) {
		size_t total;
		if (__builtin_mul_overflow(nmemb, size, &total)) {
			errno = ENOMEM;
			return NULL;
		}
		return pt__dbg_alloc(0, total, PT_API_MALLOC, 1);
	}
	void *p = calloc_impl(nmemb, size);
	pt__rec_alloc(p, nmemb * size);
	return p;
}

/* p is not NULL */
static void *realloc_impl(void *p, size_t n)
{
	unsigned v = pt__class_of((uintptr_t)p);
	if (v) {
		unsigned c = v - 1;
		if (PT_UNLIKELY(!pt__block_start((uintptr_t)p, c))) {
			pt__refuse("realloc", p, v);
			errno = EINVAL;
			return NULL;
		}
		if (PT_UNLIKELY(pt__is_free(p, c))) {
			refuse_double("realloc", p, pt__class_size(c));
			errno = EINVAL;
			return NULL;
		}
		if (n == 0) {           /* glibc: realloc(p, 0) frees p */
			pt__free_class(p, c);
			return NULL;
		}
		size_t old = pt__class_size(c);
		if (n <= PT_SMALL_MAX && pt__size2class[n] == c)
			return p;       /* same class: in place */
		void *q = malloc_impl(n);
		if (!q)
			return NULL;    /* p untouched, errno = ENOMEM */
		memcpy(q, p, old < n ? old : n);
		pt__free_class(p, c);
		return q;
	}

	if (PT_UNLIKELY(pt__in_region((uintptr_t)p))) {
		pt__refuse("realloc", p, 0);
		errno = EINVAL;
		return NULL;
	}
	/* a glibc block shrinking into pool range moves to a pool */
	if (n > 0 && n <= PT_SMALL_MAX) {
		void *q = pt__alloc_inline(n);
		if (q) {
			size_t old = pt__libc_usable_size(p);
			memcpy(q, p, old < n ? old : n);
			__libc_free(p);
			return q;
		}
	}
	return __libc_realloc(p, n);
}

PT_EXPORT void *realloc(void *p, size_t n)
{
	if (DEBUG_ON_ALLOC())
		return pt__dbg_realloc(p, n);
	if (!p) {
		void *q = malloc_impl(n);
		pt__rec_alloc(q, n);
		return q;
	}
	if (PT_LIKELY(!pt__rec_on))
		return realloc_impl(p, n);
	struct pt_rec_realloc tok = pt__rec_realloc_before(p);
	void *q = realloc_impl(p, n);
	pt__rec_realloc_after(tok, p, q, n);
	return q;
}

PT_EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(nmemb, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, total);
}

/* As glibc: EINVAL for a bad alignment (errno untouched), ENOMEM with
 * errno ENOMEM when there is no memory, errno kept on success. */
PT_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	if (!pt__is_pow2(align) || align % sizeof(void *))
		return EINVAL;
	void *p = DEBUG_ON_ALLOC() ? pt__dbg_alloc(align, n, PT_API_ALIGNED, 0)
	                           : aligned_impl(align, n);
	if (!p)
		return ENOMEM;   /* errno is ENOMEM too */
	pt__rec_alloc(p, n);
	*out = p;
	return 0;
}

/* An alignment that is not a power of two is glibc's to judge (it rounds
 * it up, or refuses it above SIZE_MAX / 2 + 1); the pools take powers of
 * two only. */
PT_EXPORT void *memalign(size_t align, size_t n)
{
	if (DEBUG_ON_ALLOC())
		return dbg_memalign(__libc_memalign, align, n);
	void *p = pt__is_pow2(align) || align == 0 ? aligned_impl(align, n)
	                                       : __libc_memalign(align, n);
	pt__rec_alloc(p, n);
	return p;
}

/* memalign in glibc 2.36; later glibc refuses more alignments: whatever
 * is not a power of two goes to glibc's own aligned_alloc. */
PT_EXPORT void *aligned_alloc(size_t align, size_t n)
{
	if (DEBUG_ON_ALLOC())
		return dbg_memalign(libc_aligned_alloc, align, n);
	void *p = pt__is_pow2(align) ? aligned_impl(align, n) : libc_aligned_alloc(align, n);
	pt__rec_alloc(p, n);
	return p;
}

PT_EXPORT void *valloc(size_t n)
{
	if (DEBUG_ON_ALLOC())
		return pt__dbg_alloc((size_t)sysconf(_SC_PAGESIZE), n, PT_API_ALIGNED, 0);
	void *p = __libc_valloc(n);
	pt__rec_alloc(p, n);
	return p;
}

PT_EXPORT void *pvalloc(size_t n)
{
	if (DEBUG_ON_ALLOC()) {
		size_t pg = (size_t)sysconf(_SC_PAGESIZE);
		if (n > SIZE_MAX - pg) {
			errno = ENOMEM;
			return NULL;
		}
		return pt__dbg_alloc(pg, n ? (n + pg - 1) & ~(pg - 1) : pg, PT_API_ALIGNED, 0);
	}
	void *p = __libc_pvalloc(n);
	pt__rec_alloc(p, n);
	return p;
}

PT_EXPORT size_t malloc_usable_size(void *p)
{
	if (DEBUG_ON())
		return pt__dbg_usable_size(p);
	unsigned v = pt__class_of((uintptr_t)p);
	if (v)
		return pt__block_start((uintptr_t)p, v - 1) ? pt__class_size(v - 1) : 0;
	if (pt__in_region((uintptr_t)p))
		return 0;
	return pt__libc_usable_size(p);
}

/* POOLTRACE_DEBUG: check the whole heap now (pooltrace.h). */
PT_EXPORT unsigned pt_debug_check(void)
{
	return pt__dbg_check_all("pt_debug_check()", 1);
}

/*
 * malloc_trim: give back what we can (this thread's cache to the pools, then
 * every free pool's pages), then let glibc trim its own heap.  Returns 1 if
 * memory was released, as glibc does.
 */
PT_EXPORT int malloc_trim(size_t pad)
{
	static struct pt_libc_fn trim = { "malloc_trim", NULL, 0 };

	pt_thread_flush();
	int flushed = pt__bc_flush();
	size_t meshed = pt_mesh();   /* nothing unless POOLTRACE_MESH=1 */
	size_t purged = pt_purge();
	int (*f)(size_t) = (int (*)(size_t))pt__libc_fn(&trim);
	int r = f ? f(pad) : 0;
	return r || purged > 0 || meshed > 0 || flushed;
}

/* ---- process life cycle ------------------------------------------------- */

/*
 * The stats go to a private copy of stderr taken at start-up: programs such
 * as coreutils close fd 2 in an atexit handler, before our destructor runs,
 * and another file may have taken fd 2 by then.
 */
static int stats_fd = -1;

/*
 * fork.  glibc's fork runs the prepare handlers, then (when there are
 * threads) takes the stdio list lock, then its malloc locks: a thread in
 * getline holds its FILE's lock and mallocs, and fflush(NULL) holds the
 * list lock and waits for every FILE's, so malloc locks must come after
 * the list lock.  Ours are malloc locks, but our handler runs before glibc
 * takes the list lock; so it takes the list lock first itself (a recursive
 * lock: glibc's own lock then nests; the parent releases it once more, and
 * in the child glibc has reset it).  Then debug mode's locks, the
 * recorder's, the allocator's, innermost last.
 *
 * Single-threaded (glibc exports __libc_single_threaded): no other thread
 * can hold any of these locks, and glibc takes none of its own, so that
 * fork works from a signal handler that interrupted malloc: take none.  The
 * same for the locks of a part this thread's handler interrupted (the
 * recorder or the checker: their guard pt__inside; the allocator: its own
 * mark): waiting for them would wait for ourselves; and, when it
 * interrupted the allocator under its lock, for all of ours, which nest
 * outside that one (the recorder's thread holds its own while it waits for
 * the allocator's).  The child handlers re-initialise what they must
 * (pt_fork_child, the recorder and debug mode: theirs).
 */
extern void _IO_list_lock(void) __attribute__((weak));
extern void _IO_list_unlock(void) __attribute__((weak));

enum { FORK_LIST = 1, FORK_DBG = 2, FORK_REC = 4 };
static __thread uint8_t fork_took;   /* what this thread's prepare took */

static void fork_prepare(void)
{
	pt__faults_fork_prepare();
	fork_took = 0;
	if (pt__single_threaded()) {
		pt_fork_prepare();   /* takes nothing either: keeps its flag right */
		return;
	}
	if (_IO_list_lock && _IO_list_unlock) {
		_IO_list_lock();
		fork_took |= FORK_LIST;
	}
	/* not inside the recorder or the checker, nor under the allocator's lock */
	if (!pt__inside && !pt_arenas_held()) {
		pt__dbg_fork_prepare();
		pt__rec_fork_prepare();
		fork_took |= FORK_DBG | FORK_REC;
	}
	pt_fork_prepare();
}

static void fork_parent(void)
{
	pt__faults_fork_parent();
	pt_fork_parent();
	if (fork_took & FORK_REC)
		pt__rec_fork_parent();
	if (fork_took & FORK_DBG)
		pt__dbg_fork_parent();
	if (fork_took & FORK_LIST)
		_IO_list_unlock();
	fork_took = 0;
}

static void fork_child(void)
{
	pt_fork_child();
	pt__faults_fork_child();
	pt__bc_fork_child();
	pt__rec_fork_child();
	pt__dbg_fork_child();
	fork_took = 0;   /* the list lock: glibc reset it (it had threads) */
}

/* The fork handlers, registered once: by the recorder's start if it comes
 * first (a library's constructor may fork after it), else the constructor. */
static void atfork_once(void)
{
	static int done;
	if (!__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
		pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/*
 * The recorder's start: the fork handlers, the private libunwind (dlopen),
 * then the recorder itself; the allocations of all three are served and
 * not recorded (pt__inside).  One thread starts it; 0 if another has
 * claimed the start (it may still be under way).  The API then takes its
 * fast path again.
 */
static int start_recorder(void)
{
	static int claimed;
	if (__atomic_exchange_n(&claimed, 1, __ATOMIC_ACQ_REL))
		return 0;
	pt__inside++;
	atfork_once();
	pt__unwind_load();   /* the stacks */
	pt__inside--;
	pt__rec_init();
	pt__dbg_set_state(PT_DBG_OFF);
	return 1;
}

/* The dynamic linker's text (its executable PT_LOAD), read from its ELF
 * header in memory: dl_iterate_phdr would take the loader's lock. */
static int in_loader(uintptr_t a)
{
	static uintptr_t lo, hi;
	static int known;
	if (!__atomic_load_n(&known, __ATOMIC_ACQUIRE)) {
		uintptr_t base = (uintptr_t)getauxval(AT_BASE);
		const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)base;
		if (base && memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0) {
			const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(base + eh->e_phoff);
			for (unsigned i = 0; i < eh->e_phnum; i++)
				if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X)) {
					lo = base + ph[i].p_vaddr;
					hi = lo + ph[i].p_memsz;
				}
		}
		__atomic_store_n(&known, 1, __ATOMIC_RELEASE);
	}
	return a - lo < hi - lo;
}

/*
 * POOLTRACE_PROFILE=1 and the recorder has not started: the first call
 * that may start it does (heaptrack starts at its first malloc too), so
 * that what other libraries' constructors allocate before ours runs
 * (libstdc++'s emergency pool, C++ static initialisers) is recorded with
 * its stack.  A call may not start it
 *  - before libc is initialised (environ is set by then; an executable's
 *    .preinit_array runs before): dlopen and pthread_atfork are not ready;
 *  - from the dynamic linker itself (inside dlopen, a TLS block): the
 *    start dlopens libunwind, which must not run in the middle of the
 *    loader's own work;
 *  - while another thread starts it (waiting could wait for a loader lock
 *    this thread holds).
 * Such allocation calls are counted (pt__rec_unrecorded; the trace's
 * header says how many).  The constructor starts it at the latest.
 * Returns 0: debug mode is off.
 */
static PT_NOINLINE int start_pending(const void *caller, int alloc)
{
	extern char **environ;
	if (pt__inside)
		return 0;   /* the start's own allocations, or the recorder's */
	if (!environ || in_loader((uintptr_t)caller) || !start_recorder()) {
		if (alloc)
			__atomic_fetch_add(&pt__rec_unrecorded, 1, __ATOMIC_RELAXED);
	}
	return 0;
}

/*
 * Runs after libc is initialised (the allocator may already have been used
 * by then, and the recorder started).  pthread_atfork may allocate, which
 * is fine: the allocator is initialised first.
 */
__attribute__((constructor)) static void pooltrace_init(void)
{
	configure();
	(void)pt_align();   /* initialise */
	pt__faults_resolve();
	atfork_once();
	if (pt__opt.mesh) {
		struct pt_mesh_stats ms;
		pt_mesh_stats(&ms);
		if (!ms.on)
			pt__dprintf(2, "pooltrace: warning: POOLTRACE_MESH=1: the heap's memory "
			            "file could not be made (errno %d); meshing is off\n", ms.error);
	}
	if (pt__opt.stats)
		stats_fd = fcntl(2, F_DUPFD_CLOEXEC, 64);
	if (pt__dbg_enabled() && pt__opt.profile) {
		pt__dprintf(2, "pooltrace: warning: POOLTRACE_PROFILE is off with POOLTRACE_DEBUG "
		            "(the debug blocks are not what a trace describes)\n");
		pt__opt.profile = 0;
	}
	if (pt__dbg_enabled())
		pt__unwind_load();   /* the stacks: a private libunwind */
	else
		pt__bc_init(pt__opt.bigcache);
	if (pt__dbg_state == PT_DBG_START)
		start_recorder();
	pt__rec_main_thread();
}

__attribute__((destructor, noinline)) static void pooltrace_fini(void)
{
	struct pt_exit_context ctx;
	PT_EXIT_CONTEXT(&ctx);
	pt__dbg_check_all("the check at exit", 0);
	pt__bc_exit();   /* the cached blocks are glibc's free ones again */
	pt__rec_fini(&ctx);
	if (pt__opt.stats) {
		pt_thread_flush();   /* pools, not this thread's cache, hold the free blocks */
		pt_stats_print(stats_fd >= 0 ? stats_fd : 2);
	}
}
