/*
 * python_objects.c - which live blocks are Python objects, and of which
 * type (python.h): the PT_EXT_PYTYPE and PT_EXT_PYOBJECTS records that
 * `leaks --by type` and `report --by type` read.  Twice, when every event
 * is recorded: when the interpreter begins to finalize (a census of every
 * live block, taken by the thread that finalizes at its first allocation
 * after that: what the program's code left, before finalization frees
 * most of it, cycles the collector was kept from included), and at exit
 * (the blocks the leak scan classified: what finalization left).
 *
 * A block holds an object at one of the offsets an object may have in it:
 * 0, or after the collector's header (16 bytes), or after that and the
 * two words of a managed dict (3.11 on: 32).  The word where the object's
 * type would be must be a type object the interpreter knows, which a
 * stray value cannot be:
 *   - it lies in a writable segment of a loaded module (static types:
 *     list, dict, an extension's) or 16 bytes into a live block (heap
 *     types, the classes of Python code, after their collector's header);
 *   - its own type is the interpreter's PyType_Type, or a type of the same
 *     kind whose type is (a metaclass);
 *   - its flags say it is a heap type exactly when it lies in a block, and
 *     ready if so (finalization un-readies static ones, 3.12 on); its
 *     sizes are sane;
 *   - the offset of the object in its block is the one its flags give
 *     (the collector's header, the managed dict), and its fixed part fits.
 * The first offset that holds such a type pointer is the object's place;
 * the object counts if it is alive (a free list's dead objects have no
 * references left).  Its type's name (tp_name) is read with
 * process_vm_readv, which fails cleanly.
 * Each candidate type is checked once.  The blocks are read directly: the
 * leak scan holds the locks that keep them (leakscan.c).
 */
#include <link.h>
#include <string.h>
#include <sys/uio.h>

#include "../allocator/pool_alloc.h"
#include "heapscan.h"
#include "python.h"
#include "rec_internal.h"
#include "unwind.h"

#define TYPES_MAX     (1u << 16)
#define NAME_MAX_     128

#define TPF_HEAPTYPE  (1ul << 9)
#define TPF_READY     (1ul << 12)
#define TPF_HAVE_GC   (1ul << 14)
#define TPF_PREHEADER (1ul << 3 | 1ul << 4)   /* managed weakref (3.12 on), dict (3.11 on) */

struct tcache {                  /* candidate type pointer -> type id, or 0 */
	uintptr_t t;
	uint32_t id;                  /* TYPES_MAX + 1: not a type */
};

struct count {                   /* (info, class, type) -> objects, bytes */
	uint64_t key;
	uint64_t objects, bytes;
};

static struct {
	pid_t pid;                    /* the process the type ids are for */
	int census_done;
	struct tcache *tc;            /* for one scan */
	size_t tc_mask, tc_used;
	struct count *cnt;            /* for one scan */
	size_t cnt_mask, ncnt;
	unsigned when;                /* of the scan: PT_PYOBJ_* */
	char (*name)[NAME_MAX_];      /* by type id, from 1, for the process */
	uint32_t ntypes, nwritten;    /* ids defined, and written */
	size_t tc_bytes, cnt_bytes;
} O;

#define NAME_BYTES ((size_t)TYPES_MAX * NAME_MAX_)

static inline uintptr_t ld(uintptr_t a)
{
	return *(const uintptr_t *)a;
}

static struct hs_ctx part[2];    /* the blocks, as one or two sorted parts */
static const uintptr_t *segs;    /* writable module segments, lo and hi */
static unsigned nsegs;

/* t lies in a writable module segment, with room for a type object (no
 * t + 200: a word such as -200 read as a type pointer would wrap) */
static int in_segment(uintptr_t t)
{
	for (unsigned i = 0; i < nsegs; i++)
		if (t >= segs[2 * i] && t < segs[2 * i + 1] && segs[2 * i + 1] - t >= 200)
			return 1;
	return 0;
}

/* t is 16 bytes into a live block with room for a heap type object */
static int in_block(uintptr_t t)
{
	for (int k = 0; k < 2; k++) {
		long i = hs_find(&part[k], t);
		if (i >= 0)
			return part[k].b[i].start + 16 == t && part[k].b[i].size >= 16 + 400;
	}
	return 0;
}

/* The type at t, of the kind its memory says: heap or not, sane, ready if
 * a heap type (3.12 on, finalization un-readies the static ones). */
static int type_shape(uintptr_t t, int heap)
{
	unsigned long flags = ld(t + PT_PY_TP_FLAGS);
	long basic = (long)ld(t + PT_PY_TP_BASICSIZE), item = (long)ld(t + PT_PY_TP_ITEMSIZE);
	return (!heap || (flags & TPF_READY)) && !!(flags & TPF_HEAPTYPE) == heap &&
	       basic >= 16 && basic < (1l << 24) && item >= 0 && item < (1l << 16);
}

static int known_type(uintptr_t t, int depth)
{
	if (!t || (t & 7))
		return 0;
	int heap = in_block(t);
	if (!heap && !in_segment(t))
		return 0;
	if (!type_shape(t, heap))
		return 0;
	uintptr_t meta = ld(t + PT_PY_OB_TYPE);
	return meta == pt__py.type_type || (depth == 0 && known_type(meta, 1));
}

/* tp_name, read safely; 0 if it is no printable string */
static int type_name(uintptr_t t, char *out)
{
	uintptr_t p = ld(t + PT_PY_TP_NAME);
	struct iovec l = { out, NAME_MAX_ - 1 }, r = { (void *)p, NAME_MAX_ - 1 };
	/* the name may end near the end of a mapping: read less then */
	for (size_t n = NAME_MAX_ - 1; n >= 8; n /= 2) {
		l.iov_len = r.iov_len = n;
		if (syscall(SYS_process_vm_readv, getpid(), &l, 1UL, &r, 1UL, 0UL) == (ssize_t)n)
			break;
		l.iov_len = 0;
	}
	if (!l.iov_len)
		return 0;
	out[l.iov_len] = 0;
	size_t len = strnlen(out, l.iov_len);
	if (!len || len == l.iov_len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			return 0;
	return 1;
}

/* The id of the type at t (checked once), 0 if it is none. */
static uint32_t type_id(uintptr_t t)
{
	size_t i = (size_t)((t >> 3) * 0x9e3779b97f4a7c15ull >> 40) & O.tc_mask;
	while (O.tc[i].t && O.tc[i].t != t)
		i = (i + 1) & O.tc_mask;
	if (O.tc[i].t)
		return O.tc[i].id <= TYPES_MAX ? O.tc[i].id : 0;
	uint32_t id = TYPES_MAX + 1;
	if (O.ntypes + 1 < TYPES_MAX && known_type(t, 0) && type_name(t, O.name[O.ntypes + 1]))
		id = ++O.ntypes;
	if (2 * ++O.tc_used <= O.tc_mask + 1)   /* full: candidates are checked again */
		O.tc[i] = (struct tcache){ t, id };
	return id <= TYPES_MAX ? id : 0;
}

static unsigned presize(uintptr_t t)
{
	unsigned long flags = ld(t + PT_PY_TP_FLAGS);
	unsigned minor = pt__py.L->minor;
	return (flags & TPF_HAVE_GC ? 16 : 0) +
	       (minor >= 11 && (flags & (minor >= 12 ? TPF_PREHEADER : 1ul << 4)) ? 16 : 0);
}

static void count(uint32_t info, unsigned cls, uint32_t type, uint64_t bytes)
{
	uint64_t key = (uint64_t)info << 32 | (uint64_t)cls << 24 | type;
	size_t i = (size_t)(key * 0x9e3779b97f4a7c15ull >> 40) & O.cnt_mask;
	while (O.cnt[i].key && O.cnt[i].key != key)
		i = (i + 1) & O.cnt_mask;
	if (!O.cnt[i].key) {
		if (2 * (O.ncnt + 1) > O.cnt_mask + 1)
			return;   /* full: that many (allocation, type) pairs are not told */
		O.cnt[i].key = key;
		O.ncnt++;
	}
	O.cnt[i].objects++;
	O.cnt[i].bytes += bytes;
}

/* a table's slots for n keys, at most max */
static size_t pow2_above(size_t n, size_t max)
{
	size_t c = 1024;
	while (c < 2 * n && c < max)
		c *= 2;
	return c;
}

/* Type ids and names hold for one trace: a fork child's starts anew. */
static void reset_if_forked(void)
{
	if (O.pid == pt__rcfg.pid)
		return;
	O.pid = pt__rcfg.pid;
	O.ntypes = O.nwritten = 0;
	O.census_done = 0;
}

/* c: the blocks, sorted by address from index sorted on (the live map lists
 * the allocator's region in address order, and glibc's blocks in none) */
static void scan(const struct hs_ctx *c, size_t sorted, const uintptr_t *seg, unsigned nseg,
                 unsigned when)
{
	static const unsigned cls_of[] = { [HS_UNSEEN] = 0, [HS_REACHABLE] = PT_LEAK_REACHABLE,
	                                   [HS_INDIRECT] = PT_LEAK_INDIRECT,
	                                   [HS_DIRECT] = PT_LEAK_DEFINITE };
	reset_if_forked();
	O.ncnt = 0;
	O.when = when;
	if (atomic_load(&pt__py.state) != PT_PY_ON || !pt__py.L || !c->n)
		return;
	part[0] = (struct hs_ctx){ .b = c->b, .n = sorted };
	part[1] = (struct hs_ctx){ .b = c->b + sorted, .n = c->n - sorted };
	segs = seg;
	nsegs = nseg;
	O.tc_mask = pow2_above(3 * c->n, 1u << 20) - 1;
	O.tc_used = 0;
	O.cnt_mask = pow2_above(c->n, 1u << 21) - 1;
	O.tc_bytes = (O.tc_mask + 1) * sizeof *O.tc;
	O.cnt_bytes = (O.cnt_mask + 1) * sizeof *O.cnt;
	O.tc = pt__map(O.tc_bytes, 1);
	O.cnt = pt__map(O.cnt_bytes, 1);
	if (!O.name)
		O.name = pt__map(NAME_BYTES, 1);
	if (!O.tc || !O.cnt || !O.name)
		return;
	for (size_t i = 0; i < c->n; i++) {
		const struct hs_block *b = &c->b[i];
		for (unsigned off = 0; off <= 32; off += 16) {
			uintptr_t o = b->start + off;
			if (off + 16 > b->size || (off == 32 && pt__py.L->minor < 11))
				break;
			uintptr_t t = ld(o + PT_PY_OB_TYPE);
			uint32_t id = type_id(t);
			if (!id)
				continue;
			/* the object's place: counted if it is alive (a dead one,
			 * in a free list, has no references) and fits */
			uint64_t refs = ld(o);
			if (refs && !(refs >> 48) && presize(t) == off &&
			    ld(t + PT_PY_TP_BASICSIZE) <= b->size - off)
				count(b->info, when == PT_PYOBJ_EXIT ? cls_of[b->state] : 0, id, b->size);
			break;
		}
	}
}

void pt__pyobj_scan(const struct hs_ctx *c, const uintptr_t *seg, unsigned nseg)
{
	scan(c, 0, seg, nseg, PT_PYOBJ_EXIT);
}

/* Append a finished record of extended type ext, fields [body, end), to
 * out; the length prefix goes in front of the fields. */
static uint8_t *put_ext(uint8_t *out, unsigned ext, const uint8_t *body, const uint8_t *end)
{
	struct pt_r_ext h = { .ext = ext, .len = (uint64_t)(end - body) };
	uint8_t *p = pt_enc_type(out, PT_REC_EXT);
	PT_ENCODE(p, &h, PT_FIELDS_EXT);
	memmove(p, body, h.len);
	return p + h.len;
}

void pt__pyobj_write_locked(void)
{
	static uint8_t rec[40 << 10], body[36 << 10];
	if (!O.ncnt)
		goto out;
	/* the type names not written yet, in chunks of their own */
	uint8_t *p = rec;
	for (uint32_t id = O.nwritten + 1; id <= O.ntypes; id++) {
		const char *n = O.name[id];
		struct pt_r_ext_pytype r = { .id = id, .name = (const uint8_t *)n, .name_len = strlen(n) };
		uint8_t *b = body;
		PT_ENCODE(b, &r, PT_FIELDS_EXT_PYTYPE);
		p = put_ext(p, PT_EXT_PYTYPE, body, b);
		if (p > rec + (32 << 10) || id == O.ntypes) {
			pt__rfile_write0_locked(atomic_load(&pt__rec_seq), rec, (size_t)(p - rec));
			p = rec;
		}
	}
	/* the objects, about 32 KiB a record */
	size_t i = 0;
	while (i <= O.cnt_mask) {
		struct pt_r_ext_pyobjects head = { .seq = pt__rec_next_seq(), .when = O.when };
		uint8_t *b = body, *count_at;
		PT_ENCODE(b, &head, PT_FIELDS_EXT_PYOBJECTS);
		count_at = b;
		b = pt_enc_count_open(b);
		uint64_t n = 0;
		for (; i <= O.cnt_mask && b < body + (32 << 10); i++) {
			const struct count *e = &O.cnt[i];
			if (!e->key)
				continue;
			struct pt_r_pyobject r = {
				.info = (uint32_t)(e->key >> 32), .cls = (uint32_t)(e->key >> 24) & 255,
				.type = (uint32_t)e->key & 0xffffff, .objects = e->objects, .bytes = e->bytes,
			};
			PT_ENCODE(b, &r, PT_FIELDS_PYOBJECT);
			n++;
		}
		b = pt_enc_count_close(count_at, b, n);
		p = put_ext(rec, PT_EXT_PYOBJECTS, body, b);
		pt__rfile_write0_locked(head.seq, rec, (size_t)(p - rec));
	}
	O.nwritten = O.ntypes;
out:
	if (O.tc)
		pt__unmap(O.tc, O.tc_bytes);
	if (O.cnt)
		pt__unmap(O.cnt, O.cnt_bytes);
	O.tc = NULL;
	O.cnt = NULL;
	O.ncnt = 0;
}

/* ---- the census when the interpreter begins to finalize -------------------- */

#define SEGS_MAX 4096

/* The writable segments of the loaded modules but ours, as the exit scan
 * takes them, from dl_iterate_phdr directly: pt__modules_each's callers
 * must not run at once (the main program's path is a static), and the
 * snapshot thread, which lists the modules too, still runs now.
 * dl_iterate_phdr takes the loader's lock and does not allocate. */
static int writable_segments(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t *s = arg, self = (uintptr_t)&writable_segments;
	(void)size;
	if (info->dlpi_addr && info->dlpi_addr == pt__unwind_base())
		return 0;   /* our private libunwind */
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && self - (info->dlpi_addr + ph->p_vaddr) < ph->p_memsz)
			return 0;   /* libpooltrace.so: no type object lies there */
	}
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && ph->p_memsz && s[0] < SEGS_MAX) {
			s[1 + 2 * s[0]] = info->dlpi_addr + ph->p_vaddr;
			s[2 + 2 * s[0]] = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
			s[0]++;
		}
	}
	return 0;
}

void pt__pyobj_census(void)
{
	reset_if_forked();
	/* once: the thread that holds the GIL calls, but the flag is taken
	 * atomically all the same (3.12's subinterpreters have a GIL each, and
	 * which thread holds it is read without a lock) */
	if (pt__rcfg.sample || __atomic_exchange_n(&O.census_done, 1, __ATOMIC_ACQ_REL))
		return;
	size_t sbytes = (1 + 2 * SEGS_MAX) * sizeof(uintptr_t);
	uintptr_t *seg = pt__map(sbytes, 0);
	if (!seg)
		return;
	dl_iterate_phdr(writable_segments, seg);   /* the loader's lock: before ours */
	pt__rlive_lock();
	int locked = pt_arenas_lock(1);   /* no arena goes away */
	uint32_t ninfo = pt__rinfo_count();
	size_t n = pt__rlive_blocks(NULL, 0, ninfo);
	size_t bsz = ((n ? n : 1) * sizeof(struct hs_block) + 4095) & ~(size_t)4095;
	struct hs_ctx c = { .b = pt__map(bsz, 0) };
	if (c.b) {
		c.n = pt__rlive_blocks(c.b, n, ninfo);
		size_t k = 1;   /* the part in address order: the region's, sorted already */
		while (k < c.n && c.b[k - 1].start < c.b[k].start)
			k++;
		hs_sort(c.b + k, c.n - k);
		scan(&c, k, seg + 1, (unsigned)seg[0], PT_PYOBJ_FINALIZING);
	}
	if (locked > 0)
		pt_arenas_unlock();
	pt__rlive_unlock();
	pt__rfile_lock();
	pt__pyobj_write_locked();
	pt__rfile_unlock();
	if (c.b)
		pt__unmap(c.b, bsz);
	pt__unmap(seg, sbytes);
}
