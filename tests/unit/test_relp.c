/* Proves the RELP framing and the strict response parser, on well-formed, split and malformed input. */
#include "unit.h"

#include "relp.h"

static enum relp_parse_result
parse(const char *s, struct relp_frame *f, size_t *used, const char **why)
{
	return relp_parse(s, strlen(s), RELP_MAX_RSP_DATA, f, used, why);
}

/* A plain "200 OK" answer parses with its transaction number and code. */
static void
test_rsp_ok(void **state)
{
	struct relp_frame f;
	size_t used;
	const char *why;
	(void)state;
	assert_int_equal(parse("17 rsp 6 200 OK\n", &f, &used, &why), RELP_FRAME);
	assert_int_equal(f.txnr, 17);
	assert_string_equal(f.command, "rsp");
	assert_int_equal(f.datalen, 6);
	assert_memory_equal(f.data, "200 OK", 6);
	assert_int_equal(used, 16);
	assert_int_equal(relp_rsp_code(&f), 200);
}

/* The open answer carries offers after the status line; 500 is an error code. */
static void
test_rsp_with_offers_and_error(void **state)
{
	const char *open_rsp = "1 rsp 93 200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,"
	    "http://librelp.adiscon.com\ncommands=syslog\n";
	struct relp_frame f;
	size_t used;
	const char *why;
	(void)state;
	assert_int_equal(parse(open_rsp, &f, &used, &why), RELP_FRAME);
	assert_int_equal(relp_rsp_code(&f), 200);
	assert_int_equal(used, strlen(open_rsp));
	assert_int_equal(parse("3 rsp 17 500 queue is full\n", &f, &used, &why), RELP_FRAME);
	assert_int_equal(relp_rsp_code(&f), 500);
}

/* serverclose has no data: "0 serverclose 0\n". */
static void
test_serverclose(void **state)
{
	struct relp_frame f;
	size_t used;
	const char *why;
	(void)state;
	assert_int_equal(parse("0 serverclose 0\n", &f, &used, &why), RELP_FRAME);
	assert_string_equal(f.command, "serverclose");
	assert_int_equal(f.datalen, 0);
	assert_int_equal(relp_rsp_code(&f), -1);
}

/* Every prefix of a valid frame asks for more; none is taken as a frame. */
static void
test_split_frames_need_more(void **state)
{
	const char *s = "123 rsp 6 200 OK\n4 rsp 6 200 OK\n";
	struct relp_frame f;
	size_t used;
	const char *why;
	(void)state;
	for (size_t n = 0; n < 17; n++)
		assert_int_equal(relp_parse(s, n, RELP_MAX_RSP_DATA, &f, &used, &why),
		    RELP_NEED_MORE);
	assert_int_equal(relp_parse(s, strlen(s), RELP_MAX_RSP_DATA, &f, &used, &why), RELP_FRAME);
	assert_int_equal(used, 17);
	assert_int_equal(relp_parse(s + used, strlen(s) - used, RELP_MAX_RSP_DATA, &f, &used, &why),
	    RELP_FRAME);
	assert_int_equal(f.txnr, 4);
}

/* Malformed input is refused with a reason, never read past. */
static void
test_malformed(void **state)
{
	const char *bad[] = {
		"x rsp 6 200 OK\n",		/* txnr not a number */
		"1234567890 rsp 6 200 OK\n",	/* txnr too long */
		"1 r$p 6 200 OK\n",		/* command not alpha */
		"1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 0\n",	/* command too long */
		"1  6 200 OK\n",		/* empty command */
		"1 rsp 6x200 OK\n",		/* no space before data */
		"1 rsp 6 200 OKX",		/* no LF after data */
		"1 rsp 9999999999 x\n",		/* datalen too long */
		"1 rsp 0x\n",			/* junk after zero length */
		"-1 rsp 0\n",
	};
	struct relp_frame f;
	size_t used;
	const char *why;
	(void)state;
	for (size_t i = 0; i < UNIT_COUNT(bad); i++) {
		enum relp_parse_result r = parse(bad[i], &f, &used, &why);
		if (r != RELP_BAD)
			fail_msg("accepted or waited on malformed frame %zu: %s", i, bad[i]);
		assert_non_null(why);
	}
}

/* A frame larger than the caller's bound is refused before its data arrives. */
static void
test_too_large(void **state)
{
	struct relp_frame f;
	size_t used;
	const char *why;
	(void)state;
	assert_int_equal(relp_parse("1 rsp 70000 ", 12, 65536, &f, &used, &why), RELP_BAD);
	assert_string_equal(why, "frame too large");
}

/* Headers format as the grammar says; transaction numbers wrap to 1. */
static void
test_format(void **state)
{
	char buf[RELP_MAX_HEADER];
	(void)state;
	assert_int_equal(relp_format_header(buf, sizeof(buf), 5, "syslog", 42), strlen("5 syslog 42 "));
	assert_string_equal(buf, "5 syslog 42 ");
	relp_format_header(buf, sizeof(buf), 9, "close", 0);
	assert_string_equal(buf, "9 close 0");
	assert_int_equal(relp_next_txnr(1), 2);
	assert_int_equal(relp_next_txnr(RELP_MAX_TXNR), 1);
	char offers[256];
	size_t n = relp_open_offers(offers, sizeof(offers), "1.2.3");
	assert_int_equal(n, strlen(offers));
	assert_non_null(strstr(offers, "relp_version=0\n"));
	assert_non_null(strstr(offers, "commands=syslog"));
	/* What we send parses back as a frame. */
	char frame[512];
	int fl = snprintf(frame, sizeof(frame), "1 open %zu %s\n", n, offers);
	struct relp_frame f;
	size_t used;
	const char *why;
	assert_int_equal(relp_parse(frame, (size_t)fl, 4096, &f, &used, &why), RELP_FRAME);
	assert_string_equal(f.command, "open");
	assert_int_equal(f.datalen, n);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsp_ok),
		cmocka_unit_test(test_rsp_with_offers_and_error),
		cmocka_unit_test(test_serverclose),
		cmocka_unit_test(test_split_frames_need_more),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_format),
	};
	return unit_main(argc, argv, "relp", tests, UNIT_COUNT(tests), NULL, 0);
}
