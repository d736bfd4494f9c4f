/*
 * test_symbolize.c - report/symbolize.c on this very process: a trace is
 * faked in memory with one module map (generation 0) taken from
 * dl_iterate_phdr, as the recorder takes it, and return addresses of this
 * program, libc and libcmocka are symbolized from the files on disk.
 *
 * Built with -g (any -O, gcc or clang): caller_fn's call site has DWARF
 * lines; inline_outer's has an inlined call in its scope chain.
 */
#include <dlfcn.h>
#include <elf.h>
#include <inttypes.h>
#include <limits.h>
#include <link.h>
#include <string.h>

#include "testutil.h"
#include "../report/symbolize.h"

static struct pt_trace T;        /* only modmap and nmodmaps are used */
static struct pt_modmap M;       /* generation 0: this process */
static const struct pt_module *exe;

/* ---- the fake trace ---------------------------------------------------------- */

static int add_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	M.mod = realloc(M.mod, (M.count + 1) * sizeof *M.mod);
	struct pt_module *mo = &M.mod[M.count];
	memset(mo, 0, sizeof *mo);
	mo->base = info->dlpi_addr;
	if (M.count == 0 && !info->dlpi_name[0]) {     /* the main program */
		char buf[PATH_MAX];
		ssize_t r = readlink("/proc/self/exe", buf, sizeof buf - 1);
		buf[r > 0 ? r : 0] = 0;
		mo->path = strdup(buf);
	} else {
		mo->path = strdup(info->dlpi_name);
	}
	mo->seg = calloc(info->dlpi_phnum, sizeof *mo->seg);
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD) {
			mo->seg[mo->nseg].vaddr = ph->p_vaddr;
			mo->seg[mo->nseg].memsz = ph->p_memsz;
			mo->seg[mo->nseg++].flags = ph->p_flags;
		}
		if (ph->p_type != PT_NOTE || mo->build_id_len)
			continue;
		const uint8_t *n = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		const uint8_t *ne = n + ph->p_memsz;
		while (n + sizeof(ElfW(Nhdr)) <= ne) {
			const ElfW(Nhdr) *nh = (const void *)n;
			const uint8_t *desc = n + sizeof *nh + ((nh->n_namesz + 3) & ~3u);
			if (desc + nh->n_descsz > ne)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(n + sizeof *nh, "GNU", 4) == 0 && nh->n_descsz <= 64) {
				memcpy(mo->build_id, desc, nh->n_descsz);
				mo->build_id_len = nh->n_descsz;
				break;
			}
			n = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	M.count++;
	return 0;
}

static int setup(void **state)
{
	dl_iterate_phdr(add_module, NULL);
	T.modmap = &M;
	T.nmodmaps = 1;
	pt_modmap_index(&M);
	exe = &M.mod[0];
	return exe->build_id_len ? 0 : -1;
}

static int teardown(void **state)
{
	for (unsigned i = 0; i < M.count; i++) {
		free(M.mod[i].path);
		free(M.mod[i].seg);
	}
	free(M.mod);
	free(M.idx);
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* ---- call sites with known lines ----------------------------------------------- */

#ifdef __clang__
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noclone))     /* one copy, one name */
#endif

static volatile uint64_t ret_addr;

NOINLINE void record_return(void)
{
	ret_addr = (uint64_t)(uintptr_t)__builtin_return_address(0);
	__asm__ volatile("" ::: "memory");
}

/* The line of its call to record_return, which leaves the return address. */
NOINLINE unsigned caller_fn(void)
{
	record_return(); return __LINE__;
}

static inline __attribute__((always_inline)) unsigned inline_inner(void)
{
	record_return(); return __LINE__;
}

static volatile unsigned inline_call_line;

/* The line in inline_inner of its call; inline_call_line: where it was inlined. */
NOINLINE unsigned inline_outer(void)
{
	unsigned line = inline_inner(); inline_call_line = __LINE__;
	return line;
}

/* An address inside the function named sym of the loaded library lib, as a
 * return address would be. */
static uint64_t inside(const char *lib, const char *sym)
{
	void *h = dlopen(lib, RTLD_NOW | RTLD_NOLOAD);
	assert_non_null(h);
	void *p = dlsym(h, sym);
	assert_non_null(p);
	dlclose(h);
	return (uint64_t)(uintptr_t)p + 5;
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_call_site_has_function_file_and_line(void **state)
{
	unsigned line = caller_fn(), n;
	uint64_t ip = ret_addr;
	struct pt_symbolizer *s = pt_sym_open(&T);
	assert_non_null(s);
	const struct pt_frame *f = pt_sym_lookup(s, 0, ip, &n);
	assert_int_equal(n, 1);
	assert_non_null(f[0].func);
	assert_string_equal(f[0].func, "caller_fn");
	assert_string_equal(pt_sym_name(s, &f[0]), "caller_fn");
	assert_non_null(f[0].file);
	assert_true(ends_with(f[0].file, "test_symbolize.c"));
	assert_int_equal(f[0].line, line);
	assert_ptr_equal(f[0].module, exe->path);
	assert_true(f[0].addr == ip - exe->base - 1);
	assert_false(f[0].internal);
	assert_false(f[0].inlined);
	unsigned nw;
	pt_sym_warnings(s, &nw);
	assert_int_equal(nw, 0);
	pt_sym_close(s);
}

static void test_same_site_is_resolved_once(void **state)
{
	caller_fn();
	uint64_t ip = ret_addr;
	unsigned n1, n2, n3;
	struct pt_symbolizer *s = pt_sym_open(&T);
	const struct pt_frame *a = pt_sym_lookup(s, 0, ip, &n1);
	const struct pt_frame *b = pt_sym_lookup(s, 0, ip, &n2);
	/* a later generation with no map of its own uses generation 0's */
	const struct pt_frame *c = pt_sym_lookup(s, 7, ip, &n3);
	assert_ptr_equal(a, b);
	assert_ptr_equal(a, c);
	assert_int_equal(n1, n3);
	pt_sym_close(s);
}

static void test_inlined_call_gives_two_frames(void **state)
{
	unsigned line = inline_outer(), n;
	struct pt_symbolizer *s = pt_sym_open(&T);
	const struct pt_frame *f = pt_sym_lookup(s, 0, ret_addr, &n);
	assert_int_equal(n, 2);
	assert_string_equal(f[0].func, "inline_inner");
	assert_int_equal(f[0].line, line);
	assert_true(f[0].inlined);
	assert_string_equal(f[1].func, "inline_outer");
	assert_non_null(f[1].file);
	assert_true(ends_with(f[1].file, "test_symbolize.c"));
	assert_int_equal(f[1].line, inline_call_line);
	assert_false(f[1].inlined);
	assert_true(f[0].addr == f[1].addr);
	pt_sym_close(s);
}

static void test_libc_malloc_is_named(void **state)
{
	unsigned n;
	struct pt_symbolizer *s = pt_sym_open(&T);
	const struct pt_frame *f = pt_sym_lookup(s, 0, inside("libc.so.6", "malloc"), &n);
	const char *name = f[n - 1].func;
	assert_non_null(name);
	/* .dynsym says malloc; libc6-dbg's DWARF says __libc_malloc */
	assert_true(strncmp(name, "malloc", 6) == 0 || strncmp(name, "__libc_malloc", 13) == 0);
	assert_true(ends_with(f[0].module, "libc.so.6"));

	/* with libc6-dbg: the separate debug file, found by build id, has lines */
	const struct pt_module *libc = NULL;
	for (unsigned i = 0; i < M.count; i++)
		if (ends_with(M.mod[i].path, "/libc.so.6"))
			libc = &M.mod[i];
	assert_non_null(libc);
	char debug[128] = "/usr/lib/debug/.build-id/";
	for (unsigned i = 0; i < libc->build_id_len; i++)
		sprintf(debug + strlen(debug), i == 1 ? "/%02x" : "%02x", libc->build_id[i]);
	strcat(debug, ".debug");
	if (access(debug, R_OK) == 0) {
		assert_non_null(f[n - 1].file);
		assert_true(ends_with(f[n - 1].file, "malloc.c"));
	}
	pt_sym_close(s);
}

static void test_stripped_library_is_named_by_dynsym(void **state)
{
	/* Debian's libcmocka.so.0 has no .symtab and no debug info installed */
	unsigned n;
	struct pt_symbolizer *s = pt_sym_open(&T);
	const struct pt_frame *f = pt_sym_lookup(s, 0, inside("libcmocka.so.0", "_assert_true"),
	                                         &n);
	assert_int_equal(n, 1);
	assert_non_null(f[0].func);
	assert_string_equal(f[0].func, "_assert_true");
	assert_true(ends_with(f[0].module, "libcmocka.so.0"));
	pt_sym_close(s);
}

static void test_cxx_names_are_demangled(void **state)
{
	char *d = pt_sym_demangle("_ZN3foo3barEi");
	assert_non_null(d);
	assert_string_equal(d, "foo::bar(int)");
	free(d);
	d = pt_sym_demangle("_ZNK3foo3bazEv.cold");
	assert_non_null(d);
	assert_string_equal(d, "foo::baz() const [clone .cold]");
	free(d);
	assert_null(pt_sym_demangle("malloc"));
	assert_null(pt_sym_demangle("_Zgarbage"));
	assert_null(pt_sym_demangle(NULL));
}

static void test_address_in_no_module_is_hex(void **state)
{
	unsigned n;
	struct pt_symbolizer *s = pt_sym_open(&T);
	const struct pt_frame *f = pt_sym_lookup(s, 0, 0x10, &n);
	assert_int_equal(n, 1);
	assert_null(f[0].func);
	assert_null(f[0].module);
	assert_null(f[0].file);
	assert_int_equal(f[0].line, 0);
	assert_string_equal(pt_sym_name(s, &f[0]), "0xf");
	/* garbage: never a crash */
	uint64_t junk[] = { 0, 1, 0x7fffffffffffull };
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		f = pt_sym_lookup(s, 0, junk[i], &n);
		assert_int_equal(n, 1);
		assert_null(f[0].func);
	}
	/* all ones is the mark of a cut stack */
	f = pt_sym_lookup(s, 0, UINT64_MAX, &n);
	assert_int_equal(n, 1);
	assert_true(f[0].truncated);
	assert_string_equal(pt_sym_name(s, &f[0]), "[truncated]");
	f = pt_sym_lookup(s, 0, 0, &n);
	assert_string_equal(pt_sym_name(s, &f[0]), "0x0");
	unsigned nw;
	pt_sym_warnings(s, &nw);
	assert_int_equal(nw, 0);
	pt_sym_close(s);
}

/*
 * Python frames: named by their code record, the line from its runs at
 * the frame's offset; a code never defined (a damaged or cut trace), a run
 * table cut short or full of garbage, a file that does not exist (the
 * source is never read): reported as unknown where they are, never a
 * crash.
 */
static void test_python_frames_by_code_record(void **state)
{
	/* runs: 3 units at line 10 (first), 2 units without a line, then
	 * from unit 5 on line 12 (an open run) */
	static uint8_t runs[] = { 3 << 1 | 1, 0, 2 << 1, 0 << 1 | 1, 4 };
	static uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f };
	static struct pt_pycode codes[4];
	codes[1] = (struct pt_pycode){ .name = "Holder.fill", .file = "/gone/app.py",
	                               .firstline = 10, .lines = runs, .nlines = sizeof runs };
	codes[2] = (struct pt_pycode){ .name = "cut", .file = "<string>", .firstline = 7,
	                               .lines = runs, .nlines = 1 };
	codes[3] = (struct pt_pycode){ .name = "junk", .file = "j.py", .firstline = 1,
	                               .lines = junk, .nlines = sizeof junk };
	struct pt_trace t = T;
	t.pycode = codes;
	t.npycodes = 4;
	struct pt_symbolizer *s = pt_sym_open(&t);
	static const struct { uint32_t code, off1; const char *func, *file; unsigned line; } want[] = {
		{ 1, 0, "Holder.fill", "/gone/app.py", 10 },   /* before the first instruction */
		{ 1, 3, "Holder.fill", "/gone/app.py", 10 },   /* offset 2 */
		{ 1, 4, "Holder.fill", "/gone/app.py", 0 },    /* offset 3: no line */
		{ 1, 6, "Holder.fill", "/gone/app.py", 12 },   /* offset 5: the open run */
		{ 1, 999, "Holder.fill", "/gone/app.py", 12 },
		{ 2, 9, "cut", "<string>", 0 },                  /* beyond a cut table */
		{ 3, 2, "junk", "j.py", 0 },
		{ 9, 1, "[unknown Python code]", NULL, 0 },      /* never defined */
		{ 0, 1, "[unknown Python code]", NULL, 0 },
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		unsigned n;
		const struct pt_frame *f = pt_sym_lookup(s, 0, pt_frame_py(want[i].code, want[i].off1),
		                                         &n);
		assert_int_equal(n, 1);
		assert_true(f[0].python);
		assert_string_equal(f[0].func, want[i].func);
		if (want[i].file)
			assert_string_equal(f[0].file, want[i].file);
		else
			assert_null(f[0].file);
		assert_int_equal(f[0].line, want[i].line);
		assert_null(f[0].module);
		assert_string_equal(pt_sym_name(s, &f[0]), want[i].func);
	}
	unsigned nw;
	pt_sym_warnings(s, &nw);
	assert_int_equal(nw, 0);
	pt_sym_close(s);
}

static void test_changed_build_id_leaves_module_unsymbolized(void **state)
{
	struct pt_module changed = *exe;
	changed.build_id[0] ^= 0xff;
	struct pt_modmap m = { .gen = 0, .count = 1, .mod = &changed };
	struct pt_trace t = { .modmap = &m, .nmodmaps = 1 };
	pt_modmap_index(&m);

	unsigned n, nw;
	caller_fn();
	struct pt_symbolizer *s = pt_sym_open(&t);
	const struct pt_frame *f = pt_sym_lookup(s, 0, ret_addr, &n);
	assert_int_equal(n, 1);
	assert_null(f[0].func);
	assert_null(f[0].file);
	assert_string_equal(f[0].module, exe->path);
	char want[PATH_MAX + 32];
	const char *b = strrchr(exe->path, '/') + 1;
	snprintf(want, sizeof want, "%s+0x%" PRIx64, b, ret_addr - exe->base - 1);
	assert_string_equal(pt_sym_name(s, &f[0]), want);
	inline_outer();
	pt_sym_lookup(s, 0, ret_addr, &n);      /* same file: no second warning */
	const char *const *w = pt_sym_warnings(s, &nw);
	assert_int_equal(nw, 1);
	assert_non_null(strstr(w[0], "build-id differs"));
	assert_non_null(strstr(w[0], exe->path));
	pt_sym_close(s);
	free(m.idx);
}

static void test_unreadable_modules_warn_once_each(void **state)
{
	static const char *const paths[] = {
		"/nonexistent/libfoo.so",      /* not found */
		"/tmp",                        /* a directory */
		"/etc/passwd",                 /* not ELF */
		"/nonexistent/libpooltrace.so",        /* not found; internal */
		"linux-vdso.so.1",             /* no file, no warning */
		"",                            /* no path: no module */
	};
	enum { NMOD = sizeof paths / sizeof paths[0] };
	struct pt_module mods[NMOD];
	__typeof__(*mods[0].seg) seg = { 0, 0x1000, PF_R | PF_X };
	memset(mods, 0, sizeof mods);
	for (unsigned i = 0; i < NMOD; i++) {
		mods[i].base = 0x100000000000ull + i * 0x10000;
		mods[i].path = (char *)paths[i];
		mods[i].build_id_len = 20;
		mods[i].nseg = 1;
		mods[i].seg = &seg;
	}
	struct pt_modmap m = { .gen = 0, .count = NMOD, .mod = mods };
	struct pt_trace t = { .modmap = &m, .nmodmaps = 1 };
	pt_modmap_index(&m);

	struct pt_symbolizer *s = pt_sym_open(&t);
	for (int round = 0; round < 2; round++) {
		for (unsigned i = 0; i < NMOD; i++) {
			unsigned n;
			const struct pt_frame *f = pt_sym_lookup(s, 0, mods[i].base + 0x101 + round, &n);
			assert_int_equal(n, 1);
			assert_null(f[0].func);
			if (!paths[i][0]) {
				assert_null(f[0].module);
				assert_true(f[0].addr == mods[i].base + 0x100 + round);
				continue;
			}
			assert_string_equal(f[0].module, paths[i]);
			assert_true(f[0].addr == 0x100u + round);
			assert_int_equal(f[0].internal, i == 3);
		}
	}
	unsigned nw;
	const char *const *w = pt_sym_warnings(s, &nw);
	assert_int_equal(nw, 4);
	assert_non_null(strstr(w[0], "/nonexistent/libfoo.so not found"));
	assert_non_null(strstr(w[1], "/tmp is not a regular file"));
	assert_non_null(strstr(w[2], "/etc/passwd cannot be read"));
	assert_non_null(strstr(w[3], "/nonexistent/libpooltrace.so not found"));
	unsigned n;
	const struct pt_frame *f = pt_sym_lookup(s, 0, mods[4].base + 0x11, &n);
	assert_string_equal(pt_sym_name(s, &f[0]), "linux-vdso.so.1+0x10");
	pt_sym_close(s);
	free(m.idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call_site_has_function_file_and_line),
		cmocka_unit_test(test_same_site_is_resolved_once),
		cmocka_unit_test(test_inlined_call_gives_two_frames),
		cmocka_unit_test(test_libc_malloc_is_named),
		cmocka_unit_test(test_stripped_library_is_named_by_dynsym),
		cmocka_unit_test(test_cxx_names_are_demangled),
		cmocka_unit_test(test_address_in_no_module_is_hex),
		cmocka_unit_test(test_python_frames_by_code_record),
		cmocka_unit_test(test_changed_build_id_leaves_module_unsymbolized),
		cmocka_unit_test(test_unreadable_modules_warn_once_each),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
