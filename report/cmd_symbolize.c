/*
 * cmd_symbolize.c - pooltrace symbolize [--module FILE | --pid PID]
 * [ADDRESS...]: the function, file:line and inlined calls of addresses,
 * printed as the reports print frames; what libpooltrace.so runs to name
 * the frames of a POOLTRACE_DEBUG report (preload/symbolizer.c), and an
 * addr2line for people.
 *
 * Each address is resolved by symbolize.c, which knows addresses only as
 * return addresses of a trace's stacks: every module file met gets a
 * module map of its own here (generation k, one module loaded at 0 whose
 * one segment covers every address), and an address A of the file is
 * looked up as the return address A + 1 in that generation.  An address
 * of a running process (--pid) is first turned into its module file and
 * file address with libdwfl's reading of /proc/PID/maps.
 *
 * The answer to each input line is written (and flushed) before the next
 * line is read, so that a program can talk to it through pipes.
 */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "symbolize.h"
#include "trace_read.h"
#include "util.h"

static const char usage[] =
	"usage: pooltrace symbolize [--module FILE | --pid PID] [ADDRESS...]\n"
	"\n"
	"The function, source file:line and inlined calls of each address, from the\n"
	"symbols and debug information of its module, printed as the reports print\n"
	"frames: one line per frame, innermost first, a call inlined into the next\n"
	"frame marked [inlined]; an empty line ends each address.\n"
	"\n"
	"  -e, --module FILE   the ADDRESSes are addresses of this ELF file (as its\n"
	"                      symbols number them: a shared object's from 0)\n"
	"  -p, --pid PID       the ADDRESSes are addresses in the running process PID\n"
	"                      (its modules from /proc/PID/maps)\n"
	"\n"
	"ADDRESS is hexadecimal (0x optional), the address of an instruction: for a\n"
	"return address, give the address one byte before it (the call).  Without\n"
	"ADDRESS operands each line of standard input is one address, answered before\n"
	"the next is read:\n"
	"  ADDRESS                      with --module or --pid\n"
	"  MODULE ADDRESS [BUILD-ID]    an address of the file MODULE, which may be\n"
	"                               written in double quotes (\\\" \\\\ \\n inside);\n"
	"                               a file whose GNU build id is not BUILD-ID (hex)\n"
	"                               is not read, with a warning\n";

/* ---- the module files, one generation each --------------------------------- */

struct modules {
	struct pt_trace t;        /* modmap[k]: generation k, one module */
};

/* The generation of file path (build id bid, n bytes; n 0: none). */
static unsigned module_gen(struct modules *m, const char *path, const uint8_t *bid, unsigned n)
{
	struct pt_trace *t = &m->t;
	for (size_t k = 0; k < t->nmodmaps; k++) {
		const struct pt_module *mo = &t->modmap[k].mod[0];
		if (strcmp(mo->path, path) == 0 && mo->build_id_len == n &&
		    memcmp(mo->build_id, bid, n) == 0)
			return (unsigned)k;
	}
	t->modmap = pt_xrealloc(t->modmap, (t->nmodmaps + 1) * sizeof *t->modmap);
	struct pt_modmap *mm = &t->modmap[t->nmodmaps];
	memset(mm, 0, sizeof *mm);
	mm->gen = (unsigned)t->nmodmaps;
	mm->count = 1;
	mm->mod = pt_xcalloc(1, sizeof *mm->mod);
	struct pt_module *mo = &mm->mod[0];
	mo->path = pt_xstrdup(path);
	memcpy(mo->build_id, bid, n);
	mo->build_id_len = n;
	mo->nseg = 1;
	mo->seg = pt_xcalloc(1, sizeof *mo->seg);
	mo->seg[0].vaddr = 0;
	mo->seg[0].memsz = UINT64_MAX;
	mo->seg[0].flags = 5;     /* PF_R | PF_X */
	pt_modmap_index(mm);
	return (unsigned)t->nmodmaps++;
}

static void modules_free(struct modules *m)
{
	for (size_t k = 0; k < m->t.nmodmaps; k++) {
		struct pt_modmap *mm = &m->t.modmap[k];
		free(mm->mod[0].path);
		free(mm->mod[0].seg);
		free(mm->mod);
		free(mm->idx);
	}
	free(m->t.modmap);
}

/* ---- a running process ------------------------------------------------------ */

static char *debuginfo_path;

static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

/* The modules of process pid; NULL after one error line. */
static Dwfl *proc_open(const char *pid_text)
{
	char *end;
	errno = 0;
	long pid = strtol(pid_text, &end, 10);
	if (errno || *end || end == pid_text || pid <= 0 || pid > 0x7fffffffL) {
		fprintf(stderr, "pooltrace: symbolize: --pid %s is not a process id\n", pid_text);
		return NULL;
	}
	Dwfl *d = dwfl_begin(&proc_callbacks);
	if (!d) {
		fprintf(stderr, "pooltrace: symbolize: %s\n", dwfl_errmsg(-1));
		return NULL;
	}
	dwfl_report_begin(d);
	int r = dwfl_linux_proc_report(d, (pid_t)pid);
	if (dwfl_report_end(d, NULL, NULL) != 0 || r != 0) {
		fprintf(stderr, "pooltrace: symbolize: cannot read the modules of process %ld: %s\n",
		        pid, r > 0 ? strerror(r) : dwfl_errmsg(-1));
		dwfl_end(d);
		return NULL;
	}
	return d;
}

/* ---- input ---------------------------------------------------------------- */

static int parse_hex(const char *s, size_t len, uint64_t *out)
{
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		len -= 2;
	}
	if (len == 0 || len > 16)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		int c = s[i], d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
		                  c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v << 4 | (unsigned)d;
	}
	*out = v;
	return 0;
}

static int parse_build_id(const char *s, size_t len, uint8_t *out, unsigned *n)
{
	if (len == 0 || len % 2 || len > 128)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		uint64_t b;
		if (parse_hex(s + i, 2, &b))
			return -1;
		out[i / 2] = (uint8_t)b;
	}
	*n = (unsigned)(len / 2);
	return 0;
}

struct request {
	char *module;             /* NULL: the address alone */
	uint64_t addr;
	uint8_t build_id[64];
	unsigned build_id_len;
};

/* Split line (NUL-terminated, no newline) into r; NULL, or what is wrong.
 * The module's text is unquoted in place. */
static const char *parse_line(char *line, struct request *r)
{
	char *word[3];
	size_t len[3];
	unsigned n = 0;
	char *p = line;
	memset(r, 0, sizeof *r);
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n == 3)
			return "more than three words";
		if (*p == '"' && n == 0) {           /* "MODULE", with \" \\ \n */
			char *w = ++p, *o = p;
			for (; *p && *p != '"'; p++) {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == 'n')) {
					p++;
					*o++ = *p == 'n' ? '\n' : *p;
				} else {
					*o++ = *p;
				}
			}
			if (*p != '"')
				return "a module's quotes not closed";
			p++;
			word[n] = w;
			len[n++] = (size_t)(o - w);
			*o = 0;
			if (*p && *p != ' ' && *p != '\t')
				return "text after a module's closing quote";
			continue;
		}
		word[n] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		len[n] = (size_t)(p - word[n]);
		n++;
		if (*p)
			*p++ = 0;
	}
	if (n == 0)
		return "no address";
	unsigned a = n == 1 ? 0 : 1;
	if (parse_hex(word[a], len[a], &r->addr))
		return "not a hexadecimal address";
	if (n >= 2) {
		if (len[0] == 0)
			return "an empty module name";
		r->module = word[0];
	}
	if (n == 3 && parse_build_id(word[2], len[2], r->build_id, &r->build_id_len))
		return "not a build id (an even number of hex digits, at most 128)";
	return NULL;
}

/* ---- output --------------------------------------------------------------- */

struct ctx {
	const char *module;       /* --module */
	Dwfl *proc;               /* --pid */
	struct modules mods;
	struct pt_symbolizer *sym;
	unsigned warned;          /* symbolizer warnings printed so far */
	int bad;                  /* an input line was not understood */
};

static void print_frames(struct ctx *c, const struct pt_frame *fr, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct pt_frame *x = &fr[i];
		fputs(pt_sym_name(c->sym, x), stdout);
		if (x->file)
			printf(" (%s:%u)", x->file, x->line);
		else if (x->module && x->func)
			printf(" (%s)", x->module);
		puts(x->inlined ? " [inlined]" : "");
	}
}

/* An address of the file path (build id bid), or of the process. */
static void answer(struct ctx *c, const char *path, const uint8_t *bid, unsigned nbid,
                   uint64_t addr)
{
	if (!path && c->proc) {
		Dwfl_Module *m = dwfl_addrmodule(c->proc, addr);
		Dwarf_Addr bias = 0, start = 0;
		const char *name = NULL;
		if (m) {
			dwfl_module_getelf(m, &bias);
			name = dwfl_module_info(m, NULL, &start, NULL, NULL, NULL, &path, NULL);
		}
		if (!m) {
			printf("0x%" PRIx64 "\n", addr);
			return;
		}
		if (!path) {              /* no file: the vDSO, a deleted file */
			const char *b = name ? strrchr(name, '/') : NULL;
			printf("%s+0x%" PRIx64 "\n", b ? b + 1 : name ? name : "?", addr - start);
			return;
		}
		addr -= bias;
	}
	unsigned gen = module_gen(&c->mods, path, bid, nbid), n = 0;
	const struct pt_frame *fr = pt_sym_lookup(c->sym, gen, addr + 1, &n);
	print_frames(c, fr, n);
}

static void print_warnings(struct ctx *c)
{
	unsigned n = 0;
	const char *const *w = pt_sym_warnings(c->sym, &n);
	for (; c->warned < n; c->warned++)
		fprintf(stderr, "pooltrace: warning: %s\n", w[c->warned]);
}

/* One address or input line; 0, or -1 when the output cannot be written. */
static int one(struct ctx *c, char *text, unsigned long lineno)
{
	struct request r;
	const char *bad = parse_line(text, &r);
	if (!bad && !r.module && !c->module && !c->proc)
		bad = "an address alone needs --module or --pid";
	if (bad) {
		if (lineno)
			fprintf(stderr, "pooltrace: symbolize: line %lu: %s\n", lineno, bad);
		else
			fprintf(stderr, "pooltrace: symbolize: '%s': %s\n", text, bad);
		c->bad = 1;
		puts("??");
	} else {
		answer(c, r.module ? r.module : c->module, r.build_id, r.build_id_len, r.addr);
	}
	putchar('\n');
	print_warnings(c);
	if (fflush(stdout) != 0 || ferror(stdout))
		return -1;
	return 0;
}

int pt_cmd_symbolize(int argc, char **argv)
{
	static const struct pt_optdef defs[] = {
		{ "module", 'e', 1, 1 }, { "pid", 'p', 1, 2 }, { 0 },
	};
	struct ctx c;
	memset(&c, 0, sizeof c);
	const char *pid = NULL;
	char **addr = pt_xcalloc((size_t)argc + 1, sizeof *addr);
	size_t naddr = 0;
	struct pt_cmdline cl;
	pt_opt_init(&cl, "symbolize", usage, argc, argv);
	int id;
	while ((id = pt_opt_next(&cl, defs)) != PT_OPT_END) {
		if (id == PT_OPT_STOP) {
			free(addr);
			return cl.status;
		}
		if (id == 1)
			c.module = cl.arg;
		else if (id == 2)
			pid = cl.arg;
		else
			addr[naddr++] = (char *)cl.arg;
	}
	int rc = PT_EXIT_OK;
	if ((c.module && pid) || (naddr && !c.module && !pid)) {
		free(addr);
		pt_opt_error(&cl, c.module ? "--module and --pid cannot go together"
		                           : "ADDRESS operands need --module or --pid");
		return cl.status;
	}
	if (pid && !(c.proc = proc_open(pid))) {
		free(addr);
		return PT_EXIT_USAGE;
	}
	c.sym = pt_sym_open(&c.mods.t);

	int werr = 0;
	if (naddr) {
		for (size_t i = 0; i < naddr && !werr; i++)
			werr = one(&c, addr[i], 0);
	} else {
		char *line = NULL;
		size_t cap = 0;
		ssize_t len;
		unsigned long lineno = 0;
		while (!werr && (len = getline(&line, &cap, stdin)) >= 0) {
			lineno++;
			while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
				line[--len] = 0;
			if (strspn(line, " \t") == (size_t)len)
				continue;     /* a blank line asks nothing */
			werr = one(&c, line, lineno);
		}
		if (!werr && ferror(stdin)) {
			fprintf(stderr, "pooltrace: symbolize: cannot read standard input: %s\n",
			        strerror(errno));
			rc = PT_EXIT_USAGE;
		}
		free(line);
	}
	if (werr) {
		fprintf(stderr, "pooltrace: cannot write standard output: %s\n", strerror(errno));
		rc = PT_EXIT_OUTPUT;
	} else if (c.bad) {
		rc = PT_EXIT_USAGE;
	}
	pt_sym_close(c.sym);
	modules_free(&c.mods);
	if (c.proc)
		dwfl_end(c.proc);
	free(addr);
	return rc;
}
