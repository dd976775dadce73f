/*
 * xmalloc.c: allocation wrappers that never return NULL. Running out of
 * memory is the one failure after start-up that ends the agent, loudly.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Allocates size bytes or dies. */
void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (p == NULL)
		fatalx("out of memory allocating %zu bytes", size);
	return p;
}

/* Allocates n zeroed elements or dies. */
void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		fatalx("out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

/* Resizes p or dies. */
void *
xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);
	if (q == NULL)
		fatalx("out of memory reallocating %zu bytes", size);
	return q;
}

/*
 * Grows buf, of *cap bytes, to hold at least need bytes, doubling from
 * first; updates *cap. Returns buf itself when it is large enough already.
 */
void *
xgrow(void *buf, size_t *cap, size_t need, size_t first)
{
	size_t c = *cap ? *cap : first;

	if (need <= *cap)
		return buf;
	while (c < need)
		c *= 2;
	*cap = c;
	return xrealloc(buf, c);
}

/* Duplicates a string or dies. */
char *
xstrdup(const char *s)
{
	return xmemdup(s, strlen(s) + 1);
}

/* Duplicates at most n bytes of s, NUL-terminated, or dies. */
char *
xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* Duplicates n bytes or dies. */
void *
xmemdup(const void *p, size_t n)
{
	void *q = xmalloc(n);
	memcpy(q, p, n);
	return q;
}

/* Formats into a new string or dies. */
char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("out of memory formatting a string");
	return s;
}
