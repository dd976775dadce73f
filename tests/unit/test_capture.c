/*
 * test_capture.c: the capture thread's pure parts, without the kernel:
 * the split mode's merge of exec and other records by kernel timestamp
 * (other records stamped after the exec socket was drained wait; merge.c
 * alone and through the capture queue), the
 * per-CPU sequence gap count (which a bad number cannot switch off), the
 * split mode's gap count across both sockets (holes final only once both
 * were drained, loss only after an overrun), the check of the cpu index,
 * and the event filter.
 */
#include "unit.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include "capture.h"
#include "procfs.h"
#include "decode.h"

/* Returns a snapshot of the capture counters. */
static struct capture_stats
stats_of(struct capture *cap)
{
	struct capture_stats st;
	capture_stats(cap, &st);
	return st;
}

/* A capture with a queue and an eventfd, but no thread and no socket. */
static void
cap_init(struct capture *cap)
{
	memset(cap, 0, sizeof(*cap));
	cap->cfg.queue_max_records = 1000;
	cap->cfg.queue_max_bytes = 1 << 20;
	pthread_mutex_init(&cap->mu, NULL);
	cap->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(cap->notify_fd >= 0);
}

static void
cap_free(struct capture *cap)
{
	size_t depth;
	uint64_t lost;
	const char *reason;
	struct capture_rec *r = capture_take_all(cap, &depth, &lost, &reason), *n;

	for (; r; r = n) {
		n = r->next;
		capture_rec_free(r);
	}
	close(cap->notify_fd);
	pthread_mutex_destroy(&cap->mu);
}

static struct capture_rec *
rec(enum ev_action action, int32_t pid, uint64_t ts)
{
	struct capture_rec *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->k.action = action;
	r->k.pid = r->k.tgid = pid;
	r->k.ts_ns = ts;
	process_init(&r->snap);
	return r;
}

/* Takes the queue and writes its records as "action:pid" words into out. */
static void
take_order(struct capture *cap, char *out, size_t outlen)
{
	size_t depth, off = 0;
	uint64_t lost;
	const char *reason;
	struct capture_rec *r = capture_take_all(cap, &depth, &lost, &reason), *n;

	out[0] = '\0';
	for (; r; r = n) {
		n = r->next;
		off += (size_t)snprintf(out + off, outlen - off, "%s%s:%d", off ? " " : "",
		    ev_action_name(r->k.action), r->k.pid);
		capture_rec_free(r);
	}
}

/* Exec and other records come out in timestamp order, each list's own order kept. */
static void
test_merge_orders_by_timestamp(void **state)
{
	struct capture cap;
	char got[256];

	(void)state;
	cap_init(&cap);
	capture_hold_exec(&cap, rec(EV_EXEC, 10, 200));
	capture_hold_exec(&cap, rec(EV_EXEC, 11, 400));
	capture_hold_other(&cap, rec(EV_FORK, 10, 100));
	capture_hold_other(&cap, rec(EV_FORK, 11, 300));
	capture_hold_other(&cap, rec(EV_EXIT, 10, 350));
	capture_hold_other(&cap, rec(EV_EXIT, 11, 500));
	capture_merge_push(&cap, 1000);
	take_order(&cap, got, sizeof(got));
	assert_string_equal(got, "fork:10 exec:10 fork:11 end:10 exec:11 end:11");
	assert_null(cap.merge.exec_head);
	assert_null(cap.merge.other_head);
	cap_free(&cap);
}

/*
 * An other record stamped after the exec socket was drained (upto) waits:
 * an exec of that process may still be on its way. It goes out, merged,
 * with the next round.
 */
static void
test_merge_holds_later_others(void **state)
{
	struct capture cap;
	char got[256];

	(void)state;
	cap_init(&cap);
	capture_hold_exec(&cap, rec(EV_EXEC, 20, 100));
	capture_hold_other(&cap, rec(EV_FORK, 21, 150));
	capture_hold_other(&cap, rec(EV_EXIT, 22, 260));
	capture_hold_other(&cap, rec(EV_EXIT, 23, 270));
	capture_merge_push(&cap, 200);
	take_order(&cap, got, sizeof(got));
	assert_string_equal(got, "exec:20 fork:21");
	assert_non_null(cap.merge.other_head);
	assert_int_equal(cap.merge.other_head->k.pid, 22);

	/* Next round: the exec of 22 arrived late but was stamped first. */
	capture_hold_exec(&cap, rec(EV_EXEC, 22, 250));
	capture_hold_exec(&cap, rec(EV_EXEC, 24, 280));
	capture_merge_push(&cap, 300);
	take_order(&cap, got, sizeof(got));
	assert_string_equal(got, "exec:22 end:22 end:23 exec:24");
	assert_null(cap.merge.exec_head);
	assert_null(cap.merge.exec_tail);
	assert_null(cap.merge.other_head);
	assert_null(cap.merge.other_tail);
	cap_free(&cap);
}

/* Held execs always go out: they were read before the drain's time mark. */
static void
test_merge_flushes_execs_without_others(void **state)
{
	struct capture cap;
	char got[256];

	(void)state;
	cap_init(&cap);
	capture_hold_exec(&cap, rec(EV_EXEC, 30, 500));
	capture_merge_push(&cap, 10);
	take_order(&cap, got, sizeof(got));
	assert_string_equal(got, "exec:30");
	cap_free(&cap);
}

/* Takes every record merge_next gives up to upto, as "action:pid" words. */
static void
merge_take(struct capture_merge *m, uint64_t upto, char *out, size_t outlen)
{
	struct capture_rec *r;
	size_t off = 0;

	out[0] = '\0';
	while ((r = merge_next(m, upto)) != NULL) {
		assert_null(r->next);
		off += (size_t)snprintf(out + off, outlen - off, "%s%s:%d", off ? " " : "",
		    ev_action_name(r->k.action), r->k.pid);
		capture_rec_free(r);
	}
}

/* Both lists interleave by timestamp; an exec goes first on a tie. */
static void
test_merge_next_order(void **state)
{
	struct capture_merge m = { 0 };
	char got[256];
	(void)state;
	merge_hold_exec(&m, rec(EV_EXEC, 1, 200));
	merge_hold_exec(&m, rec(EV_EXEC, 2, 300));
	merge_hold_other(&m, rec(EV_FORK, 1, 100));
	merge_hold_other(&m, rec(EV_EXIT, 2, 300));
	merge_hold_other(&m, rec(EV_EXIT, 1, 400));
	merge_take(&m, 1000, got, sizeof(got));
	assert_string_equal(got, "fork:1 exec:1 exec:2 end:2 end:1");
	assert_null(m.exec_head);
	assert_null(m.exec_tail);
	assert_false(merge_holds_other(&m));
	assert_null(m.other_tail);
}

/* Other records stamped after upto stay held; exec records never wait. */
static void
test_merge_next_holds_later_others(void **state)
{
	struct capture_merge m = { 0 };
	char got[256];
	(void)state;
	merge_hold_other(&m, rec(EV_FORK, 5, 150));
	merge_hold_other(&m, rec(EV_EXIT, 6, 260));
	merge_hold_exec(&m, rec(EV_EXEC, 7, 900));
	merge_take(&m, 200, got, sizeof(got));
	assert_string_equal(got, "fork:5 exec:7");
	assert_true(merge_holds_other(&m));
	merge_hold_exec(&m, rec(EV_EXEC, 6, 250));
	merge_take(&m, 300, got, sizeof(got));
	assert_string_equal(got, "exec:6 end:6");
	assert_false(merge_holds_other(&m));
	merge_take(&m, UINT64_MAX, got, sizeof(got));
	assert_string_equal(got, "");
}

/* merge_append links a plain list, as the capture queue uses it. */
static void
test_merge_append(void **state)
{
	struct capture_rec *head = NULL, *tail = NULL, *a = rec(EV_FORK, 1, 1),
	    *b = rec(EV_EXEC, 1, 2);
	(void)state;
	merge_append(&head, &tail, a);
	assert_ptr_equal(head, a);
	assert_ptr_equal(tail, a);
	merge_append(&head, &tail, b);
	assert_ptr_equal(head->next, b);
	assert_ptr_equal(tail, b);
	capture_rec_free(a);
	capture_rec_free(b);
}

/* A full queue drops and counts, also in the merge. */
static void
test_merge_respects_queue_bound(void **state)
{
	struct capture cap;
	char got[256];

	(void)state;
	cap_init(&cap);
	cap.cfg.queue_max_records = 2;
	for (int i = 0; i < 4; i++)
		capture_hold_other(&cap, rec(EV_FORK, 40 + i, (uint64_t)i));
	capture_merge_push(&cap, 100);
	assert_int_equal(stats_of(&cap).queue_drops, 2);
	take_order(&cap, got, sizeof(got));
	assert_string_equal(got, "fork:40 fork:41");
	cap_free(&cap);
}

/*
 * An exec the full queue drops gives its hasher slot back: the result
 * comes out as a late one with no process, and the slot is free again.
 */
static void
test_dropped_exec_frees_hash_slot(void **state)
{
	struct hasher_config hc = { HASH_ALG_SHA256, 1u << 30, 1u << 30, 16 };
	struct capture cap;
	struct process late;
	char entity[ENTITY_ID_LEN + 1];
	int32_t pid = 0;
	int procfd = procfs_open_root();
	bool got = false;

	(void)state;
	cap_init(&cap);
	cap.cfg.queue_max_records = 1;
	cap.cfg.hasher = hasher_new(&hc);
	assert_non_null(cap.cfg.hasher);
	for (int i = 0; i < 2; i++) {
		struct capture_rec *r = rec(EV_EXEC, getpid(), (uint64_t)i);
		procfs_snapshot(procfd, getpid(), SNAP_EXE, 0, &r->snap);
		r->snap.exe_id.mtime_ns += i;	/* two keys: two misses, two slots */
		r->hash_slot = hasher_pin(cap.cfg.hasher, procfd, getpid(), &r->snap, &r->hash_gen);
		assert_true(r->hash_slot >= 0);
		capture_hold_exec(&cap, r);
	}
	capture_merge_push(&cap, 100);
	assert_int_equal(stats_of(&cap).queue_drops, 1);
	process_init(&late);
	for (int i = 0; i < 500 && !got; i++) {
		got = hasher_take_late(cap.cfg.hasher, &pid, entity, &late);
		if (!got)
			usleep(10000);
	}
	assert_true(got);
	assert_int_equal(pid, -1);
	cap_free(&cap);
	hasher_free(cap.cfg.hasher);
	close(procfd);
	procfs_release_scratch();
}

/* Gaps in one CPU's sequence count as lost; other CPUs and going back do not. */
static void
test_seq_gap(void **state)
{
	struct capture cap;

	(void)state;
	memset(&cap, 0, sizeof(cap));
	assert_int_equal(capture_seq_gap(&cap, 0, 5), 0);
	assert_int_equal(capture_seq_gap(&cap, 0, 6), 0);
	assert_int_equal(capture_seq_gap(&cap, 1, 100), 0);
	assert_int_equal(capture_seq_gap(&cap, 0, 9), 2);
	assert_int_equal(capture_seq_gap(&cap, 0, 7), 0);	/* stale */
	assert_int_equal(capture_seq_gap(&cap, 0, 10), 0);
	assert_int_equal(capture_seq_gap(&cap, 0xffffffffu, 1), 0);	/* no such CPU slot */
	/* Wrap-around of the 32-bit counter is not a gap. */
	assert_int_equal(capture_seq_gap(&cap, 2, 0xffffffffu), 0);
	assert_int_equal(capture_seq_gap(&cap, 2, 0), 0);
}

/*
 * A mark that got ahead of the kernel (a bad number) makes the kernel's
 * numbers look old; after CAPTURE_SEQ_RESYNC of them the mark follows the
 * kernel again and later gaps are counted.
 */
static void
test_seq_gap_resyncs(void **state)
{
	struct capture cap;
	uint32_t seq = 100;

	(void)state;
	memset(&cap, 0, sizeof(cap));
	assert_int_equal(capture_seq_gap(&cap, 0, seq), 0);
	assert_int_equal(capture_seq_gap(&cap, 0, 0xf0000000u), 0);	/* "backwards" */
	assert_int_equal(capture_seq_gap(&cap, 0, 0x7fff0000u), 0x7fff0000u - 101);
	for (int i = 1; i < CAPTURE_SEQ_RESYNC; i++)
		assert_int_equal(capture_seq_gap(&cap, 0, ++seq), 0);
	assert_int_equal(cap.last_seq[0], 0x7fff0000u);
	assert_int_equal(capture_seq_gap(&cap, 0, ++seq), 0);	/* resynced */
	assert_int_equal(cap.last_seq[0], seq);
	assert_int_equal(capture_seq_gap(&cap, 0, seq + 4), 3);
}

/* A capture with split mode's gap windows for two CPUs. */
static void
cap_init_split(struct capture *cap)
{
	cap_init(cap);
	cap->nwin = 2;
	cap->win = calloc(cap->nwin, sizeof(*cap->win));
	assert_non_null(cap->win);
}

/* The loss noted so far, taken: *reason gets its reason. */
static uint64_t
take_lost(struct capture *cap, const char **reason)
{
	size_t depth;
	uint64_t lost;

	assert_null(capture_take_all(cap, &depth, &lost, reason));
	return lost;
}

/*
 * One round: the exec socket's numbers, the settle point, the other
 * socket's numbers, the mark; as capture_split_round does it.
 */
static void
round_of(struct capture *cap, uint32_t cpu, const uint32_t *execs, size_t ne,
    const uint32_t *others, size_t no)
{
	for (size_t i = 0; i < ne; i++)
		capture_seqwin_see(cap, cpu, execs[i]);
	capture_seqwin_settle(cap);
	for (size_t i = 0; i < no; i++)
		capture_seqwin_see(cap, cpu, others[i]);
	capture_seqwin_mark(cap);
}

/*
 * The two sockets' numbers together make a whole: no hole, even when the
 * exec socket's share of a round comes a round late.
 */
static void
test_split_gaps_merge(void **state)
{
	struct capture cap;
	const char *reason;
	const uint32_t o1[] = { 10, 12, 13, 15 }, e1[] = { 11 }, e2[] = { 14, 17 },
	    o2[] = { 16, 18 };

	(void)state;
	cap_init_split(&cap);
	round_of(&cap, 0, e1, 1, o1, 4);	/* 14 is an exec still on its way */
	round_of(&cap, 0, e2, 2, o2, 2);
	round_of(&cap, 0, NULL, 0, NULL, 0);
	assert_int_equal(take_lost(&cap, &reason), 0);
	assert_int_equal(stats_of(&cap).seq_unexplained, 0);
	assert_int_equal(cap.win[0].base, 19);
	free(cap.win);
	cap_free(&cap);
}

/* After an overrun the holes of the merged stream are its loss, exactly. */
static void
test_split_gaps_overrun(void **state)
{
	struct capture cap;
	const char *reason = NULL;
	const uint32_t o1[] = { 100, 101 }, e2[] = { 102 }, o2[] = { 110, 111 },
	    e3[] = { 112 };

	(void)state;
	cap_init_split(&cap);
	round_of(&cap, 1, NULL, 0, o1, 2);
	capture_seqwin_overrun(&cap);		/* ENOBUFS: 103..109 were dropped */
	round_of(&cap, 1, e2, 1, o2, 2);
	assert_int_equal(take_lost(&cap, &reason), 0);	/* not final yet */
	round_of(&cap, 1, e3, 1, NULL, 0);
	assert_int_equal(take_lost(&cap, &reason), 7);
	assert_string_equal(reason, "kernel_overrun");
	assert_int_equal(stats_of(&cap).seq_lost, 7);
	assert_int_equal(stats_of(&cap).seq_unexplained, 0);
	free(cap.win);
	cap_free(&cap);
}

/*
 * Without an overrun a hole is a reply to another client's subscribe
 * (filtered sockets never get those): counted apart, no lost record. A
 * number far behind, again and again, resets the window.
 */
static void
test_split_gaps_unexplained(void **state)
{
	struct capture cap;
	const char *reason = NULL;
	const uint32_t o1[] = { 5, 6, 8 }, o2[] = { 9 };

	(void)state;
	cap_init_split(&cap);
	round_of(&cap, 0, NULL, 0, o1, 3);
	round_of(&cap, 0, NULL, 0, o2, 1);
	assert_int_equal(take_lost(&cap, &reason), 0);
	assert_null(reason);
	assert_int_equal(stats_of(&cap).seq_unexplained, 1);
	/* A jump far ahead of the window is counted in bulk, in one step. */
	capture_seqwin_overrun(&cap);
	capture_seqwin_see(&cap, 0, 9 + 1000000);
	capture_seqwin_settle(&cap);
	assert_int_equal(take_lost(&cap, &reason), 1000000 - CAPTURE_SEQ_WINDOW);
	for (uint32_t i = 0; i < CAPTURE_SEQ_RESYNC; i++)
		capture_seqwin_see(&cap, 0, 20 + i);
	assert_int_equal(cap.win[0].base, 20 + CAPTURE_SEQ_RESYNC);
	free(cap.win);
	cap_free(&cap);
}

/* An overrun whose holes never show still gives a lost record, of count 0. */
static void
test_split_gaps_overrun_uncounted(void **state)
{
	struct capture cap;
	const char *reason = NULL;

	(void)state;
	cap_init_split(&cap);
	capture_seqwin_overrun(&cap);
	cap.overrun_until_ms = 0;	/* the window is over */
	capture_seqwin_settle(&cap);
	assert_int_equal(take_lost(&cap, &reason), 0);
	assert_string_equal(reason, "kernel_overrun");
	assert_false(cap.overrun_open);
	free(cap.win);
	cap_free(&cap);
}

/* Collects the records a datagram gives, for test_bad_cpu. */
static void
hold_cb(struct capture *cap, struct capture_rec *r)
{
	capture_hold_other(cap, r);
}

/* A process event naming a cpu the host does not have is skipped, counted, and moves no mark. */
static void
test_bad_cpu(void **state)
{
	struct capture cap;
	uint8_t msg[128];
	uint32_t body[4] = { 7, 7, 0, 0 };
	size_t len;
	char got[64];

	(void)state;
	cap_init(&cap);
	cap.ncpus = 2;
	cap.gap_detect = true;
	cap.cfg.emit_mask = CN_EV_UID;
	len = decode_build_msg(msg, sizeof(msg), CN_EV_UID, 5, 9, 1, body, 16);
	capture_datagram(&cap, msg, len, FEED_ALL, hold_cb);
	assert_int_equal(stats_of(&cap).decode_errors, 1);
	assert_null(cap.merge.other_head);
	assert_false(cap.seq_seen[5]);
	len = decode_build_msg(msg, sizeof(msg), CN_EV_UID, 1, 9, 1, body, 16);
	capture_datagram(&cap, msg, len, FEED_ALL, hold_cb);
	assert_int_equal(stats_of(&cap).decode_errors, 1);
	assert_true(cap.seq_seen[1]);
	capture_merge_push(&cap, UINT64_MAX);
	take_order(&cap, got, sizeof(got));
	assert_string_equal(got, "uid_change:7");
	cap_free(&cap);
}

/* Prints the actions and pids of the records held in the merge's other list. */
static void
held_order(struct capture *cap, char *out, size_t outlen)
{
	size_t off = 0;

	out[0] = '\0';
	for (struct capture_rec *r = cap->merge.other_head; r; r = r->next)
		off += (size_t)snprintf(out + off, outlen - off, "%s%s", off ? " " : "",
		    ev_action_name(r->k.action));
}

/*
 * Reads by urgency: an exec reads its cmdline and environ when decoded
 * and the rest (exe, cwd, status, stat, cgroup) only when the batch ends;
 * what comes after it waits in order; a record with nothing to read and
 * nothing before it goes at once; a loss ends the batch first.
 */
static void
test_batch_by_urgency(void **state)
{
	struct capture cap;
	uint8_t msg[128];
	uint32_t pid = (uint32_t)getpid();
	uint32_t ex[2] = { pid, pid }, uid[4] = { pid, pid, 0, 0 };
	const unsigned rest = SNAP_EXE | SNAP_CWD | SNAP_STATUS | SNAP_STAT | SNAP_CGROUP;
	char got[128];
	size_t len;

	(void)state;
	cap_init(&cap);
	cap.ncpus = 1;
	cap.gap_detect = true;
	cap.procfd = procfs_open_root();
	assert_true(cap.procfd >= 0);
	cap.cfg.emit_mask = CN_EV_EXEC | CN_EV_UID;
	cap.cfg.max_args = 4096;
	len = decode_build_msg(msg, sizeof(msg), CN_EV_UID, 0, 1, 1, uid, sizeof(uid));
	capture_datagram(&cap, msg, len, FEED_ALL, hold_cb);
	assert_int_equal(cap.nbatch, 0);
	held_order(&cap, got, sizeof(got));
	assert_string_equal(got, "uid_change");

	len = decode_build_msg(msg, sizeof(msg), CN_EV_EXEC, 0, 2, 2, ex, sizeof(ex));
	capture_datagram(&cap, msg, len, FEED_ALL, hold_cb);
	assert_int_equal(cap.nbatch, 1);
	assert_true(cap.batch[0]->snap_got & SNAP_CMDLINE);
	assert_int_equal(cap.batch[0]->snap_got & rest, 0);
	len = decode_build_msg(msg, sizeof(msg), CN_EV_UID, 0, 3, 3, uid, sizeof(uid));
	capture_datagram(&cap, msg, len, FEED_ALL, hold_cb);
	assert_int_equal(cap.nbatch, 2);
	held_order(&cap, got, sizeof(got));
	assert_string_equal(got, "uid_change");
	capture_batch_end(&cap);
	assert_int_equal(cap.nbatch, 0);
	held_order(&cap, got, sizeof(got));
	assert_string_equal(got, "uid_change exec uid_change");
	assert_int_equal(cap.merge.other_head->next->snap_got & rest, rest);

	/* A gap after an exec: the exec is handed on before the loss is noted. */
	len = decode_build_msg(msg, sizeof(msg), CN_EV_EXEC, 0, 4, 4, ex, sizeof(ex));
	capture_datagram(&cap, msg, len, FEED_ALL, hold_cb);
	assert_int_equal(cap.nbatch, 1);
	len = decode_build_msg(msg, sizeof(msg), CN_EV_UID, 0, 10, 10, uid, sizeof(uid));
	capture_datagram(&cap, msg, len, FEED_ALL, hold_cb);
	assert_int_equal(cap.nbatch, 0);
	held_order(&cap, got, sizeof(got));
	assert_string_equal(got, "uid_change exec uid_change exec uid_change");
	assert_int_equal(cap.pending_lost, 5);
	capture_merge_push(&cap, UINT64_MAX);
	close(cap.procfd);
	cap_free(&cap);
}

/* Threads are dropped unless asked for; non-zero exits only when so configured. */
static void
test_keep(void **state)
{
	struct capture_config cfg = { .emit_mask = CN_EV_FORK | CN_EV_EXEC | CN_EV_EXIT };
	struct cn_event k = { .what = CN_EV_FORK, .action = EV_FORK, .pid = 7, .tgid = 6 };
	bool thr;

	(void)state;
	assert_false(capture_keep(&cfg, &k, &thr));
	assert_true(thr);
	cfg.threads = true;
	assert_true(capture_keep(&cfg, &k, &thr));
	k.pid = 6;
	k.what = CN_EV_UID;
	k.action = EV_UID;
	assert_false(capture_keep(&cfg, &k, &thr));
	k.what = CN_EV_EXIT;
	k.action = EV_EXIT;
	cfg.nonzero_exit_only = true;
	assert_false(capture_keep(&cfg, &k, &thr));
	k.exit_status = 3 << 8;
	assert_true(capture_keep(&cfg, &k, &thr));
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_orders_by_timestamp),
		cmocka_unit_test(test_merge_holds_later_others),
		cmocka_unit_test(test_merge_flushes_execs_without_others),
		cmocka_unit_test(test_merge_respects_queue_bound),
		cmocka_unit_test(test_dropped_exec_frees_hash_slot),
		cmocka_unit_test(test_merge_next_order),
		cmocka_unit_test(test_merge_next_holds_later_others),
		cmocka_unit_test(test_merge_append),
		cmocka_unit_test(test_seq_gap),
		cmocka_unit_test(test_seq_gap_resyncs),
		cmocka_unit_test(test_bad_cpu),
		cmocka_unit_test(test_batch_by_urgency),
		cmocka_unit_test(test_split_gaps_merge),
		cmocka_unit_test(test_split_gaps_overrun),
		cmocka_unit_test(test_split_gaps_unexplained),
		cmocka_unit_test(test_split_gaps_overrun_uncounted),
		cmocka_unit_test(test_keep),
	};
	return unit_main(argc, argv, "capture", tests, UNIT_COUNT(tests), NULL, 0);
}
