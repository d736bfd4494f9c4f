/*
 * test_mesh.c - meshing (allocator/mesh.c): two pools whose live blocks do
 * not overlap merged onto one page, read and written through both
 * addresses, freed through either; the page given back to the system (the
 * memory file's blocks, Pss); the victim's page returned when the merged
 * pool empties; fork giving the child a heap of its own, with threads
 * writing meanwhile; the budget on meshes; threads writing into pools while
 * they are meshed (the write barrier: no write lost); and
 * a random model of the malloc API with rounds between its steps.
 * Each test runs in a child with a fresh allocator configured to mesh.
 */
#include "testutil.h"
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

enum { SIZE = 64 };

/* The write barrier's faults to the allocator, as the preload's handler
 * routes them (preload/faults.c); any other fault kills the test. */
static void on_segv(int sig, siginfo_t *si, void *uc)
{
	if (pt_mesh_fault(si->si_addr, si->si_code))
		return;
	signal(sig, SIG_DFL);
}

static void configure_mesh(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	struct pt_config cfg = { .align = 16, .tcache = 0, .mesh = 1 };
	pt_configure(&cfg);
}

static long pss_kib(void)
{
	char buf[4096];
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	long v = -1;
	if (!f)
		return -1;
	while (fgets(buf, sizeof buf, f))
		if (sscanf(buf, "Pss: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

static struct pt_mesh_stats mesh_stats(void)
{
	struct pt_mesh_stats ms;
	pt_mesh_stats(&ms);
	return ms;
}

static long file_blocks(void)
{
	struct stat s;
	return fstat(pt__g.mesh_fd, &s) == 0 ? (long)s.st_blocks : -1;
}

static void fill(void *p, unsigned tag)
{
	memset(p, (int)(tag * 37 + 1), SIZE);
}

static bool holds(const void *p, unsigned tag)
{
	const unsigned char *b = p;
	for (unsigned i = 0; i < SIZE; i++)
		if (b[i] != (unsigned char)(tag * 37 + 1))
			return false;
	return true;
}

/*
 * Three pools of 64-byte blocks (64 each): a and b full, c the head.  Free
 * a's even blocks and b's odd ones: their live blocks are complementary.
 */
enum { PER = PT_POOL_SIZE / SIZE };
static void *blk[3 * PER];

/* Free, in the first `pools` pools of b (per blocks each, in allocation
 * order), the even blocks of even pools and the odd blocks of odd ones:
 * pairs of pools whose live blocks are complementary.  Freed entries
 * become NULL. */
static void free_complementary(void **b, unsigned pools, unsigned per)
{
	for (unsigned i = 0; i < pools * per; i++)
		if ((i / per) % 2 == (i % per) % 2) {
			pt_free(b[i]);
			b[i] = NULL;
		}
}

static int make_complementary(void)
{
	for (unsigned i = 0; i < 3 * PER; i++) {
		blk[i] = pt_alloc(SIZE);
		if (!blk[i])
			return -1;
		fill(blk[i], i);
	}
	if (pt__pool_of((uintptr_t)blk[0]) == pt__pool_of((uintptr_t)blk[PER]))
		return -1;
	free_complementary(blk, 2, PER);
	pt_thread_flush();   /* cached blocks count as live */
	return 0;
}

static int child_complementary(void *arg)
{
	configure_mesh();
	struct pt_mesh_stats ms = mesh_stats();
	CHILD_CHECK(ms.on);
	/* warm up what the Pss figure would otherwise count: stdio's buffers,
	 * and the round's scratch memory (a first mesh, of two pools of
	 * another class, which stays) */
	pss_kib();
	void *warm[3 * 32];
	for (unsigned i = 0; i < 3 * 32; i++)
		warm[i] = pt_alloc(128);
	free_complementary(warm, 2, 32);
	pt_thread_flush();
	CHILD_CHECK(pt_mesh() == 1);
	CHILD_CHECK(make_complementary() == 0);
	struct pt_pool *pa = pt__pool_of((uintptr_t)blk[1]), *pb = pt__pool_of((uintptr_t)blk[PER]);
	long blocks = file_blocks(), pss = pss_kib();

	CHILD_CHECK(pt_mesh() == 1);
	ms = mesh_stats();
	CHILD_CHECK(ms.meshed_now == 2 && ms.meshes == 2);
	/* one of the two is an alias of the other now */
	struct pt_pool *v = pa->state == PT_POOL_MESHED ? pa : pb, *k = v == pa ? pb : pa;
	CHILD_CHECK(v->state == PT_POOL_MESHED && v->alias == k && k->state == PT_POOL_USED);
	CHILD_CHECK(PT_NUSED(k) == PER);
	CHILD_CHECK(pt__pool_valid(k));
	/* the file gave a page back: 8 blocks of 512 bytes; and Pss a page */
	CHILD_CHECK(file_blocks() == blocks - PT_POOL_SIZE / 512);
	long pss_after = pss_kib();
	if (pss_after > pss - 4)
		fprintf(stderr, "Pss %ld kB before the mesh, %ld after\n", pss, pss_after);
	CHILD_CHECK(pss_after <= pss - 4);

	/* every live block holds its bytes, at the address it was given */
	for (unsigned i = 0; i < 2 * PER; i++)
		if (blk[i]) {
			CHILD_CHECK(holds(blk[i], i));
			CHILD_CHECK(pt_block_size(blk[i]) == SIZE);
		}
	/* both addresses show one page: a write through the victim's address
	 * is read through the kept one's */
	uintptr_t vb = pt__pool_base(v), kb = pt__pool_base(k);
	unsigned char *vblock = NULL;
	for (unsigned i = 0; i < 2 * PER && !vblock; i++)
		if (blk[i] && ((uintptr_t)blk[i] & ~(uintptr_t)(PT_POOL_SIZE - 1)) == vb)
			vblock = blk[i];
	CHILD_CHECK(vblock != NULL);
	vblock[5] = 0xab;
	CHILD_CHECK(((unsigned char *)kb)[((uintptr_t)vblock & (PT_POOL_SIZE - 1)) + 5] == 0xab);
	vblock[5] = vblock[4];

	/* new blocks of the class fill the kept pool's free slots: no block
	 * is handed out twice, none overlaps a live one */
	void *fresh[PER];
	for (unsigned i = 0; i < PER; i++) {
		fresh[i] = pt_alloc(SIZE);
		CHILD_CHECK(fresh[i]);
		memset(fresh[i], 0x5a, SIZE);
	}
	for (unsigned i = 0; i < 2 * PER; i++)
		if (blk[i])
			CHILD_CHECK(holds(blk[i], i));
	for (unsigned i = 0; i < PER; i++)
		pt_free(fresh[i]);

	/* free every block of the pair, through both addresses: the victim
	 * gets its own page back and returns to its arena */
	for (unsigned i = 0; i < 2 * PER; i++)
		if (blk[i]) {
			pt_free(blk[i]);
			blk[i] = NULL;
		}
	pt_thread_flush();
	ms = mesh_stats();
	CHILD_CHECK(ms.meshed_now == 1 && ms.unmeshes == 1);
	CHILD_CHECK(v->state == PT_POOL_FREE);
	/* not resident: its page went back at the mesh, and no purge is owed
	 * (one per pool cost scatter's final frees 8,000 punches) */
	CHILD_CHECK(!v->dirty && pt__arenas_valid());
	CHILD_CHECK(pt__region_cls[(vb - pt__region_base) >> PT_POOL_SHIFT] == 0);
	/* the victim's address is its own page again: writing there does not
	 * write the kept pool's page */
	void *again[2 * PER];
	for (unsigned i = 0; i < 2 * PER; i++) {
		again[i] = pt_alloc(SIZE);
		fill(again[i], 1000 + i);
	}
	for (unsigned i = 0; i < 2 * PER; i++)
		CHILD_CHECK(holds(again[i], 1000 + i));
	CHILD_CHECK(pt__arenas_valid());
	return 0;
}

static void test_complementary_pools_share_a_page_through_both_addresses(void **state)
{
	assert_int_equal(run_in_child(child_complementary, NULL), 0);
}

/* Pools whose live blocks overlap are never meshed; the budget caps meshes. */
static int child_overlap_and_budget(void *arg)
{
	configure_mesh();
	for (unsigned i = 0; i < 3 * PER; i++)
		blk[i] = pt_alloc(SIZE);
	for (unsigned i = 0; i < 2 * PER; i++)   /* both keep their even blocks */
		if (i % 2) {
			pt_free(blk[i]);
			blk[i] = NULL;
		}
	pt_thread_flush();
	CHILD_CHECK(pt_mesh() == 0);

	/* 8 complementary pairs, a budget of 3 */
	enum { POOLS = 17 };
	static void *many[POOLS * PER];
	for (unsigned i = 0; i < POOLS * PER; i++)
		many[i] = pt_alloc(SIZE);
	free_complementary(many, POOLS - 1, PER);
	pt_thread_flush();
	pt_test_mesh_budget(3);
	CHILD_CHECK(pt_mesh() == 3);
	struct pt_mesh_stats ms = mesh_stats();
	CHILD_CHECK(ms.meshed_now == 3 && ms.budget == 3);
	return 0;
}

static void test_overlapping_pools_are_kept_apart_and_the_budget_holds(void **state)
{
	assert_int_equal(run_in_child(child_overlap_and_budget, NULL), 0);
}

/*
 * Threads writing into the blocks of pools while their owner meshes them:
 * the write barrier makes every write that hits a victim during its copy
 * wait and land in the merged page.  Each writer counts its increments of
 * each block in memory of its own; at the end every block holds its count.
 */
enum { HAMMER_POOLS = 64, HAMMERERS = 2 };
static void *hblk[HAMMER_POOLS * PER];
static volatile int hstop;
static uint64_t hcount[HAMMERERS][HAMMER_POOLS * PER / 2];

static void *hammer(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	while (!hstop) {
		/* writer t owns the live blocks whose index is t modulo 2,
		 * counting in the word at 8 * (t + 2) */
		for (unsigned i = 0; i < HAMMER_POOLS * PER; i++) {
			if (!hblk[i] || (i / 2) % HAMMERERS != t)
				continue;
			((volatile uint64_t *)hblk[i])[2 + t]++;
			hcount[t][i / 2]++;
		}
	}
	return NULL;
}

static int child_hammer(void *arg)
{
	configure_mesh();
	/* pools in complementary pairs; live blocks zeroed */
	for (unsigned i = 0; i < HAMMER_POOLS * PER; i++) {
		hblk[i] = pt_alloc(SIZE);
		CHILD_CHECK(hblk[i]);
		memset(hblk[i], 0, SIZE);
	}
	void *head[PER];
	for (unsigned i = 0; i < PER; i++)   /* a head pool, never meshed */
		head[i] = pt_alloc(SIZE);
	free_complementary(hblk, HAMMER_POOLS, PER);
	pt_thread_flush();
	pthread_t t[HAMMERERS];
	for (unsigned i = 0; i < HAMMERERS; i++)
		CHILD_CHECK(pthread_create(&t[i], NULL, hammer, (void *)(uintptr_t)i) == 0);
	usleep(20000);
	size_t meshed = pt_mesh();
	usleep(20000);
	hstop = 1;
	for (unsigned i = 0; i < HAMMERERS; i++)
		pthread_join(t[i], NULL);
	CHILD_CHECK(meshed >= HAMMER_POOLS / 4);
	unsigned lost = 0;
	for (unsigned i = 0; i < HAMMER_POOLS * PER; i++)
		if (hblk[i]) {
			unsigned w = (i / 2) % HAMMERERS;
			if (((uint64_t *)hblk[i])[2 + w] != hcount[w][i / 2])
				lost++;
		}
	if (lost)
		fprintf(stderr, "%u blocks lost writes (%zu pools meshed)\n", lost, meshed);
	CHILD_CHECK(lost == 0);
	(void)head;
	return 0;
}

static void test_threads_writing_during_meshing_lose_no_write(void **state)
{
	assert_int_equal(run_in_child(child_hammer, NULL), 0);
}

/*
 * The pools of a thread that exited (its heap abandoned) are meshed by
 * another thread's round; its blocks keep their bytes and still free.
 */
static void *leave_scattered(void *arg)
{
	for (unsigned i = 0; i < 8 * PER; i++) {
		hblk[i] = pt_alloc(SIZE);
		fill(hblk[i], i);
	}
	free_complementary(hblk, 8, PER);
	return arg;   /* the thread exits: its heap is abandoned */
}

static int child_abandoned(void *arg)
{
	configure_mesh();
	pthread_t t;
	CHILD_CHECK(pthread_create(&t, NULL, leave_scattered, NULL) == 0);
	pthread_join(t, NULL);
	size_t meshed = pt_mesh();
	CHILD_CHECK(meshed >= 2);
	for (unsigned i = 0; i < 8 * PER; i++)
		if (hblk[i]) {
			CHILD_CHECK(holds(hblk[i], i));
			pt_free(hblk[i]);   /* (this thread adopts the heap at its first) */
		}
	pt_thread_exit();   /* cache flushed, heads unpinned, empty pools returned */
	struct pt_mesh_stats ms = mesh_stats();
	CHILD_CHECK(ms.meshed_now == 0 && ms.unmeshes == ms.meshes);
	return 0;
}

static void test_an_exited_threads_pools_are_meshed_too(void **state)
{
	assert_int_equal(run_in_child(child_abandoned, NULL), 0);
}

/*
 * fork after meshing: the child's heap is its own.  The parent writes its
 * meshed blocks after the fork, the child must not see it, and the child's
 * writes must not reach the parent; first single-threaded, then with
 * threads writing into their own blocks all the while (the child's copies
 * of them stand still).
 */
static volatile int stop;
static void *writer(void *arg)
{
	volatile uint64_t *p = arg;
	while (!stop)
		(*p)++;
	return NULL;
}

static uint64_t *ctr[2];

/* One fork; the child checks what it sees; false if it saw the parent's
 * writes or lost its own copy.  parent_writes: the parent overwrites the
 * meshed blocks after the fork, before the child looks. */
static int fork_once(bool parent_writes, int round)
{
	int to_child[2], to_parent[2];
	char c = 0;
	if (pipe(to_child) || pipe(to_parent))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(to_child[1]);   /* a parent that fails ends our read */
		if (read(to_child[0], &c, 1) != 1)
			_exit(4);
		/* the parent's later writes, of its threads or its own, are
		 * not here */
		uint64_t a = ctr[0] ? *ctr[0] : 0, b = ctr[1] ? *ctr[1] : 0;
		char status = '0';
		usleep(2000);
		if (ctr[0] && (*ctr[0] != a || *ctr[1] != b))
			status = 'c';
		for (unsigned i = 0; i < 2 * PER; i++)
			if (blk[i] && !holds(blk[i], i))
				status = 'm';
		for (unsigned i = 0; i < 2 * PER; i++)   /* the parent must not see these */
			if (blk[i])
				fill(blk[i], 7);
		void *x = pt_alloc(SIZE);   /* the child's heap works */
		pt_free(x);
		if (write(to_parent[1], &status, 1) != 1)
			_exit(4);
		_exit(0);
	}
	if (pid < 0)
		return -1;
	if (parent_writes)
		for (unsigned i = 0; i < 2 * PER; i++)
			if (blk[i])
				fill(blk[i], 9);
	if (write(to_child[1], "g", 1) != 1 || read(to_parent[0], &c, 1) != 1)
		return -1;
	if (c != '0')
		fprintf(stderr, "fork %d: the child saw %s\n", round,
		        c == 'c' ? "the parent's threads write" : "the parent's later writes");
	int st, ok = c == '0';
	for (unsigned i = 0; i < 2 * PER; i++)
		if (blk[i]) {
			ok &= holds(blk[i], parent_writes ? 9 : i);   /* not the child's 7 */
			fill(blk[i], i);
		}
	close(to_child[0]); close(to_child[1]); close(to_parent[0]); close(to_parent[1]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return ok ? 0 : -1;
}

static int child_fork(void *arg)
{
	configure_mesh();
	/* what the preload does: the allocator's fork handlers */
	pthread_atfork(pt_fork_prepare, pt_fork_parent, pt_fork_child);
	CHILD_CHECK(make_complementary() == 0);
	CHILD_CHECK(pt_mesh() == 1);
	for (int round = 0; round < 10; round++)
		CHILD_CHECK(fork_once(true, round) == 0);

	ctr[0] = pt_alloc(SIZE);
	ctr[1] = pt_alloc(SIZE);
	*ctr[0] = *ctr[1] = 0;
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		CHILD_CHECK(pthread_create(&t[i], NULL, writer, ctr[i]) == 0);
	for (int round = 0; round < 20; round++)
		CHILD_CHECK(fork_once(round % 2, round) == 0);
	stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHILD_CHECK(*ctr[0] > 0 && *ctr[1] > 0);
	/* the pair, private now, still frees as one pool */
	for (unsigned i = 0; i < 2 * PER; i++)
		if (blk[i])
			pt_free(blk[i]);
	pt_thread_flush();
	struct pt_mesh_stats ms = mesh_stats();
	CHILD_CHECK(ms.meshed_now == 0 && ms.unmeshes == 1);
	return 0;
}

static void test_fork_gives_the_child_its_own_heap_with_and_without_threads(void **state)
{
	assert_int_equal(run_in_child(child_fork, NULL), 0);
}

/*
 * The malloc API's model with rounds between steps: random sizes of every
 * class, random frees, each live block holding a pattern of its own;
 * after every round every live block still holds it and the pools are
 * consistent.
 */
enum { SLOTS = 20000, STEPS = 400000 };
static void *slot[SLOTS];
static uint16_t slot_size[SLOTS];
static uint32_t slot_tag[SLOTS];

static unsigned char pat(uint32_t tag, unsigned i)
{
	return (unsigned char)(tag * 2654435761u >> 24 ^ i);
}

static int child_model(void *arg)
{
	configure_mesh();
	uint64_t r = 88172645463325252ull;
	size_t meshed = 0;
	for (unsigned step = 0; step < STEPS; step++) {
		r ^= r << 13; r ^= r >> 7; r ^= r << 17;
		unsigned i = (unsigned)(r % SLOTS);
		if (slot[i]) {
			unsigned char *p = slot[i];
			for (unsigned k = 0; k < slot_size[i]; k++)
				CHILD_CHECK(p[k] == pat(slot_tag[i], k));
			pt_free(p);
			slot[i] = NULL;
		} else if ((r >> 32) % 4) {   /* fill to ~3/4, then churn */
			unsigned n = 1 + (unsigned)((r >> 40) % PT_SMALL_MAX);
			unsigned char *p = pt_alloc(n);
			CHILD_CHECK(p);
			slot[i] = p;
			slot_size[i] = (uint16_t)n;
			slot_tag[i] = step;
			for (unsigned k = 0; k < n; k++)
				p[k] = pat(step, k);
		}
		if (step % 50000 == 49999) {
			/* a wave of frees, then a round */
			for (unsigned j = 0; j < SLOTS; j += 1 + (unsigned)(r % 3))
				if (slot[j]) {
					pt_free(slot[j]);
					slot[j] = NULL;
				}
			pt_thread_flush();
			meshed += pt_mesh();
			CHILD_CHECK(pt__heap_valid(pt__tl_heap));
			for (unsigned j = 0; j < SLOTS; j++)
				if (slot[j])
					for (unsigned k = 0; k < slot_size[j]; k++)
						CHILD_CHECK(((unsigned char *)slot[j])[k] == pat(slot_tag[j], k));
		}
	}
	CHILD_CHECK(meshed > 0);
	for (unsigned j = 0; j < SLOTS; j++)
		if (slot[j])
			pt_free(slot[j]);
	/* the heap given up: its heads unpinned, every empty pool returned,
	 * and with them every pool meshed into another */
	pt_thread_exit();
	struct pt_mesh_stats ms = mesh_stats();
	CHILD_CHECK(ms.meshed_now == 0 && ms.unmeshes == ms.meshes);
	CHILD_CHECK(pt__arenas_valid());
	return 0;
}

static void test_malloc_model_with_rounds_between_steps(void **state)
{
	assert_int_equal(run_in_child(child_model, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complementary_pools_share_a_page_through_both_addresses),
		cmocka_unit_test(test_overlapping_pools_are_kept_apart_and_the_budget_holds),
		cmocka_unit_test(test_threads_writing_during_meshing_lose_no_write),
		cmocka_unit_test(test_an_exited_threads_pools_are_meshed_too),
		cmocka_unit_test(test_fork_gives_the_child_its_own_heap_with_and_without_threads),
		cmocka_unit_test(test_malloc_model_with_rounds_between_steps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
