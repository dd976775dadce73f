/*
 * clockstep.c: a CLOCK_REALTIME timerfd armed far in the future with
 * TFD_TIMER_CANCEL_ON_SET. The kernel cancels it whenever the wall clock
 * is set discontinuously (settimeofday, clock_settime, adjtimex steps),
 * and the read then fails with ECANCELED: that is the signal. Slewing
 * (adjtime) does not cancel it, and needs nothing: the offsets follow at
 * the next heartbeat.
 */
#include "clockstep.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define CLOCKSTEP_ARM_S (10 * 365 * 86400LL)	/* how far ahead the timer is armed */

struct clockstep {
	int fd;
	struct event *ev;
	void (*stepped_cb)(void *);
	void *arg;
};

/* Arms the timer CLOCKSTEP_ARM_S ahead of the wall clock; -1 on failure. */
static int
clockstep_arm(struct clockstep *cs)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	struct timespec now;

	if (clock_gettime(CLOCK_REALTIME, &now) == -1)
		return -1;
	its.it_value.tv_sec = now.tv_sec + (time_t)CLOCKSTEP_ARM_S;
	return timerfd_settime(cs->fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL);
}

/* The timer was cancelled (the clock was set) or, ten years on, expired: re-arm and report. */
static void
clockstep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct clockstep *cs = arg;
	uint64_t expirations;
	ssize_t n = read(fd, &expirations, sizeof(expirations));
	(void)what;

	if (n == -1 && errno != ECANCELED)
		return;	/* EAGAIN: woken for nothing */
	if (clockstep_arm(cs) == -1)
		log_warn("clock: cannot re-arm the clock-step timer");
	cs->stepped_cb(cs->arg);
}

/*
 * Starts watching for steps of the wall clock; stepped_cb(arg) runs in the
 * loop after each. Returns NULL (logged) where timerfd is not available.
 */
struct clockstep *
clockstep_new(struct event_base *base, void (*stepped_cb)(void *), void *arg)
{
	struct clockstep *cs = xcalloc(1, sizeof(*cs));

	cs->stepped_cb = stepped_cb;
	cs->arg = arg;
	if ((cs->fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC)) == -1 ||
	    clockstep_arm(cs) == -1 ||
	    (cs->ev = event_new(base, cs->fd, EV_READ | EV_PERSIST, clockstep_cb, cs)) == NULL ||
	    event_add(cs->ev, NULL) == -1) {
		log_warn("clock: cannot watch for steps of the wall clock; @timestamp follows "
		    "one only at the next heartbeat");
		clockstep_free(cs);
		return NULL;
	}
	return cs;
}

/* Stops watching and frees cs (NULL is fine). */
void
clockstep_free(struct clockstep *cs)
{
	if (cs == NULL)
		return;
	if (cs->ev)
		event_free(cs->ev);
	if (cs->fd != -1)
		close(cs->fd);
	free(cs);
}
