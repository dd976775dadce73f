/*
 * enrich.h: turns a capture record into a complete struct hids_event, using and
 * updating the process table: a fork child inherits its parent's image, an
 * exec replaces it, an exit reports what was known and forgets it.
 */
#ifndef HIDS_ENRICH_H
#define HIDS_ENRICH_H

#include "capture.h"
#include "encode.h"
#include "event.h"
#include "names.h"
#include "proctab.h"

struct enricher {
	struct proctab *tab;
	struct names *names;
	int procfd;
	const struct encode_ctx *enc;
	struct agent_stats *stats;
	size_t max_args;
	int64_t mono_to_boot_ns;	/* add to CLOCK_MONOTONIC for CLOCK_BOOTTIME */
};

/* enrich.c */
void enrich_record(struct enricher *en, const struct capture_rec *r, struct hids_event *ev);
void enrich_late_hash(struct enricher *en, int32_t pid, const char *entity_id,
    const struct process *h);

#endif
