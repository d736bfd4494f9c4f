/*
 * pylines_check.c FILE - the lines of Python frames as the recorder keeps
 * them (preload/python_lines.c: CPython's table as runs) and the reports
 * read them (report/pylines.c), against the lines CPython itself gives:
 * FILE is what tests/python/linetables.py printed (code objects' tables and
 * the line of every instruction offset).  Prints one line, the counts;
 * exit status 1 if any offset decodes to another line (the first few are
 * listed), 2 if FILE is unreadable or holds no offset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../preload/python_lines.h"
#include "../report/pylines.h"

static uint8_t table[1 << 20], runs[16 << 10];

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
	if (!f) {
		fprintf(stderr, "usage: pylines_check FILE\n");
		return 2;
	}
	static char line[1 << 21];
	unsigned format = 0;
	unsigned long long first = 0;
	size_t n = 0, nruns = 0, codes = 0, offsets = 0, wrong = 0, tbytes = 0, rbytes = 0;
	while (fgets(line, sizeof line, f)) {
		if (line[0] == 'C') {
			char *hex = NULL;
			format = (unsigned)strtoul(line + 2, &hex, 10);
			first = strtoull(hex, &hex, 10);
			while (*hex == ' ')
				hex++;
			for (n = 0; n < sizeof table && hex[0] && hex[1] && hex[0] != '\n'; n++, hex += 2) {
				unsigned b;
				sscanf(hex, "%2x", &b);
				table[n] = (uint8_t)b;
			}
			nruns = pt__pylines_runs(format, table, n, (int64_t)first, runs, sizeof runs);
			codes++;
			tbytes += n;
			rbytes += nruns;
		} else if (line[0] == 'O') {
			long long off;
			unsigned want;
			if (sscanf(line + 2, "%lld %u", &off, &want) != 2)
				continue;
			unsigned got = pt_pylines_line(runs, nruns, first, off);
			offsets++;
			if (got != want && wrong++ < 10)
				printf("FAIL code %zu (format %u, first line %llu): offset %lld: line %u, "
				       "CPython says %u\n", codes, format, first, off, got, want);
		}
	}
	fclose(f);
	printf("%s %zu code objects (tables %zu bytes, as runs %zu), %zu offsets, %zu lines "
	       "differ\n", wrong || !offsets ? "FAIL" : "ok  ", codes, tbytes, rbytes, offsets, wrong);
	return !offsets ? 2 : wrong != 0;
}
