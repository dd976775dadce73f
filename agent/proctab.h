/*
 * proctab.h: the process table. What the agent knows of each live process,
 * keyed by pid, seeded from /proc at start and kept by fork, exec and exit.
 * Bounded: past max_entries, or past max_bytes of memory, the least
 * recently touched entry is evicted; paths are cut at max_path bytes.
 */
#ifndef HIDS_PROCTAB_H
#define HIDS_PROCTAB_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define PROCTAB_RECENT 4096	/* exited pids remembered, for pid reuse within one tick */
#define PROCTAB_DEFAULT_PATH 1024	/* bytes of each path kept, unless proctab_set_budget says */
#define PROCTAB_ENTRY_DEPTH 256		/* ancestors walked to decide one entry leader at start */

struct proctab_entry {
	struct process p;
	uint32_t gen;			/* > 0: a reuse of pid within the same start tick */
	uint64_t fork_ts_ns;		/* monotonic, from the fork event */
	bool entry_seen;		/* proctab_seed: entry leader decided */
	struct proctab_entry *hnext;	/* hash chain */
	struct proctab_entry *lprev, *lnext;	/* recency list */
};

struct proctab {
	struct proctab_entry **buckets;
	size_t nbuckets;
	size_t count;
	size_t max_entries;
	size_t max_args;		/* bytes of args kept per entry */
	size_t max_path;		/* bytes of executable, cwd and cgroup kept per entry */
	size_t max_bytes;		/* memory the entries may take, as proctab_entry_bytes counts */
	size_t bytes;			/* what they take now */
	uint64_t evictions;		/* all evictions, at max_entries or max_bytes */
	uint64_t budget_evictions;	/* those at max_bytes */
	struct proctab_entry *lru_head, *lru_tail;	/* head = oldest */
	char host_id[65];
	struct {
		int32_t pid;
		uint64_t start_ticks;
		uint32_t gen;
	} recent[PROCTAB_RECENT];	/* last exit per slot (pid % PROCTAB_RECENT) */
};

/* What proctab_stats reports. */
struct proctab_stats {
	size_t count;			/* entries */
	size_t bytes;			/* memory they take, as proctab_entry_bytes counts */
	uint64_t evictions;		/* all evictions, at max_entries or max_bytes */
	uint64_t budget_evictions;	/* those at max_bytes */
};

/* proctab.c */
void proctab_init(struct proctab *t, size_t max_entries, size_t max_args,
    const char *host_id);
void proctab_set_budget(struct proctab *t, size_t max_bytes, size_t max_path);
size_t proctab_entry_bytes(const struct proctab_entry *e);
void proctab_release(struct proctab *t);
struct proctab_entry *proctab_lookup(struct proctab *t, int32_t pid);
struct proctab_entry *proctab_upsert(struct proctab *t, int32_t pid);
void proctab_remove(struct proctab *t, int32_t pid);
void proctab_set(struct proctab *t, struct proctab_entry *e, const struct process *p);
void proctab_entity_id(const char *host_id, int32_t pid, uint64_t start_ticks,
    char out[ENTITY_ID_LEN + 1]);
void proctab_entity_id_gen(const char *host_id, int32_t pid, uint64_t start_ticks,
    uint32_t gen, char out[ENTITY_ID_LEN + 1]);
uint32_t proctab_reuse_gen(const struct proctab *t, int32_t pid, uint64_t start_ticks);
size_t proctab_seed(struct proctab *t, int procfd);
void proctab_stats(const struct proctab *t, struct proctab_stats *st);
const char *proctab_host_id(const struct proctab *t);
struct proctab_entry *proctab_first(struct proctab *t);
struct proctab_entry *proctab_next(struct proctab_entry *e);

#endif
