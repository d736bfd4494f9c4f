/*
 * rec_info.c - infos: what heaptrack calls an allocation, a requested
 * size, a stack and where the block came from (pool or glibc), interned
 * to an id that ALLOC, FREE and REALLOC records carry.
 *
 * Each thread keeps the infos it met last (its icache); the shared table
 * is looked up without a lock when that misses, and under the table's lock
 * to add.  A new info's INFO record goes to a buffer that the file writes
 * before any other chunk (pt__rinfo_write_locked), so it is in the file
 * before every record that uses it.
 */
#include <string.h>

#include "hindex.h"
#include "rec_internal.h"

#define INFO_MAX   (1u << 21)        /* at most this many distinct infos */
#define INDEX_MIN  4096

struct pt_rec_info *pt__rec_infos;

static struct {
	struct pt_lock lock;       /* adding; the buffer of definitions */
	struct pt_hindex *_Atomic index;
	_Atomic uint32_t n;        /* ids 1..n-1 are defined */
	uint8_t *def;              /* INFO records not yet written */
	_Atomic size_t def_len;
	size_t def_cap;
	uint64_t prev_stack;       /* of the last INFO record (stacks as differences) */
} I = { .lock = PT_LOCK_INIT(PT_RANK_INFOS) };

int pt__rinfo_init(void)
{
	I.index = pt__hindex_new(INDEX_MIN);
	pt__rec_infos = pt__map(INFO_MAX * sizeof(struct pt_rec_info), 1);
	I.def_cap = 64u << 10;
	I.def = pt__map(I.def_cap, 0);
	if (!I.index || !pt__rec_infos || !I.def)
		return -1;
	atomic_store(&I.n, 1);
	return 0;
}

uint32_t pt__rinfo_count(void)
{
	return atomic_load_explicit(&I.n, memory_order_acquire);
}

static uint64_t info_hash(uint64_t size, uint32_t key)
{
	uint64_t h = (size * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)key * 0xc2b2ae3d27d4eb4full);
	return h ^ (h >> 31);
}

static uint64_t info_hash_of(uint32_t id, const void *table)
{
	const struct pt_rec_info *e = &pt__rec_infos[id];
	return info_hash(e->size, e->stack << 1 | e->kind);
}

static int info_eq(uint32_t id, const void *arg)
{
	const struct pt_rec_info *k = arg, *e = &pt__rec_infos[id];
	return e->size == k->size && e->stack == k->stack && e->kind == k->kind;
}

/* At p, the PT_EXT_INFOS record that opens a chunk of INFO records whose
 * first defines id; the stack differences restart.  Locked. */
static uint8_t *infos_record(uint8_t *p, uint32_t id)
{
	uint8_t body[PT_FIELDS_MAX(PT_FIELDS_EXT_INFOS)], *b = body;
	struct pt_r_ext_infos r = { .next = id };
	PT_ENCODE(b, &r, PT_FIELDS_EXT_INFOS);
	struct pt_r_ext h = { .ext = PT_EXT_INFOS, .len = (uint64_t)(b - body) };
	p = pt_enc_type(p, PT_REC_EXT);
	PT_ENCODE(p, &h, PT_FIELDS_EXT);
	memcpy(p, body, h.len);
	I.prev_stack = 0;
	return p + h.len;
}

/* A new info at hash h: entered, indexed and its INFO record queued; 0 if
 * there is no room (its blocks are then written as unknown).  Locked. */
static uint32_t info_new_locked(uint64_t h, const struct pt_rec_info *k)
{
	uint32_t id = atomic_load_explicit(&I.n, memory_order_relaxed);
	if (id >= INFO_MAX)
		return 0;
	size_t len = atomic_load_explicit(&I.def_len, memory_order_relaxed);
	enum { EXT_MAX = 1 + PT_FIELDS_MAX(PT_FIELDS_EXT) + PT_FIELDS_MAX(PT_FIELDS_EXT_INFOS) };
	if (len + EXT_MAX + PT_FIELDS_MAX(PT_FIELDS_INFO) + 1 > I.def_cap) {
		uint8_t *n = pt__map(I.def_cap * 2, 0);
		if (!n)
			return 0;
		memcpy(n, I.def, len);
		pt__unmap(I.def, I.def_cap);
		I.def = n;
		I.def_cap *= 2;
	}
	pt__rec_infos[id] = *k;
	if (pt__hindex_add(&I.index, h, id, info_hash_of, NULL))
		return 0;
	atomic_store_explicit(&I.n, id + 1, memory_order_release);
	uint8_t *q = I.def + len;
	if (len == 0)   /* the first of a chunk: its id, the differences restart */
		q = infos_record(q, id);
	struct pt_r_info r = { .size = k->size, .kind = k->kind, .stack = k->stack };
	q = pt_enc_type(q, PT_REC_INFO);
	PT_ENCODE_FIELDS(q, &r, I.prev_stack, PT_FIELDS_INFO);   /* the id: the next one */
	atomic_store_explicit(&I.def_len, (size_t)(q - I.def), memory_order_relaxed);
	return id;
}

uint32_t pt__rinfo_get(struct pt_rec_thread *t, uint64_t size, uint32_t stack, unsigned kind)
{
	uint32_t key = stack << 1 | kind;
	uint64_t h = info_hash(size, key);
	unsigned ci = (unsigned)(h >> 40) & (PT_REC_ICACHE - 1);
	if (t->icache[ci].id && t->icache[ci].size == size && t->icache[ci].key == key)
		return t->icache[ci].id;

	struct pt_rec_info k = { size, stack, kind };
	uint32_t id = pt__hindex_find(&I.index, h, info_eq, &k);
	if (!id) {
		pt__lock_acquire(&I.lock);
		id = pt__hindex_find(&I.index, h, info_eq, &k);
		if (!id)
			id = info_new_locked(h, &k);
		pt__lock_release(&I.lock);
	}
	if (id) {
		t->icache[ci].size = size;
		t->icache[ci].key = key;
		t->icache[ci].id = id;
	}
	return id;
}

int pt__rinfo_write_locked(void)
{
	if (!atomic_load_explicit(&I.def_len, memory_order_relaxed))
		return 0;
	int r = 0;
	pt__lock_acquire(&I.lock);
	size_t len = atomic_load_explicit(&I.def_len, memory_order_relaxed);
	if (len) {
		r = pt__rfile_write_defs_locked(I.def, len);
		atomic_store_explicit(&I.def_len, 0, memory_order_relaxed);
	}
	pt__lock_release(&I.lock);
	return r;
}

void pt__rinfo_fork_prepare(void)
{
	pt__lock_acquire(&I.lock);
}

void pt__rinfo_fork_parent(void)
{
	pt__lock_release(&I.lock);
}

/* The child's file defines no info yet (the threads' icaches are cleared
 * with their buffers). */
void pt__rinfo_fork_child(void)
{
	pt__lock_reinit(&I.lock);
	pt__hindex_reset(&I.index, INDEX_MIN);
	madvise(pt__rec_infos, INFO_MAX * sizeof(struct pt_rec_info), MADV_DONTNEED);
	atomic_store(&I.n, 1);
	atomic_store(&I.def_len, 0);
	I.prev_stack = 0;
}
