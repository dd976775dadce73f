/* Proves that escape.c validates UTF-8 strictly, escapes valid but misleading code points too, and that bytes_escape is valid UTF-8 and reversed exactly by bytes_unescape. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "unit.h"

/* A deterministic generator, so a failing case is the same case every run. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* Asserts the round trip and the UTF-8 property for n bytes at s. */
static void
check_roundtrip(const char *s, size_t n)
{
	size_t elen = (size_t)-1, ulen = (size_t)-1;
	char *e = bytes_escape(s, n, &elen);
	char *back;

	assert_non_null(e);
	assert_int_equal(strlen(e), elen);
	assert_true(utf8_valid(e, elen));
	back = malloc(elen + 1);
	assert_non_null(back);
	assert_int_equal(bytes_unescape(e, elen, back, &ulen), 0);
	assert_int_equal(ulen, n);
	assert_memory_equal(back, s, n);
	free(back);
	free(e);
}

static void
test_valid_utf8(void **state)
{
	static const char *ok[] = {
		"", "plain ascii", "tab\tand\nnewline\x7f",
		"\xc2\x80",			/* U+0080, smallest 2-byte */
		"caf\xc3\xa9",			/* é */
		"\xdf\xbf",			/* U+07FF */
		"\xe0\xa0\x80",			/* U+0800, smallest 3-byte */
		"\xe2\x82\xac",			/* € */
		"\xed\x9f\xbf",			/* U+D7FF, just below surrogates */
		"\xee\x80\x80",			/* U+E000, just above */
		"\xef\xbf\xbf",			/* U+FFFF */
		"\xf0\x90\x80\x80",		/* U+10000, smallest 4-byte */
		"\xf0\x9f\x98\x80",		/* emoji */
		"\xf4\x8f\xbf\xbf",		/* U+10FFFF, the top */
	};
	for (size_t i = 0; i < UNIT_COUNT(ok); i++)
		if (!utf8_valid(ok[i], strlen(ok[i])))
			fail_msg("valid string %zu refused", i);
}

static void
test_invalid_utf8(void **state)
{
	static const char *bad[] = {
		"\x80",				/* lone continuation */
		"\xbf",
		"\xc0\x80",			/* overlong NUL */
		"\xc1\xbf",			/* overlong 2-byte */
		"\xc2",				/* truncated */
		"\xc2\x41",			/* bad continuation */
		"\xe0\x80\x80",			/* overlong 3-byte */
		"\xe0\x9f\xbf",
		"\xe2\x82",			/* truncated */
		"\xed\xa0\x80",			/* surrogate U+D800 */
		"\xed\xbf\xbf",			/* surrogate U+DFFF */
		"\xf0\x80\x80\x80",		/* overlong 4-byte */
		"\xf0\x8f\xbf\xbf",
		"\xf4\x90\x80\x80",		/* U+110000 */
		"\xf5\x80\x80\x80",
		"\xf8\x88\x80\x80\x80",		/* 5-byte form */
		"\xfe", "\xff",
		"ok then \xff",
		"\xf0\x9f\x98",			/* truncated emoji */
	};
	for (size_t i = 0; i < UNIT_COUNT(bad); i++)
		if (utf8_valid(bad[i], strlen(bad[i])))
			fail_msg("invalid string %zu accepted", i);
	/* A NUL byte is not allowed inside a string either. */
	assert_false(utf8_valid("a\0b", 3));
	assert_true(utf8_valid("a\0b", 1));
}

static void
test_valid_prefix(void **state)
{
	assert_int_equal(utf8_valid_prefix((const unsigned char *)"ab\xff" "cd", 5), 2);
	assert_int_equal(utf8_valid_prefix((const unsigned char *)"a\0b", 3), 1);
	assert_int_equal(utf8_valid_prefix((const unsigned char *)"\xc3\xa9\xe2\x82", 4), 2);
	assert_int_equal(utf8_valid_prefix((const unsigned char *)"\xe2\x82\xac", 3), 3);
	/* n bounds the read even where the string goes on. */
	assert_int_equal(utf8_valid_prefix((const unsigned char *)"\xe2\x82\xac", 2), 0);
	assert_int_equal(utf8_valid_prefix((const unsigned char *)"", 0), 0);
}

static void
test_escape_exact_output(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		const char *out;
	} cases[] = {
		{ "plain", 5, "plain" },
		{ "a\\b", 3, "a\\\\b" },
		{ "\xff", 1, "\\xff" },
		{ "\x00", 1, "\\x00" },
		{ "a\x00" "b", 3, "a\\x00b" },
		{ "\xc3", 1, "\\xc3" },
		{ "caf\xc3\xa9\xff", 6, "caf\xc3\xa9\\xff" },
		{ "\xed\xa0\x80", 3, "\\xed\\xa0\\x80" },
		{ "\\x41", 4, "\\\\x41" },	/* a literal escape stays literal */
		{ "\xe2\x82\xac\\", 4, "\xe2\x82\xac\\\\" },
	};
	for (size_t i = 0; i < UNIT_COUNT(cases); i++) {
		size_t elen;
		char *e = bytes_escape(cases[i].in, cases[i].n, &elen);
		if (strcmp(e, cases[i].out) != 0)
			fail_msg("case %zu: escaped to \"%s\", want \"%s\"", i, e,
			    cases[i].out);
		assert_int_equal(elen, strlen(cases[i].out));
		free(e);
		check_roundtrip(cases[i].in, cases[i].n);
	}
	/* outlen is optional. */
	char *e = bytes_escape("\x01\xfe", 2, NULL);
	assert_string_equal(e, "\x01\\xfe");
	free(e);
}

static void
test_unescape_rejects(void **state)
{
	static const char *bad[] = {
		"\\", "a\\", "\\x", "\\x4", "\\xg0", "\\x0g", "\\n", "\\u0041",
		"ok\\X41",
	};
	char out[32];
	size_t olen = 99;

	for (size_t i = 0; i < UNIT_COUNT(bad); i++)
		if (bytes_unescape(bad[i], strlen(bad[i]), out, &olen) != -1)
			fail_msg("unescape accepted \"%s\"", bad[i]);
	assert_int_equal(olen, 99);
	/* Upper-case hex is read too, and n bounds the input. */
	assert_int_equal(bytes_unescape("\\xFFz", 4, out, &olen), 0);
	assert_int_equal(olen, 1);
	assert_int_equal((unsigned char)out[0], 0xff);
	assert_int_equal(bytes_unescape("\\x41\\x42", 5, out, &olen), -1);
}

static void
test_roundtrip_all_bytes(void **state)
{
	char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	check_roundtrip(all, sizeof(all));
	for (int i = 0; i < 256; i++)
		check_roundtrip(all + i, 1);
}

static void
test_roundtrip_random(void **state)
{
	/* Biased toward the bytes that matter: \, x, hex digits, lead bytes. */
	static const unsigned char interesting[] = {
		'\\', 'x', 'a', 'f', '0', '9', 0x00, 0x7f, 0x80, 0xbf, 0xc0, 0xc2,
		0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x9f, 0x8f, 0x90,
	};
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char buf[64];

	for (int iter = 0; iter < 20000; iter++) {
		size_t n = rng_next(&seed) % sizeof(buf);
		for (size_t i = 0; i < n; i++) {
			uint64_t r = rng_next(&seed);
			buf[i] = (char)(r & 1 ? interesting[(r >> 8) % sizeof(interesting)]
			    : (unsigned char)(r >> 16));
		}
		check_roundtrip(buf, n);
	}
}

static void
test_truncate(void **state)
{
	const char *e_acute = "a\xc3\xa9";		/* a é: 3 bytes */
	const char *euro = "\xe2\x82\xac";
	const char *emoji = "\xf0\x9f\x98\x80" "b";

	assert_int_equal(utf8_truncate("abc", 3, 5), 3);
	assert_int_equal(utf8_truncate("abc", 3, 3), 3);
	assert_int_equal(utf8_truncate("abc", 3, 2), 2);
	assert_int_equal(utf8_truncate(e_acute, 3, 2), 1);
	assert_int_equal(utf8_truncate(e_acute, 3, 1), 1);
	assert_int_equal(utf8_truncate(euro, 3, 2), 0);
	assert_int_equal(utf8_truncate(euro, 3, 1), 0);
	assert_int_equal(utf8_truncate(emoji, 5, 1), 0);
	assert_int_equal(utf8_truncate(emoji, 5, 2), 0);
	assert_int_equal(utf8_truncate(emoji, 5, 3), 0);
	assert_int_equal(utf8_truncate(emoji, 5, 4), 4);
	assert_int_equal(utf8_truncate(emoji, 5, 0), 0);
	/* Whatever the cut, the kept prefix of valid text stays valid. */
	const char *mixed = "x\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80y";
	size_t n = strlen(mixed);
	for (size_t max = 0; max <= n; max++) {
		size_t cut = utf8_truncate(mixed, n, max);
		assert_true(cut <= max);
		assert_true(max - cut <= 3);
		assert_true(utf8_valid(mixed, cut));
	}
}

static void
test_valid_args(void **state)
{
	assert_true(utf8_plain_args("", 0));
	assert_true(utf8_plain_args("ls\0-l\0caf\xc3\xa9", 11));
	assert_true(utf8_plain_args("ls\0-l\0", 6));
	assert_true(utf8_plain_args("\0\0\0", 3));
	assert_false(utf8_plain_args("ls\0\xff\0x", 6));
	assert_false(utf8_plain_args("\xc3", 1));
	/* The NULs are separators: a sequence split by one is not valid. */
	assert_false(utf8_plain_args("\xc3\0\xa9", 3));
	/* n bounds the buffer. */
	assert_true(utf8_plain_args("ok\0\xff", 3));
}

/*
 * Valid UTF-8 that misleads a reader is escaped byte by byte like invalid
 * UTF-8, reversibly; its neighbours in the code space pass unchanged.
 */
static void
test_misleading_escaped(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} bad[] = {
		{ "\xc2\x80", "\\xc2\\x80" },			/* U+0080, first C1 */
		{ "a\xc2\x9b" "31m", "a\\xc2\\x9b31m" },	/* CSI */
		{ "\xc2\x9f", "\\xc2\\x9f" },			/* U+009F, last C1 */
		{ "\xd8\x9c", "\\xd8\\x9c" },			/* U+061C ALM */
		{ "\xe2\x80\x8e", "\\xe2\\x80\\x8e" },	/* U+200E LRM */
		{ "\xe2\x80\x8f", "\\xe2\\x80\\x8f" },	/* U+200F RLM */
		{ "\xe2\x80\xa8", "\\xe2\\x80\\xa8" },	/* U+2028 LS */
		{ "\xe2\x80\xa9", "\\xe2\\x80\\xa9" },	/* U+2029 PS */
		{ "\xe2\x80\xaa", "\\xe2\\x80\\xaa" },	/* U+202A LRE */
		{ "x\xe2\x80\xaey", "x\\xe2\\x80\\xaey" },	/* U+202E RLO */
		{ "\xe2\x81\xa6", "\\xe2\\x81\\xa6" },	/* U+2066 LRI */
		{ "\xe2\x81\xa9", "\\xe2\\x81\\xa9" },	/* U+2069 PDI */
		{ "caf\xc3\xa9\xe2\x80\xae", "caf\xc3\xa9\\xe2\\x80\\xae" },
	};
	static const char *ok[] = {
		"\x7f", "\xc2\xa0",		/* U+007F, U+00A0 around C1 */
		"\xd8\x9b", "\xd8\x9d",		/* around U+061C */
		"\xe2\x80\x8d",		/* U+200D ZWJ (emoji sequences) */
		"\xe2\x80\xa7", "\xe2\x80\xaf",	/* around U+2028..U+202E */
		"\xe2\x81\xa5", "\xe2\x81\xaa",	/* around U+2066..U+2069 */
		"\x01\x1b[31m",		/* C0: JSON escapes those */
	};
	for (size_t i = 0; i < UNIT_COUNT(bad); i++) {
		size_t elen;
		char *e = bytes_escape(bad[i].in, strlen(bad[i].in), &elen);
		if (strcmp(e, bad[i].out) != 0)
			fail_msg("case %zu: escaped to \"%s\", want \"%s\"", i, e, bad[i].out);
		free(e);
		assert_true(utf8_valid(bad[i].in, strlen(bad[i].in)));
		assert_false(utf8_plain(bad[i].in, strlen(bad[i].in)));
		check_roundtrip(bad[i].in, strlen(bad[i].in));
	}
	for (size_t i = 0; i < UNIT_COUNT(ok); i++) {
		char *e = bytes_escape(ok[i], strlen(ok[i]), NULL);
		if (!utf8_plain(ok[i], strlen(ok[i])) || strcmp(e, ok[i]) != 0)
			fail_msg("plain string %zu escaped", i);
		free(e);
	}
	assert_false(utf8_plain("a\0b", 3));
	assert_false(utf8_plain("\xff", 1));
	assert_false(utf8_plain_args("ls\0\xe2\x80\xae", 5));
}

/* Runs one corpus or regression file through the round-trip property. */
static void
replay_one(const char *name, const char *buf, size_t len, void *arg)
{
	size_t p = utf8_valid_prefix((const unsigned char *)buf, len);
	size_t cut = utf8_truncate(buf, len, len / 2);

	print_message("replay %s (%zu bytes)\n", name, len);
	check_roundtrip(buf, len);
	assert_true(p <= len);
	assert_true(utf8_valid(buf, p));
	assert_true(cut <= len / 2 && len / 2 - cut <= 3);
}

static void
test_replay_fuzz_inputs(void **state)
{
	size_t n = unit_for_each_file(HIDS_FUZZ_DIR "/corpus/escape", replay_one, NULL);
	assert_true(n > 0);	/* the seed corpus is part of the repository */
	unit_for_each_file(HIDS_FUZZ_DIR "/regressions/escape", replay_one, NULL);
}

/*
 * utf8_plain's word-at-a-time scan of ASCII finds a byte that needs an
 * escape at every offset of the 8-byte words, in strings of every length
 * up to 40, and lets the plain ones through (C0 controls but NUL are
 * valid and not misleading: JSON escapes them).
 */
static void
test_plain_word_scan(void **state)
{
	const struct { const char *b; bool plain; } cases[] = {
		{ "\x00", false }, { "\x01", true }, { "\x1f", true }, { "\x7f", true },
		{ " ", true }, { "\x80", false }, { "\xc3", false }, { "\xff", false },
		{ "\xc3\xa9", true }, { "\xe2\x80\xae", false }, { "\xc2\x85", false },
	};
	char in[48];
	(void)state;

	for (size_t n = 4; n <= 40; n++)
		for (size_t pos = 0; pos + 3 <= n; pos++)
			for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
				size_t bl = strlen(cases[k].b) ? strlen(cases[k].b) : 1;
				for (size_t i = 0; i < n; i++)
					in[i] = (char)('a' + i % 26);
				memcpy(in + pos, cases[k].b, bl);
				if (utf8_plain(in, n) != cases[k].plain)
					fail_msg("length %zu, case %zu at %zu: utf8_plain says %d", n, k, pos,
					    !cases[k].plain);
			}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_utf8),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_valid_prefix),
		cmocka_unit_test(test_escape_exact_output),
		cmocka_unit_test(test_unescape_rejects),
		cmocka_unit_test(test_roundtrip_all_bytes),
		cmocka_unit_test(test_roundtrip_random),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_valid_args),
		cmocka_unit_test(test_misleading_escaped),
		cmocka_unit_test(test_replay_fuzz_inputs),
		cmocka_unit_test(test_plain_word_scan),
	};
	return unit_main(argc, argv, "escape", tests, UNIT_COUNT(tests), NULL, 0);
}
