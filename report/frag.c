/*
 * frag.c - the memory breakdown of a snapshot (frag.h).
 */
#include "frag.h"

static uint64_t minus(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

void pt_frag_compute(const struct pt_profile *p, const struct pt_snapshot *s,
                     uint64_t pool_live, struct pt_frag *f)
{
	const struct pt_trace_header *h = &p->t->hdr;
	uint64_t pool = h->pool_size;
	*f = (struct pt_frag){ .rss = s->rss, .arenas = s->arenas_mapped };
	/* the exact figure, unless it is a moment off from the snapshot */
	if (p->sampled || pool_live > s->bytes_in_blocks)
		pool_live = minus(s->bytes_in_blocks, s->rounding_est);
	f->pool_live = pool_live;
	f->pool_rounding = s->bytes_in_blocks - pool_live;
	f->pool_free = s->bytes_free_blocks;
	f->pool_tails = s->pool_tails;
	f->pool_empty = (s->pools_empty_heap + s->pools_free_dirty) * pool;
	f->headers = s->headers;
	uint64_t carved = (s->pools_in_use + s->pools_empty_heap + s->pools_free_dirty) * pool;
	f->meshed = s->meshed_now * pool;
	f->untouched = minus(s->arenas_mapped * h->arena_size, carved + s->headers + f->meshed);
	f->glibc = s->glibc_in_use;
	f->pool_resident = s->bytes_in_blocks + f->pool_free + f->pool_tails + f->pool_empty +
	                   f->headers;
	f->other = minus(s->rss, f->pool_resident + f->glibc);
}

void pt_frag_occupancy(const struct pt_trace_header *h, const struct pt_snapshot *s,
                       uint64_t bins[PT_OCCUPANCY_BINS])
{
	uint64_t pools = h->arena_size / h->pool_size - 1;   /* less the header page */
	for (unsigned b = 0; b < PT_OCCUPANCY_BINS; b++)
		bins[b] = 0;
	for (size_t i = 0; i < s->narenas; i++) {
		double occ = pools ? (double)s->arena[i].bytes_in_blocks /
		                     (double)(pools * h->pool_size) : 0;
		bins[occ >= 0.9 ? 9 : (unsigned)(occ * 10)]++;
	}
}
