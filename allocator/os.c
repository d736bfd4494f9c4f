/*
 * os.c - the only file of the allocator that talks to the kernel.
 *
 * Every function returns 0 or an errno value and preserves errno, so that a
 * free() which unmaps an arena never changes what the host program sees.
 * It is also the seam for fault injection: pt_test_fail_map_after(n) makes
 * the n-th next map fail, which the OOM tests sweep over n = 0, 1, 2, ...
 */
#include <errno.h>
#include <sys/mman.h>
#include <time.h>

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

int pt__os_map(size_t size, void **out)
{
	int e = errno, r = 0;
	void *p;

	if (injected_failure())
		return ENOMEM;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		r = errno ? errno : ENOMEM;
		errno = e;
		return r;
	}
	atomic_fetch_add_explicit(&os.maps, 1, memory_order_relaxed);
	*out = p;
	return 0;
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
