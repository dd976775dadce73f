/*
 * capture.c: the capture thread. Its hot path is bounded: one recv, one
 * decode, and for exec at most six small /proc reads, then a queue push.
 * Under SCHED_FIFO it watches its own CPU share and drops to normal
 * priority for a second when it exceeds max_rt_cpu_percent, so a fork
 * storm cannot starve the host.
 */
#include "capture.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "decode.h"
#include "procfs.h"

#define CAPTURE_RECV_BUF 65536		/* one datagram is < 100 bytes; batch room */
#define CAPTURE_GUARD_PERIOD_MS 1000	/* duty-cycle guard window */
#define CAPTURE_REC_OVERHEAD 256	/* bytes charged per record besides strings */
#define CAPTURE_FORGED_REPORT_MS 1000	/* at most one forged report this often */
#define CAPTURE_CPU_POSSIBLE "/sys/devices/system/cpu/possible"

/* Applies the configured scheduling to the calling thread; describes the result. */
static void
capture_apply_priority(struct capture *cap)
{
	const struct capture_config *cfg = &cap->cfg;
	pid_t tid = (pid_t)syscall(SYS_gettid);

	cap->prio_got = CAPTURE_PRIO_NORMAL;
	snprintf(cap->prio_desc, sizeof(cap->prio_desc), "normal");
	if (cfg->prio == CAPTURE_PRIO_FIFO) {
		struct sched_param sp = { .sched_priority = cfg->prio_value };
		int err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
		if (err == 0) {
			cap->prio_got = CAPTURE_PRIO_FIFO;
			snprintf(cap->prio_desc, sizeof(cap->prio_desc), "fifo:%d",
			    cfg->prio_value);
			return;
		}
		/* pthread_* return their error; errno is not set. */
		log_warnx("capture thread cannot use SCHED_FIFO (%s); "
		    "falling back to nice -20", strerror(err));
		if (setpriority(PRIO_PROCESS, (id_t)tid, -20) == 0) {
			cap->prio_got = CAPTURE_PRIO_NICE;
			snprintf(cap->prio_desc, sizeof(cap->prio_desc), "nice:-20");
			return;
		}
	} else if (cfg->prio == CAPTURE_PRIO_NICE) {
		if (setpriority(PRIO_PROCESS, (id_t)tid, cfg->prio_value) == 0) {
			cap->prio_got = CAPTURE_PRIO_NICE;
			snprintf(cap->prio_desc, sizeof(cap->prio_desc), "nice:%d",
			    cfg->prio_value);
			return;
		}
	} else {
		return;
	}
	log_warnx("capture thread cannot raise its priority (%s); short-lived "
	    "processes may be missed", strerror(errno));
}

/* Returns this thread's CPU time in ms. */
static uint64_t
thread_cpu_ms(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID) / 1000000ull;
}

/*
 * Counts events lost between the last sequence number seen on this CPU and
 * seq. Numbers that go backwards (a reset, or a mark that got ahead of the
 * kernel's counter) are not counted as loss; after CAPTURE_SEQ_RESYNC of
 * them in a row the mark follows the kernel again, so that one bad number
 * cannot switch gap counting off for good.
 */
uint64_t
capture_seq_gap(struct capture *cap, uint32_t cpu, uint32_t seq)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(60000, 5);
	uint64_t gap = 0;

	if (cpu >= CAPTURE_MAX_CPUS)
		return 0;
	if (cap->seq_seen[cpu]) {
		uint32_t d = seq - (cap->last_seq[cpu] + 1);
		if (d != 0 && d < 0x80000000u) {
			gap = d;
		} else if (d != 0) {
			if (++cap->seq_back[cpu] < CAPTURE_SEQ_RESYNC)
				return 0;	/* stale: keep the newer mark */
			if (log_ratelimit_allow(&rl))
				log_warnx("connector sequence of cpu %u went back from %u to %u; "
				    "counting from there", cpu, cap->last_seq[cpu], seq);
		}
	}
	cap->seq_back[cpu] = 0;
	cap->seq_seen[cpu] = true;
	cap->last_seq[cpu] = seq;
	return gap;
}

/*
 * Split mode's gap count. The kernel numbers each message per CPU whoever
 * listens, so the two filtered sockets together see every number when
 * they ask for every type, except the replies to (un)subscribe requests,
 * which a filtered socket never gets and which anyone may cause. Each
 * socket brings its numbers in order, but the exec socket is drained
 * before the other one: a number missing at or below what the other
 * socket showed (settle) is final once the exec socket was drained again.
 * Such holes count as loss when an overrun (ENOBUFS) was reported within
 * CAPTURE_OVERRUN_WINDOW_MS, else as seq_unexplained.
 */
static void capture_note_lost(struct capture *cap, uint64_t n, const char *reason);

#define SEQWIN_BIT(w, s) ((w)->bits[((s) % CAPTURE_SEQ_WINDOW) / 64] & \
    (1ull << ((s) % 64)))

/* Counts the numbers below upto that were not seen and moves base to upto. */
static void
seqwin_finalize(struct capture *cap, struct capture_seqwin *w, uint32_t upto)
{
	uint32_t span = upto - w->base;

	if (span >= CAPTURE_SEQ_WINDOW) {
		/* Past the whole window: beyond it nothing was seen, in it the set bits. */
		uint64_t seen = 0;
		for (size_t i = 0; i < CAPTURE_SEQ_WINDOW / 64; i++) {
			seen += (uint64_t)__builtin_popcountll(w->bits[i]);
			w->bits[i] = 0;
		}
		cap->holes_pending += span - seen;
	} else {
		for (; w->base != upto; w->base++) {
			if (SEQWIN_BIT(w, w->base))
				w->bits[(w->base % CAPTURE_SEQ_WINDOW) / 64] &=
				    ~(1ull << (w->base % 64));
			else
				cap->holes_pending++;
		}
	}
	w->base = upto;
}

/* Notes that seq was seen on cpu, on either socket. */
void
capture_seqwin_see(struct capture *cap, uint32_t cpu, uint32_t seq)
{
	struct capture_seqwin *w;
	uint32_t d;

	if (cap->win == NULL || cpu >= cap->nwin)
		return;
	w = &cap->win[cpu];
	if (!w->seen) {
		w->seen = true;
		w->base = seq + 1;
		w->max = w->settle = seq;
		return;
	}
	d = seq - w->base;
	if (d >= 0x80000000u) {
		/* Below base: a duplicate or late number, or a base gone astray. */
		if (w->base - seq <= CAPTURE_SEQ_WINDOW || ++w->back < CAPTURE_SEQ_RESYNC)
			return;
		memset(w->bits, 0, sizeof(w->bits));
		w->base = seq + 1;
		w->max = w->settle = seq;
		w->back = 0;
		return;
	}
	w->back = 0;
	if (d >= CAPTURE_SEQ_WINDOW)
		seqwin_finalize(cap, w, seq - CAPTURE_SEQ_WINDOW + 1);
	w->bits[(seq % CAPTURE_SEQ_WINDOW) / 64] |= 1ull << (seq % 64);
	if (seq - w->max < 0x80000000u)
		w->max = seq;
	while (SEQWIN_BIT(w, w->base)) {
		w->bits[(w->base % CAPTURE_SEQ_WINDOW) / 64] &= ~(1ull << (w->base % 64));
		w->base++;
	}
}

/* Counts what the holes found mean: loss after an overrun, else unexplained. */
static void
seqwin_account(struct capture *cap)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(3600000, 1);
	uint64_t now = now_mono_ms(), n = cap->holes_pending;

	cap->holes_pending = 0;
	if (n && cap->overrun_open && now <= cap->overrun_until_ms) {
		atomic_fetch_add(&cap->c.seq_lost, n);
		capture_note_lost(cap, n, "kernel_overrun");
		cap->overrun_counted = true;
	} else if (n) {
		atomic_fetch_add(&cap->c.seq_unexplained, n);
		if (log_ratelimit_allow(&rl))
			log_info("%llu connector sequence numbers came on neither socket "
			    "without an overrun: replies to other connector clients' "
			    "(un)subscribe requests, or a kernel allocation failure "
			    "(counted as seq_unexplained)", (unsigned long long)n);
	}
	if (cap->overrun_open && now > cap->overrun_until_ms) {
		/* An overrun whose holes never showed: loss of unknown count. */
		if (!cap->overrun_counted)
			capture_note_lost(cap, 0, "kernel_overrun");
		cap->overrun_open = cap->overrun_counted = false;
	}
}

/* After the exec socket was drained: holes up to each CPU's settle mark are final. */
void
capture_seqwin_settle(struct capture *cap)
{
	for (uint32_t c = 0; cap->win && c < cap->nwin; c++) {
		struct capture_seqwin *w = &cap->win[c];
		uint32_t d = w->settle + 1 - w->base;
		if (w->seen && d != 0 && d < 0x80000000u)
			seqwin_finalize(cap, w, w->settle + 1);
	}
	if (cap->win)
		seqwin_account(cap);
}

/* After the other socket was drained: what it showed becomes the settle mark. */
void
capture_seqwin_mark(struct capture *cap)
{
	for (uint32_t c = 0; cap->win && c < cap->nwin; c++)
		cap->win[c].settle = cap->win[c].max;
}

/* An overrun on either socket: holes found in the next while are its loss. */
void
capture_seqwin_overrun(struct capture *cap)
{
	cap->overrun_until_ms = now_mono_ms() + CAPTURE_OVERRUN_WINDOW_MS;
	cap->overrun_open = true;
}

/* Says whether an event is wanted; sets *is_thread. */
bool
capture_keep(const struct capture_config *cfg, const struct cn_event *k, bool *is_thread)
{
	*is_thread = k->pid != k->tgid;
	if (*is_thread && !cfg->threads)
		return false;
	if (!(cfg->emit_mask & k->what) &&
	    !(k->what == CN_EV_EXIT && (cfg->emit_mask & CN_EV_NONZERO_EXIT)))
		return false;
	if (k->what == CN_EV_EXIT && cfg->nonzero_exit_only && k->exit_status == 0)
		return false;
	return true;
}

/* Frees a record. */
void
capture_rec_free(struct capture_rec *r)
{
	process_release(&r->snap);
	free(r);
}

/*
 * Hands a record the main loop is done with back to the capture thread,
 * which frees it. Records are allocated by the capture thread; freeing
 * them here would take its malloc arena's lock from the main thread, and a
 * main thread preempted while holding it would stall the capture thread
 * (no priority inheritance in malloc) just when it must read /proc.
 */
void
capture_rec_done(struct capture *cap, struct capture_rec *r)
{
	pthread_mutex_lock(&cap->mu);
	r->next = cap->done;
	cap->done = r;
	atomic_store_explicit(&cap->done_waiting, true, memory_order_relaxed);
	pthread_mutex_unlock(&cap->mu);
}

/* Frees what the main loop handed back; on the capture thread, when idle. */
static void
capture_free_done(struct capture *cap)
{
	struct capture_rec *r, *n;

	pthread_mutex_lock(&cap->mu);
	r = cap->done;
	cap->done = NULL;
	atomic_store_explicit(&cap->done_waiting, false, memory_order_relaxed);
	pthread_mutex_unlock(&cap->mu);
	for (; r; r = n) {
		n = r->next;
		capture_rec_free(r);
	}
}

/* Queues a record for the main loop, or drops and counts it when full. */
static void
capture_push(struct capture *cap, struct capture_rec *r)
{
	bool wake;

	r->bytes = CAPTURE_REC_OVERHEAD + r->snap.args_len + r->snap.env_len +
	    (r->snap.executable ? strlen(r->snap.executable) : 0) +
	    (r->snap.cwd ? strlen(r->snap.cwd) : 0) +
	    (r->snap.cgroup ? strlen(r->snap.cgroup) : 0);
	pthread_mutex_lock(&cap->mu);
	if (cap->q_records >= cap->cfg.queue_max_records ||
	    cap->q_bytes + r->bytes > cap->cfg.queue_max_bytes) {
		cap->pending_lost++;
		cap->pending_reason = "queue_full";
		pthread_mutex_unlock(&cap->mu);
		atomic_fetch_add(&cap->c.queue_drops, 1);
		/* Its hash has no event to go to: the hasher frees the slot when done. */
		if (cap->cfg.hasher && r->hash_slot >= 0)
			hasher_orphan(cap->cfg.hasher, r->hash_slot, r->hash_gen, -1, "");
		capture_rec_free(r);
		return;
	}
	r->lost_before = cap->pending_lost;
	r->lost_reason = cap->pending_reason;
	cap->pending_lost = 0;
	cap->pending_reason = NULL;
	wake = cap->head == NULL;
	merge_append(&cap->head, &cap->tail, r);
	cap->q_bytes += r->bytes;
	cap->q_records++;
	pthread_mutex_unlock(&cap->mu);
	if (wake) {
		uint64_t one = 1;
		if (write(cap->notify_fd, &one, sizeof(one)) == -1 && errno != EAGAIN)
			log_warn("capture: cannot wake the main loop");
	}
}

/*
 * Notes loss to be attached to the next record. The records of the batch
 * came before it: they go first.
 */
static void
capture_note_lost(struct capture *cap, uint64_t n, const char *reason)
{
	capture_batch_end(cap);
	pthread_mutex_lock(&cap->mu);
	cap->pending_lost += n;
	cap->pending_reason = reason;
	pthread_mutex_unlock(&cap->mu);
}

/*
 * Adds a record to the batch, or hands it to its sink at once when it has
 * nothing left to read and nothing is waiting before it.
 */
static void
capture_batch_add(struct capture *cap, struct capture_rec *r, capture_sink sink)
{
	if (cap->nbatch == 0 && r->reads == 0) {
		sink(cap, r);
		return;
	}
	cap->batch[cap->nbatch] = r;
	cap->batch_sink[cap->nbatch] = sink;
	if (++cap->nbatch == CAPTURE_BATCH_MAX)
		capture_batch_end(cap);
}

/*
 * Reads the rest of the batch's snapshots by urgency, then hands every
 * record to its sink in the order they came. Each exec read its cmdline
 * and environ when it was decoded (capture_one); what goes next: the
 * exe (gone with the address space, as cmdline is), then the cwd (gone
 * soon after, at exit), then status, stat, cgroup and the audit ids,
 * which stay until the process is reaped. So an exec in a burst waits for
 * the cmdline reads of the execs before it, not for their whole snapshots.
 */
void
capture_batch_end(struct capture *cap)
{
	size_t n = cap->nbatch;

	if (n == 0)
		return;
	cap->nbatch = 0;	/* a sink may note loss, which ends the batch again */
	for (size_t i = 0; i < n; i++) {
		struct capture_rec *r = cap->batch[i];
		if (!(r->reads & CAPTURE_READS_EXEC))
			continue;
		r->snap_got |= procfs_snapshot(cap->procfd, r->k.tgid, SNAP_EXE, 0, &r->snap);
		/* The exe pinned with it, before it can go. */
		if (cap->cfg.hasher && (r->snap.known & PF_EXE_ID))
			r->hash_slot = hasher_pin(cap->cfg.hasher, cap->procfd, r->k.tgid, &r->snap,
			    &r->hash_gen);
	}
	for (size_t i = 0; i < n; i++)
		if (cap->batch[i]->reads & CAPTURE_READS_EXEC)
			cap->batch[i]->snap_got |= procfs_snapshot(cap->procfd,
			    cap->batch[i]->k.tgid, SNAP_CWD, 0, &cap->batch[i]->snap);
	for (size_t i = 0; i < n; i++) {
		struct capture_rec *r = cap->batch[i];
		if (r->reads & CAPTURE_READS_EXEC)
			r->snap_got |= procfs_snapshot(cap->procfd, r->k.tgid,
			    SNAP_EXEC & ~(SNAP_CMDLINE | SNAP_ENV | SNAP_EXE | SNAP_CWD), 0, &r->snap);
		else if (r->reads & CAPTURE_READS_FORK)
			r->snap_got = procfs_snapshot(cap->procfd, r->k.tgid, SNAP_STAT, 0, &r->snap);
		r->reads = 0;
	}
	for (size_t i = 0; i < n; i++)
		cap->batch_sink[i](cap, cap->batch[i]);
}

/*
 * Handles one decoded event: filter, read at once what vanishes first if
 * it is an exec, add it to the batch (capture_batch_end reads the rest).
 */
static void
capture_one(struct capture *cap, const struct cn_event *k, enum capture_feed feed,
    capture_sink sink)
{
	struct capture_rec *r;
	bool is_thread;

	/*
	 * Until its kernel filter is in place each socket gets every event;
	 * the other socket's share is a duplicate, not an event.
	 */
	if ((feed == FEED_EXEC && k->action != EV_EXEC) ||
	    (feed == FEED_OTHER && k->action == EV_EXEC))
		return;
	atomic_fetch_add(&cap->c.seen, 1);
	if (!capture_keep(&cap->cfg, k, &is_thread)) {
		if (is_thread && !cap->cfg.threads)
			atomic_fetch_add(&cap->c.threads_skipped, 1);
		else
			atomic_fetch_add(&cap->c.filtered, 1);
		return;
	}
	r = xcalloc(1, sizeof(*r));
	r->k = *k;
	r->is_thread = is_thread;
	process_init(&r->snap);
	r->hash_slot = -1;
	if (k->action == EV_EXEC) {
		/* What vanishes first, the address space's cmdline and environ, at once. */
		r->snap_got = procfs_snapshot(cap->procfd, k->tgid, SNAP_CMDLINE | SNAP_ENV,
		    cap->cfg.max_args, &r->snap);
		r->reads = CAPTURE_READS_EXEC;
	} else if (k->action == EV_FORK && !is_thread && feed != FEED_OTHER)
		/*
		 * The start time makes the entity id; the child may exit at once.
		 * Split mode reads nothing for a fork: by the time its batch is
		 * read the child is often in the middle of exec, and reading its
		 * stat then delays the next exec's snapshot enough to lose argv
		 * (measured: 8x more proc_gone with 4 spawners). enrich.c derives
		 * the start from the kernel's timestamp instead, and the exec
		 * snapshot reads the exact one.
		 */
		r->reads = CAPTURE_READS_FORK;
	capture_batch_add(cap, r, sink);
}

/*
 * Decodes every message of one datagram from the kernel. A process event
 * naming a cpu the host does not have is skipped and counted: it cannot be
 * the kernel's, and its sequence number must not move any CPU's mark.
 */
void
capture_datagram(struct capture *cap, const uint8_t *buf, size_t len,
    enum capture_feed feed, capture_sink sink)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(60000, 5);

	while (len > 0) {
		struct cn_event k;
		enum decode_result r = decode_next(&buf, &len, &k);
		bool bad_cpu = r == DECODE_OK && k.cpu >= cap->ncpus;
		/* Replies to any listener's (un)subscribe share the per-CPU counter. */
		if ((r == DECODE_OK || r == DECODE_ACK) && k.cpu < cap->ncpus && cap->gap_detect) {
			uint64_t gap = capture_seq_gap(cap, k.cpu, k.seq);
			if (gap) {
				atomic_fetch_add(&cap->c.seq_lost, gap);
				capture_note_lost(cap, gap, "kernel_overrun");
			}
		}
		if ((r == DECODE_OK || r == DECODE_ACK) && k.cpu < cap->ncpus)
			capture_seqwin_see(cap, k.cpu, k.seq);
		if (bad_cpu) {
			atomic_fetch_add(&cap->c.decode_errors, 1);
			if (log_ratelimit_allow(&rl))
				log_warnx("skipped a connector message: cpu %u, but the host has %u",
				    k.cpu, cap->ncpus);
			continue;
		}
		switch (r) {
		case DECODE_OK:
			capture_one(cap, &k, feed, sink);
			break;
		case DECODE_ACK:
		case DECODE_CONTROL:
			break;
		default:
			atomic_fetch_add(&cap->c.decode_errors, 1);
			if (log_ratelimit_allow(&rl))
				log_warnx("skipped a connector message: %s",
				    decode_result_name(r));
			break;
		}
	}
}

/* Drops to SCHED_OTHER for a period when the thread used too much CPU. */
static void
capture_guard(struct capture *cap, uint64_t *win_start, uint64_t *win_cpu, bool *demoted)
{
	uint64_t now = now_mono_ms(), cpu;

	if (cap->cfg.prio != CAPTURE_PRIO_FIFO || now - *win_start < CAPTURE_GUARD_PERIOD_MS)
		return;
	cpu = thread_cpu_ms();	/* a real syscall: only once per period */
	uint64_t used = cpu - *win_cpu, span = now - *win_start;
	*win_start = now;
	*win_cpu = cpu;
	if (!*demoted && used * 100 > span * cap->cfg.max_rt_cpu_percent &&
	    cap->prio_got == CAPTURE_PRIO_FIFO) {
		struct sched_param sp = { .sched_priority = 0 };
		if (pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp) == 0) {
			*demoted = true;
			atomic_fetch_add(&cap->c.rt_demotions, 1);
			log_warnx("capture thread used %llu ms of CPU in %llu ms; "
			    "running at normal priority for a while",
			    (unsigned long long)used, (unsigned long long)span);
		}
	} else if (*demoted) {
		struct sched_param sp = { .sched_priority = cap->cfg.prio_value };
		if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0)
			*demoted = false;
	}
}

/*
 * Drops and counts a datagram that another process multicast to the
 * connector's group. The main loop reports the count (capture_take_forged)
 * at most every CAPTURE_FORGED_REPORT_MS; it is woken only when it will.
 */
static void
capture_drop_forged(struct capture *cap, uint32_t sender)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(60000, 5);
	uint64_t now = now_mono_ms();
	bool wake;

	atomic_fetch_add(&cap->c.forged, 1);
	if (log_ratelimit_allow(&rl))
		log_warnx("dropped a connector message sent by netlink port %u, not by the "
		    "kernel: a process with CAP_NET_ADMIN is forging process events "
		    "(the port is usually its pid)", sender);
	pthread_mutex_lock(&cap->mu);
	cap->forged_pending++;
	wake = !cap->forged_woke && now >= cap->forged_taken_ms + CAPTURE_FORGED_REPORT_MS;
	if (wake)
		cap->forged_woke = true;
	pthread_mutex_unlock(&cap->mu);
	if (wake) {
		uint64_t one = 1;
		if (write(cap->notify_fd, &one, sizeof(one)) == -1 && errno != EAGAIN)
			log_warn("capture: cannot wake the main loop");
	}
}

/*
 * Receives one datagram from src and handles it; false when the socket
 * has nothing more now. Only the kernel's datagrams are decoded.
 */
static bool
capture_recv(struct capture *cap, struct nlsource *src, uint8_t *buf, int flags,
    enum capture_feed feed, capture_sink sink)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(60000, 5);
	uint32_t sender;
	ssize_t n = nlsource_recv(src, buf, CAPTURE_RECV_BUF, flags, &sender);

	/*
	 * An empty datagram is no reason to stop draining either (ending the
	 * exec socket's drain early would settle holes too soon); Linux 6.x
	 * refuses to multicast one from a process (ENODATA) anyway.
	 */
	if (n >= 0 && sender != 0) {
		capture_drop_forged(cap, sender);
		return true;
	}
	if (n >= 0) {
		capture_datagram(cap, buf, (size_t)n, feed, sink);
		return true;
	}
	if (n == -1 && errno == ENOBUFS) {
		/* Messages are gone; sequence gaps will say how many. */
		atomic_fetch_add(&cap->c.overruns, 1);
		if (cap->win)
			capture_seqwin_overrun(cap);
		else if (!cap->gap_detect)
			capture_note_lost(cap, 0, "kernel_overrun");
		return true;
	}
	if (n == -1 && errno != EAGAIN && errno != EINTR && log_ratelimit_allow(&rl))
		log_warn("capture: recv");
	return false;
}

/* Sinks of split mode: hold records for the merge. */
void
capture_hold_exec(struct capture *cap, struct capture_rec *r)
{
	merge_hold_exec(&cap->merge, r);
}

void
capture_hold_other(struct capture *cap, struct capture_rec *r)
{
	merge_hold_other(&cap->merge, r);
}

/*
 * Queues, in kernel time order, every held exec record and every held
 * other record stamped at or before upto; later other records stay held.
 */
void
capture_merge_push(struct capture *cap, uint64_t upto)
{
	struct capture_rec *r;

	while ((r = merge_next(&cap->merge, upto)) != NULL)
		capture_push(cap, r);
}

/* Sets how long a recv on the exec socket blocks; only when it changes. */
static void
capture_set_wait(struct capture *cap, unsigned ms)
{
	if (ms == cap->other_wait_ms)
		return;
	if (nlsource_set_timeout(cap->src, ms) == -1)
		log_warn("capture: SO_RCVTIMEO");
	cap->other_wait_ms = ms;
}

#define CAPTURE_OTHER_WAIT_MIN_MS 5	/* other events wait at most this long in a storm */
#define CAPTURE_OTHER_WAIT_MAX_MS 100	/* ... and this long on a quiet host */

/*
 * One round of split mode. Exec events wake the thread and are read from
 * /proc at once; other events (fork, exit, ...) stay in their socket and
 * are read here in a batch, without a wake-up each: that is two of the
 * three wake-ups a short-lived process costs.
 *
 * The two sockets are merged by kernel timestamp so that every process's
 * events stay in order. The exec socket is drained first, up to time t;
 * then the other socket. An exec a process did before one of its other
 * events was queued before that event was stamped, so every other event
 * stamped at or before t has its earlier execs in hand; the ones stamped
 * later wait for the next round. (The kernel queues a fork event before
 * the child can run, so a child's exec never overtakes its fork either.)
 */
static void
capture_split_round(struct capture *cap, uint8_t *buf, bool block)
{
	bool got_other = false;

	if (block)
		capture_recv(cap, cap->src, buf, 0, FEED_EXEC, capture_hold_exec);
	while (capture_recv(cap, cap->src, buf, MSG_DONTWAIT, FEED_EXEC, capture_hold_exec))
		;
	/* Drained to the end (not cut short by a signal): earlier holes are final. */
	bool drained = errno == EAGAIN;
	capture_batch_end(cap);
	if (drained)
		capture_seqwin_settle(cap);
	uint64_t t = clock_ns(CLOCK_MONOTONIC);
	while (capture_recv(cap, cap->src_other, buf, MSG_DONTWAIT, FEED_OTHER,
	    capture_hold_other))
		got_other = true;
	drained = errno == EAGAIN;
	capture_batch_end(cap);
	if (drained)
		capture_seqwin_mark(cap);
	capture_merge_push(cap, t);
	/* Others arriving: look again soon. Quiet: wait longer, up to a bound. */
	if (got_other)
		capture_set_wait(cap, CAPTURE_OTHER_WAIT_MIN_MS);
	else if (cap->other_wait_ms < CAPTURE_OTHER_WAIT_MAX_MS)
		capture_set_wait(cap, cap->other_wait_ms * 2 > CAPTURE_OTHER_WAIT_MAX_MS ?
		    CAPTURE_OTHER_WAIT_MAX_MS : cap->other_wait_ms * 2);
}

/* Wakes the thread out of a blocking recv; the handler does nothing else. */
static void
capture_wake_handler(int sig)
{
	(void)sig;
}

/*
 * The thread: drains the socket until EAGAIN, then (idle) frees handled
 * records and blocks in recv, with a timeout so the CPU guard runs even
 * when idle. On stop, it drains the socket until EAGAIN once more.
 */
static void *
capture_main(void *arg)
{
	struct capture *cap = arg;
	uint8_t *buf = xmalloc(CAPTURE_RECV_BUF);
	uint64_t win_start = now_mono_ms(), win_cpu = thread_cpu_ms();
	bool demoted = false;

	if (cap->src_other)
		capture_set_wait(cap, CAPTURE_OTHER_WAIT_MIN_MS);
	else if (nlsource_set_timeout(cap->src, CAPTURE_GUARD_PERIOD_MS) == -1)
		log_warn("capture: SO_RCVTIMEO");
	/* A name for top -H, ps -L and the tests' CPU accounting. */
	pthread_setname_np(pthread_self(), "hids-capture");
	capture_apply_priority(cap);
	log_info("capture thread running at %s priority, %s", cap->prio_desc,
	    cap->src_other ? "exec events on their own socket" : "one socket");
	while (!atomic_load(&cap->stop)) {
		if (cap->src_other) {
			/* Held other events are seconds old at most: no blocking then. */
			capture_split_round(cap, buf, !merge_holds_other(&cap->merge));
			if (atomic_load_explicit(&cap->done_waiting, memory_order_relaxed))
				capture_free_done(cap);
			capture_guard(cap, &win_start, &win_cpu, &demoted);
			continue;
		}
		/*
		 * The socket blocks, so a plain recv drains it until it is empty
		 * and then waits: one syscall per datagram. Only when the main
		 * loop handed records back does a non-blocking recv first find
		 * out whether the thread is idle enough to free them.
		 */
		if (atomic_load_explicit(&cap->done_waiting, memory_order_relaxed)) {
			/* capture_recv logs nothing for EAGAIN: errno is still recv's. */
			if (!capture_recv(cap, cap->src, buf, MSG_DONTWAIT, FEED_ALL,
			    capture_push) && errno == EAGAIN) {
				capture_batch_end(cap);
				capture_free_done(cap);
				capture_recv(cap, cap->src, buf, 0, FEED_ALL, capture_push);
			}
		} else {
			capture_recv(cap, cap->src, buf, 0, FEED_ALL, capture_push);
		}
		/*
		 * A record with reads left (an exec past its cmdline, a fork)
		 * waits for what is pending now, so that the batch is read by
		 * urgency; with nothing pending that costs one recv.
		 */
		while (cap->nbatch > 0 &&
		    capture_recv(cap, cap->src, buf, MSG_DONTWAIT, FEED_ALL, capture_push))
			;
		capture_batch_end(cap);
		capture_guard(cap, &win_start, &win_cpu, &demoted);
	}
	if (cap->src_other) {
		capture_split_round(cap, buf, false);
		capture_merge_push(cap, UINT64_MAX);
	} else {
		while (capture_recv(cap, cap->src, buf, MSG_DONTWAIT, FEED_ALL, capture_push))
			;
		capture_batch_end(cap);
	}
	capture_free_done(cap);
	free(buf);
	procfs_release_scratch();
	return NULL;
}

/*
 * Returns how many cpu indexes the kernel may use: the last index in
 * /sys/devices/system/cpu/possible plus one, or the configured CPUs; with
 * neither, UINT32_MAX (no check), since a wrong guess would drop real events.
 */
static uint32_t
capture_possible_cpus(void)
{
	char buf[256], *p, *end;
	FILE *f = fopen(CAPTURE_CPU_POSSIBLE, "re");
	long n = -1, conf = sysconf(_SC_NPROCESSORS_CONF);
	size_t len = 0;

	if (f) {
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[len] = '\0';
	/* "0-3" or "0,2-5": the highest index is the last number. */
	for (p = buf + len; p > buf && (p[-1] < '0' || p[-1] > '9'); p--)
		;
	for (end = p; p > buf && p[-1] >= '0' && p[-1] <= '9'; p--)
		;
	if (p < end)
		n = strtol(p, NULL, 10) + 1;
	if (conf > n)
		n = conf;
	if (n <= 0 || n >= UINT32_MAX) {
		log_warnx("cannot tell how many CPUs the host has; cpu numbers of "
		    "connector messages are not checked");
		return UINT32_MAX;
	}
	return (uint32_t)n;
}

/* Starts the thread; returns -1 with a logged reason on failure. */
int
capture_start(struct capture *cap, const struct capture_config *cfg,
    struct nlsource *src, struct nlsource *src_other, int procfd)
{
	int err;

	memset(cap, 0, sizeof(*cap));
	cap->cfg = *cfg;
	cap->src = src;
	cap->src_other = src_other;
	cap->procfd = procfd;
	cap->ncpus = capture_possible_cpus();
	/* Sequence gaps mean loss only when the kernel sends us every event. */
	cap->gap_detect = !src->kernel_filter && src_other == NULL;
	/* Two filtered sockets: together they see every number only if they ask for every type. */
	if (src_other && (src->mask | src_other->mask) == CN_EV_ALL) {
		cap->nwin = cap->ncpus < CAPTURE_MAX_CPUS ? cap->ncpus : CAPTURE_MAX_CPUS;
		cap->win = xcalloc(cap->nwin, sizeof(*cap->win));
	} else if (src_other || src->kernel_filter) {
		log_info("only some event types are asked of the kernel: sequence gaps "
		    "cannot be counted, an overrun is reported without a count");
	}
	/* Priority inheritance: the main thread holds it briefly, at normal priority. */
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT);
	pthread_mutex_init(&cap->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	cap->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (cap->notify_fd == -1) {
		log_warn("capture: eventfd");
		return -1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = capture_wake_handler;	/* no SA_RESTART: recv returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(CAPTURE_WAKE_SIGNAL, &sa, NULL);
	if ((err = pthread_create(&cap->thread, NULL, capture_main, cap)) != 0) {
		errno = err;
		log_warn("capture: cannot start the thread");
		return -1;
	}
	cap->running = true;
	return 0;
}

/* Stops and joins the thread; queued records stay for capture_take_all. */
void
capture_stop(struct capture *cap)
{
	if (!cap->running)
		return;
	atomic_store(&cap->stop, true);
	pthread_kill(cap->thread, CAPTURE_WAKE_SIGNAL);
	pthread_join(cap->thread, NULL);
	cap->running = false;
}

/*
 * Takes every queued record, oldest first; *depth gets how many, and
 * *lost and *reason the loss noted after the last of them.
 */
struct capture_rec *
capture_take_all(struct capture *cap, size_t *depth, uint64_t *lost,
    const char **reason)
{
	struct capture_rec *h;
	uint64_t v;

	if (read(cap->notify_fd, &v, sizeof(v)) == -1 && errno != EAGAIN)
		log_warn("capture: eventfd read");
	pthread_mutex_lock(&cap->mu);
	h = cap->head;
	*depth = cap->q_records;
	cap->head = cap->tail = NULL;
	cap->q_bytes = 0;
	cap->q_records = 0;
	*lost = cap->pending_lost;
	*reason = cap->pending_reason;
	cap->pending_lost = 0;
	cap->pending_reason = NULL;
	pthread_mutex_unlock(&cap->mu);
	return h;
}

/*
 * Takes the count of forged datagrams dropped since the last take, or 0
 * while the last report is less than CAPTURE_FORGED_REPORT_MS old and the
 * thread still runs; on the main thread.
 */
uint64_t
capture_take_forged(struct capture *cap)
{
	uint64_t now = now_mono_ms(), n = 0;

	pthread_mutex_lock(&cap->mu);
	if (cap->forged_pending &&
	    (!cap->running || now >= cap->forged_taken_ms + CAPTURE_FORGED_REPORT_MS)) {
		n = cap->forged_pending;
		cap->forged_pending = 0;
		cap->forged_taken_ms = now;
		cap->forged_woke = false;
	}
	pthread_mutex_unlock(&cap->mu);
	return n;
}

/* Frees records handed back after the thread stopped, and the gap windows. */
void
capture_release(struct capture *cap)
{
	capture_free_done(cap);
	free(cap->win);
	cap->win = NULL;
}

/* Copies the capture thread's counters; safe while it runs. */
void
capture_stats(struct capture *cap, struct capture_stats *st)
{
	struct capture_counters *c = &cap->c;

	st->seen = atomic_load(&c->seen);
	st->overruns = atomic_load(&c->overruns);
	st->seq_lost = atomic_load(&c->seq_lost);
	st->queue_drops = atomic_load(&c->queue_drops);
	st->decode_errors = atomic_load(&c->decode_errors);
	st->threads_skipped = atomic_load(&c->threads_skipped);
	st->filtered = atomic_load(&c->filtered);
	st->rt_demotions = atomic_load(&c->rt_demotions);
	st->forged = atomic_load(&c->forged);
	st->seq_unexplained = atomic_load(&c->seq_unexplained);
}

/* Returns the eventfd that becomes readable when records are waiting (for the main loop). */
int
capture_notify_fd(const struct capture *cap)
{
	return cap->notify_fd;
}
