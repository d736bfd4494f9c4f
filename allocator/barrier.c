/*
 * barrier.c - meshing's write barrier: while a round copies a victim pool
 * (mesh.c) or fork copies the heap for the child, the pages being copied
 * are write-protected, and a thread that writes to one takes a fault.  The
 * embedder's SIGSEGV handler asks pt_mesh_fault whether the fault is ours;
 * if so it returns and the write is made again once the copy is done
 * (Mesh's design; the preload's handler is preload/faults.c).
 *
 * The epoch is odd while pages are protected.  Begin and end are called
 * under pt__g.lock (a round; a fork of a threaded process) or by the only
 * thread there is (a single-threaded fork), so they never overlap.  A
 * faulting thread that finds the epoch odd waits (futex) until it moves on;
 * one that finds it even may have faulted just before the end, so it
 * retries once, and a second fault at the same address in the same epoch
 * is a real one, which the handler passes on to the program's.
 *
 * A system call that writes into a protected page (read(2) into a heap
 * buffer) is not stopped: it fails with EFAULT.  The window is one pool's
 * copy and remap per mesh (a round takes 10-11 us per pool meshed, all
 * included, on scatter), the whole heap's copy per fork.
 *
 * In a fork child the heap is still the parent's file until the child
 * makes it private (mesh.c); glibc's fork writes into the heap before any
 * fork handler runs (it resets every FILE lock of a threaded process), and
 * that write faults here: the child makes its heap private in the handler
 * and the write is made again, into its own copy.
 */
#include <signal.h>

#include "internal.h"

static _Atomic uint32_t epoch;
static __thread uint32_t tl_fault_epoch __attribute__((tls_model("initial-exec")));
static __thread uintptr_t tl_fault_addr __attribute__((tls_model("initial-exec")));

void pt__barrier_begin(void)
{
	pt_assert((atomic_load(&epoch) & 1) == 0);
	atomic_fetch_add(&epoch, 1);
}

void pt__barrier_end(void)
{
	atomic_fetch_add(&epoch, 1);
	pt__os_futex_wake(&epoch, false);
}

/* In a fork child: no protection is ours any more. */
void pt__barrier_reset(void)
{
	atomic_store(&epoch, 0);
}

int pt_mesh_fault(void *addr, int code)
{
	uintptr_t a = (uintptr_t)addr;
	if (code != SEGV_ACCERR || !pt__in_range(a))
		return 0;
	if (pt__mesh_fork_child_fault())   /* a fork child's first write */
		return 1;
	uint32_t ep = atomic_load(&epoch);
	if (ep & 1) {
		while (atomic_load(&epoch) == ep)
			pt__os_futex_wait(&epoch, ep, false, 0);
		return 1;
	}
	/* protection ended between the fault and now: once per address and
	 * epoch (stored + 1, so that a thread's zeroed TLS never matches) */
	if (tl_fault_epoch == ep + 1 && tl_fault_addr == a)
		return 0;
	tl_fault_epoch = ep + 1;
	tl_fault_addr = a;
	return 1;
}
