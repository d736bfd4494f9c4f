/*
 * python_lines.c - CPython's line tables as runs (python_lines.h).
 */
#include "python_lines.h"
#include "trace_format.h"

/* The runs being written: ranges of offsets in code units with a line
 * (or none, -1), merged while the line stays. */
struct runs {
	uint8_t *p, *end;
	int64_t prev_line;            /* of the last run with a line */
	int64_t len, line;            /* the run not written yet */
	int full;
};

static void put_run(struct runs *r, int64_t len, int64_t line)
{
	uint8_t tmp[20], *q = tmp;
	q = pt_put_u(q, (uint64_t)len << 1 | (line >= 0));
	if (line >= 0)
		q = pt_put_s(q, line - r->prev_line);
	if (r->full || q - tmp > r->end - r->p) {
		r->full = 1;
		return;
	}
	for (uint8_t *s = tmp; s < q; s++)
		*r->p++ = *s;
	if (line >= 0)
		r->prev_line = line;
}

static void add_range(struct runs *r, int64_t len, int64_t line)
{
	if (len <= 0)
		return;
	if (r->len && r->line == line) {
		r->len += len;
		return;
	}
	if (r->len)
		put_run(r, r->len, r->line);
	r->len = len;
	r->line = line;
}

/* 3.8, 3.9: the last range is open (every later offset has its line) */
static void lnotab(struct runs *r, const uint8_t *t, size_t n, int64_t line)
{
	int64_t addr = 0;
	for (size_t i = 0; i + 1 < n; i += 2) {
		add_range(r, (addr + t[i]) / 2 - addr / 2, line);
		addr += t[i];
		line += (int8_t)t[i + 1];
	}
	if (r->len && r->line != line)
		put_run(r, r->len, r->line);
	r->len = 0;   /* one of the same line: the open run starts there */
	put_run(r, 0, line);
}

static void table310(struct runs *r, const uint8_t *t, size_t n, int64_t line)
{
	int64_t end = 0;
	for (size_t i = 0; i + 1 < n; i += 2) {
		int64_t start = end;
		end += t[i];
		int ld = (int8_t)t[i + 1];
		int64_t cur = -1;
		if (ld != -128) {
			line += ld;
			cur = line;
		}
		add_range(r, end / 2 - start / 2, cur);
	}
}

/* the location table's varint at t[*i]: 6 bits a byte, 0x40 continues */
static uint64_t loc_varint(const uint8_t *t, size_t n, size_t *i)
{
	uint64_t v = 0;
	for (unsigned shift = 0; *i < n && shift < 64; shift += 6) {
		uint8_t b = t[(*i)++];
		v |= (uint64_t)(b & 63) << shift;
		if (!(b & 64))
			break;
	}
	return v;
}

static void locations(struct runs *r, const uint8_t *t, size_t n, int64_t line)
{
	size_t i = 0;
	while (i < n && (t[i] & 128)) {
		uint8_t head = t[i];
		unsigned code = (head >> 3) & 15;
		size_t j = i + 1;
		if (code == 13 || code == 14) {          /* no columns; long form */
			uint64_t u = loc_varint(t, n, &j);
			line += u & 1 ? -(int64_t)(u >> 1) : (int64_t)(u >> 1);
		} else if (code >= 10 && code <= 12) {   /* one line, delta 0..2 */
			line += code - 10;
		}
		add_range(r, (head & 7) + 1, code == 15 ? -1 : line);
		for (i++; i < n && !(t[i] & 128); i++)
			;
	}
}

size_t pt__pylines_runs(unsigned format, const uint8_t *t, size_t n, int64_t firstline,
                        uint8_t *out, size_t cap)
{
	struct runs r = { .p = out, .end = out + cap, .prev_line = firstline };
	switch (format) {
	case PT_PYLINES_LNOTAB:
		lnotab(&r, t, n, firstline);
		break;
	case PT_PYLINES_310:
		table310(&r, t, n, firstline);
		break;
	case PT_PYLINES_LOCATIONS:
		locations(&r, t, n, firstline);
		break;
	default:
		return 0;
	}
	if (r.len)
		put_run(&r, r.len, r.line);
	return (size_t)(r.p - out);
}
