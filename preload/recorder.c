/*
 * recorder.c - POOLTRACE_PROFILE=1: every allocation and free, with its
 * call stack, streamed to a trace file (format: trace_format.h); the
 * recorder's start and exit, fork, and fatal signals.  rec_internal.h
 * lists the files that do the rest.
 *
 * Inside the host program, so:
 *  - a thread-local guard (pt__inside): allocations made while recording
 *    (libunwind's, glibc's inside dl_iterate_phdr or pthread_create) are
 *    served but never recorded, and never recurse into the recorder;
 *  - the recorder's memory comes from mmap, never from the host's heap;
 *  - no global lock per event: each thread appends to its own buffer, a
 *    process-wide counter numbers the events;
 *  - failure never harms the host: one warning line, then no profiling.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "../allocator/pool_alloc.h"
#include "faults.h"
#include "fmt.h"
#include "modules.h"
#include "options.h"
#include "rec_internal.h"
#include "unwind.h"

#define STORE_SIZE    (1ull << 30)      /* reserved for stack frames */

volatile int pt__rec_on;
const struct pt_rec_hot pt__rec_no_hot = { .sample_left = INT64_MIN };
__thread struct pt_rec_hot *pt__rec_tl __attribute__((tls_model("initial-exec"))) =
	(struct pt_rec_hot *)&pt__rec_no_hot;
struct pt_rec_config pt__rcfg;
uint64_t pt__rec_unrecorded;
static int init_on_main;   /* pt__rec_init ran on the main thread */

static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGABRT };
static struct sigaction old_sa[32];

/* The END record: the last of a complete trace.  The file's lock held. */
static void write_end_locked(int reason, int code)
{
	struct pt_r_end r = { .seq = pt__rec_next_seq(), .reason = (uint32_t)reason,
	                      .code = (uint32_t)code };
	uint8_t rec[1 + PT_FIELDS_MAX(PT_FIELDS_END)], *p = pt_enc_type(rec, PT_REC_END);
	PT_ENCODE(p, &r, PT_FIELDS_END);
	pt__rfile_write0_locked(r.seq, rec, (size_t)(p - rec));
}

/* ---- fatal signals --------------------------------------------------------------- */

static void on_fatal(int sig, siginfo_t *si, void *uc)
{
	int e = errno;
	struct sigaction *old = &old_sa[sig];
	int dies = !(old->sa_flags & SA_SIGINFO) && (old->sa_handler == SIG_DFL);
	if (pt__rec_on) {
		/* flush what can be flushed without waiting for a lock this
		 * thread may hold (it may have crashed inside the recorder) */
		pt__rbuf_flush_all(1, 1);
		if (dies && pt__rfile_trylock() == 0) {
			write_end_locked(PT_END_SIGNAL, sig);
			pt__rfile_unlock();
		}
	}
	errno = e;
	pt__signal_pass_on(sig, si, uc, old);
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
		if (sigaction(s, NULL, &old_sa[s]) == 0 &&
		    !(old_sa[s].sa_flags & SA_SIGINFO) && old_sa[s].sa_handler == SIG_IGN)
			continue;   /* ignored stays ignored */
		sigaction(s, &sa, NULL);
	}
}

/* ---- life cycle ------------------------------------------------------------------ */

static void start_clock(void)
{
	pt__rcfg.pid = getpid();
	pt__rcfg.t0_mono = pt__now_ns(CLOCK_MONOTONIC);
	pt__rcfg.t0_real = pt__now_ns(CLOCK_REALTIME);
}

void pt__rec_init(void)
{
	pt__options_read();
	if (!pt__opt.profile || !pt__opt_traced())   /* pooltrace run --children */
		return;
	pt__inside++;
	pt__rcfg.depth = pt__opt.depth;
	pt__rcfg.sample = pt__opt.sample;
	pt_init();   /* the sampling filter's index is relative to the pools' region */
	if (pt__stacks_init(&pt__rec_stacks, PT_TRACE_MAX_STACKS, STORE_SIZE) ||
	    pt__rinfo_init() || pt__rlive_init()) {
		pt__dprintf(2, "pooltrace: warning: no memory for the recorder; profiling off\n");
		pt__inside--;
		return;
	}
	pt__unwind_cache_per_thread();
	/* one stack now: libunwind creates its thread key at its first trace,
	 * and a key made after the program's 32nd has its values in an array
	 * glibc callocs per thread inside our unwinding, which the trace then
	 * never sees (that array also holds the program's values of keys 32
	 * and up: they looked lost) */
	{
		void *ip[4];
		int (*bt)(void **, int) = __atomic_load_n(&pt__unw_backtrace, __ATOMIC_ACQUIRE);
		if (bt)
			(void)bt(ip, 4);
	}
	pt__rfile_init();
	pt__rbuf_init();
	pt__rhooks_select();
	start_clock();
	pt__modules_find_self();   /* our frames are dropped from stacks */
	pt__leak_scan_init();
	init_on_main = pt__gettid() == getpid();
	pt__inside--;
	pt__rec_set_on(1);
	signals_install();
	pt__rsnap_start();
}

void pt__rec_main_thread(void)
{
	if (!pt__rec_on || init_on_main)
		return;
	pt__inside++;
	pt__leak_scan_init();
	init_on_main = 1;
	pt__inside--;
}

/*
 * The end of the trace: the last events, the exit scan, the exit snapshot
 * and the END record.  A thread interrupted inside the recorder, or inside
 * the allocator under its lock (a signal handler that ends the process, or
 * a child forked from such a handler that ends with _exit), may hold locks
 * that the recorder's other thread waits for: only what can be written
 * without waiting is written then, and the END record only if the file is
 * free.
 */
static void finish(const struct pt_exit_context *ctx, int code)
{
	if (!pt__rec_on)
		return;
	if (pt__inside || pt_arenas_held()) {
		pt__rsnap_stop();
		pt__rbuf_flush_all(1, 1);
		if (pt__rfile_trylock() == 0) {
			write_end_locked(PT_END_EXIT, code);
			pt__rfile_unlock();
		}
		return;
	}
	pt__inside++;
	pt__rsnap_stop();
	struct pt_rec_thread *t = pt__rec_self;
	if (t)
		pt__rsnap_fold_quiet(t);
	pt__rbuf_flush_all(1, 0);
	if (!pt__rcfg.sample)
		pt__leak_scan(ctx);
	pt__rsnap_take(PT_SNAP_EXIT);
	pt__rfile_lock();
	write_end_locked(PT_END_EXIT, code);
	pt__rfile_unlock();
	pt__rec_set_on(0);   /* what is freed after this is not part of the trace */
	pt__inside--;
}

void pt__rec_fini(const struct pt_exit_context *ctx)
{
	finish(ctx, 0);
}

void pt__rec_exit(const struct pt_exit_context *ctx, int status)
{
	finish(ctx, status);
}

void pt__rec_threads_begin(void)
{
	pt__rsnap_threads_begin();
}

/* fork: every lock of the recorder, in their order (common.h) */
void pt__rec_fork_prepare(void)
{
	if (!pt__rec_on)
		return;
	pt__rbuf_fork_prepare();
	pt__lock_acquire(&pt__rec_stacks.lock);
	pt__rlive_lock();
	pt__rfile_fork_prepare();
	pt__rinfo_fork_prepare();
}

void pt__rec_fork_parent(void)
{
	if (!pt__rec_on)
		return;
	pt__rinfo_fork_parent();
	pt__rfile_fork_parent();
	pt__rlive_unlock();
	pt__lock_release(&pt__rec_stacks.lock);
	pt__rbuf_fork_parent();
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
	pt__rinfo_fork_child();
	pt__rfile_fork_child();
	pt__rlive_fork_child();
	pt__lock_reinit(&pt__rec_stacks.lock);
	pt__stacks_reset(&pt__rec_stacks);
	pt__rbuf_fork_child();
	pt__rsnap_fork_child();
	if (!pt__opt_traced()) {   /* pooltrace run --children: not this one */
		pt__rec_set_on(0);
		return;
	}
	pt__rcfg.forked = 1;
	pt__rec_unrecorded = 0;   /* the parent's; the header's flag covers them */
	start_clock();
	/* forked from a signal handler that interrupted the allocator under
	 * its lock: the snapshot thread would wait for it, holding the file,
	 * until the handler returns, if it ever does */
	if (!pt_arenas_held())
		pt__rsnap_start();
}
