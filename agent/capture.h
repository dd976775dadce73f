/*
 * capture.h: the capture thread. It drains the connector socket, decodes
 * each message, and for exec reads /proc at once (cmdline first), because
 * a short-lived process is gone within a millisecond. It hands records to
 * the main loop through a bounded queue and an eventfd. It is the agent's
 * only latency-critical code, and the only part that may run at a raised
 * scheduling priority.
 */
#ifndef HIDS_CAPTURE_H
#define HIDS_CAPTURE_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "hasher.h"
#include "merge.h"
#include "netlink.h"

#define CAPTURE_MAX_CPUS 1024	/* per-CPU sequence tracking */
#define CAPTURE_WAKE_SIGNAL SIGUSR2	/* interrupts the thread's recv on stop */
#define CAPTURE_SEQ_RESYNC 4	/* backward sequence numbers in a row that reset a CPU's mark */
#define CAPTURE_SEQ_WINDOW 4096	/* split mode: sequence numbers one CPU may have pending */
#define CAPTURE_OVERRUN_WINDOW_MS 2000	/* split mode: holes this soon after ENOBUFS are loss */
#define CAPTURE_BATCH_MAX 64	/* records read by urgency together (see capture_one) */

enum capture_prio { CAPTURE_PRIO_NORMAL = 0, CAPTURE_PRIO_NICE, CAPTURE_PRIO_FIFO };

struct capture_config {
	/* [capture], as config.c parses it */
	enum capture_prio prio;
	int prio_value;			/* FIFO priority or nice value */
	unsigned max_rt_cpu_percent;	/* FIFO duty-cycle guard */
	bool exec_socket;		/* exec events on a socket of their own (6.6+); main opens it */
	size_t rcvbuf;			/* receive buffer of the sockets main opens */
	size_t cmdline_max_bytes;	/* cmdline bytes read per exec, kept or counted */
	size_t environ_max_bytes;	/* environ bytes read per exec */
	size_t queue_max_bytes;
	size_t queue_max_records;
	/* from other sections, filled in by main */
	bool threads;			/* keep thread events */
	uint32_t emit_mask;		/* CN_EV_* the operator wants */
	bool nonzero_exit_only;
	size_t max_args;
	struct hasher *hasher;		/* pins executables at exec; NULL: no hashing */
};

/* One queued record: a kernel event and what /proc showed at once. */
struct capture_rec {
	struct capture_rec *next;
	struct cn_event k;
	struct process snap;
	unsigned snap_got;	/* SNAP_* bits read */
	bool is_thread;
	uint64_t lost_before;	/* events known lost just before this one */
	const char *lost_reason;
	size_t bytes;
	int hash_slot;		/* exec: the hasher slot to wait for, or -1 */
	uint32_t hash_gen;
	uint8_t reads;		/* CAPTURE_READS_*: what is still to be read from /proc */
};

#define CAPTURE_READS_EXEC 1	/* exe, cwd and the rest of an exec's snapshot */
#define CAPTURE_READS_FORK 2	/* a fork's stat (one socket only) */

struct capture_counters {
	_Atomic uint64_t seen;
	_Atomic uint64_t overruns;
	_Atomic uint64_t seq_lost;
	_Atomic uint64_t queue_drops;
	_Atomic uint64_t decode_errors;
	_Atomic uint64_t threads_skipped;
	_Atomic uint64_t filtered;
	_Atomic uint64_t rt_demotions;
	_Atomic uint64_t forged;	/* datagrams not sent by the kernel, dropped */
	_Atomic uint64_t seq_unexplained;	/* split mode: holes with no overrun */
};

/* A snapshot of the counters, as capture_stats copies them. */
struct capture_stats {
	uint64_t seen, overruns, seq_lost, queue_drops, decode_errors;
	uint64_t threads_skipped, filtered, rt_demotions, forged, seq_unexplained;
};

/*
 * Split mode: one CPU's sequence numbers seen on either socket. Bit
 * (seq % CAPTURE_SEQ_WINDOW) is set for a number in [base, base + window)
 * that was seen; every number below base is accounted for.
 */
struct capture_seqwin {
	uint32_t base;		/* lowest number not yet seen nor counted */
	uint32_t max;		/* highest number seen */
	uint32_t settle;	/* max when the other socket was last drained */
	bool seen;
	uint8_t back;		/* numbers far below base in a row */
	uint64_t bits[CAPTURE_SEQ_WINDOW / 64];
};

/* Where a decoded record goes: straight to the queue, or to a merge list. */
struct capture;
struct capture_rec;
typedef void (*capture_sink)(struct capture *cap, struct capture_rec *r);

/*
 * Which events a socket brings. With the 6.6+ kernel filter the agent uses
 * two sockets: exec events wake the thread at once, everything else waits
 * in the second socket and is read in batches (see capture.c).
 */
enum capture_feed { FEED_ALL = 0, FEED_EXEC, FEED_OTHER };

struct capture {
	struct capture_config cfg;
	struct nlsource *src;		/* every event, or exec only when src_other is set */
	struct nlsource *src_other;	/* every other event; NULL with one socket */
	struct capture_merge merge;	/* split mode: the thread's own, see merge.h */
	unsigned other_wait_ms;		/* how long exec's recv waits while others may come */
	int procfd;
	int notify_fd;		/* eventfd: records are waiting */
	_Atomic bool stop;	/* the thread should end */
	pthread_t thread;
	bool running;
	pthread_mutex_t mu;
	struct capture_rec *head, *tail;
	size_t q_bytes, q_records;
	struct capture_rec *done;	/* handled by the main loop, for the thread to free */
	_Atomic bool done_waiting;	/* done is not empty */
	uint64_t pending_lost;	/* known lost, not yet attached to a record */
	const char *pending_reason;
	uint64_t forged_pending;	/* forged datagrams not yet reported */
	uint64_t forged_taken_ms;	/* when they were last reported */
	bool forged_woke;		/* the main loop was woken to report them */
	struct capture_counters c;
	bool gap_detect;
	uint32_t ncpus;		/* cpu indexes the kernel may use */
	uint32_t last_seq[CAPTURE_MAX_CPUS];
	bool seq_seen[CAPTURE_MAX_CPUS];
	uint8_t seq_back[CAPTURE_MAX_CPUS];	/* backward numbers in a row */
	struct capture_seqwin *win;	/* split mode with every type: per CPU, else NULL */
	uint32_t nwin;
	uint64_t holes_pending;		/* found, not yet accounted */
	uint64_t overrun_until_ms;	/* holes until then are loss */
	bool overrun_open, overrun_counted;
	/* The batch: records decoded since the last capture_batch_end, in order. */
	struct capture_rec *batch[CAPTURE_BATCH_MAX];
	capture_sink batch_sink[CAPTURE_BATCH_MAX];
	size_t nbatch;
	enum capture_prio prio_got;	/* the priority the thread actually runs at */
	char prio_desc[64];		/* the same, for the log: "fifo:50", "nice:-20" */
};

/* capture.c */
int capture_start(struct capture *cap, const struct capture_config *cfg,
    struct nlsource *src, struct nlsource *src_other, int procfd);
void capture_stop(struct capture *cap);
void capture_release(struct capture *cap);
void capture_stats(struct capture *cap, struct capture_stats *st);
struct capture_rec *capture_take_all(struct capture *cap, size_t *depth,
    uint64_t *lost, const char **reason);
void capture_rec_free(struct capture_rec *r);
void capture_rec_done(struct capture *cap, struct capture_rec *r);
uint64_t capture_seq_gap(struct capture *cap, uint32_t cpu, uint32_t seq);
uint64_t capture_take_forged(struct capture *cap);
int capture_notify_fd(const struct capture *cap);
void capture_seqwin_see(struct capture *cap, uint32_t cpu, uint32_t seq);
void capture_seqwin_settle(struct capture *cap);
void capture_seqwin_mark(struct capture *cap);
void capture_seqwin_overrun(struct capture *cap);
void capture_datagram(struct capture *cap, const uint8_t *buf, size_t len,
    enum capture_feed feed, capture_sink sink);
void capture_batch_end(struct capture *cap);
/* Split mode's merge, on the capture thread (exposed for the unit tests). */
void capture_hold_exec(struct capture *cap, struct capture_rec *r);
void capture_hold_other(struct capture *cap, struct capture_rec *r);
void capture_merge_push(struct capture *cap, uint64_t upto);
bool capture_keep(const struct capture_config *cfg, const struct cn_event *k,
    bool *is_thread);

#endif
