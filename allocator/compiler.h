/*
 * compiler.h - the compiler attributes and the assertion that allocator/
 * and preload/ share (one definition of each).
 */
#ifndef POOLTRACE_COMPILER_H
#define POOLTRACE_COMPILER_H

#define PT_LIKELY(x)   __builtin_expect(!!(x), 1)
#define PT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define PT_HIDDEN      __attribute__((visibility("hidden")))
#define PT_NOINLINE    __attribute__((noinline))
/* a symbol of the library's ABI (libpooltrace.map lists them) */
#define PT_EXPORT      __attribute__((visibility("default")))

/*
 * pt_assert: a trap that never allocates or prints (musl's a_crash),
 * compiled in when PT_DEBUG > 0 (make check builds the library and the
 * unit tests once that way); otherwise the condition is not evaluated.
 */
#if defined(PT_DEBUG) && PT_DEBUG > 0
#define pt_assert(c) do { if (PT_UNLIKELY(!(c))) __builtin_trap(); } while (0)
/* ... for a check that walks a whole structure: one call in n, per thread
 * and per place */
#define pt_assert_every(n, c) do { \
		static __thread unsigned pt__calls_; \
		if (++pt__calls_ % (n) == 0) \
			pt_assert(c); \
	} while (0)
#else
#define pt_assert(c) do { (void)sizeof(c); } while (0)
#define pt_assert_every(n, c) do { (void)sizeof(c); } while (0)
#endif

#endif
