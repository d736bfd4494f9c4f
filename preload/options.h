/*
 * options.h - the POOLTRACE_* environment variables (the public contract in
 * DESIGN.md), read once from environ without allocating.
 */
#ifndef POOLTRACE_OPTIONS_H
#define POOLTRACE_OPTIONS_H

#include "../allocator/compiler.h"

struct pt_options {
	int stats;            /* POOLTRACE_STATS: 1 prints allocator stats at exit */
	unsigned align;       /* POOLTRACE_ALIGN: 8 or 16 */
	unsigned profile;     /* POOLTRACE_PROFILE: 1 records a trace */
	unsigned sample;      /* POOLTRACE_SAMPLE: mean bytes between samples, 0 = all */
	unsigned depth;       /* POOLTRACE_DEPTH: frames per stack, 1..256 */
	unsigned interval_ms; /* POOLTRACE_INTERVAL_MS: snapshot period */
	char output[1024];    /* POOLTRACE_OUTPUT: trace path pattern (%p %e %t) */
	unsigned debug;       /* POOLTRACE_DEBUG: 0 off, 1 check and abort, 2 warn */
	unsigned quarantine;  /* POOLTRACE_QUARANTINE: bytes of freed blocks held */
	char symbolizer[1024];   /* POOLTRACE_SYMBOLIZER: the path of the tool naming
	                            a debug report's frames; "" finds it, "0" none */
	unsigned symbolizer_timeout;   /* POOLTRACE_SYMBOLIZER_TIMEOUT: seconds */
	unsigned python;      /* POOLTRACE_PYTHON: 1 records Python frames in CPython */
	unsigned bigcache;    /* POOLTRACE_BIGCACHE: bytes of freed glibc blocks a
	                         thread keeps, 0 = none */
	unsigned mesh;        /* POOLTRACE_MESH: 1 meshes pools (allocator/mesh.c) */
	/* set by `pooltrace run` */
	char run_log[512];    /* POOLTRACE_RUN_LOG: file listing the traces made */
	char children[256];   /* POOLTRACE_CHILDREN: all, none, or NAME,NAME... */
	unsigned run_pid;     /* POOLTRACE_RUN_PID: the process run started */
};

#define PT_OUTPUT_DEFAULT "pooltrace.%e.%p.trace"
#define PT_QUARANTINE_DEFAULT (64u << 20)
#define PT_SYMBOLIZER_TIMEOUT_DEFAULT 10
#define PT_BIGCACHE_DEFAULT (256u << 10)
#define PT_BIGCACHE_MAX (64u << 20)

PT_HIDDEN extern struct pt_options pt__opt;

/*
 * Read the options once (later calls return at once).  A bad value gives one
 * warning line on stderr naming the variable, and the default.  In a setuid
 * or otherwise secure process (AT_SECURE) the environment is ignored, as
 * secure_getenv() would.
 */
PT_HIDDEN void pt__options_read(void);

/* This process records (POOLTRACE_CHILDREN): always for "all" (the
 * default) and for the process `pooltrace run` started; for "none" no
 * other; else those whose program name or executable's file name matches
 * one of the comma-separated patterns (* and ? wildcards). */
PT_HIDDEN int pt__opt_traced(void);

/* Append path, a trace file just created, to POOLTRACE_RUN_LOG if set. */
PT_HIDDEN void pt__opt_note_trace(const char *path);

/* Parse one option's text into *out (tests and the reader share this).
 * Returns 0, or -1 if the text is not a valid value for that option. */
PT_HIDDEN int pt__option_parse(const char *name, const char *text, unsigned *out);

#endif
