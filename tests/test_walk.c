/*
 * test_walk.c - our stack walk (unwind.c, cfi.c) against libunwind's
 * unw_backtrace, on stacks of every shape the compilers here make: frames
 * without a frame pointer, with one, with alloca and with large locals,
 * deep recursion, a C library callback (qsort), threads on stacks glibc
 * allocated and on one the program gave, a stack deeper than asked for.
 * The walk must give libunwind's frames exactly, and must have walked
 * them itself (not handed them to libunwind).  A signal handler's frame
 * is libunwind's: the walk says so.
 */
#include <alloca.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "testutil.h"
#include "../preload/unwind.h"

extern void *__libc_stack_end;

#define MAXF 128

struct cmp {
	int ours, theirs;        /* frames each gave, above the leaf */
	int equal;
	void *a[MAXF + 2], *b[MAXF + 1];
};

/* Both walks from one leaf: ours starts in pt__unwind_walk and the leaf
 * (two frames), libunwind's in the leaf (one frame); the rest must match. */
static struct pt_unwind_memo *memo;   /* the walks' memo, when a test gives one */

static __attribute__((noinline)) void compare_here(struct cmp *c, int max)
{
	int n = pt__unwind_walk(c->a, max + 2, memo);
	int m = pt__unw_backtrace(c->b, max + 1);
	c->ours = n < 0 ? -1 : n - 2;
	c->theirs = m - 1;
	c->equal = n >= 0 && c->ours == c->theirs &&
	           memcmp(c->a + 2, c->b + 1, (size_t)c->theirs * sizeof(void *)) == 0;
	if (n >= 0 && !c->equal) {
		for (int i = 0; i < (n > m + 1 ? n : m + 1); i++)
			fprintf(stderr, "  %2d ours %p theirs %p\n", i,
			        i + 2 < n ? c->a[i + 2] : NULL, i + 1 < m ? c->b[i + 1] : NULL);
	}
	__asm__ volatile("" ::: "memory");
}

static void expect_same(struct cmp *c)
{
	assert_int_not_equal(c->ours, -1);   /* walked by us, not left to libunwind */
	assert_true(c->theirs >= 2);
	assert_true(c->equal);
}

/* ---- shapes ---- */

static __attribute__((noinline)) int recurse(struct cmp *c, int depth)
{
	if (depth == 0) {
		compare_here(c, MAXF);
		return 0;
	}
	int r = recurse(c, depth - 1);
	__asm__ volatile("" ::: "memory");   /* not a tail call */
	return r + 1;
}

static void test_plain_recursion(void **state)
{
	struct cmp c;
	recurse(&c, 40);
	expect_same(&c);
	assert_true(c.ours >= 41);
}

static __attribute__((noinline)) int with_alloca(struct cmp *c, size_t n, int depth)
{
	char *p = alloca(n);   /* the CFA follows RBP here */
	memset(p, depth, n);
	if (depth == 0)
		compare_here(c, MAXF);
	else
		with_alloca(c, n + 48, depth - 1);
	__asm__ volatile("" : : "r"(p) : "memory");
	return p[0];
}

static void test_alloca_frames(void **state)
{
	struct cmp c;
	with_alloca(&c, 24, 5);
	expect_same(&c);
}

static __attribute__((noinline, optimize("no-omit-frame-pointer"))) int with_fp(struct cmp *c,
                                                                                  int depth)
{
	volatile int x = depth;
	if (depth == 0)
		compare_here(c, MAXF);
	else
		with_fp(c, depth - 1);
	return x;
}

static void test_frame_pointer_frames(void **state)
{
	struct cmp c;
	with_fp(&c, 6);
	expect_same(&c);
}

static __attribute__((noinline)) int big_locals(struct cmp *c, int depth)
{
	volatile char buf[200000];   /* a frame far larger than a page */
	buf[0] = (char)depth;
	buf[sizeof buf - 1] = (char)depth;
	if (depth == 0)
		compare_here(c, MAXF);
	else
		big_locals(c, depth - 1);
	return buf[0] + buf[sizeof buf - 1];
}

static void test_large_frames(void **state)
{
	struct cmp c;
	big_locals(&c, 3);
	expect_same(&c);
}

static __attribute__((noinline)) int huge_locals(struct cmp *c)
{
	volatile char buf[2 << 20];   /* past the largest frame the walk takes */
	buf[0] = 1;
	buf[sizeof buf - 1] = 2;
	recurse(c, 2);
	return buf[0] + buf[sizeof buf - 1];
}

/* A frame over 1 MiB is libunwind's, which checks the pages it reads. */
static void test_a_huge_frame_is_left_to_libunwind(void **state)
{
	struct cmp c;
	huge_locals(&c);
	assert_int_equal(c.ours, -1);
	assert_true(c.theirs >= 5);
}

static struct cmp *qsort_cmp;

static int by_value(const void *x, const void *y)
{
	if (qsort_cmp) {
		compare_here(qsort_cmp, MAXF);
		qsort_cmp = NULL;
	}
	return *(const int *)x - *(const int *)y;
}

static void test_through_a_libc_callback(void **state)
{
	struct cmp c;
	int v[64];
	for (int i = 0; i < 64; i++)
		v[i] = (i * 37) % 64;
	qsort_cmp = &c;
	qsort(v, 64, sizeof v[0], by_value);
	expect_same(&c);
}

/* A call to a function that does not return may be its caller's last
 * instruction: the return address is then the next function's first, and
 * the caller's rule is the one at the return address minus one. */
static jmp_buf back;

static __attribute__((noinline, noreturn)) void no_return(struct cmp *c)
{
	compare_here(c, MAXF);
	longjmp(back, 1);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winfinite-recursion"   /* it ends in no_return's longjmp */
static __attribute__((noinline)) void ends_in_a_call(struct cmp *c, int depth)
{
	volatile char buf[64];   /* a frame of its own: its rule is not its next function's */
	buf[0] = (char)depth;
	if (buf[0] > 0) {
		ends_in_a_call(c, depth - 1);
		return;
	}
	no_return(c);
}
#pragma GCC diagnostic pop

static __attribute__((noinline)) void after_ends_in_a_call(struct cmp *c)
{
	volatile char big[4096];
	big[0] = 1;
	compare_here(c, big[0]);
}

static void test_a_noreturn_call_at_a_function_end(void **state)
{
	struct cmp c;
	if (!setjmp(back))
		ends_in_a_call(&c, 3);
	expect_same(&c);
	after_ends_in_a_call(&c);   /* the function that follows, kept */
}

static void test_deeper_than_asked(void **state)
{
	struct cmp c;
	recurse(&c, 200);   /* MAXF frames asked; both cut there */
	expect_same(&c);
	assert_int_equal(c.ours, MAXF);
}

static void *thread_fn(void *arg)
{
	recurse(arg, 10);
	return NULL;
}

static void test_threads_own_and_given_stacks(void **state)
{
	struct cmp c;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, thread_fn, &c), 0);
	pthread_join(t, NULL);
	expect_same(&c);

	size_t sz = 1 << 20;
	void *stack = aligned_alloc(4096, sz);
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstack(&a, stack, sz);
	memset(&c, 0, sizeof c);
	assert_int_equal(pthread_create(&t, &a, thread_fn, &c), 0);
	pthread_join(t, NULL);
	pthread_attr_destroy(&a);
	free(stack);
	expect_same(&c);
}

/* A coroutine on a stack of the heap (makecontext).  The frame that
 * starts the context (glibc's __start_context) has no rule the walk
 * follows, so such stacks are libunwind's; if the walk ever takes them, it
 * must find the same frames. */
static ucontext_t main_ctx, co_ctx;
static struct cmp co_cmp;

static void coroutine(void)
{
	recurse(&co_cmp, 6);
}

static void test_a_coroutine_on_a_heap_stack(void **state)
{
	size_t sz = 256 << 10;
	char *stack = malloc(sz);
	getcontext(&co_ctx);
	co_ctx.uc_stack.ss_sp = stack;
	co_ctx.uc_stack.ss_size = sz;
	co_ctx.uc_link = &main_ctx;
	makecontext(&co_ctx, coroutine, 0);
	swapcontext(&main_ctx, &co_ctx);
	free(stack);
	assert_true(co_cmp.theirs >= 7);
	if (co_cmp.ours != -1)
		assert_true(co_cmp.equal);
}

static struct cmp sig_cmp;

static void on_signal(int sig)
{
	compare_here(&sig_cmp, MAXF);
}

/* Both walks from a signal handler, into sig_cmp. */
static void compare_in_a_handler(void)
{
	memset(&sig_cmp, 0, sizeof sig_cmp);
	signal(SIGUSR1, on_signal);
	raise(SIGUSR1);
	signal(SIGUSR1, SIG_DFL);
}

static void test_signal_frames_are_left_to_libunwind(void **state)
{
	compare_in_a_handler();
	assert_int_equal(sig_cmp.ours, -1);   /* __restore_rt: a signal frame */
	assert_true(sig_cmp.theirs >= 3);     /* libunwind went through it */
}

static void test_a_forgotten_rule_is_read_again(void **state)
{
	struct cmp c;
	recurse(&c, 5);
	expect_same(&c);
	pt__unwind_forget();   /* as after a dlclose */
	memset(&c, 0, sizeof c);
	recurse(&c, 5);
	expect_same(&c);
}

/* Walks that remember the last one: stacks that share their outer frames
 * at other depths, the same stack again, a deeper one, a signal frame in
 * between; each must still be libunwind's. */
static void test_walks_with_a_memo_of_the_last(void **state)
{
	static struct pt_unwind_memo m;
	memo = &m;
	static const int depth[] = { 5, 5, 9, 2, 30, 30, 7, 0, 12 };
	for (unsigned i = 0; i < sizeof depth / sizeof depth[0]; i++) {
		struct cmp c;
		memset(&c, 0, sizeof c);
		if (depth[i] == 2)
			with_alloca(&c, 40, 2);
		else if (depth[i] == 7)
			with_fp(&c, 7);
		else
			recurse(&c, depth[i]);
		expect_same(&c);
		if (i == 5) {   /* a walk left to libunwind forgets nothing it should not */
			compare_in_a_handler();
			assert_int_equal(sig_cmp.ours, -1);
		}
	}
	assert_true(m.n > 0);
	memo = NULL;
}

/* ---- walks that find the last one's frames again ---- */

static struct pt_unwind_memo again_memo;

/* Two callers of recurse with frames of one size: from the same place
 * they put its frames at the same stack addresses, with other return
 * addresses in them. */
static __attribute__((noinline)) int via_a(struct cmp *c)
{
	volatile int mark = 1;
	int r = recurse(c, 3);
	return r + mark;
}

static __attribute__((noinline)) int via_b(struct cmp *c)
{
	volatile int mark = 2;
	int r = recurse(c, 3);
	return r * mark;
}

static __attribute__((noinline)) void walk_via(struct cmp *c, int b, uintptr_t *sp0, int *same)
{
	memset(c, 0, sizeof *c);
	if (b)
		via_b(c);
	else
		via_a(c);
	*sp0 = again_memo.sp0;
	*same = again_memo.same;
}

/* The same stack twice: the second walk is the first again, and says so;
 * another caller at the same stack addresses is not. */
static void test_a_walk_that_finds_the_last_frames_again(void **state)
{
	memo = &again_memo;
	struct cmp c;
	uintptr_t sp[4];
	int same[4];
	for (int i = 0; i < 4; i++) {   /* one call site: the outer frames are the same */
		walk_via(&c, i >= 2, &sp[i], &same[i]);
		expect_same(&c);
	}
	memo = NULL;
	assert_true(sp[0] == sp[1] && sp[1] == sp[2]);   /* or the test shows nothing */
	assert_int_equal(same[1], 1);
	assert_int_equal(same[2], 0);   /* a return address differs */
	assert_int_equal(same[3], 1);
}

/* A frame whose CFA is RBP's, entered at two heights with allocas that
 * put its callee at one stack address: the same stack pointer for the
 * walk, another RBP, other frames. */
static __attribute__((noinline, optimize("no-omit-frame-pointer"))) int fp_pad(struct cmp *c,
                                                                                size_t n)
{
	char *p = alloca(n);
	memset(p, 0, n);
	compare_here(c, MAXF);
	__asm__ volatile("" : : "r"(p) : "memory");
	return p[0];
}

static __attribute__((noinline)) int shifted(struct cmp *c, size_t k, size_t n)
{
	char *p = alloca(k);
	memset(p, 0, k);
	int r = fp_pad(c, n);
	__asm__ volatile("" : : "r"(p) : "memory");
	return r + p[0];
}

static void test_a_walk_from_another_frame_pointer_is_walked(void **state)
{
	memo = &again_memo;
	struct cmp c;
	uintptr_t sp[3];
	int same[3];
	static const size_t k[] = { 64, 64, 128 }, n[] = { 128, 128, 64 };
	for (int i = 0; i < 3; i++) {
		memset(&c, 0, sizeof c);
		shifted(&c, k[i], n[i]);
		sp[i] = again_memo.sp0;
		same[i] = again_memo.same;
		expect_same(&c);
	}
	memo = NULL;
	assert_true(sp[0] == sp[1] && sp[1] == sp[2]);
	assert_int_equal(same[1], 1);
	assert_int_equal(same[2], 0);
}

/* The same through two callers, by one call site; the alloca they leave
 * unwritten keeps the words the first call's frames left there.  The
 * second call's fp_pad is 64 bytes lower: where the first one's return
 * address was read, the second finds it again, stale, and only the RBP
 * the frame's CFA comes from tells the frames apart. */
#define STALE_CALLER(name, mark)                                          \
	static __attribute__((noinline)) int name(struct cmp *c, size_t k, size_t n) \
	{                                                                  \
		char *p = alloca(k);                                       \
		__asm__ volatile("" : : "r"(p) : "memory");                \
		int r = fp_pad(c, n);                                      \
		__asm__ volatile("" : : "r"(p) : "memory");                \
		return r + (mark);                                         \
	}
STALE_CALLER(stale_a, 1)
STALE_CALLER(stale_b, 2)

static __attribute__((noinline)) void stale_walks(struct cmp *c, uintptr_t *sp, int *same)
{
	static int (*volatile fn[])(struct cmp *, size_t, size_t) = { stale_a, stale_b };
	static const size_t k[] = { 64, 128 }, n[] = { 128, 64 };
	volatile int calls = 2;   /* one call site: a loop the compiler cannot unroll */
	for (int i = 0; i < calls; i++) {
		int j = i & 1;
		fn[j](&c[j], k[j], n[j]);
		sp[j] = again_memo.sp0;
		same[j] = again_memo.same;
	}
}

static void test_stale_words_do_not_pass_for_the_last_frames(void **state)
{
	memo = &again_memo;
	struct cmp c[2];
	uintptr_t sp[2];
	int same[2];
	memset(c, 0, sizeof c);
	stale_walks(c, sp, same);
	memo = NULL;
	expect_same(&c[0]);
	expect_same(&c[1]);
	assert_true(sp[0] == sp[1]);
	assert_int_equal(same[1], 0);
}

/* Many walks with one memo, at random depths through random shapes: the
 * last walk's outer frames are kept, in place or moved, again and again,
 * and every stack must still be libunwind's. */
static __attribute__((noinline)) void random_walk(struct cmp *c, unsigned shape, int depth)
{
	switch (shape % 4) {
	case 0: recurse(c, depth); break;
	case 1: with_alloca(c, 24, depth % 6); break;
	case 2: with_fp(c, depth); break;
	default: if (depth & 1) via_a(c); else via_b(c); break;
	}
}

static __attribute__((noinline)) int random_nest(struct cmp *c, unsigned shape, int outer,
                                                 int depth)
{
	if (outer == 0) {
		random_walk(c, shape, depth);
		return 0;
	}
	int r = random_nest(c, shape, outer - 1, depth);
	__asm__ volatile("" ::: "memory");
	return r + 1;
}

static void test_many_walks_with_a_memo(void **state)
{
	static struct pt_unwind_memo m;
	memo = &m;
	uint64_t rng = 7;
	int kept = 0;
	for (int i = 0; i < 2000; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		struct cmp c;
		memset(&c, 0, sizeof c);
		random_nest(&c, (unsigned)(rng >> 8), (int)((rng >> 20) % 12), (int)((rng >> 32) % 30));
		expect_same(&c);
		kept += m.same;
	}
	memo = NULL;
	(void)kept;
}

/* A walk on a stack that has no top the walk knows (mapped above the main
 * thread's, as a fiber's may be) is libunwind's, and must leave the memo
 * empty: the memo's walk before it is no longer the last, and a caller
 * that keeps what the last walk found (the recorder's stack id) would
 * give a third walk, equal to the first, the second one's stack. */
static ucontext_t high_main, high_co;
static struct cmp high_cmp;

static void on_the_high_stack(void)
{
	compare_here(&high_cmp, MAXF);
}

static __attribute__((noinline)) void walk_at(struct cmp *c, int high)
{
	memset(c, 0, sizeof *c);
	if (high)
		swapcontext(&high_main, &high_co);
	else
		compare_here(c, MAXF);
	__asm__ volatile("" ::: "memory");
}

static void test_a_walk_left_to_libunwind_empties_the_memo(void **state)
{
	uintptr_t end = ((uintptr_t)__libc_stack_end + (1u << 20)) & ~(uintptr_t)0xfff;
	void *stk = MAP_FAILED;
	for (uintptr_t a = end + (16u << 20); a < 0x7ffffff00000 && stk == MAP_FAILED; a += 1u << 20)
		stk = mmap((void *)a, 1 << 16, PROT_READ | PROT_WRITE,
		           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (stk == MAP_FAILED)
		skip();   /* no room above the main thread's stack */
	getcontext(&high_co);
	high_co.uc_stack.ss_sp = stk;
	high_co.uc_stack.ss_size = 1 << 16;
	high_co.uc_link = &high_main;
	makecontext(&high_co, on_the_high_stack, 0);
	memo = &again_memo;
	memset(&again_memo, 0, sizeof again_memo);
	struct cmp c;
	walk_at(&c, 0);
	expect_same(&c);
	assert_true(again_memo.n > 0);
	walk_at(&high_cmp, 1);
	memo = NULL;
	munmap(stk, 1 << 16);
	assert_int_equal(high_cmp.ours, -1);   /* no top: libunwind's */
	assert_int_equal(again_memo.n, 0);
	assert_int_equal(again_memo.same, 0);
}

/* The same for a walk that begins but meets a frame it cannot follow. */
static void test_a_walk_stopped_at_a_signal_frame_empties_the_memo(void **state)
{
	memo = &again_memo;
	memset(&again_memo, 0, sizeof again_memo);
	struct cmp c;
	walk_at(&c, 0);
	expect_same(&c);
	assert_true(again_memo.n > 0);
	compare_in_a_handler();
	memo = NULL;
	assert_int_equal(sig_cmp.ours, -1);   /* the signal frame: libunwind's */
	assert_int_equal(again_memo.n, 0);
	assert_int_equal(again_memo.same, 0);
}

int main(void)
{
	if (pt__unwind_load() != 0) {
		fprintf(stderr, "libunwind cannot be loaded\n");
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_recursion),
		cmocka_unit_test(test_alloca_frames),
		cmocka_unit_test(test_frame_pointer_frames),
		cmocka_unit_test(test_large_frames),
		cmocka_unit_test(test_a_huge_frame_is_left_to_libunwind),
		cmocka_unit_test(test_through_a_libc_callback),
		cmocka_unit_test(test_a_noreturn_call_at_a_function_end),
		cmocka_unit_test(test_deeper_than_asked),
		cmocka_unit_test(test_threads_own_and_given_stacks),
		cmocka_unit_test(test_a_coroutine_on_a_heap_stack),
		cmocka_unit_test(test_signal_frames_are_left_to_libunwind),
		cmocka_unit_test(test_a_forgotten_rule_is_read_again),
		cmocka_unit_test(test_walks_with_a_memo_of_the_last),
		cmocka_unit_test(test_a_walk_that_finds_the_last_frames_again),
		cmocka_unit_test(test_a_walk_from_another_frame_pointer_is_walked),
		cmocka_unit_test(test_stale_words_do_not_pass_for_the_last_frames),
		cmocka_unit_test(test_many_walks_with_a_memo),
		cmocka_unit_test(test_a_walk_left_to_libunwind_empties_the_memo),
		cmocka_unit_test(test_a_walk_stopped_at_a_signal_frame_empties_the_memo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
