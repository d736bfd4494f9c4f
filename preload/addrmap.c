/*
 * addrmap.c - the address map of the live blocks (addrmap.h).
 */
#include <string.h>
#include <sys/mman.h>

#include "addrmap.h"
#include "common.h"

#define CAP_MIN 4096

static inline size_t home(uintptr_t p)
{
	return (size_t)(((p >> 3) * 0x9e3779b97f4a7c15ull) >> 20);
}

static void place(struct pt_addrmap *m, uintptr_t p, uint32_t v)
{
	size_t mask = m->cap - 1, i = home(p) & mask;
	while (m->key[i] && m->key[i] != p)
		i = (i + 1) & mask;
	if (!m->key[i])
		m->n++;
	m->key[i] = p;
	m->val[i] = v;
}

static int grow(struct pt_addrmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : CAP_MIN, ocap = m->cap;
	uintptr_t *ok = m->key, *nk = pt__map(ncap * sizeof *nk, 0);
	uint32_t *ov = m->val, *nv = pt__map(ncap * sizeof *nv, 0);
	if (!nk || !nv) {
		if (nk)
			pt__unmap(nk, ncap * sizeof *nk);
		if (nv)
			pt__unmap(nv, ncap * sizeof *nv);
		return -1;
	}
	m->key = nk;
	m->val = nv;
	m->cap = ncap;
	m->n = 0;
	for (size_t i = 0; i < ocap; i++)
		if (ok[i])
			place(m, ok[i], ov[i]);
	if (ok) {
		pt__unmap(ok, ocap * sizeof *ok);
		pt__unmap(ov, ocap * sizeof *ov);
	}
	return 0;
}

int pt__addrmap_put(struct pt_addrmap *m, uintptr_t p, uint32_t v)
{
	pt_assert(p != 0);
	if ((m->n + 1) * 4 > m->cap * 3 && grow(m))
		return -1;
	place(m, p, v);
	return 0;
}

uint32_t pt__addrmap_take(struct pt_addrmap *m, uintptr_t p)
{
	if (!m->cap || !p)
		return 0;
	size_t mask = m->cap - 1, i = home(p) & mask;
	while (m->key[i] != p) {
		if (!m->key[i])
			return 0;
		i = (i + 1) & mask;
	}
	uint32_t v = m->val[i];
	/* backward shift: pull later entries of the run into the hole unless
	 * their home lies in (hole, slot] */
	size_t j = i;
	for (;;) {
		m->key[i] = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (!m->key[j])
				goto done;
			size_t k = home(m->key[j]) & mask;
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		m->key[i] = m->key[j];
		m->val[i] = m->val[j];
		i = j;
	}
done:
	m->n--;
	return v;
}

void pt__addrmap_clear(struct pt_addrmap *m)
{
	if (m->key)
		memset(m->key, 0, m->cap * sizeof *m->key);
	m->n = 0;
}

int pt__addrmap_check(const struct pt_addrmap *m)
{
	size_t n = 0, mask = m->cap - 1;
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->key[i])
			continue;
		n++;
		/* every slot from its home up to it is taken */
		for (size_t k = home(m->key[i]) & mask; k != i; k = (k + 1) & mask)
			if (!m->key[k])
				return -1;
	}
	return n == m->n && (m->cap == 0 || n * 4 <= m->cap * 3) ? 0 : -1;
}
