/*
 * output.c - a command's output, every write checked (output.h).
 *
 * The stream is a fopencookie() one over the descriptor: its write
 * function keeps the errno of the first write that fails, which a check
 * at the end could not recover from a stdio stream (errno changes in
 * between, and a flush of an empty buffer says nothing).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "output.h"
#include "util.h"

struct out {
	int fd;
	int err;                  /* the first write's errno, or 0 */
	char *path;               /* NULL: standard output */
};

static ssize_t out_write(void *cookie, const char *buf, size_t n)
{
	struct out *o = cookie;
	size_t done = 0;
	if (o->err)
		return -1;
	while (done < n) {
		ssize_t w = write(o->fd, buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			o->err = w < 0 ? errno : ENOSPC;
			return -1;
		}
		done += (size_t)w;
	}
	return (ssize_t)n;
}

static int out_close(void *cookie)
{
	struct out *o = cookie;
	int rc = 0;
	if (o->path && close(o->fd) != 0 && !o->err)
		o->err = errno, rc = -1;
	return rc;
}

const char *pt_output_name(const char *out)
{
	return !out || strcmp(out, "-") == 0 ? "standard output" : out;
}

/* the cookie of each open stream, found again by pt_output_close */
static struct { FILE *f; struct out *o; } open_out[8];

FILE *pt_output_open(const char *out)
{
	int to_stdout = !out || strcmp(out, "-") == 0;
	int fd = to_stdout ? 1 : open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		fprintf(stderr, "pooltrace: cannot write %s: %s\n", out, strerror(errno));
		return NULL;
	}
	struct out *o = pt_xcalloc(1, sizeof *o);
	o->fd = fd;
	o->path = to_stdout ? NULL : pt_xstrdup(out);
	cookie_io_functions_t io = { .write = out_write, .close = out_close };
	FILE *f = fopencookie(o, "w", io);
	if (!f) {
		fprintf(stderr, "pooltrace: cannot write %s: %s\n", pt_output_name(out),
		        strerror(errno));
		if (!to_stdout)
			close(fd);
		free(o->path);
		free(o);
		return NULL;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	for (unsigned i = 0; i < sizeof open_out / sizeof open_out[0]; i++)
		if (!open_out[i].f) {
			open_out[i].f = f;
			open_out[i].o = o;
			break;
		}
	return f;
}

int pt_output_close(FILE *f, int rc)
{
	struct out *o = NULL;
	unsigned k = 0;
	for (; k < sizeof open_out / sizeof open_out[0]; k++)
		if (open_out[k].f == f) {
			o = open_out[k].o;
			break;
		}
	if (fflush(f) != 0 && o && !o->err)
		o->err = errno ? errno : EIO;
	struct stat st;
	int regular = o && o->path && fstat(o->fd, &st) == 0 && S_ISREG(st.st_mode);
	char *path = o ? o->path : NULL;
	fclose(f);                /* out_close: the descriptor, unless stdout */
	int err = o ? o->err : 0;
	if (o) {
		open_out[k].f = NULL;
		free(o);
	}
	if (!err) {
		free(path);
		return rc;
	}
	fprintf(stderr, "pooltrace: cannot write %s: %s\n", path ? path : "standard output",
	        strerror(err));
	if (regular)
		unlink(path);
	free(path);
	return PT_EXIT_OUTPUT;
}
