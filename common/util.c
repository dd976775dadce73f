/*
 * util.c: clocks, bounded copies and strict number parsing. Parsers return
 * -1 on any trailing garbage or overflow; they never guess.
 */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Reads a clock in nanoseconds. */
uint64_t
clock_ns(int clockid)
{
	struct timespec ts;
	clock_gettime((clockid_t)clockid, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Reads the monotonic clock in milliseconds. */
uint64_t
now_mono_ms(void)
{
	return clock_ns(CLOCK_MONOTONIC) / 1000000ull;
}

/* Copies src into dst, truncating; returns the length of src. */
size_t
strlcpy_trunc(char *dst, const char *src, size_t dstsize)
{
	size_t len = strlen(src);
	if (dstsize > 0) {
		size_t n = len < dstsize - 1 ? len : dstsize - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

/* Parses a decimal unsigned number within [min, max]. */
int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Parses a decimal signed number within [min, max]. */
int
parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Parses yes/no, true/false, on/off, 1/0. */
int
parse_bool(const char *s, bool *out)
{
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") ||
	    !strcasecmp(s, "on") || !strcmp(s, "1")) {
		*out = true;
		return 0;
	}
	if (!strcasecmp(s, "no") || !strcasecmp(s, "false") ||
	    !strcasecmp(s, "off") || !strcmp(s, "0")) {
		*out = false;
		return 0;
	}
	return -1;
}

/* Parses a byte size with an optional K, M or G suffix (powers of 1024). */
int
parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char buf[32];
	size_t len;
	uint64_t mult = 1, v;

	if (s == NULL || (len = strlen(s)) == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len + 1);
	switch (toupper((unsigned char)buf[len - 1])) {
	case 'K': mult = 1024ull; break;
	case 'M': mult = 1024ull * 1024; break;
	case 'G': mult = 1024ull * 1024 * 1024; break;
	default: break;
	}
	if (mult != 1)
		buf[--len] = '\0';
	if (parse_u64(buf, 0, UINT64_MAX / mult, &v) == -1)
		return -1;
	v *= mult;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * Writes v in decimal and a NUL into buf (at least 21 bytes); returns the
 * number of digits. The encoder writes some forty numbers a line, where
 * snprintf was a third of its instructions.
 */
size_t
fmt_u64(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

/* The same for a signed number (buf at least 21 bytes). */
size_t
fmt_i64(char *buf, int64_t v)
{
	if (v >= 0)
		return fmt_u64(buf, (uint64_t)v);
	buf[0] = '-';
	return 1 + fmt_u64(buf + 1, (uint64_t)0 - (uint64_t)v);
}
