/*
 * recorder.c - POOLTRACE_PROFILE=1: every allocation and free, with its
 * call stack, streamed to a trace file (format: trace_format.h).
 *
 * Inside the host program, so:
 *  - a thread-local guard: allocations made while recording (libunwind's,
 *    glibc's inside dl_iterate_phdr or pthread_create) are served but never
 *    recorded, and never recurse into the recorder;
 *  - the recorder's memory comes from mmap, never from the host's heap;
 *  - no global lock per event: each thread appends to its own buffer under
 *    its own (uncontended) lock, which the snapshot thread and signal
 *    handlers take to flush it; a process-wide counter numbers the events;
 *  - failure never harms the host: one warning line, then no profiling.
 *
 * Locks, in the order they nest: rec_fork (held across fork), a thread
 * buffer's lock, R.intern / R.sampled_lock, R.file, then R.mod_lock /
 * R.info_lock and the allocator's lock (pt_stats_get inside snapshots).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/membarrier.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>
#define ZSTD_STATIC_LINKING_ONLY   /* ZSTD_initStaticCCtx: no malloc inside */
#include <zstd.h>

#include "../allocator/fastpath.h"
#include "fmt.h"
#include "heapscan.h"
#include "libc_sym.h"
#include "options.h"
#include "recorder.h"
#include "trace_format.h"

#define BUF_SIZE      (64u << 10)       /* a thread's event buffer */
#define REC_MAX       64                /* bytes an event record may take */
#define STACK_MAX     PT_TRACE_MAX_STACKS   /* at most this many distinct stacks */
#define STORE_SIZE    (1ull << 30)      /* reserved for stack frames */
#define MOD_MAX_X     4096              /* executable segments remembered */
#define PEAK_STEP_MIN (1ull << 20)      /* a new peak snapshot: +1 MiB ... */
#define PEAK_STEP_DIV 16                /* ... and +1/16 of the last peak */
#define LIVE_BATCH    (256 << 10)       /* live bytes a thread holds back */
#define FULL_EVERY    10                /* snapshots: one in this many walks the pools */
#define ICACHE_SIZE   2048              /* a thread's cache of infos */
#define INFO_MAX      (1u << 21)        /* at most this many distinct infos */
#define HINDEX_MIN    4096              /* an interning index's first size */
#define ZSTD_LEVEL    5
#define ZBUF_IN_MAX   (1u << 20)        /* bigger chunks are written raw */
#define ZSTD_FRAME    (64u << 20)       /* raw bytes per zstd frame */

volatile int pt__rec_on;
uint8_t *pt__rec_sfilter;
__thread struct pt_rec_hot *pt__rec_tl __attribute__((tls_model("initial-exec")));
__thread int pt__rec_guard __attribute__((tls_model("initial-exec")));

/*
 * A thread's buffer; never freed, reused once its thread is gone.
 *
 * Only its thread appends, inside own_begin()/own_end(), which cost two
 * plain stores and a load: no atomic read-modify-write, no fence (a locked
 * instruction per event cost more than the rest of the recording on
 * memory-bound hosts).  Another thread that wants to flush it (the
 * snapshot thread, for a thread that sleeps; a fatal signal handler) sets
 * req = R_STEAL, makes every thread execute a memory barrier with
 * membarrier(2), and then finds busy clear (the owner is outside and will
 * wait at its next own_begin until req is cleared) or set (it backs off).
 * Without membarrier it asks the owner to flush at its next event instead.
 */
struct rec_thread {
	struct pt_rec_hot hot;     /* first: pt__rec_tl points here; a line of
	                              its own, which only the owner writes */
	atomic_int busy __attribute__((aligned(64)));   /* the owner is appending */
	atomic_int req;            /* R_NONE, R_STEAL, R_FLUSH */
	int state;                 /* T_LIVE, T_DYING (destructor ran), T_FREE */
	uint32_t stream, tid;
	uint64_t first_seq, last_seq;
	int chunk_events;          /* events in the current chunk (0: none yet,
	                              though stack records may precede them) */
	uintptr_t last_ptr;        /* the block of the last allocation recorded */
	uintptr_t stack_hint;      /* an address in the thread's stack, and */
	uintptr_t tp;              /* its thread pointer, at the top of a
	                              glibc thread stack: the exit scan reads
	                              that mapping up to there as a root */
	uint32_t last_info;        /* ... and its info, for temporary frees */
	uint32_t len;
	uint32_t nflush;           /* chunks written (by anyone) */
	uint32_t seen_len, seen_nflush;   /* the snapshot thread's last look */
	/* counters, written by the owner in the slow path, read by snapshots.
	 * Every call when every event is recorded; with sampling only calls
	 * served by glibc (the allocator counts the pool's), and the bytes the
	 * countdown consumed: bytes_alloc + interval - hot.sample_left */
	uint64_t n_malloc, n_free, bytes_alloc, n_pool, bytes_pool;
	int64_t interval;          /* the countdown's last start */
	int64_t live_delta;        /* block bytes not yet folded into R.live */
	uint64_t rng;
	struct rec_thread *next;
	struct {                   /* recent infos: (size, stack << 1 | glibc) -> id */
		uint64_t size;
		uint32_t key, id;
	} icache[ICACHE_SIZE];
	/* two buffers: the thread fills one while the snapshot thread
	 * compresses and writes the other, on another core if there is one */
	uint8_t *buf;              /* space[cur], being filled */
	unsigned cur;
	struct {
		atomic_int ready;  /* full, waiting for the snapshot thread */
		uint32_t len;
		uint64_t first_seq;
	} hand[2];
	uint8_t space[2][BUF_SIZE];
};
enum { T_LIVE, T_DYING, T_FREE };
enum { R_NONE, R_STEAL, R_FLUSH };

/*
 * The index of an interning table: slots of (hash high 32 | id), probed
 * from the hash's low bits without a lock; inserts under the table's lock.
 * It starts small and doubles at half full into a new index (the old one
 * stays mapped: a reader still probing it sees a subset of the entries
 * and, on a miss, looks again under the lock), so that its pages are as
 * dense as its entries; a sparse reservation touched a page per entry
 * (60 MB for Python's 8000 infos and 6000 stacks).
 */
struct hindex {
	size_t mask, n;
	_Atomic uint64_t slot[];
};

struct info_entry {
	uint64_t size;
	uint32_t stack, kind;      /* kind: 0 a pool block, 1 glibc's */
};

struct stack_entry {           /* in the store, 8-byte aligned */
	uint32_t nframes, epoch;
	uint32_t gen, pad;
	uintptr_t ip[];
};

static struct {
	int created;               /* the file exists (path is absolute then) */
	int file_failed;
	pthread_mutex_t file;      /* file creation and stream 0 */
	char path[1100];
	pid_t pid;
	int forked;
	uint64_t t0_mono, t0_real;
	unsigned depth;
	uint64_t sample;           /* 0: every event */

	_Atomic uint64_t seq;
	atomic_uint next_stream;
	pthread_mutex_t threads_lock;
	struct rec_thread *threads;
	pthread_key_t key;
	int key_ok;

	/* interning */
	pthread_mutex_t intern;
	struct hindex *_Atomic slots;
	uint64_t *offs;            /* id -> byte offset in store */
	uint8_t *store;
	size_t store_used;
	atomic_uint nstacks;       /* ids 1..nstacks-1 are used; 0 = no stack */
	atomic_uint epoch;         /* bumped when a module was unloaded */

	/* modules */
	pthread_mutex_t mod_lock;
	uint64_t mod_adds, mod_subs;
	atomic_uint mod_gen;
	unsigned nx;
	uintptr_t x_lo[MOD_MAX_X], x_hi[MOD_MAX_X];
	uintptr_t self_lo, self_hi;   /* our own text: frames dropped */

	/* the live blocks recorded, each with its info (every block when
	 * every event is recorded; the sampled ones otherwise): a word per 8
	 * bytes of the allocator's region, a hash table for other blocks */
	uint32_t *shadow;
	pthread_mutex_t sampled_lock;   /* the table and the sampling filter */
	uintptr_t *hkey;           /* open addressing, 0 = empty */
	uint32_t *hval;
	size_t hcap, hn;

	/* infos: (requested size, stack, pool or glibc), interned; new ones
	 * are defined on stream 0 before any chunk that can use them */
	pthread_mutex_t info_lock;
	struct hindex *_Atomic islots;
	struct info_entry *infos;  /* by id; 0 is "unknown" */
	uint32_t ninfo;
	uint8_t *idef;             /* INFO records not yet written */
	size_t idef_len, idef_cap;

	/* live heap and its peak (block bytes) */
	_Atomic int64_t live;
	int64_t peak_mark;
	atomic_int peak_busy;
	atomic_int peak_pending;   /* the snapshot thread takes a PEAK snapshot */

	/* snapshots */
	pthread_t bg;
	int bg_started;
	atomic_int bg_stop;
	uint8_t *scratch;
	size_t scratch_cap;
	unsigned nperiodic;

	/* compression of chunks, under R.file */
	ZSTD_CCtx *zc;
	uint8_t *zbuf;
	size_t zcap;
	uint64_t zframe;           /* raw bytes in the current frame; 0: new */

	struct sigaction old_sa[32];
} R = {
	.file = PTHREAD_MUTEX_INITIALIZER,
	.threads_lock = PTHREAD_MUTEX_INITIALIZER,
	.intern = PTHREAD_MUTEX_INITIALIZER,
	.mod_lock = PTHREAD_MUTEX_INITIALIZER,
	.sampled_lock = PTHREAD_MUTEX_INITIALIZER,
	.info_lock = PTHREAD_MUTEX_INITIALIZER,
	.next_stream = 1,   /* 0 is the shared stream */
};

static __thread struct rec_thread *tl_rec __attribute__((tls_model("initial-exec")));

static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGABRT };

/* ---- small helpers ------------------------------------------------------- */

static void *rmap(size_t n, int noreserve)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | (noreserve ? MAP_NORESERVE : 0), -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}


static const char *errname(int e)
{
	switch (e) {
	case ENOSPC: return "no space left on device";
	case EDQUOT: return "disk quota exceeded";
	case EACCES: return "permission denied";
	case EPERM: return "operation not permitted";
	case ENOENT: return "no such directory";
	case ENOTDIR: return "a path component is not a directory";
	case EEXIST: return "file exists";
	case ELOOP: return "is a symbolic link";
	case EMFILE: return "too many open files";
	case ENFILE: return "too many open files in system";
	case EROFS: return "read-only file system";
	case EFBIG: return "file too large";
	case EIO: return "input/output error";
	case ENAMETOOLONG: return "file name too long";
	case EISDIR: return "is a directory";
	default: return "error";
	}
}

/* Stop profiling for good, with one warning line. */
static void rec_fail(const char *what, int e)
{
	int was = pt__rec_on;
	pt__rec_on = 0;
	if (was || !R.file_failed)
		pt__dprintf(2, "pooltrace: warning: %s %s: %s (errno %d); profiling stopped, "
		            "the program runs on\n", what, R.path[0] ? R.path : "trace file",
		            errname(e), e);
	R.file_failed = 1;
}

/* ---- the file ------------------------------------------------------------ */

/* Expand POOLTRACE_OUTPUT: %p pid, %e program name, %t start time (s), %%. */
static void expand_path(char *out, size_t cap, const char *pat)
{
	extern char *program_invocation_short_name;
	size_t o = 0;
	for (const char *s = pat; *s && o + 1 < cap; s++) {
		char tmp[64];
		const char *ins = NULL;
		if (*s == '%' && s[1]) {
			s++;
			if (*s == 'p')
				pt__fmt(tmp, sizeof tmp, "%d", (int)getpid()), ins = tmp;
			else if (*s == 'e')
				ins = program_invocation_short_name && *program_invocation_short_name
				      ? program_invocation_short_name : "unknown";
			else if (*s == 't')
				pt__fmt(tmp, sizeof tmp, "%llu",
				        (unsigned long long)(R.t0_real / 1000000000u)), ins = tmp;
			else if (*s == '%')
				ins = "%";
			else {
				tmp[0] = '%', tmp[1] = *s, tmp[2] = 0;
				ins = tmp;
			}
			for (; *ins && o + 1 < cap; ins++)
				out[o++] = *ins == '/' && s[0] == 'e' ? '_' : *ins;
			continue;
		}
		out[o++] = *s;
	}
	out[o] = 0;
}

static int write_full(int fd, const struct iovec *iov, int n, size_t total)
{
	ssize_t w;
	do
		w = writev(fd, iov, n);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return errno;
	return (size_t)w == total ? 0 : ENOSPC;
}

static void write_modules_locked(void);

/* Create the file and write its header; R.file held.  0 or an errno. */
static int file_create_locked(void)
{
	char base[sizeof R.path - 8];
	expand_path(base, sizeof base, pt__opt.output);
	int fd = -1;
	for (int i = 0; i < 100; i++) {
		if (i == 0)
			pt__fmt(R.path, sizeof R.path, "%s", base);
		else
			pt__fmt(R.path, sizeof R.path, "%s.%d", base, i);
		fd = open(R.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND | O_CLOEXEC,
		          0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		return errno;
	/* the file is reopened for each write (no descriptor of ours stays
	 * open in the host, whose children may count theirs), so its path
	 * must not depend on the current directory, which the host may change */
	if (R.path[0] != '/') {
		char abs[sizeof R.path];
		if (getcwd(abs, sizeof abs) &&
		    pt__fmt(abs + strlen(abs), sizeof abs - strlen(abs), "/%s", R.path) <
		    sizeof abs - strlen(abs))
			memcpy(R.path, abs, strlen(abs) + 1);
	}

	struct pt_trace_header h;
	memset(&h, 0, sizeof h);
	memcpy(h.magic, PT_TRACE_MAGIC, 8);
	h.version = PT_TRACE_VERSION;
	h.pid = (uint32_t)getpid();
	h.ppid = (uint32_t)getppid();
	h.start_realtime_ns = R.t0_real;
	h.start_monotonic_ns = R.t0_mono;
	h.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	h.flags = R.forked ? PT_TRACE_F_FORKED : 0;
	h.sample_bytes = R.sample;
	h.depth = R.depth;
	h.interval_ms = pt__opt.interval_ms;
	h.align = pt_align();
	h.arena_size = PT_ARENA_SIZE;
	h.pool_size = PT_POOL_SIZE;
	h.small_max = PT_SMALL_MAX;
	h.nclasses = pt_nclasses();
	for (unsigned c = 0; c < h.nclasses && c < PT_TRACE_MAX_CLASSES; c++)
		h.class_size[c] = (uint32_t)pt_class_size(c);

	static char exe[4096];
	ssize_t el = readlink("/proc/self/exe", exe, sizeof exe);
	h.exe_len = el > 0 ? (uint32_t)el : 0;
	/* argv from /proc/self/cmdline: NUL after each argument */
	static char args[8192];
	ssize_t al = 0;
	int cfd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (cfd >= 0) {
		ssize_t r;
		while (al < (ssize_t)sizeof args &&
		       (r = read(cfd, args + al, sizeof args - (size_t)al)) > 0)
			al += r;
		close(cfd);
		while (al > 0 && args[al - 1] != 0)   /* cut at an argument's end */
			al--;
	}
	h.args_len = (uint32_t)al;
	h.header_size = (uint32_t)(sizeof h + h.exe_len + h.args_len);

	struct iovec iov[3] = {
		{ &h, sizeof h }, { exe, h.exe_len }, { args, h.args_len },
	};
	int e = write_full(fd, iov, 3, h.header_size);
	close(fd);
	if (e)
		return e;
	R.created = 1;
	write_modules_locked();
	return 0;
}

/* Append one chunk to the file, which exists; R.file held.  Returns 0, or
 * -1 after rec_fail. */
static int chunk_write_raw_locked(uint32_t stream, uint32_t tid, uint64_t first_seq,
                                  const uint8_t *data, uint32_t len)
{
	if (R.file_failed)
		return -1;
	struct pt_chunk_header c = {
		.magic = PT_CHUNK_MAGIC, .stream = stream, .tid = tid, .stored = len,
		.raw = len, .first_seq = first_seq,
	};
	if (R.zc && len <= ZBUF_IN_MAX) {
		/* continue the frame (the reader has all chunks before this one),
		 * ending the payload at a flush point */
		if (R.zframe == 0 || R.zframe > ZSTD_FRAME) {
			ZSTD_CCtx_reset(R.zc, ZSTD_reset_session_only);
			ZSTD_CCtx_setParameter(R.zc, ZSTD_c_compressionLevel, ZSTD_LEVEL);
			c.flags = PT_CHUNK_F_ZSTD_NEW;
			R.zframe = 0;
		}
		ZSTD_inBuffer in = { data, len, 0 };
		ZSTD_outBuffer out = { R.zbuf, R.zcap, 0 };
		size_t r;
		do
			r = ZSTD_compressStream2(R.zc, &out, &in, ZSTD_e_flush);
		while (!ZSTD_isError(r) && r != 0 && out.pos < out.size);
		if (ZSTD_isError(r) || r != 0) {   /* cannot happen: zcap is the bound */
			R.zframe = 0;
			c.flags = 0;
		} else {
			data = R.zbuf;
			c.stored = (uint32_t)out.pos;
			c.flags |= PT_CHUNK_F_ZSTD;
			R.zframe += len;
		}
	}
	c.sum = pt_trace_sum(data, c.stored);
	c.hsum = pt_trace_sum(&c, offsetof(struct pt_chunk_header, hsum));
	len = c.stored;
	struct iovec iov[2] = { { &c, sizeof c }, { (void *)data, len } };
	int e, fd = open(R.path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rec_fail("cannot open trace file", errno);
		return -1;
	}
	e = write_full(fd, iov, 2, sizeof c + len);
	close(fd);
	if (e) {
		rec_fail("cannot write trace file", e);
		return -1;
	}
	return 0;
}

static pid_t gettid_(void);

/*
 * Append one chunk, creating the file first if need be, after the INFO
 * records of infos created since the last chunk (the chunk may use them);
 * R.file held.  0, or -1 after rec_fail.
 */
static int chunk_write_locked(uint32_t stream, uint32_t tid, uint64_t first_seq,
                              const uint8_t *data, uint32_t len)
{
	if (R.file_failed)
		return -1;
	if (!R.created) {   /* first: creation writes a chunk of its own */
		int e = file_create_locked();
		if (e) {
			rec_fail("cannot create trace file", e);
			return -1;
		}
	}
	if (__atomic_load_n(&R.idef_len, __ATOMIC_RELAXED)) {
		pthread_mutex_lock(&R.info_lock);
		int r = 0;
		if (R.idef_len) {
			/* first_seq: the counter now, not 0, which would make
			 * a reader load every chunk before this one at once */
			r = chunk_write_raw_locked(0, (uint32_t)gettid_(),
			                           atomic_load_explicit(&R.seq, memory_order_relaxed),
			                           R.idef,
			                           (uint32_t)R.idef_len);
			R.idef_len = 0;
		}
		pthread_mutex_unlock(&R.info_lock);
		if (r)
			return r;
	}
	return chunk_write_raw_locked(stream, tid, first_seq, data, len);
}

/* Write t's handed-over buffer b if it still waits for the snapshot
 * thread; R.file held (whoever writes it checks under the lock). */
static void hand_write_locked(struct rec_thread *t, unsigned b)
{
	if (!atomic_load_explicit(&t->hand[b].ready, memory_order_acquire))
		return;
	chunk_write_locked(t->stream, t->tid, t->hand[b].first_seq, t->space[b], t->hand[b].len);
	__atomic_fetch_add(&t->nflush, 1, __ATOMIC_RELAXED);
	atomic_store_explicit(&t->hand[b].ready, 0, memory_order_release);
}

/*
 * Flush a thread's buffer; its lock held.  blocking: may wait for R.file.
 * A buffer it handed over and that is still waiting goes first: a
 * stream's chunks reach the file in order.
 */
static void buf_flush(struct rec_thread *t, int blocking)
{
	if (t->len == 0)
		return;
	if (blocking)
		pthread_mutex_lock(&R.file);
	else if (pthread_mutex_trylock(&R.file))
		return;
	hand_write_locked(t, t->cur ^ 1);
	chunk_write_locked(t->stream, t->tid, t->first_seq, t->buf, t->len);
	pthread_mutex_unlock(&R.file);
	__atomic_fetch_add(&t->nflush, 1, __ATOMIC_RELAXED);
	t->len = 0;
	t->chunk_events = 0;
}

/* ---- threads ------------------------------------------------------------- */

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void thread_done(void *arg);
static int64_t sample_interval(struct rec_thread *t);

static struct rec_thread *thread_get(void)
{
	struct rec_thread *t = tl_rec;
	if (__builtin_expect(t != NULL, 1))
		return t;

	pthread_mutex_lock(&R.threads_lock);
	for (t = R.threads; t; t = t->next)
		if (t->state == T_FREE)
			break;
	if (!t) {
		t = rmap(sizeof *t, 0);
		if (!t) {
			pthread_mutex_unlock(&R.threads_lock);
			return NULL;
		}
		t->next = R.threads;
		R.threads = t;
	}
	atomic_store(&t->busy, 0);
	atomic_store(&t->req, R_NONE);
	t->cur = 0;
	t->buf = t->space[0];
	t->state = T_LIVE;
	t->stream = atomic_fetch_add(&R.next_stream, 1);
	t->tid = (uint32_t)gettid_();
	t->len = 0;
	t->chunk_events = 0;
	t->last_ptr = 0;
	t->stack_hint = (uintptr_t)__builtin_frame_address(0);
	t->tp = (uintptr_t)pthread_self();
	t->live_delta = 0;   /* the counters go on: snapshots sum every buffer */
	t->rng = (now_ns(CLOCK_MONOTONIC) ^ ((uint64_t)t->tid << 32)) | 1;
	t->interval = R.sample ? sample_interval(t) : 0;
	t->hot.sample_left = t->interval;
	pthread_mutex_unlock(&R.threads_lock);
	tl_rec = t;
	pt__rec_tl = &t->hot;
	if (R.key_ok)
		pthread_setspecific(R.key, t);   /* no allocation: key < 32 */
	return t;
}

/* ---- the owner's side of a buffer ---------------------------------------- */

static void buf_flush(struct rec_thread *t, int blocking);

static void own_wait(struct rec_thread *t)
{
	for (;;) {
		int r = atomic_load_explicit(&t->req, memory_order_acquire);
		if (r == R_NONE)
			return;
		if (r == R_FLUSH) {
			buf_flush(t, 1);
			atomic_store_explicit(&t->req, R_NONE, memory_order_relaxed);
			return;
		}
		/* being flushed by another thread: step out, wait, step in */
		atomic_store_explicit(&t->busy, 0, memory_order_release);
		while (atomic_load_explicit(&t->req, memory_order_acquire) == R_STEAL)
			__builtin_ia32_pause();
		atomic_store_explicit(&t->busy, 1, memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst);
	}
}

static inline void own_begin(struct rec_thread *t)
{
	atomic_store_explicit(&t->busy, 1, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
	if (__builtin_expect(atomic_load_explicit(&t->req, memory_order_relaxed) != R_NONE, 0))
		own_wait(t);
}

static inline void own_end(struct rec_thread *t)
{
	atomic_store_explicit(&t->busy, 0, memory_order_release);
}

/* ---- events -------------------------------------------------------------- */

static inline uint64_t next_seq(void)
{
	return atomic_fetch_add_explicit(&R.seq, 1, memory_order_relaxed);
}

static atomic_int wake_word;

static void bg_wake(void)
{
	if (!atomic_exchange_explicit(&wake_word, 1, memory_order_release))
		syscall(SYS_futex, &wake_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* The buffer is full: hand it to the snapshot thread and go on in the
 * other one, or, if the other is still waiting to be written, write both
 * now, the other first. */
static void buf_full(struct rec_thread *t)
{
	unsigned o = t->cur ^ 1;
	if (!R.bg_started || atomic_load_explicit(&t->hand[o].ready, memory_order_acquire)) {
		buf_flush(t, 1);
		return;
	}
	t->hand[t->cur].len = t->len;
	t->hand[t->cur].first_seq = t->first_seq;
	atomic_store_explicit(&t->hand[t->cur].ready, 1, memory_order_release);
	t->cur = o;
	t->buf = t->space[o];
	t->len = 0;
	t->chunk_events = 0;
	bg_wake();
}

/* Write the buffers threads handed over.  blocking: may wait for R.file. */
static void write_ready(int blocking)
{
	for (struct rec_thread *t = R.threads; t; t = t->next)
		for (unsigned b = 0; b < 2; b++) {
			if (!atomic_load_explicit(&t->hand[b].ready, memory_order_acquire))
				continue;
			if (blocking)
				pthread_mutex_lock(&R.file);
			else if (pthread_mutex_trylock(&R.file))
				return;
			hand_write_locked(t, b);
			pthread_mutex_unlock(&R.file);
		}
}

/* Room for need bytes in t's buffer (own_begin done); flushes if full. */
static inline uint8_t *buf_room(struct rec_thread *t, size_t need)
{
	if (__builtin_expect(t->len + need > BUF_SIZE, 0))
		buf_full(t);
	return t->buf + t->len;
}

/* An event's type byte and seq: the delta from the previous event of the
 * chunk, in the type byte's high nibble when it fits. */
static inline uint8_t *put_event(struct rec_thread *t, uint8_t *p, unsigned type,
                                 uint64_t seq)
{
	if (!t->chunk_events) {
		t->first_seq = seq;
		t->last_seq = seq;
		t->chunk_events = 1;
	}
	uint64_t d = seq - t->last_seq;
	t->last_seq = seq;
	if (d >= 1 && d <= 15) {
		*p++ = (uint8_t)(type | d << 4);
		return p;
	}
	*p++ = (uint8_t)type;
	return pt_put_u(p, d);
}

/* ---- modules ------------------------------------------------------------- */

static int mod_count_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	uint64_t *c = arg;
	c[0] = info->dlpi_adds;
	c[1] = info->dlpi_subs;
	return 1;
}

struct mod_ctx {
	uint8_t *p, *end;
	unsigned count;
	int overflow;
};

static void mod_put_bytes(struct mod_ctx *m, const void *s, size_t n)
{
	if (m->p + 10 + n > m->end) {
		m->overflow = 1;
		return;
	}
	m->p = pt_put_u(m->p, n);
	memcpy(m->p, s, n);
	m->p += n;
}

static int mod_list_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct mod_ctx *m = arg;
	if (m->overflow || m->p + 64 > m->end) {
		m->overflow = 1;
		return 1;
	}
	const char *name = info->dlpi_name;
	static char exe[4096];
	size_t nlen = name ? strlen(name) : 0;
	if (nlen == 0 && m->count == 0) {   /* the main program */
		ssize_t r = readlink("/proc/self/exe", exe, sizeof exe);
		name = exe;
		nlen = r > 0 ? (size_t)r : 0;
	}
	m->p = pt_put_u(m->p, info->dlpi_addr);
	mod_put_bytes(m, name, nlen);

	/* build id: the GNU note of a PT_NOTE segment */
	const uint8_t *bid = NULL;
	size_t bidlen = 0;
	unsigned nseg = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD)
			nseg++;
		if (ph->p_type != PT_NOTE || bid)
			continue;
		const uint8_t *n = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		const uint8_t *ne = n + ph->p_memsz;
		while (n + sizeof(ElfW(Nhdr)) <= ne) {
			const ElfW(Nhdr) *nh = (const void *)n;
			size_t nsz = (nh->n_namesz + 3) & ~3u, dsz = (nh->n_descsz + 3) & ~3u;
			const uint8_t *desc = n + sizeof *nh + nsz;
			if (desc + nh->n_descsz > ne)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(n + sizeof *nh, "GNU", 4) == 0 && nh->n_descsz <= 64) {
				bid = desc;
				bidlen = nh->n_descsz;
				break;
			}
			n = desc + dsz;
		}
	}
	mod_put_bytes(m, bid, bidlen);
	if (m->p + 10 + nseg * 30 > m->end) {
		m->overflow = 1;
		return 1;
	}
	m->p = pt_put_u(m->p, nseg);
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		m->p = pt_put_u(m->p, ph->p_vaddr);
		m->p = pt_put_u(m->p, ph->p_memsz);
		m->p = pt_put_u(m->p, ph->p_flags);
		if ((ph->p_flags & PF_X) && R.nx < MOD_MAX_X) {
			R.x_lo[R.nx] = info->dlpi_addr + ph->p_vaddr;
			R.x_hi[R.nx] = R.x_lo[R.nx] + ph->p_memsz;
			uintptr_t self = (uintptr_t)&mod_list_cb;
			if (self >= R.x_lo[R.nx] && self < R.x_hi[R.nx]) {
				R.self_lo = R.x_lo[R.nx];
				R.self_hi = R.x_hi[R.nx];
			}
			R.nx++;
		}
	}
	m->count++;
	return 0;
}

/*
 * Re-read the module list into a MODULES record on stream 0; R.file held
 * (and the file open).  Called at file creation and when the loader's
 * add/remove counters moved.
 */
static void write_modules_locked(void)
{
	pthread_mutex_lock(&R.mod_lock);
	uint64_t c[2] = { 0, 0 };
	dl_iterate_phdr(mod_count_cb, c);
	if (c[1] != R.mod_subs)
		atomic_fetch_add(&R.epoch, 1);   /* addresses may be reused now */
	R.mod_adds = c[0];
	R.mod_subs = c[1];
	unsigned gen = atomic_fetch_add(&R.mod_gen, 1) + 1;

	size_t cap = 1u << 20;
	for (;;) {
		uint8_t *buf = rmap(cap, 0);
		if (!buf)
			break;
		struct mod_ctx m = { buf + 40, buf + cap, 0, 0 };
		R.nx = 0;
		dl_iterate_phdr(mod_list_cb, &m);
		if (m.overflow && cap < (64u << 20)) {
			munmap(buf, cap);
			cap *= 4;
			continue;
		}
		/* header fields go in front of the list, which is now measured */
		uint64_t seq = next_seq();
		uint8_t head[40], *h = head;
		*h++ = PT_REC_MODULES;
		h = pt_put_u(h, seq);
		h = pt_put_u(h, gen);
		h = pt_put_u(h, m.count);
		size_t hl = (size_t)(h - head);
		uint8_t *start = buf + 40 - hl;
		memcpy(start, head, hl);
		chunk_write_locked(0, (uint32_t)gettid_(), seq, start, (uint32_t)(m.p - start));
		munmap(buf, cap);
		break;
	}
	pthread_mutex_unlock(&R.mod_lock);
}

static int ip_known(uintptr_t ip)
{
	for (unsigned i = 0; i < R.nx; i++)
		if (ip >= R.x_lo[i] && ip < R.x_hi[i])
			return 1;
	return 0;
}

/* The loader's counters moved since the last module record? */
static int modules_changed(void)
{
	uint64_t c[2] = { 0, 0 };
	dl_iterate_phdr(mod_count_cb, c);
	return c[0] != R.mod_adds || c[1] != R.mod_subs;
}

static void modules_refresh(void)
{
	pthread_mutex_lock(&R.file);
	if (R.created && !R.file_failed && modules_changed())
		write_modules_locked();
	pthread_mutex_unlock(&R.file);
}

/* ---- stacks -------------------------------------------------------------- */

static inline uint64_t stack_hash(void *const *ip, int n, unsigned epoch)
{
	uint64_t h = 0x2545f4914f6cdd1dull ^ (uint64_t)n ^ ((uint64_t)epoch << 40);
	for (int i = 0; i < n; i++) {
		h = (h ^ (uintptr_t)ip[i]) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	return h;
}

static struct hindex *hindex_new(size_t cap)
{
	struct hindex *x = rmap(sizeof *x + cap * sizeof(uint64_t), 0);
	if (x)
		x->mask = cap - 1;
	return x;
}

static void hindex_place(struct hindex *x, uint64_t h, uint32_t id)
{
	size_t i = (size_t)h & x->mask;
	while (atomic_load_explicit(&x->slot[i], memory_order_relaxed))
		i = (i + 1) & x->mask;
	atomic_store_explicit(&x->slot[i], (h & 0xffffffff00000000ull) | id,
	                      memory_order_release);
}

/*
 * The id whose slot has h's tag and for which eq() holds, 0 if none.  No
 * lock; an entry is complete before its slot is published.
 */
static uint32_t hindex_find(struct hindex *_Atomic *px, uint64_t h,
                            int (*eq)(uint32_t id, const void *arg), const void *arg)
{
	struct hindex *x = atomic_load_explicit(px, memory_order_acquire);
	uint64_t tag = h & 0xffffffff00000000ull;
	for (size_t i = (size_t)h & x->mask;; i = (i + 1) & x->mask) {
		uint64_t v = atomic_load_explicit(&x->slot[i], memory_order_acquire);
		if (v == 0)
			return 0;
		if ((v & 0xffffffff00000000ull) == tag && eq((uint32_t)v, arg))
			return (uint32_t)v;
	}
}

/*
 * Add id (an entry already complete) at hash h, growing first if half full:
 * hash_of() gives each of the ids 1..nids-1 its hash again.  The table's
 * lock held.  -1 if no memory for a bigger index.
 */
static int hindex_add(struct hindex *_Atomic *px, uint64_t h, uint32_t id,
                      uint64_t (*hash_of)(uint32_t id), uint32_t nids)
{
	struct hindex *x = atomic_load_explicit(px, memory_order_relaxed);
	if ((x->n + 1) * 2 > x->mask + 1) {
		struct hindex *y = hindex_new((x->mask + 1) * 2);
		if (!y)
			return -1;
		for (uint32_t k = 1; k < nids; k++)
			hindex_place(y, hash_of(k), k);
		y->n = x->n;
		atomic_store_explicit(px, y, memory_order_release);
		x = y;
	}
	hindex_place(x, h, id);
	x->n++;
	return 0;
}

/* The fork child: an empty index (the parent's stay mapped, unused). */
static void hindex_reset(struct hindex *_Atomic *px)
{
	struct hindex *x = hindex_new(HINDEX_MIN), *old = atomic_load(px);
	if (x) {
		atomic_store(px, x);
		return;
	}
	memset((void *)old->slot, 0, (old->mask + 1) * sizeof(uint64_t));
	old->n = 0;
}

static uint64_t stack_hash_of(uint32_t id);

static int intern_init(void)
{
	R.slots = hindex_new(HINDEX_MIN);
	R.offs = rmap(STACK_MAX * sizeof(uint64_t), 1);
	R.store = rmap(STORE_SIZE, 1);
	if (!R.slots || !R.offs || !R.store)
		return -1;
	atomic_store(&R.nstacks, 1);
	return 0;
}

static void intern_reset(void)   /* the fork child: its file knows no stack */
{
	hindex_reset(&R.slots);
	madvise(R.offs, STACK_MAX * sizeof(uint64_t), MADV_DONTNEED);
	madvise(R.store, R.store_used, MADV_DONTNEED);
	R.store_used = 0;
	atomic_store(&R.nstacks, 1);
}

struct stack_key {
	void *const *ip;
	int n;
	unsigned epoch;
};

static int stack_eq(uint32_t id, const void *arg)
{
	const struct stack_key *k = arg;
	const struct stack_entry *e = (const void *)(R.store + R.offs[id]);
	return e->nframes == (uint32_t)k->n && e->epoch == k->epoch &&
	       memcmp(e->ip, k->ip, (size_t)k->n * sizeof(void *)) == 0;
}

static uint64_t stack_hash_of(uint32_t id)
{
	const struct stack_entry *e = (const void *)(R.store + R.offs[id]);
	return stack_hash((void *const *)e->ip, (int)e->nframes, e->epoch);
}

/*
 * The id of a stack, 0 if the table is full.  *fresh: this call created
 * it, so the caller writes its definition.  Lookups take no lock.
 */
static uint32_t intern(void *const *ip, int n, int *fresh)
{
	unsigned epoch = atomic_load_explicit(&R.epoch, memory_order_relaxed);
	uint64_t h = stack_hash(ip, n, epoch);
	struct stack_key key = { ip, n, epoch };
	*fresh = 0;
	uint32_t id = hindex_find(&R.slots, h, stack_eq, &key);
	if (id)
		return id;

	pthread_mutex_lock(&R.intern);
	/* again, under the lock: another thread may have added it */
	id = hindex_find(&R.slots, h, stack_eq, &key);
	if (id) {
		pthread_mutex_unlock(&R.intern);
		return id;
	}
	id = atomic_load_explicit(&R.nstacks, memory_order_relaxed);
	size_t need = sizeof(struct stack_entry) + (size_t)n * sizeof(void *);
	if (id >= STACK_MAX || R.store_used + need > STORE_SIZE) {
		pthread_mutex_unlock(&R.intern);
		return 0;
	}
	struct stack_entry *e = (void *)(R.store + R.store_used);
	e->nframes = (uint32_t)n;
	e->epoch = epoch;
	e->gen = atomic_load_explicit(&R.mod_gen, memory_order_relaxed);
	memcpy(e->ip, ip, (size_t)n * sizeof(void *));
	R.offs[id] = R.store_used;
	if (hindex_add(&R.slots, h, id, stack_hash_of, id)) {
		pthread_mutex_unlock(&R.intern);
		return 0;
	}
	R.store_used += need;
	atomic_store_explicit(&R.nstacks, id + 1, memory_order_relaxed);
	pthread_mutex_unlock(&R.intern);
	*fresh = 1;
	return id;
}

/*
 * Unwind the caller's stack, drop our own frames, intern it.  Writes the
 * definition of a new stack into t's buffer (lock held by the caller).
 * Inlined, as record_alloc() is, into the hooks: libunwind spends some 90
 * instructions stepping over each frame of ours.
 */
static inline __attribute__((always_inline))
uint32_t capture_stack(struct rec_thread *t)
{
	void *ip[PT_TRACE_MAX_DEPTH + 8];
	int n = unw_backtrace(ip, (int)R.depth + 6);
	int skip = 0;
	while (skip < n && (uintptr_t)ip[skip] >= R.self_lo && (uintptr_t)ip[skip] < R.self_hi)
		skip++;
	n -= skip;
	if (n > (int)R.depth)
		n = (int)R.depth;
	if (n <= 0)
		return 0;
	void **f = ip + skip;

	int fresh;
	uint32_t id = intern(f, n, &fresh);
	if (!fresh)
		return id;

	/* a frame the module list does not cover: was a library loaded? */
	for (int i = 0; i < n; i++)
		if (!ip_known((uintptr_t)f[i])) {
			if (R.created && modules_changed())
				modules_refresh();
			break;
		}

	own_begin(t);
	uint8_t *p = buf_room(t, 32 + (size_t)n * 10);
	*p++ = PT_REC_STACK;
	p = pt_put_u(p, id);
	const struct stack_entry *e = (const void *)(R.store + R.offs[id]);
	p = pt_put_u(p, e->gen);
	p = pt_put_u(p, (uint64_t)n);
	uintptr_t prev = 0;
	for (int i = 0; i < n; i++) {
		p = pt_put_s(p, (int64_t)((uintptr_t)f[i] - prev));
		prev = (uintptr_t)f[i];
	}
	t->len = (uint32_t)(p - t->buf);
	own_end(t);
	return id;
}

/* ---- sampling ------------------------------------------------------------ */

/* mean R.sample bytes, exponentially distributed (a Poisson process over
 * the bytes allocated, as jemalloc and tcmalloc sample) */
static int64_t sample_interval(struct rec_thread *t)
{
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 7;
	t->rng ^= t->rng << 17;
	double u = ((double)(t->rng >> 11) + 0.5) * (1.0 / 9007199254740992.0);
	double v = -log(u) * (double)R.sample;
	return v < 1.0 ? 1 : v > 9e18 ? (int64_t)9e18 : (int64_t)v;
}

/* ---- the live blocks ------------------------------------------------------ */

/*
 * Which info each recorded live block has, so that a free is written as
 * the info of the block it frees (as heaptrack's interpreter does): trace
 * files then hold no addresses, whose randomness no compressor removes.
 *
 * Blocks of the allocator's region: a word per 8 bytes of the region
 * (reserved, touched only where pools are), written by the allocating
 * thread and read by the freeing one, which the program has ordered after
 * it.  Other blocks (glibc's, arenas outside the region): a hash table
 * under R.sampled_lock.  With sampling only sampled blocks are entered,
 * and a counting filter of 64 KiB (pt__rec_sfilter, read inline by the free
 * hook), which stays in cache, answers "not sampled" for almost every free:
 * it counts the sampled blocks per 4 KiB page, and only a "maybe" looks.
 */
#define SHADOW_SIZE (PT_REGION_SIZE / 8 * sizeof(uint32_t))

static inline uint32_t *shadow_of(uintptr_t p)
{
	if (R.shadow && pt__in_region(p))
		return &R.shadow[(p - pt__region_base) >> 3];
	return NULL;
}

static inline size_t hmap_hash(uintptr_t p)
{
	return (size_t)(((p >> 3) * 0x9e3779b97f4a7c15ull) >> 20);
}

static void hmap_put_locked(uintptr_t p, uint32_t v);

static int hmap_grow_locked(void)
{
	size_t ncap = R.hcap ? R.hcap * 2 : 4096;
	uintptr_t *ok = R.hkey, *nk = rmap(ncap * sizeof *nk, 0);
	uint32_t *ov = R.hval, *nv = rmap(ncap * sizeof *nv, 0);
	size_t ocap = R.hcap;
	if (!nk || !nv) {
		if (nk)
			munmap(nk, ncap * sizeof *nk);
		if (nv)
			munmap(nv, ncap * sizeof *nv);
		return -1;
	}
	R.hkey = nk;
	R.hval = nv;
	R.hcap = ncap;
	R.hn = 0;
	for (size_t i = 0; i < ocap; i++)
		if (ok[i])
			hmap_put_locked(ok[i], ov[i]);
	if (ok) {
		munmap(ok, ocap * sizeof *ok);
		munmap(ov, ocap * sizeof *ov);
	}
	return 0;
}

static void hmap_put_locked(uintptr_t p, uint32_t v)
{
	if ((R.hn + 1) * 4 > R.hcap * 3 && hmap_grow_locked())
		return;   /* out of memory: its free will be of an unknown block */
	size_t mask = R.hcap - 1, i = hmap_hash(p) & mask;
	while (R.hkey[i] && R.hkey[i] != p)
		i = (i + 1) & mask;
	if (!R.hkey[i])
		R.hn++;
	R.hkey[i] = p;
	R.hval[i] = v;
}

/* Removes p; its value, or 0 if it was not there.  Backward-shift deletion. */
static uint32_t hmap_take_locked(uintptr_t p)
{
	if (!R.hcap)
		return 0;
	size_t mask = R.hcap - 1, i = hmap_hash(p) & mask;
	while (R.hkey[i] != p) {
		if (!R.hkey[i])
			return 0;
		i = (i + 1) & mask;
	}
	uint32_t v = R.hval[i];
	size_t j = i;
	for (;;) {
		R.hkey[i] = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (!R.hkey[j])
				goto done;
			size_t k = hmap_hash(R.hkey[j]) & mask;
			/* move slot j into the hole at i unless its home lies in (i, j] */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		R.hkey[i] = R.hkey[j];
		R.hval[i] = R.hval[j];
		i = j;
	}
done:
	R.hn--;
	return v;
}

static void filter_add(uintptr_t p, int d)
{
	uint8_t *c = &pt__rec_sfilter[pt__rec_sfilter_idx(p)];
	if (*c < 255 && (d > 0 || *c > 0))   /* 255 sticks: it may undercount */
		__atomic_store_n(c, (uint8_t)(*c + d), __ATOMIC_RELEASE);
}

/* Block p, now live, has info id (nonzero). */
static void live_put(uintptr_t p, uint32_t id)
{
	uint32_t *w = shadow_of(p);
	if (w && !R.sample) {
		__atomic_store_n(w, id, __ATOMIC_RELAXED);
		return;
	}
	pthread_mutex_lock(&R.sampled_lock);
	if (w)
		__atomic_store_n(w, id, __ATOMIC_RELAXED);
	else
		hmap_put_locked(p, id);
	if (R.sample)
		filter_add(p, 1);
	pthread_mutex_unlock(&R.sampled_lock);
}

/* Block p is being freed: its info, forgotten, or 0 if it was not
 * recorded.  Cheap, with sampling, for blocks that were not sampled. */
static uint32_t live_take(uintptr_t p)
{
	uint32_t *w = shadow_of(p), id;
	if (!R.sample) {
		if (w) {
			id = __atomic_load_n(w, __ATOMIC_RELAXED);
			__atomic_store_n(w, 0, __ATOMIC_RELAXED);
			return id;
		}
	} else if (!__atomic_load_n(&pt__rec_sfilter[pt__rec_sfilter_idx(p)], __ATOMIC_ACQUIRE)) {
		return 0;
	}
	pthread_mutex_lock(&R.sampled_lock);
	if (w) {
		id = __atomic_load_n(w, __ATOMIC_RELAXED);
		__atomic_store_n(w, 0, __ATOMIC_RELAXED);
	} else {
		id = hmap_take_locked(p);
	}
	if (id && R.sample)
		filter_add(p, -1);
	pthread_mutex_unlock(&R.sampled_lock);
	return id;
}

static int live_init(void)
{
	if (pt__region_base != PT_REGION_NONE)
		R.shadow = rmap(SHADOW_SIZE, 1);   /* none: all go to the table */
	return 0;
}

static void live_reset(void)   /* the fork child: its trace knows no block */
{
	if (R.shadow)
		madvise(R.shadow, SHADOW_SIZE, MADV_DONTNEED);
	if (R.hkey) {
		memset(R.hkey, 0, R.hcap * sizeof *R.hkey);
		R.hn = 0;
	}
	if (pt__rec_sfilter)
		memset(pt__rec_sfilter, 0, PT_REC_SFILTER_SIZE);
}

/* ---- infos ---------------------------------------------------------------- */

/*
 * An info is what heaptrack calls an allocation: a requested size, a stack
 * and where the block came from.  ALLOC and FREE records carry its id.
 * Each thread keeps the infos it met last; the shared table is looked up
 * under R.info_lock when that misses.  A new info's INFO record goes to a
 * buffer that chunk_write_locked() writes before any other chunk, so it is
 * in the file before every record that uses it.
 */
static int info_init(void)
{
	R.islots = hindex_new(HINDEX_MIN);
	R.infos = rmap(INFO_MAX * sizeof(struct info_entry), 1);
	R.idef_cap = 64u << 10;
	R.idef = rmap(R.idef_cap, 0);
	if (!R.islots || !R.infos || !R.idef)
		return -1;
	R.ninfo = 1;
	return 0;
}

static void info_reset(void)   /* the fork child: its file defines none yet */
{
	hindex_reset(&R.islots);
	madvise(R.infos, INFO_MAX * sizeof(struct info_entry), MADV_DONTNEED);
	R.ninfo = 1;
	R.idef_len = 0;
	for (struct rec_thread *t = R.threads; t; t = t->next)
		memset(t->icache, 0, sizeof t->icache);
}

static uint64_t info_hash_of(uint32_t id);

/* A new info at hash h: entered, indexed and its INFO record queued; 0 if
 * there is no room (its blocks are then written as unknown). */
static uint32_t info_new_locked(uint64_t h, uint64_t size, uint32_t stack, unsigned kind)
{
	if (R.ninfo >= INFO_MAX)
		return 0;
	if (R.idef_len + 40 > R.idef_cap) {
		uint8_t *n = rmap(R.idef_cap * 2, 0);
		if (!n)
			return 0;
		memcpy(n, R.idef, R.idef_len);
		munmap(R.idef, R.idef_cap);
		R.idef = n;
		R.idef_cap *= 2;
	}
	uint32_t id = R.ninfo;
	R.infos[id] = (struct info_entry){ size, stack, kind };
	if (hindex_add(&R.islots, h, id, info_hash_of, id))
		return 0;
	R.ninfo++;
	uint8_t *q = R.idef + R.idef_len;
	*q++ = PT_REC_INFO;
	q = pt_put_u(q, id);
	q = pt_put_u(q, size);
	q = pt_put_u(q, stack);
	q = pt_put_u(q, kind);
	R.idef_len = (size_t)(q - R.idef);
	return id;
}

static uint64_t info_hash(uint64_t size, uint32_t key)
{
	uint64_t h = (size * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)key * 0xc2b2ae3d27d4eb4full);
	return h ^ (h >> 31);
}

static uint64_t info_hash_of(uint32_t id)
{
	const struct info_entry *e = &R.infos[id];
	return info_hash(e->size, e->stack << 1 | e->kind);
}

struct info_key {
	uint64_t size;
	uint32_t stack, kind;
};

static int info_eq(uint32_t id, const void *arg)
{
	const struct info_key *k = arg;
	const struct info_entry *e = &R.infos[id];
	return e->size == k->size && e->stack == k->stack && e->kind == k->kind;
}

/* The id of (size, stack, kind); 0 if the table is full. */
static uint32_t info_get(struct rec_thread *t, uint64_t size, uint32_t stack, unsigned kind)
{
	uint32_t key = stack << 1 | kind;
	uint64_t h = info_hash(size, key);
	unsigned ci = (unsigned)(h >> 40) & (ICACHE_SIZE - 1);
	if (t->icache[ci].id && t->icache[ci].size == size && t->icache[ci].key == key)
		return t->icache[ci].id;

	struct info_key k = { size, stack, kind };
	uint32_t id = hindex_find(&R.islots, h, info_eq, &k);
	if (!id) {
		pthread_mutex_lock(&R.info_lock);
		id = hindex_find(&R.islots, h, info_eq, &k);
		if (!id)
			id = info_new_locked(h, size, stack, kind);
		pthread_mutex_unlock(&R.info_lock);
	}
	if (id) {
		t->icache[ci].size = size;
		t->icache[ci].key = key;
		t->icache[ci].id = id;
	}
	return id;
}

/* ---- the peak ------------------------------------------------------------ */

static void snapshot(int kind);

/*
 * Fold a thread's live-byte delta into the process count.  A new peak (by
 * a margin) asks the snapshot thread for a PEAK snapshot: taking it here
 * would take the allocator's lock, which this thread may hold already if a
 * signal handler allocates.
 */
static void live_fold(struct rec_thread *t)
{
	int64_t live = atomic_fetch_add_explicit(&R.live, t->live_delta, memory_order_relaxed)
	               + t->live_delta;
	t->live_delta = 0;
	int64_t mark = __atomic_load_n(&R.peak_mark, __ATOMIC_RELAXED);
	if (live <= mark || atomic_exchange(&R.peak_busy, 1))
		return;
	int64_t step = mark / PEAK_STEP_DIV;
	if (step < (int64_t)PEAK_STEP_MIN)
		step = PEAK_STEP_MIN;
	__atomic_store_n(&R.peak_mark, live + step, __ATOMIC_RELAXED);
	atomic_store(&R.peak_pending, 1);
	atomic_store(&R.peak_busy, 0);
	bg_wake();
}

static size_t block_bytes(void *p)
{
	unsigned v = pt__class_of((uintptr_t)p);
	return v ? pt__g.class_size[v - 1] : pt__libc_usable_size(p);
}

/* ---- the hooks ----------------------------------------------------------- */

/*
 * The weight of a sampled block for the live-heap estimate that finds the
 * peak while sampling: a block of b bytes is sampled with probability
 * 1 - exp(-b/R.sample), so it stands for b / that many bytes.  (The
 * countdown runs on requested bytes; the block size is used at both ends
 * here, as the free does not know the request.)
 */
static int64_t sample_weight(size_t bsize)
{
	double b = bsize ? (double)bsize : 1.0;
	return (int64_t)(b / -expm1(-b / (double)R.sample));
}

/* Move the thread's live bytes by d, folded into the total (and checked
 * for a new peak) once they are LIVE_BATCH away from it. */
static void live_add(struct rec_thread *t, int64_t d)
{
	t->live_delta += d;
	if (t->live_delta > LIVE_BATCH || t->live_delta < -LIVE_BATCH)
		live_fold(t);
}

/* A block of bsize bytes for n requested, by malloc or realloc alike: the
 * totals when every event is recorded. */
static void count_block(struct rec_thread *t, size_t n, size_t bsize, int pool)
{
	t->bytes_alloc += n;
	if (pool) {
		t->n_pool++;
		t->bytes_pool += n;
	}
	live_add(t, (int64_t)bsize);
}

/* An allocation (old_info == -1) or a realloc of a block of old_info. */
static void write_alloc(struct rec_thread *t, uint64_t seq, int64_t old_info, uint32_t info)
{
	own_begin(t);
	uint8_t *q = buf_room(t, REC_MAX);
	if (old_info < 0) {
		q = put_event(t, q, PT_REC_ALLOC, seq);
	} else {
		q = put_event(t, q, PT_REC_REALLOC, seq);
		q = pt_put_u(q, (uint64_t)old_info);
	}
	q = pt_put_u(q, info);
	t->len = (uint32_t)(q - t->buf);
	own_end(t);
}

/* A free of a block of info (0: one the trace did not see allocated);
 * temp: it is the thread's last allocation, with no other in between. */
static void write_free(struct rec_thread *t, uint64_t seq, uint32_t info, int temp)
{
	own_begin(t);
	uint8_t *q = buf_room(t, REC_MAX);
	if (temp) {
		q = put_event(t, q, PT_REC_FREE_TEMP, seq);
	} else {
		q = put_event(t, q, PT_REC_FREE, seq);
		q = pt_put_u(q, info);
	}
	t->len = (uint32_t)(q - t->buf);
	own_end(t);
}

/* The countdown has been decremented: is this allocation recorded?  Always
 * when every event is; else when the countdown ran out, which starts the
 * next one. */
static inline int sample_due(struct rec_thread *t)
{
	if (!R.sample)
		return 1;
	if (t->hot.sample_left > 0)
		return 0;
	t->bytes_alloc += (uint64_t)(t->interval - t->hot.sample_left);
	t->interval = sample_interval(t);
	t->hot.sample_left = t->interval;
	return 1;
}

static inline int sample_hit(struct rec_thread *t, size_t n)
{
	t->hot.sample_left -= (int64_t)n;
	return sample_due(t);
}

/* Record block p of n bytes, its stack taken here. */
static inline __attribute__((always_inline))
void record_alloc(struct rec_thread *t, uint64_t seq, int64_t old_info, void *p, size_t n,
                  int pool, size_t bsize)
{
	uint32_t stack = capture_stack(t);
	uint32_t id = info_get(t, n, stack, !pool);
	if (id)
		live_put((uintptr_t)p, id);
	if (R.sample)
		live_add(t, sample_weight(bsize));
	write_alloc(t, seq, old_info, id);
	t->last_ptr = (uintptr_t)p;
	t->last_info = id;
}

/* Record the free of p, whose info was taken from the live blocks. */
static void record_free(struct rec_thread *t, uint64_t seq, void *p, uint32_t id)
{
	int temp = id && (uintptr_t)p == t->last_ptr && id == t->last_info;
	if (temp)
		t->last_ptr = 0;
	write_free(t, seq, id, temp);
}

void pt__rec_alloc_slow(void *p, size_t n, int counted)
{
	if (pt__rec_guard || !pt__rec_on)
		return;
	pt__rec_guard = 1;
	int e = errno;
	struct rec_thread *t = counted ? tl_rec : thread_get();
	if (!t)
		goto out;
	int pool = pt__class_of((uintptr_t)p) != 0;
	size_t bsize = block_bytes(p);
	if (!R.sample)
		/* the free-list links that the allocator and glibc leave in the
		 * first words of a block would look to the exit scan like
		 * pointers from one lost block to the next (the contents of a
		 * new block are unspecified: zeros will do) */
		memset(p, 0, n < 32 ? n & ~(size_t)7 : 32);
	if (!R.sample || !pool)
		t->n_malloc++;          /* with sampling the allocator counts the pool's */
	if (!R.sample)
		count_block(t, n, bsize, pool);
	if (!counted)
		t->hot.sample_left -= (int64_t)n;
	if (sample_due(t))
		record_alloc(t, next_seq(), -1, p, n, pool, bsize);
out:
	errno = e;
	pt__rec_guard = 0;
}

void pt__rec_free_slow(void *p)
{
	if (pt__rec_guard || !pt__rec_on)
		return;
	pt__rec_guard = 1;
	int e = errno;
	struct rec_thread *t = thread_get();
	if (!t)
		goto out;
	if (!R.sample) {
		t->n_free++;
		live_add(t, -(int64_t)block_bytes(p));
		record_free(t, next_seq(), p, live_take((uintptr_t)p));
		goto out;
	}
	if (pt__class_of((uintptr_t)p) == 0)
		t->n_free++;            /* the allocator's count gives the pool's */
	uint32_t id = live_take((uintptr_t)p);
	if (id) {
		live_add(t, -sample_weight(block_bytes(p)));
		record_free(t, next_seq(), p, id);
	}
out:
	errno = e;
	pt__rec_guard = 0;
}

/*
 * realloc is a free of old and an allocation, numbered before the call (old
 * may be handed out again inside it), with old's info taken then.  The
 * token's seq1: that seq + 1, or 0 if nothing is to be written for old
 * (sampling, and old was not sampled).
 */
struct pt_rec_realloc pt__rec_realloc_begin(void *old)
{
	struct pt_rec_realloc tok = { 0, 0 };
	if (pt__rec_guard || !old)
		return tok;
	pt__rec_guard = 1;
	int e = errno;
	struct rec_thread *t = thread_get();
	if (t && !R.sample) {
		live_add(t, -(int64_t)block_bytes(old));
		tok.old_info = live_take((uintptr_t)old);
		tok.seq1 = next_seq() + 1;
	} else if (t && (tok.old_info = live_take((uintptr_t)old)) != 0) {
		live_add(t, -sample_weight(block_bytes(old)));
		tok.seq1 = next_seq() + 1;
	}
	errno = e;
	pt__rec_guard = 0;
	return tok;
}

void pt__rec_realloc_end(struct pt_rec_realloc tok, void *old, void *p, size_t n,
                         int counted)
{
	if (pt__rec_guard)
		return;
	pt__rec_guard = 1;
	int e = errno;
	struct rec_thread *t = thread_get();
	if (!t)
		goto out;
	if (!counted)
		t->hot.n_realloc++;
	if (!p && n > 0) {          /* failed: old is still there, unchanged */
		if (tok.old_info)
			live_put((uintptr_t)old, tok.old_info);
		if (!R.sample)
			live_add(t, (int64_t)block_bytes(old));
		else if (tok.seq1)
			live_add(t, sample_weight(block_bytes(old)));
		goto out;
	}
	if (!p) {                   /* realloc(old, 0) freed it */
		if (!R.sample)
			t->n_free++;
		if (tok.seq1)
			record_free(t, tok.seq1 - 1, old, tok.old_info);
		goto out;
	}
	int pool = pt__class_of((uintptr_t)p) != 0;
	size_t bsize = block_bytes(p);
	if (!R.sample) {
		count_block(t, n, bsize, pool);
		if (tok.seq1)
			record_alloc(t, tok.seq1 - 1, tok.old_info, p, n, pool, bsize);
		else        /* begin was not recorded: an allocation */
			record_alloc(t, next_seq(), -1, p, n, pool, bsize);
		goto out;
	}
	/* sampling: old's free if it was sampled, then the new block is an
	 * allocation of its own, sampled or not */
	if (tok.seq1)
		record_free(t, tok.seq1 - 1, old, tok.old_info);
	if (counted ? sample_due(t) : sample_hit(t, n))
		record_alloc(t, next_seq(), -1, p, n, pool, bsize);
out:
	errno = e;
	pt__rec_guard = 0;
}

/* ---- snapshots ----------------------------------------------------------- */

static long strtol_(const char *s)
{
	long v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return v;
}

static uint64_t read_rss(void)
{
	char buf[128];
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t r = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (r <= 0)
		return 0;
	buf[r] = 0;
	const char *s = buf;
	while (*s && *s != ' ')
		s++;
	uint64_t pages = 0;
	for (s++; *s >= '0' && *s <= '9'; s++)
		pages = pages * 10 + (uint64_t)(*s - '0');
	return pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

struct arena_ctx {
	uint8_t *p, *end;
	uintptr_t prev;
	uint64_t n;
};

/* Arenas held by at most PT_PINNED_MAX live blocks, met by the last walk
 * of a peak or exit snapshot (under R.file). */
#define PIN_CAND_MAX 4096
static uintptr_t pin_cand[PIN_CAND_MAX];
static unsigned pin_ncand;
static int pin_all;

static void arena_cb(const struct pt_arena_info *a, void *arg)
{
	struct arena_ctx *c = arg;
	/* the walk counts blocks in thread caches as used: the shadow
	 * words of the candidates tell (at exit, when the caches hold more
	 * than the heap, every arena is one) */
	if (a->blocks_used && (pin_all || a->blocks_used <= 2 * PT_PINNED_MAX) &&
	    pin_ncand < PIN_CAND_MAX)
		pin_cand[pin_ncand++] = a->base;
	if (c->p + 60 > c->end)
		return;
	c->p = pt_put_s(c->p, (int64_t)(a->base - c->prev));
	c->prev = a->base;
	c->p = pt_put_u(c->p, a->pools_used);
	c->p = pt_put_u(c->p, a->pools_empty);
	c->p = pt_put_u(c->p, a->pools_untouched);
	c->p = pt_put_u(c->p, a->blocks_used);
	c->p = pt_put_u(c->p, a->bytes_in_blocks);
	c->n++;
}

static uint64_t glibc_in_use(void)
{
	struct mi2 {
		size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks,
		       fordblks, keepcost;
	};
	static struct pt_libc_fn fn = { "mallinfo2", NULL, 0 };
	struct mi2 (*f)(void) = (struct mi2 (*)(void))pt__libc_fn(&fn);
	if (!f)
		return 0;
	struct mi2 m = f();
	return m.uordblks + m.hblkhd;
}

/* A snapshot record up to glibc's bytes in use: all of a light one. */
static uint8_t *snap_head(uint8_t *p, uint64_t seq, int kind, uint64_t rss, int64_t live,
                          const uint64_t c[6], uint64_t glibc)
{
	*p++ = PT_REC_SNAPSHOT;
	p = pt_put_u(p, seq);
	p = pt_put_u(p, (uint64_t)kind);
	p = pt_put_u(p, now_ns(CLOCK_MONOTONIC) - R.t0_mono);
	p = pt_put_u(p, rss);
	p = pt_put_u(p, live > 0 ? (uint64_t)live : 0);
	for (int i = 0; i < 6; i++)
		p = pt_put_u(p, c[i]);
	return pt_put_u(p, glibc);
}

/*
 * A list whose count is only known at its end: 10 bytes were left at
 * count_at for the varint, the list runs up to end.  Write the count there
 * and close the gap; returns the new end.
 */
static uint8_t *put_count_before(uint8_t *count_at, uint8_t *end, uint64_t n)
{
	uint8_t tmp[10], *te = pt_put_u(tmp, n);
	size_t cl = (size_t)(te - tmp);
	memmove(count_at + cl, count_at + 10, (size_t)(end - (count_at + 10)));
	memcpy(count_at, tmp, cl);
	return end - (10 - cl);
}

/*
 * The PINNED record of a peak or exit snapshot: for each candidate arena
 * of the walk just made, the infos of its live blocks, read from the
 * shadow words of its pools.  Other threads may allocate and free while
 * this reads: the list is as of a moment during the snapshot, and an arena
 * that gained blocks meanwhile is left out.  R.file held.
 */
static void write_pinned_locked(int kind)
{
	static uint8_t rec[PIN_CAND_MAX / 8 * 256];
	uint8_t *p = rec, *end = rec + sizeof rec;
	uint64_t seq = next_seq(), n = 0;
	uintptr_t prev = 0;
	*p++ = PT_REC_PINNED;
	p = pt_put_u(p, seq);
	p = pt_put_u(p, (uint64_t)kind);
	uint8_t *count_at = p;
	p += 10;
	for (unsigned i = 0; i < pin_ncand; i++) {
		uintptr_t a = pin_cand[i];
		if (!pt__in_region(a))
			continue;   /* its blocks are in the table, not the shadow */
		struct { uint32_t info; uint32_t blocks; } e[PT_PINNED_MAX];
		unsigned ne = 0;
		uint64_t blocks = 0, bytes = 0;
		for (uintptr_t pool = a + PT_POOL_SIZE; pool < a + PT_ARENA_SIZE && blocks <= PT_PINNED_MAX;
		     pool += PT_POOL_SIZE) {
			unsigned cls = pt__region_cls[(pool - pt__region_base) >> PT_POOL_SHIFT];
			if (!cls)
				continue;
			size_t size = pt__g.class_size[cls - 1];
			for (uintptr_t b = pool; b + size <= pool + PT_POOL_SIZE; b += size) {
				uint32_t id = __atomic_load_n(shadow_of(b), __ATOMIC_RELAXED);
				if (!id || id >= R.ninfo)
					continue;
				if (++blocks > PT_PINNED_MAX)
					break;
				bytes += R.infos[id].size;
				unsigned k = 0;
				while (k < ne && e[k].info != id)
					k++;
				if (k == ne)
					e[ne++] = (typeof(e[0])){ id, 0 };
				e[k].blocks++;
			}
		}
		if (!blocks || blocks > PT_PINNED_MAX || end - p < 40 + 20 * (long)ne)
			continue;
		p = pt_put_s(p, (int64_t)(a - prev));
		prev = a;
		p = pt_put_u(p, blocks);
		p = pt_put_u(p, bytes);
		p = pt_put_u(p, ne);
		for (unsigned k = 0; k < ne; k++) {
			p = pt_put_u(p, e[k].info);
			p = pt_put_u(p, e[k].blocks);
		}
		n++;
	}
	p = put_count_before(count_at, p, n);
	chunk_write_locked(0, (uint32_t)gettid_(), seq, rec, (uint32_t)(p - rec));
}

/*
 * Write a snapshot record on stream 0.  Takes R.file (and the allocator's
 * lock inside); the caller holds no thread buffer lock.
 */
static void snapshot(int kind)
{
	static struct pt_stats st;   /* under R.file */
	if (!pt__rec_on)
		return;
	uint64_t rss = read_rss();
	uint64_t glibc = glibc_in_use();
	uint64_t c[6] = { 0 };
	pthread_mutex_lock(&R.threads_lock);
	for (struct rec_thread *t = R.threads; t; t = t->next) {
		c[0] += __atomic_load_n(&t->n_malloc, __ATOMIC_RELAXED);
		c[1] += __atomic_load_n(&t->n_free, __ATOMIC_RELAXED);
		c[2] += __atomic_load_n(&t->hot.n_realloc, __ATOMIC_RELAXED);
		c[3] += __atomic_load_n(&t->bytes_alloc, __ATOMIC_RELAXED);
		c[4] += __atomic_load_n(&t->n_pool, __ATOMIC_RELAXED);
		c[5] += __atomic_load_n(&t->bytes_pool, __ATOMIC_RELAXED);
		if (R.sample && t->state != T_FREE)   /* the countdown under way */
			c[3] += (uint64_t)(__atomic_load_n(&t->interval, __ATOMIC_RELAXED) -
			                   __atomic_load_n(&t->hot.sample_left, __ATOMIC_RELAXED));
	}
	pthread_mutex_unlock(&R.threads_lock);

	pthread_mutex_lock(&R.file);
	int64_t live = atomic_load(&R.live);
	if (kind == PT_SNAP_LIGHT) {
		/* time, RSS, live heap and counters only: no walk of the pools */
		uint8_t rec[160];
		uint64_t seq = next_seq();
		uint8_t *p = snap_head(rec, seq, kind, rss, live, c, glibc);
		chunk_write_locked(0, (uint32_t)gettid_(), seq, rec, (uint32_t)(p - rec));
		pthread_mutex_unlock(&R.file);
		return;
	}
	pt_stats_get(&st);
	if (R.sample) {
		/* the hooks counted only glibc's calls: the pool's are the
		 * allocator's, and the live heap its blocks plus glibc's */
		uint64_t used = 0, req = 0;
		for (unsigned k = 0; k < st.nclasses; k++) {
			used += st.cls[k].blocks_used;
			req += st.cls[k].req_bytes;
		}
		c[0] += st.nmalloc;
		c[1] += st.nmalloc > used ? st.nmalloc - used : 0;
		c[4] = st.nmalloc;
		c[5] = req;
		live = (int64_t)(st.bytes_in_blocks + glibc);
	}
	size_t need = 512 + st.nclasses * 90 + (st.arenas_mapped + 64) * 60;
	if (need > R.scratch_cap) {
		if (R.scratch)
			munmap(R.scratch, R.scratch_cap);
		R.scratch_cap = (need + 65535) & ~(size_t)65535;
		R.scratch = rmap(R.scratch_cap, 0);
		if (!R.scratch) {
			R.scratch_cap = 0;
			pthread_mutex_unlock(&R.file);
			return;
		}
	}
	uint64_t seq = next_seq();
	uint8_t *p = snap_head(R.scratch, seq, kind, rss, live, c, glibc);
	const uint64_t a[] = {
		st.arenas_mapped, st.pools_in_use, st.pools_empty_heap, st.pools_free_dirty,
		st.pools_free_purged, st.bytes_in_blocks, st.bytes_free_blocks,
		st.bytes_rounding_est, st.bytes_pool_tail, st.bytes_headers,
	};
	for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
		p = pt_put_u(p, a[i]);
	p = pt_put_u(p, st.nclasses);
	for (unsigned k = 0; k < st.nclasses; k++) {
		const struct pt_class_stats *cs = &st.cls[k];
		p = pt_put_u(p, cs->pools_used);
		p = pt_put_u(p, cs->pools_full);
		p = pt_put_u(p, cs->pools_empty);
		p = pt_put_u(p, cs->blocks_used);
		p = pt_put_u(p, cs->blocks_free);
		p = pt_put_u(p, cs->blocks_cached);
		p = pt_put_u(p, cs->nmalloc);
		p = pt_put_u(p, cs->req_bytes);
	}
	/* the arena list goes last; its count is written in front of it */
	uint8_t *count_at = p;
	p += 10;
	struct arena_ctx ac = { p, R.scratch + R.scratch_cap, 0, 0 };
	pin_ncand = 0;
	pin_all = kind == PT_SNAP_EXIT;
	pt_arena_walk(arena_cb, &ac);
	p = put_count_before(count_at, ac.p, ac.n);
	chunk_write_locked(0, (uint32_t)gettid_(), seq, R.scratch, (uint32_t)(p - R.scratch));
	if (!R.sample && R.shadow && (kind == PT_SNAP_PEAK || kind == PT_SNAP_EXIT))
		write_pinned_locked(kind);
	pthread_mutex_unlock(&R.file);
}

/* ---- flushing everything ------------------------------------------------- */

static int membarrier_ok;

static int membarrier_all(void)
{
	return membarrier_ok &&
	       syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0;
}

/*
 * Flush other threads' buffers, as described at struct rec_thread, and the
 * caller's own directly.  all = 0 (the snapshot thread, each interval):
 * only buffers holding events older than an interval; a thread still
 * appending is asked to flush itself, a thread that sleeps is flushed
 * here.  all = 1: everything (exit).  in_signal: never wait for a lock.
 * Reclaims the buffers of threads that are gone.
 */
static void flush_all(int all, int in_signal)
{
	static atomic_int flushing;
	struct rec_thread *self = tl_rec;
	while (atomic_exchange(&flushing, 1)) {
		if (in_signal)
			return;   /* another flush_all is under way */
		sched_yield();
	}
	if (!in_signal)
		pthread_mutex_lock(&R.threads_lock);
	write_ready(!in_signal);
	unsigned marked = 0;
	for (struct rec_thread *t = R.threads; t; t = t->next) {
		if (t->state == T_FREE || t == self)
			continue;
		uint32_t len = __atomic_load_n(&t->len, __ATOMIC_RELAXED);
		uint32_t nf = __atomic_load_n(&t->nflush, __ATOMIC_RELAXED);
		int old = nf == t->seen_nflush && t->seen_len != 0;   /* unflushed since */
		int idle = old && len == t->seen_len;
		t->seen_len = len;
		t->seen_nflush = nf;
		if (!all && !(old && len) && t->state != T_DYING)
			continue;
		if (!all && !idle && t->state != T_DYING) {
			if (atomic_load_explicit(&t->req, memory_order_relaxed) == R_NONE)
				atomic_store_explicit(&t->req, R_FLUSH, memory_order_relaxed);
			continue;
		}
		if (!atomic_load_explicit(&t->busy, memory_order_relaxed) &&
		    atomic_load_explicit(&t->req, memory_order_relaxed) == R_NONE) {
			atomic_store_explicit(&t->req, R_STEAL, memory_order_relaxed);
			marked++;
		}
	}
	int mb = marked && membarrier_all();
	for (struct rec_thread *t = R.threads; t && marked; t = t->next) {
		if (t->state == T_FREE || t == self ||
		    atomic_load_explicit(&t->req, memory_order_relaxed) != R_STEAL)
			continue;
		if (!mb || atomic_load_explicit(&t->busy, memory_order_acquire)) {
			/* it is appending now, or we cannot tell: it flushes itself */
			atomic_store_explicit(&t->req, t->len ? R_FLUSH : R_NONE, memory_order_release);
			continue;
		}
		buf_flush(t, !in_signal);
		t->seen_len = 0;
		if (!in_signal && t->state == T_DYING && !t->hand[0].ready && !t->hand[1].ready &&
		    syscall(SYS_tgkill, R.pid, t->tid, 0) < 0 && errno == ESRCH) {
			if (t->live_delta) {
				atomic_fetch_add(&R.live, t->live_delta);
				t->live_delta = 0;
			}
			t->bytes_alloc += (uint64_t)(t->interval - t->hot.sample_left);
			t->interval = t->hot.sample_left;
			t->state = T_FREE;   /* its counters stay in the totals */
		}
		atomic_store_explicit(&t->req, R_NONE, memory_order_release);
	}
	if (self && !atomic_load_explicit(&self->busy, memory_order_relaxed))
		buf_flush(self, !in_signal);
	if (!in_signal)
		pthread_mutex_unlock(&R.threads_lock);
	atomic_store(&flushing, 0);
}

/* A thread's exit: its key destructor.  Later events of the same thread
 * (other destructors) still go to its buffer, flushed by the snapshot
 * thread, which reclaims it when the thread is gone. */
static void thread_done(void *arg)
{
	struct rec_thread *t = arg;
	if (!t || !pt__rec_on)
		return;
	pt__rec_guard = 1;
	own_begin(t);
	uint8_t *q = buf_room(t, REC_MAX);
	q = put_event(t, q, PT_REC_THREAD_EXIT, next_seq());
	q = pt_put_u(q, t->tid);
	t->len = (uint32_t)(q - t->buf);
	buf_flush(t, 1);
	t->state = T_DYING;
	own_end(t);
	pt__rec_guard = 0;
}

static void write_end(int reason, int code)
{
	uint8_t rec[40], *p = rec;
	uint64_t seq = next_seq();
	*p++ = PT_REC_END;
	p = pt_put_u(p, seq);
	p = pt_put_u(p, (uint64_t)reason);
	p = pt_put_u(p, (uint64_t)code);
	chunk_write_locked(0, (uint32_t)gettid_(), seq, rec, (uint32_t)(p - rec));
}

/* ---- the exit scan: leaks by reachability --------------------------------- */

/*
 * At exit, when every event is recorded, the live blocks are classified as
 * memcheck and LeakSanitizer do (heapscan.h) and written as LEAKS records.
 * The roots: the writable segments of every module but this library, the
 * calling thread's stack from its own frame up (registers spilled into
 * it), the stack of every other thread the recorder met (its whole
 * mapping up to the thread descriptor at its top, which holds its static
 * TLS), and the calling thread's TLS block of every module.  The kernel
 * may merge a stack's mapping with anonymous memory next to it (our own
 * tables among it): the thread pointer bounds it.  Other threads' memory
 * is read with process_vm_readv, which fails cleanly on a page that went
 * away, so a thread that exits meanwhile cannot crash the scan.  The blocks
 * themselves are read directly: R.sampled_lock (glibc blocks are taken off
 * the table under it before they are freed) and the allocator's lock (no
 * arena is unmapped) are held, so none of them goes away.  Everything here
 * uses mmap, never malloc.
 */
#define SCAN_RANGES_MAX 4096

struct scan_range { uintptr_t lo, hi; };

static struct {
	struct scan_range mod[SCAN_RANGES_MAX];
	unsigned nmod;
	struct scan_range tls[SCAN_RANGES_MAX];
	unsigned ntls;
	uintptr_t hint[SCAN_RANGES_MAX], tp[SCAN_RANGES_MAX];
	unsigned nhint;
	struct scan_range done[SCAN_RANGES_MAX];
	unsigned ndone;
	uint8_t buf[64 << 10] __attribute__((aligned(64)));   /* words as in memory */
} S;

static int scan_mod_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	const ElfW(Phdr) *ph = info->dlpi_phdr;
	uintptr_t self = (uintptr_t)&S;
	for (int i = 0; i < info->dlpi_phnum; i++)   /* this library: not a root */
		if (ph[i].p_type == PT_LOAD && self - (info->dlpi_addr + ph[i].p_vaddr) < ph[i].p_memsz)
			return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_W) && ph[i].p_memsz &&
		    S.nmod < SCAN_RANGES_MAX)
			S.mod[S.nmod++] = (struct scan_range){ info->dlpi_addr + ph[i].p_vaddr,
			                                       info->dlpi_addr + ph[i].p_vaddr +
			                                       ph[i].p_memsz };
		/* this thread's block of the module's TLS, if it has one yet */
		if (ph[i].p_type == PT_TLS && info->dlpi_tls_data && ph[i].p_memsz &&
		    S.ntls < SCAN_RANGES_MAX)
			S.tls[S.ntls++] = (struct scan_range){ (uintptr_t)info->dlpi_tls_data,
			                                       (uintptr_t)info->dlpi_tls_data +
			                                       ph[i].p_memsz };
	}
	return 0;
}

static uintptr_t hex_(const char **pp)
{
	uintptr_t v = 0;
	const char *p = *pp;
	for (;; p++) {
		unsigned d = *p >= '0' && *p <= '9' ? (unsigned)(*p - '0')
		             : *p >= 'a' && *p <= 'f' ? (unsigned)(*p - 'a' + 10) : 16u;
		if (d > 15)
			break;
		v = v << 4 | d;
	}
	*pp = p;
	return v;
}

/*
 * The mapping of /proc/self/maps that holds a, its end bounded by the
 * thread pointer tp when tp lies in it (0: no bound).  -1 if none.
 */
static int mapping_of(uintptr_t a, uintptr_t tp, struct scan_range *r)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char line[512];
	size_t len = 0;
	int found = -1;
	for (;;) {
		ssize_t n = read(fd, line + len, sizeof line - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		line[len] = 0;
		char *nl;
		while ((nl = memchr(line, '\n', len))) {
			*nl = 0;
			const char *p = line;
			uintptr_t lo = hex_(&p);
			p++;
			uintptr_t hi = hex_(&p);
			if (a >= lo && a < hi) {
				uintptr_t end = (tp + 4096 + 4095) & ~(uintptr_t)4095;
				*r = (struct scan_range){ lo, tp >= lo && tp < hi && end < hi ? end : hi };
				found = 0;
			}
			len -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, len);
			line[len] = 0;
		}
		if (len == sizeof line - 1)
			len = 0;   /* an overlong line: a path; the bounds were read */
		if (!found)
			break;
	}
	close(fd);
	return found;
}

/* Scan [lo, hi) through process_vm_readv, a page that fails skipped. */
static void scan_remote(struct hs_ctx *c, uintptr_t lo, uintptr_t hi)
{
	for (unsigned i = 0; i < S.ndone; i++)
		if (S.done[i].lo == lo && S.done[i].hi == hi)
			return;
	if (S.ndone < SCAN_RANGES_MAX)
		S.done[S.ndone++] = (struct scan_range){ lo, hi };
	pid_t pid = getpid();
	uintptr_t a = lo & ~(uintptr_t)7;
	while (a < hi) {
		size_t n = hi - a < sizeof S.buf ? hi - a : sizeof S.buf;
		struct iovec l = { S.buf, n }, r = { (void *)a, n };
		ssize_t got = syscall(SYS_process_vm_readv, pid, &l, 1UL, &r, 1UL, 0UL);
		if (got > 0) {
			hs_scan_root(c, S.buf, (size_t)got);
			a += (uintptr_t)got;
		} else {
			a = (a & ~(uintptr_t)4095) + 4096;
		}
	}
}

/* The live blocks, into b (NULL: count only).  Caller holds the locks. */
static size_t live_blocks(struct hs_block *b, size_t cap)
{
	size_t n = 0;
	uint32_t ninfo = __atomic_load_n(&R.ninfo, __ATOMIC_ACQUIRE);
	if (R.shadow) {
		for (size_t pi = 0; pi < PT_REGION_POOLS; pi++) {
			unsigned cls = pt__region_cls[pi];
			if (!cls)
				continue;
			uintptr_t pool = pt__region_base + (pi << PT_POOL_SHIFT);
			size_t size = pt__g.class_size[cls - 1];
			for (uintptr_t a = pool; a + size <= pool + PT_POOL_SIZE; a += size) {
				uint32_t id = __atomic_load_n(shadow_of(a), __ATOMIC_RELAXED);
				if (!id || id >= ninfo)
					continue;
				if (b && n < cap)
					b[n] = (struct hs_block){ a, R.infos[id].size, id, HS_UNSEEN };
				n++;
			}
		}
	}
	for (size_t i = 0; i < R.hcap; i++) {
		uint32_t id = R.hval[i];
		if (!R.hkey[i] || !id || id >= ninfo)
			continue;
		if (b && n < cap)
			b[n] = (struct hs_block){ R.hkey[i], R.infos[id].size, id, HS_UNSEEN };
		n++;
	}
	return b && n > cap ? cap : n;
}

/* One LEAKS record per 32 KiB or so; R.file held. */
static void write_leaks_locked(const uint64_t (*cnt)[2][3], uint32_t ninfo, uint64_t roots)
{
	static uint8_t rec[40 << 10];
	static const unsigned cls_of[] = { [HS_REACHABLE] = PT_LEAK_REACHABLE,
	                                   [HS_INDIRECT] = PT_LEAK_INDIRECT,
	                                   [HS_DIRECT] = PT_LEAK_DEFINITE };
	uint32_t id = 1;
	int first = 1;
	while (id < ninfo || first) {
		uint8_t *p = rec, *count_at;
		uint64_t seq = next_seq(), n = 0;
		*p++ = PT_REC_LEAKS;
		p = pt_put_u(p, seq);
		p = pt_put_u(p, first ? roots : 0);
		count_at = p;
		p += 10;
		for (; id < ninfo && p < rec + (32 << 10); id++)
			for (unsigned st = HS_REACHABLE; st <= HS_DIRECT; st++) {
				if (!cnt[id][0][st - 1])
					continue;
				p = pt_put_u(p, id);
				p = pt_put_u(p, cls_of[st]);
				p = pt_put_u(p, cnt[id][0][st - 1]);
				p = pt_put_u(p, cnt[id][1][st - 1]);
				n++;
			}
		p = put_count_before(count_at, p, n);
		chunk_write_locked(0, (uint32_t)gettid_(), seq, rec, (uint32_t)(p - rec));
		first = 0;
	}
}

static __attribute__((noinline)) void leak_scan(void)
{
	__builtin_unwind_init();   /* callee-saved registers onto this stack */
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	struct scan_range stack;
	int have_stack = mapping_of(sp, (uintptr_t)pthread_self(), &stack) == 0;

	S.nmod = S.ntls = S.nhint = S.ndone = 0;
	dl_iterate_phdr(scan_mod_cb, NULL);
	pthread_mutex_lock(&R.threads_lock);
	for (struct rec_thread *t = R.threads; t; t = t->next)
		if (t->state != T_FREE && t != tl_rec && t->stack_hint && S.nhint < SCAN_RANGES_MAX) {
			S.tp[S.nhint] = t->tp;
			S.hint[S.nhint++] = t->stack_hint;
		}
	pthread_mutex_unlock(&R.threads_lock);
	struct scan_range th[SCAN_RANGES_MAX / 16];
	unsigned nth = 0;
	for (unsigned i = 0; i < S.nhint && nth < sizeof th / sizeof th[0]; i++)
		if (mapping_of(S.hint[i], S.tp[i], &th[nth]) == 0 &&
		    !(have_stack && th[nth].lo == stack.lo))
			nth++;

	pthread_mutex_lock(&R.sampled_lock);
	pt_fork_prepare();   /* the allocator's lock: no arena goes away */
	uint32_t ninfo = __atomic_load_n(&R.ninfo, __ATOMIC_ACQUIRE);
	size_t n = live_blocks(NULL, 0);
	size_t bsz = (n * sizeof(struct hs_block) + 4095) & ~(size_t)4095;
	size_t wsz = (n * sizeof(uint32_t) + 4095) & ~(size_t)4095;
	size_t csz = ((size_t)ninfo * sizeof(uint64_t[2][3]) + 4095) & ~(size_t)4095;
	struct hs_ctx c = { .b = n ? rmap(bsz, 0) : NULL, .work = n ? rmap(wsz, 0) : NULL };
	uint64_t (*cnt)[2][3] = rmap(csz, 0);
	if ((n && (!c.b || !c.work)) || !cnt)
		goto out;
	c.n = live_blocks(c.b, n);
	hs_sort(c.b, c.n);
	for (unsigned i = 0; i < S.nmod; i++)
		scan_remote(&c, S.mod[i].lo, S.mod[i].hi);
	if (have_stack)
		hs_scan_root(&c, (const void *)sp, stack.hi - sp);
	for (unsigned i = 0; i < nth; i++)
		scan_remote(&c, th[i].lo, th[i].hi);
	for (unsigned i = 0; i < S.ntls; i++)
		hs_scan_root(&c, (const void *)S.tls[i].lo, S.tls[i].hi - S.tls[i].lo);
	hs_classify(&c);
	for (size_t i = 0; i < c.n; i++) {
		const struct hs_block *b = &c.b[i];
		cnt[b->info][0][b->state - 1]++;
		cnt[b->info][1][b->state - 1] += b->size;
	}
out:
	pt_fork_parent();
	pthread_mutex_unlock(&R.sampled_lock);
	if (cnt && (!n || (c.b && c.work))) {
		pthread_mutex_lock(&R.file);
		write_leaks_locked((const uint64_t (*)[2][3])cnt, ninfo, c.roots_bytes);
		pthread_mutex_unlock(&R.file);
	}
	if (c.b)
		munmap(c.b, bsz);
	if (c.work)
		munmap(c.work, wsz);
	if (cnt)
		munmap(cnt, csz);
}

/* ---- the snapshot thread -------------------------------------------------- */

/*
 * Is the snapshot thread the last one?  Then the program's threads have
 * all called pthread_exit(), and the process would have exited (with
 * status 0, as if exit(0) were called) but for this thread.  A main thread
 * that called pthread_exit() stays in the count as a zombie.
 */
static int only_thread_left(void)
{
	char buf[1024];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')');   /* the command name may hold anything */
	if (!p || p[1] != ' ')
		return 0;
	char leader_state = p[2];
	/* after ")": state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime stime cutime cstime priority nice num_threads,
	 * each after a space */
	for (int field = 0; field < 18; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return 0;
	}
	long threads = strtol_(p + 1);
	return threads == 1 || (threads == 2 && leader_state == 'Z' && gettid_() != R.pid);
}

static void *bg_main(void *arg)
{
	pt__rec_guard = 1;   /* nothing this thread allocates is the host's */
	uint64_t period = (uint64_t)pt__opt.interval_ms * 1000000u;
	uint64_t next = now_ns(CLOCK_MONOTONIC) + period;
	while (!atomic_load(&R.bg_stop)) {
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		if (now < next) {
			struct timespec ts = {
				.tv_sec = (time_t)((next - now) / 1000000000u),
				.tv_nsec = (long)((next - now) % 1000000000u),
			};
			syscall(SYS_futex, &wake_word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
		}
		atomic_store_explicit(&wake_word, 0, memory_order_relaxed);
		if (atomic_load(&R.bg_stop) || !pt__rec_on)
			break;
		pthread_mutex_lock(&R.threads_lock);
		write_ready(1);
		pthread_mutex_unlock(&R.threads_lock);
		if (atomic_exchange(&R.peak_pending, 0))
			snapshot(PT_SNAP_PEAK);
		if (now_ns(CLOCK_MONOTONIC) < next)
			continue;
		next += period;
		if (next < now_ns(CLOCK_MONOTONIC))
			next = now_ns(CLOCK_MONOTONIC) + period;   /* fell behind: skip */
		if (only_thread_left())
			exit(0);   /* what the last thread's pthread_exit would do */
		flush_all(0, 0);
		if (R.created)
			modules_refresh();
		/* the allocator's walk every FULL_EVERY intervals (it takes the
		 * allocator's lock, and most of a trace of a quiet program was
		 * its arenas again and again); with sampling the totals need it */
		snapshot(R.sample || ++R.nperiodic % FULL_EVERY == 1 ? PT_SNAP_PERIODIC
		                                                      : PT_SNAP_LIGHT);
	}
	return NULL;
}

static void bg_start(void)
{
	pthread_attr_t a;
	sigset_t all, old;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256 << 10);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);   /* the thread blocks every signal */
	pt__rec_guard = 1;
	R.bg_started = pthread_create(&R.bg, &a, bg_main, NULL) == 0;
	pt__rec_guard = 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&a);
}

/* ---- fatal signals -------------------------------------------------------- */

static void on_fatal(int sig, siginfo_t *si, void *uc)
{
	int e = errno;
	struct sigaction *old = &R.old_sa[sig];
	int dies = !(old->sa_flags & SA_SIGINFO) &&
	           (old->sa_handler == SIG_DFL);
	if (pt__rec_on) {
		/* flush what can be flushed without waiting for a lock this
		 * thread may hold (it may have crashed inside the recorder) */
		flush_all(1, 1);
		if (dies && pthread_mutex_trylock(&R.file) == 0) {
			write_end(PT_END_SIGNAL, sig);
			pthread_mutex_unlock(&R.file);
		}
	}
	if (dies || (!(old->sa_flags & SA_SIGINFO) && old->sa_handler == SIG_IGN)) {
		if (dies) {
			sigaction(sig, old, NULL);   /* the default action, then again */
			if (si->si_code <= 0 || (sig != SIGSEGV && sig != SIGBUS))
				raise(sig);          /* sent: re-raised; faults re-fault */
		}
		errno = e;
		return;
	}
	errno = e;
	if (old->sa_flags & SA_SIGINFO)
		old->sa_sigaction(sig, si, uc);
	else
		old->sa_handler(sig);
}

static void signals_install(void)
{
	for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++) {
		int s = fatal_signals[i];
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_fatal;
		sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
		sigemptyset(&sa.sa_mask);
		if (sigaction(s, NULL, &R.old_sa[s]) == 0 &&
		    !(R.old_sa[s].sa_flags & SA_SIGINFO) && R.old_sa[s].sa_handler == SIG_IGN)
			continue;   /* ignored stays ignored */
		sigaction(s, &sa, NULL);
	}
}

/* ---- life cycle ----------------------------------------------------------- */

static void start_common(void)
{
	R.pid = getpid();
	R.t0_mono = now_ns(CLOCK_MONOTONIC);
	R.t0_real = now_ns(CLOCK_REALTIME);
}

void pt__rec_init(void)
{
	pt__options_read();
	if (!pt__opt.profile)
		return;
	pt__rec_guard = 1;
	R.depth = pt__opt.depth;
	R.sample = pt__opt.sample;
	pt__rec_sfilter = R.sample ? rmap(PT_REC_SFILTER_SIZE, 0) : NULL;
	if (intern_init() || info_init() || live_init() || (R.sample && !pt__rec_sfilter)) {
		pt__dprintf(2, "pooltrace: warning: no memory for the recorder; profiling off\n");
		pt__rec_guard = 0;
		return;
	}
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	size_t zws = ZSTD_estimateCStreamSize(ZSTD_LEVEL);
	void *zw = rmap(zws, 0);
	R.zcap = ZSTD_compressBound(ZBUF_IN_MAX) + 1024;
	R.zbuf = rmap(R.zcap, 0);
	R.zc = zw && R.zbuf ? ZSTD_initStaticCCtx(zw, zws) : NULL;
	membarrier_ok = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
	R.key_ok = pthread_key_create(&R.key, thread_done) == 0;
	start_common();
	/* our own text range, so that our frames are dropped from stacks */
	struct mod_ctx m;
	static uint8_t probe[1 << 16];
	m.p = probe, m.end = probe + sizeof probe, m.count = 0, m.overflow = 0;
	dl_iterate_phdr(mod_list_cb, &m);
	pt__rec_guard = 0;
	pt__rec_on = 1;
	signals_install();
	bg_start();
}

void pt__rec_fini(void)
{
	if (!pt__rec_on)
		return;
	pt__rec_guard = 1;
	atomic_store(&R.bg_stop, 1);
	struct rec_thread *t = tl_rec;
	if (t && t->live_delta) {
		atomic_fetch_add(&R.live, t->live_delta);
		t->live_delta = 0;
	}
	flush_all(1, 0);
	if (!R.sample)
		leak_scan();
	snapshot(PT_SNAP_EXIT);
	pthread_mutex_lock(&R.file);
	write_end(PT_END_EXIT, 0);
	pthread_mutex_unlock(&R.file);
	pt__rec_on = 0;   /* what is freed after this is not part of the trace */
	pt__rec_guard = 0;
}

void pt__rec_fork_prepare(void)
{
	if (!pt__rec_on)
		return;
	pthread_mutex_lock(&R.threads_lock);
	pthread_mutex_lock(&R.intern);
	pthread_mutex_lock(&R.sampled_lock);
	pthread_mutex_lock(&R.file);
	pthread_mutex_lock(&R.mod_lock);
	pthread_mutex_lock(&R.info_lock);
}

void pt__rec_fork_parent(void)
{
	if (!pt__rec_on)
		return;
	pthread_mutex_unlock(&R.info_lock);
	pthread_mutex_unlock(&R.mod_lock);
	pthread_mutex_unlock(&R.file);
	pthread_mutex_unlock(&R.sampled_lock);
	pthread_mutex_unlock(&R.intern);
	pthread_mutex_unlock(&R.threads_lock);
}

/*
 * The child writes its own trace: a new file (created at its first flush,
 * so a child that only execs leaves none), no stacks known, no buffered
 * events of the parent's.  Blocks inherited from the parent are unknown to
 * its trace (flag PT_TRACE_F_FORKED).
 */
void pt__rec_fork_child(void)
{
	if (!pt__rec_on)
		return;
	pthread_mutex_init(&R.info_lock, NULL);
	pthread_mutex_init(&R.mod_lock, NULL);
	pthread_mutex_init(&R.file, NULL);
	pthread_mutex_init(&R.sampled_lock, NULL);
	pthread_mutex_init(&R.intern, NULL);
	pthread_mutex_init(&R.threads_lock, NULL);
	R.created = 0;
	R.path[0] = 0;
	R.forked = 1;
	R.zframe = 0;   /* the child's file starts its own frames */
	intern_reset();
	info_reset();
	live_reset();
	atomic_store(&R.live, 0);
	R.peak_mark = 0;
	atomic_store(&R.peak_busy, 0);
	struct rec_thread *self = tl_rec;
	for (struct rec_thread *t = R.threads; t; t = t->next) {
		atomic_store(&t->busy, 0);
		atomic_store(&t->req, R_NONE);
		atomic_store(&t->hand[0].ready, 0);
		atomic_store(&t->hand[1].ready, 0);
		t->len = 0;
		t->chunk_events = 0;
		t->n_malloc = t->n_free = t->hot.n_realloc = t->bytes_alloc = 0;
		t->last_ptr = 0;
		t->n_pool = t->bytes_pool = 0;
		t->live_delta = 0;
		t->interval = t->hot.sample_left;
		t->state = t == self ? T_LIVE : T_FREE;
	}
	if (self)
		self->tid = (uint32_t)gettid_();
	start_common();
	membarrier_ok = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
	atomic_store(&R.bg_stop, 0);
	bg_start();
}
