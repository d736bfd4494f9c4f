/*
 * export.h - what the formats of `pooltrace export` share: the trace to
 * write, the file, and the measure --what picked (cmd_export.c; the pprof
 * protobuf format is pprof.c).
 */
#ifndef POOLTRACE_EXPORT_H
#define POOLTRACE_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "view.h"

struct pt_export_what {
	const char *name;         /* peak, leaks, allocated, temporary */
	size_t n_off, bytes_off;  /* uint64_t fields of struct pt_site */
};

struct export {
	FILE *f;
	struct pt_view *v;
	const struct pt_export_what *what;
};

/* The file offset of the PT_LOAD segment at vaddr in the ELF file path,
 * or vaddr itself when the file cannot tell (cmd_export.c). */
uint64_t pt_export_segment_offset(const char *path, uint64_t vaddr);

/* profile.proto, gzip-compressed (pprof.c). */
void pt_export_pprof(struct export *x);

#endif
