/* Proves the RELP session: open frame, transaction numbers, and which answers it accepts, refuses and counts. */
#include "unit.h"

#include "relpsess.h"

/* Feeds one frame given as a string to the session. */
static enum relpsess_result
feed(struct relp_session *s, const char *frame, size_t inflight, bool head_written,
    size_t *used, char *why, size_t wlen)
{
	return relpsess_read(s, frame, strlen(frame), inflight, head_written, used, why, wlen);
}

/* The open frame is transaction 1 and offers syslog; lines count from 2. */
static void
test_open_and_headers(void **state)
{
	struct relp_session s = { 0 };
	char buf[RELPSESS_OPEN_MAX], hdr[RELP_MAX_HEADER];
	size_t n = relpsess_open(&s, buf, sizeof(buf));
	(void)state;
	assert_true(n > 0);
	assert_memory_equal(buf, "1 open ", 7);
	assert_int_equal(buf[n - 1], '\n');
	assert_non_null(memmem(buf, n, "commands=syslog", 15));
	assert_true(s.opening);
	assert_int_equal(relpsess_open(&s, buf, 10), 0);
	n = relpsess_syslog_header(&s, hdr, sizeof(hdr), 5);
	assert_memory_equal(hdr, "2 syslog 5 ", n);
	n = relpsess_syslog_header(&s, hdr, sizeof(hdr), 0);
	assert_memory_equal(hdr, "3 syslog 0", n);
	n = relpsess_close(&s, hdr, sizeof(hdr));
	assert_memory_equal(hdr, "4 close 0\n", n);
}

/* The open answer opens the session; answers then ack in transaction order. */
static void
test_open_then_acks(void **state)
{
	struct relp_session s = { 0 };
	char buf[RELPSESS_OPEN_MAX], why[256];
	size_t used;
	(void)state;
	relpsess_open(&s, buf, sizeof(buf));
	assert_int_equal(feed(&s, "1 rsp 6 200 OK\n", 0, false, &used, why, sizeof(why)),
	    RELPSESS_OPENED);
	assert_int_equal(used, 15);
	assert_false(s.opening);
	assert_int_equal(feed(&s, "2 rsp 6 200 OK\n", 2, true, &used, why, sizeof(why)),
	    RELPSESS_ACKED);
	assert_int_equal(feed(&s, "3 rsp 6 200 OK\n", 1, true, &used, why, sizeof(why)),
	    RELPSESS_ACKED);
	assert_int_equal(s.ack_txnr, 4);
	assert_int_equal(feed(&s, "4 rsp 6 20", 1, true, &used, why, sizeof(why)),
	    RELPSESS_NEED_MORE);
	assert_int_equal(s.errors, 0);
}

/* A refused open fails without counting; bad answers fail and count. */
static void
test_refusals(void **state)
{
	struct relp_session s = { 0 };
	char buf[RELPSESS_OPEN_MAX], why[1200];
	size_t used;
	(void)state;
	relpsess_open(&s, buf, sizeof(buf));
	assert_int_equal(feed(&s, "1 rsp 10 500 no way\n", 0, false, &used, why, sizeof(why)),
	    RELPSESS_FAIL);
	assert_non_null(strstr(why, "refused the RELP session: 500 no way"));
	assert_int_equal(s.errors, 0);

	relpsess_open(&s, buf, sizeof(buf));
	feed(&s, "1 rsp 6 200 OK\n", 0, false, &used, why, sizeof(why));
	/* Nothing in flight, or the line still in our buffer: not a real answer. */
	assert_int_equal(feed(&s, "2 rsp 6 200 OK\n", 0, false, &used, why, sizeof(why)),
	    RELPSESS_FAIL);
	assert_int_equal(feed(&s, "2 rsp 6 200 OK\n", 1, false, &used, why, sizeof(why)),
	    RELPSESS_FAIL);
	assert_non_null(strstr(why, "not sent yet"));
	assert_int_equal(feed(&s, "3 rsp 6 200 OK\n", 1, true, &used, why, sizeof(why)),
	    RELPSESS_FAIL);
	assert_non_null(strstr(why, "expected 2"));
	assert_int_equal(feed(&s, "2 rsp 8 500 full\n", 1, true, &used, why, sizeof(why)),
	    RELPSESS_FAIL);
	assert_non_null(strstr(why, "answered 500"));
	assert_int_equal(feed(&s, "2 syslog 1 x\n", 1, true, &used, why, sizeof(why)),
	    RELPSESS_FAIL);
	assert_int_equal(feed(&s, "x rsp\n", 1, true, &used, why, sizeof(why)), RELPSESS_FAIL);
	assert_int_equal(s.errors, 6);
	/* serverclose ends the session without counting an error. */
	assert_int_equal(feed(&s, "0 serverclose 0\n", 1, true, &used, why, sizeof(why)),
	    RELPSESS_FAIL);
	assert_int_equal(s.errors, 6);
	assert_int_equal(s.ack_txnr, 2);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_and_headers),
		cmocka_unit_test(test_open_then_acks),
		cmocka_unit_test(test_refusals),
	};

	return unit_main(argc, argv, "relpsess", tests, UNIT_COUNT(tests), NULL, 0);
}
