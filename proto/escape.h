/*
 * escape.h: makes attacker-controlled bytes (argv, paths, comm) safe for a
 * JSON string that must be valid UTF-8, reversibly. Pure code.
 *
 * A string that is valid UTF-8 is passed unchanged (JSON's own escaping
 * handles quotes and control characters), unless it holds a code point
 * that misleads a reader (C1 controls U+0080-U+009F, U+2028/U+2029, the
 * bidirectional marks U+061C, U+200E, U+200F, embeddings and overrides
 * U+202A-U+202E and isolates U+2066-U+2069). Otherwise the whole string is
 * escaped: every backslash becomes two, and every byte that is not part of
 * a valid UTF-8 sequence, or is part of a misleading one, becomes \xHH.
 * The event lists such fields in hids.escaped, so a reader knows to
 * reverse it with bytes_unescape().
 */
#ifndef HIDS_ESCAPE_H
#define HIDS_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* escape.c */
size_t utf8_valid_prefix(const unsigned char *s, size_t n);
bool utf8_valid(const char *s, size_t n);
bool utf8_plain(const char *s, size_t n);
char *bytes_escape(const char *s, size_t n, size_t *outlen);
int bytes_unescape(const char *s, size_t n, char *out, size_t *outlen);
size_t utf8_truncate(const char *s, size_t n, size_t max);
bool utf8_plain_args(const char *buf, size_t n);

#endif
