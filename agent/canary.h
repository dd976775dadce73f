/*
 * canary.h: the agent's check that the connector still reports. Every
 * canary_interval seconds it forks a child of its own and expects the
 * kernel to report it; main hands it every record first, so that the
 * child's own fork and exit are not reported as the host's. Nothing else
 * is hidden: a record matches by parent and time, never by pid alone, and
 * the child stays a zombie while it can match. It is not for counting
 * loss of any other kind (capture.c does that).
 */
#ifndef HIDS_CANARY_H
#define HIDS_CANARY_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"

#define CANARY_WAIT_MS 2000	/* how long its own child's events may take */
#define CANARY_MAX_WAITS 5	/* windows granted while other events still arrive */

/* What the canary asks of the agent; each gets arg. */
struct canary_hooks {
	uint64_t (*seen_cb)(void *arg);	/* kernel messages received so far */
	void (*drain_cb)(void *arg);	/* hands every queued record to canary_match */
	void (*silent_cb)(void *arg);	/* the kernel reported none of the child */
	void *arg;
};

struct canary;

/* canary.c */
struct canary *canary_new(struct event_base *base, unsigned interval_s,
    uint32_t kernel_mask, const struct canary_hooks *hooks);
void canary_free(struct canary *c);
bool canary_match(struct canary *c, const struct cn_event *k);

#endif
