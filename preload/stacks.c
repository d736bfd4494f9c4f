/*
 * stacks.c - the stack tables (stacks.h).
 */
#include <string.h>

#include "stacks.h"

#define INDEX_MIN 4096          /* an index's first size */

static inline uint64_t stack_hash(void *const *ip, int n, unsigned epoch)
{
	uint64_t h = 0x2545f4914f6cdd1dull ^ (uint64_t)n ^ ((uint64_t)epoch << 40);
	for (int i = 0; i < n; i++) {
		h = (h ^ (uintptr_t)ip[i]) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	return h;
}

#define CHUNK ((size_t)1 << PT_STACK_CHUNK_SHIFT)

int pt__stacks_init(struct pt_stack_table *t, uint32_t max, size_t store_size)
{
	t->index = pt__hindex_new(INDEX_MIN);
	t->offs = pt__map((size_t)max * sizeof(uint64_t), 1);
	t->chunk = pt__map((store_size + CHUNK - 1) / CHUNK * sizeof *t->chunk, 0);
	if (!t->index || !t->offs || !t->chunk)
		return -1;
	t->max = max;
	t->store_size = store_size;
	t->store_used = 0;
	atomic_store(&t->n, 1);
	return 0;
}

void pt__stacks_reset(struct pt_stack_table *t)
{
	pt__hindex_reset(&t->index, INDEX_MIN);
	madvise(t->offs, (size_t)t->max * sizeof(uint64_t), MADV_DONTNEED);
	for (size_t i = 0; i < (t->store_size + CHUNK - 1) / CHUNK && t->chunk[i]; i++)
		madvise(t->chunk[i], CHUNK, MADV_DONTNEED);
	t->store_used = 0;
	atomic_store(&t->n, 1);
}

struct stack_key {
	const struct pt_stack_table *t;
	void *const *ip;
	int n;
	unsigned epoch;
};

static int stack_eq(uint32_t id, const void *arg)
{
	const struct stack_key *k = arg;
	const struct pt_stack_entry *e = pt__stacks_get(k->t, id);
	return e->nframes == (uint32_t)k->n && e->epoch == k->epoch &&
	       memcmp(e->ip, k->ip, (size_t)k->n * sizeof(void *)) == 0;
}

static uint64_t stack_hash_of(uint32_t id, const void *table)
{
	const struct pt_stack_entry *e = pt__stacks_get(table, id);
	return stack_hash((void *const *)e->ip, (int)e->nframes, e->epoch);
}

/* The id of a stack not equal to the caller's last: the index, then a new entry. */
static uint32_t intern_slow(struct pt_stack_table *t, const struct stack_key *key, unsigned gen,
                            int *fresh)
{
	void *const *ip = key->ip;
	int n = key->n;
	unsigned epoch = key->epoch;
	uint64_t h = stack_hash(ip, n, epoch);
	uint32_t id = pt__hindex_find(&t->index, h, stack_eq, key);
	if (id)
		return id;

	pt__lock_acquire(&t->lock);
	/* again, under the lock: another thread may have added it */
	id = pt__hindex_find(&t->index, h, stack_eq, key);
	if (id)
		goto out;
	id = atomic_load_explicit(&t->n, memory_order_relaxed);
	size_t need = sizeof(struct pt_stack_entry) + (size_t)n * sizeof(void *);
	size_t at = t->store_used;
	if ((at & (CHUNK - 1)) + need > CHUNK)
		at = (at + CHUNK - 1) & ~(CHUNK - 1);   /* the next chunk */
	if (id >= t->max || at + need > t->store_size) {
		id = 0;
		goto out;
	}
	uint8_t **c = &t->chunk[at / CHUNK];
	if (!*c && !(*c = pt__map(CHUNK, 0))) {
		id = 0;   /* refused: full for now */
		goto out;
	}
	struct pt_stack_entry *e = (void *)(*c + (at & (CHUNK - 1)));
	e->nframes = (uint32_t)n;
	e->epoch = epoch;
	e->gen = gen;
	memcpy(e->ip, ip, (size_t)n * sizeof(void *));
	t->offs[id] = at;
	if (pt__hindex_add(&t->index, h, id, stack_hash_of, t)) {
		id = 0;
		goto out;
	}
	t->store_used = at + need;
	atomic_store_explicit(&t->n, id + 1, memory_order_release);   /* the entry first: a caller's
	                                                                 last id is read by it */
	*fresh = 1;
out:
	pt__lock_release(&t->lock);
	return id;
}

uint32_t pt__stacks_intern(struct pt_stack_table *t, void *const *ip, int n, unsigned epoch,
                           unsigned gen, int *fresh, uint32_t *last)
{
	struct stack_key key = { t, ip, n, epoch };
	*fresh = 0;
	if (last && *last && *last < atomic_load_explicit(&t->n, memory_order_acquire) &&
	    stack_eq(*last, &key))
		return *last;
	uint32_t id = intern_slow(t, &key, gen, fresh);
	if (last && id)
		*last = id;
	return id;
}
