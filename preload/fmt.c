/*
 * fmt.c - allocation-free formatting; see fmt.h.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"

struct out {
	char *buf;
	size_t cap, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len] = c;
	o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width, int left, char pad)
{
	int fill = width > (int)n ? width - (int)n : 0;
	if (!left) {
		/* zero padding goes after a sign */
		if (pad == '0' && n && s[0] == '-') {
			put(o, '-');
			s++;
			n--;
		}
		while (fill-- > 0)
			put(o, pad);
	}
	for (size_t i = 0; i < n; i++)
		put(o, s[i]);
	if (left)
		while (fill-- > 0)
			put(o, ' ');
}

/* Digits of v in base into the end of tmp; returns the start. */
static char *utoa(uint64_t v, unsigned base, char *end)
{
	char *p = end;
	do {
		*--p = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	return p;
}

size_t pt__vfmt(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct out o = { buf, cap, 0 };
	char tmp[32];

	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			put(&o, *f);
			continue;
		}
		f++;
		int left = 0, width = 0, lng = 0;
		char pad = ' ';
		for (;; f++) {
			if (*f == '-')
				left = 1;
			else if (*f == '0')
				pad = '0';
			else
				break;
		}
		if (*f == '*') {
			width = va_arg(ap, int);
			f++;
		}
		while (*f >= '0' && *f <= '9')
			width = width * 10 + (*f++ - '0');
		int prec = -1;            /* %.Ns, %.*s: at most N bytes of the string */
		if (*f == '.') {
			f++;
			prec = 0;
			if (*f == '*') {
				prec = va_arg(ap, int);
				f++;
			}
			while (*f >= '0' && *f <= '9')
				prec = prec * 10 + (*f++ - '0');
		}
		while (*f == 'l' || *f == 'z') {
			lng++;
			f++;
		}
		char *end = tmp + sizeof tmp, *s;
		uint64_t u;
		int64_t i;
		switch (*f) {
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			put_padded(&o, str, prec >= 0 ? strnlen(str, (size_t)prec) : strlen(str),
			           width, left, ' ');
			break;
		}
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			put_padded(&o, tmp, 1, width, left, ' ');
			break;
		case 'd':
		case 'i':
			i = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			s = utoa(i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i, 10, end);
			if (i < 0)
				*--s = '-';
			put_padded(&o, s, (size_t)(end - s), width, left, pad);
			break;
		case 'u':
		case 'x':
			u = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			s = utoa(u, *f == 'x' ? 16 : 10, end);
			put_padded(&o, s, (size_t)(end - s), width, left, pad);
			break;
		case 'p':
			s = utoa((uintptr_t)va_arg(ap, void *), 16, end);
			*--s = 'x';
			*--s = '0';
			put_padded(&o, s, (size_t)(end - s), width, left, ' ');
			break;
		case '%':
			put(&o, '%');
			break;
		case '\0':
			f--;
			break;
		default:
			put(&o, '%');
			put(&o, *f);
			break;
		}
	}
	if (cap)
		buf[o.len < cap ? o.len : cap - 1] = '\0';
	return o.len;
}

size_t pt__fmt(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t n = pt__vfmt(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}

int pt__write_all(int fd, const char *buf, size_t len)
{
	int e = errno, r = 0;
	while (len) {
		ssize_t w = write(fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = -1;
			break;
		}
		buf += w;
		len -= (size_t)w;
	}
	errno = e;
	return r;
}

void pt__dprintf(int fd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	size_t n = pt__vfmt(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n >= sizeof buf)
		n = sizeof buf - 1;
	pt__write_all(fd, buf, n);
}
