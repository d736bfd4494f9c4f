/*
 * peak.c - the peak of the live heap as the reports give it (peak.h).
 */
#include "peak.h"
#include "view.h"

uint64_t pt_peak_rss(const struct pt_profile *p)
{
	return p->peak_point >= 0 ? p->point[p->peak_point].rss : 0;
}

static const char *const when_name[] = {
	[PT_PEAK_NONE] = "none", [PT_PEAK_BETWEEN] = "between",
	[PT_PEAK_FIRST] = "before_first", [PT_PEAK_LAST] = "after_last",
	[PT_PEAK_SNAPSHOT] = "snapshot",
};

const char *pt_peak_how(char *buf, size_t cap, const struct pt_profile *p)
{
	const char *exact = "exact (every event recorded)";
	switch (p->peak_when) {
	case PT_PEAK_BETWEEN:
		snprintf(buf, cap, "%s, reached between the snapshots at %s and %s", exact,
		         PT_T(p->peak_after_ns), PT_T(p->peak_time_ns));
		break;
	case PT_PEAK_FIRST:
		snprintf(buf, cap, "%s, reached before the first snapshot, which is at %s", exact,
		         PT_T(p->peak_time_ns));
		break;
	case PT_PEAK_LAST:
		snprintf(buf, cap, "%s, reached after the last snapshot, at %s (the trace ends "
		         "there)", exact, PT_T(p->peak_time_ns));
		break;
	case PT_PEAK_SNAPSHOT:
		snprintf(buf, cap, "estimated (sampled trace): the snapshot with the most live "
		         "bytes, pool blocks and glibc's in use");
		break;
	default:
		if (p->peak)
			snprintf(buf, cap, "%s, at no known time: the trace has no snapshot", exact);
		else
			snprintf(buf, cap, "no block was ever live");
	}
	return buf;
}

void pt_print_peak(FILE *f, const struct pt_profile *p)
{
	char how[256];
	if (p->peak_point >= 0)
		fprintf(f, "peak heap:  %s at %s: pools %s, glibc %s\n", PT_B(p->peak),
		        PT_T(p->peak_time_ns), PT_B(p->peak_pool), PT_B(p->peak_glibc));
	else
		fprintf(f, "peak heap:  %s: pools %s, glibc %s\n", PT_B(p->peak),
		        PT_B(p->peak_pool), PT_B(p->peak_glibc));
	if (!p->peak)
		return;
	fprintf(f, "            %s\n", pt_peak_how(how, sizeof how, p));
	if (p->peak_point < 0)
		return;
	uint64_t at = p->point[p->peak_point].time_ns;
	if (p->peak_when == PT_PEAK_SNAPSHOT)
		fprintf(f, "            RSS at the peak: %s, from that snapshot\n",
		        PT_B(pt_peak_rss(p)));
	else if (p->peak_when == PT_PEAK_LAST)
		fprintf(f, "            RSS at the peak: %s, from the last snapshot, at %s (none "
		        "came after the peak)\n", PT_B(pt_peak_rss(p)), PT_T(at));
	else
		fprintf(f, "            RSS at the peak: %s, from the snapshot at %s, the first after "
		        "it\n", PT_B(pt_peak_rss(p)), PT_T(at));
}

void pt_json_peak(struct pt_json *j, const char *key, const struct pt_profile *p)
{
	pt_json_open(j, key, '{');
	pt_json_u64(j, "bytes", p->peak);
	pt_json_u64(j, "time_ns", p->peak_time_ns);   /* 0 with when "none" */
	pt_json_u64(j, "pool_bytes", p->peak_pool);
	pt_json_u64(j, "glibc_bytes", p->peak_glibc);
	pt_json_bool(j, "exact", !p->sampled);
	pt_json_str(j, "when", when_name[p->peak_when]);
	if (p->peak_when == PT_PEAK_BETWEEN)
		pt_json_u64(j, "after_ns", p->peak_after_ns);
	else
		pt_json_null(j, "after_ns");
	if (p->peak_point >= 0) {
		pt_json_u64(j, "rss", pt_peak_rss(p));
		pt_json_u64(j, "rss_time_ns", p->point[p->peak_point].time_ns);
	} else {
		pt_json_null(j, "rss");
		pt_json_null(j, "rss_time_ns");
	}
	pt_json_close(j, '}');
}
