/*
 * modules.h - the loaded modules as preload/ needs them: our own text
 * (whose frames stacks drop), each module's path, build id and segments
 * (the trace's module map, the roots of the exit scan), and the loader's
 * counters (did the list change?).  Everything goes through
 * dl_iterate_phdr, which takes the loader's lock and does not allocate.
 */
#ifndef POOLTRACE_MODULES_H
#define POOLTRACE_MODULES_H

#include <link.h>
#include <stddef.h>
#include <stdint.h>

#include "../allocator/compiler.h"

/* Our own text segment, [lo, hi); 0, 0 until pt__modules_find_self(). */
PT_HIDDEN extern uintptr_t pt__self_lo, pt__self_hi;

/* Is info (from dl_iterate_phdr) libpooltrace.so itself? */
PT_HIDDEN int pt__module_is_self(const struct dl_phdr_info *info);

/* Find our text segment (once; later calls return at once). */
PT_HIDDEN void pt__modules_find_self(void);

/* Is ip in our own text? */
static inline int pt__is_self_ip(uintptr_t ip)
{
	return ip - pt__self_lo < pt__self_hi - pt__self_lo;
}

struct pt_module_view {
	unsigned index;           /* 0: the main program */
	uintptr_t base;           /* load bias */
	const char *path;         /* the main program's from /proc/self/exe */
	size_t path_len;
	const uint8_t *build_id;  /* the GNU build-id note, or NULL */
	size_t build_id_len;
	const ElfW(Phdr) *phdr;
	unsigned phnum;
	void *tls_data;           /* this thread's block of its TLS, or NULL */
	int self;                 /* libpooltrace.so itself */
};

/* Call fn for each loaded module, in the loader's order, until it returns
 * nonzero.  Callers serialize (the main program's path is a static). */
PT_HIDDEN void pt__modules_each(int (*fn)(const struct pt_module_view *m, void *arg), void *arg);

/* The executable segment of the dynamic linker (the main program's
 * PT_INTERP), [lo, hi); 0, 0 if none is found. */
PT_HIDDEN void pt__modules_interp_text(uintptr_t *lo, uintptr_t *hi);

/* The loader's counts of modules added and removed so far. */
PT_HIDDEN void pt__modules_counters(uint64_t *adds, uint64_t *subs);

#endif
