/* Proves the spool's record format, ordered replay across segments and restarts, deletion only after delivery, corruption skipping, and the max_bytes bound. */
#include "unit.h"

#include <fcntl.h>
#include <unistd.h>

#include "spool.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hids-spool-test.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
open_spool(struct spool *s, uint64_t max_bytes)
{
	char err[256];
	if (spool_open(s, dir, max_bytes, SPOOL_FSYNC_NEVER, err, sizeof(err)) != 0)
		fail_msg("spool_open: %s", err);
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
	struct spool s;
	char line[32];
	int next = 0;
	(void)state;
	open_spool(&s, 64u << 20);
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(line, sizeof(line), "line-%05d\n", i);
		assert_int_equal(spool_append(&s, line, (size_t)n), 0);
	}
	assert_int_equal(s.total_bytes, 1000 * (SPOOL_HDR + 11));
	assert_true(spool_pending(&s));
	read_all_in_order(&s, &next, false);
	assert_int_equal(next, 1000);
	spool_close(&s);
}

/* What one run spooled and did not deliver, the next run replays first; delivered files go. */
static void
test_restart_replay_then_delete(void **state)
{
	struct spool s;
	char line[32];
	int next = 0;
	(void)state;
	open_spool(&s, 64u << 20);
	for (int i = 0; i < 500; i++) {
		int n = snprintf(line, sizeof(line), "line-%05d\n", i);
		spool_append(&s, line, (size_t)n);
	}
	spool_close(&s);	/* as after a crash: nothing delivered */
	assert_int_equal(count_segments(), 1);
	open_spool(&s, 64u << 20);
	assert_true(spool_pending(&s));
	for (int i = 500; i < 600; i++) {
		int n = snprintf(line, sizeof(line), "line-%05d\n", i);
		spool_append(&s, line, (size_t)n);
	}
	read_all_in_order(&s, &next, true);
	assert_int_equal(next, 600);
	spool_close(&s);	/* everything delivered: no file left */
	assert_int_equal(count_segments(), 0);
}

/* Full segments rotate; each is deleted once delivered, not before. */
static void
test_rotation_and_delete_after_delivery(void **state)
{
	struct spool s;
	char line[1024];
	const char *r;
	size_t len;
	uint64_t seg, first_seg = 0;
	(void)state;
	open_spool(&s, 64u << 20);
	memset(line, 'x', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	size_t per_seg = SPOOL_SEGMENT_BYTES / (SPOOL_HDR + sizeof(line)) + 1;
	for (size_t i = 0; i < per_seg * 2 + 10; i++)
		assert_int_equal(spool_append(&s, line, sizeof(line)), 0);
	assert_int_equal(count_segments(), 3);
	/* Read the whole first segment but deliver none: it must stay. */
	size_t got = 0;
	while (got < per_seg && spool_read(&s, &r, &len, &seg) == 1) {
		if (got == 0)
			first_seg = seg;
		assert_int_equal(seg, first_seg);
		got++;
	}
	assert_int_equal(count_segments(), 3);
	for (size_t i = 0; i < got; i++)
		spool_delivered(&s, first_seg);
	assert_int_equal(count_segments(), 2);
	spool_close(&s);
}

/* A torn last record and flipped bytes mid-file are counted and skipped; the rest arrives. */
static void
test_corruption_skipped(void **state)
{
	struct spool s;
	char line[32], path[128];
	const char *r;
	size_t len;
	uint64_t seg;
	int fd, seen[200] = { 0 }, delivered = 0;
	(void)state;
	open_spool(&s, 64u << 20);
	for (int i = 0; i < 200; i++) {
		int n = snprintf(line, sizeof(line), "line-%05d\n", i);
		spool_append(&s, line, (size_t)n);
	}
	spool_close(&s);
	snprintf(path, sizeof(path), "%s/seg-%016llx.hsp", dir, 1ull);
	assert_int_equal(truncate(path, 200 * 23 - 5), 0);	/* tear the last record */
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "\xff\xff\xff", 3, 100 * 23 + 14), 3);	/* record 100's payload */
	assert_int_equal(pwrite(fd, "\x00\x00", 2, 150 * 23 + 1), 2);	/* record 150's magic */
	close(fd);
	open_spool(&s, 64u << 20);
	while (spool_read(&s, &r, &len, &seg) == 1) {
		int i;
		assert_int_equal(sscanf(r, "line-%05d", &i), 1);
		assert_in_range(i, 0, 199);
		seen[i]++;
		delivered++;
		spool_delivered(&s, seg);
	}
	assert_int_equal(delivered, 197);
	assert_int_equal(seen[100], 0);
	assert_int_equal(seen[150], 0);
	assert_int_equal(seen[199], 0);
	assert_int_equal(seen[0] + seen[99] + seen[101] + seen[198], 4);
	assert_int_equal(s.st.corrupt, 3);
	spool_close(&s);
	assert_int_equal(count_segments(), 0);	/* a damaged, finished segment is still cleaned */
}

/* Over max_bytes the oldest segment goes, its records are counted, and the newest always stay. */
static void
test_max_bytes_drops_oldest(void **state)
{
	struct spool s;
	char line[4096];
	const char *r;
	size_t len;
	uint64_t seg;
	int last = -1;
	(void)state;
	memset(line, 'y', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	open_spool(&s, 1u << 20);	/* a small spool: segments are a quarter of it */
	for (int i = 0; i < 4000; i++) {
		snprintf(line, 16, "%06d", i);
		assert_int_equal(spool_append(&s, line, sizeof(line)), 0);
	}
	assert_true(s.total_bytes <= 1u << 20);
	assert_true(s.st.dropped > 0);
	assert_int_equal(s.st.dropped, s.st.dropped_pending);
	assert_int_equal(s.st.dropped, s.st.appended - s.total_bytes / (SPOOL_HDR + sizeof(line)));
	assert_true(count_segments() <= 5);
	/* What is left reads back in order and ends with the newest line. */
	while (spool_read(&s, &r, &len, &seg) == 1) {
		int i = atoi(r);
		assert_true(i > last);
		last = i;
	}
	assert_int_equal(last, 3999);
	assert_true(s.st.replayed > 100);	/* most of a megabyte survived */
	spool_close(&s);
}

/* An unusable directory is refused with a reason (the agent then runs on memory). */
static void
test_unusable_dir(void **state)
{
	struct spool s;
	char err[256] = "";
	(void)state;
	assert_int_equal(spool_open(&s, "/proc/hids-no-such/spool", 1u << 20, SPOOL_FSYNC_NEVER,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "spool directory"));
	spool_close(&s);
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
		cmocka_unit_test_setup_teardown(test_unusable_dir, setup, teardown),
	};
	return unit_main(argc, argv, "spool", tests, UNIT_COUNT(tests), NULL, 0);
}
