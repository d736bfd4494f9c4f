// cxx_new.cc - the C++ allocation operators, for test_edges.sh and
// test_debug.sh.  cxx_new CASE:
//   edges      every form of new and delete, over sizes and alignments,
//              with the new-handler, std::bad_alloc and nothrow at no memory;
//              prints what C++ promises, which must read the same with and
//              without the preload
//   ours       (preloaded) the operators are libpooltrace's: a small block
//              of new, new[], nothrow and aligned new comes from the pools
//   new-free, malloc-delete, new-delete-array, array-delete, sized,
//   aligned-plain, aligned-wrong
//              one mismatched pair each, for debug mode; allocated in
//              alloc_for_mismatch
//   clean      every form rightly paired
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <initializer_list>
#include <new>
#include <sys/resource.h>

static const size_t huge = SIZE_MAX / 4;   // no allocator has that much

static int handler_calls;
static void handler()
{
	if (++handler_calls == 3)
		std::set_new_handler(nullptr);
}

// frees the memory it reserved, once
static void *reserve;
static void freeing_handler()
{
	std::free(reserve);
	reserve = nullptr;
	std::set_new_handler(nullptr);
}

// the process's address space in bytes (VmSize)
static size_t vm_size()
{
	size_t kib = 0;
	char line[256];
	FILE *f = std::fopen("/proc/self/status", "r");
	while (f && std::fgets(line, sizeof line, f))
		if (std::sscanf(line, "VmSize: %zu kB", &kib) == 1)
			break;
	if (f)
		std::fclose(f);
	return kib << 10;
}

struct custom_error {};
static void throwing_handler()
{
	throw custom_error();
}

// What an allocation does: throw std::bad_alloc, or return a block (freed
// by release)
template <class Alloc, class Release>
static const char *outcome(Alloc alloc, Release release)
{
	try {
		release(alloc());
		return "nothing";
	} catch (const std::bad_alloc &) {
		return "std::bad_alloc";
	}
}

static void fill(void *p, size_t n)
{
	std::memset(p, 0xab, n);
}

static void edges()
{
	static const size_t sizes[] = { 0, 1, 8, 24, 100, 512, 513, 4096, 100000 };
	for (size_t n : sizes) {
		void *a = operator new(n), *b = operator new[](n);
		void *c = operator new(n, std::nothrow), *d = operator new[](n, std::nothrow);
		std::printf("new %zu: %s\n", n, a && b && c && d && a != b ? "ok" : "FAILED");
		fill(a, n), fill(b, n), fill(c, n), fill(d, n);
		operator delete(a, n);
		operator delete[](b, n);
		operator delete(c, std::nothrow);
		operator delete[](d);
	}
	void *z1 = operator new(0), *z2 = operator new(0);
	std::printf("new 0 twice: %s\n", z1 && z2 && z1 != z2 ? "two blocks" : "FAILED");
	operator delete(z1);
	operator delete(z2);

	static const size_t aligns[] = { 1, 2, 4, 8, 16, 32, 64, 256, 4096, 65536 };
	for (size_t al : aligns) {
		std::align_val_t a = std::align_val_t(al);
		void *p = operator new(100, a), *q = operator new[](600, a);
		void *r = operator new(24, a, std::nothrow), *s = operator new[](24, a, std::nothrow);
		int ok = p && q && r && s;
		for (void *x : { p, q, r, s })
			ok = ok && (uintptr_t)x % al == 0;
		std::printf("aligned %zu: %s\n", al, ok ? "ok" : "FAILED");
		fill(p, 100), fill(q, 600), fill(r, 24), fill(s, 24);
		operator delete(p, 100, a);
		operator delete[](q, a);
		operator delete(r, a, std::nothrow);
		operator delete[](s, 24, a);
	}

	// no memory: std::bad_alloc, or NULL from the nothrow forms
	const auto plain_delete = [](void *p) { operator delete(p); };
	std::printf("new of %zu: %s\n", huge,
	            outcome([] { return operator new(huge); }, plain_delete));
	std::printf("new[] of %zu: %s\n", huge,
	            outcome([] { return (void *)new char[huge]; },
	                    [](void *p) { delete[] (char *)p; }));
	std::printf("aligned new of %zu: %s\n", huge,
	            outcome([] { return operator new(huge, std::align_val_t(64)); },
	                    [](void *p) { operator delete(p, std::align_val_t(64)); }));
	// an alignment that is not a power of two: an error C++ reports so
	for (size_t al : { (size_t)0, (size_t)3, (size_t)24 }) {
		const char *got = outcome([al] { return operator new(40, std::align_val_t(al)); },
		                          [al](void *p) { operator delete(p, std::align_val_t(al)); });
		void *q = operator new[](40, std::align_val_t(al), std::nothrow);
		std::printf("aligned new with alignment %zu: %s; nothrow: %s\n", al, got,
		            q ? "a block" : "null");
	}
	std::printf("nothrow new: %s, new[]: %s, aligned: %s\n",
	            operator new(huge, std::nothrow) ? "a block" : "null",
	            operator new[](huge, std::nothrow) ? "a block" : "null",
	            operator new(huge, std::align_val_t(64), std::nothrow) ? "a block" : "null");

	// the new-handler: called until it removes itself, then bad_alloc
	handler_calls = 0;
	std::set_new_handler(handler);
	const char *got = outcome([] { return operator new(huge); }, plain_delete);
	std::printf("new with a handler: %d calls, then %s\n", handler_calls, got);
	for (size_t al : { (size_t)8, (size_t)64 }) {
		handler_calls = 0;
		std::set_new_handler(handler);
		got = outcome([al] { return operator new[](huge, std::align_val_t(al)); },
		              [al](void *p) { operator delete[](p, std::align_val_t(al)); });
		std::printf("aligned new[] (%zu) with a handler: %d calls, then %s\n", al,
		            handler_calls, got);
		handler_calls = 0;
		std::set_new_handler(handler);
		void *q = operator new(huge, std::align_val_t(al), std::nothrow);
		std::printf("nothrow aligned new (%zu) with a handler: %d calls, then %s\n", al,
		            handler_calls, q ? "a block" : "null");
	}
	handler_calls = 0;
	std::set_new_handler(handler);
	void *p = operator new[](huge, std::nothrow);
	std::printf("nothrow new[] with a handler: %d calls, then %s\n", handler_calls,
	            p ? "a block" : "null");

	// a handler's own exception, through the operator's frames
	std::set_new_handler(throwing_handler);
	got = "nothing";
	try {
		void *q = operator new(huge);
		operator delete(q);
	} catch (const custom_error &) {
		got = "the handler's exception";
	}
	std::set_new_handler(nullptr);
	std::printf("new with a throwing handler: %s\n", got);

	// a handler that makes room: the new succeeds on its second try (the
	// address space capped 300 MiB above what the process has, 200 MiB of
	// it reserved; debug mode must see a block of new, not of malloc)
	struct rlimit old, cap;
	getrlimit(RLIMIT_AS, &old);
	cap = old;
	cap.rlim_cur = vm_size() + (300u << 20);
	if (setrlimit(RLIMIT_AS, &cap) == 0) {
		reserve = std::malloc(200u << 20);
		std::set_new_handler(freeing_handler);
		void *q = operator new(200u << 20);
		std::printf("new once the handler made room: %s\n",
		            q && !reserve ? "a block" : "FAILED");
		operator delete(q);
		// the same aligned, of a size no multiple of its alignment, given
		// back by a sized aligned delete (debug mode checks both)
		const size_t odd = (200u << 20) + 1;
		reserve = std::malloc(200u << 20);
		std::set_new_handler(freeing_handler);
		q = operator new[](odd, std::align_val_t(64));
		std::printf("aligned new[] once the handler made room: %s\n",
		            q && !reserve && (uintptr_t)q % 64 == 0 ? "a block" : "FAILED");
		operator delete[](q, odd, std::align_val_t(64));
		std::free(reserve);
		setrlimit(RLIMIT_AS, &old);
	} else {
		std::puts("FAILED: the address space cannot be capped");
	}
}

// the library's own answer, if it is loaded
static int ours(void *p)
{
	int (*owns)(const void *) = (int (*)(const void *))dlsym(RTLD_DEFAULT, "pt_owns");
	return owns && owns(p);
}

static int in_library(void *fn)
{
	Dl_info di;
	return dladdr(fn, &di) && di.dli_fname && std::strstr(di.dli_fname, "libpooltrace");
}

static int check_ours()
{
	void *a = operator new(64), *b = operator new[](64), *c = operator new(64, std::nothrow);
	void *d = operator new(64, std::align_val_t(32));
	int ok = ours(a) && ours(b) && ours(c) && ours(d);
	std::printf("small blocks of new, new[], nothrow new, aligned new from the pools: %s\n",
	            ok ? "yes" : "NO");
	operator delete(a);
	operator delete[](b);
	operator delete(c);
	operator delete(d, std::align_val_t(32));
	void *(*op)(size_t) = &operator new;
	void (*del)(void *) = &operator delete;
	int lib = in_library((void *)op) && in_library((void *)del);
	std::printf("operator new and delete are libpooltrace's: %s\n", lib ? "yes" : "NO");
	return ok && lib ? 0 : 1;
}

__attribute__((noinline)) static void *alloc_for_mismatch(const char *c)
{
	if (!std::strcmp(c, "malloc-delete"))
		return std::malloc(40);
	if (!std::strcmp(c, "array-delete") || !std::strcmp(c, "new-delete-array"))
		return std::strcmp(c, "array-delete") ? operator new(40) : operator new[](40);
	if (!std::strncmp(c, "aligned", 7))
		return operator new(40, std::align_val_t(64));
	return operator new(40);
}

static int mismatch(const char *c)
{
	void *p = alloc_for_mismatch(c);
	if (!std::strcmp(c, "new-free"))
		std::free(p);
	else if (!std::strcmp(c, "malloc-delete"))
		operator delete(p);
	else if (!std::strcmp(c, "new-delete-array"))
		operator delete[](p);
	else if (!std::strcmp(c, "array-delete"))
		operator delete(p);
	else if (!std::strcmp(c, "sized"))
		operator delete(p, 32);
	else if (!std::strcmp(c, "aligned-plain"))
		operator delete(p);
	else if (!std::strcmp(c, "aligned-wrong"))
		operator delete(p, std::align_val_t(32));
	else
		return 2;
	return 0;
}

static void clean()
{
	void *p = operator new(40);
	operator delete(p, 40);
	p = operator new[](40, std::nothrow);
	operator delete[](p);
	p = operator new(40, std::align_val_t(64));
	operator delete(p, 40, std::align_val_t(64));
	p = operator new[](700, std::align_val_t(128), std::nothrow);
	operator delete[](p, std::align_val_t(128), std::nothrow);
	int *v = new int[10]();
	delete[] v;
	std::puts("clean");
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "edges";
	if (!std::strcmp(c, "edges")) {
		edges();
		return 0;
	}
	if (!std::strcmp(c, "ours"))
		return check_ours();
	if (!std::strcmp(c, "clean")) {
		clean();
		return 0;
	}
	return mismatch(c);
}
