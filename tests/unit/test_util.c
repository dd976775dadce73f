/* Proves that parse_size, parse_u64, parse_i64, parse_bool and strlcpy_trunc accept exactly their documented forms and ranges, and that fmt_u64 and fmt_i64 write what snprintf does. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "unit.h"

#define SENTINEL 0xdeadbeefcafef00dull

/* Asserts that parse_size accepts s within [min, max] and yields want. */
static void
size_ok(const char *s, uint64_t min, uint64_t max, uint64_t want)
{
	uint64_t v = SENTINEL;
	if (parse_size(s, min, max, &v) != 0)
		fail_msg("parse_size(\"%s\") refused a valid size", s);
	if (v != want)
		fail_msg("parse_size(\"%s\") = %llu, want %llu", s,
		    (unsigned long long)v, (unsigned long long)want);
}

/* Asserts that parse_size refuses s and leaves the output alone. */
static void
size_bad(const char *s, uint64_t min, uint64_t max)
{
	uint64_t v = SENTINEL;
	if (parse_size(s, min, max, &v) != -1)
		fail_msg("parse_size(\"%s\") accepted, got %llu", s ? s : "(null)",
		    (unsigned long long)v);
	assert_true(v == SENTINEL);
}

static void
test_parse_size_units(void **state)
{
	size_ok("0", 0, UINT64_MAX, 0);
	size_ok("4096", 0, UINT64_MAX, 4096);
	size_ok("007", 0, UINT64_MAX, 7);
	size_ok("4K", 0, UINT64_MAX, 4096);
	size_ok("4k", 0, UINT64_MAX, 4096);
	size_ok("2M", 0, UINT64_MAX, 2ull << 20);
	size_ok("2m", 0, UINT64_MAX, 2ull << 20);
	size_ok("1G", 0, UINT64_MAX, 1ull << 30);
	size_ok("16g", 0, UINT64_MAX, 16ull << 30);
	size_ok("0K", 0, UINT64_MAX, 0);
}

static void
test_parse_size_rejects_garbage(void **state)
{
	const char *bad[] = {
		"", "K", "M", "-1", "+1", " 1", "1 ", "1.5M", "1KB", "1T", "1KK",
		"0x10", "1e3", "16 K", "K16", "abc", "1\n",
		"1234567890123456789012345678901",	/* 31 chars */
	};
	for (size_t i = 0; i < UNIT_COUNT(bad); i++)
		size_bad(bad[i], 0, UINT64_MAX);
	size_bad(NULL, 0, UINT64_MAX);
}

static void
test_parse_size_bounds(void **state)
{
	size_ok("64K", 64u << 10, 1u << 30, 64u << 10);
	size_bad("65535", 64u << 10, 1u << 30);
	size_bad("63K", 64u << 10, 1u << 30);
	size_ok("1G", 64u << 10, 1u << 30, 1u << 30);
	size_bad("1073741825", 64u << 10, 1u << 30);
	size_bad("1025M", 64u << 10, 1u << 30);
}

static void
test_parse_size_overflow(void **state)
{
	size_ok("18446744073709551615", 0, UINT64_MAX, UINT64_MAX);
	size_bad("18446744073709551616", 0, UINT64_MAX);
	/* 2^34 G is 2^64: one past the top. */
	size_ok("17179869183G", 0, UINT64_MAX, 17179869183ull << 30);
	size_bad("17179869184G", 0, UINT64_MAX);
	size_ok("18014398509481983K", 0, UINT64_MAX, 18014398509481983ull << 10);
	size_bad("18014398509481984K", 0, UINT64_MAX);
}

static void
test_parse_u64(void **state)
{
	uint64_t v = SENTINEL;

	assert_int_equal(parse_u64("0", 0, 10, &v), 0);
	assert_true(v == 0);
	assert_int_equal(parse_u64("10", 0, 10, &v), 0);
	assert_true(v == 10);
	assert_int_equal(parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);

	const char *bad[] = { "", "-0", "-1", "+1", " 1", "1 ", "1x", "x1",
	    "18446744073709551616", "99999999999999999999999" };
	for (size_t i = 0; i < UNIT_COUNT(bad); i++) {
		v = SENTINEL;
		if (parse_u64(bad[i], 0, UINT64_MAX, &v) != -1)
			fail_msg("parse_u64(\"%s\") accepted", bad[i]);
		assert_true(v == SENTINEL);
	}
	assert_int_equal(parse_u64("11", 0, 10, &v), -1);
	assert_int_equal(parse_u64("4", 5, 10, &v), -1);
	assert_int_equal(parse_u64(NULL, 0, 10, &v), -1);
	assert_true(v == SENTINEL);
}

static void
test_parse_i64(void **state)
{
	int64_t v = 0;

	assert_int_equal(parse_i64("-20", -20, 19, &v), 0);
	assert_true(v == -20);
	assert_int_equal(parse_i64("19", -20, 19, &v), 0);
	assert_true(v == 19);
	assert_int_equal(parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == INT64_MIN);
	v = 7;
	assert_int_equal(parse_i64("-21", -20, 19, &v), -1);
	assert_int_equal(parse_i64("20", -20, 19, &v), -1);
	assert_int_equal(parse_i64("", -20, 19, &v), -1);
	assert_int_equal(parse_i64(" 1", -20, 19, &v), -1);
	assert_int_equal(parse_i64("1 ", -20, 19, &v), -1);
	assert_int_equal(parse_i64("1a", -20, 19, &v), -1);
	assert_int_equal(parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(parse_i64(NULL, -20, 19, &v), -1);
	assert_true(v == 7);
}

static void
test_parse_bool(void **state)
{
	const char *yes[] = { "yes", "YES", "Yes", "true", "TRUE", "on", "On", "1" };
	const char *no[] = { "no", "NO", "false", "False", "off", "OFF", "0" };
	const char *bad[] = { "", "y", "n", "2", "01", "yes ", " no", "enable", "nope" };
	bool b;

	for (size_t i = 0; i < UNIT_COUNT(yes); i++) {
		b = false;
		assert_int_equal(parse_bool(yes[i], &b), 0);
		assert_true(b);
	}
	for (size_t i = 0; i < UNIT_COUNT(no); i++) {
		b = true;
		assert_int_equal(parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	for (size_t i = 0; i < UNIT_COUNT(bad); i++) {
		b = true;
		if (parse_bool(bad[i], &b) != -1)
			fail_msg("parse_bool(\"%s\") accepted", bad[i]);
		assert_true(b);
	}
}

static void
test_strlcpy_trunc(void **state)
{
	char buf[6];

	memset(buf, 'z', sizeof(buf));
	assert_int_equal(strlcpy_trunc(buf, "abc", sizeof(buf)), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(strlcpy_trunc(buf, "abcdefgh", sizeof(buf)), 8);
	assert_string_equal(buf, "abcde");
	assert_int_equal(strlcpy_trunc(buf, "", sizeof(buf)), 0);
	assert_string_equal(buf, "");
	buf[0] = 'q';
	assert_int_equal(strlcpy_trunc(buf, "xyz", 0), 3);
	assert_int_equal(buf[0], 'q');
}

/* xgrow starts at its first size, doubles to fit, and leaves a large enough buffer alone. */
static void
test_xgrow(void **state)
{
	size_t cap = 0;
	char *b = xgrow(NULL, &cap, 10, 64), *same;
	(void)state;
	assert_int_equal(cap, 64);
	memset(b, 'x', 64);
	same = xgrow(b, &cap, 64, 64);
	assert_ptr_equal(same, b);
	assert_int_equal(cap, 64);
	b = xgrow(b, &cap, 300, 64);
	assert_int_equal(cap, 512);
	assert_int_equal(b[63], 'x');
	free(b);
}

/* fmt_u64 and fmt_i64 write what snprintf writes, at the edges and in between. */
static void
test_fmt_numbers(void **state)
{
	(void)state;
	uint64_t u[] = { 0, 1, 9, 10, 99, 100, 4294967295ull, 4294967296ull,
	    9999999999999999999ull, 10000000000000000000ull, UINT64_MAX };
	int64_t s[] = { 0, -1, 1, -9, -10, INT64_MAX, INT64_MIN, INT64_MIN + 1 };
	char got[24], want[24];
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		snprintf(want, sizeof(want), "%" PRIu64, u[i]);
		assert_int_equal(fmt_u64(got, u[i]), strlen(want));
		assert_string_equal(got, want);
	}
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		snprintf(want, sizeof(want), "%" PRId64, s[i]);
		assert_int_equal(fmt_i64(got, s[i]), strlen(want));
		assert_string_equal(got, want);
	}
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t v = x >> (x % 64);	/* every magnitude */
		snprintf(want, sizeof(want), "%" PRIu64, v);
		fmt_u64(got, v);
		assert_string_equal(got, want);
		snprintf(want, sizeof(want), "%" PRId64, (int64_t)v);
		fmt_i64(got, (int64_t)v);
		assert_string_equal(got, want);
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size_units),
		cmocka_unit_test(test_parse_size_rejects_garbage),
		cmocka_unit_test(test_parse_size_bounds),
		cmocka_unit_test(test_parse_size_overflow),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_i64),
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test(test_strlcpy_trunc),
		cmocka_unit_test(test_xgrow),
		cmocka_unit_test(test_fmt_numbers),
	};
	return unit_main(argc, argv, "util", tests, UNIT_COUNT(tests), NULL, 0);
}
