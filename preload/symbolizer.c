/*
 * symbolizer.c - `pooltrace symbolize` run for a debug report
 * (symbolizer.h).
 *
 * A report is an error path: the process aborts after it, or goes on in
 * warn mode.  Running a helper there is what ASan does; it is done with
 * what is safe in any state of the host program: no allocation (the
 * buffers are one private mapping, made on the first report), no stdio,
 * no fork handlers (clone runs none: the program's pthread_atfork handlers
 * stay out of it), and write, read, poll and waitpid on descriptors of our
 * own, with a deadline.
 *
 * The exchange: each address the loader knows becomes one line of the
 * tool's standard input, `"MODULE" 0xADDRESS BUILD-ID`, the address of its
 * call (the return address - 1) in the file's own numbering, and the build
 * id of the file loaded, so that a file rebuilt since is not read; the tool
 * answers each line with the frames' lines and an empty line.  Its warnings
 * come on its standard error.  Anything short of a complete answer and
 * exit status 0 is a failure.
 *
 * The tool is not a child of the program.  A child made as vfork makes it
 * (clone with CLONE_VM | CLONE_VFORK, on a stack of its own in the
 * mapping) but with no exit signal starts it the same way, then exits; we
 * reap that child with __WALL, which only such a wait sees: the program
 * gets no SIGCHLD and its own waitpid(-1) (a SIGCHLD handler's) finds
 * nothing of ours.  The tool, orphaned, is reaped by init, or by the
 * nearest subreaper: when that is this process (PR_SET_CHILD_SUBREAPER,
 * or pid 1) we reap it too, and the program does get that SIGCHLD.
 * All signals are blocked across the clones (a handler of the program must
 * not run in a child that shares its memory); before execve
 * it puts its descriptors in place, makes its own process group (killed as
 * a whole at the deadline: a script's children too), sets the program's
 * handlers back to the default and unblocks signals.  Its environment is
 * the program's without LD_PRELOAD and POOLTRACE_*: the tool runs on its
 * own, not under this library.  Standard input is a socket, written with
 * MSG_NOSIGNAL: a tool that dies early cannot kill the program with
 * SIGPIPE.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "fmt.h"
#include "modules.h"
#include "options.h"
#include "symbolizer.h"

#define IN_CAP     (64u << 10)    /* the question */
#define OUT_CAP    (256u << 10)   /* the answer */
#define ERR_CAP    4096u          /* the tool's standard error, its start */
#define LINES_MAX  2048u          /* frames in an answer */
#define NOTES_MAX  8u
#define ENV_MAX    1024u
#define PATH_CAP   4096u
#define STACK_CAP  (64u << 10)    /* the tool's, until execve */
#define MSTACK_CAP (16u << 10)    /* the child's between us and the tool */

extern char **environ;

static struct state {
	char tool[PATH_CAP];      /* found once */
	char in[IN_CAP];
	size_t inlen;
	char out[OUT_CAP];
	size_t outlen;
	char err[ERR_CAP];
	size_t errlen;
	const char *line[LINES_MAX];
	const char *note[NOTES_MAX];
	char *env[ENV_MAX];
	char *argv[3];
	int fd[3];                /* the tool's 0, 1, 2 */
	pid_t tool_pid;           /* set by the child between */
	_Alignas(16) char stack[STACK_CAP];
	_Alignas(16) char mstack[MSTACK_CAP];
	const uintptr_t *ip;      /* the addresses asked */
	unsigned n;
	int asked[PT_SYMB_MAX];   /* the input line of address i; -1: not asked */
	unsigned nasked;
	struct pt_symb res;
} *S;

static pid_t owner;               /* the thread using S; 0: none */
static char failed[512];          /* why the tool is not tried again; "" */
static int told;                  /* failed was given to a caller once */
static volatile int exec_errno;   /* written by the child */

static const char *errtext(int e)
{
	const char *s = strerrordesc_np(e);
	return s ? s : "unknown error";
}

/* ---- finding the tool -------------------------------------------------------- */

static int is_tool(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* dir (len bytes) / name into S->tool if that is an executable file. */
static int try_dir(const char *dir, size_t len, const char *name)
{
	if (len + 1 + strlen(name) >= PATH_CAP)
		return 0;
	pt__fmt(S->tool, PATH_CAP, "%.*s/%s", (int)len, dir, name);
	return is_tool(S->tool);
}

static const char *env_get(const char *name)
{
	size_t n = strlen(name);
	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

/* pooltrace, searched on PATH as execvp searches it, into S->tool. */
static int on_path(void)
{
	const char *p = env_get("PATH");
	if (!p)
		p = "/bin:/usr/bin";
	for (;;) {
		size_t len = strcspn(p, ":");
		if (try_dir(len ? p : ".", len ? len : 1, "pooltrace"))
			return 1;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

/* The directory of this library (len bytes of dir), from the kernel's map
 * of the file that holds our code: the loader's name for it may be
 * relative to a directory the program has left.  0, or -1. */
static int our_dir(char *dir, size_t cap, size_t *len)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	uintptr_t self = (uintptr_t)&our_dir;
	char buf[4096];
	size_t have = 0;
	int found = -1;
	for (;;) {
		char *nl = memchr(buf, '\n', have);
		if (!nl) {
			if (have == sizeof buf)
				have = 0;         /* a line longer than the buffer: not ours */
			ssize_t r = read(fd, buf + have, sizeof buf - have);
			if (r <= 0)
				break;
			have += (size_t)r;
			continue;
		}
		*nl = 0;
		/* lo-hi perms offset dev inode path */
		uintptr_t lo = 0, hi = 0;
		const char *p = buf;
		for (; *p && *p != '-'; p++)
			lo = lo << 4 | (uintptr_t)(*p <= '9' ? *p - '0' : (*p | 32) - 'a' + 10);
		for (p += !!*p; *p && *p != ' '; p++)
			hi = hi << 4 | (uintptr_t)(*p <= '9' ? *p - '0' : (*p | 32) - 'a' + 10);
		if (self >= lo && self < hi) {
			const char *path = strchr(p, '/');
			const char *slash = path ? strrchr(path, '/') : NULL;
			if (slash && (size_t)(slash - path) < cap) {
				*len = (size_t)(slash - path);
				memcpy(dir, path, *len);
				found = 0;
			}
			break;
		}
		size_t used = (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, have - used);
		have -= used;
	}
	close(fd);
	return found;
}

/*
 * S->tool: 0; -1 with why when the path POOLTRACE_SYMBOLIZER names cannot
 * be run; -2 with why when there is no pooltrace where the default looks
 * (not worth a warning: debug mode without the tool installed).
 */
static int find_tool(char *why, size_t cap)
{
	const char *opt = pt__opt.symbolizer;
	if (opt[0]) {             /* a path: options.c takes no other value */
		if (is_tool(opt)) {
			pt__fmt(S->tool, PATH_CAP, "%s", opt);
			return 0;
		}
		pt__fmt(why, cap, "cannot run POOLTRACE_SYMBOLIZER=%s: %s", opt,
		        errtext(access(opt, X_OK) ? errno : EACCES));
		return -1;
	}
	char dir[PATH_CAP];
	size_t len;
	if (our_dir(dir, sizeof dir, &len) == 0 &&
	    (try_dir(dir, len, "pooltrace") || try_dir(dir, len, "../bin/pooltrace")))
		return 0;
	if (on_path())
		return 0;
	pt__fmt(why, cap, "no pooltrace beside libpooltrace.so or on PATH");
	return -2;
}

/* ---- the question ------------------------------------------------------------ */

static void put(const char *s, size_t len)
{
	if (S->inlen + len <= IN_CAP)
		memcpy(S->in + S->inlen, s, len);
	S->inlen += len;          /* past IN_CAP: too long, seen by the caller */
}

static int module_cb(const struct pt_module_view *m, void *arg)
{
	if (m->self || !m->path_len || m->path_len >= PATH_CAP)
		return 0;
	for (unsigned i = 0; i < S->n; i++) {
		uintptr_t call = S->ip[i] - 1;
		if (S->asked[i] >= 0)
			continue;
		int in = 0;
		for (unsigned k = 0; k < m->phnum && !in; k++) {
			const ElfW(Phdr) *ph = &m->phdr[k];
			in = ph->p_type == PT_LOAD && call - (m->base + ph->p_vaddr) < ph->p_memsz;
		}
		if (!in)
			continue;
		size_t start = S->inlen;
		put("\"", 1);
		for (size_t k = 0; k < m->path_len; k++) {
			char c = m->path[k];
			if (c == '"' || c == '\\' || c == '\n')
				put("\\", 1);
			put(c == '\n' ? "n" : &c, 1);
		}
		char num[48];
		put(num, pt__fmt(num, sizeof num, "\" 0x%lx", (unsigned long)(call - m->base)));
		if (m->build_id_len)
			put(" ", 1);
		for (size_t k = 0; k < m->build_id_len; k++)
			put(num, pt__fmt(num, sizeof num, "%02x", m->build_id[k]));
		put("\n", 1);
		if (S->inlen > IN_CAP) {
			S->inlen = start;
			return 1;
		}
		S->asked[i] = (int)S->nasked++;
		for (unsigned j = i + 1; j < S->n; j++)     /* the same address again */
			if (S->ip[j] == S->ip[i])
				S->asked[j] = S->asked[i];
	}
	return 0;
}

/* ---- the child -------------------------------------------------------------- */

/* The program's environment without LD_PRELOAD and POOLTRACE_*. */
static void make_env(void)
{
	unsigned k = 0;
	for (char **e = environ; e && *e && k + 1 < ENV_MAX; e++)
		if (strncmp(*e, "LD_PRELOAD=", 11) != 0 && strncmp(*e, "POOLTRACE_", 10) != 0)
			S->env[k++] = *e;
	S->env[k] = NULL;
}

/* An fd of at least 3 (our ends must not be the child's 0, 1, 2 before
 * dup2 puts them there). */
static int high_fd(int fd)
{
	if (fd < 0 || fd > 2)
		return fd;
	int h = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return h;
}

/* The tool's process, on S->stack, sharing our memory until execve. */
static int tool_main(void *arg)
{
	if (dup2(S->fd[0], 0) < 0 || dup2(S->fd[1], 1) < 0 || dup2(S->fd[2], 2) < 0) {
		exec_errno = errno;
		syscall(SYS_exit_group, 127);
	}
	/* the program's descriptors: most are not close-on-exec */
	if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0)
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
	setpgid(0, 0);
	for (int s = 1; s < NSIG; s++) {
		struct sigaction sa;
		if (sigaction(s, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL &&
		    sa.sa_handler != SIG_IGN) {
			sa.sa_handler = SIG_DFL;
			sa.sa_flags = 0;
			sigaction(s, &sa, NULL);
		}
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(S->tool, S->argv, S->env);
	exec_errno = errno;
	syscall(SYS_exit_group, 127);
	return 127;
}

/* The child between, on S->mstack: starts the tool, and exits once the
 * tool has called execve (or failed to). */
static int middle(void *arg)
{
	S->tool_pid = clone(tool_main, S->stack + STACK_CAP, CLONE_VM | CLONE_VFORK | SIGCHLD,
	                    NULL);
	if (S->tool_pid < 0)
		exec_errno = errno;
	syscall(SYS_exit, 0);
	return 0;
}

/* Start the tool with in, out and err as its 0, 1 and 2: its pid, or -1
 * (errno).  Returns once it has called execve (or failed to: exec_errno). */
static pid_t spawn(int in, int out, int err)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	exec_errno = 0;
	S->fd[0] = in;
	S->fd[1] = out;
	S->fd[2] = err;
	S->tool_pid = -1;
	/* no exit signal: no SIGCHLD to the program, unseen by its waits */
	pid_t mid = clone(middle, S->mstack + MSTACK_CAP, CLONE_VM | CLONE_VFORK, NULL);
	int e = mid < 0 ? errno : exec_errno;
	if (mid > 0)
		while (waitpid(mid, NULL, __WALL) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return mid < 0 ? -1 : S->tool_pid;
}

/* Are the tool's remains ours to reap (orphans come to this process)? */
static int reaper_here(void)
{
	int on = 0;
	return getpid() == 1 || (prctl(PR_GET_CHILD_SUBREAPER, &on) == 0 && on);
}

static void stop(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

/* Reap the tool (when orphans come to this process) by the deadline (ms,
 * CLOCK_MONOTONIC), killing it then (-1); its exit status, 256 + the
 * signal if a signal ended it, or -2 if the program's own wait took it. */
static int reap(pid_t pid, uint64_t deadline)
{
	for (;;) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG | __WALL);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 256 + WTERMSIG(st);
		if (r < 0 && errno != EINTR)
			return -2;
		if (pt__now_ns(CLOCK_MONOTONIC) / 1000000 >= deadline) {
			stop(pid);
			while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
				;
			return -1;
		}
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
}

/* Close the ends of the three pipes that are open. */
static void close_pairs(const int sv[2], const int po[2], const int pe[2])
{
	for (int k = 0; k < 2; k++) {
		if (sv[k] >= 0)
			close(sv[k]);
		if (po[k] >= 0)
			close(po[k]);
		if (pe[k] >= 0)
			close(pe[k]);
	}
}

/*
 * Ask the tool; 0 with S->out and S->err filled, or -1 with why.  fd[0]
 * is our end of its standard input, fd[1] and fd[2] of its output and
 * errors.
 */
static int exchange(char *why, size_t cap)
{
	int sv[2] = { -1, -1 }, po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) || pipe2(po, O_CLOEXEC) ||
	    pipe2(pe, O_CLOEXEC)) {
		pt__fmt(why, cap, "no pipe: %s", errtext(errno));
		goto out_close;
	}
	for (int k = 0; k < 2; k++) {
		sv[k] = high_fd(sv[k]);
		po[k] = high_fd(po[k]);
		pe[k] = high_fd(pe[k]);
	}
	if (sv[0] < 0 || sv[1] < 0 || po[0] < 0 || po[1] < 0 || pe[0] < 0 || pe[1] < 0) {
		pt__fmt(why, cap, "no pipe: %s", errtext(errno));
		goto out_close;
	}
	S->argv[0] = S->tool;
	S->argv[1] = "symbolize";
	S->argv[2] = NULL;
	make_env();
	uint64_t deadline = pt__now_ns(CLOCK_MONOTONIC) / 1000000 +
	                    (uint64_t)pt__opt.symbolizer_timeout * 1000;
	pid_t pid = spawn(sv[1], po[1], pe[1]);
	close(sv[1]);
	close(po[1]);
	close(pe[1]);
	sv[1] = po[1] = pe[1] = -1;
	if (pid < 0) {
		pt__fmt(why, cap, "cannot start %s: %s", S->tool, errtext(errno));
		goto out_close;
	}
	int ours = reaper_here();
	if (exec_errno) {
		pt__fmt(why, cap, "cannot run %s: %s", S->tool, errtext(exec_errno));
		if (ours)
			reap(pid, deadline);
		goto out_close;
	}

	size_t sent = 0;
	int timed_out = 0, too_long = 0;
	S->outlen = S->errlen = 0;
	while (po[0] >= 0 || pe[0] >= 0) {
		struct pollfd p[3];
		int n = 0, ii = -1, io = -1, ie = -1;
		if (sv[0] >= 0)
			p[ii = n++] = (struct pollfd){ sv[0], POLLOUT, 0 };
		if (po[0] >= 0)
			p[io = n++] = (struct pollfd){ po[0], POLLIN, 0 };
		if (pe[0] >= 0)
			p[ie = n++] = (struct pollfd){ pe[0], POLLIN, 0 };
		uint64_t now = pt__now_ns(CLOCK_MONOTONIC) / 1000000;
		if (now >= deadline) {
			timed_out = 1;
			break;
		}
		int r = poll(p, (nfds_t)n, (int)(deadline - now));
		if (r < 0 && errno != EINTR) {
			pt__fmt(why, cap, "poll: %s", errtext(errno));
			stop(pid);
			if (ours)
				reap(pid, 0);
			goto out_close;
		}
		if (r <= 0)
			continue;
		if (ii >= 0 && p[ii].revents) {
			ssize_t w = send(sv[0], S->in + sent, S->inlen - sent,
			                 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0)
				sent += (size_t)w;
			if (sent == S->inlen || (w < 0 && errno != EAGAIN && errno != EINTR)) {
				close(sv[0]);      /* the end of the question */
				sv[0] = -1;
			}
		}
		if (io >= 0 && p[io].revents) {
			ssize_t got = read(po[0], S->out + S->outlen, OUT_CAP - 1 - S->outlen);
			if (got > 0)
				S->outlen += (size_t)got;
			if (S->outlen == OUT_CAP - 1) {
				too_long = 1;
				break;
			}
			if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
				close(po[0]);
				po[0] = -1;
			}
		}
		if (ie >= 0 && p[ie].revents) {
			char sink[512];
			int room = S->errlen < ERR_CAP - 1;
			ssize_t got = room ? read(pe[0], S->err + S->errlen, ERR_CAP - 1 - S->errlen)
			                   : read(pe[0], sink, sizeof sink);
			if (got > 0 && room)
				S->errlen += (size_t)got;
			if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
				close(pe[0]);
				pe[0] = -1;
			}
		}
	}
	if (timed_out || too_long) {
		stop(pid);
		if (ours)
			reap(pid, 0);
		if (timed_out)
			pt__fmt(why, cap, "%s symbolize gave no answer in %u s, killed "
			        "(POOLTRACE_SYMBOLIZER_TIMEOUT)", S->tool, pt__opt.symbolizer_timeout);
		else
			pt__fmt(why, cap, "%s symbolize answered more than %u KiB", S->tool,
			        OUT_CAP >> 10);
		goto out_close;
	}
	S->out[S->outlen] = 0;
	S->err[S->errlen] = 0;
	if (ours)
		reap(pid, deadline);
	close_pairs(sv, po, pe);
	return 0;

out_close:
	close_pairs(sv, po, pe);
	return -1;
}

/* ---- the answer ------------------------------------------------------------- */

/* S->out into S->res: 0, or -1 with why. */
static int parse(char *why, size_t cap)
{
	unsigned group = 0, nlines = 0, gfirst[PT_SYMB_MAX + 1];
	char *p = S->out, *end = S->out + S->outlen;
	gfirst[0] = 0;
	while (p < end && group < S->nasked) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		*nl = 0;
		if (p == nl) {
			gfirst[++group] = nlines;
		} else if (strcmp(p, "??") != 0) {
			if (nlines == LINES_MAX) {
				pt__fmt(why, cap, "%s symbolize answered more than %u frames", S->tool,
				        LINES_MAX);
				return -1;
			}
			S->line[nlines++] = p;
		}
		p = nl + 1;
	}
	if (group != S->nasked || p != end) {
		size_t l = strcspn(S->err, "\n");
		pt__fmt(why, cap, "%s symbolize answered %s%s%.*s", S->tool,
		        group != S->nasked ? "too few addresses" : "too many addresses",
		        l ? ": " : "", (int)(l > 200 ? 200 : l), S->err);
		return -1;
	}
	struct pt_symb *r = &S->res;
	unsigned k = 0;
	r->n = S->n;
	r->line = S->line;
	for (unsigned i = 0; i < S->n; i++) {
		r->first[i] = k;
		/* address i's lines follow the lines of the addresses before it:
		 * its group's lines are copied into place after them */
		if (S->asked[i] < 0)
			continue;
		unsigned g = (unsigned)S->asked[i];
		for (unsigned j = gfirst[g]; j < gfirst[g + 1]; j++) {
			if (nlines + k >= LINES_MAX) {
				pt__fmt(why, cap, "%s symbolize answered more than %u frames", S->tool,
				        LINES_MAX / 2);
				return -1;
			}
			S->line[nlines + k++] = S->line[j];
		}
	}
	r->first[S->n] = k;
	r->line = S->line + nlines;
	/* the warnings: "pooltrace: warning: X" -> "warning: X" */
	r->nnotes = 0;
	r->note = S->note;
	for (char *q = S->err; *q && r->nnotes < NOTES_MAX;) {
		char *nl = strchr(q, '\n');
		if (!nl)
			break;            /* cut: no whole line */
		*nl = 0;
		S->note[r->nnotes++] = strncmp(q, "pooltrace: ", 11) == 0 ? q + 11 : q;
		q = nl + 1;
	}
	return 0;
}

/* ---- API -------------------------------------------------------------------- */

/* Take S for this thread: 0, or -1 when this thread holds it already (a
 * report from a signal handler inside a report), or another did not let it
 * go by its deadline and a little more. */
static int acquire(void)
{
	pid_t me = pt__gettid(), none = 0;
	uint64_t until = pt__now_ns(CLOCK_MONOTONIC) / 1000000 +
	                 ((uint64_t)pt__opt.symbolizer_timeout + 5) * 1000;
	for (;;) {
		if (__atomic_compare_exchange_n(&owner, &none, me, 0, __ATOMIC_ACQUIRE,
		                                __ATOMIC_RELAXED))
			return 0;
		if (none == me || pt__now_ns(CLOCK_MONOTONIC) / 1000000 > until)
			return -1;
		none = 0;
		/* another thread's report: it ends by its deadline */
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
}

void pt__symb_done(void)
{
	__atomic_store_n(&owner, 0, __ATOMIC_RELEASE);
}

void pt__symb_fork_child(void)
{
	owner = 0;
}

/* why: the failure in failed, the first time only (one warning a
 * process); a tool that is not installed is no failure worth one. */
static void tell(char *why, size_t cap, int quiet)
{
	if (!told && !quiet)
		pt__fmt(why, cap, "%s", failed);
	told = 1;
}

const struct pt_symb *pt__symb_run(const uintptr_t *ip, unsigned n, char *why, size_t cap)
{
	int saved = errno;
	const struct pt_symb *res = NULL;
	if (cap)
		why[0] = 0;
	if (strcmp(pt__opt.symbolizer, "0") == 0 || getauxval(AT_SECURE))
		return NULL;              /* POOLTRACE_SYMBOLIZER=none; setuid */
	if (acquire())
		return NULL;              /* a report inside a report */
	if (failed[0])
		goto out;
	if (!S && !(S = pt__map(sizeof *S, 0))) {
		pt__fmt(failed, sizeof failed, "no memory for the symbolizer");
		tell(why, cap, 0);
		goto out;
	}
	if (!S->tool[0]) {
		int r = find_tool(failed, sizeof failed);
		if (r) {
			S->tool[0] = 0;
			tell(why, cap, r == -2);
			goto out;
		}
	}
	S->ip = ip;
	S->n = n < PT_SYMB_MAX ? n : PT_SYMB_MAX;
	S->nasked = 0;
	S->inlen = 0;
	for (unsigned i = 0; i < S->n; i++)
		S->asked[i] = -1;
	pt__modules_each(module_cb, NULL);
	if (!S->nasked)
		goto out;                 /* no frame in a module file: nothing to ask */
	if (exchange(failed, sizeof failed) || parse(failed, sizeof failed)) {
		tell(why, cap, 0);
		goto out;
	}
	res = &S->res;
out:
	if (!res)
		pt__symb_done();
	errno = saved;
	return res;
}
