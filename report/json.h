/*
 * json.h - the JSON writer of the report tool: the page's document
 * (html_data.c) and the --json output of report, leaks, frag and diff.
 *
 * The writer places the commas: a value after another one at the same
 * level is preceded by ','.  Strings go through pt_buf_json (util.h): valid
 * UTF-8, no raw control character, no '<' (safe inside a <script>).
 * Numbers are integers, exact: byte counts up to 2^64 - 1 (JavaScript's
 * numbers are exact up to 2^53 only; Python's and jq's 1.7 integers are).
 *
 * The text accumulates in a pt_buf; with a FILE set, pt_json_flush writes
 * it out and empties the buffer (the commands flush after each record so
 * that memory does not grow with the document).
 */
#ifndef POOLTRACE_JSON_H
#define POOLTRACE_JSON_H

#include <stdint.h>
#include <stdio.h>

#include "util.h"

/* The version of the --json documents' schema (docs/pooltrace.schema.json,
 * pooltrace(1) JSON OUTPUT): a new key keeps it; a key removed or changed
 * in meaning raises it. */
#define PT_JSON_SCHEMA_VERSION 1

struct pt_json {
	struct pt_buf *b;
	FILE *f;                  /* NULL: the text stays in b */
	int comma;
};

void pt_json_open(struct pt_json *j, const char *key, char c);    /* '{' or '[' */
void pt_json_close(struct pt_json *j, char c);
void pt_json_u64(struct pt_json *j, const char *key, uint64_t v);
void pt_json_i64(struct pt_json *j, const char *key, int64_t v);
void pt_json_u64s(struct pt_json *j, const char *key, const uint64_t *v, size_t n);
void pt_json_bool(struct pt_json *j, const char *key, int v);
void pt_json_null(struct pt_json *j, const char *key);
void pt_json_strn(struct pt_json *j, const char *key, const char *s, size_t len);
/* s, or null for NULL */
void pt_json_str(struct pt_json *j, const char *key, const char *s);
/* "" for NULL (the page's document) */
void pt_json_str0(struct pt_json *j, const char *key, const char *s);
/* a key whose value the caller writes raw, with pt_buf_* */
void pt_json_key(struct pt_json *j, const char *key);

/* With f set: the buffer written to f and emptied. */
void pt_json_flush(struct pt_json *j);

#endif
