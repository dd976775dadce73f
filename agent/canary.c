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
#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "canary.h"
#include "common.h"

#define CANARY_SAW_FORK 0x1u	/* its fork was reported */
#define CANARY_SAW_EXIT 0x2u	/* its exit was reported */

struct canary {
	struct canary_hooks hooks;
	struct event *ev_fork;		/* every interval: fork a child */
	struct event *ev_check;		/* a window later: was it reported? */
	uint64_t events;		/* kernel messages seen when the window began */
	uint64_t forked_ns;		/* CLOCK_MONOTONIC just before the fork */
	pid_t self;			/* the agent: the child's parent */
	pid_t pid;			/* the child being checked, held as a zombie; 0 when none */
	pid_t stuck;			/* a child that had not exited when its check ended */
	int waits;			/* windows waited so far */
	unsigned expect;		/* CANARY_SAW_* the subscription can bring */
	unsigned seen;			/* CANARY_SAW_* reported so far */
};

/* Reaps child without waiting; says whether it is gone. */
static bool
canary_reap(pid_t child)
{
	pid_t r;

	while ((r = waitpid(child, NULL, WNOHANG)) == -1 && errno == EINTR)
		;
	return r != 0;		/* reaped, or not ours any more (ECHILD) */
}

/*
 * Ends the check: from now on no record is the canary's, and only then is
 * the zombie reaped, so its pid is free for others only once nothing
 * matches it any more.
 */
static void
canary_release(struct canary *c)
{
	pid_t child = c->pid;

	c->pid = 0;
	if (!canary_reap(child)) {
		log_warnx("canary: test process %d has not exited (stopped or traced?)",
		    (int)child);
		c->stuck = child;
	}
}

/* Checks again for the child's events in CANARY_WAIT_MS. */
static void
canary_arm_check(struct canary *c)
{
	struct timeval tv = { CANARY_WAIT_MS / 1000, (CANARY_WAIT_MS % 1000) * 1000 };

	evtimer_add(c->ev_check, &tv);
}

/*
 * The interval is over: forks a child that exits at once, and starts a
 * window. The child stays unreaped (a zombie holds its pid) until the
 * window ends, so no other process can run under that pid meanwhile.
 */
static void
canary_fork_cb(evutil_socket_t fd, short what, void *arg)
{
	struct canary *c = arg;
	pid_t pid;
	(void)fd;
	(void)what;
	if (c->pid)
		return;
	if (c->stuck) {
		if (!canary_reap(c->stuck)) {
			log_warnx("canary: test process %d has still not exited; "
			    "skipping this check", (int)c->stuck);
			return;
		}
		c->stuck = 0;
	}
	c->forked_ns = clock_ns(CLOCK_MONOTONIC);
	/* Nothing but _exit in the child: the agent has threads. */
	if ((pid = fork()) == 0)
		_exit(0);
	if (pid == -1) {
		log_warn("canary: fork");
		return;
	}
	c->self = getpid();
	c->pid = pid;
	c->seen = 0;
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
	if ((c->seen & c->expect) != c->expect && events != c->events &&
	    c->waits < CANARY_MAX_WAITS) {
		/*
		 * Other events still arrive, so the connector is not silent: the
		 * capture thread is behind (a storm, or its CPU guard demoted it)
		 * and the child's events are still queued. Wait another window.
		 */
		log_debug("canary: events arrive but not yet all of process %d's; waiting",
		    (int)c->pid);
		c->events = events;
		c->waits++;
		canary_arm_check(c);
		return;
	}
	if (c->seen) {
		log_debug("canary: the kernel reported the agent's test process %d", (int)c->pid);
	} else {
		log_error("the kernel reported none of the agent's own test process (pid %d) "
		    "within %d ms: process events may be missing", (int)c->pid,
		    CANARY_WAIT_MS * c->waits);
		c->hooks.silent_cb(c->hooks.arg);
	}
	canary_release(c);
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

	if (interval_s == 0 || !(kernel_mask & (CN_EV_FORK | CN_EV_EXIT)))
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->hooks = *hooks;
	/* A zero exit is not reported under nonzero_exit_only (no CN_EV_EXIT then). */
	c->expect = (kernel_mask & CN_EV_FORK ? CANARY_SAW_FORK : 0) |
	    (kernel_mask & CN_EV_EXIT ? CANARY_SAW_EXIT : 0);
	/*
	 * An ignored SIGCHLD, inherited across exec, would have the kernel
	 * reap the child at once and free its pid while it is still matched.
	 */
	signal(SIGCHLD, SIG_DFL);
	c->ev_fork = event_new(base, -1, EV_PERSIST, canary_fork_cb, c);
	c->ev_check = evtimer_new(base, canary_check_cb, c);
	if (c->ev_fork == NULL || c->ev_check == NULL)
		fatalx("cannot create loop events");
	event_add(c->ev_fork, &tv);
	return c;
}

/* Stops the canary, reaps its child if it can without waiting, and frees it. */
void
canary_free(struct canary *c)
{
	if (c == NULL)
		return;
	if (c->pid)
		canary_reap(c->pid);
	if (c->stuck)
		canary_reap(c->stuck);
	event_free(c->ev_fork);
	event_free(c->ev_check);
	free(c);
}

/*
 * Says whether k is the canary's own fork or exit, which the agent does not
 * report; each is matched once. Never by pid alone: the fork must come
 * from the agent, and an exit that names its parent must name the agent.
 * The pid cannot be another process's meanwhile, as the zombie holds it,
 * but a queued event of the pid's previous owner can still come: the
 * kernel's timestamp (CLOCK_MONOTONIC too) tells it apart. Any other event
 * of that pid (the child never execs) is reported.
 */
bool
canary_match(struct canary *c, const struct cn_event *k)
{
	unsigned saw;

	if (c == NULL || c->pid == 0 || k->pid != c->pid || k->tgid != c->pid ||
	    k->ts_ns < c->forked_ns)
		return false;
	if (k->action == EV_FORK && k->ptgid == c->self)
		saw = CANARY_SAW_FORK;
	else if (k->action == EV_EXIT && (!k->has_parent || k->ptgid == c->self))
		saw = CANARY_SAW_EXIT;
	else
		return false;
	if (c->seen & saw)
		return false;
	c->seen |= saw;
	return true;
}
