/*
 * hindex.h - the index of an interning table: ids looked up by hash
 * without a lock, inserted under the table's own lock.
 *
 * A slot holds (hash >> 32) << 32 | id; an id's entry lives in the
 * caller's table, which an eq() callback compares.  Slots are probed
 * linearly from the hash's low bits.  The index starts small and doubles
 * at half full into a new index, rehashed with the caller's hash_of(); the
 * old one stays mapped (a reader still probing it sees a subset of the
 * entries and, on a miss, looks again under the lock), so that its pages
 * are as dense as its entries.  A sparse reservation touched a page per
 * entry (60 MB for Python's 8000 infos and 6000 stacks).
 *
 * Invariants: ids are dense, 1, 2, 3... in the order they are added; the caller's entry is
 * complete before hindex_add() publishes its slot (release), so a reader
 * that finds the slot (acquire) reads a whole entry; x->n < (mask + 1) / 2.
 */
#ifndef POOLTRACE_HINDEX_H
#define POOLTRACE_HINDEX_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../allocator/compiler.h"

struct pt_hindex {
	size_t mask, n;
	_Atomic uint64_t slot[];
};

/* An empty index of cap slots (a power of two), NULL if out of memory. */
PT_HIDDEN struct pt_hindex *pt__hindex_new(size_t cap);

/* The id whose slot has h's tag and for which eq(id, key) holds, 0 if
 * none.  No lock. */
PT_HIDDEN uint32_t pt__hindex_find(struct pt_hindex *_Atomic *px, uint64_t h,
                                   int (*eq)(uint32_t id, const void *key), const void *key);

/*
 * Add id (its entry already complete) at hash h, growing first if half
 * full: hash_of(k, table) gives each of the ids 1..id-1 its hash again.
 * The table's lock held.  0, or -1 if there is no memory for a bigger
 * index (id was not added).
 */
PT_HIDDEN int pt__hindex_add(struct pt_hindex *_Atomic *px, uint64_t h, uint32_t id,
                             uint64_t (*hash_of)(uint32_t id, const void *table),
                             const void *table);

/* Empty the index (the fork child): a new small one, or the old one
 * cleared if there is no memory for it. */
PT_HIDDEN void pt__hindex_reset(struct pt_hindex *_Atomic *px, size_t cap);

#endif
