/* Proves the canary hides only its own fork and exit, once each and only while its zombie holds the pid, never by pid alone, and reports a silent connector. */
#include "unit.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "canary.h"
#include "common.h"

/* What the hooks saw, and what the drain hook feeds the canary. */
struct fake_agent {
	struct event_base *base;
	struct canary *c;
	pid_t child;
	uint64_t seen;		/* the "kernel messages" counter */
	int drains, silents;
	bool busy;		/* other events arrive between two drains */
	bool exit_on_drain;	/* the second drain brings the child's exit */
};

static uint64_t
fake_seen_cb(void *arg)
{
	return ((struct fake_agent *)arg)->seen;
}

/* Other events keep arriving; the second drain also brings the child's exit. */
static void
fake_drain_cb(void *arg)
{
	struct fake_agent *f = arg;
	struct cn_event k;

	f->drains++;
	if (f->busy)
		f->seen += 10;
	if (f->exit_on_drain && f->drains == 2) {
		memset(&k, 0, sizeof(k));
		k.action = EV_EXIT;
		k.what = CN_EV_EXIT;
		k.pid = k.tgid = f->child;
		k.ppid = k.ptgid = getpid();
		k.has_parent = true;
		k.ts_ns = clock_ns(CLOCK_MONOTONIC);
		assert_true(canary_match(f->c, &k));
	}
}

static void
fake_silent_cb(void *arg)
{
	((struct fake_agent *)arg)->silents++;
}

/* A kernel event about pid, from parent ptgid (0: none given), stamped now. */
static struct cn_event
kev(enum ev_action action, uint32_t what, pid_t pid, pid_t tgid, pid_t ptgid)
{
	struct cn_event k;

	memset(&k, 0, sizeof(k));
	k.action = action;
	k.what = what;
	k.pid = pid;
	k.tgid = tgid;
	k.ppid = k.ptgid = ptgid;
	k.has_parent = ptgid != 0;
	k.ts_ns = clock_ns(CLOCK_MONOTONIC);
	return k;
}

/* Runs the loop until the canary's check ran n times in all (its fork timer fires too). */
static void
run_until_drains(struct event_base *base, struct fake_agent *f, int n)
{
	for (int i = 0; f->drains < n && i < 50; i++)
		assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	assert_int_equal(f->drains, n);
}

/* Reaps every child left over (a canary forked just before canary_free, a failed test's). */
static void
reap_all(void)
{
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
}

/* Runs the loop until the canary forked, then returns its child once it is a zombie. */
static pid_t
run_until_child(struct event_base *base)
{
	siginfo_t si;

	reap_all();
	assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	memset(&si, 0, sizeof(si));
	while (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) == -1)
		assert_int_equal(errno, EINTR);
	assert_true(si.si_pid > 0);
	return si.si_pid;
}

/* Starts a canary for mask on a loop of its own; returns its first child, held as a zombie. */
static pid_t
fake_start(struct fake_agent *f, uint32_t mask)
{
	struct canary_hooks h = { fake_seen_cb, fake_drain_cb, fake_silent_cb, f };

	f->base = event_base_new();
	assert_non_null(f->base);
	f->c = canary_new(f->base, 1, mask, &h);
	assert_non_null(f->c);
	return f->child = run_until_child(f->base);
}

/* Frees the canary and its loop, and reaps whatever child is left. */
static void
fake_stop(struct fake_agent *f)
{
	canary_free(f->c);
	event_base_free(f->base);
	reap_all();
}

/* Only the agent's own fork and exit of the held child match, each once. */
static void
test_matches_own_fork_and_exit_only(void **state)
{
	struct fake_agent f = { .busy = true, .exit_on_drain = true };
	uint64_t before = clock_ns(CLOCK_MONOTONIC);
	pid_t self = getpid(), p;
	struct cn_event k;
	(void)state;

	p = fake_start(&f, CN_EV_ALL);

	k = kev(EV_EXEC, CN_EV_EXEC, p, p, 0);
	assert_false(canary_match(f.c, &k));	/* the child never execs */
	k = kev(EV_UID, CN_EV_UID, p, p, 0);
	assert_false(canary_match(f.c, &k));
	k = kev(EV_FORK, CN_EV_FORK, p, p, self + 1);
	assert_false(canary_match(f.c, &k));	/* another parent */
	k = kev(EV_FORK, CN_EV_FORK, p, self, self);
	assert_false(canary_match(f.c, &k));	/* a thread of ours with that tid */
	k = kev(EV_EXIT, CN_EV_EXIT, p, p, self + 1);
	assert_false(canary_match(f.c, &k));	/* the exit of another's child */
	k = kev(EV_EXIT, CN_EV_EXIT, p, p, self);
	k.ts_ns = before;
	assert_false(canary_match(f.c, &k));	/* the pid's previous owner, still queued */
	k = kev(EV_FORK, CN_EV_FORK, p, p, self);
	assert_true(canary_match(f.c, &k));
	assert_false(canary_match(f.c, &k));	/* once */

	/* The first window ends with no exit yet while events arrive: it waits, holding the pid. */
	run_until_drains(f.base, &f, 1);
	assert_int_equal(kill(p, 0), 0);
	/* The second window's drain brings the exit: the check ends and the zombie goes. */
	run_until_drains(f.base, &f, 2);
	assert_int_equal(f.silents, 0);
	assert_int_equal(kill(p, 0), -1);
	assert_int_equal(errno, ESRCH);
	k = kev(EV_EXIT, CN_EV_EXIT, p, p, self);
	assert_false(canary_match(f.c, &k));	/* released: the pid is anyone's again */
	k = kev(EV_FORK, CN_EV_FORK, p, p, self);
	assert_false(canary_match(f.c, &k));
	fake_stop(&f);
}

/* An exit without parent fields (kernels before 4.18) matches while the pid is held. */
static void
test_exit_without_parent_fields(void **state)
{
	struct fake_agent f = { 0 };
	struct cn_event k;
	pid_t p;
	(void)state;

	p = fake_start(&f, CN_EV_EXIT);
	k = kev(EV_EXIT, CN_EV_EXIT, p, p, 0);
	assert_true(canary_match(f.c, &k));
	canary_free(f.c);	/* reaps the held child */
	f.c = NULL;
	assert_int_equal(kill(p, 0), -1);
	fake_stop(&f);
}

/* Nothing of the child reported and nothing else arriving: the silent hook runs once. */
static void
test_silent_connector(void **state)
{
	struct fake_agent f = { 0 };
	pid_t p;
	(void)state;

	p = fake_start(&f, CN_EV_FORK | CN_EV_EXIT);
	run_until_drains(f.base, &f, 1);
	assert_int_equal(f.silents, 1);
	assert_int_equal(kill(p, 0), -1);
	fake_stop(&f);
}

/* No canary without an interval, or without fork and exit events. */
static void
test_none_without_fork_or_exit(void **state)
{
	struct event_base *base = event_base_new();
	struct fake_agent f = { 0 };
	struct canary_hooks h = { fake_seen_cb, fake_drain_cb, fake_silent_cb, &f };
	(void)state;

	assert_null(canary_new(base, 0, CN_EV_ALL, &h));
	assert_null(canary_new(base, 30, CN_EV_EXEC | CN_EV_UID, &h));
	assert_null(canary_new(base, 30, CN_EV_NONZERO_EXIT, &h));
	canary_free(NULL);
	event_base_free(base);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_own_fork_and_exit_only),
		cmocka_unit_test(test_exit_without_parent_fields),
		cmocka_unit_test(test_silent_connector),
		cmocka_unit_test(test_none_without_fork_or_exit),
	};
	return unit_main(argc, argv, "canary", tests, UNIT_COUNT(tests), NULL, 0);
}
