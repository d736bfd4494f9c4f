/*
 * report_json.c - the shared parts of the --json documents (report_json.h).
 */
#include <inttypes.h>
#include <string.h>

#include "report_json.h"

#ifndef PT_VERSION
#define PT_VERSION "unknown"
#endif

void pt_jr_begin(struct pt_json *j, struct pt_buf *b, FILE *f, const char *cmd)
{
	*j = (struct pt_json){ .b = b, .f = f };
	pt_buf_put(b, "", 0);
	pt_json_open(j, NULL, '{');
	pt_json_u64(j, "schema_version", PT_JSON_SCHEMA_VERSION);
	pt_json_str(j, "command", cmd);
	pt_json_str(j, "pooltrace", PT_VERSION);
}

void pt_jr_end(struct pt_json *j)
{
	pt_json_close(j, '}');
	pt_buf_putc(j->b, '\n');
	pt_json_flush(j);
}

void pt_jr_count(struct pt_json *j, const char *key, uint64_t blocks, uint64_t bytes)
{
	pt_json_open(j, key, '{');
	pt_json_u64(j, "blocks", blocks);
	pt_json_u64(j, "bytes", bytes);
	pt_json_close(j, '}');
}

void pt_jr_trace(struct pt_json *j, const char *key, const struct pt_view *v)
{
	const struct pt_profile *p = &v->p;
	const struct pt_trace *t = p->t;
	pt_json_open(j, key, '{');
	pt_json_str(j, "path", v->path);
	pt_json_str(j, "program", t->exe);
	pt_json_open(j, "args", '[');
	for (size_t i = 0; i < t->hdr.args_len;) {
		size_t len = strnlen(t->args + i, t->hdr.args_len - i);
		pt_json_strn(j, NULL, t->args + i, len);
		i += len + 1;
	}
	pt_json_close(j, ']');
	pt_json_u64(j, "pid", t->hdr.pid);
	pt_json_u64(j, "ppid", t->hdr.ppid);
	pt_json_bool(j, "forked", (t->hdr.flags & PT_TRACE_F_FORKED) != 0);
	pt_json_u64(j, "start_ns", t->hdr.start_realtime_ns);
	pt_json_u64(j, "sample_bytes", t->hdr.sample_bytes);
	pt_json_u64(j, "unrecorded_calls", t->hdr.unrecorded);
	pt_json_u64(j, "depth", t->hdr.depth);
	pt_json_u64(j, "duration_ns", p->duration_ns);
	pt_json_str(j, "end", !t->ended ? "none" : p->end_reason == PT_END_SIGNAL ? "signal" :
	            "exit");
	if (t->ended && p->end_reason == PT_END_SIGNAL)
		pt_json_u64(j, "signal", p->end_code);
	pt_json_open(j, "read", '{');
	pt_json_u64(j, "file_bytes", t->size);
	pt_json_u64(j, "read_bytes", t->read_bytes);
	pt_json_u64(j, "skipped_chunks", t->skipped_chunks);
	pt_json_u64(j, "skipped_bytes", t->skipped_bytes);
	pt_json_bool(j, "partial", pt_trace_partial(t));
	pt_json_str(j, "stop", t->stop[0] ? t->stop : NULL);
	pt_json_close(j, '}');
	pt_json_close(j, '}');
}

void pt_jr_stack(struct pt_json *j, struct pt_view *v, uint32_t stack, unsigned max)
{
	const struct pt_frame *fr[PT_VIEW_MAX_FRAMES];
	size_t n = pt_view_frames(v, stack, fr, sizeof fr / sizeof fr[0]);
	pt_json_open(j, "stack", '[');
	for (size_t i = 0; i < n && i < max; i++) {
		const struct pt_frame *f = fr[i];
		char off[24];
		snprintf(off, sizeof off, "0x%" PRIx64, f->addr);
		pt_json_open(j, NULL, '{');
		pt_json_str(j, "function", f->func);
		pt_json_str(j, "file", f->file);
		if (f->file && f->line)
			pt_json_u64(j, "line", f->line);
		else
			pt_json_null(j, "line");
		pt_json_str(j, "module", f->module);
		pt_json_str(j, "offset", off);
		pt_json_bool(j, "inlined", f->inlined);
		pt_json_close(j, '}');
	}
	pt_json_close(j, ']');
	pt_json_u64(j, "stack_frames", n);
	pt_json_bool(j, "truncated", pt_trace_stack_cut(v->p.t, stack));
}

void pt_jr_site(struct pt_json *j, struct pt_view *v, const struct pt_site *s, unsigned frames)
{
	pt_json_open(j, NULL, '{');
	pt_jr_count(j, "allocated", s->n_alloc, s->bytes_alloc);
	pt_jr_count(j, "temporary", s->n_temp, s->bytes_temp);
	pt_jr_count(j, "at_peak", s->peak_n, s->peak_bytes);
	pt_jr_count(j, "not_freed", s->live_n, s->live_bytes);
	pt_json_u64(j, "min_size", s->min_size);
	pt_json_u64(j, "max_size", s->max_size);
	pt_json_open(j, "allocators", '[');
	if (s->kinds & 1)
		pt_json_str(j, NULL, "pool");
	if (s->kinds & 2)
		pt_json_str(j, NULL, "glibc");
	pt_json_close(j, ']');
	pt_jr_stack(j, v, s->stack, frames);
	pt_json_close(j, '}');
	pt_json_flush(j);
}
