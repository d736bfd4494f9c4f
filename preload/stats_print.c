/*
 * stats_print.c - the POOLTRACE_STATS report: a per-class table and totals,
 * in the spirit of CPython's sys._debugmallocstats(), written with write(2).
 */
#include <malloc.h>
#include <string.h>
#include <unistd.h>

#include "../allocator/pool_alloc.h"
#include "fmt.h"
#include "libc_sym.h"
#include "pooltrace.h"


PT_EXPORT void pt_stats_print(int fd)
{
	struct pt_stats st;   /* 4.6 KiB of stack: callers may run concurrently */
	pt_stats_get(&st);

	pt__dprintf(fd, "pooltrace: allocator statistics, pid %d, POOLTRACE_ALIGN=%u, "
	                "%u classes\n", (int)getpid(), st.align, st.nclasses);
	pt__dprintf(fd, "class  size  pools: used  full empty  blocks: in use      free"
	                "   allocations  mean req   live bytes\n");
	/* free blocks include those waiting in thread caches; mean req is
	 * estimated from requests sampled in the malloc slow path */
	for (unsigned c = 0; c < st.nclasses; c++) {
		const struct pt_class_stats *cs = &st.cls[c];
		if (!cs->nmalloc && !cs->pools_used && !cs->pools_full && !cs->pools_empty)
			continue;
		unsigned long long mean10 = cs->nmalloc ? cs->req_bytes * 10 / cs->nmalloc : 0;
		pt__dprintf(fd, "%5u %5u  %11llu %5llu %5llu  %14llu %9llu  %12llu  %6llu.%llu"
		                "  %11llu\n",
		            c, cs->size, (unsigned long long)cs->pools_used,
		            (unsigned long long)cs->pools_full,
		            (unsigned long long)cs->pools_empty,
		            (unsigned long long)cs->blocks_used,
		            (unsigned long long)cs->blocks_free,
		            (unsigned long long)cs->nmalloc, mean10 / 10, mean10 % 10,
		            (unsigned long long)(cs->blocks_used * cs->size));
	}

	struct mallinfo2 mi = pt__libc_mallinfo2();   /* glibc's own figures: not ours */
	unsigned long long arena_kib = PT_ARENA_SIZE >> 10;
	pt__dprintf(fd, "# arenas: %llu mapped (%llu KiB), %llu mapped in total, "
	                "%llu released, high water %llu, %llu outside the reserved range\n",
	            (unsigned long long)st.arenas_mapped,
	            (unsigned long long)st.arenas_mapped * arena_kib,
	            (unsigned long long)st.arenas_total,
	            (unsigned long long)st.arenas_released,
	            (unsigned long long)st.arenas_highwater,
	            (unsigned long long)st.arenas_outside);
	pt__dprintf(fd, "# pools: %llu in use, %llu empty in heaps, %llu free in arenas "
	                "(%llu resident, %llu purged), %llu never touched, %llu purges\n",
	            (unsigned long long)st.pools_in_use,
	            (unsigned long long)st.pools_empty_heap,
	            (unsigned long long)(st.pools_free_dirty + st.pools_free_purged),
	            (unsigned long long)st.pools_free_dirty,
	            (unsigned long long)st.pools_free_purged,
	            (unsigned long long)st.pools_untouched,
	            (unsigned long long)st.purges);
	pt__dprintf(fd, "# bytes in live blocks:        %14llu\n",
	            (unsigned long long)st.bytes_in_blocks);
	pt__dprintf(fd, "# rounding loss (estimated):   %14llu\n",
	            (unsigned long long)st.bytes_rounding_est);
	pt__dprintf(fd, "# free blocks in used pools:   %14llu\n",
	            (unsigned long long)st.bytes_free_blocks);
	pt__dprintf(fd, "# pool tails (unusable):       %14llu\n",
	            (unsigned long long)st.bytes_pool_tail);
	pt__dprintf(fd, "# empty pools (heaps+arenas):  %14llu\n",
	            (unsigned long long)(st.pools_empty_heap + st.pools_free_dirty) * PT_POOL_SIZE);
	pt__dprintf(fd, "# arena headers:               %14llu\n",
	            (unsigned long long)st.bytes_headers);
	pt__dprintf(fd, "# pool allocations (lifetime): %14llu\n",
	            (unsigned long long)st.nmalloc);
	pt__dprintf(fd, "# glibc fallback in use:       %14llu  (mallinfo2: %llu in arenas, "
	                "%llu mmapped)\n",
	            (unsigned long long)(mi.uordblks + mi.hblkhd),
	            (unsigned long long)mi.uordblks, (unsigned long long)mi.hblkhd);
	pt__dprintf(fd, "# thread heaps: %llu created, %llu abandoned, %llu inherited "
	                "from other threads by fork\n",
	            (unsigned long long)st.heaps, (unsigned long long)st.heaps_abandoned,
	            (unsigned long long)st.heaps_orphaned);
	struct pt_mesh_stats ms;
	pt_mesh_stats(&ms);
	if (ms.on || ms.meshes)
		pt__dprintf(fd, "# meshing: %llu pools meshed now (%llu KiB given back), %llu "
		                "meshed (%llu remaps) and %llu given back in total, %llu rounds, %llu "
		                "protections or remaps refused, budget %llu\n",
		            (unsigned long long)ms.meshed_now,
		            (unsigned long long)ms.meshed_now * (PT_POOL_SIZE >> 10),
		            (unsigned long long)ms.meshes, (unsigned long long)ms.remaps,
		            (unsigned long long)ms.unmeshes,
		            (unsigned long long)ms.rounds, (unsigned long long)ms.failed,
		            (unsigned long long)ms.budget);
}
