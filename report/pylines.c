/*
 * pylines.c - the line of an instruction from its code's runs (pylines.h).
 */
#include "pylines.h"
#include "../preload/trace_codec.h"

unsigned pt_pylines_line(const uint8_t *t, size_t n, uint64_t firstline, int64_t offset)
{
	if (firstline > UINT32_MAX)
		return 0;
	if (offset < 0)
		return (unsigned)firstline;
	struct pt_dec d = { t, t + n, 0 };
	int64_t line = (int64_t)firstline, start = 0;
	while (d.p < d.end) {
		uint64_t head = pt_dec_u(&d);
		uint64_t len = head >> 1;
		int has = head & 1;
		if (has)
			line += pt_dec_s(&d);
		if (d.bad)
			return 0;
		if (len == 0 || (uint64_t)(offset - start) < len)
			return has && line > 0 && line <= UINT32_MAX ? (unsigned)line : 0;
		if (len > (uint64_t)INT64_MAX - (uint64_t)start)
			return 0;
		start += (int64_t)len;
	}
	return 0;
}
