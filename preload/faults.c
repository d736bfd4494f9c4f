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
 * (Mesh interposes them the same way).  The program's handler is called as
 * the kernel would: its sa_mask (and SIGSEGV unless SA_NODEFER) blocked
 * around it, SA_RESETHAND honoured, with the siginfo and context of the
 * fault.  A default (or ignored) disposition is put back in the kernel and
 * the fault made again, so that the process dies of it as it would have
 * (a signal sent by kill, which does not repeat, is raised again).  Ours
 * runs on the alternate stack when the thread has one (SA_ONSTACK): a
 * program that catches its own stack overflows still can.
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

#include "../allocator/compiler.h"
#include "../allocator/pool_alloc.h"
#include "faults.h"
#include "libc_sym.h"

static struct sigaction prog;        /* the program's SIGSEGV disposition */
static volatile int installed;

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

static bool handles(const struct sigaction *a)
{
	return (a->sa_flags & SA_SIGINFO) ? a->sa_sigaction != NULL
	                                  : a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	int e = errno;
	if (pt_mesh_fault(si->si_addr, si->si_code)) {
		errno = e;
		return;
	}
	struct sigaction a = prog;
	if (handles(&a)) {
		if (a.sa_flags & SA_RESETHAND) {
			memset(&prog, 0, sizeof prog);
			prog.sa_handler = SIG_DFL;
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
	/* the default action: no handler, and the fault again */
	struct sigaction d;
	memset(&d, 0, sizeof d);
	d.sa_handler = SIG_DFL;
	libc_sigaction(sig, &d, NULL);
	installed = 0;
	if (si->si_code <= 0)
		raise(sig);
	errno = e;
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
	if (libc_sigaction(SIGSEGV, &sa, &prog) == 0)
		installed = 1;
}

PT_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (sig != SIGSEGV || !installed)
		return libc_sigaction(sig, act, old);
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
