/*
 * json.h: the generic JSON writer encode.c builds its lines with. A struct
 * jw is a buffer plus, per open object, whether it has a member yet; the
 * caller owns w->buf (zero the struct to start, free buf when done) and may
 * reset len and depth to write the next document into the same buffer.
 * Strings must be valid UTF-8: escaping raw bytes is escape.c's job. Pure.
 */
#ifndef HIDS_JSON_H
#define HIDS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define JW_MAX_DEPTH 8	/* objects open at once, the document included */

/* A document being written. */
struct jw {
	char *buf;
	size_t len, cap;
	int depth;
	bool has[JW_MAX_DEPTH];
};

/* Where an optional object began: the line's length and whether its parent had a member. */
struct jw_mark {
	size_t len;
	bool had;
};

/* json.c */
void jw_grow(struct jw *w, size_t more);
void jw_chars(struct jw *w, const char *s, size_t n);
void jw_string(struct jw *w, const char *s, size_t n);
void jw_key(struct jw *w, const char *key);
void jw_open(struct jw *w, const char *key);
void jw_close(struct jw *w);
struct jw_mark jw_open_opt(struct jw *w, const char *key);
void jw_close_opt(struct jw *w, struct jw_mark m);
void jw_str(struct jw *w, const char *key, const char *s);
void jw_int(struct jw *w, const char *key, int64_t v);
void jw_bool(struct jw *w, const char *key, bool v);
void jw_str_array(struct jw *w, const char *key, const char *const *names, int n);
void jw_hex(struct jw *w, const char *key, const uint8_t *b, size_t n);

/* Makes room for more bytes; inline, as the writer calls it for every byte it adds. */
static inline void
jw_reserve(struct jw *w, size_t more)
{
	if (w->len + more > w->cap)
		jw_grow(w, more);
}

/* Appends n bytes as they are. */
static inline void
jw_raw(struct jw *w, const char *s, size_t n)
{
	jw_reserve(w, n);
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

/* Appends one byte. */
static inline void
jw_char(struct jw *w, char c)
{
	jw_reserve(w, 1);
	w->buf[w->len++] = c;
}

#endif
