/*
 * util.c - allocation, hashing, the string table, growing strings (util.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

char *pt_xstrdup(const char *s)
{
	size_t len = strlen(s) + 1;
	return memcpy(pt_xmalloc(len), s, len);
}

/* ---- hashing ----------------------------------------------------------------- */

uint64_t pt_hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

uint64_t pt_hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return pt_hash_u64(h);
}

/* ---- the string table ----------------------------------------------------------- */

static void strtab_place(struct pt_strtab *t, uint32_t id)
{
	size_t mask = t->nslots - 1, i = pt_hash_str(t->str[id]) & mask;
	while (t->slot[i])
		i = (i + 1) & mask;
	t->slot[i] = id + 1;
}

uint32_t pt_strtab_intern(struct pt_strtab *t, const char *s)
{
	if (2 * (t->n + 1) >= t->nslots) {
		t->nslots = t->nslots ? 2 * t->nslots : 1024;
		free(t->slot);
		t->slot = pt_xcalloc(t->nslots, sizeof *t->slot);
		t->str = pt_xrealloc(t->str, t->nslots / 2 * sizeof *t->str);
		for (uint32_t id = 0; id < t->n; id++)
			strtab_place(t, id);
	}
	size_t mask = t->nslots - 1;
	for (size_t i = pt_hash_str(s) & mask; t->slot[i]; i = (i + 1) & mask)
		if (strcmp(t->str[t->slot[i] - 1], s) == 0)
			return t->slot[i] - 1;
	uint32_t id = (uint32_t)t->n++;
	t->str[id] = pt_xstrdup(s);
	strtab_place(t, id);
	return id;
}

void pt_strtab_free(struct pt_strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->str[i]);
	free(t->str);
	free(t->slot);
	memset(t, 0, sizeof *t);
}

/* ---- growing strings -------------------------------------------------------------- */

/* room for more bytes and the NUL */
static void buf_grow(struct pt_buf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	while (b->len + more + 1 > b->cap)
		b->cap = b->cap ? 2 * b->cap : 256;
	b->s = pt_xrealloc(b->s, b->cap);
}

void pt_buf_put(struct pt_buf *b, const char *s, size_t len)
{
	buf_grow(b, len);
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = 0;
}

void pt_buf_putc(struct pt_buf *b, char c)
{
	pt_buf_put(b, &c, 1);
}

void pt_buf_printf(struct pt_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}
