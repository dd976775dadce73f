/*
 * json.c: a JSON writer into one growing buffer, key by key, with no tree
 * of objects: strings (valid UTF-8 already) get JSON's escapes, objects
 * their commas, and an optional object disappears again when nothing went
 * in it. It knows nothing of the event schema (encode.c) nor of the
 * reversible escaping of raw bytes (escape.c). No I/O.
 */
#include "json.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common.h"

/* Grows the buffer to hold more bytes past len (jw_reserve's slow path). */
void
jw_grow(struct jw *w, size_t more)
{
	w->buf = xgrow(w->buf, &w->cap, w->len + more, 1024);
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/*
 * Says whether none of the 8 bytes at s needs a JSON escape (a control
 * character, '"' or '\\'), a word at a time: (v - ONES) & ~v & HIGHS is
 * non-zero exactly when some byte of v is zero, and (x - 0x20 * ONES) & ~x
 * & HIGHS when some byte of x is below 0x20 (borrows only ever flag bytes
 * above a flagged one, so the answer for the word is exact).
 */
static inline bool
json_plain8(const char *s)
{
	uint64_t x, q, b;

	memcpy(&x, s, sizeof(x));
	q = x ^ ('"' * ONES);
	b = x ^ ('\\' * ONES);
	return ((((x - 0x20 * ONES) & ~x) | ((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGHS) == 0;
}

/* Writes s (valid UTF-8) as the inside of a JSON string: quotes, backslashes and control characters escaped. */
void
jw_chars(struct jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	jw_reserve(w, n);
	for (i = 0; i < n; i++) {
		/* Most of a line is plain: skip it 8 bytes at a time. */
		while (i + 8 <= n && json_plain8(s + i))
			i += 8;
		if (i >= n)
			break;
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jw_raw(w, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': jw_raw(w, "\\\"", 2); break;
		case '\\': jw_raw(w, "\\\\", 2); break;
		case '\n': jw_raw(w, "\\n", 2); break;
		case '\r': jw_raw(w, "\\r", 2); break;
		case '\t': jw_raw(w, "\\t", 2); break;
		case '\b': jw_raw(w, "\\b", 2); break;
		case '\f': jw_raw(w, "\\f", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			jw_raw(w, u, sizeof(u));
		}
		}
	}
	jw_raw(w, s + run, n - run);
}

/* Writes s (valid UTF-8) as a JSON string. */
void
jw_string(struct jw *w, const char *s, size_t n)
{
	jw_char(w, '"');
	jw_chars(w, s, n);
	jw_char(w, '"');
}

/* Starts a member: the comma if needed, then "key":. */
void
jw_key(struct jw *w, const char *key)
{
	if (w->has[w->depth])
		jw_char(w, ',');
	w->has[w->depth] = true;
	jw_char(w, '"');
	jw_raw(w, key, strlen(key));
	jw_raw(w, "\":", 2);
}

/* Opens a nested object; key NULL for the document itself. */
void
jw_open(struct jw *w, const char *key)
{
	if (key)
		jw_key(w, key);
	jw_char(w, '{');
	w->depth++;
	w->has[w->depth] = false;
}

/* Closes the innermost object. */
void
jw_close(struct jw *w)
{
	jw_char(w, '}');
	w->depth--;
}

/* Opens an object that is left out again (jw_close_opt) if nothing goes in it. */
struct jw_mark
jw_open_opt(struct jw *w, const char *key)
{
	struct jw_mark m = { w->len, w->has[w->depth] };

	jw_open(w, key);
	return m;
}

/* Closes an object from jw_open_opt, or takes it out again if it stayed empty. */
void
jw_close_opt(struct jw *w, struct jw_mark m)
{
	if (w->has[w->depth]) {
		jw_close(w);
		return;
	}
	w->depth--;
	w->len = m.len;
	w->has[w->depth] = m.had;
}

/* Writes "key":"s" for a NUL-terminated s (valid UTF-8). */
void
jw_str(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_string(w, s, strlen(s));
}

/* Writes "key":v. */
void
jw_int(struct jw *w, const char *key, int64_t v)
{
	char buf[24];
	size_t n = fmt_i64(buf, v);
	jw_key(w, key);
	jw_raw(w, buf, n);
}

/* Writes "key":true or false. */
void
jw_bool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	jw_raw(w, v ? "true" : "false", v ? 4 : 5);
}

/* Writes "key":["a","b",...] from n NUL-terminated strings (valid UTF-8). */
void
jw_str_array(struct jw *w, const char *key, const char *const *names, int n)
{
	jw_key(w, key);
	jw_char(w, '[');
	for (int i = 0; i < n; i++) {
		if (i > 0)
			jw_char(w, ',');
		jw_string(w, names[i], strlen(names[i]));
	}
	jw_char(w, ']');
}

/* Writes n (at most 32) bytes as lowercase hex under key. */
void
jw_hex(struct jw *w, const char *key, const uint8_t *b, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char buf[65] = { 0 };	/* n may be 0 */

	if (n > 32)
		n = 32;
	for (size_t i = 0; i < n; i++) {
		buf[2 * i] = hex[b[i] >> 4];
		buf[2 * i + 1] = hex[b[i] & 0xf];
	}
	jw_key(w, key);
	jw_string(w, buf, 2 * n);
}
