/*
 * spool.c: segment files named seg-<16 hex digits>.hsp in the spool
 * directory, each a run of records: magic (u32), length (u32), CRC32 of
 * the payload (u32), payload. Appends go to the newest segment; a reader
 * walks from the oldest. A segment is deleted once it is closed (full, or
 * left by a previous run), read to its end, and every record read from it
 * has been reported delivered; until then a crash replays it whole, which
 * is why delivery is at least once.
 *
 * What is in the directory is trusted only as far as it is ours: the
 * directory must belong to the agent's user and be writable by nobody
 * else, and a segment is read only if it is a regular file of ours, opened
 * without following a symbolic link and without blocking (a FIFO). Anything
 * else is skipped and counted. Resynchronising after a corrupt record has
 * a work budget per call and per segment, so garbage cannot stall the loop.
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "common.h"

#define SPOOL_READ_CHUNK 65536	/* bytes read at a time when resyncing */

/* One segment file, oldest first in the list. */
struct spool_seg {
	struct spool_seg *next;
	uint64_t id;
	uint64_t bytes;		/* file size as far as we wrote or found it */
	int64_t records;	/* -1: unknown (found at start-up) */
	bool sealed;		/* no more appends */
	uint64_t handed;	/* records the reader returned */
	uint64_t delivered;	/* of those, reported delivered */
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
	uint64_t dropped_pending;	/* dropped, not yet reported in a lost record */
};

static void seg_try_remove(struct spool *s, struct spool_seg *g);

/* Computes the CRC32 (zlib's) of a payload. */
uint32_t
spool_crc32(const void *buf, size_t len)
{
	return (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)len);
}

static void
seg_name(uint64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "seg-%016llx.hsp", (unsigned long long)id);
}

/* Says whether a segment file is one the agent may read: a regular file of its own user. */
static bool
seg_trusted(const struct stat *sb)
{
	return S_ISREG(sb->st_mode) && sb->st_uid == geteuid();
}

/* Logs and counts a segment name that is not a regular file of ours. */
static void
seg_untrusted(struct spool *s, const char *name, const char *why)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(60000, 5);

	s->st.untrusted++;
	if (log_ratelimit_allow(&rl))
		log_warnx("spool: skipped %s/%s: %s", s->dir, name, why);
}

/*
 * Opens a segment for reading without following a symbolic link or
 * blocking on a FIFO; -1 (counted and logged) unless it is a regular file
 * of ours.
 */
static int
seg_open_read(struct spool *s, uint64_t id)
{
	char name[64];
	struct stat sb;
	int fd;

	seg_name(id, name, sizeof(name));
	fd = openat(s->dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ELOOP)
			seg_untrusted(s, name, "a symbolic link");
		else
			log_warn("spool: cannot open %s/%s", s->dir, name);
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		log_warn("spool: cannot stat %s/%s", s->dir, name);
		close(fd);
		return -1;
	}
	if (!seg_trusted(&sb)) {
		seg_untrusted(s, name, S_ISREG(sb.st_mode) ? "owned by another user" :
		    "not a regular file");
		close(fd);
		return -1;
	}
	return fd;
}

/* Adds a segment at the tail of the list. */
static struct spool_seg *
seg_append(struct spool *s, uint64_t id, uint64_t bytes, int64_t records)
{
	struct spool_seg *g = xcalloc(1, sizeof(*g));
	g->id = id;
	g->bytes = bytes;
	g->records = records;
	if (s->tail)
		s->tail->next = g;
	else
		s->head = g;
	s->tail = g;
	s->total_bytes += bytes;
	return g;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Finds the segments a previous run left, oldest first; they are all sealed. */
static int
spool_scan(struct spool *s, char *err, size_t errlen)
{
	int fd = dup(s->dirfd);
	DIR *d = fd == -1 ? NULL : fdopendir(fd);
	struct dirent *de;
	uint64_t *ids = NULL;
	size_t n = 0, cap = 0;

	if (d == NULL) {
		if (fd != -1)
			close(fd);
		snprintf(err, errlen, "cannot list spool directory %s: %s", s->dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char *end;
		uint64_t id;
		if (strncmp(de->d_name, "seg-", 4) != 0 || strlen(de->d_name) != 24)
			continue;
		id = strtoull(de->d_name + 4, &end, 16);
		if (end != de->d_name + 20 || strcmp(end, ".hsp") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			ids = xrealloc(ids, cap * sizeof(*ids));
		}
		ids[n++] = id;
	}
	closedir(d);
	if (n > 0)
		qsort(ids, n, sizeof(*ids), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		char name[64];
		struct stat sb;
		seg_name(ids[i], name, sizeof(name));
		if (fstatat(s->dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (!seg_trusted(&sb)) {
			seg_untrusted(s, name, S_ISLNK(sb.st_mode) ? "a symbolic link" :
			    !S_ISREG(sb.st_mode) ? "not a regular file" : "owned by another user");
			continue;
		}
		seg_append(s, ids[i], (uint64_t)sb.st_size, -1)->sealed = true;
		s->next_id = ids[i] + 1;
	}
	free(ids);
	return 0;
}

/*
 * Refuses a directory someone else could have filled: it must belong to
 * the agent's user and be writable by no group and no other user.
 */
static int
spool_check_dir(struct spool *s, char *err, size_t errlen)
{
	struct stat sb;

	if (fstat(s->dirfd, &sb) == -1) {
		snprintf(err, errlen, "cannot stat spool directory %s: %s", s->dir, strerror(errno));
		return -1;
	}
	if (sb.st_uid != geteuid()) {
		snprintf(err, errlen, "spool directory %s belongs to uid %u, not to the agent's "
		    "user (uid %u): its contents cannot be trusted", s->dir, (unsigned)sb.st_uid,
		    (unsigned)geteuid());
		return -1;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "spool directory %s is writable by %s (mode %04o): "
		    "its contents cannot be trusted", s->dir,
		    (sb.st_mode & S_IWOTH) ? "other users" : "its group",
		    (unsigned)(sb.st_mode & 07777));
		return -1;
	}
	return 0;
}

/*
 * Opens (creating if needed) the spool directory and finds what a previous
 * run left there, into s. Returns -1 with a reason when the
 * directory is unusable; s is then still for spool_free.
 */
static int
spool_open(struct spool *s, const char *dir, uint64_t max_bytes, enum spool_fsync fsync,
    char *err, size_t errlen)
{
	s->wfd = s->rfd = s->dirfd = -1;
	s->dir = xstrdup(dir);
	s->max_bytes = max_bytes;
	s->fsync = fsync;
	s->next_id = 1;
	/* At least four segments fit, so dropping the oldest never takes the newest. */
	s->segment_bytes = max_bytes / 4;
	if (s->segment_bytes > SPOOL_SEGMENT_BYTES)
		s->segment_bytes = SPOOL_SEGMENT_BYTES;
	else if (s->segment_bytes < SPOOL_MIN_SEGMENT_BYTES)
		s->segment_bytes = SPOOL_MIN_SEGMENT_BYTES;
	s->recycle_bytes = s->segment_bytes < SPOOL_RECYCLE_BYTES ? s->segment_bytes : SPOOL_RECYCLE_BYTES;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create spool directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if ((s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		int saved = errno;
		struct stat sb;
		/* ELOOP or ENOTDIR, depending on the kernel, for a link. */
		bool link = lstat(dir, &sb) == 0 && S_ISLNK(sb.st_mode);
		snprintf(err, errlen, "cannot open spool directory %s: %s", dir,
		    link ? "it is a symbolic link" : strerror(saved));
		return -1;
	}
	if (spool_check_dir(s, err, errlen) == -1)
		return -1;
	if (faccessat(s->dirfd, ".", W_OK, AT_EACCESS) == -1) {
		snprintf(err, errlen, "spool directory %s is not writable: %s", dir, strerror(errno));
		return -1;
	}
	return spool_scan(s, err, errlen);
}

/*
 * Opens (creating if needed) the spool directory and finds what a previous
 * run left there. Returns NULL with a reason when the directory is unusable.
 */
struct spool *
spool_new(const char *dir, uint64_t max_bytes, enum spool_fsync fsync, char *err, size_t errlen)
{
	struct spool *s = xcalloc(1, sizeof(*s));

	if (spool_open(s, dir, max_bytes, fsync, err, errlen) == -1) {
		spool_free(s);
		return NULL;
	}
	return s;
}

/*
 * Started as root and about to become uid:gid: creates a missing spool
 * directory for that user, or hands over one that root owns and nobody
 * else may write to (root's earlier runs), segments included, as systemd
 * does for StateDirectory=. A directory of any other user is left alone:
 * spool_new then refuses it. Returns -1 with a reason if a chown fails.
 */
int
spool_prepare_owner(const char *dir, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	struct stat sb;
	struct dirent *de;
	DIR *d;
	bool created = mkdir(dir, 0700) == 0;
	size_t segs = 0;
	int fd, dfd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return 0;	/* spool_new says why */
	if (fstat(fd, &sb) == -1 || sb.st_uid != 0 || (sb.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		return 0;
	}
	if (fchown(fd, uid, gid) == -1) {
		snprintf(err, errlen, "cannot give spool directory %s to uid %u: %s", dir,
		    (unsigned)uid, strerror(errno));
		close(fd);
		return -1;
	}
	if ((dfd = dup(fd)) != -1 && (d = fdopendir(dfd)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, "seg-", 4) != 0 ||
			    fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
			    !S_ISREG(sb.st_mode) || sb.st_uid != 0)
				continue;
			if (fchownat(fd, de->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) == 0)
				segs++;
		}
		closedir(d);
	} else if (dfd != -1)
		close(dfd);
	close(fd);
	if (created)
		log_info("spool: created %s for uid %u, the user the agent runs as", dir, (unsigned)uid);
	else
		log_info("spool: %s belonged to root; gave it and %zu segments to uid %u, the "
		    "user the agent runs as", dir, segs, (unsigned)uid);
	return 0;
}

/* Closes files and frees the spool; undelivered segments stay on disk. NULL is allowed. */
void
spool_free(struct spool *s)
{
	struct spool_seg *g, *n;

	if (s == NULL)
		return;
	/* A tail read and delivered to its end is not worth replaying. */
	if (s->tail && s->dirfd != -1) {
			s->recycle_bytes = 0;
		seg_try_remove(s, s->tail);
	}
	spool_sync(s);
	if (s->wfd != -1)
		close(s->wfd);
	if (s->rfd != -1)
		close(s->rfd);
	if (s->dirfd != -1)
		close(s->dirfd);
	for (g = s->head; g; g = n) {
		n = g->next;
		free(g);
	}
	free(s->rbuf);
	free(s->dir);
	free(s);
}

/* Copies the spool's counters and its size on disk. */
void
spool_stats(const struct spool *s, struct spool_stats *st)
{
	*st = s->st;
	st->bytes = s->total_bytes;
}

/* Returns the records dropped at max_bytes since the last call, and forgets them. */
uint64_t
spool_take_dropped(struct spool *s)
{
	uint64_t n = s->dropped_pending;

	s->dropped_pending = 0;
	return n;
}

/* Returns the spool's directory, for messages. */
const char *
spool_dir(const struct spool *s)
{
	return s->dir;
}

/* Counts the valid record headers of a segment file (for loss reports), reading it in chunks. */
static int64_t
seg_count_records(struct spool *s, const struct spool_seg *g, uint64_t from)
{
	uint8_t buf[SPOOL_READ_CHUNK];
	int64_t n = 0;
	uint64_t off = from;
	int fd;

	if ((fd = seg_open_read(s, g->id)) == -1)
		return 0;
	for (;;) {
		ssize_t got = pread(fd, buf, sizeof(buf), (off_t)off);
		size_t i = 0;
		if (got < (ssize_t)SPOOL_HDR)
			break;
		/* Every header that lies wholly in this chunk, then read on from the next. */
		while (i + SPOOL_HDR <= (size_t)got) {
			uint32_t magic, len;
			memcpy(&magic, buf + i, 4);
			memcpy(&len, buf + i + 4, 4);
			if (magic != SPOOL_MAGIC || len > SPOOL_MAX_RECORD)
				goto out;
			n++;
			i += SPOOL_HDR + len;
		}
		off += i;
	}
out:
	close(fd);
	return n;
}

/* Unlinks a segment and removes it from the list. */
static void
seg_remove(struct spool *s, struct spool_seg *g)
{
	struct spool_seg **pp;
	char name[64];

	for (pp = &s->head; *pp && *pp != g; pp = &(*pp)->next)
		;
	if (*pp == NULL)
		return;
	*pp = g->next;
	if (s->tail == g) {
		s->tail = NULL;
		for (struct spool_seg *t = s->head; t; t = t->next)
			s->tail = t;
		if (s->wfd != -1) {
			close(s->wfd);
			s->wfd = -1;
		}
	}
	if (s->rseg == g) {
		if (s->rfd != -1)
			close(s->rfd);
		s->rfd = -1;
		s->rseg = NULL;
		s->roff = 0;
	}
	seg_name(g->id, name, sizeof(name));
	if (unlinkat(s->dirfd, name, 0) == -1 && errno != ENOENT)
		log_warn("spool: cannot delete %s/%s", s->dir, name);
	s->total_bytes -= g->bytes;
	s->st.segments_deleted++;
	free(g);
}

/*
 * Drops the oldest segment to make room; counts what was never read from
 * it. What the reader returned is on its way, whether the reader is still
 * in the segment or past it (the segment waits for its delivery).
 */
static void
spool_drop_oldest(struct spool *s)
{
	struct spool_seg *g = s->head;
	int64_t lost;

	if (g == NULL)
		return;
	lost = (g->records >= 0 ? g->records : seg_count_records(s, g, 0)) - (int64_t)g->handed;
	if (lost > 0) {
		s->st.dropped += (uint64_t)lost;
		s->dropped_pending += (uint64_t)lost;
	}
	log_warnx("spool: over max_bytes; dropped its oldest segment (%lld events)",
	    (long long)(lost > 0 ? lost : 0));
	seg_remove(s, g);
}

/* Opens a new tail segment for appends. */
static int
seg_start(struct spool *s)
{
	char name[64];
	struct spool_seg *g;

	seg_name(s->next_id, name, sizeof(name));
	s->wfd = openat(s->dirfd, name,
	    O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (s->wfd == -1)
		return -1;
	g = seg_append(s, s->next_id++, 0, 0);
	g->sealed = false;
	return 0;
}

/* Appends one line as a record; -1 (logged by the caller) when the disk refuses. */
int
spool_append(struct spool *s, const char *line, size_t len)
{
	uint8_t hdr[SPOOL_HDR];
	uint32_t magic = SPOOL_MAGIC, l32 = (uint32_t)len, crc = spool_crc32(line, len);
	struct iovec iov[2];
	ssize_t n;

	if (len > SPOOL_MAX_RECORD)
		return -1;
	while (s->head && s->total_bytes + SPOOL_HDR + len > s->max_bytes)
		spool_drop_oldest(s);
	if (s->wfd == -1 || s->tail == NULL || s->tail->sealed ||
	    s->tail->bytes >= s->segment_bytes) {
		if (s->wfd != -1) {
			if (s->fsync != SPOOL_FSYNC_NEVER)
				fdatasync(s->wfd);
			close(s->wfd);
			s->wfd = -1;
			if (s->tail)
				s->tail->sealed = true;
		}
		if (seg_start(s) == -1) {
			s->st.write_errors++;
			return -1;
		}
	}
	memcpy(hdr, &magic, 4);
	memcpy(hdr + 4, &l32, 4);
	memcpy(hdr + 8, &crc, 4);
	iov[0] = (struct iovec){ hdr, SPOOL_HDR };
	iov[1] = (struct iovec){ (void *)line, len };
	n = writev(s->wfd, iov, 2);
	if (n != (ssize_t)(SPOOL_HDR + len)) {
		int saved = errno;
		/* Cut a partial write off, so the segment stays well formed. */
		if (n > 0 && ftruncate(s->wfd, (off_t)s->tail->bytes) == -1)
			s->tail->sealed = true;
		s->st.write_errors++;
		errno = n >= 0 ? ENOSPC : saved;
		return -1;
	}
	s->tail->bytes += (uint64_t)n;
	s->tail->records++;
	s->total_bytes += (uint64_t)n;
	s->st.appended++;
	s->st.appended_bytes += (uint64_t)n;
	s->dirty = true;
	if (s->fsync == SPOOL_FSYNC_ALWAYS)
		spool_sync(s);
	return 0;
}

/* Flushes appended records to stable storage. */
void
spool_sync(struct spool *s)
{
	if (s->dirty && s->wfd != -1 && fdatasync(s->wfd) == -1)
		log_warn("spool: fdatasync");
	s->dirty = false;
}

/* Says whether records wait to be read. */
bool
spool_pending(const struct spool *s)
{
	const struct spool_seg *g = s->rseg ? s->rseg : s->head;
	if (g == NULL)
		return false;
	if (g == s->rseg && s->roff >= g->bytes && g->next == NULL)
		return false;
	return true;
}

/* Makes sure rbuf holds n bytes. */
static void
rbuf_reserve(struct spool *s, size_t n)
{
	if (s->rbuf_cap < n) {
		s->rbuf_cap = n;
		s->rbuf = xrealloc(s->rbuf, n);
	}
}

/* Tries to read a valid record at off; returns its payload length or -1, adding the bytes read to *work. */
static ssize_t
record_at(struct spool *s, uint64_t off, uint64_t limit, uint64_t *work)
{
	uint8_t hdr[SPOOL_HDR];
	uint32_t magic, len, crc;

	if (off + SPOOL_HDR > limit || pread(s->rfd, hdr, SPOOL_HDR, (off_t)off) != SPOOL_HDR)
		return -1;
	*work += SPOOL_PROBE_WORK;
	memcpy(&magic, hdr, 4);
	memcpy(&len, hdr + 4, 4);
	memcpy(&crc, hdr + 8, 4);
	if (magic != SPOOL_MAGIC || len > SPOOL_MAX_RECORD || off + SPOOL_HDR + len > limit)
		return -1;
	rbuf_reserve(s, len + 1);
	*work += len;
	if (pread(s->rfd, s->rbuf, len, (off_t)(off + SPOOL_HDR)) != (ssize_t)len)
		return -1;
	if (spool_crc32(s->rbuf, len) != crc)
		return -1;
	return (ssize_t)len;
}

/*
 * Skips a bad region: finds the next offset after off where a valid record
 * starts, or the end. Stops early, setting *stopped, once *work reaches
 * budget; the offset returned is then where to go on.
 */
static uint64_t
resync(struct spool *s, uint64_t off, uint64_t limit, uint64_t budget, uint64_t *work,
    bool *stopped)
{
	uint8_t chunk[SPOOL_READ_CHUNK];
	uint32_t magic = SPOOL_MAGIC;

	*stopped = false;
	for (uint64_t pos = off + 1; pos + SPOOL_HDR <= limit;) {
		ssize_t n = pread(s->rfd, chunk, sizeof(chunk), (off_t)pos);
		if (n < 4)
			break;
		*work += (uint64_t)n;
		for (ssize_t i = 0; i + 4 <= n; i++) {
			if (memcmp(chunk + i, &magic, 4) == 0 &&
			    record_at(s, pos + (uint64_t)i, limit, work) >= 0)
				return pos + (uint64_t)i;
			if (*work >= budget) {
				*stopped = true;
				return pos + (uint64_t)i + 1;
			}
		}
		pos += (uint64_t)(n - 3);
	}
	return limit;
}

/*
 * Moves the reader past the bad region at roff of segment g, within what is
 * left of this call's work budget (*budget) and of the segment's. Returns
 * -1 when this call's budget ran out: the caller goes on at the next call.
 */
static int
spool_skip_corrupt(struct spool *s, struct spool_seg *g, uint64_t *budget)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(60000, 5);
	uint64_t work = 0, next, allow;
	bool stopped = false;

	if (*budget == 0)
		return -1;
	if (!s->rresyncing) {
		s->st.corrupt++;
		s->rresync_from = s->roff;
	}
	allow = SPOOL_RESYNC_SEG_BYTES - (s->rresync < SPOOL_RESYNC_SEG_BYTES ?
	    s->rresync : SPOOL_RESYNC_SEG_BYTES);
	if (allow > *budget)
		allow = *budget;
	next = allow ? resync(s, s->roff, g->bytes, allow, &work, &stopped) : g->bytes;
	s->rresync += work;
	*budget -= work < *budget ? work : *budget;
	if (stopped && s->rresync >= SPOOL_RESYNC_SEG_BYTES) {
		/* Mostly garbage: give up on the rest rather than scan it all. */
		log_warnx("spool: segment %016llx is corrupt from offset %llu on; skipped its "
		    "last %llu bytes after %llu bytes of searching for a valid record",
		    (unsigned long long)g->id, (unsigned long long)s->rresync_from,
		    (unsigned long long)(g->bytes - s->rresync_from),
		    (unsigned long long)s->rresync);
		s->rresyncing = false;
		s->roff = g->bytes;
		return 0;
	}
	s->rresyncing = stopped;
	if (!stopped && log_ratelimit_allow(&rl))
		log_warnx("spool: skipped %llu corrupt bytes in segment %016llx at offset %llu",
		    (unsigned long long)(next - s->rresync_from), (unsigned long long)g->id,
		    (unsigned long long)s->rresync_from);
	s->roff = next;
	return stopped ? -1 : 0;
}

/* Deletes g if it is closed, read to its end and fully delivered. */
static void
seg_try_remove(struct spool *s, struct spool_seg *g)
{
	bool read_past = g->id <= s->rdone_id || (g == s->rseg && s->roff >= g->bytes);
	bool closed = g->sealed || g->bytes >= s->segment_bytes;

	if (!read_past || g->delivered < g->handed)
		return;
	/* A delivered tail is closed once it is worth a file: what a crash may replay. */
	if (!closed && g == s->tail && g->bytes >= s->recycle_bytes)
		closed = true;
	if (!closed)
		return;
	if (g == s->rseg)
		s->rdone_id = g->id;
	seg_remove(s, g);
}

/* Moves the reader to the first segment after those it is done with. */
static bool
reader_advance(struct spool *s)
{
	struct spool_seg *next = s->head, *left = s->rseg;

	if (left) {
		s->rdone_id = left->id;
		next = left->next;
	}
	while (next && next->id <= s->rdone_id)
		next = next->next;
	if (s->rfd != -1)
		close(s->rfd);
	s->rfd = -1;
	s->rseg = next;
	s->roff = 0;
	s->rresync = 0;
	s->rresyncing = false;
	if (left)
		seg_try_remove(s, left);	/* e.g. a segment that held only corrupt bytes */
	if (next == NULL)
		return false;
	if ((s->rfd = seg_open_read(s, next->id)) == -1) {
		s->rseg = NULL;
		s->rdone_id = next->id;	/* skip it rather than spin on it */
		return false;
	}
	return true;
}

/*
 * Reads the next record in order. Returns 1 with the line (valid until the
 * next call) and its segment id; 0 when nothing waits. Corrupt regions are
 * counted and skipped.
 */
int
spool_read(struct spool *s, const char **line, size_t *len, uint64_t *seg)
{
	uint64_t budget = SPOOL_RESYNC_CALL_BYTES, work = 0;

	for (;;) {
		struct spool_seg *g = s->rseg;
		if (g == NULL) {
			if (!reader_advance(s))
				return 0;
			continue;
		}
		if (s->roff >= g->bytes) {
			/* The tail may still grow; an older segment is done. */
			if (g->next == NULL)
				return 0;
			reader_advance(s);
			continue;
		}
		ssize_t n = record_at(s, s->roff, g->bytes, &work);
		if (n < 0) {
			if (spool_skip_corrupt(s, g, &budget) == -1)
				return 0;	/* spool_pending stays true: the next call goes on */
			continue;
		}
		s->rresyncing = false;
		s->roff += SPOOL_HDR + (uint64_t)n;
		g->handed++;
		s->st.replayed++;
		*line = s->rbuf;
		*len = (size_t)n;
		*seg = g->id;
		return 1;
	}
}

/* Records that one line read from segment seg left the queue; deletes what is done. */
void
spool_delivered(struct spool *s, uint64_t seg)
{
	for (struct spool_seg *g = s->head; g; g = g->next) {
		if (g->id == seg) {
			g->delivered++;
			seg_try_remove(s, g);
			return;
		}
	}
}
