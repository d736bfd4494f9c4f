// cxx_replace.cc - a program that replaces operator new(size_t) and
// operator delete(void *) with an arena of its own (not malloc), as C++
// allows: every other form (new[], nothrow, sized and array deletes) must
// then reach these two, as the C++ runtime's defaults do.  A sized delete
// of a complete type is what the compiler emits (C++14 and later).  Prints
// what went through the replacements, which must read the same with and
// without the preload; a block of the arena freed by free() would crash.
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <new>

alignas(16) static unsigned char arena[1 << 20];
static size_t used;
static unsigned news, deletes;

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
	std::printf("arena: %u news, %u deletes\n", news, deletes);
	return news == 5 && deletes == 5 ? 0 : 1;
}
