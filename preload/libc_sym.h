/*
 * libc_sym.h - glibc's own allocator entry points, without dlsym.
 *
 * glibc exports __libc_malloc, __libc_free and friends; malloc_usable_size
 * has no such alias, so we look it up in libc.so.6's dynamic symbol table
 * ourselves (dlsym may allocate and recurse into malloc).
 */
#ifndef POOLTRACE_LIBC_SYM_H
#define POOLTRACE_LIBC_SYM_H

#include <stddef.h>

#include "../allocator/compiler.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

/* A function of libc.so.6 looked up on first use (NULL if absent). */
struct pt_libc_fn {
	const char *name;
	void *fn;
	int looked;
};

/* f->fn, looking it up the first time.  Thread-safe; never allocates. */
PT_HIDDEN void *pt__libc_fn(struct pt_libc_fn *f);

/* glibc's pthread_create, past ours (threads.c). */
#include <pthread.h>
PT_HIDDEN int pt__libc_pthread_create(pthread_t *th, const pthread_attr_t *attr,
                                      void *(*start)(void *), void *arg);

/* glibc's malloc_usable_size for a pointer glibc handed out. */
PT_HIDDEN size_t pt__libc_usable_size(void *p);

/* glibc's mallinfo2: its own heap, without the pools (mallinfo.c). */
struct mallinfo2;
PT_HIDDEN struct mallinfo2 pt__libc_mallinfo2(void);

/*
 * Address of a function symbol defined in the loaded object whose path ends
 * in soname (e.g. "libc.so.6"), found through its GNU hash table; NULL if
 * absent.  Does not allocate.
 */
PT_HIDDEN void *pt__elf_lookup(const char *soname, const char *symbol);

/*
 * The first definition of function symbol in the loaded objects that come
 * after libpooltrace.so in load order: the one ours hides, as
 * dlsym(RTLD_NEXT) from our code finds it (never one before us, which may
 * itself call ours through RTLD_NEXT).  NULL if none.  Does not allocate.
 */
PT_HIDDEN void *pt__elf_lookup_next(const char *symbol);

/*
 * Is the first definition of function symbol (plain or IFUNC) in the loaded
 * objects, in load order, libpooltrace.so's own: the one the program's
 * references bind to (the executable, then the preloaded libraries, come
 * first)?  Does not allocate.
 */
PT_HIDDEN int pt__elf_bound_to_self(const char *symbol);

/* The same for a data symbol (STT_OBJECT). */
PT_HIDDEN void *pt__elf_lookup_object(const char *soname, const char *symbol);

/*
 * The address of a function or data symbol defined in the loaded object
 * of info (from dl_iterate_phdr), through its GNU hash table, and its
 * size in *size (if size); NULL if absent.  Does not allocate.
 */
struct dl_phdr_info;
PT_HIDDEN void *pt__elf_sym(const struct dl_phdr_info *info, const char *symbol, size_t *size);

#endif
