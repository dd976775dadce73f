/*
 * merge.c: the two-socket merge by kernel timestamp. Every held exec
 * record may go out; an other record only once it is stamped at or before
 * the time up to which the exec socket was drained, since an exec stamped
 * before it may still be on its way. Not for the queue to the main loop or
 * the sequence accounting: those stay in capture.c.
 */
#include "merge.h"

#include <stddef.h>

#include "capture.h"

/* Appends r to the list head..tail. */
void
merge_append(struct capture_rec **head, struct capture_rec **tail, struct capture_rec *r)
{
	if (*tail)
		(*tail)->next = r;
	else
		*head = r;
	*tail = r;
}

/* Holds a record from the exec socket. */
void
merge_hold_exec(struct capture_merge *m, struct capture_rec *r)
{
	merge_append(&m->exec_head, &m->exec_tail, r);
}

/* Holds a record from the other socket. */
void
merge_hold_other(struct capture_merge *m, struct capture_rec *r)
{
	merge_append(&m->other_head, &m->other_tail, r);
}

/*
 * Takes the earliest record that may go out: any held exec record, and
 * other records stamped at or before upto; NULL when none may.
 */
struct capture_rec *
merge_next(struct capture_merge *m, uint64_t upto)
{
	struct capture_rec *e = m->exec_head, *o = m->other_head, *r;
	bool o_ok = o && o->k.ts_ns <= upto;

	if (e && (!o_ok || e->k.ts_ns <= o->k.ts_ns)) {
		r = e;
		if ((m->exec_head = e->next) == NULL)
			m->exec_tail = NULL;
	} else if (o_ok) {
		r = o;
		if ((m->other_head = o->next) == NULL)
			m->other_tail = NULL;
	} else {
		return NULL;
	}
	r->next = NULL;
	return r;
}

/* Says whether other records are held (then the thread must not block long). */
bool
merge_holds_other(const struct capture_merge *m)
{
	return m->other_head != NULL;
}
