/*
 * lib_ctor.c - a library whose constructor allocates (ctor_lib.c links
 * it): a table kept by the library's global, a block kept by another, one
 * block lost.  The program later stores a pointer in the table.
 */
#include <stdlib.h>
#include <string.h>

struct table {
	void *slot[8];
};

static struct table *lib_table;
static void *lib_kept;
static void *volatile lib_sink;

__attribute__((constructor)) static void lib_init(void)
{
	lib_table = calloc(1, sizeof *lib_table);
	lib_kept = malloc(300);
	memset(lib_kept, 0x5a, 300);
	char *lost = malloc(120);
	memset(lost, 0x5a, 120);
	lib_sink = lost;
	lib_sink = NULL;
}

void lib_keep(int i, void *p)
{
	lib_table->slot[i] = p;
}
