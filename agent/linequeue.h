/*
 * linequeue.h: the bounded memory queue of encoded lines waiting for the
 * collector. A line handed to the transport stays queued until it is done:
 * for ndjson, once its bytes were written to the socket and the peer's TCP
 * acknowledged them (the kernel's unacknowledged send queue no longer
 * covers it); for RELP, once the collector answered 200 OK. After a broken
 * connection the rest is rewound and sent again. When the queue is full,
 * the oldest lines not in flight are dropped and counted.
 *
 *   head .. wcur        written, waiting for TCP's acknowledgement (ndjson)
 *   wcur .. unsent      handed to TLS, not (fully) written yet
 *   unsent .. tail      not handed out
 */
#ifndef HIDS_LINEQUEUE_H
#define HIDS_LINEQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lq_line {
	struct lq_line *next;
	uint64_t seg;		/* spool segment it was read from; 0 if none */
	size_t len;
	uint64_t wire_end;	/* RELP: connection byte offset where its frame ends */
	char data[];
};

/* Called when a line leaves the queue, delivered or dropped. */
typedef void (*lq_done_fn)(void *arg, const struct lq_line *l, bool delivered);

struct linequeue {
	struct lq_line *head, *tail;	/* oldest first */
	struct lq_line *unsent;		/* first line not handed out; NULL if none */
	struct lq_line *wcur;		/* first line not fully written; == unsent if none */
	size_t wcur_done;		/* bytes of wcur already written */
	size_t wait_bytes;		/* bytes of lines written, awaiting TCP ack */
	size_t bytes, count;		/* all queued, bytes with overhead */
	size_t payload_bytes;		/* all queued, line bytes only */
	size_t unsent_bytes, unsent_count;
	size_t max_bytes;
	uint64_t dropped;		/* lines dropped since start */
	uint64_t dropped_pending;	/* dropped, not yet reported */
	uint64_t written;		/* lines written and acknowledged by TCP */
	uint64_t acked;			/* lines acknowledged (RELP) */
	lq_done_fn done;
	void *done_arg;
};

/* linequeue.c */
void lq_init(struct linequeue *q, size_t max_bytes);
void lq_release(struct linequeue *q);
bool lq_push(struct linequeue *q, const char *line, size_t len, uint64_t seg);
bool lq_ack_head(struct linequeue *q);
size_t lq_inflight(const struct linequeue *q);
size_t lq_inflight_bytes(const struct linequeue *q);
struct lq_line *lq_take_unsent(struct linequeue *q);
size_t lq_written(struct linequeue *q, size_t nbytes);
size_t lq_confirm(struct linequeue *q, size_t unacked_bytes);
void lq_rewind(struct linequeue *q);
uint64_t lq_take_dropped(struct linequeue *q);
void lq_set_max_bytes(struct linequeue *q, size_t max_bytes);

#endif
