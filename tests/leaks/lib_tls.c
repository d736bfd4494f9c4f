/*
 * lib_tls.c - a library with __thread variables, dlopen'ed by tls_dlopen.c:
 * glibc allocates its TLS block for each thread on first use (dynamic TLS).
 */
#include <stdlib.h>
#include <string.h>

static __thread void *lib_tls_ptr;
static __thread char lib_tls_big[3000];

void lib_tls_keep(size_t n)
{
	lib_tls_big[0] = 1;
	lib_tls_ptr = malloc(n);
	memset(lib_tls_ptr, 0x5a, n);
}
