/*
 * report_json.h - the parts every --json document shares (report, leaks,
 * frag, diff): its head, the trace it was made from, stacks and sites.
 * The schema: docs/pooltrace.schema.json; in words: pooltrace(1), JSON
 * OUTPUT.
 */
#ifndef POOLTRACE_REPORT_JSON_H
#define POOLTRACE_REPORT_JSON_H

#include "json.h"
#include "view.h"

/* A document on f: opens it with "schema_version", "command" and
 * "pooltrace" (the version).  pt_jr_end closes it, with a newline. */
void pt_jr_begin(struct pt_json *j, struct pt_buf *b, FILE *f, const char *cmd);
void pt_jr_end(struct pt_json *j);

/* "key": the trace of v: path, program, arguments, pid, how it was
 * recorded, how long it ran, how it ended, how much of it was read. */
void pt_jr_trace(struct pt_json *j, const char *key, const struct pt_view *v);

/* "stack": the first max frames of stack id, innermost first, each
 * {function, file, line, module, offset, inlined}; "stack_frames": how
 * many there are; "truncated": cut at the recording's depth. */
void pt_jr_stack(struct pt_json *j, struct pt_view *v, uint32_t stack, unsigned max);

/* {"blocks": n, "bytes": b} under key. */
void pt_jr_count(struct pt_json *j, const char *key, uint64_t blocks, uint64_t bytes);

/* A site as an object: every counter, its sizes and allocators, its stack. */
void pt_jr_site(struct pt_json *j, struct pt_view *v, const struct pt_site *s, unsigned frames);

#endif
