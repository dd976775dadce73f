/* Proves the collector address list parser: host:port and [v6]:port entries, labels, and each kind of bad entry. */
#include "unit.h"

#include "addr.h"

/* Names, IPv4 and IPv6 entries, split by commas and blanks, keep their labels. */
static void
test_list(void **state)
{
	struct collector_addr a[4];
	char err[256];
	size_t n = 99;
	(void)state;
	assert_int_equal(addr_parse_list("siem.example:6514, [2001:db8::1]:6515\t10.0.0.1:1",
	    a, 4, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(a[0].host, "siem.example");
	assert_string_equal(a[0].port, "6514");
	assert_int_equal(a[0].portnum, 6514);
	assert_string_equal(a[1].host, "2001:db8::1");
	assert_string_equal(a[1].label, "[2001:db8::1]:6515");
	assert_string_equal(a[2].label, "10.0.0.1:1");
}

/* Every malformed entry is refused with its reason, and the list has a bound. */
static void
test_bad(void **state)
{
	static const struct { const char *in, *err; } cases[] = {
		{ "nohost", "bad address 'nohost' (expected host:port)" },
		{ "a:b:1", "bad address 'a:b:1' (expected host:port)" },
		{ "[::1]6514", "bad address '[::1]6514' (expected [ipv6]:port)" },
		{ "host:0", "bad address 'host:0' (expected host:port, port 1-65535)" },
		{ ":514", "bad address ':514' (expected host:port, port 1-65535)" },
		{ " , ", "no collector address given" },
		{ "a:1,b:2,c:3", "more than 2 collector addresses" },
	};
	struct collector_addr a[2];
	char err[256];
	size_t n;
	(void)state;
	for (size_t i = 0; i < UNIT_COUNT(cases); i++) {
		assert_int_equal(addr_parse_list(cases[i].in, a, 2, &n, err, sizeof(err)), -1);
		assert_string_equal(err, cases[i].err);
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_bad),
	};

	return unit_main(argc, argv, "addr", tests, UNIT_COUNT(tests), NULL, 0);
}
