/*
 * faults.c - POOLTRACE_MESH's SIGSEGV handler.  Meshing's write barrier
 * (allocator/barrier.c) write-protects a page for the moment it is copied;
 * a thread that writes there takes a fault, and this handler asks
 * pt_mesh_fault whether it was ours: then it returns and the write is made
 * again.  Every other fault goes to the program's own disposition.
 *
 * The program must not see us: while the handler is installed, sigaction,
 * __sigaction, signal and bsd_signal are ours for SIGSEGV.  They keep the
 * program's disposition here and answer with it, and ours stays in front
 * (Mesh interposes them the same way).  Every fault that is not meshing's
 * goes to it through pt__signal_pass_on (faults.h), as the kernel would
 * have delivered it; the recorder's crash handler passes signals on the
 * same way.  Ours runs on the alternate stack when the thread has one
 * (SA_ONSTACK): a program that catches its own stack overflows still can.
 *
 * Not seen: a program that sets its handler with the raw system call (Go's
 * runtime, some JVMs) replaces ours; meshing's faults then reach it.
 * Installed at the first allocation, only when meshing is on.  glibc's own
 * functions are looked up in the constructor (pt__faults_resolve), so that
 * a call from a signal handler never takes the loader's lock of the first
 * lookup.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "../allocator/compiler.h"
#include "../allocator/pool_alloc.h"
#include "faults.h"
#include "libc_sym.h"

static struct sigaction prog;        /* the program's SIGSEGV disposition */
static volatile int installed;
static int prog_pid;                 /* the process prog belongs to */
/* This thread is forking: from our prepare handler to our parent or child
 * handler, so that the child's handlers before ours are the child's. */
static __thread uint8_t tl_forking __attribute__((tls_model("initial-exec")));

static struct pt_libc_fn sigaction_fn = { "sigaction", NULL, 0 };
static struct pt_libc_fn signal_fn = { "signal", NULL, 0 };

void pt__faults_resolve(void)
{
	pt__libc_fn(&sigaction_fn);
	pt__libc_fn(&signal_fn);
}

static int libc_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	int (*f)(int, const struct sigaction *, struct sigaction *) =
		(int (*)(int, const struct sigaction *, struct sigaction *))pt__libc_fn(&sigaction_fn);
	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	return f(sig, act, old);
}

/* A function to call, as the kernel sees it: neither SIG_DFL nor SIG_IGN
 * (sa_handler and sa_sigaction share their storage). */
static bool handles(const struct sigaction *a)
{
	return a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN;
}

void pt__signal_pass_on(int sig, siginfo_t *si, void *uc, struct sigaction *to)
{
	int e = errno;
	struct sigaction a = *to;
	bool sent = si->si_code <= 0 || (sig != SIGSEGV && sig != SIGBUS);
	if (handles(&a)) {
		if (a.sa_flags & SA_RESETHAND) {
			memset(to, 0, sizeof *to);
			to->sa_handler = SIG_DFL;
		}
		sigset_t mask = a.sa_mask, old;
		if (!(a.sa_flags & SA_NODEFER))
			sigaddset(&mask, sig);
		pthread_sigmask(SIG_BLOCK, &mask, &old);
		errno = e;
		if (a.sa_flags & SA_SIGINFO)
			a.sa_sigaction(sig, si, uc);
		else
			a.sa_handler(sig);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return;
	}
	if (a.sa_handler == SIG_IGN && sent)
		return;   /* (a fault cannot be ignored: the kernel kills for it) */
	struct sigaction d;
	memset(&d, 0, sizeof d);
	d.sa_handler = SIG_DFL;
	libc_sigaction(sig, &d, NULL);
	if (sent)
		raise(sig);
	errno = e;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	/* pt_mesh_fault keeps errno */
	if (!pt_mesh_fault(si->si_addr, si->si_code))
		pt__signal_pass_on(sig, si, uc, &prog);
}

void pt__faults_install(void)
{
	struct sigaction sa;
	if (installed)
		return;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (libc_sigaction(SIGSEGV, &sa, &prog) == 0) {
		prog_pid = getpid();
		installed = 1;
	}
}

void pt__faults_fork_prepare(void)
{
	tl_forking = 1;
}

void pt__faults_fork_parent(void)
{
	tl_forking = 0;
}

void pt__faults_fork_child(void)
{
	tl_forking = 0;
	if (installed)
		prog_pid = getpid();
}

/*
 * A child of vfork (or posix_spawn, or clone with CLONE_VM) shares prog
 * with its parent but has a signal table of its own, and often resets its
 * handlers before exec (CPython's _posixsubprocess does): what it sets is
 * its kernel's, never the parent's prog.  A fork child has its own memory:
 * its pid becomes prog's in our child handler, or at once in a child
 * handler registered before ours (the thread that forks is marked from our
 * prepare handler on, which runs before theirs; a vfork runs no handler).
 */
static int shared_child_sigaction(const struct sigaction *act, struct sigaction *old)
{
	struct sigaction k;
	if (libc_sigaction(SIGSEGV, act, &k) != 0)
		return -1;
	if (old)
		*old = (k.sa_flags & SA_SIGINFO) && k.sa_sigaction == on_segv ? prog : k;
	return 0;
}

PT_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (sig != SIGSEGV || !installed)
		return libc_sigaction(sig, act, old);
	if (getpid() != prog_pid) {
		if (!tl_forking)
			return shared_child_sigaction(act, old);
		prog_pid = getpid();   /* a fork child, before our handler */
	}
	struct sigaction was = prog;
	if (act)
		prog = *act;
	if (old)
		*old = was;
	return 0;
}

PT_EXPORT int __sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return sigaction(sig, act, old);
}

/* glibc's signal for SIGSEGV: BSD semantics (the handler stays, calls
 * restart); other signals are glibc's own (siginterrupt's flags). */
PT_EXPORT __sighandler_t signal(int sig, __sighandler_t h)
{
	if (sig != SIGSEGV || !installed) {
		__sighandler_t (*f)(int, __sighandler_t) =
			(__sighandler_t (*)(int, __sighandler_t))pt__libc_fn(&signal_fn);
		return f ? f(sig, h) : SIG_ERR;
	}
	struct sigaction a, old;
	memset(&a, 0, sizeof a);
	a.sa_handler = h;
	a.sa_flags = SA_RESTART;
	sigemptyset(&a.sa_mask);
	sigaddset(&a.sa_mask, sig);
	if (sigaction(sig, &a, &old) != 0)
		return SIG_ERR;
	return old.sa_handler;
}

PT_EXPORT __sighandler_t bsd_signal(int sig, __sighandler_t h)
{
	return signal(sig, h);
}
