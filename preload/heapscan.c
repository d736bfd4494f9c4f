/*
 * heapscan.c - leak classification by reachability (heapscan.h).
 *
 * The blocks are one sorted array; a word is looked up by binary search,
 * after a range check that rejects most words at once.  Each block enters
 * the work list at most once per phase, so the list needs n slots.
 */
#include "heapscan.h"

static void sift_down(struct hs_block *b, size_t i, size_t n)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && b[c + 1].start > b[c].start)
			c++;
		if (b[i].start >= b[c].start)
			return;
		struct hs_block t = b[i];
		b[i] = b[c];
		b[c] = t;
		i = c;
	}
}

void hs_sort(struct hs_block *b, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(b, i, n);
	for (size_t k = n; k > 1; k--) {
		struct hs_block t = b[0];
		b[0] = b[k - 1];
		b[k - 1] = t;
		sift_down(b, 0, k - 1);
	}
}

long hs_find(const struct hs_ctx *c, uintptr_t a)
{
	if (!c->n || a < c->b[0].start)
		return -1;
	const struct hs_block *last = &c->b[c->n - 1];
	if (a >= last->start + (last->size ? last->size : 1))
		return -1;
	size_t lo = 0, hi = c->n;   /* the last block starting at or below a */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->b[mid].start <= a)
			lo = mid;
		else
			hi = mid;
	}
	const struct hs_block *b = &c->b[lo];
	return a < b->start + (b->size ? b->size : 1) ? (long)lo : -1;
}

/* Words of [p, p + len) that point into a block in state from: set to,
 * onto the work list.  Returns nothing; the list is drained by flood(). */
static void scan_words(struct hs_ctx *c, const void *p, size_t len, uint32_t from,
                       uint32_t to, size_t self)
{
	uintptr_t a = ((uintptr_t)p + 7) & ~(uintptr_t)7;
	uintptr_t end = (uintptr_t)p + len;
	if (!c->n)
		return;
	uintptr_t lo = c->b[0].start;
	uintptr_t hi = c->b[c->n - 1].start + c->b[c->n - 1].size + 1;
	for (; a + 8 <= end; a += 8) {
		uintptr_t w = *(const uintptr_t *)a;
		if (w < lo || w >= hi)
			continue;
		long i = hs_find(c, w);
		if (i < 0 || (size_t)i == self)
			continue;
		struct hs_block *b = &c->b[i];
		if (b->skip && w == b->start + b->skip)
			continue;
		if (b->state == from) {
			b->state = to;
			c->work[c->nwork++] = (uint32_t)i;
		} else if (to == HS_INDIRECT && b->state == HS_DIRECT) {
			/* an earlier leader reached from this clique: it is
			 * part of it (its own blocks are marked already) */
			b->state = HS_INDIRECT;
		}
	}
}

void hs_scan_root(struct hs_ctx *c, const void *p, size_t len)
{
	c->roots_bytes += len;
	scan_words(c, p, len, HS_UNSEEN, HS_REACHABLE, (size_t)-1);
}

void hs_mark_root(struct hs_ctx *c, size_t i)
{
	if (c->b[i].state != HS_UNSEEN)
		return;
	c->b[i].state = HS_REACHABLE;
	c->work[c->nwork++] = (uint32_t)i;
	c->roots_bytes += c->b[i].size;
}

static void flood(struct hs_ctx *c, uint32_t to, size_t self)
{
	while (c->nwork) {
		struct hs_block *b = &c->b[c->work[--c->nwork]];
		scan_words(c, (const void *)b->start, b->size, HS_UNSEEN, to, self);
	}
}

void hs_classify(struct hs_ctx *c)
{
	flood(c, HS_REACHABLE, (size_t)-1);
	for (size_t i = 0; i < c->n; i++) {
		struct hs_block *b = &c->b[i];
		if (b->state != HS_UNSEEN)
			continue;
		b->state = HS_DIRECT;
		scan_words(c, (const void *)b->start, b->size, HS_UNSEEN, HS_INDIRECT, i);
		flood(c, HS_INDIRECT, i);
	}
}
