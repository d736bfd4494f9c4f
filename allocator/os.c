/*
 * os.c - the only file of the allocator that talks to the kernel.
 *
 * Every function returns 0 or an errno value and preserves errno, so that a
 * free() which unmaps an arena never changes what the host program sees.
 * It is also the seam for fault injection: pt_test_fail_map_after(n) makes
 * the n-th next map fail, which the OOM tests sweep over n = 0, 1, 2, ...
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static struct {
	_Atomic long fail_countdown;   /* < 0: no fault injection */
	_Atomic long fail_count;       /* how many calls fail from there on */
	_Atomic uint64_t maps;
	_Atomic uint64_t failed;
} os = { -1, 0, 0, 0 };

void pt_test_fail_maps(long after, long count)
{
	atomic_store(&os.fail_count, count);
	atomic_store(&os.fail_countdown, after);
}

void pt_test_fail_map_after(long n)
{
	pt_test_fail_maps(n, 1);
}

uint64_t pt_test_failed_maps(void)
{
	return atomic_load(&os.failed);
}

uint64_t pt_test_map_calls(void)
{
	return atomic_load(&os.maps);
}

static bool injected_failure(void)
{
	long n = atomic_load_explicit(&os.fail_countdown, memory_order_relaxed);
	if (PT_LIKELY(n < 0))
		return false;
	if (n == 0) {
		if (atomic_fetch_sub(&os.fail_count, 1) <= 1)
			atomic_store(&os.fail_countdown, -1);
		atomic_fetch_add(&os.failed, 1);
		return true;
	}
	atomic_store(&os.fail_countdown, n - 1);
	return false;
}

/* Anonymous memory of size bytes with these flags besides MAP_ANONYMOUS. */
static int map_anon(size_t size, int flags, void **out)
{
	int e = errno, r = 0;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		r = errno ? errno : ENOMEM;
	else
		*out = p;
	errno = e;
	return r;
}

int pt__os_map(size_t size, void **out)
{
	if (injected_failure())
		return ENOMEM;
	int r = map_anon(size, MAP_PRIVATE, out);
	if (r == 0)
		atomic_fetch_add_explicit(&os.maps, 1, memory_order_relaxed);
	return r;
}

/*
 * p maps size + align bytes: unmap the misaligned head and the tail, leaving
 * size bytes aligned to align (a power of two >= the page size).  Keeps errno.
 */
static void *trim_to_alignment(void *p, size_t size, size_t align)
{
	int e = errno;
	uintptr_t a = (uintptr_t)p;
	uintptr_t aligned = (a + align - 1) & ~(uintptr_t)(align - 1);
	size_t head = aligned - a, tail = align - head;
	if (head)
		munmap(p, head);
	if (tail)
		munmap((void *)(aligned + size), tail);
	errno = e;
	return (void *)aligned;
}

/* Map size bytes aligned to align: map size + align, then trim. */
int pt__os_map_aligned(size_t size, size_t align, void **out)
{
	void *p;
	int r = pt__os_map(size + align, &p);
	if (r)
		return r;
	*out = trim_to_alignment(p, size, align);
	return 0;
}

/*
 * Reserve size bytes of address space aligned to align: PROT_NONE and
 * MAP_NORESERVE, so it uses neither memory nor commit charge (but counts
 * against RLIMIT_AS while it stays).
 */
int pt__os_reserve(size_t size, size_t align, void **out)
{
	int e = errno, r = 0;
	if (injected_failure())
		return ENOMEM;
	void *p = mmap(NULL, size + align, PROT_NONE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		r = errno ? errno : ENOMEM;
		errno = e;
		return r;
	}
	*out = trim_to_alignment(p, size, align);
	return 0;
}

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/*
 * Map size fresh bytes exactly at p, where nothing is mapped: 0, EEXIST if
 * something is (ours or not), or ENOMEM.  Kernels before 4.17 take
 * MAP_FIXED_NOREPLACE for a hint: an answer elsewhere is EEXIST too.
 */
int pt__os_map_at(void *p, size_t size)
{
	int e = errno, r = 0;
	if (injected_failure())
		return ENOMEM;
	void *q = mmap(p, size, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (q == MAP_FAILED) {
		r = errno == EEXIST ? EEXIST : errno ? errno : ENOMEM;
	} else if (q != p) {
		munmap(q, size);
		r = EEXIST;
	} else {
		atomic_fetch_add_explicit(&os.maps, 1, memory_order_relaxed);
	}
	errno = e;
	return r;
}

int pt__os_unmap(void *p, size_t size)
{
	int e = errno, r = 0;
	if (munmap(p, size) != 0)
		r = errno;
	errno = e;
	return r;
}

/* ---- the shared backing of meshing (mesh.c) ----------------------------- */

/*
 * An anonymous memory file of size bytes (sparse: it holds no memory until
 * its pages are touched), closed on exec.  The raw system call: glibc's
 * memfd_create wrapper is 2.27 and later.
 */
int pt__os_memfd(size_t size, int *fd)
{
	int e = errno, r = 0;
	if (injected_failure())
		return ENOMEM;
	long f = syscall(SYS_memfd_create, "pooltrace-heap", 1u /* MFD_CLOEXEC */);
	if (f < 0) {
		r = errno ? errno : ENOSYS;
	} else if (ftruncate((int)f, (off_t)size) != 0) {
		r = errno ? errno : EINVAL;
		close((int)f);
	} else {
		*fd = (int)f;
	}
	errno = e;
	return r;
}

/*
 * Map size bytes of the file fd at offset off, shared, exactly at p.
 * replace: over whatever is there (a remap: mmap replaces the old pages in
 * one step, so that no thread ever finds the address unmapped); else only
 * where nothing is mapped, EEXIST otherwise (as pt__os_map_at).
 */
int pt__os_map_file_at(void *p, size_t size, int fd, uint64_t off, bool replace)
{
	int e = errno, r = 0;
	if (!replace && injected_failure())
		return ENOMEM;
	void *q = mmap(p, size, PROT_READ | PROT_WRITE,
	               MAP_SHARED | (replace ? MAP_FIXED : MAP_FIXED_NOREPLACE), fd, (off_t)off);
	if (q == MAP_FAILED) {
		r = errno == EEXIST ? EEXIST : errno ? errno : ENOMEM;
	} else if (q != p) {
		munmap(q, size);
		r = EEXIST;
	} else if (!replace) {
		atomic_fetch_add_explicit(&os.maps, 1, memory_order_relaxed);
	}
	errno = e;
	return r;
}

/* Free the file's pages in [off, off + size): they read zeros again, in
 * every mapping of them. */
int pt__os_punch(int fd, uint64_t off, size_t size)
{
	int e = errno, r = 0;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)size) != 0)
		r = errno;
	errno = e;
	return r;
}

/* Move the pages at from (private, size bytes) over to, replacing what is
 * mapped there. */
int pt__os_move(void *from, void *to, size_t size)
{
	int e = errno, r = 0;
	if (mremap(from, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, to) == MAP_FAILED)
		r = errno;
	errno = e;
	return r;
}

/* Set the protection of [p, p + size). */
int pt__os_protect(void *p, size_t size, bool writable)
{
	int e = errno, r = 0;
	if (mprotect(p, size, writable ? PROT_READ | PROT_WRITE : PROT_READ) != 0)
		r = errno;
	errno = e;
	return r;
}

/* Map size bytes of private memory with its pages already allocated (one
 * call instead of a fault per page: fork's copy of the heap). */
int pt__os_map_populated(size_t size, void **out)
{
	return map_anon(size, MAP_PRIVATE | MAP_POPULATE, out);
}

/* A page shared with every child this process forks (fork's handshake). */
int pt__os_map_shared_page(void **out)
{
	return map_anon(4096, MAP_SHARED, out);
}

/* Wait while *w == v (shared: a word other processes see too), at most ms
 * milliseconds (0: no limit), or until woken. */
void pt__os_futex_wait(_Atomic uint32_t *w, uint32_t v, bool shared, long ms)
{
	int e = errno;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	syscall(SYS_futex, w, shared ? FUTEX_WAIT : FUTEX_WAIT_PRIVATE, v, ms ? &ts : NULL,
	        NULL, 0);
	errno = e;
}

/* Wake every waiter on *w. */
void pt__os_futex_wake(_Atomic uint32_t *w, bool shared)
{
	int e = errno;
	syscall(SYS_futex, w, shared ? FUTEX_WAKE : FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	errno = e;
}

void pt__os_close(int fd)
{
	int e = errno;
	close(fd);
	errno = e;
}

int pt__os_pid(void)
{
	return (int)getpid();
}

/* Block every signal in this thread (*old: the mask it had), or restore. */
void pt__os_signals_block(sigset_t *old)
{
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, old);
}

void pt__os_signals_restore(const sigset_t *old)
{
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Does this thread block SIGSEGV (a write fault would then kill)? */
bool pt__os_segv_blocked(void)
{
	sigset_t cur;
	return pthread_sigmask(SIG_BLOCK, NULL, &cur) == 0 && sigismember(&cur, SIGSEGV) == 1;
}

/* The kernel's limit on mappings per process, or 65530 if unreadable. */
unsigned long pt__os_max_map_count(void)
{
	int e = errno;
	unsigned long v = 0;
	char buf[32];
	int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
			v = v * 10 + (unsigned long)(buf[i] - '0');
	}
	errno = e;
	return v ? v : 65530;
}

/* Give the pages back but keep the mapping: the next touch reads zeros. */
int pt__os_purge(void *p, size_t size)
{
	int e = errno, r = 0;
	if (madvise(p, size, MADV_DONTNEED) != 0)
		r = errno;
	errno = e;
	return r;
}

uint32_t pt__os_now_ms(void)
{
	struct timespec ts;
	int e = errno;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	errno = e;
	return (uint32_t)((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}
