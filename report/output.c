/*
 * output.c - a command's output file (output.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"

FILE *pt_output_open(const char *out)
{
	FILE *f = out ? fopen(out, "w") : stdout;
	if (!f) {
		fprintf(stderr, "pooltrace: cannot write %s: %s\n", out, strerror(errno));
		return NULL;
	}
	errno = 0;                /* what pt_output_close reports, if writing fails */
	return f;
}

int pt_output_close(FILE *f, const char *out)
{
	struct stat st;
	int regular = f != stdout && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
	int bad = fflush(f) != 0 || ferror(f);
	int err = errno ? errno : EIO;
	if (f != stdout && fclose(f) != 0 && !bad) {
		bad = 1;
		err = errno;
	}
	if (!bad)
		return 0;
	fprintf(stderr, "pooltrace: cannot write %s: %s\n", f == stdout ? "standard output" : out,
	        strerror(err));
	if (regular)
		unlink(out);
	return 2;
}
