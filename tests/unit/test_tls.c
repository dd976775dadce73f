/* Proves text a collector chose reaches the agent's log escaped: control bytes, invalid UTF-8, misleading characters and backslashes shown as \xHH, its length bounded. */
#include "unit.h"

#include "tls.h"

static const char *
peer(const char *s, size_t n, char *out, size_t outlen)
{
	return tls_peer_text(s, n, out, outlen);
}

/* Plain UTF-8 passes unchanged. */
static void
test_plain(void **state)
{
	char out[TLS_PEER_TEXT_BUF];
	(void)state;
	assert_string_equal(peer("500 busy", 8, out, sizeof(out)), "500 busy");
	assert_string_equal(peer("caf\xc3\xa9", 5, out, sizeof(out)), "caf\xc3\xa9");
	assert_string_equal(peer("", 0, out, sizeof(out)), "");
}

/* A newline, ESC, NUL, DEL and bytes that are not UTF-8 become \xHH; a backslash doubles. */
static void
test_controls_and_invalid(void **state)
{
	char out[TLS_PEER_TEXT_BUF];
	(void)state;
	assert_string_equal(peer("a\nb\x1b[31m", 8, out, sizeof(out)), "a\\x0ab\\x1b[31m");
	assert_string_equal(peer("x\0y\x7f", 4, out, sizeof(out)), "x\\x00y\\x7f");
	assert_string_equal(peer("\xff\xc3(", 3, out, sizeof(out)), "\\xff\\xc3(");
	assert_string_equal(peer("a\\x41", 5, out, sizeof(out)), "a\\\\x41");
}

/* C1 controls, line separators and bidirectional overrides are escaped too. */
static void
test_misleading(void **state)
{
	char out[TLS_PEER_TEXT_BUF];
	(void)state;
	assert_string_equal(peer("\xc2\x85", 2, out, sizeof(out)), "\\xc2\\x85");
	assert_string_equal(peer("a\xe2\x80\xae" "b", 5, out, sizeof(out)), "a\\xe2\\x80\\xaeb");
	assert_string_equal(peer("\xe2\x80\xa8", 3, out, sizeof(out)), "\\xe2\\x80\\xa8");
	assert_string_equal(peer("\xe2\x81\xa6", 3, out, sizeof(out)), "\\xe2\\x81\\xa6");
	assert_string_equal(peer("\xc2\xa0", 2, out, sizeof(out)), "\xc2\xa0");
}

/* Long text stops after TLS_PEER_TEXT_MAX bytes with "...", and never overruns out. */
static void
test_bounded(void **state)
{
	char in[4096], out[TLS_PEER_TEXT_BUF], small[16];
	(void)state;
	memset(in, 'A', sizeof(in));
	peer(in, sizeof(in), out, sizeof(out));
	assert_int_equal(strlen(out), TLS_PEER_TEXT_MAX + 3);
	assert_string_equal(out + TLS_PEER_TEXT_MAX, "...");
	memset(in, '\n', sizeof(in));
	peer(in, sizeof(in), out, sizeof(out));
	assert_int_equal(strlen(out), 4 * TLS_PEER_TEXT_MAX + 3);
	peer(in, sizeof(in), small, sizeof(small));
	assert_true(strlen(small) < sizeof(small));
	assert_string_equal(small, "\\x0a\\x0a\\x0a...");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_controls_and_invalid),
		cmocka_unit_test(test_misleading),
		cmocka_unit_test(test_bounded),
	};
	return unit_main(argc, argv, "tls", tests, UNIT_COUNT(tests), NULL, 0);
}
