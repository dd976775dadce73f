/* Proves the collector's line queue: bounded, drops oldest unsent lines and counts them, keeps lines until written or acknowledged, rewinds after a broken connection. */
#include "unit.h"

#include "linequeue.h"

static uint64_t done_delivered, done_dropped;

static void
count_done(void *arg, const struct lq_line *l, bool delivered)
{
	(void)arg;
	(void)l;
	if (delivered)
		done_delivered++;
	else
		done_dropped++;
}

static void
push(struct linequeue *q, const char *s)
{
	lq_push(q, s, strlen(s), 0);
}

/* Lines come out in order and leave only when written and acknowledged by TCP. */
static void
test_fifo_and_written(void **state)
{
	struct linequeue q;
	(void)state;
	lq_init(&q, 1 << 20);
	push(&q, "one\n");
	push(&q, "two\n");
	push(&q, "three\n");
	struct lq_line *l = lq_take_unsent(&q);
	assert_memory_equal(l->data, "one\n", 4);
	l = lq_take_unsent(&q);
	assert_memory_equal(l->data, "two\n", 4);
	assert_int_equal(q.count, 3);
	assert_int_equal(lq_inflight(&q), 2);
	assert_int_equal(lq_written(&q, 2), 0);	/* half of "one\n" */
	assert_int_equal(lq_written(&q, 2 + 4), 2);
	assert_int_equal(q.count, 3);		/* written, not yet acknowledged */
	assert_int_equal(lq_confirm(&q, 4), 1);	/* "two\n" may still be unacked */
	assert_int_equal(q.count, 2);
	assert_int_equal(lq_confirm(&q, 0), 1);
	assert_int_equal(q.count, 1);
	assert_int_equal(q.written, 2);
	lq_release(&q);
}

/* A break sends again what TCP had not acknowledged; what it had is done. */
static void
test_unacked_resent(void **state)
{
	struct linequeue q;
	(void)state;
	lq_init(&q, 1 << 20);
	push(&q, "aaaa\n");
	push(&q, "bbbb\n");
	push(&q, "cccc\n");
	lq_take_unsent(&q);
	lq_take_unsent(&q);
	lq_take_unsent(&q);
	lq_written(&q, 15);
	lq_confirm(&q, 7);	/* 7 unacked bytes: "bbbb\n" and "cccc\n" are at risk */
	assert_int_equal(q.count, 2);
	lq_rewind(&q);
	struct lq_line *l = lq_take_unsent(&q);
	assert_memory_equal(l->data, "bbbb\n", 5);
	lq_release(&q);
}

/* Full: the oldest unsent lines go, counted; lines in flight are kept. */
static void
test_drop_oldest_unsent(void **state)
{
	struct linequeue q;
	char line[64];
	(void)state;
	lq_init(&q, 10 * (sizeof(struct lq_line) + 8));
	q.done = count_done;
	done_dropped = done_delivered = 0;
	for (int i = 0; i < 10; i++) {
		snprintf(line, sizeof(line), "line-%02d", i);
		push(&q, line);
	}
	assert_non_null(lq_take_unsent(&q));	/* line-00 in flight */
	for (int i = 10; i < 15; i++) {
		snprintf(line, sizeof(line), "line-%02d", i);
		push(&q, line);
	}
	assert_int_equal(q.dropped, 5);
	assert_int_equal(done_dropped, 5);
	assert_memory_equal(q.head->data, "line-00", 7);	/* in flight: kept */
	assert_memory_equal(q.head->next->data, "line-06", 7);	/* 01..05 dropped */
	assert_true(q.bytes <= q.max_bytes);
	assert_int_equal(lq_take_dropped(&q), 0);	/* still full: the report would be dropped */
	while (q.bytes > q.max_bytes / 2) {
		if (q.head == q.unsent)
			assert_non_null(lq_take_unsent(&q));
		assert_true(lq_ack_head(&q));
	}
	assert_int_equal(lq_take_dropped(&q), 5);	/* room again: reported once */
	assert_int_equal(lq_take_dropped(&q), 0);
	lq_release(&q);
}

/* A line larger than the whole queue is refused and counted, not stored. */
static void
test_oversized_line(void **state)
{
	struct linequeue q;
	char big[512];
	(void)state;
	memset(big, 'x', sizeof(big));
	lq_init(&q, 256);
	assert_false(lq_push(&q, big, sizeof(big), 0));
	assert_int_equal(q.count, 0);
	assert_int_equal(q.dropped, 1);
	lq_release(&q);
}

/* After a broken connection, everything in flight is sent again, whole. */
static void
test_rewind(void **state)
{
	struct linequeue q;
	(void)state;
	lq_init(&q, 1 << 20);
	push(&q, "aaaa\n");
	push(&q, "bbbb\n");
	push(&q, "cccc\n");
	lq_take_unsent(&q);
	lq_take_unsent(&q);
	lq_written(&q, 7);	/* "aaaa\n" and 2 bytes of "bbbb\n" */
	lq_confirm(&q, 0);
	assert_int_equal(q.count, 2);
	lq_rewind(&q);
	assert_int_equal(q.unsent_count, 2);
	assert_int_equal(q.wcur_done, 0);
	struct lq_line *l = lq_take_unsent(&q);
	assert_memory_equal(l->data, "bbbb\n", 5);	/* the partly written line, whole */
	lq_release(&q);
}

/* RELP: only an acknowledgement frees a line; written bytes do not matter. */
static void
test_ack_head(void **state)
{
	struct linequeue q;
	(void)state;
	lq_init(&q, 1 << 20);
	q.done = count_done;
	done_delivered = 0;
	push(&q, "x\n");
	push(&q, "y\n");
	assert_false(lq_ack_head(&q));	/* nothing in flight */
	lq_take_unsent(&q);
	assert_true(lq_ack_head(&q));
	assert_false(lq_ack_head(&q));
	assert_int_equal(q.acked, 1);
	assert_int_equal(done_delivered, 1);
	assert_int_equal(q.count, 1);
	lq_release(&q);
}

/* The spool segment a line came from travels with it to the done callback. */
static uint64_t last_seg;

static void
note_seg(void *arg, const struct lq_line *l, bool delivered)
{
	(void)arg;
	(void)delivered;
	last_seg = l->seg;
}

static void
test_segment_tag(void **state)
{
	struct linequeue q;
	(void)state;
	lq_init(&q, 1 << 20);
	q.done = note_seg;
	lq_push(&q, "s\n", 2, 77);
	lq_take_unsent(&q);
	lq_written(&q, 2);
	lq_confirm(&q, 0);
	assert_int_equal(last_seg, 77);
	lq_release(&q);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_and_written),
		cmocka_unit_test(test_unacked_resent),
		cmocka_unit_test(test_drop_oldest_unsent),
		cmocka_unit_test(test_oversized_line),
		cmocka_unit_test(test_rewind),
		cmocka_unit_test(test_ack_head),
		cmocka_unit_test(test_segment_tag),
	};
	return unit_main(argc, argv, "linequeue", tests, UNIT_COUNT(tests), NULL, 0);
}
