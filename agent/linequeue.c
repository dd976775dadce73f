/*
 * linequeue.c: a singly linked FIFO with a cursor between the lines in
 * flight (head .. unsent) and those not yet handed out (unsent .. tail).
 */
#include "linequeue.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"

#define LQ_LINE_OVERHEAD sizeof(struct lq_line)

/* Sets up an empty queue bounded at max_bytes. */
void
lq_init(struct linequeue *q, size_t max_bytes)
{
	memset(q, 0, sizeof(*q));
	q->max_bytes = max_bytes;
}

/* Frees every line (they stay on disk if they came from the spool). */
void
lq_release(struct linequeue *q)
{
	struct lq_line *l = q->head, *n;
	for (; l; l = n) {
		n = l->next;
		free(l);
	}
	lq_init(q, q->max_bytes);
}

/* Removes the first unsent line, which must not be the head if lines are in flight. */
static void
drop_oldest_unsent(struct linequeue *q)
{
	struct lq_line *victim = q->unsent, *prev = NULL;

	if (victim == NULL)
		return;
	if (victim != q->head)
		for (prev = q->head; prev->next != victim; prev = prev->next)
			;
	if (prev)
		prev->next = victim->next;
	else
		q->head = victim->next;
	if (q->tail == victim)
		q->tail = prev;
	if (q->wcur == victim)
		q->wcur = victim->next;
	q->unsent = victim->next;
	q->bytes -= victim->len + LQ_LINE_OVERHEAD;
	q->payload_bytes -= victim->len;
	q->count--;
	q->unsent_bytes -= victim->len;
	q->unsent_count--;
	q->dropped++;
	q->dropped_pending++;
	if (q->done)
		q->done(q->done_arg, victim, false);
	free(victim);
}

/*
 * Appends a copy of line, dropping the oldest unsent lines while the queue
 * would exceed its bound. Returns false if the line itself could not fit.
 */
bool
lq_push(struct linequeue *q, const char *line, size_t len, uint64_t seg)
{
	size_t need = len + LQ_LINE_OVERHEAD;
	struct lq_line *l;

	while (q->bytes + need > q->max_bytes && q->unsent != NULL)
		drop_oldest_unsent(q);
	if (q->bytes + need > q->max_bytes) {
		struct lq_line probe = { .seg = seg, .len = len };
		q->dropped++;
		q->dropped_pending++;
		if (q->done)
			q->done(q->done_arg, &probe, false);
		return false;
	}
	l = xmalloc(sizeof(*l) + len);
	l->next = NULL;
	l->seg = seg;
	l->len = len;
	l->wire_end = 0;
	memcpy(l->data, line, len);
	if (q->tail)
		q->tail->next = l;
	else
		q->head = l;
	q->tail = l;
	if (q->unsent == NULL)
		q->unsent = l;
	if (q->wcur == NULL)
		q->wcur = l;
	q->bytes += need;
	q->payload_bytes += len;
	q->count++;
	q->unsent_bytes += len;
	q->unsent_count++;
	return true;
}

/* Hands out the next unsent line (it stays queued until done); NULL if none. */
struct lq_line *
lq_take_unsent(struct linequeue *q)
{
	struct lq_line *l = q->unsent;
	if (l == NULL)
		return NULL;
	if (q->wcur == l)
		q->wcur_done = 0;
	q->unsent = l->next;
	q->unsent_bytes -= l->len;
	q->unsent_count--;
	return l;
}

/* Removes the head line, which has left the queue. */
static void
lq_pop_head(struct linequeue *q, bool delivered)
{
	struct lq_line *h = q->head;

	if (q->wcur == h) {
		q->wcur = h->next;
		q->wcur_done = 0;
	} else {
		q->wait_bytes -= h->len;	/* it was written, waiting */
	}
	q->head = h->next;
	if (q->tail == h)
		q->tail = NULL;
	q->bytes -= h->len + LQ_LINE_OVERHEAD;
	q->payload_bytes -= h->len;
	q->count--;
	if (q->done)
		q->done(q->done_arg, h, delivered);
	free(h);
}

/* Records nbytes written to the socket; returns how many lines are now fully written. */
size_t
lq_written(struct linequeue *q, size_t nbytes)
{
	size_t n = 0;

	while (nbytes > 0 && q->wcur && q->wcur != q->unsent) {
		size_t left = q->wcur->len - q->wcur_done;
		if (nbytes < left) {
			q->wcur_done += nbytes;
			break;
		}
		nbytes -= left;
		q->wait_bytes += q->wcur->len;
		q->wcur = q->wcur->next;
		q->wcur_done = 0;
		n++;
	}
	return n;
}

/*
 * Frees written lines that TCP has acknowledged: the kernel still holds
 * unacked_bytes unacknowledged, so only the newest written lines covering
 * that many bytes may still be lost and are kept. TLS adds bytes, so the
 * lines kept cover at least what is unacknowledged. Returns lines freed.
 */
size_t
lq_confirm(struct linequeue *q, size_t unacked_bytes)
{
	size_t freed = 0;

	while (q->head && q->head != q->wcur && q->wait_bytes - q->head->len >= unacked_bytes) {
		lq_pop_head(q, true);
		freed++;
	}
	q->written += freed;
	return freed;
}

/* Frees the oldest line in flight, acknowledged by the collector; false if none. */
bool
lq_ack_head(struct linequeue *q)
{
	if (q->head == NULL || q->head == q->unsent)
		return false;
	lq_pop_head(q, true);
	q->acked++;
	return true;
}

/* Returns how many lines are in flight. */
size_t
lq_inflight(const struct linequeue *q)
{
	return q->count - q->unsent_count;
}

/* Returns the line bytes handed out and not yet done. */
size_t
lq_inflight_bytes(const struct linequeue *q)
{
	return q->payload_bytes - q->unsent_bytes;
}

/* Makes every line in flight unsent again, after a broken connection. */
void
lq_rewind(struct linequeue *q)
{
	struct lq_line *l;

	q->unsent = q->head;
	q->wcur = q->head;
	q->wcur_done = 0;
	q->wait_bytes = 0;
	q->unsent_bytes = 0;
	q->unsent_count = 0;
	for (l = q->head; l; l = l->next) {
		q->unsent_bytes += l->len;
		q->unsent_count++;
	}
}

/*
 * Returns the lines dropped since the last call and forgets them, once the
 * queue is at most half full again (0 before), so that the lost record
 * reporting them is not the next thing dropped.
 */
uint64_t
lq_take_dropped(struct linequeue *q)
{
	uint64_t n = q->dropped_pending;

	if (n == 0 || q->bytes > q->max_bytes / 2)
		return 0;
	q->dropped_pending = 0;
	return n;
}

/* Changes the bound; what is queued stays, and the next push makes room. */
void
lq_set_max_bytes(struct linequeue *q, size_t max_bytes)
{
	q->max_bytes = max_bytes;
}
