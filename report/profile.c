/*
 * profile.c - aggregate a trace by stack in one pass (see profile.h).
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile.h"
#include "util.h"


struct loader {
	struct pt_profile *p;
	uint64_t idx;             /* events delivered so far */
	uint64_t time_ns;         /* of the latest snapshot */
	uint64_t peak_idx;        /* event index of the peak (0: none yet) */
	uint64_t next_draw;       /* progress: when to redraw */
	uint32_t last_alloc;      /* the info of the event just before, if it
	                             allocated; 0 otherwise */
	uint64_t lo, hi;          /* the live heap's range since the last snapshot */
	int peak_open;            /* exact: a new peak since the last snapshot */
	int peak_full_open;       /* a new peak since the last full snapshot */
	int pin_peak;             /* the last snapshot became snap_peak: the
	                             PINNED record after it is the peak's */
	int peak_is_last;         /* snap_peak is the last full snapshot */
	uint64_t last_full_pool;  /* pool live bytes at the last full snapshot */
};

int pt_profile_steps;

/* Site s's record of the current step (pt_profile_steps), the step the
 * next snapshot closes. */
static struct pt_step *step_of(struct pt_profile *p, struct pt_site *s)
{
	uint32_t at = (uint32_t)p->npoints;
	if (s->nsteps && s->step[s->nsteps - 1].point == at)
		return &s->step[s->nsteps - 1];
	if (s->nsteps == s->steps_cap) {
		s->steps_cap = s->steps_cap ? 2 * s->steps_cap : 4;
		s->step = pt_xrealloc(s->step, s->steps_cap * sizeof *s->step);
	}
	struct pt_step *st = &s->step[s->nsteps++];
	*st = (struct pt_step){ .point = at };
	return st;
}

static struct pt_site *site_of(struct pt_profile *p, uint32_t stack)
{
	if (stack >= p->nsites) {
		size_t n = p->nsites ? p->nsites : 1024;
		while (n <= stack)
			n *= 2;
		p->site = pt_xrealloc(p->site, n * sizeof *p->site);
		memset(p->site + p->nsites, 0, (n - p->nsites) * sizeof *p->site);
		for (size_t i = p->nsites; i < n; i++)
			p->site[i].stack = (uint32_t)i;
		p->nsites = n;
	}
	return &p->site[stack];
}

/* Before a site changes: if it has not changed since the peak, its live
 * values are the ones it had at the peak. */
static void site_touch(struct loader *l, struct pt_site *s)
{
	if (s->last_mod <= l->peak_idx) {
		s->peak_n = s->live_n;
		s->peak_bytes = s->live_bytes;
	}
	s->last_mod = l->idx;
}

/* What one recorded block of size bytes stands for: 1 block and size
 * bytes, or their estimates in a sampled trace. */
static void weigh(const struct pt_profile *p, uint64_t size, uint64_t *n, uint64_t *bytes)
{
	if (!p->sampled) {
		*n = 1;
		*bytes = size;
		return;
	}
	double s = size ? (double)size : 1.0;
	double inv = 1.0 / -expm1(-s / p->rate);
	*n = (uint64_t)llround(inv);
	*bytes = (uint64_t)llround((double)size * inv);
}

static unsigned hist_bucket(uint64_t size)
{
	unsigned b = size ? 64 - (unsigned)__builtin_clzll(size) : 0;
	return b < PT_HIST_BUCKETS ? b : PT_HIST_BUCKETS - 1;
}

uint64_t pt_hist_low(unsigned i)
{
	return i ? 1ull << (i - 1) : 0;
}

static void on_alloc(struct loader *l, const struct pt_event *e)
{
	struct pt_profile *p = l->p;
	const struct pt_info *in = &p->t->info[e->info];
	unsigned k = in->kind ? 1 : 0;
	uint64_t n, bytes;
	weigh(p, e->size, &n, &bytes);
	struct pt_site *s = site_of(p, e->stack);
	site_touch(l, s);
	if (!s->n_alloc || e->size < s->min_size)
		s->min_size = e->size;
	if (e->size > s->max_size)
		s->max_size = e->size;
	s->kinds |= 1u << k;
	s->n_alloc += n;
	s->bytes_alloc += bytes;
	s->live_n += n;
	s->live_bytes += bytes;
	if (pt_profile_steps) {
		struct pt_step *st = step_of(p, s);
		st->n += n;
		st->bytes += bytes;
		st->live_n = s->live_n;
		st->live_bytes = s->live_bytes;
	}
	p->n_alloc[k] += n;
	p->bytes_alloc[k] += bytes;
	p->live_n[k] += n;
	p->live_bytes[k] += bytes;
	p->live += bytes;
	if (p->live > l->hi)
		l->hi = p->live;
	unsigned b = hist_bucket(e->size);
	p->hist_n[b] += n;
	p->hist_bytes[b] += bytes;
	if (p->live > p->peak && !p->sampled) {   /* sampled: on_snapshot */
		p->peak = p->live;
		p->peak_pool = p->live_bytes[0];
		p->peak_glibc = p->live_bytes[1];
		p->peak_seq = e->seq;
		p->peak_after_ns = l->time_ns;
		p->peak_when = p->npoints ? PT_PEAK_BETWEEN : PT_PEAK_FIRST;
		l->peak_idx = l->idx;
		l->peak_open = l->peak_full_open = 1;
	}
}

static void sub(uint64_t *a, uint64_t v)
{
	*a = *a > v ? *a - v : 0;
}

/*
 * A block of info id (size, stack) went away.  It was a temporary
 * allocation by heaptrack's rule: the event just before it, in the
 * process's order (all threads), allocated a block of the same info.  A
 * sampled trace has too few events to tell.
 */
static void on_release(struct loader *l, uint32_t id, uint64_t size, uint32_t stack)
{
	struct pt_profile *p = l->p;
	int temp = id && id == l->last_alloc && !p->sampled;
	l->last_alloc = 0;
	if (!id) {
		p->n_free_unknown++;
		return;
	}
	unsigned k = p->t->info[id].kind ? 1 : 0;
	uint64_t n, bytes;
	weigh(p, size, &n, &bytes);
	struct pt_site *s = site_of(p, stack);
	site_touch(l, s);
	sub(&s->live_n, n);
	sub(&s->live_bytes, bytes);
	if (pt_profile_steps) {
		struct pt_step *st = step_of(p, s);
		st->live_n = s->live_n;
		st->live_bytes = s->live_bytes;
	}
	sub(&p->live_n[k], n);
	sub(&p->live_bytes[k], bytes);
	sub(&p->live, bytes);
	if (p->live < l->lo)
		l->lo = p->live;
	if (temp) {
		s->n_temp += n;
		s->bytes_temp += bytes;
		p->n_temp += n;
		p->bytes_temp += bytes;
	}
}

/* A deep copy of a full snapshot into old (or a new one): the reader frees
 * its own once delivered. */
static struct pt_snapshot *snap_copy(struct pt_snapshot *old, const struct pt_snapshot *s)
{
	if (old) {
		free(old->arena);
		free(old->cls);
	}
	struct pt_snapshot *c = old ? old : pt_xcalloc(1, sizeof *c);
	*c = *s;
	c->arena = pt_xcalloc(s->narenas, sizeof *c->arena);
	if (s->narenas)
		memcpy(c->arena, s->arena, s->narenas * sizeof *c->arena);
	c->cls = pt_xcalloc(s->nclasses, sizeof *c->cls);
	if (s->nclasses)
		memcpy(c->cls, s->cls, s->nclasses * sizeof *c->cls);
	return c;
}

/* Drop the PINNED lists of snapshot kind kind. */
static void pinned_drop(struct pt_profile *p, unsigned kind)
{
	size_t k = 0;
	for (size_t i = 0; i < p->npinned; i++) {
		if (p->pinned[i].snap_kind == kind)
			free(p->pinned[i].info);
		else
			p->pinned[k++] = p->pinned[i];
	}
	p->npinned = k;
}

/* The peak, as a snapshot marks it (see profile.h): the first snapshot
 * after a new exact peak dates it; in a sampled trace a snapshot with
 * more live bytes than any before is the new peak. */
static void snapshot_peak(struct loader *l, const struct pt_snapshot *s, long idx)
{
	struct pt_profile *p = l->p;
	if (p->sampled && s->live > p->peak) {
		p->peak = s->live;
		p->peak_pool = s->kind == PT_SNAP_LIGHT ? p->live_bytes[0] : s->bytes_in_blocks;
		p->peak_glibc = s->kind == PT_SNAP_LIGHT ? p->live_bytes[1] : s->glibc_in_use;
		p->peak_seq = s->seq;
		p->peak_after_ns = s->time_ns;
		p->peak_when = PT_PEAK_SNAPSHOT;
		l->peak_idx = l->idx;
		l->peak_open = l->peak_full_open = 1;
	}
	if (l->peak_open) {
		p->peak_point = idx;
		p->peak_time_ns = s->time_ns;
		l->peak_open = 0;
	}
	l->pin_peak = 0;
	if (l->peak_full_open && s->kind != PT_SNAP_LIGHT) {
		p->snap_peak = snap_copy(p->snap_peak, s);
		p->snap_peak_pool = p->live_bytes[0];
		pinned_drop(p, PT_SNAP_PEAK);
		l->pin_peak = 1;
		l->peak_full_open = 0;
	}
	if (s->kind != PT_SNAP_LIGHT)
		l->peak_is_last = l->pin_peak;
}

static void on_snapshot(struct loader *l, const struct pt_snapshot *s)
{
	struct pt_profile *p = l->p;
	l->time_ns = s->time_ns;
	if (s->time_ns > p->duration_ns)
		p->duration_ns = s->time_ns;
	if (s->rss > p->peak_rss) {
		p->peak_rss = s->rss;
		p->peak_rss_time_ns = s->time_ns;
	}
	if (p->npoints == p->points_cap) {
		p->points_cap = p->points_cap ? 2 * p->points_cap : 256;
		p->point = pt_xrealloc(p->point, p->points_cap * sizeof *p->point);
	}
	struct pt_point *pt = &p->point[p->npoints++];
	*pt = (struct pt_point){
		.time_ns = s->time_ns, .rss = s->rss, .glibc = s->glibc_in_use,
		.live = p->sampled ? s->live : p->live, .kind = s->kind,
		.live_lo = p->sampled ? s->live : l->lo < p->live ? l->lo : p->live,
		.live_hi = p->sampled ? s->live : l->hi > p->live ? l->hi : p->live,
		.pool_live = p->live_bytes[0],
		.in_blocks = s->kind == PT_SNAP_LIGHT ? 0 : s->bytes_in_blocks,
		.pool_free = s->kind == PT_SNAP_LIGHT ? 0 : s->bytes_free_blocks,
		.pool_empty = s->kind == PT_SNAP_LIGHT ? 0 : (s->pools_empty_heap + s->pools_free_dirty) *
		                                             p->t->hdr.pool_size,
		.n_alloc = p->sampled ? s->n_malloc + s->n_realloc
		                      : p->n_alloc[0] + p->n_alloc[1],
	};
	l->lo = l->hi = p->live;
	if (p->sampled) {     /* the snapshots count every call */
		p->n_malloc = s->n_malloc;
		p->n_free = s->n_free;
		p->n_realloc = s->n_realloc;
	}
	snapshot_peak(l, s, (long)p->npoints - 1);
	if (s->kind == PT_SNAP_LIGHT)
		return;
	p->snap_last = snap_copy(p->snap_last, s);
	l->last_full_pool = p->live_bytes[0];
	if (s->kind == PT_SNAP_EXIT)
		p->snap_exit = snap_copy(p->snap_exit, s);
}

/* After the last event: a peak no snapshot followed (a trace cut short)
 * is dated by the last one, and the events after it count in its step. */
static void peak_finish(struct loader *l)
{
	struct pt_profile *p = l->p;
	if (p->npoints) {
		struct pt_point *last = &p->point[p->npoints - 1];
		if (l->lo < last->live_lo)
			last->live_lo = l->lo;
		if (l->hi > last->live_hi)
			last->live_hi = l->hi;
	}
	if (l->peak_open) {
		p->peak_when = p->npoints ? PT_PEAK_LAST : PT_PEAK_NONE;
		p->peak_point = (long)p->npoints - 1;
		p->peak_time_ns = p->npoints ? p->point[p->npoints - 1].time_ns : 0;
	}
	if (l->peak_full_open && p->snap_last && !l->peak_is_last) {
		p->snap_peak = snap_copy(p->snap_peak, p->snap_last);
		p->snap_peak_pool = l->last_full_pool;
		pinned_drop(p, PT_SNAP_PEAK);
	}
	if (!p->peak)
		p->peak_when = PT_PEAK_NONE;
	/* steps after the last snapshot: into its step */
	for (size_t i = 0; pt_profile_steps && i < p->nsites; i++) {
		struct pt_site *s = &p->site[i];
		if (!s->nsteps || s->step[s->nsteps - 1].point < p->npoints)
			continue;
		struct pt_step *last = &s->step[s->nsteps - 1];
		if (!p->npoints) {
			s->nsteps = 0;
		} else if (s->nsteps > 1 && s->step[s->nsteps - 2].point == p->npoints - 1) {
			struct pt_step *prev = last - 1;
			prev->n += last->n;
			prev->bytes += last->bytes;
			prev->live_n = last->live_n;
			prev->live_bytes = last->live_bytes;
			s->nsteps--;
		} else {
			last->point = (uint32_t)p->npoints - 1;
		}
	}
}

static void on_leaks(struct loader *l, const struct pt_leaks *lk)
{
	/* the scan's result may take several records: they add up */
	struct pt_profile *p = l->p;
	p->have_leaks = 1;
	p->leak_roots_bytes += lk->roots_bytes;
	for (size_t i = 0; i < lk->n; i++) {
		const struct pt_leak_entry *e = &lk->e[i];
		struct pt_site *s = site_of(p, p->t->info[e->info].stack);
		s->leak_n[e->cls] += e->blocks;
		s->leak_bytes[e->cls] += e->bytes;
		p->leak_n[e->cls] += e->blocks;
		p->leak_bytes[e->cls] += e->bytes;
	}
}

static void on_pinned(struct loader *l, const struct pt_pinned *pn)
{
	struct pt_profile *p = l->p;
	/* the peak's: only that of the snapshot that became snap_peak; the
	 * exit's: the latest */
	if (pn->snap_kind == PT_SNAP_PEAK && !l->pin_peak)
		return;
	pinned_drop(p, pn->snap_kind);
	p->pinned = pt_xrealloc(p->pinned, (p->npinned + pn->n) * sizeof *p->pinned);
	for (size_t i = 0; i < pn->n; i++) {
		const struct pt_pinned_rec *a = &pn->a[i];
		struct pt_pinned_arena *d = &p->pinned[p->npinned++];
		*d = (struct pt_pinned_arena){
			.snap_kind = pn->snap_kind, .time_ns = l->time_ns, .base = a->base,
			.blocks = a->blocks, .bytes = a->bytes, .ninfos = (unsigned)a->ninfos,
		};
		d->info = pt_xcalloc(a->ninfos, sizeof *d->info);
		for (size_t j = 0; j < a->ninfos; j++) {
			d->info[j].info = a->info[j].info;
			d->info[j].count = a->info[j].blocks;
		}
	}
}

static void progress(struct loader *l, int done)
{
	const struct pt_trace *t = l->p->t;
	unsigned pct = t->size ? (unsigned)(t->pos * 100 / t->size) : 100;
	if (done)
		pct = 100;
	char bar[41];
	for (unsigned i = 0; i < 40; i++)
		bar[i] = i < pct * 40 / 100 ? '#' : '.';
	bar[40] = 0;
	fprintf(stderr, "\rreading [%s] %3u%% %llu events%s", bar, pct,
	        (unsigned long long)l->idx, done ? "\n" : "");
}

static int on_event(void *ctx, const struct pt_event *e)
{
	struct loader *l = ctx;
	struct pt_profile *p = l->p;
	l->idx++;
	if (p->progress && l->idx >= l->next_draw) {
		progress(l, 0);
		l->next_draw = l->idx + (1u << 18);
	}
	switch (e->type) {
	case PT_EV_ALLOC_POOL: case PT_EV_ALLOC_SYS:
		if (!p->sampled)
			p->n_malloc++;
		on_alloc(l, e);
		l->last_alloc = e->info;
		break;
	case PT_EV_REALLOC_POOL: case PT_EV_REALLOC_SYS:
		/* heaptrack records a realloc as the free of the old block,
		 * then an allocation */
		if (!p->sampled)
			p->n_realloc++;
		on_release(l, e->old_info, e->old_size, e->old_stack);
		on_alloc(l, e);
		l->last_alloc = e->info;
		break;
	case PT_EV_FREE:
		if (!p->sampled)
			p->n_free++;
		on_release(l, e->info, e->size, e->stack);
		break;
	case PT_REC_SNAPSHOT:
		on_snapshot(l, e->snap);
		break;
	case PT_REC_LEAKS:
		on_leaks(l, e->leaks);
		break;
	case PT_REC_PINNED:
		on_pinned(l, e->pinned);
		break;
	case PT_REC_END:
		p->end_reason = e->end_reason;
		p->end_code = e->end_code;
		break;
	}
	return 0;
}

int pt_profile_load(struct pt_profile *p, const char *path, int progress_bar,
                    char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	p->t = pt_trace_open(path, err, errlen);
	if (!p->t)
		return -1;
	p->sampled = p->t->hdr.sample_bytes != 0;
	p->rate = (double)p->t->hdr.sample_bytes;
	p->progress = progress_bar;
	p->peak_point = -1;
	struct loader l = { .p = p, .next_draw = 1u << 18 };
	pt_trace_read(p->t, on_event, &l);
	peak_finish(&l);
	if (p->progress && l.idx >= (1u << 18))
		progress(&l, 1);
	p->events = l.idx;
	/* sites unchanged since the peak still hold their peak values */
	for (size_t i = 0; i < p->nsites; i++) {
		struct pt_site *s = &p->site[i];
		if (s->last_mod <= l.peak_idx) {
			s->peak_n = s->live_n;
			s->peak_bytes = s->live_bytes;
		}
	}
	return 0;
}

void pt_profile_free(struct pt_profile *p)
{
	struct pt_snapshot *snaps[] = { p->snap_peak, p->snap_exit, p->snap_last };
	for (unsigned i = 0; i < 3; i++)
		if (snaps[i]) {
			free(snaps[i]->arena);
			free(snaps[i]->cls);
			free(snaps[i]);
		}
	for (size_t i = 0; i < p->npinned; i++)
		free(p->pinned[i].info);
	free(p->pinned);
	for (size_t i = 0; i < p->nsites; i++)
		free(p->site[i].step);
	free(p->site);
	free(p->point);
	if (p->t)
		pt_trace_close(p->t);
	memset(p, 0, sizeof *p);
}

static size_t sort_off;

static int by_field(const void *a, const void *b)
{
	const struct pt_site *sa = *(struct pt_site *const *)a, *sb = *(struct pt_site *const *)b;
	uint64_t x = pt_site_counter(sa, sort_off), y = pt_site_counter(sb, sort_off);
	if (x != y)
		return x < y ? 1 : -1;
	return sa->stack < sb->stack ? -1 : sa->stack > sb->stack;
}

struct pt_site **pt_profile_sorted(const struct pt_profile *p, size_t off, size_t *n)
{
	struct pt_site **v = pt_xcalloc(p->nsites, sizeof *v);
	size_t k = 0;
	for (size_t i = 0; i < p->nsites; i++)
		if (pt_site_counter(&p->site[i], off))
			v[k++] = &p->site[i];
	sort_off = off;
	qsort(v, k, sizeof *v, by_field);
	*n = k;
	return v;
}
