/*
 * rec_snapshot.c - the live heap and its peak, snapshots (RSS, live
 * bytes, call totals, the allocator's classes and arenas), the arenas few
 * blocks pin, and the snapshot thread that writes handed-over buffers,
 * flushes idle ones and takes a snapshot each interval.
 *
 * The thread starts with the program's first thread (threads.c says why):
 * until then the hooks do its work inline (pt__rsnap_tick): each hook,
 * before its event, takes the snapshots that are due (an interval passed,
 * by CLOCK_MONOTONIC_COARSE, which the vDSO reads in a few instructions;
 * a new peak), when no lock of the allocator is held.  A single-threaded program that stops allocating
 * gets no snapshot while it does not (nothing it could show changes but
 * its RSS), and the last interval's events reach the file at exit.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "../allocator/layout.h"
#include "libc_sym.h"
#include "options.h"
#include "rec_internal.h"

#define PEAK_STEP_MIN (1ull << 20)      /* a new peak snapshot: +1 MiB ... */
#define PEAK_STEP_DIV 16                /* ... and +1/16 of the last peak */
#define FULL_EVERY    10                /* snapshots: one in this many walks the pools */
#define PIN_CAND_MAX  4096              /* candidate arenas of a walk */
#define WALK_SPACING  50                /* periodic walks: at most 1/this of the time */

static struct {
	/* the live heap (block bytes) and its peak */
	_Atomic int64_t live;
	int64_t peak_mark;
	atomic_int peak_busy;
	atomic_int peak_pending;   /* the snapshot thread takes a PEAK snapshot */

	/* the snapshot thread */
	pthread_t thread;
	atomic_int started;        /* the thread was created */
	atomic_int starting;       /* ... or is being */
	pid_t tid;
	atomic_int stop;
	atomic_int wake;           /* a futex word */
	unsigned nperiodic;

	/* without the thread: the inline ticks */
	atomic_int tick_busy;
	uint64_t tick_next;        /* the next periodic snapshot (monotonic ns) */
	uint32_t tick_nflush;      /* the ticking thread's chunks at the last one */

	/* under the file's lock: the record being built, and the arenas held
	 * by at most PT_PINNED_MAX live blocks met by the last walk of a peak
	 * or exit snapshot */
	uint8_t *scratch;
	size_t scratch_cap;
	uintptr_t pin_cand[PIN_CAND_MAX];
	unsigned pin_ncand;
	int pin_all;
	struct pt_stats st;        /* the last walk's: light snapshots of a
	                              sampled trace read the pools' totals here */
	uint64_t walk_next;        /* no periodic walk before (monotonic ns) */
} S;

/* ---- the live heap and its peak --------------------------------------------- */

/*
 * A new peak (by a margin) asks the snapshot thread for a PEAK snapshot:
 * taking it here would take the allocator's lock, which this thread may
 * hold already if a signal handler allocates.
 */
void pt__rsnap_fold(struct pt_rec_thread *t)
{
	int64_t live = atomic_fetch_add_explicit(&S.live, t->live_delta, memory_order_relaxed)
	               + t->live_delta;
	t->live_delta = 0;
	int64_t mark = __atomic_load_n(&S.peak_mark, __ATOMIC_RELAXED);
	if (live <= mark || atomic_exchange(&S.peak_busy, 1))
		return;
	int64_t step = mark / PEAK_STEP_DIV;
	if (step < (int64_t)PEAK_STEP_MIN)
		step = PEAK_STEP_MIN;
	__atomic_store_n(&S.peak_mark, live + step, __ATOMIC_RELAXED);
	atomic_store(&S.peak_pending, 1);
	atomic_store(&S.peak_busy, 0);
	if (atomic_load_explicit(&S.started, memory_order_relaxed))
		pt__rsnap_wake();
	else
		t->tick = 0;   /* taken as the next hook begins */
}

void pt__rsnap_fold_quiet(struct pt_rec_thread *t)
{
	if (t->live_delta) {
		atomic_fetch_add(&S.live, t->live_delta);
		t->live_delta = 0;
	}
}

/* ---- a snapshot ---------------------------------------------------------------- */

/* A small file of /proc, NUL-terminated in buf; its length, 0 if none. */
static size_t read_proc(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t r = read(fd, buf, cap - 1);
	close(fd);
	buf[r > 0 ? r : 0] = 0;
	return r > 0 ? (size_t)r : 0;
}

static uint64_t read_rss(void)
{
	char buf[128];
	if (!read_proc("/proc/self/statm", buf, sizeof buf))
		return 0;
	const char *s = buf;
	while (*s && *s != ' ')
		s++;
	uint64_t pages = 0;
	for (s++; *s >= '0' && *s <= '9'; s++)
		pages = pages * 10 + (uint64_t)(*s - '0');
	return pages * (uint64_t)sysconf(_SC_PAGESIZE);
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

/* The call totals of every buffer; with sampling, the pool blocks realloc
 * moved, which the allocator's counts take for mallocs and frees. */
struct totals {
	struct pt_r_snapshot r;
	uint64_t realloc_pool_in, realloc_pool_out;
};

static void sum_counters(struct pt_rec_thread *t, void *arg)
{
	struct totals *tt = arg;
	struct pt_r_snapshot *r = &tt->r;
	tt->realloc_pool_in += __atomic_load_n(&t->hot.realloc_pool_in, __ATOMIC_RELAXED);
	tt->realloc_pool_out += __atomic_load_n(&t->hot.realloc_pool_out, __ATOMIC_RELAXED);
	r->n_malloc += __atomic_load_n(&t->n_malloc, __ATOMIC_RELAXED);
	r->n_free += __atomic_load_n(&t->n_free, __ATOMIC_RELAXED);
	r->n_realloc += __atomic_load_n(&t->hot.n_realloc, __ATOMIC_RELAXED);
	r->bytes_alloc += __atomic_load_n(&t->bytes_alloc, __ATOMIC_RELAXED);
	r->n_pool += __atomic_load_n(&t->n_pool, __ATOMIC_RELAXED);
	r->bytes_pool += __atomic_load_n(&t->bytes_pool, __ATOMIC_RELAXED);
	if (pt__rcfg.sample && t->state != PT_T_FREE)   /* the countdown under way */
		r->bytes_alloc += (uint64_t)(__atomic_load_n(&t->interval, __ATOMIC_RELAXED) -
		                             __atomic_load_n(&t->hot.sample_left, __ATOMIC_RELAXED));
}

struct arena_ctx {
	uint8_t *p, *end;
	uint64_t prev;
	uint64_t n;
	int dropped;   /* an arena found no room */
};

static void arena_cb(const struct pt_arena_info *a, void *arg)
{
	struct arena_ctx *c = arg;
	/* the walk counts blocks in thread caches as used: the shadow words
	 * of the candidates tell (at exit, when the caches hold more than the
	 * heap, every arena is one) */
	if (a->blocks_used && (S.pin_all || a->blocks_used <= 2 * PT_PINNED_MAX) &&
	    S.pin_ncand < PIN_CAND_MAX)
		S.pin_cand[S.pin_ncand++] = a->base;
	if ((size_t)(c->end - c->p) < PT_FIELDS_MAX(PT_FIELDS_SNAP_ARENA)) {
		c->dropped = 1;
		return;
	}
	struct pt_r_snap_arena r = {
		.base = a->base, .pools_used = a->pools_used, .pools_empty = a->pools_empty,
		.pools_untouched = a->pools_untouched, .blocks_used = a->blocks_used,
		.bytes_in_blocks = a->bytes_in_blocks,
	};
	PT_ENCODE_FIELDS(c->p, &r, c->prev, PT_FIELDS_SNAP_ARENA);
	c->n++;
}

/* The live blocks of a candidate arena, by info, counted pool by pool;
 * past PT_PINNED_MAX blocks the arena is not pinned and counting stops. */
struct pinned_count {
	uint32_t ninfo;
	uint64_t blocks, bytes;
	unsigned ne;
	struct pt_r_pinned_info e[PT_PINNED_MAX];
};

static void pinned_pool(uintptr_t pool, size_t size, void *arg)
{
	struct pinned_count *c = arg;
	for (uintptr_t b = pool; b + size <= pool + PT_POOL_SIZE && c->blocks <= PT_PINNED_MAX;
	     b += size) {
		uint32_t id = pt__rlive_peek(b);
		if (!id || id >= c->ninfo)
			continue;
		if (++c->blocks > PT_PINNED_MAX)
			return;
		c->bytes += pt__rec_infos[id].size;
		unsigned k = 0;
		while (k < c->ne && c->e[k].info != id)
			k++;
		if (k == c->ne)
			c->e[c->ne++] = (struct pt_r_pinned_info){ id, 0 };
		c->e[k].blocks++;
	}
}

/*
 * The PINNED record of a peak or exit snapshot: for each candidate arena
 * of the walk just made, the infos of its live blocks, read from the
 * shadow words of its pools.  Other threads may allocate and free while
 * this reads: the list is as of a moment during the snapshot, and an arena
 * that gained blocks meanwhile is left out.  The file's lock held.
 */
static void write_pinned_locked(int kind)
{
	static uint8_t rec[PIN_CAND_MAX / 8 * 256];
	uint8_t *p = rec, *end = rec + sizeof rec;
	struct pt_r_pinned head = { .seq = pt__rec_next_seq(), .snap_kind = (uint32_t)kind };
	uint64_t n = 0, prev = 0;
	uint32_t ninfo = pt__rinfo_count();
	p = pt_enc_type(p, PT_REC_PINNED);
	PT_ENCODE(p, &head, PT_FIELDS_PINNED);
	uint8_t *count_at = p;
	p = pt_enc_count_open(p);
	for (unsigned i = 0; i < S.pin_ncand; i++) {
		uintptr_t a = S.pin_cand[i];
		if (!pt__in_region(a))
			continue;   /* its blocks are in the map, not the shadow */
		struct pinned_count pc = { .ninfo = ninfo };
		pt_pool_walk(a + PT_POOL_SIZE, a + PT_ARENA_SIZE, pinned_pool, &pc);
		struct pt_r_pinned_info *e = pc.e;
		unsigned ne = pc.ne;
		uint64_t blocks = pc.blocks, bytes = pc.bytes;
		if (!blocks || blocks > PT_PINNED_MAX ||
		    (size_t)(end - p) < PT_FIELDS_MAX(PT_FIELDS_PINNED_ARENA) +
		                        ne * PT_FIELDS_MAX(PT_FIELDS_PINNED_INFO))
			continue;
		struct pt_r_pinned_arena r = { .base = a, .blocks = blocks, .bytes = bytes,
		                               .ninfos = ne };
		PT_ENCODE_FIELDS(p, &r, prev, PT_FIELDS_PINNED_ARENA);
		for (unsigned k = 0; k < ne; k++)
			PT_ENCODE(p, &e[k], PT_FIELDS_PINNED_INFO);
		n++;
	}
	p = pt_enc_count_close(count_at, p, n);
	pt__rfile_write0_locked(head.seq, rec, (size_t)(p - rec));
}

/* Room for a full snapshot record in S.scratch (the file's lock held). */
static int scratch_fit(size_t need)
{
	if (need <= S.scratch_cap)
		return 0;
	if (S.scratch)
		pt__unmap(S.scratch, S.scratch_cap);
	S.scratch_cap = (need + 65535) & ~(size_t)65535;
	S.scratch = pt__map(S.scratch_cap, 0);
	if (!S.scratch) {
		S.scratch_cap = 0;
		return -1;
	}
	return 0;
}

/* With sampling: the pools' calls and blocks, which the hooks do not see,
 * into r as of the last walk (S.st); the live heap (the pools' blocks and
 * glibc's in use now). */
static int64_t add_pool_totals(struct pt_r_snapshot *r, const struct totals *tt)
{
	const struct pt_stats *st = &S.st;
	uint64_t used = 0, req = 0;
	for (unsigned k = 0; k < st->nclasses; k++) {
		used += st->cls[k].blocks_used;
		req += st->cls[k].req_bytes;
	}
	uint64_t pool_frees = st->nmalloc > used ? st->nmalloc - used : 0;
	r->n_malloc += st->nmalloc > tt->realloc_pool_in ? st->nmalloc - tt->realloc_pool_in : 0;
	r->n_free += pool_frees > tt->realloc_pool_out ? pool_frees - tt->realloc_pool_out : 0;
	r->n_pool = st->nmalloc;
	r->bytes_pool = req;
	return (int64_t)(st->bytes_in_blocks + r->glibc_in_use);
}

/* Write a snapshot record on stream 0: a light one has the head only. */
void pt__rsnap_take(int kind)
{
	if (!pt__rec_on)
		return;
	struct totals tt = {
		.r = { .kind = (uint32_t)kind, .rss = read_rss(), .glibc_in_use = glibc_in_use() },
	};
	pt__rbuf_each(sum_counters, &tt);
	struct pt_r_snapshot r = tt.r;

	pt__rfile_lock();
	int64_t live = atomic_load(&S.live);
	if (kind == PT_SNAP_LIGHT) {
		/* time, RSS, live heap and counters only: no walk of the pools
		 * (with sampling, the pools' figures of the last walk) */
		uint8_t rec[1 + PT_FIELDS_MAX(PT_FIELDS_SNAPSHOT)], *p = rec;
		if (pt__rcfg.sample)
			live = add_pool_totals(&r, &tt);
		r.seq = pt__rec_next_seq();
		r.time_ns = pt__now_ns(CLOCK_MONOTONIC) - pt__rcfg.t0_mono;
		r.live = live > 0 ? (uint64_t)live : 0;
		p = pt_enc_type(p, PT_REC_SNAPSHOT);
		PT_ENCODE(p, &r, PT_FIELDS_SNAPSHOT);
		pt__rfile_write0_locked(r.seq, rec, (size_t)(p - rec));
		pt__rfile_unlock();
		return;
	}
	/*
	 * One walk of the pools (with sampling every periodic snapshot makes
	 * one, 10 ms apart): the stats, and the arena records encoded beyond
	 * the room of what comes before them in the record, moved down after.
	 */
	struct pt_stats *st = &S.st;
	const size_t head = 1 + PT_FIELDS_MAX(PT_FIELDS_SNAPSHOT) + PT_FIELDS_MAX(PT_FIELDS_SNAP_POOLS) +
	                    1 + PT_FIELDS_MAX(PT_FIELDS_EXT) + PT_FIELDS_MAX(PT_FIELDS_EXT_MESH) +
	                    10 + PT_NCLASSES_MAX * PT_FIELDS_MAX(PT_FIELDS_SNAP_CLASS) + PT_COUNT_ROOM;
	/* room for the arenas the last walk saw; more than that: their walk
	 * again, with room for all */
	S.pin_all = kind == PT_SNAP_EXIT;
	uint64_t t0 = pt__now_ns(CLOCK_MONOTONIC);
	struct arena_ctx ac;
	for (int again = 0;; again = 1) {
		if (scratch_fit(head + (st->arenas_mapped + 64) * PT_FIELDS_MAX(PT_FIELDS_SNAP_ARENA))) {
			pt__rfile_unlock();
			return;
		}
		ac = (struct arena_ctx){ S.scratch + head, S.scratch + S.scratch_cap, 0, 0, 0 };
		S.pin_ncand = 0;
		if (again)
			pt_arena_walk(arena_cb, &ac);
		else
			pt_stats_walk(st, arena_cb, &ac);
		if (!ac.dropped || again)
			break;
	}
	uint64_t walked = pt__now_ns(CLOCK_MONOTONIC);
	S.walk_next = walked + WALK_SPACING * (walked - t0);
	if (pt__rcfg.sample)   /* the hooks counted only glibc's calls */
		live = add_pool_totals(&r, &tt);
	uint8_t *p = S.scratch;
	r.seq = pt__rec_next_seq();
	r.time_ns = pt__now_ns(CLOCK_MONOTONIC) - pt__rcfg.t0_mono;
	r.live = live > 0 ? (uint64_t)live : 0;
	struct pt_mesh_stats ms = { 0 };
	if (pt__opt.mesh)   /* (another take of the allocator's lock otherwise) */
		pt_mesh_stats(&ms);
	if (ms.on || ms.meshes) {   /* meshing's figures, just before (PT_EXT_MESH) */
		uint8_t body[PT_FIELDS_MAX(PT_FIELDS_EXT_MESH)], *b = body;
		struct pt_r_ext_mesh m = { .seq = r.seq, .meshed_now = ms.meshed_now,
		                           .meshes = ms.meshes, .unmeshes = ms.unmeshes };
		PT_ENCODE(b, &m, PT_FIELDS_EXT_MESH);
		struct pt_r_ext h = { .ext = PT_EXT_MESH, .len = (uint64_t)(b - body) };
		p = pt_enc_type(p, PT_REC_EXT);
		PT_ENCODE(p, &h, PT_FIELDS_EXT);
		memcpy(p, body, h.len);
		p += h.len;
	}
	p = pt_enc_type(p, PT_REC_SNAPSHOT);
	PT_ENCODE(p, &r, PT_FIELDS_SNAPSHOT);
	struct pt_r_snap_pools pools = {
		.arenas_mapped = st->arenas_mapped, .pools_in_use = st->pools_in_use,
		.pools_empty_heap = st->pools_empty_heap, .pools_free_dirty = st->pools_free_dirty,
		.pools_purged = st->pools_free_purged, .bytes_in_blocks = st->bytes_in_blocks,
		.bytes_free_blocks = st->bytes_free_blocks, .rounding_est = st->bytes_rounding_est,
		.pool_tails = st->bytes_pool_tail, .headers = st->bytes_headers,
	};
	PT_ENCODE(p, &pools, PT_FIELDS_SNAP_POOLS);
	p = pt_put_u(p, st->nclasses);
	for (unsigned k = 0; k < st->nclasses; k++) {
		const struct pt_class_stats *cs = &st->cls[k];
		struct pt_r_snap_class c = {
			.pools_used = cs->pools_used, .pools_full = cs->pools_full,
			.pools_empty = cs->pools_empty, .blocks_used = cs->blocks_used,
			.blocks_free = cs->blocks_free, .blocks_cached = cs->blocks_cached,
			.nmalloc = cs->nmalloc, .req_bytes = cs->req_bytes,
		};
		PT_ENCODE(p, &c, PT_FIELDS_SNAP_CLASS);
	}
	/* the arena list goes last, after its count */
	p = pt_put_u(p, ac.n);
	size_t alen = (size_t)(ac.p - (S.scratch + head));
	memmove(p, S.scratch + head, alen);
	p += alen;
	pt__rfile_write0_locked(r.seq, S.scratch, (size_t)(p - S.scratch));
	if (!pt__rcfg.sample && pt__rlive_has_shadow() &&
	    (kind == PT_SNAP_PEAK || kind == PT_SNAP_EXIT))
		write_pinned_locked(kind);
	pt__rfile_unlock();
}

/* ---- the snapshot thread --------------------------------------------------------- */

void pt__rsnap_wake(void)
{
	if (!atomic_exchange_explicit(&S.wake, 1, memory_order_release))
		syscall(SYS_futex, &S.wake, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

int pt__rsnap_thread_started(void)
{
	return atomic_load_explicit(&S.started, memory_order_relaxed);
}

pid_t pt__rsnap_thread_tid(void)
{
	return __atomic_load_n(&S.tid, __ATOMIC_ACQUIRE);
}

static long strtol_(const char *s)
{
	long v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return v;
}

/*
 * Is the snapshot thread the last one?  Then the program's threads have
 * all called pthread_exit(), and the process would have exited (with
 * status 0, as if exit(0) were called) but for this thread.  A main thread
 * that called pthread_exit() stays in the count as a zombie.
 */
static int only_thread_left(void)
{
	char buf[1024];
	if (!read_proc("/proc/self/stat", buf, sizeof buf))
		return 0;
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
	return threads == 1 || (threads == 2 && leader_state == 'Z' && pt__gettid() != pt__rcfg.pid);
}

/*
 * The allocator's walk every FULL_EVERY intervals (it takes the
 * allocator's lock, and most of a trace of a quiet program was its arenas
 * again and again); with sampling, whose totals need it, at every interval
 * unless the last walk took more than 1/WALK_SPACING of the time since
 * (a walk of a 300 MiB heap takes about 1 ms; every 10 ms, it cost
 * bench/allocfree 6% of its time, on its own thread).
 */
static void take_periodic(void)
{
	int full = pt__rcfg.sample ? pt__now_ns(CLOCK_MONOTONIC) >= S.walk_next
	                           : ++S.nperiodic % FULL_EVERY == 1;
	pt__rsnap_take(full ? PT_SNAP_PERIODIC : PT_SNAP_LIGHT);
}

static void *thread_main(void *arg)
{
	pt__inside = 1;   /* nothing this thread allocates is the host's */
	__atomic_store_n(&S.tid, pt__gettid(), __ATOMIC_RELEASE);
	uint64_t period = (uint64_t)pt__opt.interval_ms * 1000000u;
	uint64_t next = pt__now_ns(CLOCK_MONOTONIC) + period;
	while (!atomic_load(&S.stop)) {
		uint64_t now = pt__now_ns(CLOCK_MONOTONIC);
		if (now < next) {
			struct timespec ts = {
				.tv_sec = (time_t)((next - now) / 1000000000u),
				.tv_nsec = (long)((next - now) % 1000000000u),
			};
			syscall(SYS_futex, &S.wake, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
		}
		atomic_store_explicit(&S.wake, 0, memory_order_relaxed);
		if (atomic_load(&S.stop) || !pt__rec_on)
			break;
		pt__rbuf_write_ready(1);
		if (atomic_exchange(&S.peak_pending, 0))
			pt__rsnap_take(PT_SNAP_PEAK);
		if (pt__now_ns(CLOCK_MONOTONIC) < next)
			continue;
		next += period;
		if (next < pt__now_ns(CLOCK_MONOTONIC))
			next = pt__now_ns(CLOCK_MONOTONIC) + period;   /* fell behind: skip */
		if (only_thread_left()) {
			/* what the last thread's pthread_exit would do; the exit
			 * handlers run here, as the program's */
			pt__inside = 0;
			exit(0);
		}
		pt__rbuf_flush_all(0, 0);
		if (pt__rfile_created())
			pt__rfile_modules_refresh();
		take_periodic();
	}
	return NULL;
}

static void thread_create(void)
{
	if (atomic_exchange(&S.starting, 1))
		return;
	pthread_attr_t a;
	sigset_t all, old;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256 << 10);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);   /* the thread blocks every signal */
	pt__inside++;
	atomic_store(&S.stop, 0);
	int ok = pt__libc_pthread_create(&S.thread, &a, thread_main, NULL) == 0;
	pt__inside--;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&a);
	if (ok)
		atomic_store(&S.started, 1);
	else
		atomic_store(&S.starting, 0);   /* the ticks go on; the next try */
}

void pt__rsnap_start(void)
{
	atomic_store(&S.started, 0);
	atomic_store(&S.starting, 0);
	atomic_store(&S.tick_busy, 0);
	S.tick_next = pt__now_ns(CLOCK_MONOTONIC) + (uint64_t)pt__opt.interval_ms * 1000000u;
	if (!pt__single_threaded())
		thread_create();
}

void pt__rsnap_threads_begin(void)
{
	if (pt__rec_on && !atomic_load(&S.stop) && !atomic_load(&S.started))
		thread_create();
}

void pt__rsnap_tick(struct pt_rec_thread *t)
{
	if (atomic_load_explicit(&S.started, memory_order_relaxed)) {
		t->tick = INT_MAX;   /* the thread does it */
		return;
	}
	t->tick = 0;
	uint64_t now = pt__now_ns(CLOCK_MONOTONIC_COARSE);
	if (!atomic_load_explicit(&S.peak_pending, memory_order_relaxed) &&
	    now < __atomic_load_n(&S.tick_next, __ATOMIC_RELAXED))
		return;   /* nothing due: most hooks */
	/* a signal handler's call that interrupted the allocator under its
	 * lock: the snapshot would wait for it */
	if (pt_arenas_held() || atomic_exchange(&S.tick_busy, 1))
		return;
	if (atomic_exchange(&S.peak_pending, 0))
		pt__rsnap_take(PT_SNAP_PEAK);
	if (now >= S.tick_next) {
		S.tick_next = now + (uint64_t)pt__opt.interval_ms * 1000000u;
		/* as the thread does for a buffer unwritten for an interval */
		if (t->nflush == S.tick_nflush && t->len)
			pt__rbuf_flush(t, 1);
		S.tick_nflush = t->nflush;
		if (!pt__single_threaded())   /* threads of glibc's own */
			pt__rbuf_flush_all(0, 0);
		take_periodic();
	}
	atomic_store(&S.tick_busy, 0);
}

void pt__rsnap_stop(void)
{
	atomic_store(&S.stop, 1);
}

/* The child: its trace has seen no block; the thread is started anew. */
void pt__rsnap_fork_child(void)
{
	atomic_store(&S.live, 0);
	S.peak_mark = 0;
	atomic_store(&S.peak_busy, 0);
}
