# pooltrace - see README.md.  Targets:
#   make            build/libpooltrace.so (and the test programs)
#   make deps       install the Debian packages the build, tests and demo need
#   make check      unit tests, exported symbols, API tests and edges against
#                   glibc, exceptions and cancellation, recorder, reports, Python,
#                   debug mode, the fuzz corpora replayed, threaded stress,
#                   real programs, the known-answer leak suite (check-leaks),
#                   and the unit, API, recorder and stress tests once more
#                   built with PT_DEBUG=1 (check-pt-debug)
#   make check-leaks  leak programs with known answers: pooltrace, memcheck and
#                   LeakSanitizer side by side
#   make check-python Python frames: known-answer scripts on every CPython found
#   make fuzz       the libFuzzer targets, FUZZ_SECONDS each (tests/fuzz.mk)
#   make check-asan report/ and the tests under ASan and UBSan
#   make bench      glibc, jemalloc, mimalloc, tcmalloc and pooltrace side by side
#                   (QUICK=1: about a minute); then the recorder against heaptrack
#   make bench-record  the recorder's overhead and trace sizes only
#   make demo       preload the library into python3 and print its statistics
#   make install    PREFIX=/usr/local DESTDIR=...
-include config.mak

CC      ?= cc
CFLAGS  ?= -O2 -g
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
MANDIR  ?= $(PREFIX)/share/man
B       := build
# the one copy of the version: the public header's
VERSION := $(shell sed -n 's/^\#define POOLTRACE_VERSION "\(.*\)"/\1/p' preload/pooltrace.h)
BINDIR  ?= $(PREFIX)/bin

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter \
           -Werror=implicit-function-declaration
# the allocator must never let the compiler turn its own code into malloc calls
NOBUILTIN := -fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc -fno-builtin-free
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) -fPIC -pthread $(NOBUILTIN) $(CFLAGS)

ALLOC_SRC   := allocator/os.c allocator/arena.c allocator/alloc.c allocator/stats.c \
               allocator/check.c allocator/mesh.c allocator/barrier.c
PRELOAD_SRC := preload/symbols.c preload/cxx_new.c preload/options.c preload/fmt.c preload/libc_sym.c \
               preload/stats_print.c preload/common.c preload/modules.c preload/hindex.c \
               preload/stacks.c preload/addrmap.c preload/recorder.c preload/rec_hooks.c \
               preload/rec_buffer.c preload/rec_file.c preload/rec_info.c preload/rec_live.c \
               preload/rec_snapshot.c preload/leakscan.c preload/heapscan.c preload/debug.c \
               preload/unwind.c preload/cfi.c preload/zstd_hooks.c preload/mallinfo.c preload/exit.c \
               preload/threads.c preload/symbolizer.c preload/bigcache.c preload/faults.c \
               preload/python.c preload/python_code.c preload/python_lines.c \
               preload/python_objects.c
ALLOC_OBJ   := $(ALLOC_SRC:%.c=$(B)/%.o)
PRELOAD_OBJ := $(PRELOAD_SRC:%.c=$(B)/%.o)
HEADERS     := $(wildcard allocator/*.h preload/*.h)

UNIT_TESTS  := test_sizeclass test_pool test_arena test_oom test_tcache test_mesh test_options \
               test_heapscan test_codec test_stacks test_walk
UNIT_BINS   := $(UNIT_TESTS:%=$(B)/tests/%)
TEST_PROGS  := $(B)/tests/test_preload $(B)/tests/stress $(B)/tests/test_recorder \
               $(B)/tests/test_symbolize $(B)/tests/test_report_util \
               $(B)/tests/py_check $(B)/tests/pylines_check $(B)/tests/fake_python \
               $(B)/tests/fake_python_layout \
               $(B)/tests/rec_prog $(B)/tests/rec_lib.so $(B)/tests/leak_prog \
               $(B)/tests/cxx_prog $(B)/tests/debug_prog $(B)/tests/temp_prog \
               $(B)/tests/fork_stdio $(B)/tests/fork_signal $(B)/tests/as_limit \
               $(B)/tests/double_free $(B)/tests/dbgsym_prog $(B)/tests/peak_prog \
               $(B)/tests/mesh_signal $(B)/tests/mesh_blocked
UNWIND_PROGS := $(B)/tests/unwind_prog $(B)/tests/unwind_prog_exc $(B)/tests/unwind_cxx \
                $(B)/tests/unwind_plugin.so
EDGE_PROGS  := $(B)/tests/edge_prog $(B)/tests/cxx_new $(B)/tests/cxx_replace \
               $(B)/tests/cxx_wrap $(B)/tests/cxx_replace_sysv
REPORT_SRC  := report/main.c report/cmd_run.c report/cmd_dump.c report/cmd_report.c \
               report/cmd_leaks.c report/cmd_frag.c report/cmd_diff.c report/cmd_export.c \
               report/cmd_html.c report/cmd_symbolize.c report/html_data.c report/html_assets.c report/args.c \
               report/output.c report/view.c report/profile.c report/frag.c \
               report/symbolize.c report/pylines.c report/python.c report/trace_read.c \
               report/trace_defs.c report/util.c report/json.c report/report_json.c \
               report/pprof.c report/protobuf.c report/peak.c
# the trace reader, which the tests link without the rest of report/
READER_SRC  := report/trace_read.c report/trace_defs.c
REPORT_HDR  := $(wildcard report/*.h) preload/trace_format.h preload/trace_codec.h
# the HTML page's own files, which html_assets.c embeds (.incbin)
REPORT_ASSETS := report/html/page.html report/html/style.css report/html/data.js \
                 report/html/draw.js report/html/summary.js report/html/timeline.js \
                 report/html/flame.js report/html/tables.js report/html/app.js
REPORT_LIBS := -lzstd -ldw -lelf -lz -lstdc++ -lm
REPORT_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -DPT_VERSION='"$(VERSION)"' \
                 -DPT_LIBDIR='"$(LIBDIR)"'
BENCH_PROGS := churn allocfree prodcons larson mixed realloc frag scatter pair measure threadchurn forks remap \
               cxx_objects
BENCH_BINS  := $(BENCH_PROGS:%=$(B)/bench/%)

all: lib tool $(UNIT_BINS) $(TEST_PROGS) $(UNWIND_PROGS) $(EDGE_PROGS) $(BENCH_BINS)
.PHONY: all lib tool deps bench bench-record check check-unit check-api check-recorder check-stress \
        check-programs check-reports check-debug check-pt-debug check-leaks check-python \
        check-unwind check-exports check-edges check-fork check-dropin check-mesh \
        demo install uninstall clean
lib: $(B)/libpooltrace.so
tool: $(B)/pooltrace $(B)/libpooltrace.so

# report/ is an offline tool: ordinary malloc, no -fPIC; it shares only the
# trace format header with preload/
$(B)/pooltrace: $(REPORT_SRC) $(REPORT_HDR) $(REPORT_ASSETS)
	@mkdir -p $(@D)
	$(CC) $(REPORT_CFLAGS) -o $@ $(REPORT_SRC) $(REPORT_LIBS)

$(B)/allocator/%.o: allocator/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -c $< -o $@

$(B)/preload/%.o: preload/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -Iallocator -fvisibility=hidden -c $< -o $@

# std::bad_alloc and a new-handler's exceptions unwind through the C++
# operators: their unwind tables whatever CFLAGS say
$(B)/preload/cxx_new.o: BASE_CFLAGS += -fexceptions

$(B)/libpooltrace.so: $(ALLOC_OBJ) $(PRELOAD_OBJ) preload/libpooltrace.map
	$(CC) -shared -pthread -Wl,--version-script=preload/libpooltrace.map \
	    -Wl,--exclude-libs,ALL -Wl,-z,relro,-z,now -Wl,-soname,libpooltrace.so \
	    -o $@ $(ALLOC_OBJ) $(PRELOAD_OBJ) -l:libzstd.a -lm

$(B)/liballocator.a: $(ALLOC_OBJ)
	rm -f $@ && ar rcs $@ $^

# unit tests link the allocator directly (never interposed)
$(B)/tests/test_options: tests/test_options.c $(B)/preload/options.o $(B)/preload/fmt.o
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -Iallocator -Ipreload -o $@ $^ -lcmocka

$(B)/tests/test_heapscan: tests/test_heapscan.c preload/heapscan.c preload/heapscan.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -o $@ tests/test_heapscan.c preload/heapscan.c -lcmocka

$(B)/tests/test_codec: tests/test_codec.c preload/trace_codec.h preload/trace_format.h \
                       tests/testutil.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -o $@ $< -lcmocka

# the recorder's tables, out of the host process
STACKS_TEST_SRC := preload/stacks.c preload/hindex.c preload/addrmap.c preload/modules.c \
                   preload/common.c
$(B)/tests/test_stacks: tests/test_stacks.c $(STACKS_TEST_SRC) $(HEADERS) tests/testutil.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -o $@ tests/test_stacks.c $(STACKS_TEST_SRC) -lcmocka

# our stack walk against libunwind's, out of the host process
WALK_TEST_SRC := preload/unwind.c preload/cfi.c preload/common.c preload/fmt.c
$(B)/tests/test_walk: tests/test_walk.c $(WALK_TEST_SRC) $(HEADERS) tests/testutil.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -o $@ tests/test_walk.c $(WALK_TEST_SRC) -lcmocka -ldl

$(B)/tests/test_%: tests/test_%.c $(B)/liballocator.a tests/testutil.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -Iallocator -o $@ $< $(B)/liballocator.a -lcmocka

$(B)/tests/test_preload: tests/test_preload.c tests/testutil.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -Ipreload -Iallocator -o $@ $< -lcmocka -ldl

$(B)/tests/test_recorder: tests/test_recorder.c $(READER_SRC) report/util.c \
                          $(REPORT_HDR) tests/testutil.h
	@mkdir -p $(@D)
	$(CC) $(REPORT_CFLAGS) -o $@ tests/test_recorder.c $(READER_SRC) report/util.c \
	    -lcmocka -lzstd -lm

$(B)/tests/test_symbolize: tests/test_symbolize.c report/symbolize.c report/pylines.c \
                           report/util.c $(READER_SRC) $(REPORT_HDR)
	@mkdir -p $(@D)
	$(CC) $(REPORT_CFLAGS) -o $@ tests/test_symbolize.c report/symbolize.c report/pylines.c \
	    report/util.c $(READER_SRC) -lcmocka $(REPORT_LIBS)

# the known answers of tests/python/sites.py against its traces
$(B)/tests/py_check: tests/py_check.c report/symbolize.c report/pylines.c report/util.c \
                     $(READER_SRC) $(REPORT_HDR)
	@mkdir -p $(@D)
	$(CC) $(REPORT_CFLAGS) -o $@ tests/py_check.c report/symbolize.c report/pylines.c \
	    report/util.c $(READER_SRC) $(REPORT_LIBS)

$(B)/tests/pylines_check: tests/pylines_check.c report/pylines.c report/pylines.h \
                          preload/python_lines.c preload/python_lines.h
	@mkdir -p $(@D)
	$(CC) $(REPORT_CFLAGS) -o $@ tests/pylines_check.c report/pylines.c preload/python_lines.c

# CPythons whose frames are not read: a version not read, a layout not a
# release build's
$(B)/tests/fake_python: tests/python/fake_python.c
	@mkdir -p $(@D)
	$(CC) -O0 -g -rdynamic -o $@ $<

$(B)/tests/fake_python_layout: tests/python/fake_python.c
	@mkdir -p $(@D)
	$(CC) -O0 -g -rdynamic -DFAKE_LAYOUT -o $@ $<

$(B)/tests/test_report_util: tests/test_report_util.c report/util.c $(READER_SRC) \
                             $(REPORT_HDR) tests/testutil.h
	@mkdir -p $(@D)
	$(CC) $(REPORT_CFLAGS) -o $@ tests/test_report_util.c report/util.c $(READER_SRC) \
	    -lcmocka -lzstd -lm

# test_cli.sh's damaged traces: chunks recompressed in frames, one damaged
$(B)/tests/retrace: tests/retrace.c preload/trace_format.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -o $@ $< -lzstd

$(B)/tests/rec_prog: tests/rec_prog.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -pthread -o $@ $< -ldl

# report tests: -O0 keeps every function's frame and line as written
$(B)/tests/leak_prog: tests/leak_prog.c
	@mkdir -p $(@D)
	$(CC) -O0 -g -o $@ $<

$(B)/tests/temp_prog: tests/temp_prog.c
	@mkdir -p $(@D)
	$(CC) -O0 -g -o $@ $<

$(B)/tests/peak_prog: tests/peak_prog.c
	@mkdir -p $(@D)
	$(CC) -O0 -g -o $@ $<

$(B)/tests/mesh_signal: tests/mesh_signal.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O1 -g -Wall -Wextra -pthread -o $@ $<

$(B)/tests/mesh_blocked: tests/mesh_blocked.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O1 -g -Wall -Wextra -pthread -o $@ $<

# deliberately broken; -rdynamic so that dladdr names its functions when no
# symbolizer runs
$(B)/tests/debug_prog: tests/debug_prog.c
	@mkdir -p $(@D)
	$(CC) -O0 -g -rdynamic -Wno-stringop-overflow -Wno-free-nonheap-object -o $@ $<

# broken too, without -rdynamic: only the symbolizer names its functions
$(B)/tests/dbgsym_prog: tests/dbgsym_prog.c
	@mkdir -p $(@D)
	$(CC) -O0 -g -Wno-stringop-overflow -Wno-use-after-free -o $@ $<

$(B)/tests/cxx_prog: tests/cxx_prog.cc
	@mkdir -p $(@D)
	$(CXX) -O0 -g -o $@ $<

# -O0: the compiler may drop a new and delete pair it can see
$(B)/tests/cxx_new: tests/cxx_new.cc
	@mkdir -p $(@D)
	$(CXX) -std=gnu++17 -O0 -g -Wall -Wextra -rdynamic -o $@ $< -ldl

# replaces only the plain new and delete, as C++ allows
$(B)/tests/cxx_replace: tests/cxx_replace.cc
	@mkdir -p $(@D)
	$(CXX) -std=gnu++17 -O0 -g -Wall -Wextra -Wno-sized-deallocation -o $@ $<

$(B)/tests/cxx_wrap: tests/cxx_replace.cc
	@mkdir -p $(@D)
	$(CXX) -std=gnu++17 -O0 -g -Wall -Wextra -Wno-sized-deallocation -DWRAP -o $@ $< -ldl

# the same with only the SysV hash table, where the binding test must look too
$(B)/tests/cxx_replace_sysv: tests/cxx_replace.cc
	@mkdir -p $(@D)
	$(CXX) -std=gnu++17 -O0 -g -Wall -Wextra -Wno-sized-deallocation -Wl,--hash-style=sysv \
	    -o $@ $<

# unwinding and cancellation: a C program that does not link libgcc_s, the
# same built with -fexceptions (pthread_cleanup_push unwinds), C++
$(B)/tests/unwind_prog: tests/unwind_prog.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -pthread -o $@ $<

$(B)/tests/unwind_prog_exc: tests/unwind_prog.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -pthread -fexceptions -o $@ $<

$(B)/tests/unwind_cxx: tests/unwind_cxx.cc
	@mkdir -p $(@D)
	$(CXX) -std=gnu++17 -O2 -g -Wall -Wextra -pthread -o $@ $<

$(B)/tests/unwind_plugin.so: tests/unwind_plugin.cc
	@mkdir -p $(@D)
	$(CXX) -O2 -g -Wall -Wextra -shared -fPIC -o $@ $<

# the API's edges against glibc's answers: -fno-builtin, or GCC assumes
# that posix_memalign leaves errno alone
$(B)/tests/edge_prog: tests/edge_prog.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -g -fno-builtin -Wall -Wextra -o $@ $<

$(B)/tests/rec_lib.so: tests/rec_lib.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -shared -fPIC -Wl,--build-id -o $@ $<

$(B)/tests/stress: tests/stress.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -o $@ $<

# ordinary programs, built as their authors would (no pooltrace flags)
$(B)/tests/fork_%: tests/fork_%.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -pthread -o $@ $<

$(B)/tests/freed_header: tests/freed_header.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Wno-use-after-free -o $@ $<

$(B)/tests/untouched: tests/untouched.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -o $@ $<

$(B)/tests/as_limit: tests/as_limit.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -pthread -o $@ $<

# deliberately broken (frees twice, reads a freed block)
$(B)/tests/double_free: tests/double_free.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O0 -g -Wall -Wextra -Wno-use-after-free -Wno-free-nonheap-object \
	    -pthread -o $@ $<

$(B)/bench/%: bench/%.c bench/common.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -pthread -o $@ $<

$(B)/bench/%: bench/%.cc bench/common.h
	@mkdir -p $(@D)
	$(CXX) -std=gnu++17 -O2 -g -Wall -Wextra -pthread -o $@ $<

# make bench [QUICK=1]: every workload under glibc, jemalloc, mimalloc,
# tcmalloc and pooltrace, interleaved; tables and plot in bench/results/
bench: deps
	$(MAKE) --no-print-directory lib $(BENCH_BINS)
	python3 bench/run.py $(if $(QUICK),--quick) --build $(B)
	python3 bench/record.py $(if $(QUICK),--quick) --build $(B)

# the recorder alone, against heaptrack
bench-record: deps
	$(MAKE) --no-print-directory lib $(BENCH_BINS)
	python3 bench/record.py $(if $(QUICK),--quick) --build $(B)

deps:
	sh tests/deps.sh

check: deps
	$(MAKE) --no-print-directory all
	$(MAKE) --no-print-directory check-unit check-exports check-api check-edges \
	    check-unwind check-recorder check-reports check-python check-debug check-fuzz \
	    check-stress check-programs check-leaks check-pt-debug check-fork check-dropin check-mesh

# The library, the unit tests, the API, recorder and stress tests again,
# built with PT_DEBUG=1 in $(B)/ptdebug: every pt_assert compiled in (the
# allocator's invariants of allocator/check.c, the order of preload/'s locks).
PT_DEBUG_DIR := $(B)/ptdebug
check-pt-debug:
	$(MAKE) --no-print-directory B=$(PT_DEBUG_DIR) CFLAGS='-O1 -g -DPT_DEBUG=1' \
	    check-unit check-api check-recorder check-stress

check-unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do echo "== $$t"; $$t || exit 1; done

check-api: $(B)/tests/test_preload $(B)/libpooltrace.so
	$(B)/tests/test_preload

check-recorder: $(TEST_PROGS) $(B)/pooltrace $(B)/libpooltrace.so
	$(B)/tests/test_recorder $(B)

# the report commands: symbolization, the command line (help, exit
# statuses, write errors, damaged traces, run), golden text reports, the
# one peak in every command, the JSON documents against their schema,
# exports checked by their real
# consumers, the HTML page in headless Chromium
check-reports: $(TEST_PROGS) $(B)/pooltrace $(B)/libpooltrace.so $(B)/tests/retrace
	$(B)/tests/test_report_util
	$(B)/tests/test_symbolize
	sh tests/test_cli.sh $(B)
	sh tests/test_reports.sh $(B)
	sh tests/test_peak.sh $(B)
	sh tests/test_json.sh $(B)
	sh tests/test_export.sh $(B)
	sh tests/test_html.sh $(B)

# Python frames: known-answer scripts on every CPython found (Debian's
# python3.11, a shared-libpython build, others: tests/test_python.sh)
check-python: $(TEST_PROGS) $(B)/pooltrace $(B)/libpooltrace.so
	sh tests/test_python.sh $(B)

# POOLTRACE_DEBUG on deliberately broken programs
check-debug: $(B)/tests/debug_prog $(B)/tests/dbgsym_prog $(B)/tests/stress $(B)/libpooltrace.so \
             $(B)/pooltrace $(B)/tests/cxx_new
	sh tests/test_debug.sh $(B)

# exceptions and thread cancellation under every mode
check-unwind: $(UNWIND_PROGS) $(B)/libpooltrace.so
	sh tests/test_unwind.sh $(B)

# aligned calls, realloc and the malloc statistics against glibc, every mode
check-edges: $(EDGE_PROGS) $(B)/libpooltrace.so
	sh tests/test_edges.sh $(B)

# the library's dynamic symbols and dependencies
check-exports: $(B)/libpooltrace.so
	sh tests/test_exports.sh $(B)

# fork racing stdio, fork from a signal handler: in the three modes
check-fork: $(B)/tests/fork_stdio $(B)/tests/fork_signal $(B)/libpooltrace.so
	sh tests/test_fork.sh $(B)

# programs that must behave as under glibc: RLIMIT_AS after start, double free
check-dropin: $(B)/tests/as_limit $(B)/tests/double_free $(B)/tests/untouched $(B)/tests/freed_header \
              $(B)/libpooltrace.so
	sh tests/test_dropin.sh $(B)

# meshing (POOLTRACE_MESH=1): its own checks, then the real programs, the
# fork and the stress tests again with it on
check-mesh: $(B)/libpooltrace.so $(BENCH_BINS) $(B)/tests/fork_stdio $(B)/tests/fork_signal \
            $(B)/tests/stress $(B)/tests/mesh_signal $(B)/tests/mesh_blocked
	sh tests/test_mesh.sh $(B)
	POOLTRACE_MESH=1 sh tests/programs.sh $(B)
	POOLTRACE_MESH=1 sh tests/test_fork.sh $(B)
	POOLTRACE_MESH=1 sh tests/run_stress.sh $(B)

check-stress: $(B)/tests/stress $(B)/libpooltrace.so
	sh tests/run_stress.sh $(B)

check-programs: $(B)/libpooltrace.so
	sh tests/programs.sh $(B)

# the known-answer leak programs of tests/leaks/ under pooltrace, memcheck
# and LeakSanitizer, side by side (tests/leaks/known-wrong.txt: what
# pooltrace gets wrong today)
check-leaks: $(B)/pooltrace $(B)/libpooltrace.so
	sh tests/test_leaks.sh $(B)

demo: deps
	$(MAKE) --no-print-directory lib tool
	sh tests/demo.sh $(B)

install: lib tool
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR)/pooltrace $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 \
	    $(DESTDIR)$(MANDIR)/man5
	install -m 755 $(B)/libpooltrace.so $(DESTDIR)$(LIBDIR)/libpooltrace.so
	install -m 755 $(B)/pooltrace $(DESTDIR)$(BINDIR)/pooltrace
	install -m 644 man/pooltrace.1 $(DESTDIR)$(MANDIR)/man1/pooltrace.1
	install -m 644 man/pooltrace-trace.5 $(DESTDIR)$(MANDIR)/man5/pooltrace-trace.5
	install -d $(DESTDIR)$(PREFIX)/share/pooltrace
	install -m 644 docs/pooltrace.schema.json $(DESTDIR)$(PREFIX)/share/pooltrace/
	install -m 644 preload/pooltrace.h allocator/pool_alloc.h $(DESTDIR)$(INCDIR)/pooltrace/
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@VERSION@|$(VERSION)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCDIR@|$(INCDIR)|' \
	    preload/pooltrace.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/pooltrace.pc
	install -m 644 man/libpooltrace.3 $(DESTDIR)$(MANDIR)/man3/libpooltrace.3

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libpooltrace.so $(DESTDIR)$(LIBDIR)/pkgconfig/pooltrace.pc \
	    $(DESTDIR)$(MANDIR)/man3/libpooltrace.3 $(DESTDIR)$(BINDIR)/pooltrace \
	    $(DESTDIR)$(MANDIR)/man1/pooltrace.1 $(DESTDIR)$(MANDIR)/man5/pooltrace-trace.5
	rm -rf $(DESTDIR)$(INCDIR)/pooltrace $(DESTDIR)$(PREFIX)/share/pooltrace

clean:
	rm -rf $(B)

# make fuzz, check-fuzz, check-asan
include tests/fuzz.mk
