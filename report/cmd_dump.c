/*
 * cmd_dump.c - pooltrace dump [--summary] TRACE: a trace's records as
 * text, one line each, in sequence order, then its stacks and module maps
 * and a summary line of counts (--summary: that line only).  The reader's
 * view of the file, for tests and for looking at a trace by hand.
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "output.h"
#include "trace_read.h"

static const char usage[] =
	"usage: pooltrace dump [--summary] TRACE\n"
	"\n"
	"A trace's records as text, in sequence order, then its stacks and module\n"
	"maps and a summary line of counts.\n"
	"\n"
	"  --summary   the header and the summary line only\n";

struct dump_ctx {
	FILE *f;
	int summary;
	uint64_t n[16];
	uint64_t bytes, temp;
};

static const char *snap_kind(unsigned k)
{
	return k == PT_SNAP_PEAK ? "peak" : k == PT_SNAP_EXIT ? "exit" :
	       k == PT_SNAP_LIGHT ? "light" : "periodic";
}

static int dump_event(void *arg, const struct pt_event *e)
{
	struct dump_ctx *c = arg;
	c->n[e->type < 16 ? e->type : 0]++;
	if (pt_event_allocates(e->type))
		c->bytes += e->size;
	if (e->type == PT_EV_FREE)
		c->temp += e->temp;
	if (c->summary)
		return 0;
	const char *where = e->type == PT_EV_ALLOC_POOL || e->type == PT_EV_REALLOC_POOL
	                    ? "pool" : "sys";
	switch (e->type) {
	case PT_EV_ALLOC_POOL: case PT_EV_ALLOC_SYS:
		fprintf(c->f, "%llu tid %u alloc %s %llu stack %u info %u\n", (unsigned long long)e->seq,
		       e->tid, where, (unsigned long long)e->size, e->stack, e->info);
		break;
	case PT_EV_REALLOC_POOL: case PT_EV_REALLOC_SYS:
		fprintf(c->f, "%llu tid %u realloc %s %llu stack %u info %u -> %llu stack %u info %u\n",
		       (unsigned long long)e->seq, e->tid, where, (unsigned long long)e->old_size,
		       e->old_stack, e->old_info, (unsigned long long)e->size, e->stack, e->info);
		break;
	case PT_EV_FREE:
		if (e->info)
			fprintf(c->f, "%llu tid %u free%s %llu stack %u info %u\n",
			       (unsigned long long)e->seq, e->tid, e->temp ? " temporary" : "",
			       (unsigned long long)e->size, e->stack, e->info);
		else
			fprintf(c->f, "%llu tid %u free unknown\n", (unsigned long long)e->seq, e->tid);
		break;
	case PT_REC_THREAD_EXIT:
		fprintf(c->f, "%llu tid %u thread-exit\n", (unsigned long long)e->seq, e->tid);
		break;
	case PT_REC_LEAKS:
		fprintf(c->f, "%llu leaks roots %llu entries %zu\n", (unsigned long long)e->seq,
		       (unsigned long long)e->leaks->roots_bytes, e->leaks->n);
		for (size_t i = 0; i < e->leaks->n; i++)
			fprintf(c->f, "  info %u %s blocks %llu bytes %llu\n", e->leaks->e[i].info,
			       e->leaks->e[i].cls == PT_LEAK_DEFINITE ? "definite" :
			       e->leaks->e[i].cls == PT_LEAK_INDIRECT ? "indirect" : "reachable",
			       (unsigned long long)e->leaks->e[i].blocks,
			       (unsigned long long)e->leaks->e[i].bytes);
		break;
	case PT_REC_PINNED:
		fprintf(c->f, "%llu pinned %s arenas %zu\n", (unsigned long long)e->seq,
		       snap_kind(e->pinned->snap_kind), e->pinned->n);
		for (size_t i = 0; i < e->pinned->n; i++) {
			const struct pt_pinned_rec *a = &e->pinned->a[i];
			fprintf(c->f, "  arena 0x%llx blocks %llu bytes %llu:", (unsigned long long)a->base,
			       (unsigned long long)a->blocks, (unsigned long long)a->bytes);
			for (size_t k = 0; k < a->ninfos; k++)
				fprintf(c->f, " info %u x%llu", a->info[k].info,
				       (unsigned long long)a->info[k].blocks);
			fprintf(c->f, "\n");
		}
		break;
	case PT_REC_END:
		fprintf(c->f, "%llu end %s %u\n", (unsigned long long)e->seq,
		       e->end_reason == PT_END_SIGNAL ? "signal" : "exit", e->end_code);
		break;
	case PT_REC_SNAPSHOT: {
		const struct pt_snapshot *s = e->snap;
		if (s->kind == PT_SNAP_LIGHT) {
			fprintf(c->f, "%llu snapshot light time %.3f ms rss %llu live %llu mallocs %llu "
			       "frees %llu reallocs %llu bytes %llu pool-allocs %llu pool-bytes %llu "
			       "glibc %llu\n", (unsigned long long)e->seq, s->time_ns / 1e6,
			       (unsigned long long)s->rss, (unsigned long long)s->live,
			       (unsigned long long)s->n_malloc, (unsigned long long)s->n_free,
			       (unsigned long long)s->n_realloc, (unsigned long long)s->bytes_alloc,
			       (unsigned long long)s->n_pool, (unsigned long long)s->bytes_pool,
			       (unsigned long long)s->glibc_in_use);
			break;
		}
		fprintf(c->f, "%llu snapshot %s time %.3f ms rss %llu live %llu mallocs %llu frees %llu "
		       "reallocs %llu bytes %llu pool-allocs %llu pool-bytes %llu glibc %llu "
		       "arenas %llu pools %llu blocks-bytes %llu free-bytes %llu\n",
		       (unsigned long long)e->seq, snap_kind(s->kind), s->time_ns / 1e6,
		       (unsigned long long)s->rss, (unsigned long long)s->live,
		       (unsigned long long)s->n_malloc, (unsigned long long)s->n_free,
		       (unsigned long long)s->n_realloc, (unsigned long long)s->bytes_alloc,
		       (unsigned long long)s->n_pool, (unsigned long long)s->bytes_pool,
		       (unsigned long long)s->glibc_in_use, (unsigned long long)s->arenas_mapped,
		       (unsigned long long)s->pools_in_use,
		       (unsigned long long)s->bytes_in_blocks,
		       (unsigned long long)s->bytes_free_blocks);
		for (size_t i = 0; i < s->narenas; i++)
			fprintf(c->f, "  arena 0x%llx pools %llu empty %llu untouched %llu blocks %llu "
			       "bytes %llu\n", (unsigned long long)s->arena[i].base,
			       (unsigned long long)s->arena[i].pools_used,
			       (unsigned long long)s->arena[i].pools_empty,
			       (unsigned long long)s->arena[i].pools_untouched,
			       (unsigned long long)s->arena[i].blocks_used,
			       (unsigned long long)s->arena[i].bytes_in_blocks);
		break;
	}
	}
	return 0;
}

int pt_cmd_dump(int argc, char **argv)
{
	static const struct pt_optdef defs[] = { { "summary", 0, 0, 1 }, { 0 } };
	struct dump_ctx cx, *c = &cx;
	memset(c, 0, sizeof *c);
	const char *path = NULL;
	struct pt_cmdline cl;
	pt_opt_init(&cl, "dump", usage, argc, argv);
	int id;
	while ((id = pt_opt_next(&cl, defs)) != PT_OPT_END) {
		if (id == PT_OPT_STOP)
			return cl.status;
		if (id == 1)
			c->summary = 1;
		else if (pt_opt_trace(&cl, &path, 1))
			return cl.status;
	}
	if (!path)
		return pt_opt_no_trace(&cl);

	char err[512];
	struct pt_trace *t = pt_trace_open(path, err, sizeof err);
	if (!t) {
		fprintf(stderr, "pooltrace: %s\n", err);
		return PT_EXIT_USAGE;
	}
	if (!(c->f = pt_output_open(NULL))) {
		pt_trace_close(t);
		return PT_EXIT_OUTPUT;
	}
	const struct pt_trace_header *h = &t->hdr;
	fprintf(c->f, "pooltrace trace version %u\n", h->version);
	fprintf(c->f, "pid %u ppid %u%s exe %s\n", h->pid, h->ppid,
	       h->flags & PT_TRACE_F_FORKED ? " (forked)" : "", t->exe);
	fprintf(c->f, "args");
	for (const char *a = t->args; a < t->args + h->args_len; a += strlen(a) + 1)
		fprintf(c->f, " %s", a);
	fprintf(c->f, "\n");
	fprintf(c->f, "sample %llu depth %u interval %u ms align %u classes %u arena %u pool %u "
	       "small-max %u\n", (unsigned long long)h->sample_bytes, h->depth, h->interval_ms,
	       h->align, h->nclasses, h->arena_size, h->pool_size, h->small_max);
	if (h->unrecorded)
		fprintf(c->f, "unrecorded %u allocation calls\n", h->unrecorded);

	pt_trace_read(t, dump_event, c);

	size_t ndef = 0;
	for (size_t i = 0; i < t->nstacks; i++)
		if (t->stack[i].nframes) {
			ndef++;
			if (c->summary)
				continue;
			fprintf(c->f, "stack %zu gen %u:", i, t->stack[i].gen);
			for (unsigned k = 0; k < t->stack[i].nframes; k++)
				fprintf(c->f, " 0x%llx", (unsigned long long)t->stack[i].ip[k]);
			fprintf(c->f, "\n");
		}
	size_t ncodes = 0, code_bytes = 0;
	for (size_t i = 0; i < t->npycodes; i++) {
		const struct pt_pycode *pc = &t->pycode[i];
		if (!pc->name)
			continue;
		ncodes++;
		code_bytes += pc->nlines;
		if (!c->summary)
			fprintf(c->f, "code %zu %s %s:%llu, %zu bytes of lines\n", i, pc->name,
			        pc->file, (unsigned long long)pc->firstline, pc->nlines);
	}
	for (size_t i = 0; i < t->npyobjs && !c->summary; i++) {
		const struct pt_pyobject *o = &t->pyobj[i];
		const char *tn = o->type < t->npytypes && t->pytype[o->type] ? t->pytype[o->type] : "?";
		fprintf(c->f, "pyobjects %s info %u (stack %u) class %u: %llu %s, %llu bytes\n",
		       o->when == PT_PYOBJ_FINALIZING ? "finalizing" : "exit", o->info,
		       o->info < t->ninfos ? t->info[o->info].stack : 0, o->cls,
		       (unsigned long long)o->objects, tn, (unsigned long long)o->bytes);
	}
	if (t->python.present)
		fprintf(c->f, "python version 0x%08x flags %u eval 0x%llx: %zu code objects, %zu bytes of "
		       "lines\n", t->python.hexversion, t->python.flags,
		       (unsigned long long)t->python.eval_addr, ncodes, code_bytes);
	for (size_t i = 0; i < t->nmodmaps && !c->summary; i++) {
		const struct pt_modmap *m = &t->modmap[i];
		fprintf(c->f, "modules gen %u seq %llu count %u\n", m->gen, (unsigned long long)m->seq,
		       m->count);
		for (unsigned k = 0; k < m->count; k++) {
			const struct pt_module *mo = &m->mod[k];
			fprintf(c->f, "  0x%llx %s build-id ", (unsigned long long)mo->base,
			       mo->path[0] ? mo->path : "-");
			for (unsigned b = 0; b < mo->build_id_len; b++)
				fprintf(c->f, "%02x", mo->build_id[b]);
			fprintf(c->f, "%s", mo->build_id_len ? "" : "-");
			for (unsigned s = 0; s < mo->nseg; s++)
				fprintf(c->f, " [0x%llx+0x%llx %c%c%c]", (unsigned long long)mo->seg[s].vaddr,
				       (unsigned long long)mo->seg[s].memsz,
				       mo->seg[s].flags & 4 ? 'r' : '-', mo->seg[s].flags & 2 ? 'w' : '-',
				       mo->seg[s].flags & 1 ? 'x' : '-');
			fprintf(c->f, "\n");
		}
	}
	fprintf(c->f, "summary: events %llu allocs %llu frees %llu temporary %llu reallocs %llu "
	       "bytes %llu snapshots %llu thread-exits %llu stacks %zu infos %zu module-maps %zu "
	       "chunks %zu streams %llu %s\n",
	       (unsigned long long)t->events,
	       (unsigned long long)(c->n[PT_EV_ALLOC_POOL] + c->n[PT_EV_ALLOC_SYS]),
	       (unsigned long long)c->n[PT_EV_FREE], (unsigned long long)c->temp,
	       (unsigned long long)(c->n[PT_EV_REALLOC_POOL] + c->n[PT_EV_REALLOC_SYS]),
	       (unsigned long long)c->bytes, (unsigned long long)c->n[PT_REC_SNAPSHOT],
	       (unsigned long long)c->n[PT_REC_THREAD_EXIT], ndef,
	       t->ninfos ? t->ninfos - 1 : 0, t->nmodmaps, t->nchunks,
	       (unsigned long long)t->streams_max, t->ended ? "complete" : "incomplete");
	int rc = pt_output_close(c->f, pt_trace_partial(t) ? PT_EXIT_PARTIAL : PT_EXIT_OK);
	if (t->chunks_out_of_order)
		fprintf(stderr, "pooltrace: warning: %s: %llu chunks came before an earlier one of "
		        "their thread (read in sequence order all the same)\n", path,
		        (unsigned long long)t->chunks_out_of_order);
	char what[600];
	pt_trace_describe(t, what, sizeof what);
	if (what[0])
		fprintf(stderr, "pooltrace: warning: %s: %s\n", path, what);
	else if (!t->ended)
		fprintf(stderr, "pooltrace: warning: %s: no end record: the program did not "
		        "exit normally\n", path);
	pt_trace_close(t);
	return rc;
}
