/*
 * escape.c: strict UTF-8 validation (no overlongs, no surrogates, nothing
 * above U+10FFFF), the test for code points that mislead a reader, and the
 * reversible \xHH escaping described in escape.h.
 */
#include "escape.h"

#include <stdint.h>
#include <string.h>

#include "common.h"

/* Returns the length of the valid UTF-8 sequence at s, or 0 if invalid. */
static size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		if (n >= 2 && (s[1] & 0xc0) == 0x80)
			return 2;
		return 0;
	}
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = 0x80, hi = 0xbf;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* surrogates */
		if (n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80)
			return 3;
		return 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = 0x80, hi = 0xbf;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
		if (n >= 4 && s[1] >= lo && s[1] <= hi &&
		    (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80)
			return 4;
		return 0;
	}
	return 0;
}

/* Decodes the valid sequence of l bytes at s (as utf8_seq_len measured it). */
static uint32_t
utf8_decode(const unsigned char *s, size_t l)
{
	switch (l) {
	case 1:
		return s[0];
	case 2:
		return (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	case 3:
		return (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 |
		    (s[2] & 0x3f);
	default:
		return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
		    (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
	}
}

/*
 * Says whether a code point is valid but misleads a reader of the text:
 * C1 controls (a terminal acts on them), the line and paragraph separators
 * (a line break to JavaScript and many viewers), and the bidirectional
 * marks, embeddings, overrides and isolates that reorder what is shown
 * (CVE-2021-42574, "Trojan Source").
 */
static bool
utf8_misleading(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) ||	/* C1 controls */
	    cp == 0x061c ||			/* ARABIC LETTER MARK */
	    cp == 0x200e || cp == 0x200f ||	/* LRM, RLM */
	    (cp >= 0x2028 && cp <= 0x202e) ||	/* LS, PS, LRE, RLE, PDF, LRO, RLO */
	    (cp >= 0x2066 && cp <= 0x2069);	/* LRI, RLI, FSI, PDI */
}

/* Returns the length of the sequence at s if it is valid, not NUL and not misleading, else 0. */
static size_t
utf8_plain_len(const unsigned char *s, size_t n)
{
	size_t l;

	if (s[0] == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if ((l = utf8_seq_len(s, n)) == 0 || utf8_misleading(utf8_decode(s, l)))
		return 0;
	return l;
}

/* Returns how many leading bytes of s form valid UTF-8 without NULs. */
size_t
utf8_valid_prefix(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t l;
		if (s[i] == 0)
			break;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((l = utf8_seq_len(s + i, n - i)) == 0)
			break;
		i += l;
	}
	return i;
}

/* Says whether s is entirely valid UTF-8 with no NUL byte. */
bool
utf8_valid(const char *s, size_t n)
{
	return utf8_valid_prefix((const unsigned char *)s, n) == n;
}

/*
 * Says whether the 8 bytes at u are all printable ASCII (0x20..0x7f), a
 * word at a time: (x - 0x20 * ONES) & ~x & HIGHS is non-zero exactly when
 * some byte is below 0x20 (borrows only flag bytes above a flagged one),
 * x & HIGHS when some byte is 0x80 or above.
 */
static inline bool
ascii_printable8(const unsigned char *u)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t x;

	memcpy(&x, u, sizeof(x));
	return ((((x - 0x20 * ones) & ~x) | x) & highs) == 0;
}

/* Says whether s is valid UTF-8 with no NUL and no misleading code point: it needs no escape. */
bool
utf8_plain(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, l;

	while (i < n) {
		while (i + 8 <= n && ascii_printable8(u + i))
			i += 8;
		if (i >= n)
			break;
		if (u[i] >= 0x20 && u[i] < 0x80) {
			i++;
			continue;
		}
		if ((l = utf8_plain_len(u + i, n - i)) == 0)
			return false;
		i += l;
	}
	return true;
}

/* Escapes s as described in escape.h; returns a new NUL-terminated string. */
char *
bytes_escape(const char *s, size_t n, size_t *outlen)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	char *out = xmalloc(n * 4 + 1);
	size_t i = 0, o = 0;

	while (i < n) {
		size_t l = utf8_plain_len(u + i, n - i);
		if (l == 0) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[u[i] >> 4];
			out[o++] = hex[u[i] & 0xf];
			i++;
		} else if (u[i] == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
			i++;
		} else {
			memcpy(out + o, u + i, l);
			o += l;
			i += l;
		}
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return out;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Reverses bytes_escape into out (at least n bytes); returns -1 on a
 * sequence bytes_escape never produces.
 */
int
bytes_unescape(const char *s, size_t n, char *out, size_t *outlen)
{
	size_t i = 0, o = 0;

	while (i < n) {
		if (s[i] != '\\') {
			out[o++] = s[i++];
			continue;
		}
		if (i + 1 < n && s[i + 1] == '\\') {
			out[o++] = '\\';
			i += 2;
			continue;
		}
		if (i + 3 < n && s[i + 1] == 'x' && hexval(s[i + 2]) >= 0 &&
		    hexval(s[i + 3]) >= 0) {
			out[o++] = (char)(hexval(s[i + 2]) << 4 | hexval(s[i + 3]));
			i += 4;
			continue;
		}
		return -1;
	}
	*outlen = o;
	return 0;
}

/* Returns the largest length <= max that does not cut a UTF-8 sequence of s. */
size_t
utf8_truncate(const char *s, size_t n, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t cut;

	if (n <= max)
		return n;
	cut = max;
	/* Step back over continuation bytes, at most three. */
	for (int k = 0; k < 3 && cut > 0 && (u[cut] & 0xc0) == 0x80; k++)
		cut--;
	return cut;
}

/* Says whether every NUL-separated argument in buf[0..n) needs no escape (utf8_plain). */
bool
utf8_plain_args(const char *buf, size_t n)
{
	size_t off = 0;

	while (off < n) {
		size_t alen = strnlen(buf + off, n - off);
		if (!utf8_plain(buf + off, alen))
			return false;
		off += alen + 1;
	}
	return true;
}
