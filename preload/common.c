/*
 * common.c - the thread-local state common.h declares.
 */
#include <stdatomic.h>

#include "common.h"

/*
 * The mappings pt__map made and pt__unmap has not undone: a fixed table
 * (the recorder makes a few dozen, plus one per thread buffer), under a
 * spin lock (mmap is the slow part; no allocation, usable anywhere).  A
 * mapping that does not fit is simply not remembered: the scan may then
 * read it, as it did before there was a table.
 */
#define OUR_MAPS_MAX 4096
static struct {
	atomic_flag lock;
	unsigned n;
	struct pt_range r[OUR_MAPS_MAX];
} OM = { .lock = ATOMIC_FLAG_INIT };

static void om_lock(void)
{
	while (atomic_flag_test_and_set_explicit(&OM.lock, memory_order_acquire))
		__builtin_ia32_pause();
}

static void om_unlock(void)
{
	atomic_flag_clear_explicit(&OM.lock, memory_order_release);
}

void *pt__map(size_t n, int noreserve)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | (noreserve ? MAP_NORESERVE : 0), -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	om_lock();
	if (OM.n < OUR_MAPS_MAX)
		OM.r[OM.n++] = (struct pt_range){ (uintptr_t)p, (uintptr_t)p + n };
	om_unlock();
	return p;
}

void pt__unmap(void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p;
	om_lock();
	for (unsigned i = 0; i < OM.n; i++)
		if (OM.r[i].lo == a && OM.r[i].hi == a + n) {
			OM.r[i] = OM.r[--OM.n];
			break;
		}
	om_unlock();
	munmap(p, n);
}

unsigned pt__our_maps(uintptr_t lo, uintptr_t hi, struct pt_range *r, unsigned cap)
{
	unsigned k = 0;
	om_lock();
	for (unsigned i = 0; i < OM.n && k < cap; i++)
		if (OM.r[i].lo < hi && OM.r[i].hi > lo)
			r[k++] = (struct pt_range){ OM.r[i].lo > lo ? OM.r[i].lo : lo,
			                            OM.r[i].hi < hi ? OM.r[i].hi : hi };
	om_unlock();
	for (unsigned i = 1; i < k; i++)   /* by address: insertion, k is small */
		for (unsigned j = i; j > 0 && r[j].lo < r[j - 1].lo; j--) {
			struct pt_range t = r[j];
			r[j] = r[j - 1];
			r[j - 1] = t;
		}
	return k;
}

__thread int pt__inside __attribute__((tls_model("initial-exec")));
unsigned pt__gate = PT_GATE_DEBUG | PT_GATE_CXX;

#if defined(PT_DEBUG) && PT_DEBUG > 0
__thread unsigned pt__locks_held __attribute__((tls_model("initial-exec")));
#endif
