/*
 * util.c - allocation, hashing, the string table, growing strings, JSON
 * strings (util.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Out of memory ends the report tool: one line, status 2. */
static void out_of_memory(void)
{
	fprintf(stderr, "pooltrace: out of memory\n");
	exit(2);
}

void *pt_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory();
	return p;
}

void *pt_xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p)
		out_of_memory();
	return p;
}

void *pt_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		out_of_memory();
	return p;
}

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

/* ---- JSON strings ------------------------------------------------------------------ */

/* The length of the UTF-8 sequence at s (at most n bytes there), or 0 if
 * it is not a valid one. */
static size_t utf8_len(const unsigned char *s, size_t n, uint32_t *cp_out)
{
	unsigned c = s[0], len;
	uint32_t cp, min;
	if (c < 0x80)
		len = 1, cp = c, min = 0;
	else if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		len = 3, cp = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (unsigned i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_out = cp;
	return len;
}

void pt_buf_json(struct pt_buf *b, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str, *end = s + len;
	pt_buf_putc(b, '"');
	while (s < end) {
		uint32_t cp = 0;
		size_t n = utf8_len(s, (size_t)(end - s), &cp);
		const char *esc = cp && cp < 0x20 ? strchr("\bb\ff\nn\rr\tt", (int)cp) : NULL;
		if (!n) {
			pt_buf_put(b, "\\ufffd", 6);
			n = 1;
		} else if (cp == '"' || cp == '\\') {
			pt_buf_putc(b, '\\');
			pt_buf_putc(b, (char)cp);
		} else if (esc) {
			pt_buf_putc(b, '\\');
			pt_buf_putc(b, esc[1]);
		} else if (cp < 0x20 || cp == 0x7f || cp == '<' || cp == '>' || cp == '&' ||
		           cp == 0x2028 || cp == 0x2029) {
			pt_buf_printf(b, "\\u%04x", (unsigned)cp);
		} else {
			pt_buf_put(b, (const char *)s, n);
		}
		s += n;
	}
	pt_buf_putc(b, '"');
}
