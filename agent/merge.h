/*
 * merge.h: split mode's merge of the two connector sockets' records by
 * kernel timestamp, so that every process's events stay in order though
 * exec events come on a socket of their own (capture.c says why that
 * order holds). Pure: lists and timestamps only, no I/O and no locks; the
 * capture thread owns it.
 */
#ifndef HIDS_MERGE_H
#define HIDS_MERGE_H

#include <stdbool.h>
#include <stdint.h>

struct capture_rec;

/* Records held back from the queue: exec records, other records, each in arrival order. */
struct capture_merge {
	struct capture_rec *exec_head, *exec_tail;
	struct capture_rec *other_head, *other_tail;
};

/* merge.c */
void merge_append(struct capture_rec **head, struct capture_rec **tail,
    struct capture_rec *r);
void merge_hold_exec(struct capture_merge *m, struct capture_rec *r);
void merge_hold_other(struct capture_merge *m, struct capture_rec *r);
struct capture_rec *merge_next(struct capture_merge *m, uint64_t upto);
bool merge_holds_other(const struct capture_merge *m);

#endif
