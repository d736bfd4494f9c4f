/*
 * rec_file.c - the trace file: its name, header and chunks (zstd frames
 * that span chunks), and the module maps written on the shared stream.
 *
 * The file is created at the first chunk written, so that a child that
 * only execs leaves none, and reopened for each write (no descriptor of
 * ours stays open in the host, whose children may count theirs).  Any
 * failure stops profiling with one line; the host runs on.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/uio.h>

#define ZSTD_STATIC_LINKING_ONLY   /* ZSTD_initStaticCCtx: no malloc inside */
#include <zstd.h>

#include "../allocator/pool_alloc.h"
#include "fmt.h"
#include "modules.h"
#include "options.h"
#include "rec_internal.h"
#include "unwind.h"

#define ZSTD_LEVEL    5
#define ZBUF_IN_MAX   (1u << 20)        /* bigger chunks are written raw */
#define ZSTD_FRAME    (64u << 20)       /* raw bytes per zstd frame */
#define MOD_MAX_X     4096              /* executable segments remembered */

atomic_uint pt__rec_mod_gen, pt__rec_epoch;

static struct {
	struct pt_lock lock;       /* creation, every chunk written */
	int cancel_state;          /* the holder's, restored at unlock */
	int created;               /* the file exists (path is absolute then) */
	int failed;
	char path[1100];
	/* compression of chunks */
	ZSTD_CCtx *zc;
	uint8_t *zbuf;
	size_t zcap;
	uint64_t zframe;           /* raw bytes in the current frame; 0: new */
} F = { .lock = PT_LOCK_INIT(PT_RANK_FILE) };

/* The module map the trace holds: the loader's counters when it was
 * listed, and the executable segments it covers. */
static struct {
	struct pt_lock lock;
	uint64_t adds, subs;
	unsigned nx;
	uintptr_t x_lo[MOD_MAX_X], x_hi[MOD_MAX_X];
} M = { .lock = PT_LOCK_INIT(PT_RANK_MODULES) };

static void write_modules_locked(void);

int pt__rfile_init(void)
{
	size_t zws = ZSTD_estimateCStreamSize(ZSTD_LEVEL);
	void *zw = pt__map(zws, 0);
	F.zcap = ZSTD_compressBound(ZBUF_IN_MAX) + 1024;
	F.zbuf = pt__map(F.zcap, 0);
	F.zc = zw && F.zbuf ? ZSTD_initStaticCCtx(zw, zws) : NULL;   /* none: raw chunks */
	return 0;
}

/*
 * The file's lock.  Its holder opens, writes and closes the file, all
 * cancellation points: a thread cancelled there (inside the program's
 * malloc, whose buffer was full) would leave the lock held for ever.  So
 * the holder runs with cancellation disabled.
 */
void pt__rfile_lock(void)
{
	int old;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	pt__lock_acquire(&F.lock);
	F.cancel_state = old;
}

int pt__rfile_trylock(void)
{
	int old;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	if (pt__lock_try(&F.lock)) {
		pthread_setcancelstate(old, NULL);
		return -1;
	}
	F.cancel_state = old;
	return 0;
}

void pt__rfile_unlock(void)
{
	int old = F.cancel_state;
	pt__lock_release(&F.lock);
	pthread_setcancelstate(old, NULL);
}

int pt__rfile_created(void)
{
	return F.created;
}

static const char *errname(int e)
{
	switch (e) {
	case ENOSPC: return "no space left on device";
	case EDQUOT: return "disk quota exceeded";
	case EACCES: return "permission denied";
	case EPERM: return "operation not permitted";
	case ENOENT: return "no such directory";
	case ENOTDIR: return "a path component is not a directory";
	case EEXIST: return "file exists";
	case ELOOP: return "is a symbolic link";
	case EMFILE: return "too many open files";
	case ENFILE: return "too many open files in system";
	case EROFS: return "read-only file system";
	case EFBIG: return "file too large";
	case EIO: return "input/output error";
	case ENAMETOOLONG: return "file name too long";
	case EISDIR: return "is a directory";
	default: return "error";
	}
}

void pt__rfile_fail(const char *what, int e)
{
	int was = pt__rec_on;
	pt__rec_set_on(0);
	if (was || !F.failed)
		pt__dprintf(2, "pooltrace: warning: %s %s: %s (errno %d); profiling stopped, "
		            "the program runs on\n", what, F.path[0] ? F.path : "trace file",
		            errname(e), e);
	F.failed = 1;
}

/* Expand POOLTRACE_OUTPUT: %p pid, %e program name, %t start time (s), %%. */
static void expand_path(char *out, size_t cap, const char *pat)
{
	extern char *program_invocation_short_name;
	size_t o = 0;
	for (const char *s = pat; *s && o + 1 < cap; s++) {
		char tmp[64];
		const char *ins = NULL;
		if (*s == '%' && s[1]) {
			s++;
			if (*s == 'p')
				pt__fmt(tmp, sizeof tmp, "%d", (int)getpid()), ins = tmp;
			else if (*s == 'e')
				ins = program_invocation_short_name && *program_invocation_short_name
				      ? program_invocation_short_name : "unknown";
			else if (*s == 't')
				pt__fmt(tmp, sizeof tmp, "%llu",
				        (unsigned long long)(pt__rcfg.t0_real / 1000000000u)), ins = tmp;
			else if (*s == '%')
				ins = "%";
			else {
				tmp[0] = '%', tmp[1] = *s, tmp[2] = 0;
				ins = tmp;
			}
			for (; *ins && o + 1 < cap; ins++)
				out[o++] = *ins == '/' && s[0] == 'e' ? '_' : *ins;
			continue;
		}
		out[o++] = *s;
	}
	out[o] = 0;
}

static int write_full(int fd, const struct iovec *iov, int n, size_t total)
{
	ssize_t w;
	do
		w = writev(fd, iov, n);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return errno;
	return (size_t)w == total ? 0 : ENOSPC;
}

/* The header of this process's trace. */
static void fill_header(struct pt_trace_header *h)
{
	memset(h, 0, sizeof *h);
	memcpy(h->magic, PT_TRACE_MAGIC, 8);
	h->version = PT_TRACE_VERSION;
	h->pid = (uint32_t)getpid();
	h->ppid = (uint32_t)getppid();
	h->start_realtime_ns = pt__rcfg.t0_real;
	h->start_monotonic_ns = pt__rcfg.t0_mono;
	h->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	h->flags = pt__rcfg.forked ? PT_TRACE_F_FORKED : 0;
	uint64_t u = __atomic_load_n(&pt__rec_unrecorded, __ATOMIC_RELAXED);
	h->unrecorded = u > UINT32_MAX ? UINT32_MAX : (uint32_t)u;
	h->sample_bytes = pt__rcfg.sample;
	h->depth = pt__rcfg.depth;
	h->interval_ms = pt__opt.interval_ms;
	h->align = pt_align();
	h->arena_size = PT_ARENA_SIZE;
	h->pool_size = PT_POOL_SIZE;
	h->small_max = PT_SMALL_MAX;
	h->nclasses = pt_nclasses();
	for (unsigned c = 0; c < h->nclasses && c < PT_TRACE_MAX_CLASSES; c++)
		h->class_size[c] = (uint32_t)pt_class_size(c);
}

/* Create the file and write its header; the lock held.  0 or an errno. */
static int create_locked(void)
{
	char base[sizeof F.path - 8];
	expand_path(base, sizeof base, pt__opt.output);
	int fd = -1;
	for (int i = 0; i < 100; i++) {
		if (i == 0)
			pt__fmt(F.path, sizeof F.path, "%s", base);
		else
			pt__fmt(F.path, sizeof F.path, "%s.%d", base, i);
		fd = open(F.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND | O_CLOEXEC,
		          0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		return errno;
	/* reopened for each write: the path must not depend on the current
	 * directory, which the host may change */
	if (F.path[0] != '/') {
		char abs[sizeof F.path];
		if (getcwd(abs, sizeof abs) &&
		    pt__fmt(abs + strlen(abs), sizeof abs - strlen(abs), "/%s", F.path) <
		    sizeof abs - strlen(abs))
			memcpy(F.path, abs, strlen(abs) + 1);
	}

	struct pt_trace_header h;
	fill_header(&h);
	static char exe[4096];
	ssize_t el = readlink("/proc/self/exe", exe, sizeof exe);
	h.exe_len = el > 0 ? (uint32_t)el : 0;
	/* argv from /proc/self/cmdline: NUL after each argument */
	static char args[8192];
	ssize_t al = 0;
	int cfd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (cfd >= 0) {
		ssize_t r;
		while (al < (ssize_t)sizeof args &&
		       (r = read(cfd, args + al, sizeof args - (size_t)al)) > 0)
			al += r;
		close(cfd);
		while (al > 0 && args[al - 1] != 0)   /* cut at an argument's end */
			al--;
	}
	h.args_len = (uint32_t)al;
	h.header_size = (uint32_t)(sizeof h + h.exe_len + h.args_len);

	struct iovec iov[3] = {
		{ &h, sizeof h }, { exe, h.exe_len }, { args, h.args_len },
	};
	int e = write_full(fd, iov, 3, h.header_size);
	close(fd);
	if (e)
		return e;
	F.created = 1;
	pt__opt_note_trace(F.path);   /* for pooltrace run */
	write_modules_locked();
	return 0;
}

/* Compress data into F.zbuf, continuing the frame (the reader has all
 * chunks before this one), ending at a flush point.  The stored length,
 * with c's flags set, or 0 if it is to be written raw. */
static uint32_t compress_locked(struct pt_chunk_header *c, const uint8_t *data, uint32_t len)
{
	if (!F.zc || len > ZBUF_IN_MAX)
		return 0;
	if (F.zframe == 0 || F.zframe > ZSTD_FRAME) {
		ZSTD_CCtx_reset(F.zc, ZSTD_reset_session_only);
		ZSTD_CCtx_setParameter(F.zc, ZSTD_c_compressionLevel, ZSTD_LEVEL);
		c->flags = PT_CHUNK_F_ZSTD_NEW;
		F.zframe = 0;
	}
	ZSTD_inBuffer in = { data, len, 0 };
	ZSTD_outBuffer out = { F.zbuf, F.zcap, 0 };
	size_t r;
	do
		r = ZSTD_compressStream2(F.zc, &out, &in, ZSTD_e_flush);
	while (!ZSTD_isError(r) && r != 0 && out.pos < out.size);
	if (ZSTD_isError(r) || r != 0) {   /* cannot happen: zcap is the bound */
		F.zframe = 0;
		c->flags = 0;
		return 0;
	}
	c->flags |= PT_CHUNK_F_ZSTD;
	F.zframe += len;
	return (uint32_t)out.pos;
}

/* Append one chunk to the file, which exists; the lock held.  0, or -1
 * after pt__rfile_fail. */
static int write_raw_locked(uint32_t stream, uint32_t tid, uint64_t first_seq,
                            const uint8_t *data, uint32_t len)
{
	if (F.failed)
		return -1;
	struct pt_chunk_header c = {
		.magic = PT_CHUNK_MAGIC, .stream = stream, .tid = tid, .stored = len,
		.raw = len, .first_seq = first_seq,
	};
	uint32_t z = compress_locked(&c, data, len);
	if (z) {
		data = F.zbuf;
		c.stored = z;
	}
	c.sum = pt_trace_sum(data, c.stored);
	c.hsum = pt_trace_sum(&c, offsetof(struct pt_chunk_header, hsum));
	struct iovec iov[2] = { { &c, sizeof c }, { (void *)data, c.stored } };
	int e, fd = open(F.path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		pt__rfile_fail("cannot open trace file", errno);
		return -1;
	}
	e = write_full(fd, iov, 2, sizeof c + c.stored);
	close(fd);
	if (e) {
		pt__rfile_fail("cannot write trace file", e);
		return -1;
	}
	return 0;
}

int pt__rfile_write_locked(uint32_t stream, uint32_t tid, uint64_t first_seq,
                           const uint8_t *data, uint32_t len)
{
	if (F.failed)
		return -1;
	if (!F.created) {   /* first: creation writes a chunk of its own */
		int e = create_locked();
		if (e) {
			pt__rfile_fail("cannot create trace file", e);
			return -1;
		}
	}
	if (pt__rinfo_write_locked())
		return -1;
	return write_raw_locked(stream, tid, first_seq, data, len);
}

int pt__rfile_write_defs_locked(const uint8_t *data, size_t len)
{
	/* first_seq: the counter now, not 0, which would make a reader load
	 * every chunk before this one at once */
	return write_raw_locked(0, (uint32_t)pt__gettid(),
	                        atomic_load_explicit(&pt__rec_seq, memory_order_relaxed),
	                        data, (uint32_t)len);
}

int pt__rfile_write0_locked(uint64_t seq, const uint8_t *data, size_t len)
{
	return pt__rfile_write_locked(0, (uint32_t)pt__gettid(), seq, data, (uint32_t)len);
}

/* ---- module maps -------------------------------------------------------------- */

struct mod_ctx {
	uint8_t *p, *end;
	unsigned count;
	int overflow;
};

static int mod_list_cb(const struct pt_module_view *mv, void *arg)
{
	struct mod_ctx *m = arg;
	unsigned nseg = 0;
	for (unsigned i = 0; i < mv->phnum; i++)
		nseg += mv->phdr[i].p_type == PT_LOAD;
	struct pt_r_module r = {
		.base = mv->base, .path = (const uint8_t *)mv->path, .path_len = mv->path_len,
		.build_id = mv->build_id, .build_id_len = mv->build_id_len, .nseg = nseg,
	};
	size_t need = PT_FIELDS_MAX(PT_FIELDS_MODULE) + mv->path_len + mv->build_id_len +
	              nseg * PT_FIELDS_MAX(PT_FIELDS_SEGMENT);
	if (m->overflow || need > (size_t)(m->end - m->p)) {
		m->overflow = 1;
		return 1;
	}
	PT_ENCODE(m->p, &r, PT_FIELDS_MODULE);
	for (unsigned i = 0; i < mv->phnum; i++) {
		const ElfW(Phdr) *ph = &mv->phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		struct pt_r_segment s = { ph->p_vaddr, ph->p_memsz, ph->p_flags };
		PT_ENCODE(m->p, &s, PT_FIELDS_SEGMENT);
		if ((ph->p_flags & PF_X) && M.nx < MOD_MAX_X) {
			M.x_lo[M.nx] = mv->base + ph->p_vaddr;
			M.x_hi[M.nx] = M.x_lo[M.nx] + ph->p_memsz;
			M.nx++;
		}
	}
	m->count++;
	return 0;
}

/*
 * Re-read the module list into a MODULES record on stream 0; the file's
 * lock held (and the file open).  Called at file creation and when the
 * loader's add/remove counters moved.
 */
static void write_modules_locked(void)
{
	pt__lock_acquire(&M.lock);
	uint64_t adds, subs;
	pt__modules_counters(&adds, &subs);
	if (subs != M.subs) {
		atomic_fetch_add(&pt__rec_epoch, 1);   /* addresses may be reused now */
		pt__unwind_forget();                   /* and their unwind rules differ */
	}
	M.adds = adds;
	M.subs = subs;
	unsigned gen = atomic_fetch_add(&pt__rec_mod_gen, 1) + 1;

	enum { HEAD = PT_FIELDS_MAX(PT_FIELDS_MODULES) + 1 };
	for (size_t cap = 1u << 20; cap <= (64u << 20); cap *= 4) {
		uint8_t *buf = pt__map(cap, 0);
		if (!buf)
			break;
		struct mod_ctx m = { buf + HEAD, buf + cap, 0, 0 };
		M.nx = 0;
		pt__modules_each(mod_list_cb, &m);
		if (m.overflow && cap < (64u << 20)) {
			pt__unmap(buf, cap);
			continue;
		}
		/* the head goes in front of the list, which is now counted */
		struct pt_r_modules r = { .seq = pt__rec_next_seq(), .gen = gen, .count = m.count };
		uint8_t head[HEAD], *h = pt_enc_type(head, PT_REC_MODULES);
		PT_ENCODE(h, &r, PT_FIELDS_MODULES);
		size_t hl = (size_t)(h - head);
		uint8_t *start = buf + HEAD - hl;
		memcpy(start, head, hl);
		pt__rfile_write0_locked(r.seq, start, (size_t)(m.p - start));
		pt__unmap(buf, cap);
		break;
	}
	pt__lock_release(&M.lock);
}

static int ip_known(uintptr_t ip)
{
	if (ip & PT_FRAME_PY_BIT)
		return 1;   /* a Python frame or a mark: no module */
	for (unsigned i = 0; i < M.nx; i++)
		if (ip >= M.x_lo[i] && ip < M.x_hi[i])
			return 1;
	return 0;
}

/* The loader's counters moved since the last module record? */
static int modules_changed(void)
{
	uint64_t adds, subs;
	pt__modules_counters(&adds, &subs);
	return adds != M.adds || subs != M.subs;
}

void pt__rfile_modules_refresh(void)
{
	pt__rfile_lock();
	if (F.created && !F.failed && modules_changed())
		write_modules_locked();
	pt__rfile_unlock();
}

void pt__rfile_modules_check(void *const *ip, int n)
{
	for (int i = 0; i < n; i++)
		if (!ip_known((uintptr_t)ip[i])) {
			if (F.created && modules_changed())
				pt__rfile_modules_refresh();
			return;
		}
}

/* ---- fork ---------------------------------------------------------------------- */

void pt__rfile_fork_prepare(void)
{
	pt__lock_acquire(&F.lock);
	pt__lock_acquire(&M.lock);
}

void pt__rfile_fork_parent(void)
{
	pt__lock_release(&M.lock);
	pt__lock_release(&F.lock);
}

/* The child writes a file of its own, created at its first flush. */
void pt__rfile_fork_child(void)
{
	pt__lock_reinit(&M.lock);
	pt__lock_reinit(&F.lock);
	F.created = 0;
	F.path[0] = 0;
	F.zframe = 0;   /* the child's file starts its own frames */
}
