/* Proves the hasher: the digest of the pinned file, the cache, the size limit, the byte budget, a file that changed, and a late result. */
#include "unit.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include "hasher.h"
#include "procfs.h"

/* Fills p with what the capture thread's stat of our own exe gives. */
static void
self_exe(int procfd, struct process *p)
{
	process_init(p);
	procfs_snapshot(procfd, getpid(), SNAP_EXE, 0, p);
	assert_true(p->known & PF_EXE_ID);
}

/* Computes the sha256 of /proc/self/exe the plain way. */
static void
sha256_self(uint8_t out[32])
{
	uint8_t buf[65536];
	unsigned len;
	ssize_t n;
	int fd = open("/proc/self/exe", O_RDONLY);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	assert_true(fd >= 0);
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
	close(fd);
}

/* Polls a slot for up to 5 s; fails the test if it never finishes. */
static void
wait_result(struct hasher *h, int slot, uint32_t gen, struct process *p)
{
	for (int i = 0; i < 500; i++) {
		if (hasher_poll(h, slot, gen, p))
			return;
		usleep(10000);
	}
	fail_msg("the hasher did not finish");
}

/* A miss is pinned and hashed right; the next exec of the file is a cache hit. */
static void
test_hash_and_cache(void **state)
{
	struct hasher_config cfg = { HASH_ALG_SHA256 | HASH_ALG_MD5, 1u << 30, 1u << 30, 16 };
	struct hasher *h = hasher_new(&cfg);
	struct hasher_stats st;
	struct process p, q;
	uint8_t want[32];
	uint32_t gen = 0;
	int procfd = procfs_open_root(), slot;
	(void)state;

	assert_non_null(h);
	sha256_self(want);
	self_exe(procfd, &p);
	slot = hasher_pin(h, procfd, getpid(), &p, &gen);
	assert_true(slot >= 0);
	assert_int_equal(p.hash_status, HASH_STATUS_PENDING);
	wait_result(h, slot, gen, &p);
	assert_int_equal(p.hash_status, HASH_STATUS_DONE);
	assert_int_equal(p.hash_algs, HASH_ALG_SHA256 | HASH_ALG_MD5);
	assert_memory_equal(p.sha256, want, 32);
	self_exe(procfd, &q);
	assert_int_equal(hasher_pin(h, procfd, getpid(), &q, &gen), -1);
	assert_int_equal(q.hash_status, HASH_STATUS_DONE);
	assert_memory_equal(q.sha256, want, 32);
	hasher_stats(h, &st);
	assert_int_equal(st.done, 1);
	assert_int_equal(st.cache_hits, 1);
	process_release(&p);
	process_release(&q);
	hasher_free(h);
	close(procfd);
	procfs_release_scratch();
}

/* Over max_file_bytes: too_large at once, nothing opened; over the budget: budget. */
static void
test_limits(void **state)
{
	struct hasher_config big = { HASH_ALG_SHA256, 1, 1u << 30, 16 };
	struct hasher_config poor = { HASH_ALG_SHA256, 1u << 30, 1, 16 };
	struct hasher *h = hasher_new(&big);
	struct process p;
	uint32_t gen = 0;
	int procfd = procfs_open_root(), slot;
	(void)state;

	self_exe(procfd, &p);
	assert_int_equal(hasher_pin(h, procfd, getpid(), &p, &gen), -1);
	assert_int_equal(p.hash_status, HASH_STATUS_TOO_LARGE);
	hasher_free(h);
	h = hasher_new(&poor);
	slot = hasher_pin(h, procfd, getpid(), &p, &gen);
	assert_true(slot >= 0);
	wait_result(h, slot, gen, &p);
	assert_int_equal(p.hash_status, HASH_STATUS_BUDGET);
	assert_int_equal(p.hash_algs, 0);
	process_release(&p);
	hasher_free(h);
	close(procfd);
	procfs_release_scratch();
}

/* A file whose times differ from the key is an error, and is not cached under that key. */
static void
test_changed_file(void **state)
{
	struct hasher_config cfg = { HASH_ALG_SHA256, 1u << 30, 1u << 30, 16 };
	struct hasher *h = hasher_new(&cfg);
	struct process p;
	uint32_t gen = 0;
	int procfd = procfs_open_root(), slot;
	(void)state;

	self_exe(procfd, &p);
	p.exe_id.mtime_ns += 1;	/* as if it was written between the stat and the open */
	slot = hasher_pin(h, procfd, getpid(), &p, &gen);
	assert_true(slot >= 0);
	wait_result(h, slot, gen, &p);
	assert_int_equal(p.hash_status, HASH_STATUS_ERROR);
	slot = hasher_pin(h, procfd, getpid(), &p, &gen);
	assert_true(slot >= 0);	/* not a cache hit */
	wait_result(h, slot, gen, &p);
	process_release(&p);
	hasher_free(h);
	close(procfd);
	procfs_release_scratch();
}

/* A result whose event went out is taken later, with the process it belongs to. */
static void
test_late_result(void **state)
{
	struct hasher_config cfg = { HASH_ALG_SHA256, 1u << 30, 1u << 30, 16 };
	struct hasher *h = hasher_new(&cfg);
	struct process p, r;
	char entity[ENTITY_ID_LEN + 1];
	int32_t pid = 0;
	uint32_t gen = 0;
	uint8_t want[32];
	int procfd = procfs_open_root(), slot;
	bool got = false;
	(void)state;

	sha256_self(want);
	self_exe(procfd, &p);
	process_init(&r);
	slot = hasher_pin(h, procfd, getpid(), &p, &gen);
	assert_true(slot >= 0);
	hasher_orphan(h, slot, gen, 4242, "entity-of-4242");
	for (int i = 0; i < 500 && !got; i++) {
		got = hasher_take_late(h, &pid, entity, &r);
		if (!got)
			usleep(10000);
	}
	assert_true(got);
	assert_int_equal(pid, 4242);
	assert_string_equal(entity, "entity-of-4242");
	assert_int_equal(r.hash_status, HASH_STATUS_DONE);
	assert_memory_equal(r.sha256, want, 32);
	/* Taken once: the slot is free, and polling the old generation finds nothing. */
	assert_false(hasher_poll(h, slot, gen, &p));
	assert_false(hasher_take_late(h, &pid, entity, &r));
	process_release(&p);
	hasher_free(h);
	close(procfd);
	procfs_release_scratch();
}

/* No digest asked: no hasher at all. */
static void
test_off(void **state)
{
	struct hasher_config cfg = { 0, 1, 1, 16 };
	(void)state;
	assert_null(hasher_new(&cfg));
	hasher_free(NULL);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_and_cache),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_changed_file),
		cmocka_unit_test(test_late_result),
		cmocka_unit_test(test_off),
	};
	return unit_main(argc, argv, "hasher", tests, UNIT_COUNT(tests), NULL, 0);
}
