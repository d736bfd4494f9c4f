/*
 * unwind.c - the stack walk by cfi.c's rules and their caches, and
 * libunwind, loaded privately, for the stacks the walk leaves (unwind.h).
 *
 * libunwind.so exports the unwinder ABI of libgcc_s (_Unwind_RaiseException,
 * _Unwind_Resume, _Unwind_GetLanguageSpecificData, ...) besides its own
 * API.  As a dependency of a preloaded library it would sit in the global
 * scope ahead of libgcc_s, and whatever the program loads later binds to
 * it: libgcc_s's own unwinder, which glibc runs to cancel a thread, then
 * calls libunwind's accessors with a libgcc context, and a thread cancelled
 * inside fputs leaves its stream locked.  Static linking would keep the
 * symbols hidden, but Debian's libunwind.a is not built
 * position-independent.  So the library does not depend on libunwind at
 * all: the constructor opens it with RTLD_LOCAL when POOLTRACE_DEBUG or
 * POOLTRACE_PROFILE needs stacks, where nothing else can bind to it, and
 * the stack capture calls it through a pointer (unwind.h).
 */
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "cfi.h"
#include "common.h"
#include "fmt.h"
#include "unwind.h"

#ifndef PT_UNWIND_SO
#define PT_UNWIND_SO "libunwind.so.8"   /* the soname of libunwind-dev's libunwind.so */
#endif

#define STR_(x) #x
#define STR(x) STR_(x)   /* a name after libunwind.h's renaming macros */

int (*pt__unw_backtrace)(void **buf, int size);
static void rules_map(void);
static uintptr_t loaded_base;            /* its load bias, 0 until loaded */

uintptr_t pt__unwind_base(void)
{
	return loaded_base;
}
static int (*policy_fn)(unw_addr_space_t, unw_caching_policy_t);
static unw_addr_space_t *local_as;   /* libunwind's unw_local_addr_space */

void pt__unwind_cache_per_thread(void)
{
	int (*fn)(unw_addr_space_t, unw_caching_policy_t) =
		__atomic_load_n(&policy_fn, __ATOMIC_ACQUIRE);
	if (fn)
		fn(*local_as, UNW_CACHE_PER_THREAD);
}

int pt__unwind_load(void)
{
	static int tried, ok;
	if (tried)
		return ok ? 0 : -1;
	tried = 1;
	void *h = dlopen(PT_UNWIND_SO, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		pt__dprintf(2, "pooltrace: warning: cannot load %s (%s): stacks are not "
		            "recorded\n", PT_UNWIND_SO, e ? e : "?");
		return -1;
	}
	void *bt = dlsym(h, "unw_backtrace");
	void *pol = dlsym(h, STR(unw_set_caching_policy));
	local_as = (unw_addr_space_t *)dlsym(h, STR(unw_local_addr_space));
	if (!bt || !pol || !local_as) {
		pt__dprintf(2, "pooltrace: warning: %s lacks unw_backtrace: stacks are not "
		            "recorded\n", PT_UNWIND_SO);
		return -1;
	}
	__atomic_store_n(&policy_fn, (int (*)(unw_addr_space_t, unw_caching_policy_t))pol,
	                 __ATOMIC_RELEASE);
	struct link_map *lm = NULL;
	if (dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm)
		loaded_base = lm->l_addr;
	rules_map();
	__atomic_store_n(&pt__unw_backtrace, (int (*)(void **, int))bt, __ATOMIC_RELEASE);
	ok = 1;
	return 0;
}

/* ---- our own walk ------------------------------------------------------------- */

/*
 * The rules by code address: a table of slots read without a lock, each a
 * key (the address, with the generation in its top 16 bits) and a rule.
 * A writer claims a slot by exchanging its key for BUSY, writes the rule,
 * then the key (release); a reader loads the key (acquire), the rule, and
 * the key again, and takes the rule only if both keys are the one it
 * wants (a seqlock of one slot).  The table is mapped when libunwind is:
 * until then, and if that fails, every walk is libunwind's.
 */
#define RULE_BITS   13                 /* 8,192 slots of 16 bytes */
#define RULE_PROBES 4
#define RULE_BUSY   1u                 /* no key: keys have a generation bit set */
#define GEN_SHIFT   48                 /* a key's generation, above a user address */
#define FRAME_MAX   ((uintptr_t)1 << 20)   /* the largest frame the walk takes */

struct rule_slot {
	_Atomic uint64_t key;
	_Atomic uint64_t rule;   /* rule_pack's word */
};

static struct rule_slot *rules;
static _Atomic uint64_t rules_gen = 1;   /* 1..65535 */

/* none: every walk is libunwind's */
static void rules_map(void)
{
	rules = pt__map(sizeof *rules << RULE_BITS, 1);
}

void pt__unwind_forget(void)
{
	uint64_t g = atomic_load_explicit(&rules_gen, memory_order_relaxed);
	atomic_store_explicit(&rules_gen, g == 0xffff ? 1 : g + 1, memory_order_relaxed);
}

/* A table's slot for pc: the top bits of a multiplicative hash. */
static inline size_t pc_slot(uintptr_t pc, unsigned bits)
{
	return (size_t)((pc * 0x9e3779b97f4a7c15u) >> (64 - bits));
}

/* A rule in one word, read with shifts: the CFA's offset in bits 0-31,
 * RBP's in 32-47, the return address's (in words) in 48-55, the kind in
 * 56-63. */
static uint64_t rule_pack(struct pt_cfi_rule r)
{
	return (uint64_t)(uint32_t)r.cfa_off | (uint64_t)(uint16_t)r.rbp_off << 32 |
	       (uint64_t)(uint8_t)r.ra_off8 << 48 | (uint64_t)r.kind << 56;
}

static __attribute__((noinline)) uint64_t rule_miss(uintptr_t pc, uint64_t gen_bits)
{
	uint64_t v = rule_pack(pt__cfi_rule(pc));
	size_t h = pc_slot(pc, RULE_BITS);
	struct rule_slot *victim = &rules[h];
	for (unsigned i = 0; i < RULE_PROBES; i++) {
		struct rule_slot *s = &rules[(h + i) & ((1u << RULE_BITS) - 1)];
		uint64_t k = atomic_load_explicit(&s->key, memory_order_relaxed);
		if (k == 0 || (k != RULE_BUSY && (k >> GEN_SHIFT) << GEN_SHIFT != gen_bits)) {
			victim = s;   /* empty, or of an older generation */
			break;
		}
	}
	uint64_t old = atomic_load_explicit(&victim->key, memory_order_relaxed);
	if (old != RULE_BUSY &&
	    atomic_compare_exchange_strong(&victim->key, &old, (uint64_t)RULE_BUSY)) {
		atomic_store_explicit(&victim->rule, v, memory_order_relaxed);
		atomic_store_explicit(&victim->key, pc | gen_bits, memory_order_release);
	}
	return v;
}

static inline uint64_t rule_of(uintptr_t pc, uint64_t gen_bits)
{
	uint64_t key = pc | gen_bits;
	size_t h = pc_slot(pc, RULE_BITS);
	for (unsigned i = 0; i < RULE_PROBES; i++) {
		struct rule_slot *s = &rules[(h + i) & ((1u << RULE_BITS) - 1)];
		if (atomic_load_explicit(&s->key, memory_order_acquire) != key)
			continue;
		uint64_t v = atomic_load_explicit(&s->rule, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&s->key, memory_order_relaxed) == key)
			return v;
	}
	return rule_miss(pc, gen_bits);
}

extern void *__libc_stack_end;

/* The top of the stack that sp is on: a thread's descriptor sits right
 * above its stack (glibc puts it there, on stacks it allocates and on
 * stacks given to it); the main thread's stack ends at __libc_stack_end.
 * 0: neither. */
static inline uintptr_t stack_top(uintptr_t sp)
{
	uintptr_t self = (uintptr_t)pthread_self();
	if (self > sp && self - sp < ((uintptr_t)1 << 30))
		return self;
	uintptr_t main_top = (uintptr_t)__libc_stack_end;
	return main_top > sp ? main_top : 0;
}

/* The rule of a frame the memo did not have: the thread's table, then the
 * shared one. */
static inline uint64_t rule_far(struct pt_unwind_memo *memo, uintptr_t look,
                                uint64_t gen_bits)
{
	if (!memo)
		return rule_of(look, gen_bits);
	uint64_t key = look | gen_bits;
	__typeof__(memo->near[0]) *e = &memo->near[pc_slot(look, PT_UNWIND_NEAR_BITS)];
	if (e->key != key) {
		e->rule = rule_of(look, gen_bits);
		e->key = key;
	}
	return e->rule;
}

/* A frame's CFA and the address of its return address, by rule r. */
#define RULE_KIND(r)   ((unsigned)((r) >> 56))
#define RULE_CFA(r, sp, bp) \
	((RULE_KIND(r) == PT_CFI_RSP ? (sp) : (bp)) + (uintptr_t)(intptr_t)(int32_t)(r))
#define RULE_RA_AT(r, cfa) ((cfa) + (uintptr_t)(intptr_t)(int8_t)((r) >> 48) * 8)
#define RULE_BP_OFF(r) ((int16_t)((r) >> 32))

/* The first of frames f[j..last) whose words (its saved return address,
 * and the saved RBP a later frame's CFA came from) are not what the walk
 * read; last if none. */
static inline int first_changed(const struct pt_unwind_frame *f, int j, int last)
{
	for (int i = j; i < last; i++) {
		if (f[i].ra_at && *(const uintptr_t *)f[i].ra_at != f[i].ra)
			return i;
		if (f[i].bp_at && *(const uintptr_t *)f[i].bp_at != f[i].bp)
			return i;
	}
	return last;
}

/*
 * The last walk's frames again?  Its result followed from where it began
 * (the stack pointer, and RBP if a frame's CFA came from it before any
 * frame restored it), the rules (the same generation) and the words it
 * read: the saved return addresses, and the saved RBPs that a frame's CFA
 * came from (RBP is a register like any other in code without frame
 * pointers: the values it saves for its caller change from call to call
 * and matter to no frame).  If all of them are the same now, so are the
 * frames, and none of its checks need be made again: its reads lie
 * between the same stack pointer and the same top.  Returns the frames,
 * or 0.
 */
static inline int walk_again(void **ip, int max, const struct pt_unwind_memo *memo,
                             uintptr_t pc, uintptr_t sp, uintptr_t bp)
{
	int k = memo->n;
	const struct pt_unwind_frame *f = memo->f[memo->last] + memo->base;
	if (k != memo->frames || max != memo->max || sp != memo->sp0 ||
	    (f[0].bp_in_used && bp != memo->bp0) || first_changed(f, 0, k) != k)
		return 0;
	if (memo->want_same)
		return k;   /* the caller keeps them */
	ip[0] = (void *)pc;
	for (int i = 1; i < k; i++)
		ip[i] = (void *)(f[i].look + 1);
	return k;
}

/*
 * The last walk's outer frames again?  A frame the walk reached at the
 * stack address and code address of the last walk's frame j has the
 * same frames above it if every word that walk read from frame j on is
 * unchanged, and no frame from j on took its CFA from an RBP that came
 * from below j (bp_in_used: that RBP is not compared).  The walk above j
 * must have ended by itself (not cut by its depth, all its frames in the
 * memo).  Returns the index of the first frame that differs, or last (the
 * memo's frame count) if none does.
 */
static inline int walk_rest_differs(const struct pt_unwind_frame *f, int j, int last)
{
	return f[j].bp_in_used ? j : first_changed(f, j, last);
}

/* Which of frames f[0..m) take their CFA from an RBP that comes from
 * below them, outermost first; used: whether f[m] does. */
static void bp_in_mark(struct pt_unwind_frame *f, int m, int used)
{
	for (struct pt_unwind_frame *e = f + m; e-- > f;) {
		unsigned kind = RULE_KIND(e->rule);
		used = kind == PT_CFI_RBP || (!RULE_BP_OFF(e->rule) && kind >= PT_CFI_RSP && used);
		e->bp_in_used = used;
	}
}

/* The memo's walk from now on: frames f[last ^ flip][base .. base + kept)
 * of a walk that found frames, cut at max or not.  Returns frames. */
static inline int memo_set(struct pt_unwind_memo *memo, int flip, int base, int kept,
                           int frames, int cut)
{
	memo->last ^= flip;
	memo->base = base;
	memo->n = kept;
	memo->frames = frames;
	memo->cut = cut;
	return frames;
}

__attribute__((noinline)) int pt__unwind_walk(void **ip, int max, struct pt_unwind_memo *memo)
{
	/* a walk that returns -1 leaves the memo empty: the caller's record
	 * of what the memo's walk found (the recorder's stack id) must not
	 * outlive it */
	if (memo)
		memo->same = 0;
	if (!rules)
		goto none;
	uintptr_t pc, sp, bp;
	__asm__ volatile("lea 0f(%%rip), %0\n\t"
	                 "mov %%rsp, %1\n\t"
	                 "mov %%rbp, %2\n"
	                 "0:"
	                 : "=r"(pc), "=r"(sp), "=r"(bp));
	uintptr_t top = stack_top(sp);
	if (!top)
		goto none;
	uint64_t gen_bits = atomic_load_explicit(&rules_gen, memory_order_relaxed) << GEN_SHIFT;
	/* the last walk's frames, ascending: w passes those below sp */
	const struct pt_unwind_frame *w0 = NULL, *w = NULL, *wend = NULL;
	struct pt_unwind_frame *now = NULL, *nw = NULL, *nend = NULL;
	int rest_from = INT32_MAX;   /* its frames from which the rest may be the same */
	if (memo) {
		if (memo->gen_bits == gen_bits && memo->top == top && memo->n > 0) {
			int k = walk_again(ip, max, memo, pc, sp, bp);
			if (k) {
				memo->same = 1;
				return k;
			}
			w = w0 = memo->f[memo->last] + memo->base;
			wend = w + memo->n;
			if (memo->n == memo->frames && !memo->cut)
				rest_from = 1;   /* frame 0 was just compared */
		}
		memo->gen_bits = gen_bits;
		memo->top = top;
		memo->n = 0;   /* until this walk ends */
		memo->max = max;
		memo->sp0 = sp;
		memo->bp0 = bp;
		now = nw = memo->f[memo->last ^ 1];
		nend = now + PT_UNWIND_MEMO;
	}
	/* the RBP the frames see: the one the walk began with (bp_src NULL),
	 * or the last restored, by frame bp_src from bp_src_at; the walk again
	 * compares it only if a frame's CFA came from it */
	struct pt_unwind_frame *bp_src = NULL;
	uintptr_t bp_src_at = 0;
	uintptr_t look = pc;   /* the current frame's pc; a caller's is its return address - 1 */
	int n = 0, cut = 1;
	while (n < max) {
		ip[n++] = (void *)pc;
		uint64_t r;
		while (w < wend && w->sp < sp)
			w++;
		if (w < wend && w->sp == sp && w->look == look) {
			r = w->rule;
			int j = (int)(w - w0);
			if (j >= rest_from) {
				int d = walk_rest_differs(w0, j, (int)(wend - w0));
				int walked_n = n - 1;
				if (d == (int)(wend - w0)) {
					/* the rest is the last walk's: frames j.. */
					int more = (int)(wend - w) - 1;
					if (more > max - n)
						more = max - n;
					else
						cut = 0;
					for (int i = 1; i <= more; i++)
						ip[n++] = (void *)(w[i].look + 1);
					if (memo) {
						int m = (int)(nw - now);   /* the frames walked */
						bp_in_mark(now, m, w->bp_in_used);
						struct pt_unwind_frame *kept = memo->f[memo->last];
						int at = (int)(w - kept) - m;
						if (m == walked_n && at >= 0) {
							/* the new memo: the frames walked, in
							 * front of the kept ones, where they are */
							memcpy(kept + at, now, (size_t)m * sizeof *kept);
							return memo_set(memo, 0, at, m + more + 1, n, cut);
						}
						/* no room in front of them: both into the other
						 * array, at its end, with room in front for the
						 * next walk's */
						int keep = more + 1 < PT_UNWIND_MEMO - m ? more + 1
						                                         : PT_UNWIND_MEMO - m;
						at = PT_UNWIND_MEMO - keep - m;
						memcpy(now + PT_UNWIND_MEMO - keep, w, (size_t)keep * sizeof *now);
						memmove(now + at, now, (size_t)m * sizeof *now);
						return memo_set(memo, 1, at, m + keep, n, cut);
					}
					goto done;
				}
				rest_from = d + 1;
			}
		} else {
			r = rule_far(memo, look, gen_bits);
		}
		struct pt_unwind_frame *e = nw < nend ? nw++ : NULL;
		if (e) {
			e->sp = sp;
			e->look = look;
			e->rule = r;
			e->bp_at = 0;
		}
		unsigned kind = RULE_KIND(r);
		if (kind < PT_CFI_RSP) {
			if (kind == PT_CFI_LAST) {
				if (e)
					e->ra_at = 0;   /* nothing read */
				cut = 0;
				break;
			}
			return -1;
		}
		uintptr_t cfa = RULE_CFA(r, sp, bp), ra_at = RULE_RA_AT(r, cfa);
		/* every read inside [sp, top): the offsets are negative (cfi.c),
		 * and the stack grows down, frame by frame; and a frame larger
		 * than FRAME_MAX is libunwind's, which checks each page it reads
		 * (a stack off the thread's own, a coroutine's on the heap, has
		 * other mappings, or none, between it and top) */
		if (cfa <= sp || cfa > top || cfa - sp > FRAME_MAX || ra_at < sp)
			return -1;
		if (kind == PT_CFI_RBP && bp_src) {
			bp_src->bp_at = bp_src_at;
			bp_src->bp = bp;
		}
		int16_t bp_off = RULE_BP_OFF(r);
		if (bp_off) {
			uintptr_t bp_at = cfa + (uintptr_t)(intptr_t)bp_off;
			if (bp_at < sp)
				return -1;
			bp = *(const uintptr_t *)bp_at;
			bp_src = e;
			bp_src_at = bp_at;
		}
		pc = *(const uintptr_t *)ra_at;
		if (e) {
			e->ra_at = ra_at;
			e->ra = pc;
		}
		sp = cfa;
		if (pc == 0) {
			cut = 0;
			break;
		}
		if (pc >> 47)
			return -1;   /* above user space's 47 bits: a key would hold the generation */
		look = pc - 1;
	}
	if (memo)
		bp_in_mark(now, (int)(nw - now), 0);
done:
	if (memo)
		memo_set(memo, 1, 0, (int)(nw - now), n, cut);
	return n;
none:
	if (memo)
		memo->n = 0;
	return -1;
}
