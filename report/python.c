/*
 * python.c - the report tool's side of Python programs (python.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "python.h"
#include "view.h"

int pt_by_type;

int pt_python_options(const char *cmd, int argc, char **argv)
{
	int by_ok = strcmp(cmd, "report") == 0 || strcmp(cmd, "leaks") == 0;
	int k = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0 || strcmp(cmd, "run") == 0) {
			while (i < argc)   /* run: the rest is the program's */
				argv[k++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--native") == 0) {
			pt_view_native = 1;
			continue;
		}
		if (by_ok && strcmp(argv[i], "--by") == 0 && i + 1 < argc &&
		    strcmp(argv[i + 1], "type") == 0) {
			pt_by_type = 1;
			i++;
			continue;
		}
		argv[k++] = argv[i];
	}
	return k;
}

/* ---- pooltrace run: is the program a Python interpreter? -------------------- */

/* python, python3, python3.11, python3.11d ... */
static int python_name(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	if (strncmp(b, "python", 6) != 0)
		return 0;
	for (b += 6; *b; b++)
		if (!((*b >= '0' && *b <= '9') || *b == '.' || *b == 'd' || *b == 'm'))
			return 0;
	return 1;
}

/* cmd as execvp would find it, into out */
static int find_in_path(const char *cmd, char *out, size_t cap)
{
	if (strchr(cmd, '/')) {
		snprintf(out, cap, "%s", cmd);
		return access(out, X_OK);
	}
	const char *path = getenv("PATH");
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		snprintf(out, cap, "%.*s%s%s", (int)n, p, n ? "/" : "", cmd);
		struct stat st;
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
		p += n + (e != NULL);
	}
	return -1;
}

int pt_is_python_program(const char *cmd)
{
	char path[PATH_MAX];
	if (python_name(cmd))
		return 1;
	if (find_in_path(cmd, path, sizeof path))
		return 0;
	char real[PATH_MAX];
	if (realpath(path, real) && python_name(real))
		return 1;
	/* a script: its #! line, "#!/usr/bin/python3 -u" or "#!/usr/bin/env python3" */
	char line[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, line, sizeof line - 1);
	close(fd);
	if (n < 3 || line[0] != '#' || line[1] != '!')
		return 0;
	line[n] = 0;
	line[strcspn(line, "\n")] = 0;
	char *w = line + 2, *save = NULL;
	char *interp = strtok_r(w, " \t", &save);
	if (!interp)
		return 0;
	if (python_name(interp))
		return 1;
	const char *b = strrchr(interp, '/');
	if (b && strcmp(b + 1, "env") == 0) {
		char *arg;
		while ((arg = strtok_r(NULL, " \t", &save)) && arg[0] == '-')
			;
		return arg && python_name(arg);
	}
	return 0;
}

void pt_python_malloc_env(const char *cmd)
{
	if (getenv("PYTHONMALLOC") || !pt_is_python_program(cmd))
		return;
	setenv("PYTHONMALLOC", "malloc", 1);
	fprintf(stderr, "pooltrace: %s is Python: PYTHONMALLOC=malloc, so that its objects go "
	        "through malloc (--pymalloc keeps pymalloc)\n", cmd);
}

/* ---- objects by type: below ----------------------------------------------------- */

int pt_print_by_type(FILE *f, struct pt_view *v, int leaks, unsigned long top,
                     unsigned long frames)
{
	(void)v, (void)leaks, (void)top, (void)frames;
	fprintf(f, "no Python objects in this trace\n");
	return 0;
}
