/*
 * spool.h: the crash-safe disk spool. When configured, every encoded line
 * is appended to a segment file before it is sent (write-ahead), read back
 * in order for the collector, and a segment is deleted only once it is
 * full or closed, read to its end, and every line read from it has been
 * reported delivered (acknowledged, for RELP). Records carry a
 * length and a CRC32, so a torn or corrupted record is found, counted and
 * skipped, and the rest is still delivered.
 */
#ifndef HIDS_SPOOL_H
#define HIDS_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SPOOL_SEGMENT_BYTES (4u << 20)	/* a segment is closed at this size */
#define SPOOL_MIN_SEGMENT_BYTES 4096u	/* even for a tiny spool */
#define SPOOL_RECYCLE_BYTES (256u << 10)	/* a delivered tail is closed and deleted past this */
#define SPOOL_MAX_RECORD (16u << 20)	/* larger lengths mean corruption */
#define SPOOL_HDR 12u			/* magic, length, crc32 */
#define SPOOL_MAGIC 0x31525348u		/* "HSR1" little-endian */
#define SPOOL_RESYNC_CALL_BYTES (4u << 20)	/* resync work (bytes read) per spool_read call */
#define SPOOL_RESYNC_SEG_BYTES (8u << 20)	/* resync work per segment before its rest is skipped */
#define SPOOL_PROBE_WORK 4096u		/* work charged per record header tried: two preads cost about this much scanning */

enum spool_fsync { SPOOL_FSYNC_NEVER, SPOOL_FSYNC_INTERVAL, SPOOL_FSYNC_ALWAYS };

struct spool_seg {
	struct spool_seg *next;
	uint64_t id;
	uint64_t bytes;		/* file size as far as we wrote or found it */
	int64_t records;	/* -1: unknown (found at start-up) */
	bool sealed;		/* no more appends */
	uint64_t handed;	/* records the reader returned */
	uint64_t delivered;	/* of those, reported delivered */
};

struct spool_stats {
	uint64_t appended, appended_bytes;
	uint64_t replayed;
	uint64_t dropped;		/* records in segments dropped at max_bytes */
	uint64_t dropped_pending;	/* not yet reported in a lost record */
	uint64_t corrupt;		/* bad regions skipped */
	uint64_t untrusted;		/* segment names that are not our regular files, skipped */
	uint64_t write_errors;
	uint64_t segments_deleted;
};

struct spool {
	char *dir;
	int dirfd;
	uint64_t max_bytes;
	enum spool_fsync fsync;
	struct spool_seg *head, *tail;	/* oldest .. newest */
	uint64_t total_bytes;
	int wfd;			/* appends go to tail */
	bool dirty;			/* written since the last fsync */
	int rfd;			/* the segment being read */
	struct spool_seg *rseg;
	uint64_t roff;
	int64_t rrecords;		/* records read from rseg */
	uint64_t rresync;		/* resync work spent on rseg */
	bool rresyncing;		/* a resync of rseg ran out of budget at roff */
	uint64_t rresync_from;		/* where that bad region began */
	uint64_t rdone_id;		/* the reader is past every segment up to this id */
	uint64_t recycle_bytes;		/* SPOOL_RECYCLE_BYTES; 0 when closing */
	uint64_t segment_bytes;		/* rotate here: SPOOL_SEGMENT_BYTES, less for a small spool */
	uint64_t next_id;
	char *rbuf;
	size_t rbuf_cap;
	struct spool_stats st;
};

/* spool.c */
int spool_open(struct spool *s, const char *dir, uint64_t max_bytes,
    enum spool_fsync fsync, char *err, size_t errlen);
int spool_prepare_owner(const char *dir, uid_t uid, gid_t gid, char *err, size_t errlen);
void spool_close(struct spool *s);
int spool_append(struct spool *s, const char *line, size_t len);
int spool_read(struct spool *s, const char **line, size_t *len, uint64_t *seg);
bool spool_pending(const struct spool *s);
void spool_delivered(struct spool *s, uint64_t seg);
void spool_sync(struct spool *s);
uint32_t spool_crc32(const void *buf, size_t len);

#endif
