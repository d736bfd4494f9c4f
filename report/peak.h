/*
 * peak.h - the one peak of the live heap (profile.h says how it is found),
 * as every report gives it: its bytes, when, how it was found (exact, or
 * estimated from the snapshots), and the RSS at that moment, which is the
 * RSS of the snapshot nearest to it; the peak RSS is another figure, the
 * highest RSS of any snapshot.
 */
#ifndef POOLTRACE_PEAK_H
#define POOLTRACE_PEAK_H

#include <stdio.h>

#include "json.h"
#include "profile.h"

/* The RSS at the peak: of the snapshot that dates it; 0 without one. */
uint64_t pt_peak_rss(const struct pt_profile *p);

/* The lines of a text report: "peak heap:  BYTES at TIME: pools ..., glibc
 * ...", then how it was found and when, then the RSS at the peak and
 * whose it is, each indented under it. */
void pt_print_peak(FILE *f, const struct pt_profile *p);

/* One sentence (no newline) saying how the peak was found and when: "exact
 * (every event recorded), reached between the snapshots at T1 and T2". */
const char *pt_peak_how(char *buf, size_t cap, const struct pt_profile *p);

/* The JSON object under key: bytes, time_ns (0 when no snapshot dates it),
 * pool_bytes, glibc_bytes, exact, when, after_ns, rss, rss_time_ns (null
 * when unknown; pooltrace(1), JSON OUTPUT). */
void pt_json_peak(struct pt_json *j, const char *key, const struct pt_profile *p);

#endif
