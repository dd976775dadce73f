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
	q->unsent = victim->next;
	q->bytes -= victim->len + LQ_LINE_OVERHEAD;
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
	memcpy(l->data, line, len);
	if (q->tail)
		q->tail->next = l;
	else
		q->head = l;
	q->tail = l;
	if (q->unsent == NULL)
		q->unsent = l;
	q->bytes += need;
	q->count++;
	q->unsent_bytes += len;
	q->unsent_count++;
	return true;
}

/* Hands out the next unsent line (it stays queued until written); NULL if none. */
struct lq_line *
lq_take_unsent(struct linequeue *q)
{
	struct lq_line *l = q->unsent;
	if (l == NULL)
		return NULL;
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

	q->head = h->next;
	if (q->tail == h)
		q->tail = NULL;
	q->bytes -= h->len + LQ_LINE_OVERHEAD;
	q->count--;
	if (q->done)
		q->done(q->done_arg, h, delivered);
	free(h);
}

/* Records nbytes written to the socket; frees whole lines; returns how many. */
size_t
lq_written(struct linequeue *q, size_t nbytes)
{
	size_t freed = 0;

	while (nbytes > 0 && q->head && q->head != q->unsent) {
		struct lq_line *h = q->head;
		size_t left = h->len - q->head_done;
		if (nbytes < left) {
			q->head_done += nbytes;
			break;
		}
		nbytes -= left;
		q->head_done = 0;
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
	q->head_done = 0;
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

/* Makes every line in flight unsent again, after a broken connection. */
void
lq_rewind(struct linequeue *q)
{
	struct lq_line *l;

	q->head_done = 0;
	q->unsent = q->head;
	q->unsent_bytes = 0;
	q->unsent_count = 0;
	for (l = q->head; l; l = l->next) {
		q->unsent_bytes += l->len;
		q->unsent_count++;
	}
}
