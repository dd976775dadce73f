/*
 * canary.c: every canary_interval seconds the agent forks a child that
 * exits at once, and expects the kernel to report it. Nothing arriving
 * means the connector went silent for us (a listener-count attack with
 * PROC_CN_MCAST_IGNORE, a kernel problem): that is logged and handed to
 * the silent callback, which reports a lost record with reason
 * connector_silent, since events may be missed. Only this file forks the
 * child and decides which records are its own; main wires it.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "canary.h"
#include "common.h"

struct canary {
	struct canary_hooks hooks;
	struct event *ev_fork;		/* every interval: fork a child */
	struct event *ev_check;		/* a window later: was it reported? */
	uint64_t events;		/* kernel messages seen when the window began */
	pid_t pid;			/* the child being checked, 0 when none */
	int waits;			/* windows waited so far */
	bool seen;
};

/* Checks again for the child's events in CANARY_WAIT_MS. */
static void
canary_arm_check(struct canary *c)
{
	struct timeval tv = { CANARY_WAIT_MS / 1000, (CANARY_WAIT_MS % 1000) * 1000 };

	evtimer_add(c->ev_check, &tv);
}

/* The interval is over: forks a child that exits at once, and starts a window. */
static void
canary_fork_cb(evutil_socket_t fd, short what, void *arg)
{
	struct canary *c = arg;
	pid_t pid;
	(void)fd;
	(void)what;
	if (c->pid)
		return;
	if ((pid = fork()) == 0)
		_exit(0);
	if (pid == -1) {
		log_warn("canary: fork");
		return;
	}
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
	c->pid = pid;
	c->seen = false;
	c->events = c->hooks.seen_cb(c->hooks.arg);
	c->waits = 1;
	canary_arm_check(c);
}

/* A window is over: says whether the kernel reported the child, or waits another. */
static void
canary_check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct canary *c = arg;
	uint64_t events;
	(void)fd;
	(void)what;
	c->hooks.drain_cb(c->hooks.arg);
	events = c->hooks.seen_cb(c->hooks.arg);
	if (c->seen) {
		log_debug("canary: the kernel reported the agent's test process %d", (int)c->pid);
	} else if (events != c->events && c->waits < CANARY_MAX_WAITS) {
		/*
		 * Other events still arrive, so the connector is not silent: the
		 * capture thread is behind (a storm, or its CPU guard demoted it)
		 * and the child's events are still queued. Wait another window.
		 */
		log_debug("canary: events arrive but not yet those of process %d; waiting",
		    (int)c->pid);
		c->events = events;
		c->waits++;
		canary_arm_check(c);
		return;
	} else {
		log_error("the kernel reported none of the agent's own test process (pid %d) "
		    "within %d ms: process events may be missing", (int)c->pid,
		    CANARY_WAIT_MS * c->waits);
		c->hooks.silent_cb(c->hooks.arg);
	}
	c->pid = 0;
}

/*
 * Starts the canary on base, or returns NULL when there is none: interval
 * 0, or neither fork nor exit events subscribed (it needs one of them).
 */
struct canary *
canary_new(struct event_base *base, unsigned interval_s, uint32_t kernel_mask,
    const struct canary_hooks *hooks)
{
	struct timeval tv = { (time_t)interval_s, 0 };
	struct canary *c;

	if (interval_s == 0 || !(kernel_mask & (KEV_FORK | KEV_EXIT)))
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->hooks = *hooks;
	c->ev_fork = event_new(base, -1, EV_PERSIST, canary_fork_cb, c);
	c->ev_check = evtimer_new(base, canary_check_cb, c);
	if (c->ev_fork == NULL || c->ev_check == NULL)
		fatalx("cannot create loop events");
	event_add(c->ev_fork, &tv);
	return c;
}

/* Stops the canary and frees it. */
void
canary_free(struct canary *c)
{
	if (c == NULL)
		return;
	event_free(c->ev_fork);
	event_free(c->ev_check);
	free(c);
}

/* Says whether k is the canary's own, which the agent does not report. */
bool
canary_match(struct canary *c, const struct kevent *k)
{
	if (c == NULL || c->pid == 0 || k->tgid != c->pid)
		return false;
	c->seen = true;
	return true;
}
