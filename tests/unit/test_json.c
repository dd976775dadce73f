/* Proves the generic JSON writer: commas and nesting, string escapes, optional objects that vanish when empty, arrays and hex. */
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

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_optional),
		cmocka_unit_test(test_grow_and_reuse),
	};

	return unit_main(argc, argv, "json", tests, UNIT_COUNT(tests), NULL, 0);
}
