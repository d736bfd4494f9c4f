/*
 * forks.c - what fork costs with a heap: 1M small blocks (about 70 MB),
 * then 40 fork()s whose child exits at once, 40 fork()+exec of true(1),
 * 40 posix_spawn()s and 40 system()s, each waited for.  Prints the mean
 * milliseconds of each (POOLTRACE_MESH=1 copies the heap at every fork;
 * posix_spawn and system() use vfork semantics and copy nothing), then a
 * checksum of the heap.
 */
#include <spawn.h>
#include <sys/wait.h>

#include "common.h"

extern char **environ;

int main(void)
{
	const size_t n = (size_t)(1e6 * bench_scale());
	const int rounds = 40;
	unsigned char **p = malloc(n * sizeof *p);
	uint64_t rng = 5, sum = 0;
	for (size_t i = 0; i < n; i++) {
		size_t s = rng_size(&rng, 32, 96);
		p[i] = malloc(s);
		memset(p[i], (int)i, s);
	}
	double t0 = bench_now() * 1e3;
	for (int r = 0; r < rounds; r++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(p[r][0] == (unsigned char)r ? 0 : 1);
		int st;
		waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			return 1;
	}
	double t1 = bench_now() * 1e3;
	for (int r = 0; r < rounds; r++) {
		pid_t pid = fork();
		if (pid == 0) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		int st;
		waitpid(pid, &st, 0);
	}
	double t2 = bench_now() * 1e3;
	for (int r = 0; r < rounds; r++) {
		pid_t pid;
		char *argv[] = { "true", NULL };
		if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) == 0)
			waitpid(pid, NULL, 0);
	}
	double t3 = bench_now() * 1e3;
	for (int r = 0; r < rounds; r++)
		if (system("true") != 0)
			return 1;
	double t4 = bench_now() * 1e3;
	for (size_t i = 0; i < n; i++) {
		sum = sum * 31 + p[i][0];
		free(p[i]);
	}
	free(p);
	printf("result: checksum=%016llx fork_ms=%.3f fork_exec_ms=%.3f posix_spawn_ms=%.3f "
	       "system_ms=%.3f\n", (unsigned long long)sum, (t1 - t0) / rounds, (t2 - t1) / rounds,
	       (t3 - t2) / rounds, (t4 - t3) / rounds);
	return 0;
}
