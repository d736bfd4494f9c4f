/*
 * remap.c - what the kernel charges for the steps of meshing one page
 * (allocator/mesh.c), measured on their own, so that meshing's time can be
 * read against its floor: a memory file mapped shared over N pages, then
 * per page, as a mesh does it
 *   mmap    another page of the file mapped over it (MAP_FIXED: the
 *           mapping splits, a new one goes into the file's tree),
 *   punch   its own file page released (fallocate PUNCH_HOLE),
 *   fault   the first read through the remapped address,
 * and at the end one munmap of the whole range, per mapping it holds.
 * Victims are every other page, kept pages spread as a pairing spreads
 * them.  Prints microseconds per page.  Not run by `make bench`: a
 * reference for the figures of docs/DESIGN.md's meshing row.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>

#include "common.h"

int main(void)
{
	const size_t pages = (size_t)(40000 * bench_scale()) & ~(size_t)1, page = 4096;
	const size_t n = pages / 4;   /* victims: pages 0, 2, 4 .. of the first half */
	int fd = memfd_create("remap", 0);
	if (fd < 0 || ftruncate(fd, (off_t)(pages * page))) {
		perror("remap: memfd");
		return 1;
	}
	char *base = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		perror("remap: mmap");
		return 1;
	}
	memset(base, 1, pages * page);
	uint64_t sum = 0;

	double t0 = 1e6 * bench_now();
	for (size_t i = 0; i < n; i++) {
		size_t v = 2 * i, k = pages / 2 + (i * 7919) % (pages / 2);
		if (mmap(base + v * page, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
		         (off_t)(k * page)) == MAP_FAILED) {
			perror("remap: mmap over a page");
			return 1;
		}
	}
	double t1 = 1e6 * bench_now();
	for (size_t i = 0; i < n; i++)
		fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(2 * i * page),
		          (off_t)page);
	double t2 = 1e6 * bench_now();
	for (size_t i = 0; i < n; i++)
		sum += (unsigned char)base[2 * i * page];
	double t3 = 1e6 * bench_now();
	munmap(base, pages * page);
	double t4 = 1e6 * bench_now();

	/* each victim split its mapping: about 2 n mappings went */
	printf("result: checksum=%016llx pages=%zu mmap_us=%.2f punch_us=%.2f fault_us=%.2f "
	       "munmap_us=%.2f\n", (unsigned long long)sum, n, (t1 - t0) / (double)n,
	       (t2 - t1) / (double)n, (t3 - t2) / (double)n, (t4 - t3) / (double)(2 * n));
	return 0;
}
