/*
 * unwind.c - libunwind, loaded privately (unwind.h).
 *
 * libunwind.so exports the unwinder ABI of libgcc_s (_Unwind_RaiseException,
 * _Unwind_Resume, _Unwind_GetLanguageSpecificData, ...) besides its own
 * API.  As a dependency of a preloaded library it would sit in the global
 * scope ahead of libgcc_s, and whatever the program loads later binds to
 * it: libgcc_s's own unwinder, which glibc runs to cancel a thread, then
 * calls libunwind's accessors with a libgcc context, and a thread cancelled
 * inside fputs leaves its stream locked.  Static linking would keep the
 * symbols hidden, but Debian's libunwind.a is not built
 * position-independent.  So the library does not depend on libunwind at
 * all: the constructor opens it with RTLD_LOCAL when POOLTRACE_DEBUG or
 * POOLTRACE_PROFILE needs stacks, where nothing else can bind to it, and
 * the stack capture calls it through a pointer (unwind.h).
 */
#include <dlfcn.h>
#include <link.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "fmt.h"
#include "unwind.h"

#ifndef PT_UNWIND_SO
#define PT_UNWIND_SO "libunwind.so.8"   /* the soname of libunwind-dev's libunwind.so */
#endif

#define STR_(x) #x
#define STR(x) STR_(x)   /* a name after libunwind.h's renaming macros */

int (*pt__unw_backtrace)(void **buf, int size);
static uintptr_t loaded_base;            /* its load bias, 0 until loaded */

uintptr_t pt__unwind_base(void)
{
	return loaded_base;
}
static int (*policy_fn)(unw_addr_space_t, unw_caching_policy_t);
static unw_addr_space_t *local_as;   /* libunwind's unw_local_addr_space */

void pt__unwind_cache_per_thread(void)
{
	int (*fn)(unw_addr_space_t, unw_caching_policy_t) =
		__atomic_load_n(&policy_fn, __ATOMIC_ACQUIRE);
	if (fn)
		fn(*local_as, UNW_CACHE_PER_THREAD);
}

int pt__unwind_load(void)
{
	static int tried, ok;
	if (tried)
		return ok ? 0 : -1;
	tried = 1;
	void *h = dlopen(PT_UNWIND_SO, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		pt__dprintf(2, "pooltrace: warning: cannot load %s (%s): stacks are not "
		            "recorded\n", PT_UNWIND_SO, e ? e : "?");
		return -1;
	}
	void *bt = dlsym(h, "unw_backtrace");
	void *pol = dlsym(h, STR(unw_set_caching_policy));
	local_as = (unw_addr_space_t *)dlsym(h, STR(unw_local_addr_space));
	if (!bt || !pol || !local_as) {
		pt__dprintf(2, "pooltrace: warning: %s lacks unw_backtrace: stacks are not "
		            "recorded\n", PT_UNWIND_SO);
		return -1;
	}
	__atomic_store_n(&policy_fn, (int (*)(unw_addr_space_t, unw_caching_policy_t))pol,
	                 __ATOMIC_RELEASE);
	struct link_map *lm = NULL;
	if (dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm)
		loaded_base = lm->l_addr;
	__atomic_store_n(&pt__unw_backtrace, (int (*)(void **, int))bt, __ATOMIC_RELEASE);
	ok = 1;
	return 0;
}
