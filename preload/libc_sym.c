/*
 * libc_sym.c - find a symbol in a loaded object's .dynsym without dlsym.
 *
 * dl_iterate_phdr gives each object's load address and program headers; the
 * PT_DYNAMIC segment gives .dynsym, .dynstr and the GNU hash table.  glibc
 * has already relocated those d_ptr entries to run-time addresses; other
 * loaders may not have, which the base check below tolerates.
 */
#include <pthread.h>
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <string.h>

#include "fmt.h"
#include "libc_sym.h"
#include "modules.h"

struct lookup {
	const char *soname, *symbol;
	unsigned type;            /* STT_FUNC, STT_OBJECT */
	void *result;
};

static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;
	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

static uintptr_t rebase(uintptr_t v, uintptr_t base)
{
	return v < base ? v + base : v;
}

/* Does s define symbol, with one of the ELF types in the mask? */
static int defines(const ElfW(Sym) *s, const char *strtab, const char *symbol, unsigned types)
{
	return s->st_value && s->st_shndx != SHN_UNDEF && (types >> ELF64_ST_TYPE(s->st_info) & 1) &&
	       strcmp(strtab + s->st_name, symbol) == 0;
}

/* The defined symbol of one of the ELF types in the mask (1 << STT_*) */
static void *lookup_in(const struct dl_phdr_info *info, const char *symbol, unsigned types,
                       size_t *size)
{
	const ElfW(Dyn) *dyn = NULL;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	if (!dyn)
		return NULL;

	const ElfW(Sym) *symtab = NULL;
	const char *strtab = NULL;
	const uint32_t *gh = NULL, *sysv = NULL;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		uintptr_t v = rebase(dyn->d_un.d_ptr, info->dlpi_addr);
		if (dyn->d_tag == DT_SYMTAB)
			symtab = (const ElfW(Sym) *)v;
		else if (dyn->d_tag == DT_STRTAB)
			strtab = (const char *)v;
		else if (dyn->d_tag == DT_GNU_HASH)
			gh = (const uint32_t *)v;
		else if (dyn->d_tag == DT_HASH)
			sysv = (const uint32_t *)v;
	}
	if (!symtab || !strtab || (!gh && !sysv))
		return NULL;
	if (!gh) {
		/* only the SysV table (--hash-style=sysv): its nchain is the
		 * number of symbols, searched in order */
		for (uint32_t i = 1; i < sysv[1]; i++) {
			const ElfW(Sym) *s = &symtab[i];
			if (defines(s, strtab, symbol, types)) {
				if (size)
					*size = s->st_size;
				return (void *)(info->dlpi_addr + s->st_value);
			}
		}
		return NULL;
	}

	uint32_t nbuckets = gh[0], symoffset = gh[1], bloom_size = gh[2];
	const ElfW(Addr) *bloom = (const ElfW(Addr) *)&gh[4];
	const uint32_t *buckets = (const uint32_t *)&bloom[bloom_size];
	const uint32_t *chain = &buckets[nbuckets];
	uint32_t h = gnu_hash(symbol);
	if (!nbuckets)
		return NULL;
	uint32_t i = buckets[h % nbuckets];
	if (i < symoffset)
		return NULL;
	for (;; i++) {
		uint32_t h2 = chain[i - symoffset];
		const ElfW(Sym) *s = &symtab[i];
		if ((h | 1) == (h2 | 1) && defines(s, strtab, symbol, types)) {
			if (size)
				*size = s->st_size;
			return (void *)(info->dlpi_addr + s->st_value);
		}
		if (h2 & 1)
			return NULL;
	}
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0 && (n == m || s[n - m - 1] == '/');
}

static int visit(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct lookup *l = arg;
	(void)size;
	if (!info->dlpi_name || !ends_with(info->dlpi_name, l->soname))
		return 0;
	l->result = lookup_in(info, l->symbol, 1u << l->type, NULL);
	return l->result != NULL;
}

void *pt__elf_sym(const struct dl_phdr_info *info, const char *symbol, size_t *size)
{
	return lookup_in(info, symbol, 1u << STT_FUNC | 1u << STT_OBJECT, size);
}

void *pt__elf_lookup(const char *soname, const char *symbol)
{
	struct lookup l = { soname, symbol, STT_FUNC, NULL };
	dl_iterate_phdr(visit, &l);
	return l.result;
}

void *pt__elf_lookup_object(const char *soname, const char *symbol)
{
	struct lookup l = { soname, symbol, STT_OBJECT, NULL };
	dl_iterate_phdr(visit, &l);
	return l.result;
}

struct lookup_next {
	const char *symbol;
	void *result;
	int past_self;            /* libpooltrace.so itself was visited */
};

/* A definition of a function: plain or GNU indirect (an IFUNC's address is
 * its resolver's, so only the binding test takes one). */
#define FUNC_TYPES (1u << STT_FUNC | 1u << STT_GNU_IFUNC)

static int visit_next(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct lookup_next *l = arg;
	(void)size;
	if (!l->past_self) {   /* libpooltrace.so and the objects before it */
		l->past_self = pt__module_is_self(info);
		return 0;
	}
	l->result = lookup_in(info, l->symbol, 1u << STT_FUNC, NULL);
	return l->result != NULL;
}

static int visit_first(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct lookup_next *l = arg;
	(void)size;
	l->result = lookup_in(info, l->symbol, FUNC_TYPES, NULL);
	if (l->result && pt__module_is_self(info))
		l->result = (void *)visit_first;   /* ours: a mark, not the address */
	return l->result != NULL;
}

int pt__elf_bound_to_self(const char *symbol)
{
	struct lookup_next l = { symbol, NULL, 0 };
	dl_iterate_phdr(visit_first, &l);
	return l.result == (void *)visit_first;
}

void *pt__elf_lookup_next(const char *symbol)
{
	struct lookup_next l = { symbol, NULL, 0 };
	dl_iterate_phdr(visit_next, &l);
	return l.result;
}

void *pt__libc_fn(struct pt_libc_fn *f)
{
	if (!__atomic_load_n(&f->looked, __ATOMIC_ACQUIRE)) {
		/* racing threads find the same address: storing it twice is fine */
		__atomic_store_n(&f->fn, pt__elf_lookup("libc.so.6", f->name), __ATOMIC_RELAXED);
		__atomic_store_n(&f->looked, 1, __ATOMIC_RELEASE);
	}
	return __atomic_load_n(&f->fn, __ATOMIC_RELAXED);
}

size_t pt__libc_usable_size(void *p)
{
	static struct pt_libc_fn usable = { "malloc_usable_size", NULL, 0 };
	static int warned;

	if (!p)
		return 0;
	size_t (*f)(void *) = (size_t (*)(void *))pt__libc_fn(&usable);
	if (f)
		return f(p);
	if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
		pt__dprintf(2, "pooltrace: warning: glibc's malloc_usable_size not "
		               "found; reporting chunk sizes from glibc's headers\n");
	/* glibc chunk header: size in the word before p, flag bit 2 = mmapped */
	size_t sz = ((size_t *)p)[-1];
	return (sz & ~(size_t)7) - ((sz & 2) ? 2 : 1) * sizeof(size_t);
}

typedef int create_fn(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

int pt__libc_pthread_create(pthread_t *th, const pthread_attr_t *attr,
                            void *(*start)(void *), void *arg)
{
	static struct pt_libc_fn fn = { "pthread_create", NULL, 0 };
	create_fn *f = (create_fn *)pt__libc_fn(&fn);
	if (!f)
		return 11;   /* EAGAIN: no glibc to create it with */
	return f(th, attr, start, arg);
}
