/*
 * pylines.c - Python line tables (pylines.h).
 */
#include "pylines.h"
#include "../preload/trace_format.h"

/* 3.8, 3.9: co_lnotab, offsets in bytes */
static int64_t lnotab_line(const uint8_t *t, size_t n, int64_t line, int64_t addr)
{
	int64_t a = 0;
	for (size_t i = 0; i + 1 < n; i += 2) {
		a += t[i];
		if (a > addr)
			break;
		line += (int8_t)t[i + 1];
	}
	return line;
}

/* 3.10: (bytes covered, line delta) pairs; -128 marks a range without a
 * line, whose delta is not applied */
static int64_t table310_line(const uint8_t *t, size_t n, int64_t line, int64_t addr)
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
		if (addr >= start && addr < end)
			return cur;
	}
	return -1;
}

/* The location table's varint at t[*i] (6 bits a byte, 0x40 continues),
 * within n. */
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

/* 3.11 on: the location table, offsets in code units */
static int64_t locations_line(const uint8_t *t, size_t n, int64_t line, int64_t addr)
{
	int64_t end = 0;
	size_t i = 0;
	while (i < n) {
		uint8_t head = t[i];
		if (!(head & 128))
			return -1;   /* not an entry's first byte: a damaged table */
		unsigned code = (head >> 3) & 15;
		int64_t start = end;
		end += (head & 7) + 1;
		size_t j = i + 1;
		int64_t delta = 0;
		if (code == 13 || code == 14) {          /* no columns; long form */
			uint64_t u = loc_varint(t, n, &j);
			delta = u & 1 ? -(int64_t)(u >> 1) : (int64_t)(u >> 1);
		} else if (code >= 10 && code <= 12) {   /* one line, delta 0..2 */
			delta = code - 10;
		}
		line += delta;
		if (addr >= start && addr < end)
			return code == 15 ? -1 : line;
		/* the next entry: the next byte with bit 7 set (no varint or
		 * column byte has it) */
		for (i++; i < n && !(t[i] & 128); i++)
			;
	}
	return -1;
}

unsigned pt_pylines_line(unsigned format, const uint8_t *t, size_t n, uint64_t firstline,
                         int64_t offset)
{
	if (firstline > UINT32_MAX)
		return 0;
	int64_t line = (int64_t)firstline;
	if (offset < 0)
		return (unsigned)firstline;
	switch (format) {
	case PT_PYLINES_LNOTAB:
		line = lnotab_line(t, n, line, offset * 2);
		break;
	case PT_PYLINES_310:
		line = table310_line(t, n, line, offset * 2);
		break;
	case PT_PYLINES_LOCATIONS:
		line = locations_line(t, n, line, offset);
		break;
	default:
		return 0;
	}
	return line > 0 && line <= UINT32_MAX ? (unsigned)line : 0;
}
