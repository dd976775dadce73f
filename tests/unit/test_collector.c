/* Proves that the collector's state machine, driven through a fake transport with no socket and a fake clock, fails over to the next address, backs off, batches by count, bytes and time, keeps the RELP window, resends after a break, leaves a stalled collector, and drops a hostile one. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "addr.h"
#include "collector_int.h"
#include "unit.h"

#define FAKE_TIMERS 8
#define FAKE_OPENS 64

/*
 * The fake transport's world: a clock that moves only when the test says,
 * the collector's timers, and the far end of each connection (one side of
 * a bufferevent pair). One collector at a time, as the transport's timer
 * functions get only the event.
 */
static struct fake {
	struct event_base *base;
	uint64_t now;
	struct {
		struct event *ev;
		bool armed;
		uint64_t due;
		uint64_t ms;		/* the delay it was last armed with */
	} timers[FAKE_TIMERS];
	struct bufferevent *peer;	/* the collector's side of the connection's far end */
	size_t opened[FAKE_OPENS];	/* the address index each connection went to */
	size_t nopens;
	bool refuse_verify;		/* the peer is not the one configured */
	int unacked_rc;			/* what unacked answers: 1, 0 or -1 */
	size_t unacked;			/* with 1: bytes the peer has not acknowledged */
} F;

/* Returns the slot of ev, taking a free one the first time. */
static size_t
fake_slot(const struct event *ev)
{
	for (size_t i = 0; i < FAKE_TIMERS; i++)
		if (F.timers[i].ev == ev)
			return i;
	for (size_t i = 0; i < FAKE_TIMERS; i++)
		if (F.timers[i].ev == NULL) {
			F.timers[i].ev = (struct event *)ev;
			return i;
		}
	fail_msg("more than %d timers", FAKE_TIMERS);
	return 0;
}

/* Arms a timer on the fake clock. */
static void
fake_timer_add(struct event *ev, const struct timeval *tv)
{
	size_t i = fake_slot(ev);
	uint64_t ms = (uint64_t)tv->tv_sec * 1000 + (uint64_t)tv->tv_usec / 1000;

	F.timers[i].armed = true;
	F.timers[i].ms = ms;
	F.timers[i].due = F.now + ms;
}

/* Disarms a timer. */
static void
fake_timer_del(struct event *ev)
{
	F.timers[fake_slot(ev)].armed = false;
}

/* Says whether a timer is armed. */
static bool
fake_timer_pending(const struct event *ev)
{
	return F.timers[fake_slot(ev)].armed;
}

/* The fake clock. */
static uint64_t
fake_now_ms(void)
{
	return F.now;
}

/*
 * Runs what libevent deferred: a bufferevent pair defers its callbacks, so
 * bytes and events reach the other side only in the loop.
 */
static void
fake_run(void)
{
	for (int i = 0; i < 16; i++)
		event_base_loop(F.base, EVLOOP_NONBLOCK);
}

/* Moves the clock on by ms, firing each timer that comes due, in order. */
static void
fake_advance(uint64_t ms)
{
	uint64_t end = F.now + ms;

	for (;;) {
		size_t best = FAKE_TIMERS;
		for (size_t i = 0; i < FAKE_TIMERS; i++)
			if (F.timers[i].armed && F.timers[i].due <= end &&
			    (best == FAKE_TIMERS || F.timers[i].due < F.timers[best].due))
				best = i;
		if (best == FAKE_TIMERS)
			break;
		struct event *ev = F.timers[best].ev;
		F.now = F.timers[best].due;
		if (event_get_events(ev) & EV_PERSIST)
			F.timers[best].due += F.timers[best].ms;
		else
			F.timers[best].armed = false;
		event_get_callback(ev)(-1, EV_TIMEOUT, event_get_callback_arg(ev));
		fake_run();
	}
	F.now = end;
}

/* Returns the delay ev was last armed with, failing if it is not armed. */
static uint64_t
fake_armed_ms(const struct event *ev)
{
	size_t i = fake_slot(ev);

	assert_true(F.timers[i].armed);
	return F.timers[i].ms;
}

/* A connection: a bufferevent pair, the test holding the far end. */
static int
fake_open(struct collector *c, char *err, size_t errlen)
{
	struct bufferevent *pair[2];

	(void)err;
	(void)errlen;
	if (F.peer)
		bufferevent_free(F.peer);
	assert_int_equal(bufferevent_pair_new(F.base, 0, pair), 0);
	c->bev = pair[0];
	F.peer = pair[1];
	bufferevent_enable(F.peer, EV_READ | EV_WRITE);
	assert_true(F.nopens < FAKE_OPENS);
	F.opened[F.nopens++] = c->cur;
	return 0;
}

/* Connecting is the test's to finish: fake_connected or fake_break. */
static int
fake_connect(struct collector *c, char *err, size_t errlen)
{
	(void)c;
	(void)err;
	(void)errlen;
	return 0;
}

/* Accepts the peer unless the test said not to. */
static int
fake_verify(struct collector *c, char *desc, size_t desclen, char *err, size_t errlen)
{
	(void)c;
	if (F.refuse_verify) {
		snprintf(err, errlen, "fake: not the configured peer");
		return -1;
	}
	snprintf(desc, desclen, "fake");
	return 0;
}

/* The peer's acknowledgements, as the test set them. */
static int
fake_unacked(struct collector *c, size_t *bytes)
{
	(void)c;
	*bytes = F.unacked;
	return F.unacked_rc;
}

/* Names the events, so a log line shows them. */
static void
fake_describe(struct collector *c, short events, char *why, size_t len)
{
	(void)c;
	snprintf(why, len, "fake: events 0x%x", (unsigned)events);
}

static const struct collector_transport fake_transport = {
	.open = fake_open,
	.connect = fake_connect,
	.verify = fake_verify,
	.unacked = fake_unacked,
	.describe = fake_describe,
	.now_ms = fake_now_ms,
	.timer_add = fake_timer_add,
	.timer_del = fake_timer_del,
	.timer_pending = fake_timer_pending,
};

/* One collector over the fake transport, with its config. */
struct fx {
	struct collector_config cfg;
	struct collector c;
};

/* A config of three addresses, ndjson, small limits; tests change what they need. */
static int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[128];

	assert_non_null(f);
	memset(&F, 0, sizeof(F));
	F.base = event_base_new();
	assert_non_null(F.base);
	F.now = 1000000;
	F.unacked_rc = 1;
	assert_int_equal(addr_parse_list("a:1,b:2,c:3", f->cfg.addrs, COLLECTOR_MAX_ADDRS,
	    &f->cfg.naddrs, err, sizeof(err)), 0);
	f->cfg.protocol = PROTO_NDJSON;
	f->cfg.relp_window = 2;
	f->cfg.batch_events = 3;
	f->cfg.batch_bytes = 1000;
	f->cfg.flush_interval_ms = 50;
	f->cfg.queue_max_bytes = 1 << 20;
	f->cfg.backoff_initial_ms = 100;
	f->cfg.backoff_max_ms = 400;
	f->cfg.healthy_after_s = 10;
	f->cfg.connect_timeout_s = 5;
	f->cfg.stall_timeout_s = 3;
	f->cfg.stop_timeout_s = 1;
	f->cfg.start_jitter_ms = 0;
	*state = f;
	return 0;
}

/* Frees the collector, the far end and the base. */
static int
fx_teardown(void **state)
{
	struct fx *f = *state;

	collector_release(&f->c);
	if (F.peer)
		bufferevent_free(F.peer);
	event_base_free(F.base);
	free(f);
	return 0;
}

/* Starts the collector on the fake transport and lets its first attempt begin. */
static void
fx_start(struct fx *f)
{
	char err[128];

	assert_int_equal(collector_init_transport(&f->c, F.base, &f->cfg, "host-1", 42,
	    &fake_transport, err, sizeof(err)), 0);
	collector_start(&f->c);
	fake_advance(0);
	assert_int_equal(F.nopens, 1);
	assert_int_equal(f->c.st, COL_CONNECTING);
}

/* The connection comes up (TCP and TLS, for the real transport). */
static void
fake_connected(struct fx *f)
{
	bufferevent_trigger_event(f->c.bev, BEV_EVENT_CONNECTED, 0);
	fake_run();
}

/* The connection breaks (or fails to come up). */
static void
fake_break(struct fx *f)
{
	bufferevent_trigger_event(f->c.bev, BEV_EVENT_EOF, 0);
	fake_run();
}

/* Takes what the collector wrote to the far end, as a new string. */
static char *
peer_take(void)
{
	struct evbuffer *in;
	size_t n;
	char *s;

	fake_run();
	in = bufferevent_get_input(F.peer);
	n = evbuffer_get_length(in);
	s = malloc(n + 1);

	assert_non_null(s);
	evbuffer_remove(in, s, n);
	s[n] = '\0';
	return s;
}

/* The far end says something. */
static void
peer_say(const char *s)
{
	bufferevent_write(F.peer, s, strlen(s));
	fake_run();
}

/* Enqueues the line "lineN\n". */
static void
enqueue_n(struct fx *f, int n)
{
	char line[32];
	int len = snprintf(line, sizeof(line), "line%d\n", n);

	collector_enqueue(&f->c, line, (size_t)len);
	fake_run();
}

/* A failed attempt moves to the next address after a backoff delay under a doubling ceiling. */
static void
test_failover_backoff(void **state)
{
	struct fx *f = *state;
	size_t first;

	fx_start(f);
	first = F.opened[0];
	uint64_t ceiling = f->cfg.backoff_initial_ms;
	for (size_t i = 1; i <= 5; i++) {
		fake_break(f);
		assert_int_equal(f->c.st, COL_WAITING);
		assert_int_equal(f->c.connect_failures, i);
		uint64_t d = fake_armed_ms(f->c.retry_ev);
		assert_true(d >= 10 && d <= ceiling);
		/* Nothing before the delay is up. */
		if (d > 1) {
			fake_advance(d - 1);
			assert_int_equal(F.nopens, i);
		}
		fake_advance(1);
		assert_int_equal(F.nopens, i + 1);
		assert_int_equal(F.opened[i], (first + i) % 3);
		ceiling = ceiling * 2 > f->cfg.backoff_max_ms ? f->cfg.backoff_max_ms : ceiling * 2;
	}
	/* No answer within connect_timeout_s is a failure too. */
	fake_advance(f->cfg.connect_timeout_s * 1000ull);
	assert_int_equal(f->c.connect_failures, 6);
	assert_int_equal(f->c.st, COL_WAITING);
	/* A peer that fails verification is left like any failure. */
	fake_advance(fake_armed_ms(f->c.retry_ev));
	F.refuse_verify = true;
	fake_connected(f);
	assert_int_equal(f->c.connect_failures, 7);
	assert_int_equal(f->c.connects, 0);
	assert_false(collector_connected(&f->c));
	F.refuse_verify = false;
	fake_advance(fake_armed_ms(f->c.retry_ev));
	fake_connected(f);
	assert_true(collector_connected(&f->c));
	assert_int_equal(f->c.connects, 1);
	assert_string_equal(collector_current(&f->c), f->cfg.addrs[F.opened[F.nopens - 1]].label);
}

/* A healthy connection resets the backoff; a short one does not. */
static void
test_backoff_reset(void **state)
{
	struct fx *f = *state;

	f->cfg.backoff_initial_ms = 1000;
	f->cfg.backoff_max_ms = 64000;
	fx_start(f);
	for (int i = 0; i < 4; i++) {
		fake_break(f);
		fake_advance(fake_armed_ms(f->c.retry_ev));
	}
	assert_int_equal(f->c.bo.attempt, 4);
	fake_connected(f);
	fake_advance(1000);
	fake_break(f);	/* after 1 s: not healthy */
	assert_int_equal(f->c.disconnects, 1);
	assert_int_equal(f->c.bo.attempt, 5);
	fake_advance(fake_armed_ms(f->c.retry_ev));
	fake_connected(f);
	fake_advance(f->cfg.healthy_after_s * 1000ull);
	fake_break(f);	/* after healthy_after_s: the next delay starts over */
	assert_int_equal(f->c.disconnects, 2);
	assert_int_equal(f->c.bo.attempt, 1);
	assert_true(fake_armed_ms(f->c.retry_ev) <= f->cfg.backoff_initial_ms);
}

/* Lines go out when batch_events or batch_bytes is reached, or flush_interval_ms after the first. */
static void
test_batching(void **state)
{
	struct fx *f = *state;
	char *got, big[600];

	fx_start(f);
	fake_connected(f);
	enqueue_n(f, 1);
	enqueue_n(f, 2);
	got = peer_take();
	assert_string_equal(got, "");
	free(got);
	assert_int_equal(fake_armed_ms(f->c.flush_ev), f->cfg.flush_interval_ms);
	enqueue_n(f, 3);	/* batch_events */
	got = peer_take();
	assert_string_equal(got, "line1\nline2\nline3\n");
	free(got);

	enqueue_n(f, 4);
	fake_advance(f->cfg.flush_interval_ms - 1);
	got = peer_take();
	assert_string_equal(got, "");
	free(got);
	fake_advance(1);	/* flush_interval_ms */
	got = peer_take();
	assert_string_equal(got, "line4\n");
	free(got);

	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	collector_enqueue(&f->c, big, sizeof(big));
	got = peer_take();
	assert_string_equal(got, "");	/* 600 < batch_bytes */
	free(got);
	collector_enqueue(&f->c, big, sizeof(big));	/* 1200 >= batch_bytes */
	got = peer_take();
	assert_int_equal(strlen(got), 2 * sizeof(big));
	free(got);

	/* Nothing is sent while there is no connection; all of it once there is. */
	F.unacked = 0;
	collector_flush(&f->c);
	assert_int_equal(f->c.q.count, 0);
	fake_break(f);
	for (int i = 5; i <= 9; i++)
		enqueue_n(f, i);
	fake_advance(fake_armed_ms(f->c.retry_ev));
	assert_null(strstr((got = peer_take()), "line"));
	free(got);
	fake_connected(f);
	got = peer_take();
	assert_string_equal(got, "line5\nline6\nline7\nline8\nline9\n");
	free(got);
}

/* ndjson: written lines stay until TCP acknowledged them; a break sends them again. */
static void
test_ndjson_resend_after_break(void **state)
{
	struct fx *f = *state;
	char *got;

	fx_start(f);
	fake_connected(f);
	F.unacked = 1000;	/* nothing acknowledged */
	for (int i = 1; i <= 3; i++)
		enqueue_n(f, i);
	got = peer_take();
	assert_string_equal(got, "line1\nline2\nline3\n");
	free(got);
	assert_int_equal(f->c.q.count, 3);
	/* The peer's TCP acknowledged the first line only. */
	F.unacked = strlen("line2\nline3\n");
	fake_advance(10);
	assert_int_equal(f->c.q.count, 2);
	/* Not yet known (a TLS 1.3 peer that has not taken us): keep all, ask again. */
	F.unacked_rc = 0;
	F.unacked = 0;
	fake_advance(10);
	assert_int_equal(f->c.q.count, 2);
	F.unacked_rc = 1;
	F.unacked = 1000;
	fake_break(f);
	assert_int_equal(f->c.disconnects, 1);
	fake_advance(fake_armed_ms(f->c.retry_ev));
	assert_int_equal(F.opened[1], (F.opened[0] + 1) % 3);
	fake_connected(f);
	got = peer_take();
	assert_string_equal(got, "line2\nline3\n");
	free(got);
	F.unacked = 0;
	fake_advance(10);
	assert_int_equal(f->c.q.count, 0);
}

/* Answers the RELP open command the collector just sent. */
static void
relp_open_session(struct fx *f)
{
	char *got = peer_take();

	assert_memory_equal(got, "1 open ", 7);
	free(got);
	assert_int_equal(f->c.st, COL_OPENING);
	peer_say("1 rsp 6 200 OK\n");
	assert_int_equal(f->c.st, COL_CONNECTED);
}

/* RELP: at most relp_window commands unanswered; each 200 frees one line and lets the next go. */
static void
test_relp_window_acks(void **state)
{
	struct fx *f = *state;
	char *got;

	f->cfg.protocol = PROTO_RELP;
	f->cfg.batch_events = 1;
	fx_start(f);
	fake_connected(f);
	relp_open_session(f);
	for (int i = 1; i <= 5; i++)
		enqueue_n(f, i);
	got = peer_take();
	assert_string_equal(got, "2 syslog 5 line1\n3 syslog 5 line2\n");
	free(got);
	assert_int_equal(lq_inflight(&f->c.q), 2);
	peer_say("2 rsp 6 200 OK\n");
	assert_int_equal(f->c.q.count, 4);
	got = peer_take();
	assert_string_equal(got, "4 syslog 5 line3\n");
	free(got);
	/* Two answers in one read. */
	peer_say("3 rsp 6 200 OK\n4 rsp 6 200 OK\n");
	got = peer_take();
	assert_string_equal(got, "5 syslog 5 line4\n6 syslog 5 line5\n");
	free(got);
	/* An answer split across reads counts once it is whole. */
	peer_say("5 rsp 6 2");
	assert_int_equal(f->c.q.count, 2);
	peer_say("00 OK\n6 rsp 6 200 OK\n");
	assert_int_equal(f->c.q.count, 0);
	assert_true(collector_connected(&f->c));
	assert_int_equal(f->c.relp.errors, 0);
}

/* RELP: a break resends every unanswered line, in order, in a new session. */
static void
test_relp_resend_after_break(void **state)
{
	struct fx *f = *state;
	char *got;

	f->cfg.protocol = PROTO_RELP;
	f->cfg.relp_window = 8;
	f->cfg.batch_events = 1;
	fx_start(f);
	fake_connected(f);
	relp_open_session(f);
	for (int i = 1; i <= 3; i++)
		enqueue_n(f, i);
	free(peer_take());
	peer_say("2 rsp 6 200 OK\n");
	fake_break(f);
	assert_int_equal(f->c.q.count, 2);
	fake_advance(fake_armed_ms(f->c.retry_ev));
	fake_connected(f);
	relp_open_session(f);
	got = peer_take();
	assert_string_equal(got, "2 syslog 5 line2\n3 syslog 5 line3\n");
	free(got);
	peer_say("2 rsp 6 200 OK\n3 rsp 6 200 OK\n");
	assert_int_equal(f->c.q.count, 0);
}

/* A collector that takes nothing while lines wait is left after stall_timeout_s; an idle one is not. */
static void
test_stall(void **state)
{
	struct fx *f = *state;

	fx_start(f);
	fake_connected(f);
	/* Idle: nothing waiting, no failover however long. */
	fake_advance(10 * f->cfg.stall_timeout_s * 1000ull);
	assert_true(collector_connected(&f->c));
	size_t before = F.nopens;
	F.unacked = 1000;	/* the peer's TCP acknowledges nothing */
	for (int i = 1; i <= 3; i++)
		enqueue_n(f, i);
	fake_advance(f->cfg.stall_timeout_s * 1000ull - 1000);
	assert_true(collector_connected(&f->c));
	fake_advance(1000);
	assert_false(collector_connected(&f->c));
	assert_int_equal(f->c.disconnects, 1);
	assert_int_equal(f->c.q.count, 3);
	fake_advance(fake_armed_ms(f->c.retry_ev));
	assert_int_equal(F.nopens, before + 1);
	assert_int_equal(F.opened[before], (F.opened[before - 1] + 1) % 3);

	/* The next collector takes them all. */
	fake_connected(f);
	char *got = peer_take();
	assert_string_equal(got, "line1\nline2\nline3\n");
	free(got);
	F.unacked = 0;
	fake_advance(10);
	assert_int_equal(f->c.q.count, 0);
}

/* RELP: a command never answered, then a refusal and garbage, each end the connection. */
static void
test_relp_hostile_answers(void **state)
{
	struct fx *f = *state;

	f->cfg.protocol = PROTO_RELP;
	f->cfg.batch_events = 1;
	fx_start(f);
	fake_connected(f);
	relp_open_session(f);
	enqueue_n(f, 1);
	free(peer_take());
	/* No answer: a stall. */
	fake_advance(f->cfg.stall_timeout_s * 1000ull);
	assert_false(collector_connected(&f->c));
	assert_int_equal(f->c.disconnects, 1);

	fake_advance(fake_armed_ms(f->c.retry_ev));
	fake_connected(f);
	relp_open_session(f);
	free(peer_take());
	peer_say("2 rsp 11 500 go away\n");
	assert_false(collector_connected(&f->c));
	assert_int_equal(f->c.disconnects, 2);
	assert_int_equal(f->c.q.count, 1);

	fake_advance(fake_armed_ms(f->c.retry_ev));
	fake_connected(f);
	free(peer_take());
	peer_say("garbage that is no frame\n");
	assert_false(collector_connected(&f->c));
	assert_int_equal(f->c.disconnects, 3);
	assert_true(f->c.relp.errors >= 2);

	/* An answer for a command never sent. */
	fake_advance(fake_armed_ms(f->c.retry_ev));
	fake_connected(f);
	relp_open_session(f);
	free(peer_take());
	peer_say("9 rsp 6 200 OK\n");
	assert_false(collector_connected(&f->c));
	assert_int_equal(f->c.q.count, 1);
}

/* ndjson: a collector that talks is drained, and cut off past COLLECTOR_MAX_UNEXPECTED. */
static void
test_ndjson_flood(void **state)
{
	struct fx *f = *state;
	char chunk[4096];

	fx_start(f);
	fake_connected(f);
	memset(chunk, 'z', sizeof(chunk));
	bufferevent_write(F.peer, chunk, sizeof(chunk));
	fake_run();
	assert_true(collector_connected(&f->c));
	for (size_t sent = sizeof(chunk); sent <= COLLECTOR_MAX_UNEXPECTED; sent += sizeof(chunk))
		bufferevent_write(F.peer, chunk, sizeof(chunk));
	fake_run();
	assert_false(collector_connected(&f->c));
	assert_int_equal(f->c.disconnects, 1);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_failover_backoff, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_backoff_reset, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_batching, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ndjson_resend_after_break, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_relp_window_acks, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_relp_resend_after_break, fx_setup,
		    fx_teardown),
		cmocka_unit_test_setup_teardown(test_stall, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_relp_hostile_answers, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ndjson_flood, fx_setup, fx_teardown),
	};

	return unit_main(argc, argv, "collector", tests, UNIT_COUNT(tests), NULL, 0);
}
