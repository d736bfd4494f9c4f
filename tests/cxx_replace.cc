// cxx_replace.cc - a program that replaces operator new(size_t) and
// operator delete(void *) only, as C++ allows: every other form (new[],
// nothrow, sized and array deletes) must then reach these two, as the C++
// runtime's defaults do.  A sized delete of a complete type is what the
// compiler emits (C++14 and later).  Built twice:
//   cxx_replace   the two serve an arena of their own (not malloc): a block
//                 of the arena given to free() would crash;
//   cxx_wrap      (-DWRAP) the two count and call the next definitions,
//                 found with dlsym(RTLD_NEXT) (ours when preloaded): ours
//                 must not call back into them.
// Prints what went through the replacements, which must read the same
// with and without the preload.
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <new>

static unsigned news, deletes;

#ifdef WRAP
void *operator new(std::size_t n)
{
	static void *(*next)(std::size_t);
	if (!next)
		next = (void *(*)(std::size_t))dlsym(RTLD_NEXT, "_Znwm");
	news++;
	return next(n);
}

void operator delete(void *p) noexcept
{
	static void (*next)(void *);
	if (!next)
		next = (void (*)(void *))dlsym(RTLD_NEXT, "_ZdlPv");
	if (p)
		deletes++;
	next(p);
}
#else
alignas(16) static unsigned char arena[1 << 20];
static size_t used;

void *operator new(std::size_t n)
{
	n = (n + 15) & ~(std::size_t)15;
	if (used + n > sizeof arena)
		throw std::bad_alloc();
	news++;
	void *p = arena + used;
	used += n ? n : 16;
	return p;
}

void operator delete(void *p) noexcept
{
	if (p && (p < (void *)arena || p >= (void *)(arena + sizeof arena))) {
		std::puts("delete of a block not from the arena");
		std::abort();
	}
	if (p)
		deletes++;
}
#endif

struct node {
	long v[5];
	node *next;
};

int main()
{
	node *a = new node();
	delete a;                        // sized delete
	int *b = new int[10]();
	delete[] b;                      // array delete
	node *c = new (std::nothrow) node();
	delete c;
	double *d = new (std::nothrow) double[3];
	delete[] d;
	void *e = ::operator new(100);
	::operator delete(e, 100);
	// the aligned forms are the runtime's own (aligned_alloc and free)
	void *f = ::operator new(100, std::align_val_t(64));
	const char *aligned = f && (size_t)f % 64 == 0 ? "aligned" : "NOT ALIGNED";
	::operator delete(f, 100, std::align_val_t(64));
	std::printf("replaced: %u news, %u deletes; aligned new %s\n", news, deletes, aligned);
	return news == 5 && deletes == 5 ? 0 : 1;
}
