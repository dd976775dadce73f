/*
 * test_names.c: proves that the pipeline's own types (struct hids_event,
 * struct cn_event, hids_event_init) do not collide with libevent's: its
 * event_struct.h defines struct event and event_compat.h declares
 * event_init(), and both are included here with every header that carries
 * the event type. The test is mostly that this file compiles; it then uses
 * one of each side by side.
 */
#include <event2/event.h>
#include <event2/event_compat.h>
#include <event2/event_struct.h>

#include "unit.h"

#include "canary.h"
#include "capture.h"
#include "clockstep.h"
#include "collector.h"
#include "decode.h"
#include "encode.h"
#include "enrich.h"
#include "event.h"

/* Does nothing: the libevent timer below never fires. */
static void
unused_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* A libevent struct event and a struct hids_event live in one scope. */
static void
test_both_events(void **state)
{
	struct event_base *base = event_base_new();
	struct event timer;		/* libevent's, embedded: needs event_struct.h */
	struct hids_event ev;
	struct cn_event k;

	(void)state;
	assert_non_null(base);
	assert_int_equal(event_assign(&timer, base, -1, 0, unused_cb, NULL), 0);
	hids_event_init(&ev);
	assert_int_equal(ev.k.action, EV_NONE);
	memset(&k, 0, sizeof(k));
	k.what = CN_EV_EXEC;
	k.action = EV_EXEC;
	ev.k = k;
	assert_int_equal(ev_action_kernel_bit(ev.k.action), CN_EV_EXEC);
	hids_event_release(&ev);
	event_base_free(base);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_events),
	};

	return unit_main(argc, argv, "names", tests, UNIT_COUNT(tests), NULL, 0);
}
