/*
 * measure.c - run one benchmark command and report its cost.
 *
 *   measure OUTFILE PRELOAD|- CMD [ARGS...]
 *
 * Forks, sets LD_PRELOAD (unless "-") in the child only, execs CMD, waits
 * with wait4 and writes "status wall_s cpu_s maxrss_kib" to OUTFILE.  It
 * exists because a child forked from the Python runner carries the runner's
 * peak RSS across exec in ru_maxrss; this launcher is small, so the floor it
 * leaves is about 1 MiB.  Standard output of CMD goes to standard output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: measure OUTFILE PRELOAD|- CMD [ARGS...]\n");
		return 2;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("measure: fork");
		return 2;
	}
	if (pid == 0) {
		if (strcmp(argv[2], "-") != 0)
			setenv("LD_PRELOAD", argv[2], 1);
		else
			unsetenv("LD_PRELOAD");
		execvp(argv[3], argv + 3);
		perror("measure: exec");
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) != pid) {
		perror("measure: wait4");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	FILE *f = fopen(argv[1], "w");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	fprintf(f, "%d %.6f %.6f %ld\n", code,
	        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	        (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	        (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6,
	        ru.ru_maxrss);
	fclose(f);
	return 0;
}
