/*
 * addrmap.h - a map from block addresses to 32-bit values: open
 * addressing with linear probing and backward-shift deletion (no
 * tombstones, so a table that sees millions of puts and takes never needs
 * a rehash to stay short).  Memory comes from mmap; the caller locks.
 *
 * Invariants: key 0 marks an empty slot (no block lives at address 0);
 * every key sits in the probe run that starts at its home slot, with no
 * empty slot between; n < cap * 3 / 4.
 */
#ifndef POOLTRACE_ADDRMAP_H
#define POOLTRACE_ADDRMAP_H

#include <stddef.h>
#include <stdint.h>

#include "../allocator/compiler.h"

struct pt_addrmap {
	uintptr_t *key;
	uint32_t *val;
	size_t cap, n;             /* cap: 0 or a power of two */
};

/* Set p's value to v (p != 0).  0, or -1 if the table could not grow (p
 * is then not in it). */
PT_HIDDEN int pt__addrmap_put(struct pt_addrmap *m, uintptr_t p, uint32_t v);

/* Remove p; its value, or 0 if it was not there. */
PT_HIDDEN uint32_t pt__addrmap_take(struct pt_addrmap *m, uintptr_t p);

/* Empty it, keeping its memory. */
PT_HIDDEN void pt__addrmap_clear(struct pt_addrmap *m);

/* Check the invariants (tests, PT_DEBUG): 0 if they hold. */
PT_HIDDEN int pt__addrmap_check(const struct pt_addrmap *m);

#endif
