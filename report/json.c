/*
 * json.c - the JSON writer (json.h).
 */
#include <inttypes.h>
#include <string.h>

#include "json.h"

void pt_json_key(struct pt_json *j, const char *key)
{
	if (j->comma)
		pt_buf_putc(j->b, ',');
	if (key) {
		pt_buf_json(j->b, key, strlen(key));
		pt_buf_putc(j->b, ':');
	}
	j->comma = 1;
}

void pt_json_open(struct pt_json *j, const char *key, char c)
{
	pt_json_key(j, key);
	pt_buf_putc(j->b, c);
	j->comma = 0;
}

void pt_json_close(struct pt_json *j, char c)
{
	pt_buf_putc(j->b, c);
	j->comma = 1;
}

void pt_json_u64(struct pt_json *j, const char *key, uint64_t v)
{
	char num[24];
	pt_json_key(j, key);
	pt_buf_put(j->b, num, (size_t)snprintf(num, sizeof num, "%" PRIu64, v));
}

void pt_json_i64(struct pt_json *j, const char *key, int64_t v)
{
	char num[24];
	pt_json_key(j, key);
	pt_buf_put(j->b, num, (size_t)snprintf(num, sizeof num, "%" PRId64, v));
}

void pt_json_u64s(struct pt_json *j, const char *key, const uint64_t *v, size_t n)
{
	pt_json_open(j, key, '[');
	for (size_t i = 0; i < n; i++)
		pt_json_u64(j, NULL, v[i]);
	pt_json_close(j, ']');
}

void pt_json_bool(struct pt_json *j, const char *key, int v)
{
	pt_json_key(j, key);
	pt_buf_put(j->b, v ? "true" : "false", v ? 4 : 5);
}

void pt_json_null(struct pt_json *j, const char *key)
{
	pt_json_key(j, key);
	pt_buf_put(j->b, "null", 4);
}

void pt_json_strn(struct pt_json *j, const char *key, const char *s, size_t len)
{
	pt_json_key(j, key);
	pt_buf_json(j->b, s, len);
}

void pt_json_str(struct pt_json *j, const char *key, const char *s)
{
	if (s)
		pt_json_strn(j, key, s, strlen(s));
	else
		pt_json_null(j, key);
}

void pt_json_str0(struct pt_json *j, const char *key, const char *s)
{
	pt_json_strn(j, key, s ? s : "", s ? strlen(s) : 0);
}

void pt_json_flush(struct pt_json *j)
{
	if (!j->f || !j->b->len)
		return;
	fwrite(j->b->s, 1, j->b->len, j->f);
	j->b->len = 0;
	j->b->s[0] = 0;
}
