/* Proves that osrelease_parse reads os-release(5) files of real distributions and every quoting form into host.os.* as ECS and Elastic Defend name them, skips and counts malformed lines, keeps hostile bytes for the encoder to escape, caps values on a character boundary, and that host_os_set_uname joins release and version. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "osrelease.h"
#include "unit.h"

#define FIX HIDS_UNIT_FIXTURES "/os-release/"

/* Parses a fixture into os; returns the bad line count. */
static int
parse_fixture(const char *name, struct host_os *os, int *set)
{
	size_t len = 0;
	char path[256];
	int bad = -1;

	snprintf(path, sizeof(path), "%s%s", FIX, name);
	char *buf = unit_read_file(path, &len);
	assert_non_null(buf);
	*set = osrelease_parse(buf, len, os, &bad);
	free(buf);
	return bad;
}

static void
assert_str_or_null(const char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
}

/* Real files: Debian, Ubuntu (ID_LIKE debian), Rocky (ID_LIKE a list), Debian unstable (no VERSION_ID). */
static void
test_distributions(void **state)
{
	static const struct {
		const char *file, *family, *name, *version, *platform, *full;
	} t[] = {
		{ "debian12", "debian", "Debian GNU/Linux", "12", "debian",
		  "Debian GNU/Linux 12 (bookworm)" },
		{ "ubuntu2204", "debian", "Ubuntu", "22.04", "ubuntu", "Ubuntu 22.04.4 LTS" },
		{ "rocky9", "rhel", "Rocky Linux", "9.3", "rocky", "Rocky Linux 9.3 (Blue Onyx)" },
		{ "debian-sid", "debian", "Debian GNU/Linux", "trixie/sid", "debian",
		  "Debian GNU/Linux trixie/sid" },
		{ "crlf", "crlf", "CRLF Linux", NULL, "crlf", NULL },
	};
	(void)state;
	for (size_t i = 0; i < UNIT_COUNT(t); i++) {
		struct host_os os;
		int set;
		host_os_init(&os);
		print_message("%s\n", t[i].file);
		assert_int_equal(parse_fixture(t[i].file, &os, &set), 0);
		assert_true(set >= 3);
		assert_str_or_null(os.family, t[i].family);
		assert_str_or_null(os.name, t[i].name);
		assert_str_or_null(os.version, t[i].version);
		assert_str_or_null(os.platform, t[i].platform);
		assert_str_or_null(os.full, t[i].full);
		host_os_release(&os);
	}
}

/* Single quotes keep everything; double quotes unescape only " \ $ `; unquoted, a backslash escapes; the last assignment wins. */
static void
test_quoting(void **state)
{
	struct host_os os;
	int set;

	(void)state;
	host_os_init(&os);
	assert_int_equal(parse_fixture("quoting", &os, &set), 0);
	assert_string_equal(os.name, "single $quoted \"value\"");
	assert_string_equal(os.platform, "plain word");
	assert_string_equal(os.version, "2.0 \"beta\" $HOME `x` \\ \\n");
	assert_string_equal(os.full, "halfquoted");
	assert_string_equal(os.family, "arch");
	host_os_release(&os);
}

/* Malformed lines are counted and skipped; an unterminated quote drops its line only; bytes stay as they are, a NUL goes. */
static void
test_hostile(void **state)
{
	struct host_os os;
	int set;

	(void)state;
	host_os_init(&os);
	assert_int_equal(parse_fixture("hostile", &os, &set), 4);
	assert_null(os.name);
	assert_string_equal(os.platform, "ab");
	assert_string_equal(os.family, "ab");
	assert_string_equal(os.full, "\033[2J\xff\xfe bad\xe2\x80\xae bytes");
	host_os_release(&os);
}

/* A value past OSRELEASE_VALUE_MAX is cut on a character boundary. */
static void
test_long_value(void **state)
{
	struct host_os os;
	int set;

	(void)state;
	host_os_init(&os);
	assert_int_equal(parse_fixture("long", &os, &set), 0);
	assert_int_equal(strlen(os.full), OSRELEASE_VALUE_MAX);	/* 128 two-byte characters */
	assert_memory_equal(os.full + OSRELEASE_VALUE_MAX - 2, "\xc3\xa9", 2);
	host_os_release(&os);

	/* An odd cap point: one more ASCII byte first, so a whole character must go. */
	char buf[600];
	int n = snprintf(buf, sizeof(buf), "NAME=x");
	for (int i = 0; i < 200; i++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\xc3\xa9");
	host_os_init(&os);
	osrelease_parse(buf, (size_t)n, &os, &set);
	assert_int_equal(strlen(os.name), OSRELEASE_VALUE_MAX - 1);
	host_os_release(&os);
}

/* Empty input, no newline at the end, a later parse replacing an earlier one, and input past the read cap. */
static void
test_edges(void **state)
{
	struct host_os os;
	int bad;

	(void)state;
	host_os_init(&os);
	assert_int_equal(osrelease_parse("", 0, &os, &bad), 0);
	assert_int_equal(bad, 0);
	assert_null(os.family);
	assert_int_equal(osrelease_parse("ID=a\nNAME=A", 11, &os, &bad), 3);
	assert_string_equal(os.name, "A");
	/* What the new file lacks becomes unknown. */
	assert_int_equal(osrelease_parse("ID=b", 4, &os, &bad), 2);
	assert_string_equal(os.platform, "b");
	assert_null(os.name);
	/* Only the first OSRELEASE_MAX_BYTES are read. */
	size_t big = OSRELEASE_MAX_BYTES + 64;
	char *buf = malloc(big);
	assert_non_null(buf);
	memset(buf, '\n', big);
	memcpy(buf + OSRELEASE_MAX_BYTES, "ID=late\n", 8);
	assert_int_equal(osrelease_parse(buf, big, &os, &bad), 0);
	assert_null(os.platform);
	free(buf);
	host_os_release(&os);
}

/* kernel is "release version" as Elastic Defend writes it; either part may be missing. */
static void
test_uname(void **state)
{
	struct host_os os, copy;

	(void)state;
	host_os_init(&os);
	host_os_init(&copy);
	host_os_set_uname(&os, "6.1.0-27-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1", "x86_64");
	assert_string_equal(os.kernel, "6.1.0-27-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1");
	assert_string_equal(os.architecture, "x86_64");
	host_os_copy(&copy, &os);
	host_os_set_uname(&os, "6.1.0", "", "");
	assert_string_equal(os.kernel, "6.1.0");
	assert_null(os.architecture);
	host_os_set_uname(&os, NULL, "v", NULL);
	assert_null(os.kernel);
	assert_string_equal(copy.kernel, "6.1.0-27-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1");
	host_os_release(&os);
	host_os_release(&copy);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distributions),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_long_value),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_uname),
	};
	return unit_main(argc, argv, "osrelease", tests, UNIT_COUNT(tests), NULL, 0);
}
