# fuzz.mk - fuzzing and sanitizer targets; included at the end of the Makefile
# (it uses B, CC, BASE_CFLAGS, REPORT_CFLAGS, REPORT_SRC, REPORT_HDR,
# REPORT_ASSETS, REPORT_LIBS, ALLOC_SRC, PRELOAD_SRC, HEADERS from there).
#
#   make fuzz         build both libFuzzer targets into $(B)/fuzz/ and run each
#                     for FUZZ_SECONDS (default 120) on a copy of its corpus;
#                     crashes land in $(B)/fuzz/artifacts/
#   make check-fuzz   replay the corpora once (seconds); fails on any crash
#   make check-asan   report/ and the tests under AddressSanitizer + UBSan
#                     (tests/check_asan.sh), in $(B)/asan/
#
# Needs clang with libFuzzer (Debian: clang, libclang-rt-14-dev).
#
# fuzz_alloc links the allocator and preload/ objects into the fuzzer, so that
# they ARE its malloc (libFuzzer's own allocations included), with UBSan and
# never ASan: ASan would replace malloc.  fuzz_trace is the trace reader and
# every report command, under ASan and UBSan.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 120
FUZZ_FLAGS   ?=
# FUZZ_RECOVER=1: UBSan findings are printed and fuzzing goes on (the
# fuzzers are then built in $(B)/fuzz-recover); by default they are crashes
FUZZ_RECOVER ?=
FUZZ_DIR     := $(B)/fuzz$(if $(FUZZ_RECOVER),-recover)
FUZZ_SAN     := $(if $(FUZZ_RECOVER),-fsanitize-recover=undefined,-fno-sanitize-recover=all) \
                -fno-omit-frame-pointer
FUZZ_ALLOC_CFLAGS := $(BASE_CFLAGS) -Iallocator -fsanitize=fuzzer-no-link,undefined $(FUZZ_SAN)
FUZZ_TRACE_CFLAGS := $(REPORT_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined $(FUZZ_SAN)
FUZZ_ALLOC_OBJ := $(ALLOC_SRC:%.c=$(FUZZ_DIR)/obj/%.o) $(PRELOAD_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_TRACE_OBJ := $(REPORT_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_BINS    := $(FUZZ_DIR)/fuzz_alloc $(FUZZ_DIR)/fuzz_trace
FUZZ_ALLOC_MAXLEN := 4096
FUZZ_TRACE_MAXLEN := 65536
# a replayed input that takes this long is a failure (a hang)
FUZZ_TIMEOUT := 20
FUZZ_COMMON  := -timeout=$(FUZZ_TIMEOUT) -print_final_stats=1
# fuzz_trace: stdout and stderr of the target closed (the reports and their
# warnings); libFuzzer and the sanitizers keep a copy of stderr for their own
# output.  (fuzz_alloc keeps its stderr: the model prints what went wrong.)
FUZZ_QUIET   := -close_fd_mask=3

.PHONY: fuzz fuzz-build check-fuzz check-asan

fuzz-build: $(FUZZ_BINS)

$(FUZZ_DIR)/obj/allocator/%.o: allocator/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_ALLOC_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/obj/preload/%.o: preload/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_ALLOC_CFLAGS) -fvisibility=hidden -c $< -o $@

# main.c's main becomes a function the fuzzer calls with argv
$(FUZZ_DIR)/obj/report/main.o: report/main.c $(REPORT_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_TRACE_CFLAGS) -Dmain=pt_fuzz_pooltrace_main -c $< -o $@

$(FUZZ_DIR)/obj/report/%.o: report/%.c $(REPORT_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_TRACE_CFLAGS) -c $< -o $@

# the HTML page's files are inside this object
$(FUZZ_DIR)/obj/report/html_assets.o: $(REPORT_ASSETS)

$(FUZZ_DIR)/fuzz_alloc: tests/fuzz/fuzz_alloc.c $(FUZZ_ALLOC_OBJ) $(HEADERS)
	$(FUZZ_CC) $(BASE_CFLAGS) -Iallocator -fsanitize=fuzzer,undefined $(FUZZ_SAN) -o $@ \
	    tests/fuzz/fuzz_alloc.c $(FUZZ_ALLOC_OBJ) -lzstd -lm -ldl

$(FUZZ_DIR)/fuzz_trace: tests/fuzz/fuzz_trace.c $(FUZZ_TRACE_OBJ) $(REPORT_HDR)
	$(FUZZ_CC) $(REPORT_CFLAGS) -fsanitize=fuzzer,address,undefined $(FUZZ_SAN) -o $@ \
	    -Wl,--wrap=malloc,--wrap=free tests/fuzz/fuzz_trace.c $(FUZZ_TRACE_OBJ) $(REPORT_LIBS)

# the corpus converter (zstd chunks to plain ones), for tests/fuzz/make_corpus.sh
$(FUZZ_DIR)/trace_plain: tests/fuzz/trace_plain.c preload/trace_format.h
	@mkdir -p $(@D)
	$(CC) $(REPORT_CFLAGS) -o $@ tests/fuzz/trace_plain.c -lzstd

# Each fuzzer works on a copy of its corpus in $(FUZZ_DIR)/corpus_*: what it
# finds stays there for the next run, never in tests/fuzz/.  fuzz_alloc runs
# three quarters of the time with POOLTRACE_ALIGN=16, a quarter with 8.
fuzz: $(FUZZ_BINS)
	@mkdir -p $(FUZZ_DIR)/corpus_alloc $(FUZZ_DIR)/corpus_trace $(FUZZ_DIR)/artifacts
	@cp tests/fuzz/corpus_alloc/* $(FUZZ_DIR)/corpus_alloc/
	@cp tests/fuzz/corpus_trace/* $(FUZZ_DIR)/corpus_trace/
	@ls $(FUZZ_DIR)/artifacts > $(FUZZ_DIR)/artifacts.before; \
	a16=$$(( $(FUZZ_SECONDS) - $(FUZZ_SECONDS) / 4 )); a8=$$(( $(FUZZ_SECONDS) / 4 )); \
	rc=0; \
	echo "== fuzz_alloc, POOLTRACE_ALIGN=16, $$a16 s"; \
	POOLTRACE_ALIGN=16 $(FUZZ_DIR)/fuzz_alloc $(FUZZ_COMMON) -max_total_time=$$a16 \
	    -max_len=$(FUZZ_ALLOC_MAXLEN) -artifact_prefix=$(FUZZ_DIR)/artifacts/alloc- \
	    $(FUZZ_FLAGS) $(FUZZ_DIR)/corpus_alloc > $(FUZZ_DIR)/alloc16.log 2>&1 || rc=1; \
	tail -n 14 $(FUZZ_DIR)/alloc16.log; \
	echo "== fuzz_alloc, POOLTRACE_ALIGN=8, $$a8 s"; \
	POOLTRACE_ALIGN=8 $(FUZZ_DIR)/fuzz_alloc $(FUZZ_COMMON) -max_total_time=$$a8 \
	    -max_len=$(FUZZ_ALLOC_MAXLEN) -artifact_prefix=$(FUZZ_DIR)/artifacts/alloc8- \
	    $(FUZZ_FLAGS) $(FUZZ_DIR)/corpus_alloc > $(FUZZ_DIR)/alloc8.log 2>&1 || rc=1; \
	tail -n 14 $(FUZZ_DIR)/alloc8.log; \
	echo "== fuzz_trace, $(FUZZ_SECONDS) s"; \
	$(FUZZ_DIR)/fuzz_trace $(FUZZ_COMMON) $(FUZZ_QUIET) -max_total_time=$(FUZZ_SECONDS) \
	    -max_len=$(FUZZ_TRACE_MAXLEN) -dict=tests/fuzz/trace.dict \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts/trace- \
	    $(FUZZ_FLAGS) $(FUZZ_DIR)/corpus_trace > $(FUZZ_DIR)/trace.log 2>&1 || rc=1; \
	tail -n 14 $(FUZZ_DIR)/trace.log; \
	ls $(FUZZ_DIR)/artifacts > $(FUZZ_DIR)/artifacts.after; \
	new=$$(comm -13 $(FUZZ_DIR)/artifacts.before $(FUZZ_DIR)/artifacts.after); \
	ub=$$(grep -h 'runtime error:' $(FUZZ_DIR)/alloc16.log $(FUZZ_DIR)/alloc8.log \
	      $(FUZZ_DIR)/trace.log | sort -u); \
	if [ -n "$$ub" ]; then \
		echo "== UBSan reports (non-fatal ones included):"; \
		echo "$$ub" | sed 's/^/   /'; \
	fi; \
	if [ -n "$$new" ]; then \
		echo "== FINDINGS (replay one with: $(FUZZ_DIR)/fuzz_alloc|fuzz_trace FILE):"; \
		for f in $$new; do echo "   $(FUZZ_DIR)/artifacts/$$f"; done; \
		exit 1; \
	fi; \
	echo "== no crash found"; \
	exit $$rc

# Replay: every corpus input once (-runs=0 after reading the corpus), the
# allocator in both alignment modes and with meshing on (the corpus's trim
# ops mesh, its threads write meanwhile), every report command on each trace.
# (Not tests/corrupt/: its decompression bombs take minutes under ASan;
# test_reports.sh runs them.)  Nonzero on any crash.
check-fuzz: $(FUZZ_BINS)
	@mkdir -p $(FUZZ_DIR)/artifacts
	POOLTRACE_ALIGN=16 $(FUZZ_DIR)/fuzz_alloc -runs=0 $(FUZZ_COMMON) \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts/replay-alloc- tests/fuzz/corpus_alloc
	POOLTRACE_ALIGN=8 $(FUZZ_DIR)/fuzz_alloc -runs=0 $(FUZZ_COMMON) \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts/replay-alloc8- tests/fuzz/corpus_alloc
	POOLTRACE_MESH=1 $(FUZZ_DIR)/fuzz_alloc -runs=0 $(FUZZ_COMMON) \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts/replay-alloc-mesh- tests/fuzz/corpus_alloc
	FUZZ_TRACE_ALL_COMMANDS=1 $(FUZZ_DIR)/fuzz_trace -runs=0 $(FUZZ_COMMON) $(FUZZ_QUIET) \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts/replay-trace- tests/fuzz/corpus_trace

check-asan: lib $(B)/pooltrace $(B)/tests/leak_prog $(B)/tests/cxx_prog $(B)/tests/rec_prog \
            $(B)/tests/rec_lib.so $(B)/tests/stress
	CC="$(CC)" MAKE="$(MAKE)" UNIT_TESTS="$(UNIT_TESTS)" sh tests/check_asan.sh $(B)
