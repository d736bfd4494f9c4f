/*
 * fmt.h - formatted output that never allocates, for code that runs inside
 * host programs (and, later, from signal handlers): a small vsnprintf and a
 * dprintf built on write(2).
 *
 * Conversions: %s %c %d %i %u %x %p %%, with flags '-' and '0', a width
 * (number or '*'), a precision for %s (.N or .*: at most N bytes), and the
 * length modifiers l, ll, z.
 */
#ifndef POOLTRACE_FMT_H
#define POOLTRACE_FMT_H

#include <stdarg.h>
#include <stddef.h>

#include "../allocator/compiler.h"

/* Like vsnprintf: writes at most cap-1 bytes and a NUL, returns the length
 * the whole output would have had. */
PT_HIDDEN size_t pt__vfmt(char *buf, size_t cap, const char *fmt, va_list ap);
PT_HIDDEN size_t pt__fmt(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Format into a 1 KiB stack buffer and write(2) it all to fd (retrying
 * short writes and EINTR).  Longer output is cut.  Preserves errno. */
PT_HIDDEN void pt__dprintf(int fd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* write(2) all of buf, retrying; preserves errno.  0 or -1. */
PT_HIDDEN int pt__write_all(int fd, const char *buf, size_t len);

#endif
