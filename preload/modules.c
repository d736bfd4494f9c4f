/*
 * modules.c - the loaded modules (modules.h).
 */
#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "modules.h"

uintptr_t pt__self_lo, pt__self_hi;

/* Does the module hold address a in one of its PT_LOAD segments? */
static const ElfW(Phdr) *segment_of(const struct dl_phdr_info *info, uintptr_t a)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && a - (info->dlpi_addr + ph->p_vaddr) < ph->p_memsz)
			return ph;
	}
	return NULL;
}

int pt__module_is_self(const struct dl_phdr_info *info)
{
	return segment_of(info, (uintptr_t)&pt__module_is_self) != NULL;
}

static int self_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	const ElfW(Phdr) *ph = segment_of(info, (uintptr_t)&self_cb);
	if (!ph)
		return 0;
	uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
	pt__self_hi = lo + ph->p_memsz;
	__atomic_store_n(&pt__self_lo, lo, __ATOMIC_RELEASE);
	return 1;
}

void pt__modules_find_self(void)
{
	if (!__atomic_load_n(&pt__self_hi, __ATOMIC_ACQUIRE))
		dl_iterate_phdr(self_cb, NULL);
}

/* The GNU build-id note of a PT_NOTE segment, NULL if none. */
static const uint8_t *build_id(const struct dl_phdr_info *info, size_t *len)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const uint8_t *n = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		const uint8_t *ne = n + ph->p_memsz;
		while (n + sizeof(ElfW(Nhdr)) <= ne) {
			const ElfW(Nhdr) *nh = (const void *)n;
			size_t nsz = (nh->n_namesz + 3) & ~3u, dsz = (nh->n_descsz + 3) & ~3u;
			const uint8_t *desc = n + sizeof *nh + nsz;
			if (desc + nh->n_descsz > ne)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(n + sizeof *nh, "GNU", 4) == 0 && nh->n_descsz <= 64) {
				*len = nh->n_descsz;
				return desc;
			}
			n = desc + dsz;
		}
	}
	*len = 0;
	return NULL;
}

struct each_ctx {
	int (*fn)(const struct pt_module_view *m, void *arg);
	void *arg;
	unsigned index;
};

static int each_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	static char exe[4096];
	struct each_ctx *c = arg;
	struct pt_module_view m = {
		.index = c->index++, .base = info->dlpi_addr, .path = info->dlpi_name,
		.phdr = info->dlpi_phdr, .phnum = info->dlpi_phnum, .tls_data = info->dlpi_tls_data,
		.self = pt__module_is_self(info),
	};
	m.path_len = m.path ? strlen(m.path) : 0;
	if (m.path_len == 0 && m.index == 0) {   /* the main program */
		ssize_t r = readlink("/proc/self/exe", exe, sizeof exe);
		m.path = exe;
		m.path_len = r > 0 ? (size_t)r : 0;
	}
	m.build_id = build_id(info, &m.build_id_len);
	return c->fn(&m, c->arg);
}

void pt__modules_each(int (*fn)(const struct pt_module_view *m, void *arg), void *arg)
{
	struct each_ctx c = { fn, arg, 0 };
	dl_iterate_phdr(each_cb, &c);
}

struct interp {
	const char *name;         /* its base name, from the main program */
	uintptr_t lo, hi;
};

static const char *base_name(const char *p)
{
	const char *b = strrchr(p, '/');
	return b ? b + 1 : p;
}

static int interp_cb(const struct pt_module_view *m, void *arg)
{
	struct interp *x = arg;
	for (unsigned i = 0; i < m->phnum; i++) {
		const ElfW(Phdr) *ph = &m->phdr[i];
		if (m->index == 0 && ph->p_type == PT_INTERP)
			x->name = base_name((const char *)(m->base + ph->p_vaddr));
		else if (x->name && m->index > 0 && ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		         m->path_len && strcmp(base_name(m->path), x->name) == 0) {
			x->lo = m->base + ph->p_vaddr;
			x->hi = x->lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

void pt__modules_interp_text(uintptr_t *lo, uintptr_t *hi)
{
	struct interp x = { NULL, 0, 0 };
	pt__modules_each(interp_cb, &x);
	*lo = x.lo;
	*hi = x.hi;
}

static int count_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	uint64_t *c = arg;
	c[0] = info->dlpi_adds;
	c[1] = info->dlpi_subs;
	return 1;
}

void pt__modules_counters(uint64_t *adds, uint64_t *subs)
{
	uint64_t c[2] = { 0, 0 };
	dl_iterate_phdr(count_cb, c);
	*adds = c[0];
	*subs = c[1];
}
