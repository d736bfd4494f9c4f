/*
 * util.h - the small pieces every part of the report tool uses: allocation
 * that cannot fail, the one hash function, the one string table, growing
 * strings, the one JSON string writer.
 */
#ifndef POOLTRACE_UTIL_H
#define POOLTRACE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* ---- allocation ---------------------------------------------------------------
 * malloc, calloc, realloc and strdup for the report tool: out of memory
 * prints one line and exits with status 2.  A size of 0 allocates one
 * byte. */
void *pt_xmalloc(size_t n);
void *pt_xcalloc(size_t n, size_t sz);
void *pt_xrealloc(void *p, size_t n);
char *pt_xstrdup(const char *s);

/* ---- hashing --------------------------------------------------------------------
 * For open-addressing tables whose size is a power of two: every bit of
 * the result depends on every bit of the input, so the low bits can index.
 * pt_hash_u64 is MurmurHash3's 64-bit finalizer; pt_hash_str is FNV-1a
 * over the bytes of s, finalized by it. */
uint64_t pt_hash_u64(uint64_t x);
uint64_t pt_hash_str(const char *s);

/* ---- the string table: interned strings, an id each ---------------------------
 * Ids are 0, 1, 2, ... in the order the strings were first met; str[id]
 * is the table's own copy.  Zero-initialize; pt_strtab_free releases the
 * copies. */
struct pt_strtab {
	char **str;               /* by id */
	size_t n;
	uint32_t *slot;           /* open addressing: id + 1, 0 free */
	size_t nslots;            /* 0 or a power of two, above 2n */
};

uint32_t pt_strtab_intern(struct pt_strtab *t, const char *s);
void pt_strtab_free(struct pt_strtab *t);

/* ---- growing strings -------------------------------------------------------------
 * Zero-initialize; s is NUL-terminated once anything was put.  Setting
 * len to 0 empties it for reuse; free(s) releases it. */
struct pt_buf {
	char *s;
	size_t len, cap;
};

void pt_buf_put(struct pt_buf *b, const char *s, size_t len);
void pt_buf_putc(struct pt_buf *b, char c);
void pt_buf_printf(struct pt_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- JSON strings ------------------------------------------------------------------
 * pt_buf_json appends the len bytes at s as one JSON string, quotes
 * included.  There is one set of rules for all the JSON the tool writes,
 * right for each of its readers: speedscope files (any JSON parser) and
 * the document of the HTML page, which sits in a <script> element, so
 * that the HTML parser reads it before JSON.parse does.
 *
 *   "  \                     \"  \\
 *   U+0000 to U+001F         \b \f \n \r \t, the others \u00XX (JSON allows
 *                            no raw control character in a string)
 *   U+007F                   \u007f (raw, an HTML parse error)
 *   <  >  &                  \u003c \u003e \u0026: the page's data holds no
 *                            '<' at all, so no "</script" or "<!--"
 *   U+2028  U+2029           \u2028 \u2029: line terminators to JavaScript
 *                            before ES2019, should the text ever be read as
 *                            a script rather than parsed as JSON
 *   a byte that is not part  \ufffd, one per byte: JSON text is UTF-8 (RFC
 *   of valid UTF-8           8259), and a browser shows U+FFFD for it anyway;
 *                            stray continuation bytes, cut sequences,
 *                            overlong forms, surrogates, code points above
 *                            U+10FFFF
 *
 * and every other character as it is, in UTF-8.  Go's encoding/json
 * escapes the same way by default (DEL aside).  Any JSON reader gets the
 * same string back whichever form a character took.
 */
void pt_buf_json(struct pt_buf *b, const char *s, size_t len);

#endif
