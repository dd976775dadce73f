/*
 * hasher.h: process.hash.* of the inode a process executed. The capture
 * thread pins the executable at exec (an open of /proc/PID/exe, which
 * gives the very inode, deleted or a memfd) unless the cache already knows
 * it; a worker thread of its own reads and digests it with OpenSSL EVP,
 * bounded by a size limit and a byte budget per second; the main loop
 * collects the result. Never hashes on the capture thread or the main loop.
 */
#ifndef HIDS_HASHER_H
#define HIDS_HASHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define HASHER_SLOTS 256	/* executables pinned at once: bounds open fds and queued work */
#define HASHER_READ_CHUNK (256u << 10)	/* one read of the file being hashed */

struct hasher_config {
	unsigned algs;			/* HASH_ALG_*; 0: no hashing */
	uint64_t max_file_bytes;	/* larger files: too_large */
	uint64_t bytes_per_second;	/* read budget; past it: budget */
	size_t cache_entries;		/* (dev, ino, size, mtime, ctime) keys remembered, LRU */
};

struct hasher_stats {
	uint64_t done;		/* files hashed */
	uint64_t cache_hits;	/* execs served by the cache */
	uint64_t skipped;	/* too_large, budget and error */
	uint64_t bytes;		/* bytes read and hashed */
};

struct hasher;

/* hasher.c */
struct hasher *hasher_new(const struct hasher_config *cfg);
void hasher_free(struct hasher *h);
int hasher_notify_fd(const struct hasher *h);
int hasher_pin(struct hasher *h, int procfd, int pid, struct process *p, uint32_t *gen);
bool hasher_poll(struct hasher *h, int slot, uint32_t gen, struct process *p);
void hasher_orphan(struct hasher *h, int slot, uint32_t gen, int32_t pid,
    const char *entity_id);
bool hasher_take_late(struct hasher *h, int32_t *pid, char entity_id[ENTITY_ID_LEN + 1],
    struct process *p);
void hasher_stats(struct hasher *h, struct hasher_stats *st);
void hasher_copy_result(struct process *dst, const struct process *src);

#endif
