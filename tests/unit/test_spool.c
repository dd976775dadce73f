/* Proves the spool's record format, ordered replay across segments and restarts, deletion only after delivery, corruption skipping, the max_bytes bound, and that it trusts only its own directory and regular files with bounded resync work. */
#include "unit.h"

#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"

static char dir[64];
static char other[80];	/* dir-other: a second directory, outside the spool */

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hids-spool-test.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(other, sizeof(other), "%s-other", dir);
	return mkdir(other, 0700);
}

static int
teardown(void **state)
{
	char cmd[256];
	(void)state;
	alarm(0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir, other);
	return system(cmd) == 0 ? 0 : -1;
}

static struct spool *
open_spool(uint64_t max_bytes)
{
	char err[256];
	struct spool *s = spool_new(dir, max_bytes, SPOOL_FSYNC_NEVER, err, sizeof(err));
	if (s == NULL)
		fail_msg("spool_new: %s", err);
	return s;
}

/* Returns a snapshot of the spool's counters. */
static struct spool_stats
stats_of(const struct spool *s)
{
	struct spool_stats st;
	spool_stats(s, &st);
	return st;
}

static size_t
count_segments(void)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "seg-", 4) == 0)
			n++;
	closedir(d);
	return n;
}

/* Reads every pending record, checking it is line-NNNNN in order from *next. */
static void
read_all_in_order(struct spool *s, int *next, bool deliver)
{
	const char *line;
	size_t len;
	uint64_t seg;
	char want[32];

	while (spool_read(s, &line, &len, &seg) == 1) {
		snprintf(want, sizeof(want), "line-%05d\n", *next);
		assert_int_equal(len, strlen(want));
		assert_memory_equal(line, want, len);
		(*next)++;
		if (deliver)
			spool_delivered(s, seg);
	}
}

/* Records come back in order, with their bytes, and a record is 12 bytes of header plus the line. */
static void
test_append_read(void **state)
{
	struct spool *s;
	char line[32];
	int next = 0;
	(void)state;
	s = open_spool(64u << 20);
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(line, sizeof(line), "line-%05d\n", i);
		assert_int_equal(spool_append(s, line, (size_t)n), 0);
	}
	assert_int_equal(stats_of(s).bytes, 1000 * (SPOOL_HDR + 11));
	assert_true(spool_pending(s));
	read_all_in_order(s, &next, false);
	assert_int_equal(next, 1000);
	spool_free(s);
}

/* What one run spooled and did not deliver, the next run replays first; delivered files go. */
static void
test_restart_replay_then_delete(void **state)
{
	struct spool *s;
	char line[32];
	int next = 0;
	(void)state;
	s = open_spool(64u << 20);
	for (int i = 0; i < 500; i++) {
		int n = snprintf(line, sizeof(line), "line-%05d\n", i);
		spool_append(s, line, (size_t)n);
	}
	spool_free(s);	/* as after a crash: nothing delivered */
	assert_int_equal(count_segments(), 1);
	s = open_spool(64u << 20);
	assert_true(spool_pending(s));
	for (int i = 500; i < 600; i++) {
		int n = snprintf(line, sizeof(line), "line-%05d\n", i);
		spool_append(s, line, (size_t)n);
	}
	read_all_in_order(s, &next, true);
	assert_int_equal(next, 600);
	spool_free(s);	/* everything delivered: no file left */
	assert_int_equal(count_segments(), 0);
}

/* Full segments rotate; each is deleted once delivered, not before. */
static void
test_rotation_and_delete_after_delivery(void **state)
{
	struct spool *s;
	char line[1024];
	const char *r;
	size_t len;
	uint64_t seg, first_seg = 0;
	(void)state;
	s = open_spool(64u << 20);
	memset(line, 'x', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	size_t per_seg = SPOOL_SEGMENT_BYTES / (SPOOL_HDR + sizeof(line)) + 1;
	for (size_t i = 0; i < per_seg * 2 + 10; i++)
		assert_int_equal(spool_append(s, line, sizeof(line)), 0);
	assert_int_equal(count_segments(), 3);
	/* Read the whole first segment but deliver none: it must stay. */
	size_t got = 0;
	while (got < per_seg && spool_read(s, &r, &len, &seg) == 1) {
		if (got == 0)
			first_seg = seg;
		assert_int_equal(seg, first_seg);
		got++;
	}
	assert_int_equal(count_segments(), 3);
	for (size_t i = 0; i < got; i++)
		spool_delivered(s, first_seg);
	assert_int_equal(count_segments(), 2);
	spool_free(s);
}

/* A torn last record and flipped bytes mid-file are counted and skipped; the rest arrives. */
static void
test_corruption_skipped(void **state)
{
	struct spool *s;
	char line[32], path[128];
	const char *r;
	size_t len;
	uint64_t seg;
	int fd, seen[200] = { 0 }, delivered = 0;
	(void)state;
	s = open_spool(64u << 20);
	for (int i = 0; i < 200; i++) {
		int n = snprintf(line, sizeof(line), "line-%05d\n", i);
		spool_append(s, line, (size_t)n);
	}
	spool_free(s);
	snprintf(path, sizeof(path), "%s/seg-%016llx.hsp", dir, 1ull);
	assert_int_equal(truncate(path, 200 * 23 - 5), 0);	/* tear the last record */
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "\xff\xff\xff", 3, 100 * 23 + 14), 3);	/* record 100's payload */
	assert_int_equal(pwrite(fd, "\x00\x00", 2, 150 * 23 + 1), 2);	/* record 150's magic */
	close(fd);
	s = open_spool(64u << 20);
	while (spool_read(s, &r, &len, &seg) == 1) {
		int i;
		assert_int_equal(sscanf(r, "line-%05d", &i), 1);
		assert_in_range(i, 0, 199);
		seen[i]++;
		delivered++;
		spool_delivered(s, seg);
	}
	assert_int_equal(delivered, 197);
	assert_int_equal(seen[100], 0);
	assert_int_equal(seen[150], 0);
	assert_int_equal(seen[199], 0);
	assert_int_equal(seen[0] + seen[99] + seen[101] + seen[198], 4);
	assert_int_equal(stats_of(s).corrupt, 3);
	spool_free(s);
	assert_int_equal(count_segments(), 0);	/* a damaged, finished segment is still cleaned */
}

/* Over max_bytes the oldest segment goes, its records are counted, and the newest always stay. */
static void
test_max_bytes_drops_oldest(void **state)
{
	struct spool *s;
	char line[4096];
	const char *r;
	size_t len;
	uint64_t seg;
	int last = -1;
	(void)state;
	memset(line, 'y', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	s = open_spool(1u << 20);	/* a small spool: segments are a quarter of it */
	for (int i = 0; i < 4000; i++) {
		snprintf(line, 16, "%06d", i);
		assert_int_equal(spool_append(s, line, sizeof(line)), 0);
	}
	assert_true(stats_of(s).bytes <= 1u << 20);
	assert_true(stats_of(s).dropped > 0);
	assert_int_equal(stats_of(s).dropped, spool_take_dropped(s));
	assert_int_equal(spool_take_dropped(s), 0);
	assert_int_equal(stats_of(s).dropped, stats_of(s).appended - stats_of(s).bytes / (SPOOL_HDR + sizeof(line)));
	assert_true(count_segments() <= 5);
	/* What is left reads back in order and ends with the newest line. */
	while (spool_read(s, &r, &len, &seg) == 1) {
		int i = atoi(r);
		assert_true(i > last);
		last = i;
	}
	assert_int_equal(last, 3999);
	assert_true(stats_of(s).replayed > 100);	/* most of a megabyte survived */
	spool_free(s);
}

/*
 * A segment dropped over max_bytes counts only the records the reader had
 * not returned: those it returned are on their way (in the queue or at the
 * collector), whether the reader is still in the segment or past it,
 * waiting for their delivery.
 */
static void
test_drop_counts_only_unread(void **state)
{
	struct spool *s;
	char line[4096];
	const char *r;
	size_t len;
	uint64_t seg;
	int read = 0, rest = 0;
	(void)state;
	memset(line, 'z', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	s = open_spool(1u << 20);	/* segments of a quarter megabyte: 64 records each */
	for (int i = 0; i < 150; i++)
		assert_int_equal(spool_append(s, line, sizeof(line)), 0);
	assert_int_equal(stats_of(s).dropped, 0);
	/* The first segment read to its end and the second in part; nothing delivered. */
	while (read < 100 && spool_read(s, &r, &len, &seg) == 1)
		read++;
	assert_int_equal(read, 100);
	for (int i = 0; i < 200; i++)
		assert_int_equal(spool_append(s, line, sizeof(line)), 0);
	assert_true(stats_of(s).dropped > 0);
	while (spool_read(s, &r, &len, &seg) == 1)
		rest++;
	assert_int_equal(stats_of(s).dropped, 350 - read - rest);
	spool_free(s);
}

/* An unusable directory is refused with a reason (the agent then runs on memory). */
static void
test_unusable_dir(void **state)
{
	struct spool *s;
	char err[256] = "";
	(void)state;
	assert_null(s = spool_new("/proc/hids-no-such/spool", 1u << 20, SPOOL_FSYNC_NEVER,
	    err, sizeof(err)));
	assert_non_null(strstr(err, "spool directory"));
	spool_free(s);
}

/* Writes n records line-NNNNN into a fresh segment 1 of directory d, through a spool of its own. */
static void
make_segment(const char *d, int n)
{
	struct spool *s;
	char err[256], line[32];
	if ((s = spool_new(d, 64u << 20, SPOOL_FSYNC_NEVER, err, sizeof(err))) == NULL)
		fail_msg("spool_new %s: %s", d, err);
	for (int i = 0; i < n; i++) {
		int len = snprintf(line, sizeof(line), "line-%05d\n", i);
		assert_int_equal(spool_append(s, line, (size_t)len), 0);
	}
	spool_free(s);
}

/* Like make_segment, then renames the segment to id (to put another one before it). */
static void
make_segment_at(const char *d, int n, unsigned long long id)
{
	char from[160], to[160];
	make_segment(d, n);
	snprintf(from, sizeof(from), "%s/seg-%016llx.hsp", d, 1ull);
	snprintf(to, sizeof(to), "%s/seg-%016llx.hsp", d, id);
	assert_int_equal(rename(from, to), 0);
}

/* Counts the records the spool in dir hands out (delivering them) and returns it. */
static int
read_count(struct spool *s)
{
	const char *line;
	size_t len;
	uint64_t seg;
	int n = 0;
	while (spool_read(s, &line, &len, &seg) == 1) {
		n++;
		spool_delivered(s, seg);
	}
	return n;
}

/* A segment that is a symbolic link to records elsewhere is skipped and counted, never replayed; a linked directory is refused. */
static void
test_symlinked_segment(void **state)
{
	struct spool *s;
	char target[160], link[160], err[256] = "";
	struct stat sb;
	(void)state;
	make_segment(other, 5);	/* forged events outside the spool */
	snprintf(target, sizeof(target), "%s/seg-%016llx.hsp", other, 1ull);
	snprintf(link, sizeof(link), "%s/seg-%016llx.hsp", dir, 7ull);
	assert_int_equal(symlink(target, link), 0);
	alarm(30);
	s = open_spool(64u << 20);
	assert_false(spool_pending(s));
	assert_int_equal(read_count(s), 0);
	assert_int_equal(stats_of(s).untrusted, 1);
	spool_free(s);
	assert_int_equal(stat(target, &sb), 0);	/* the link's target is left alone */
	snprintf(link, sizeof(link), "%s/linked", dir);
	assert_int_equal(symlink(other, link), 0);
	assert_null(s = spool_new(link, 1u << 20, SPOOL_FSYNC_NEVER, err, sizeof(err)));
	assert_non_null(strstr(err, "symbolic link"));
	spool_free(s);
}

/* A FIFO named like a segment neither blocks the reader nor hides the segments after it. */
static void
test_fifo_segment(void **state)
{
	struct spool *s;
	char path[160];
	(void)state;
	make_segment_at(dir, 10, 2);
	snprintf(path, sizeof(path), "%s/seg-%016llx.hsp", dir, 1ull);	/* read first */
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(30);	/* a reader blocked in open(2) on the FIFO dies here */
	s = open_spool(64u << 20);
	assert_int_equal(read_count(s), 10);
	assert_int_equal(stats_of(s).untrusted, 1);
	spool_free(s);
}

/* A directory its group or other users may write to is refused with the reason. */
static void
test_group_writable_dir(void **state)
{
	struct spool *s;
	char err[256] = "";
	(void)state;
	make_segment(dir, 3);
	assert_int_equal(chmod(dir, 0770), 0);
	assert_null(s = spool_new(dir, 1u << 20, SPOOL_FSYNC_NEVER, err, sizeof(err)));
	assert_non_null(strstr(err, "writable by its group"));
	spool_free(s);
	assert_int_equal(chmod(dir, 0702), 0);
	assert_null(s = spool_new(dir, 1u << 20, SPOOL_FSYNC_NEVER, err, sizeof(err)));
	assert_non_null(strstr(err, "writable by other users"));
	spool_free(s);
	assert_int_equal(chmod(dir, 0750), 0);	/* read access for the group is fine */
	s = open_spool(1u << 20);
	assert_int_equal(read_count(s), 3);
	spool_free(s);
}

/* A directory, or a segment, that belongs to another user is not trusted (needs root to set up). */
static void
test_foreign_owner(void **state)
{
	struct spool *s;
	char err[256] = "", path[160];
	(void)state;
	if (geteuid() != 0)
		skip();
	make_segment(dir, 4);
	snprintf(path, sizeof(path), "%s/seg-%016llx.hsp", dir, 1ull);
	assert_int_equal(chown(path, 65534, 65534), 0);
	s = open_spool(1u << 20);
	assert_int_equal(read_count(s), 0);
	assert_int_equal(stats_of(s).untrusted, 1);
	spool_free(s);
	assert_int_equal(chown(dir, 65534, 65534), 0);
	assert_null(s = spool_new(dir, 1u << 20, SPOOL_FSYNC_NEVER, err, sizeof(err)));
	assert_non_null(strstr(err, "belongs to uid 65534"));
	spool_free(s);
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * 64 MiB of records that all fail their CRC (every one a resync candidate)
 * cost each read a bounded amount of work, are counted, and the good
 * segment after them is still delivered.
 */
static void
test_garbage_segment_bounded(void **state)
{
	struct spool *s;
	char path[160];
	uint8_t unit[20], *buf;
	uint32_t magic = SPOOL_MAGIC, len = 8, crc = 0xdeadbeef;
	size_t size = 64u << 20;
	const char *line;
	size_t llen;
	uint64_t seg;
	int fd, got = 0, calls = 0;
	double t0, worst = 0;
	(void)state;
	make_segment_at(dir, 10, 2);
	memcpy(unit, &magic, 4);
	memcpy(unit + 4, &len, 4);
	memcpy(unit + 8, &crc, 4);
	memset(unit + 12, 'g', 8);
	buf = malloc(size);
	assert_non_null(buf);
	for (size_t i = 0; i + sizeof(unit) <= size; i += sizeof(unit))
		memcpy(buf + i, unit, sizeof(unit));
	snprintf(path, sizeof(path), "%s/seg-%016llx.hsp", dir, 1ull);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	close(fd);
	free(buf);
	alarm(120);
	s = open_spool(256u << 20);
	t0 = now_s();
	while (spool_pending(s) && calls < 10000) {
		double t = now_s();
		int r = spool_read(s, &line, &llen, &seg);
		t = now_s() - t;
		if (t > worst)
			worst = t;
		calls++;
		if (r == 1) {
			got++;
			spool_delivered(s, seg);
		}
	}
	print_message("garbage segment: %d calls, slowest %.3f s, all %.3f s, corrupt %llu\n",
	    calls, worst, now_s() - t0, (unsigned long long)stats_of(s).corrupt);
	assert_int_equal(got, 10);
	assert_true(stats_of(s).corrupt >= 1);
	assert_true(worst < 0.5);	/* about 5 ms here once bounded; seconds when not */
	assert_true(now_s() - t0 < 2.0);
	spool_free(s);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_replay_then_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_and_delete_after_delivery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corruption_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_bytes_drops_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_counts_only_unread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unusable_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinked_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_writable_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_segment_bounded, setup, teardown),
	};
	return unit_main(argc, argv, "spool", tests, UNIT_COUNT(tests), NULL, 0);
}
