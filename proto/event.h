/*
 * event.h: the one type that flows through the pipeline. The decoder fills
 * struct cn_event from a kernel message; the agent adds what /proc and the
 * process table know in struct process; the encoder turns a struct hids_event
 * into one JSON line. Nothing here does I/O.
 */
#ifndef HIDS_EVENT_H
#define HIDS_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kernel event bits, as in <linux/cn_proc.h>; NONZERO_EXIT is Linux 6.6+. */
#define CN_EV_NONE 0x00000000u
#define CN_EV_FORK 0x00000001u
#define CN_EV_EXEC 0x00000002u
#define CN_EV_UID 0x00000004u
#define CN_EV_GID 0x00000040u
#define CN_EV_SID 0x00000080u
#define CN_EV_PTRACE 0x00000100u
#define CN_EV_COMM 0x00000200u
#define CN_EV_NONZERO_EXIT 0x20000000u
#define CN_EV_COREDUMP 0x40000000u
#define CN_EV_EXIT 0x80000000u
#define CN_EV_ALL (CN_EV_FORK | CN_EV_EXEC | CN_EV_UID | CN_EV_GID | CN_EV_SID | \
    CN_EV_PTRACE | CN_EV_COMM | CN_EV_NONZERO_EXIT | CN_EV_COREDUMP | CN_EV_EXIT)

enum ev_action {
	EV_NONE = 0,
	EV_FORK,
	EV_EXEC,
	EV_UID,
	EV_GID,
	EV_SID,
	EV_PTRACE,
	EV_COMM,
	EV_COREDUMP,
	EV_EXIT,
	EV_LOST,
	EV_HEARTBEAT,
	EV_SUPPRESSED,		/* a filter rule's summary (agent/filter.c) */
	EV_ACTION_MAX
};

/* Whether an action is one of the agent's own records, which describe no process. */
static inline bool
ev_action_is_record(enum ev_action a)
{
	return a == EV_LOST || a == EV_HEARTBEAT || a == EV_SUPPRESSED;
}

/* One decoded connector (cn_proc) message: ids only, as the kernel sends them. */
struct cn_event {
	enum ev_action action;
	uint32_t what;		/* raw kernel type */
	uint32_t cpu;
	uint32_t seq;		/* connector's per-CPU sequence number */
	uint64_t ts_ns;		/* CLOCK_MONOTONIC: the kernel's, or the agent's when it makes a record */
	int32_t pid, tgid;	/* the process the event is about */
	int32_t ppid, ptgid;	/* fork parent; exit and coredump parent */
	bool has_parent;
	int32_t tracer_pid, tracer_tgid;
	uint32_t rid, eid;	/* uid or gid event: real and effective */
	uint32_t exit_status;	/* wait(2) status */
	uint32_t exit_signal;	/* signal sent to the parent */
	char comm[17];
	uint32_t ack_err;	/* PROC_EVENT_NONE: subscription reply */
	uint32_t ack_seq, ack_ack;
};

/* Credentials of a process as /proc/PID/status shows them. */
struct proc_ids {
	uint32_t ruid, euid, suid, fsuid;
	uint32_t rgid, egid, sgid, fsgid;
};

/* Which parts of struct process are known. */
#define PF_ARGS (1u << 0)
#define PF_EXE (1u << 1)
#define PF_CWD (1u << 2)
#define PF_STAT (1u << 3)	/* ppid, pgid, sid, tty, start */
#define PF_IDS (1u << 4)
#define PF_NAME (1u << 5)
#define PF_CONTAINER (1u << 6)
#define PF_NSPID (1u << 7)
#define PF_CAPS (1u << 8)
#define PF_PPID (1u << 9)
#define PF_START (1u << 10)
#define PF_EXE_ID (1u << 11)	/* exe_id */
#define PF_AUDIT (1u << 12)	/* audit_uid, audit_sid */

/* Which paths of struct process were cut (hids.path_truncated). */
#define PATH_CUT_EXE (1u << 0)
#define PATH_CUT_CWD (1u << 1)
#define PATH_CUT_CGROUP (1u << 2)

#define ENTITY_ID_LEN 24

/* process.hash.*: which digests, and why there are none (hids.hash_status). */
#define HASH_ALG_SHA256 (1u << 0)
#define HASH_ALG_SHA1 (1u << 1)
#define HASH_ALG_MD5 (1u << 2)
enum hash_status {
	HASH_STATUS_NONE = 0,	/* not asked (hashing off, or no executable) */
	HASH_STATUS_DONE,
	HASH_STATUS_PENDING,	/* not ready within [hash] wait_ms */
	HASH_STATUS_TOO_LARGE,	/* over [hash] max_file_bytes */
	HASH_STATUS_BUDGET,	/* over [hash] bytes_per_second, or too many waiting */
	HASH_STATUS_ERROR,	/* the executable could not be opened or read */
};

#define AUDIT_UNSET 4294967295u	/* loginuid and sessionid never set: (uid_t)-1 */

/* process.entry_leader.entry_meta.type (agent/entry.c decides it). */
enum entry_type {
	ENTRY_NONE = 0,		/* not classified (a kernel thread, or not looked at) */
	ENTRY_UNKNOWN,		/* an ancestor was unknown */
	ENTRY_INIT,
	ENTRY_SSHD,
	ENTRY_SSM,
	ENTRY_KUBELET,
	ENTRY_TELEPORT,
	ENTRY_TERMINAL,
	ENTRY_CONSOLE,
	ENTRY_CONTAINER,
	ENTRY_TYPE_MAX
};

/* The container runtime the cgroup path names (container.runtime). */
enum container_runtime {
	RUNTIME_NONE = 0,
	RUNTIME_DOCKER,
	RUNTIME_CONTAINERD,
	RUNTIME_CRIO,
	RUNTIME_PODMAN,
	RUNTIME_MAX
};

/* Which process is the entry leader of a process, inherited at fork. */
struct entry_ref {
	int32_t pid;		/* 0: none known */
	uint8_t type;		/* enum entry_type */
	uint8_t ip_family;	/* AF_INET, AF_INET6 or 0: entry_meta.source.ip (sshd) */
	uint8_t ip[16];
	char entity_id[ENTITY_ID_LEN + 1];
};

/* What is known of one process; strings are owned by the struct. */
/* The executable's identity and properties, from a stat of /proc/PID/exe. */
struct exe_id {
	uint64_t dev, ino;	/* st_dev and st_ino */
	uint32_t mode;		/* st_mode: setuid, setgid */
	uint32_t uid;		/* its owner */
	uint64_t size;		/* with dev, ino, mtime and ctime: the hash cache's key */
	int64_t mtime_ns, ctime_ns;
	bool fcaps;		/* it has file capabilities (security.capability) */
	bool fcaps_effective;	/* ... with the effective bit */
	uint64_t fcaps_permitted, fcaps_inheritable;
};

struct process {
	uint32_t known;		/* PF_* */
	int32_t pid;
	int32_t ppid;
	int32_t pgid, sid, tty_nr;
	int32_t ns_pid;
	uint64_t start_ticks;	/* clock ticks since boot, from stat */
	uint64_t start_ns;	/* wall clock */
	char name[17];
	char *executable;
	bool exe_deleted;
	char *cwd;
	int exe_errno;		/* why executable could not be read; 0 = it was, or not tried */
	int cwd_errno;		/* the same for cwd */
	struct exe_id exe_id;	/* what a stat of /proc/PID/exe said (PF_EXE_ID) */
	uint8_t hash_status;	/* HASH_STATUS_*: of process.hash.* */
	uint8_t hash_algs;	/* HASH_ALG_*: the digests below that are filled */
	uint8_t sha256[32], sha1[20], md5[16];
	uint8_t paths_cut;	/* PATH_CUT_*: paths the process table cut to its limit */
	char *args;		/* NUL-separated, args_len bytes */
	size_t args_len;
	uint32_t args_count;	/* true count, even when truncated */
	bool args_truncated;
	bool args_count_partial;	/* args_count is a lower bound: cmdline past the read cap */
	struct proc_ids ids;
	uint64_t cap_eff;
	uint64_t cap_prm;	/* CapPrm, with cap_eff (PF_CAPS) */
	uint32_t audit_uid;	/* /proc/PID/loginuid (PF_AUDIT); AUDIT_UNSET when never set */
	uint32_t audit_sid;	/* /proc/PID/sessionid (PF_AUDIT) */
	struct entry_ref entry;	/* the entry leader, inherited at fork */
	uint8_t runtime;	/* enum container_runtime, with container_id */
	char container_id[65];
	char *cgroup;		/* the cgroup path as /proc/PID/cgroup shows it (PF_CONTAINER) */
	char entity_id[ENTITY_ID_LEN + 1];
	uint16_t filt_rule;	/* agent/filter.c: the rule, when filt says so */
	uint8_t filt;		/* agent/filter.c: FILT_* decision */
	char *env;		/* process.env_vars: NUL-separated NAME=value, env_len bytes; exec only */
	size_t env_len;
	bool env_truncated;	/* a value was cut, or entries past PROCFS_ENV_MAX_ENTRIES left out */
	bool env_partial;	/* environ is longer than the read cap: names past it are unseen */
};

/*
 * The agent's numeric counters, listed once: struct agent_stats, the
 * heartbeat and lost records, SIGUSR1 and the metrics endpoint all read this
 * list, so a counter added here shows up everywhere. X(name, kind, group,
 * help): kind STAT_COUNTER only grows, STAT_GAUGE goes up and down; group
 * says when it is reported (STAT_ALWAYS, STAT_FORWARDING, STAT_SPOOLING).
 * Add a line at the end of its group.
 */
#define AGENT_STATS_LIST(X) \
	X(events_seen, STAT_COUNTER, STAT_ALWAYS, \
	    "connector messages decoded, including skipped thread events") \
	X(events_emitted, STAT_COUNTER, STAT_ALWAYS, "lines written") \
	X(events_lost, STAT_COUNTER, STAT_ALWAYS, \
	    "events known to be lost: sequence gaps plus queue drops") \
	X(overruns, STAT_COUNTER, STAT_ALWAYS, \
	    "ENOBUFS on the kernel socket (receive buffer overflowed)") \
	X(decode_errors, STAT_COUNTER, STAT_ALWAYS, \
	    "connector messages that could not be decoded and were skipped") \
	X(threads_skipped, STAT_COUNTER, STAT_ALWAYS, \
	    "thread events ignored because [events] threads is off") \
	X(proc_gone, STAT_COUNTER, STAT_ALWAYS, \
	    "exec events whose argv could not be read in time") \
	X(argv_captured, STAT_COUNTER, STAT_ALWAYS, "exec events whose argv was read") \
	X(queue_drops, STAT_COUNTER, STAT_ALWAYS, \
	    "records dropped because the capture queue was full") \
	X(queue_depth, STAT_GAUGE, STAT_ALWAYS, \
	    "records that were waiting in the capture queue at the last drain") \
	X(proctab_size, STAT_GAUGE, STAT_ALWAYS, "processes in the process table") \
	X(proctab_evictions, STAT_COUNTER, STAT_ALWAYS, \
	    "process table entries evicted at [process] table_max_entries or table_max_bytes") \
	X(proctab_bytes, STAT_GAUGE, STAT_ALWAYS, \
	    "memory the process table's entries take, in bytes") \
	X(proctab_budget_evictions, STAT_COUNTER, STAT_ALWAYS, \
	    "process table entries evicted at [process] table_max_bytes") \
	X(rss_bytes, STAT_GAUGE, STAT_ALWAYS, "the agent's resident memory in bytes") \
	X(forged, STAT_COUNTER, STAT_ALWAYS, \
	    "connector messages not sent by the kernel, dropped") \
	X(filtered, STAT_COUNTER, STAT_ALWAYS, \
	    "events the agent's [events] types or exit filter left out") \
	X(rt_demotions, STAT_COUNTER, STAT_ALWAYS, \
	    "times the CPU guard took SCHED_FIFO from the capture thread for a second") \
	X(seq_unexplained, STAT_COUNTER, STAT_ALWAYS, \
	    "connector sequence numbers neither socket got, with no overrun") \
	X(events_suppressed, STAT_COUNTER, STAT_ALWAYS, \
	    "events dropped by [filter NAME] rules, each also in a suppressed record") \
	X(hash_done, STAT_COUNTER, STAT_ALWAYS, "executables hashed ([hash])") \
	X(hash_cache_hits, STAT_COUNTER, STAT_ALWAYS, \
	    "execs whose hash came from the hasher's cache") \
	X(hash_skipped, STAT_COUNTER, STAT_ALWAYS, \
	    "execs not hashed: too large, over the byte budget, or unreadable") \
	X(hash_pending, STAT_COUNTER, STAT_ALWAYS, \
	    "exec events that went out before their hash was ready ([hash] wait_ms)") \
	X(events_sent, STAT_COUNTER, STAT_FORWARDING, \
	    "lines handed to the collector's socket") \
	X(events_dropped, STAT_COUNTER, STAT_FORWARDING, \
	    "lines dropped because the collector queue was full") \
	X(queue_bytes, STAT_GAUGE, STAT_FORWARDING, "bytes waiting in the collector queue") \
	X(reconnects, STAT_COUNTER, STAT_FORWARDING, \
	    "failed connection attempts plus broken connections") \
	X(relp_errors, STAT_COUNTER, STAT_FORWARDING, \
	    "RELP answers other than 200 and RELP protocol errors") \
	X(spool_bytes, STAT_GAUGE, STAT_SPOOLING, "bytes in the spool's segment files") \
	X(spooled, STAT_COUNTER, STAT_SPOOLING, "records written to the spool") \
	X(replayed, STAT_COUNTER, STAT_SPOOLING, \
	    "records read back from the spool for sending") \
	X(spool_dropped, STAT_COUNTER, STAT_SPOOLING, \
	    "records lost because the spool reached max_bytes") \
	X(spool_corrupt, STAT_COUNTER, STAT_SPOOLING, \
	    "corrupt regions skipped while reading the spool") \
	X(spool_write_errors, STAT_COUNTER, STAT_SPOOLING, \
	    "failed spool writes; those events stayed in memory") \
	X(spool_untrusted, STAT_COUNTER, STAT_SPOOLING, \
	    "spool segment names skipped: not regular files of the agent's user")

enum stat_kind { STAT_COUNTER, STAT_GAUGE };
enum stat_group { STAT_ALWAYS, STAT_FORWARDING, STAT_SPOOLING };

/* Counters the agent reports in heartbeat and lost records. */
struct agent_stats {
#define AGENT_STATS_FIELD(name, kind, group, help) uint64_t name;
	AGENT_STATS_LIST(AGENT_STATS_FIELD)
#undef AGENT_STATS_FIELD
	bool forwarding;
	bool connected;		/* forwarding only */
	const char *collector;	/* forwarding only */
	bool spooling;
};

/* One entry of AGENT_STATS_LIST, for code that walks the counters. */
struct agent_stat_desc {
	const char *name;
	const char *help;
	size_t offset;		/* of the uint64_t in struct agent_stats */
	enum stat_kind kind;
	enum stat_group group;
};

/* What one filter rule suppressed in one interval: a suppressed record. */
struct filter_summary {
	const char *rule;
	uint32_t sample;		/* 0: the rule drops; N: it keeps 1 in N */
	uint64_t processes;		/* processes it began to suppress */
	uint64_t events;		/* events it suppressed */
	uint64_t first_ns, last_ns;	/* CLOCK_MONOTONIC, like cn_event.ts_ns */
	struct process example;		/* one suppressed process: args, executable */
	bool has_example;
};

/* A record ready for the encoder. */
struct hids_event {
	struct cn_event k;
	struct process proc;		/* the subject (for fork: the child) */
	struct process parent;		/* what is known of its parent */
	struct process previous;	/* exec: the image it replaced */
	struct process tracer;		/* ptrace: the tracer */
	bool has_parent, has_previous, has_tracer;
	bool proc_gone;			/* /proc had nothing by the time we looked */
	bool is_thread;
	uint64_t duration_ns;		/* exit: since start, when known */
	const char *user_name;		/* borrowed from the name cache */
	const char *group_name;
	/* Whole related processes, from the process table; pid alone when unknown. */
	struct process session_leader, group_leader, entry_leader;
	bool has_session_leader, has_group_leader, has_entry_leader;
	const char *parent_user_name, *parent_group_name;	/* borrowed, like user_name */
	const char *audit_user_name;
	const char *leader_user_name[3];	/* session, group, entry leader */
	/* For lost and heartbeat records. */
	uint64_t lost;
	const char *reason;
	/* For heartbeat records. */
	const struct agent_stats *stats;
	/* For suppressed records. */
	const struct filter_summary *summary;
};

/* event.c */
void process_init(struct process *p);
void process_release(struct process *p);
void process_copy(struct process *dst, const struct process *src, size_t max_args);
void hids_event_init(struct hids_event *ev);
void hids_event_release(struct hids_event *ev);
const char *hash_status_name(enum hash_status s);
const char *cap_name(unsigned bit);
const char *ev_action_name(enum ev_action a);
const char *ev_action_type(enum ev_action a);
int ev_action_parse(const char *name, enum ev_action *out);
int ev_action_parse_old(const char *name, enum ev_action *out);
const struct agent_stat_desc *agent_stats_list(size_t *count);
bool agent_stats_has_group(const struct agent_stats *s, enum stat_group g);
uint64_t agent_stats_value(const struct agent_stats *s, const struct agent_stat_desc *d);
uint32_t ev_action_kernel_bit(enum ev_action a);
const char *entry_type_name(enum entry_type t);
const char *container_runtime_name(enum container_runtime r);

#endif
