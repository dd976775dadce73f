/* Proves the two-socket merge: kernel time order across the lists, each list's own order, later other records held. */
#include "unit.h"

#include "capture.h"
#include "merge.h"

static struct capture_rec *
rec(enum ev_action action, int32_t pid, uint64_t ts)
{
	struct capture_rec *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->k.action = action;
	r->k.pid = r->k.tgid = pid;
	r->k.ts_ns = ts;
	return r;
}

/* Takes every record merge_next gives up to upto, as "action:pid" words. */
static void
take(struct capture_merge *m, uint64_t upto, char *out, size_t outlen)
{
	struct capture_rec *r;
	size_t off = 0;

	out[0] = '\0';
	while ((r = merge_next(m, upto)) != NULL) {
		assert_null(r->next);
		off += (size_t)snprintf(out + off, outlen - off, "%s%s:%d", off ? " " : "",
		    ev_action_name(r->k.action), r->k.pid);
		free(r);
	}
}

/* Both lists interleave by timestamp; an exec goes first on a tie. */
static void
test_order(void **state)
{
	struct capture_merge m = { 0 };
	char got[256];
	(void)state;
	merge_hold_exec(&m, rec(EV_EXEC, 1, 200));
	merge_hold_exec(&m, rec(EV_EXEC, 2, 300));
	merge_hold_other(&m, rec(EV_FORK, 1, 100));
	merge_hold_other(&m, rec(EV_EXIT, 2, 300));
	merge_hold_other(&m, rec(EV_EXIT, 1, 400));
	take(&m, 1000, got, sizeof(got));
	assert_string_equal(got, "fork:1 exec:1 exec:2 end:2 end:1");
	assert_null(m.exec_head);
	assert_null(m.exec_tail);
	assert_false(merge_holds_other(&m));
	assert_null(m.other_tail);
}

/* Other records stamped after upto stay held; exec records never wait. */
static void
test_holds_later_others(void **state)
{
	struct capture_merge m = { 0 };
	char got[256];
	(void)state;
	merge_hold_other(&m, rec(EV_FORK, 5, 150));
	merge_hold_other(&m, rec(EV_EXIT, 6, 260));
	merge_hold_exec(&m, rec(EV_EXEC, 7, 900));
	take(&m, 200, got, sizeof(got));
	assert_string_equal(got, "fork:5 exec:7");
	assert_true(merge_holds_other(&m));
	merge_hold_exec(&m, rec(EV_EXEC, 6, 250));
	take(&m, 300, got, sizeof(got));
	assert_string_equal(got, "exec:6 end:6");
	assert_false(merge_holds_other(&m));
	take(&m, UINT64_MAX, got, sizeof(got));
	assert_string_equal(got, "");
}

/* merge_append links a plain list, as the capture queue uses it. */
static void
test_append(void **state)
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
	free(a);
	free(b);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_holds_later_others),
		cmocka_unit_test(test_append),
	};

	return unit_main(argc, argv, "merge", tests, UNIT_COUNT(tests), NULL, 0);
}
