/* Proves the generic JSON writer: commas and nesting, string escapes, optional objects that vanish when empty, arrays and hex. */
#include <stdio.h>
#include <string.h>

#include "unit.h"

#include "json.h"

/* Returns the document written so far as a NUL-terminated string (in w's buffer). */
static const char *
text(struct jw *w)
{
	jw_char(w, '\0');
	w->len--;
	return w->buf;
}

/* Members get their commas, nested objects their braces, strings their escapes. */
static void
test_members(void **state)
{
	struct jw w = { 0 };
	const char *names[] = { "a", "b\"" };
	const uint8_t bytes[] = { 0x00, 0xab, 0xff };
	(void)state;
	jw_open(&w, NULL);
	jw_str(&w, "s", "q\"\\\n\t\x01");
	jw_int(&w, "i", -42);
	jw_open(&w, "o");
	jw_bool(&w, "t", true);
	jw_bool(&w, "f", false);
	jw_close(&w);
	jw_str_array(&w, "l", names, 2);
	jw_hex(&w, "h", bytes, sizeof(bytes));
	jw_close(&w);
	assert_string_equal(text(&w), "{\"s\":\"q\\\"\\\\\\n\\t\\u0001\",\"i\":-42,"
	    "\"o\":{\"t\":true,\"f\":false},\"l\":[\"a\",\"b\\\"\"],\"h\":\"00abff\"}");
	assert_int_equal(w.depth, 0);
	free(w.buf);
}

/* An optional object stays only when something went in it; the comma state is restored. */
static void
test_optional(void **state)
{
	struct jw w = { 0 };
	struct jw_mark m;
	(void)state;
	jw_open(&w, NULL);
	m = jw_open_opt(&w, "empty");
	jw_close_opt(&w, m);
	jw_int(&w, "a", 1);
	m = jw_open_opt(&w, "empty2");
	jw_close_opt(&w, m);
	m = jw_open_opt(&w, "full");
	jw_int(&w, "b", 2);
	jw_close_opt(&w, m);
	jw_close(&w);
	assert_string_equal(text(&w), "{\"a\":1,\"full\":{\"b\":2}}");
	free(w.buf);
}

/* The buffer grows past its first size and can be reused for the next document. */
static void
test_grow_and_reuse(void **state)
{
	struct jw w = { 0 };
	char big[5000];
	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	jw_open(&w, NULL);
	jw_str(&w, "big", big);
	jw_close(&w);
	assert_int_equal(w.len, sizeof(big) - 1 + 10);
	w.len = 0;
	w.depth = 0;
	w.has[0] = false;
	jw_open(&w, NULL);
	jw_close(&w);
	assert_string_equal(text(&w), "{}");
	free(w.buf);
}

/* The escape of one byte, the way JSON wants it, one byte at a time. */
static void
ref_escape(char *out, size_t *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	const char *e = NULL;

	switch (c) {
	case '"': e = "\\\""; break;
	case '\\': e = "\\\\"; break;
	case '\n': e = "\\n"; break;
	case '\r': e = "\\r"; break;
	case '\t': e = "\\t"; break;
	case '\b': e = "\\b"; break;
	case '\f': e = "\\f"; break;
	default:
		if (c < 0x20) {
			*o += (size_t)sprintf(out + *o, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
			return;
		}
		out[(*o)++] = (char)c;
		return;
	}
	*o += (size_t)sprintf(out + *o, "%s", e);
}

/*
 * The word-at-a-time scan of jw_chars escapes exactly what a byte-by-byte
 * scan does: every byte that needs an escape, at every offset of the
 * 8-byte words, in strings of every length up to 40, among plain ASCII
 * and UTF-8 bytes (0x80 and above pass through).
 */
static void
test_chars_word_scan(void **state)
{
	const unsigned char special[] = { 0x00, 0x01, 0x1f, '"', '\\', '\n', 0x7f, 0x80, 0xc3, 0xff, 0x20, 0x21, 0x5b, 0x5d };
	char in[48], want[48 * 6 + 1];
	struct jw w = { 0 };
	(void)state;

	for (size_t n = 0; n <= 40; n++)
		for (size_t pos = 0; pos < n; pos++)
			for (size_t k = 0; k < sizeof(special); k++) {
				size_t o = 0;
				for (size_t i = 0; i < n; i++)
					in[i] = (char)('a' + i % 26);
				in[pos] = (char)special[k];
				if (pos + 9 < n)	/* and a second one a word further on */
					in[pos + 9] = (char)special[(k + 3) % sizeof(special)];
				for (size_t i = 0; i < n; i++)
					ref_escape(want, &o, (unsigned char)in[i]);
				w.len = 0;
				jw_chars(&w, in, n);
				if (w.len != o || memcmp(w.buf, want, o) != 0)
					fail_msg("length %zu, byte 0x%02x at %zu: got %.*s, want %.*s", n,
					    special[k], pos, (int)w.len, w.buf, (int)o, want);
			}
	free(w.buf);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_optional),
		cmocka_unit_test(test_grow_and_reuse),
		cmocka_unit_test(test_chars_word_scan),
	};

	return unit_main(argc, argv, "json", tests, UNIT_COUNT(tests), NULL, 0);
}
