/*
 * clockstep.h: notices at once when the wall clock is set (by an operator,
 * NTP stepping it, or an attacker), so that @timestamp, which is the
 * kernel's monotonic time plus an offset to wall time, can follow. It does
 * not slew or judge the clock; it only says that it was set.
 */
#ifndef HIDS_CLOCKSTEP_H
#define HIDS_CLOCKSTEP_H

#include <event2/event.h>

struct clockstep;

/* clockstep.c */
struct clockstep *clockstep_new(struct event_base *base, void (*stepped_cb)(void *), void *arg);
void clockstep_free(struct clockstep *cs);

#endif
