/*
 * mesh.c - meshing (POOLTRACE_MESH=1): two pools of one class whose live
 * blocks sit at different offsets are merged onto one physical page, and
 * the other page goes back to the system, without moving any block: both
 * addresses stay valid (Mesh, Powers et al., PLDI 2019).
 *
 * Backing.  The arenas of the region are mapped shared from one memory
 * file (memfd) whose offsets are the region's: the pool at region address
 * base + x is the file's page at x.  Meshing pool V (the victim) into pool
 * K (the kept one) copies V's live blocks into K's page at their offsets,
 * maps K's file page at V's address (one mmap over the old one: no thread
 * ever finds it unmapped), and punches V's file page.  Where the file
 * cannot be made, the arenas stay private and nothing is meshed (the
 * preload says why, in one line).
 *
 * Which blocks are live.  A pool's descriptor is out of band (arena header
 * page), so the address of any of its blocks finds it.  The live set is
 * computed when a round looks at a pool, from what the owner knows: the
 * carved blocks minus those on its free list.  Blocks in thread caches and
 * on the remote list count as live (they are, for the pool); so their bytes,
 * links included, are copied, and every block keeps its content at every
 * address it was handed out at.  K's free list, whose links ran through
 * slots that now hold V's blocks, is rebuilt from the union of the two sets.
 *
 * Descriptors after a mesh.  V's becomes MESHED: alias -> K, on no class
 * list, nused 0, no owner; its class byte stays, so that its addresses are
 * still blocks of ours.  Every path from a block to its pool goes through
 * pt__pool_of_block, which follows the alias: a free of a block at V's
 * address goes to K.  The fast paths never read a descriptor, and the
 * slow half of free, whose first test is "a pool of mine?", finds no
 * owner on V and goes on to the paths that follow the alias.  K counts
 * both pools' blocks; its victims are chained from K->mesh_first through
 * their next.  A pool that was kept may become a victim later: the pools
 * meshed into it are remapped onto the new kept page and join its chain,
 * so that a victim has no victims of its own: one hop always.
 *
 * Who meshes.  A heap's pools are changed lock-free by their owner thread
 * only, so the owner meshes its own pools, pairs of one class, neither the
 * head of its list (malloc pops it inline) nor FULL; at most every
 * MESH_PERIOD_MS, looked at every MESH_TICK slow paths of its mallocs
 * (where a thread that keeps allocating passes every few dozen blocks; the
 * free path has no room for the count: it cost 13 instructions a free in
 * a bulk free), and at malloc_trim (pt_mesh).  A round holds pt__g.lock
 * and blocks every signal of its thread.  Other threads may write into the
 * victim's blocks meanwhile: when there are any, the victim is
 * write-protected from before the copy until the remap (barrier.c), and a
 * write waits in the fault handler and is made again after the remap, into
 * the kept page.  They may also free its blocks: a remote free reads the
 * pool's owner before it pushes (remote_push in alloc.c), and one that
 * finds none follows the alias; one that pushed onto the victim's list just
 * before the mesh is collected through the owner's pending stack, and
 * collecting follows the alias too.  The pools of the heaps of exited
 * threads (abandoned, waiting for adoption) are meshed by any round, under
 * the lock that guards them.
 *
 * A round (mesh_round) takes the candidates of every class at once; a pair
 * found grows into a run where the pools after both pair up too, so that
 * one mmap remaps the run; the victims' file pages are punched at the
 * round's end, sorted, adjacent ones in one call.
 *
 * Giving back.  When K empties, its victims return to their arenas before
 * K is cached or returned; a victim's address keeps showing K's page until
 * the pool is taken again (stale), which maps its own (punched) page back.
 * A budget (vm.max_map_count / 3, as Mesh: a mesh can split one mapping
 * into three) caps the pools meshed at once.
 *
 * fork.  A shared mapping would share the heap with the child.  prepare
 * write-protects the arenas of the file (barrier.c: the parent's threads
 * wait) and copies them into private memory; the child moves the copies
 * over its arenas (mremap) and goes on with private arenas and meshing
 * off, at its first write to the heap (glibc's fork writes there before any
 * handler runs: barrier.c) or in its fork handler, whichever comes first,
 * then tells the parent through a page they share; the parent's handler
 * waits for that (at most FORK_WAIT_MS), unprotects and unmaps its copies.
 * So neither sees a write the other makes after the fork.  A meshed pair
 * becomes two private pages with the same content in the child: each
 * block is still read and written through the one address it was handed
 * out at, so nothing changes for the program.  vfork, posix_spawn and
 * system() run no fork handlers and copy nothing (the parent waits for the
 * child's exec).  A raw clone(2) that skips the handlers shares the heap:
 * unsupported.
 */
#include <errno.h>
#include <string.h>

#include "fastpath.h"
#include "internal.h"

#define MESH_PERIOD_MS   100     /* rounds at most this often */
#define MESH_TICK        64      /* malloc slow paths between looks at the clock */
#define MESH_CANDIDATES  65536   /* pools looked at per round, at most */
#define MESH_TIMED_CANDIDATES 2048   /* ... in a timed round (a few ms of walks) */
#define MESH_PROBES      64      /* SplitMesher's t: partners tried per pool */
#define MESH_ROUND_MAX   256     /* meshes per timed round (~10 us each) */
#define MESH_MAX_FULL    80      /* candidates are at most this % full */
#define MESH_WORDS       (PT_POOL_SIZE / 8 / 64)   /* bitmap: 512 blocks */
#define FORK_WAIT_MS     2000    /* the parent waits this long for the child */
#define MESH_PUNCHES     4096    /* victims' pages released per batch */

struct mesh_cand {
	struct pt_pool *p;         /* NULL once meshed (or tried) this round */
	uintptr_t base;            /* p's address */
	unsigned used;
	uint64_t bm[MESH_WORDS];   /* live blocks */
};

/* fork's handshake, in a page every child shares */
struct fork_sync {
	_Atomic uint32_t seq;      /* forks made (the parent) */
	_Atomic uint32_t done;     /* the last fork whose child has its own heap */
};

static struct {
	struct mesh_cand *cand;    /* MESH_CANDIDATES, mapped at the first round */
	uint64_t *punch;           /* victims' file offsets to release */
	unsigned npunch;
	unsigned next_class;       /* where the next timed round starts */
	uint64_t rng;
	bool threaded;             /* this round protects its victims */
	char *fork_copy;           /* prepare's copies of the arenas */
	size_t fork_len;
	bool fork_on;              /* prepare protected the arenas */
	_Atomic int fork_child_pending;   /* a child whose heap is not its own yet */
	pid_t fork_parent;
	struct fork_sync *sync;
} M;

void pt_test_mesh_budget(uint64_t n)
{
	pt__lock();
	pt__g.mesh_budget = n;
	pt__unlock();
}

/* At initialisation, when meshing is configured. */
void pt__mesh_init_unlocked(void)
{
	int fd;
	if (pt__region_base == PT_REGION_NONE) {
		pt__g.mesh_error = ENOMEM;
		return;
	}
	int r = pt__os_memfd(PT_REGION_SIZE, &fd);
	if (r) {
		pt__g.mesh_error = r;
		return;
	}
	void *page;
	if (pt__os_map_shared_page(&page)) {
		pt__os_close(fd);
		pt__g.mesh_error = ENOMEM;
		return;
	}
	M.sync = page;
	pt__g.mesh_fd = fd;
	if (!pt__g.mesh_budget)
		pt__g.mesh_budget = pt__os_max_map_count() / 3;
	M.rng = (uint64_t)pt__free_key | 1;
}

static uint64_t rnd(void)
{
	/* xorshift64 */
	M.rng ^= M.rng << 13;
	M.rng ^= M.rng >> 7;
	M.rng ^= M.rng << 17;
	return M.rng;
}

/* The live blocks of p (owned by the caller): carved and not on its free
 * list.  Their count, or -1 if the free list leaves the pool (corrupt:
 * never meshed). */
static int live_blocks(const struct pt_pool *p, uint64_t *bm)
{
	unsigned n = p->ncarved, nfree = 0;
	/* the walk below goes from line to line of the page at random, one
	 * miss at a time (67% of a round's time on a scattered heap): ask for
	 * every line at once first */
	const char *page = (const char *)pt__pool_base(p);
	for (unsigned off = 0; off < PT_POOL_SIZE; off += 64)
		__builtin_prefetch(page + off);
	memset(bm, 0, MESH_WORDS * 8);
	for (unsigned w = 0; w < n / 64; w++)
		bm[w] = ~(uint64_t)0;
	if (n % 64)
		bm[n / 64] = ((uint64_t)1 << (n % 64)) - 1;
	for (const struct pt_block *b = p->free; b; b = pt__blk_next(b)) {
		uintptr_t a = (uintptr_t)b;
		if (pt__pool_of_block(a) != p || ++nfree > n)
			return -1;
		unsigned i = pt__block_index(a & (PT_POOL_SIZE - 1), p->cls);
		bm[i / 64] &= ~((uint64_t)1 << (i % 64));
	}
	return (int)(n - nfree);
}

static bool disjoint(const uint64_t *a, const uint64_t *b)
{
	uint64_t x = 0;
	for (unsigned w = 0; w < MESH_WORDS; w++)
		x |= a[w] & b[w];
	return x == 0;
}

/* 1 + the region pool index of pool descriptor p; the descriptor of index. */
static uint32_t pool_ref(const struct pt_pool *p)
{
	return (uint32_t)((pt__pool_base(p) - pt__region_base) >> PT_POOL_SHIFT) + 1;
}

static struct pt_pool *pool_deref(uint32_t ref)
{
	return pt__pool_of(pt__region_base + ((uintptr_t)(ref - 1) << PT_POOL_SHIFT));
}

/* The first pool meshed into p, or NULL; the others follow through next. */
static struct pt_pool *first_meshed(const struct pt_pool *p)
{
	return p->mesh_first ? pool_deref(p->mesh_first) : NULL;
}

/* Thread K's free list anew: every block not in live, in address order, with
 * its key word (what carve would have made); every block is carved. */
static void rebuild_free_list(struct pt_pool *k, const uint64_t *live)
{
	uintptr_t base = pt__pool_base(k);
	struct pt_block *head = NULL;
	for (unsigned i = k->nblocks; i-- > 0;) {
		if (live[i / 64] >> (i % 64) & 1)
			continue;
		struct pt_block *b = (struct pt_block *)(base + (size_t)i * k->size);
		pt__blk_link(b, head);
		if (k->cls)
			*pt__key_word(b) = pt__free_key;
		head = b;
	}
	k->free = head;
	k->ncarved = k->nblocks;
}

/*
 * Release the file pages of the victims meshed so far: sorted, so that
 * adjacent ones go in one call (a victim's page is never mapped again
 * before its pool is taken from its arena, under the lock this round
 * holds, so the release can wait until the round's end).
 */
static void punch_flush(void)
{
	uint64_t *v = M.punch;
	unsigned n = M.npunch;
	for (unsigned gap = n / 2; gap > 0; gap /= 2)   /* Shell sort: no libc qsort here */
		for (unsigned i = gap; i < n; i++)
			for (unsigned j = i; j >= gap && v[j - gap] > v[j]; j -= gap) {
				uint64_t t = v[j];
				v[j] = v[j - gap];
				v[j - gap] = t;
			}
	for (unsigned i = 0; i < n;) {
		unsigned j = i + 1;
		while (j < n && v[j] == v[j - 1] + PT_POOL_SIZE)
			j++;
		pt__os_punch(pt__g.mesh_fd, v[i], (size_t)(j - i) * PT_POOL_SIZE);
		i = j;
	}
	M.npunch = 0;
}

static void punch_later(uint64_t off)
{
	if (M.npunch == MESH_PUNCHES)
		punch_flush();
	M.punch[M.npunch++] = off;
}

/* Merge victim v into kept k: the metadata, after the bytes and the
 * mapping (mesh_run). */
static void merge(struct pt_heap *h, struct mesh_cand *k, struct mesh_cand *v)
{
	struct pt_pool *kp = k->p, *vp = v->p;
	uint64_t both[MESH_WORDS];
	for (unsigned w = 0; w < MESH_WORDS; w++)
		both[w] = k->bm[w] | v->bm[w];
	rebuild_free_list(kp, both);
	kp->nused = (int16_t)(kp->nused + PT_NUSED(vp));
	pt__avail_unlink(h, vp);
	vp->free = NULL;
	vp->nused = 0;
	vp->alias = kp;
	/* the alias before the state and the owner, which other threads'
	 * frees read first (pt__pool_canon, remote_push) */
	__atomic_store_n(&vp->state, PT_POOL_MESHED, __ATOMIC_RELEASE);
	__atomic_store_n(&vp->owner, NULL, __ATOMIC_RELEASE);   /* pt__free_full: see there */
	/* vp's own victims (mesh_run remapped them) are kp's now, after vp on
	 * kp's chain: one hop always */
	struct pt_pool *chain = first_meshed(vp), *tail = vp;
	vp->mesh_first = 0;
	vp->next = chain;
	for (struct pt_pool *x = chain; x; x = x->next) {
		x->alias = kp;
		tail = x;
	}
	tail->next = first_meshed(kp);
	kp->mesh_first = pool_ref(vp);
	pt__g.meshed_now++;
	pt__g.meshes++;
	pt_assert(pt__pool_valid(kp));
}

/*
 * The pools meshed into v (a single victim that was kept before) show v's
 * page: map k's file page at their addresses too (or, to undo, v's own:
 * back), the first n of them.  False at the first refusal, *done telling
 * how many went.
 */
static bool remap_subs(struct pt_pool *v, uint64_t off, unsigned n, unsigned *done)
{
	unsigned i = 0;
	for (struct pt_pool *x = first_meshed(v); x && i < n; x = x->next, i++)
		if (pt__os_map_file_at((void *)pt__pool_base(x), PT_POOL_SIZE, pt__g.mesh_fd, off, true)) {
			*done = i;
			return false;
		}
	*done = i;
	return true;
}

static void protect_subs(struct pt_pool *v, bool writable)
{
	for (struct pt_pool *x = first_meshed(v); x; x = x->next)
		pt__os_protect((void *)pt__pool_base(x), PT_POOL_SIZE, writable);
}

/*
 * Mesh the n victims v[0..n) into the kept pools k[0..n) (all the caller's;
 * each pair of one class, live sets disjoint).  The victims are adjacent
 * pages and so are the kept ones, so that one mmap maps the kept run's file
 * pages over the victims' run, and the kernel keeps one mapping for it
 * (vm.max_map_count, and the cost of an mmap, grow with the mappings).  A
 * single victim may have victims of its own (remap_subs).  False if the
 * kernel refused: nothing changed but the kept pools' free lists, rebuilt
 * from their own sets.
 */
static bool mesh_run(struct pt_heap *h, struct mesh_cand **k, struct mesh_cand **v, unsigned n)
{
	uintptr_t kb = pt__pool_base(k[0]->p), vb = pt__pool_base(v[0]->p);
	size_t len = (size_t)n * PT_POOL_SIZE;
	struct pt_pool *v0 = v[0]->p;
	pt_assert(n == 1 || !v0->mesh_first);

	/* other threads' writes into the victims wait from here to the remap
	 * (at every address that shows their pages) */
	if (M.threaded && pt__os_protect((void *)vb, len, false)) {
		pt__g.mesh_failed++;   /* the mapping limit, say */
		return false;
	}
	if (M.threaded)
		protect_subs(v0, false);
	for (unsigned j = 0; j < n; j++) {
		size_t size = k[j]->p->size;
		char *kp = (char *)kb + (size_t)j * PT_POOL_SIZE, *vp = (char *)vb + (size_t)j * PT_POOL_SIZE;
		for (unsigned w = 0; w < MESH_WORDS; w++)
			for (uint64_t bits = v[j]->bm[w]; bits; bits &= bits - 1) {
				size_t off = ((size_t)w * 64 + (unsigned)__builtin_ctzll(bits)) * size;
				memcpy(kp + off, vp + off, size);
			}
	}
	unsigned subs = 0, back;
	bool ok = remap_subs(v0, kb - pt__region_base, ~0u, &subs);
	if (!ok || pt__os_map_file_at((void *)vb, len, pt__g.mesh_fd, kb - pt__region_base, true)) {
		remap_subs(v0, vb - pt__region_base, subs, &back);   /* undo */
		if (M.threaded) {
			pt__os_protect((void *)vb, len, true);
			protect_subs(v0, true);
		}
		for (unsigned j = 0; j < n; j++)
			rebuild_free_list(k[j]->p, k[j]->bm);
		pt__g.mesh_failed++;
		return false;
	}
	pt__g.mesh_remaps += 1 + subs;
	for (unsigned j = 0; j < n; j++) {
		punch_later(vb + (size_t)j * PT_POOL_SIZE - pt__region_base);
		merge(h, k[j], v[j]);
	}
	return true;
}

/* ---- a round ------------------------------------------------------------ */

static unsigned nvictims(const struct pt_pool *p)
{
	unsigned n = 0;
	for (const struct pt_pool *x = first_meshed(p); x; x = x->next)
		n++;
	return n;
}

/* The candidates by address: an open-addressing table of indices + 1. */
static uint32_t *cand_table;
#define CAND_TABLE (2 * MESH_CANDIDATES)   /* at most */

static unsigned table_size;   /* this round's: a power of two >= 2 n */

static unsigned slot_of(uintptr_t base)
{
	return (unsigned)((base >> PT_POOL_SHIFT) * 0x9e3779b1u) & (table_size - 1);
}

/* The candidate at base, if it is one and was not taken this round. */
static struct mesh_cand *cand_at(uintptr_t base)
{
	for (unsigned i = slot_of(base); cand_table[i]; i = (i + 1) & (table_size - 1)) {
		struct mesh_cand *m = &M.cand[cand_table[i] - 1];
		if (m->base == base)
			return m->p ? m : NULL;
	}
	return NULL;
}

/*
 * Extend the pair (k, v) into a run: while the pools after both are
 * candidates of one class (any class), not taken, disjoint, the victim
 * without victims, and the two runs do not overlap.  Returns the length.
 */
static unsigned extend_run(struct mesh_cand **k, struct mesh_cand **v, unsigned max)
{
	uintptr_t kb = pt__pool_base(k[0]->p), vb = pt__pool_base(v[0]->p);
	unsigned n = 1;
	while (n < max) {
		uintptr_t kn = kb + (size_t)n * PT_POOL_SIZE, vn = vb + (size_t)n * PT_POOL_SIZE;
		/* runs apart: [kb, kn] and [vb, vn] must not meet */
		if ((kb < vb && kn >= vb) || (vb < kb && vn >= kb))
			break;
		struct mesh_cand *a = cand_at(kn), *b = cand_at(vn);
		if (!a || !b || a->p->cls != b->p->cls || b->p->mesh_first ||
		    !disjoint(a->bm, b->bm))
			break;
		k[n] = a;
		v[n] = b;
		n++;
	}
	return n;
}

enum { RUN_MAX = 64 };

/* A class's candidates: M.cand[lo, hi). */
struct segment {
	unsigned lo, hi;
};

/*
 * The candidates of h's classes (USED pools of the file, not the head, at
 * most MESH_MAX_FULL % full; at most cap in all, shared out between the
 * classes that have pools, from next_class on: a timed round looks at a
 * few classes, the next round at the next ones), each class's shuffled,
 * and the table that finds them by address.  Returns the classes with two
 * candidates or more.
 */
static unsigned collect(struct pt_heap *h, unsigned cap, struct segment *seg)
{
	unsigned nc = pt__g.nclasses, with = 0, n = 0, nseg = 0, k;
	for (unsigned c = 0; c < nc; c++)
		with += h->avail[c] != &pt__sentinel_pool && h->avail[c]->next != h->avail[c];
	unsigned per = with ? cap / with : cap;
	if (per < 256)
		per = 256;
	for (k = 0; k < nc && n + per <= cap; k++) {
		unsigned c = (M.next_class + k) % nc, nb = pt__class_nblocks(c), lo = n;
		struct pt_pool *head = h->avail[c];
		if (head == &pt__sentinel_pool)
			continue;
		for (struct pt_pool *p = head->next; p != head && n < lo + per; p = p->next) {
			if (p->state != PT_POOL_USED || p->pinned ||
			    !pt__arena_of(pt__pool_base(p))->in_file ||
			    PT_NUSED(p) * 100 > nb * MESH_MAX_FULL)
				continue;
			struct mesh_cand *m = &M.cand[n];
			int used = live_blocks(p, m->bm);
			if (used <= 0)
				continue;
			m->p = p;
			m->base = pt__pool_base(p);
			m->used = (unsigned)used;
			n++;
		}
		if (n - lo < 2)
			continue;
		for (unsigned i = n - lo - 1; i > 0; i--) {   /* Fisher-Yates */
			unsigned j = (unsigned)(rnd() % (i + 1));
			struct mesh_cand t = M.cand[lo + i];
			M.cand[lo + i] = M.cand[lo + j];
			M.cand[lo + j] = t;
		}
		seg[nseg++] = (struct segment){ lo, n };
	}
	M.next_class = (M.next_class + k) % nc;
	for (table_size = 64; table_size < 2 * n; table_size *= 2)
		;
	memset(cand_table, 0, table_size * sizeof *cand_table);
	for (unsigned i = 0; i < n; i++) {
		unsigned s = slot_of(M.cand[i].base);
		while (cand_table[s])
			s = (s + 1) & (table_size - 1);
		cand_table[s] = i + 1;
	}
	return nseg;
}

/*
 * SplitMesher's step for candidate l: the first of MESH_PROBES partners
 * from right[start] on (wrapping) whose live blocks miss l's, meshed with
 * l, grown into a run where the pools after both pair up too.  The victim
 * is the one with fewer pools meshed into it (each needs a remap), else
 * the emptier.  Returns the pools meshed, or -1 once the budget is spent.
 */
static int pair_up(struct pt_heap *h, struct mesh_cand *l, struct mesh_cand *right,
                   unsigned nr, unsigned start)
{
	for (unsigned t = 0; t < MESH_PROBES && t < nr; t++) {
		struct mesh_cand *r = &right[(start + t) % nr];
		if (!r->p || !disjoint(l->bm, r->bm))
			continue;
		if (pt__g.meshed_now >= pt__g.mesh_budget)
			return -1;
		unsigned room = (unsigned)(pt__g.mesh_budget - pt__g.meshed_now);
		struct mesh_cand *kr[RUN_MAX], *vr[RUN_MAX];
		unsigned nk = nvictims(l->p), nv = nvictims(r->p);
		bool swap = nv > nk || (nv == nk && r->used > l->used);
		kr[0] = swap ? r : l;
		vr[0] = swap ? l : r;
		unsigned len = vr[0]->p->mesh_first ? 1
		             : extend_run(kr, vr, room < RUN_MAX ? room : RUN_MAX);
		bool ok = mesh_run(h, kr, vr, len);
		for (unsigned j = 0; j < len; j++)   /* one mesh per pool per round */
			kr[j]->p = vr[j]->p = NULL;
		return ok ? (int)len : 0;
	}
	return 0;
}

/* A round over h's pools: per class, SplitMesher (the candidates shuffled,
 * split in two halves, each of the left half paired up with the right).
 * Returns the pools meshed, at most about max. */
static size_t mesh_round(struct pt_heap *h, size_t max, unsigned cap)
{
	struct segment seg[PT_NCLASSES_MAX];
	unsigned nseg = collect(h, cap, seg);
	size_t done = 0;
	for (unsigned g = 0; g < nseg && done < max; g++) {
		unsigned cnt = seg[g].hi - seg[g].lo, nl = cnt / 2;
		struct mesh_cand *left = M.cand + seg[g].lo;
		for (unsigned i = 0; i < nl && done < max; i++) {
			int got = left[i].p ? pair_up(h, &left[i], left + nl, cnt - nl, i) : 0;
			if (got < 0)
				return done;
			done += (unsigned)got;
		}
	}
	return done;
}

/* Mesh h's pools (h is the caller's): at most max. */
size_t pt__mesh_heap(struct pt_heap *h, size_t max)
{
	extern char __libc_single_threaded __attribute__((weak));
	size_t done = 0;
	sigset_t old;

	if (pt__g.mesh_fd < 0 || pt__tl_locked)
		return 0;
	pt__os_signals_block(&old);   /* no handler of ours runs mid-mesh */
	pt__lock();
	/* alone, nobody else can write: no protection needed */
	M.threaded = &__libc_single_threaded == NULL || !__libc_single_threaded;
	if (M.threaded)
		pt__barrier_begin();
	if (!M.cand) {
		void *m;
		size_t sz = MESH_CANDIDATES * sizeof *M.cand, sp = MESH_PUNCHES * sizeof *M.punch;
		if (pt__os_map(sz + sp + CAND_TABLE * sizeof *cand_table, &m) == 0) {
			M.cand = m;
			M.punch = (uint64_t *)((char *)m + sz);
			cand_table = (uint32_t *)((char *)m + sz + sp);
		}
	}
	if (M.cand) {
		unsigned cap = max < (size_t)-1 ? MESH_TIMED_CANDIDATES : MESH_CANDIDATES;
		if (h != &pt__empty_heap) {   /* a thread that never allocated has none */
			pt__heap_collect(h, true);
			done = mesh_round(h, max, cap);
		}
		/* the heaps of exited threads too: nobody changes their pools
		 * but under this lock (a remote free into one collects it
		 * there); not a fork orphan's, which may be half-updated */
		for (struct pt_heap *a = pt__g.abandoned; a && done < max; a = a->abandoned_next)
			if (atomic_load(&a->abandoned) == 1) {
				pt__heap_collect(a, true);
				done += mesh_round(a, max - done, cap);
			}
		punch_flush();
		pt__g.mesh_rounds++;
	}
	if (M.threaded)
		pt__barrier_end();
	pt__g.mesh_last_ms = pt__os_now_ms();
	pt__unlock();
	pt__os_signals_restore(&old);
	return done;
}

/* Every MESH_TICK slow paths of h's mallocs (a new pool, a carve, a
 * collect): a round if the last one is MESH_PERIOD_MS old. */
void pt__mesh_maybe(struct pt_heap *h)
{
	if (pt__g.mesh_fd < 0) {
		h->mesh_tick = UINT32_MAX;
		return;
	}
	h->mesh_tick = MESH_TICK;
	if (pt__os_now_ms() - pt__g.mesh_last_ms < MESH_PERIOD_MS)
		return;
	pt__mesh_heap(h, MESH_ROUND_MAX);
}

size_t pt_mesh(void)
{
	size_t total = 0, n;
	if (!atomic_load(&pt__g.initialised))
		pt__init_slow();
	if (pt__g.mesh_fd < 0)
		return 0;
	/* each round merges pairs; merged pools may pair again in the next */
	while ((n = pt__mesh_heap(pt__tl_heap, (size_t)-1)) > 0)
		total += n;
	/* the rounds' scratch memory (MBs for a large heap) back, but what a
	 * timed round uses */
	pt__lock();
	if (M.cand) {
		size_t keep = MESH_TIMED_CANDIDATES * sizeof *M.cand;
		pt__os_purge((char *)M.cand + keep, MESH_CANDIDATES * sizeof *M.cand - keep);
		size_t tkeep = 2 * MESH_TIMED_CANDIDATES * sizeof *cand_table;
		pt__os_purge((char *)cand_table + tkeep, CAND_TABLE * sizeof *cand_table - tkeep);
	}
	pt__unlock();
	return total;
}

/*
 * kept has no block in use: return each pool meshed into it to its arena.
 * Its address keeps showing kept's page until the pool is taken again
 * (stale: pt__arena_take_pool_unlocked maps its own page back then), or
 * its arena is unmapped: a program that frees what it meshed pays no
 * remap (scatter: 1.70 -> 1.59 s).  Nothing uses a free pool's address
 * meanwhile.
 */
void pt__mesh_release_unlocked(struct pt_pool *kept)
{
	/* its free list may hold blocks at the victims' addresses: it starts
	 * afresh, as an empty pool may (no block of it is out) */
	pt_assert(PT_NUSED(kept) == 0);
	kept->free = NULL;
	kept->ncarved = 0;
	struct pt_pool *next;
	for (struct pt_pool *v = first_meshed(kept); v; v = next) {
		pt_assert(v->state == PT_POOL_MESHED && v->alias == kept);
		next = v->next;
		v->next = NULL;
		v->alias = NULL;
		v->state = PT_POOL_EMPTY;
		v->stale = 1;
		pt__arena_give_pool_unlocked(v);
		pt__g.meshed_now--;
		pt__g.unmeshes++;
	}
	kept->mesh_first = 0;
}

void pt_mesh_stats(struct pt_mesh_stats *st)
{
	if (!atomic_load(&pt__g.initialised))
		pt__init_slow();
	pt__lock();
	*st = (struct pt_mesh_stats){
		.on = pt__g.mesh_fd >= 0, .error = pt__g.mesh_error,
		/* a fork child's arenas are private: each page its own again */
		.meshed_now = pt__g.mesh_fd >= 0 ? pt__g.meshed_now : 0, .meshes = pt__g.meshes,
		.unmeshes = pt__g.unmeshes, .rounds = pt__g.mesh_rounds,
		.failed = pt__g.mesh_failed, .budget = pt__g.mesh_budget,
		.remaps = pt__g.mesh_remaps,
	};
	pt__unlock();
}

/* ---- fork --------------------------------------------------------------- */

static void protect_arenas(bool writable)
{
	for (struct pt_arena *a = pt__g.all; a; a = a->all_next)
		if (a->in_file)
			pt__os_protect(a, PT_ARENA_SIZE, writable);
}

/*
 * Before fork, with pt__g.lock held when there are threads: the arenas of
 * the file write-protected, then copied into private memory, which the
 * child inherits.  If that memory cannot be had, the child copies for
 * itself (the parent still waits, its heap still protected).
 */
void pt__mesh_fork_prepare(void)
{
	size_t n = 0;
	M.fork_copy = NULL;
	M.fork_on = false;
	if (pt__g.mesh_fd < 0)
		return;
	pt__barrier_begin();
	protect_arenas(false);
	M.fork_on = true;
	M.fork_parent = pt__os_pid();
	atomic_fetch_add(&M.sync->seq, 1);
	atomic_store(&M.fork_child_pending, 1);
	for (struct pt_arena *a = pt__g.all; a; a = a->all_next)
		n += a->in_file;
	void *m;
	if (n && pt__os_map_populated(n * PT_ARENA_SIZE, &m) == 0) {
		char *d = m;
		for (struct pt_arena *a = pt__g.all; a; a = a->all_next)
			if (a->in_file) {
				memcpy(d, a, PT_ARENA_SIZE);
				d += PT_ARENA_SIZE;
			}
		M.fork_copy = m;
		M.fork_len = n * PT_ARENA_SIZE;
	}
}

/* In the parent: wait until the child's heap is its own, then write again. */
void pt__mesh_fork_parent(void)
{
	if (!M.fork_on)
		return;
	atomic_store(&M.fork_child_pending, 0);
	/* the child's word, at most FORK_WAIT_MS */
	uint32_t seq = atomic_load(&M.sync->seq), t0 = pt__os_now_ms(), cur;
	while ((cur = atomic_load(&M.sync->done)) != seq && pt__os_now_ms() - t0 < FORK_WAIT_MS)
		pt__os_futex_wait(&M.sync->done, cur, true, 50);
	protect_arenas(true);
	if (M.fork_copy)
		pt__os_unmap(M.fork_copy, M.fork_len);
	M.fork_copy = NULL;
	M.fork_on = false;
	pt__barrier_end();
}

/*
 * Private arenas from now on: copies moved over the arenas of the file
 * (those in copies, made by pt__mesh_fork_prepare, else one at a time),
 * and the file closed.  Meshed pools become pages of their own with the
 * same bytes: each block is still used at the one address it was handed
 * out at, so nothing changes for the program, but the memory meshing gave
 * back is taken again.
 */
static void make_private(char *copies)
{
	for (struct pt_arena *a = pt__g.all; a; a = a->all_next) {
		if (!a->in_file)
			continue;
		if (copies) {
			pt__os_move(copies, a, PT_ARENA_SIZE);
			copies += PT_ARENA_SIZE;
			continue;
		}
		void *m;
		if (pt__os_map(PT_ARENA_SIZE, &m) == 0) {
			memcpy(m, a, PT_ARENA_SIZE);
			pt__os_move(m, a, PT_ARENA_SIZE);
		}
	}
	pt__os_close(pt__g.mesh_fd);
	pt__g.mesh_fd = -1;
}

/* The child's heap becomes its own, at its first write to it (a fault) or
 * in its fork handler, whichever comes first; then the parent may go on. */
static void child_own_heap(void)
{
	if (!atomic_exchange(&M.fork_child_pending, 0))
		return;
	make_private(M.fork_copy);
	M.fork_copy = NULL;
	M.fork_on = false;
	pt__barrier_reset();
	atomic_store(&M.sync->done, atomic_load(&M.sync->seq));
	pt__os_futex_wake(&M.sync->done, true);
}

bool pt__mesh_fork_child_fault(void)
{
	if (!atomic_load(&M.fork_child_pending) || pt__os_pid() == M.fork_parent)
		return false;
	child_own_heap();
	return true;
}

void pt__mesh_fork_child(void)
{
	child_own_heap();
}
