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

struct spool_stats {
	uint64_t appended, appended_bytes;
	uint64_t replayed;
	uint64_t dropped;		/* records in segments dropped at max_bytes */
	uint64_t corrupt;		/* bad regions skipped */
	uint64_t untrusted;		/* segment names that are not our regular files, skipped */
	uint64_t write_errors;
	uint64_t segments_deleted;
	uint64_t bytes;			/* on disk now (filled by spool_stats) */
};

struct spool;

/* spool.c */
struct spool *spool_new(const char *dir, uint64_t max_bytes,
    enum spool_fsync fsync, char *err, size_t errlen);
int spool_prepare_owner(const char *dir, uid_t uid, gid_t gid, char *err, size_t errlen);
void spool_free(struct spool *s);
void spool_stats(const struct spool *s, struct spool_stats *st);
uint64_t spool_take_dropped(struct spool *s);
const char *spool_dir(const struct spool *s);
int spool_append(struct spool *s, const char *line, size_t len);
int spool_read(struct spool *s, const char **line, size_t *len, uint64_t *seg);
bool spool_pending(const struct spool *s);
void spool_delivered(struct spool *s, uint64_t seg);
void spool_sync(struct spool *s);
uint32_t spool_crc32(const void *buf, size_t len);

#endif
