/* Proves that the process table finds, replaces and removes entries, evicts exactly the least recently used one when full or over its byte budget, cuts long paths, and gives each (host, pid, start) a stable, distinct entity id. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"
#include "proctab.h"
#include "unit.h"

/* Walks the recency list and the hash chains and checks they agree with count. */
static void
check_consistent(const struct proctab *t)
{
	size_t n = 0, in_buckets = 0;
	const struct proctab_entry *prev = NULL;

	for (const struct proctab_entry *e = t->lru_head; e; e = e->lnext) {
		assert_ptr_equal(e->lprev, prev);
		prev = e;
		assert_true(++n <= t->count);
	}
	assert_ptr_equal(t->lru_tail, prev);
	assert_int_equal(n, t->count);
	for (size_t b = 0; b < t->nbuckets; b++)
		for (const struct proctab_entry *e = t->buckets[b]; e; e = e->hnext)
			in_buckets++;
	assert_int_equal(in_buckets, t->count);
	/* The byte count is the sum of the entries' own. */
	size_t bytes = 0;
	for (const struct proctab_entry *e = t->lru_head; e; e = e->lnext)
		bytes += proctab_entry_bytes(e);
	assert_int_equal(bytes, t->bytes);
}

static void
test_upsert_lookup_remove(void **state)
{
	struct proctab t;
	struct proctab_entry *e1, *e2;

	proctab_init(&t, 16, 64, "host-a");
	assert_null(proctab_lookup(&t, 1));
	e1 = proctab_upsert(&t, 100);
	assert_non_null(e1);
	assert_int_equal(e1->p.pid, 100);
	assert_int_equal(e1->p.known, 0);
	assert_int_equal(e1->p.ppid, -1);
	assert_int_equal(t.count, 1);
	assert_ptr_equal(proctab_upsert(&t, 100), e1);	/* no duplicate */
	assert_int_equal(t.count, 1);
	e2 = proctab_upsert(&t, 200);
	assert_ptr_not_equal(e1, e2);
	assert_ptr_equal(proctab_lookup(&t, 100), e1);
	assert_ptr_equal(proctab_lookup(&t, 200), e2);
	assert_null(proctab_lookup(&t, 300));
	check_consistent(&t);

	proctab_remove(&t, 100);
	assert_null(proctab_lookup(&t, 100));
	assert_ptr_equal(proctab_lookup(&t, 200), e2);
	assert_int_equal(t.count, 1);
	proctab_remove(&t, 100);			/* already gone: no-op */
	proctab_remove(&t, 12345);
	assert_int_equal(t.count, 1);
	check_consistent(&t);
	assert_int_equal(t.evictions, 0);
	proctab_release(&t);
}

static void
test_eviction_is_lru(void **state)
{
	struct proctab t;

	proctab_init(&t, 4, 64, "h");
	for (int pid = 1; pid <= 4; pid++)
		proctab_upsert(&t, pid);
	assert_int_equal(t.count, 4);
	/* Touch 1 and 2: 3 is now the oldest. */
	assert_non_null(proctab_lookup(&t, 1));
	assert_non_null(proctab_upsert(&t, 2));
	proctab_upsert(&t, 5);
	assert_int_equal(t.count, 4);
	assert_int_equal(t.evictions, 1);
	assert_null(proctab_lookup(&t, 3));
	assert_non_null(proctab_lookup(&t, 4));		/* order now 1 2 5 4 */
	proctab_upsert(&t, 6);
	assert_null(proctab_lookup(&t, 1));
	assert_int_equal(t.evictions, 2);
	assert_non_null(proctab_lookup(&t, 2));
	assert_non_null(proctab_lookup(&t, 5));
	assert_non_null(proctab_lookup(&t, 4));
	assert_non_null(proctab_lookup(&t, 6));
	/* A miss does not change the order. */
	assert_null(proctab_lookup(&t, 99));
	proctab_upsert(&t, 7);
	assert_null(proctab_lookup(&t, 2));
	/* The walk goes from the least recently touched; the snapshot counts what happened. */
	{
		static const int32_t order[] = { 5, 4, 6, 7 };
		struct proctab_stats st;
		size_t i = 0;
		for (struct proctab_entry *e = proctab_first(&t); e; e = proctab_next(e), i++) {
			assert_true(i < 4);
			assert_int_equal(e->p.pid, order[i]);
		}
		assert_int_equal(i, 4);
		proctab_stats(&t, &st);
		assert_int_equal(st.count, 4);
		assert_int_equal(st.evictions, 3);
		assert_int_equal(st.budget_evictions, 0);
		assert_int_equal(st.bytes, t.bytes);
		assert_string_equal(proctab_host_id(&t), "h");
	}
	check_consistent(&t);
	proctab_release(&t);
}

/* Random operations against a plain array kept in recency order. */
static void
test_against_model(void **state)
{
	enum { MAX = 50, PIDS = 200, OPS = 40000 };
	struct proctab t;
	int32_t model[MAX];
	size_t mn = 0;
	uint64_t evictions = 0, s = 0x2545f4914f6cdd1dull;

	proctab_init(&t, MAX, 16, "h");
	for (int op = 0; op < OPS; op++) {
		s ^= s << 13; s ^= s >> 7; s ^= s << 17;
		/* Pids that collide in small tables: multiples of a power of two too. */
		int32_t pid = (int32_t)((s >> 8) % PIDS) * ((s & 0x10) ? 1024 : 1) + 1;
		size_t at = mn;
		for (size_t i = 0; i < mn; i++)
			if (model[i] == pid)
				at = i;
		switch (s % 3) {
		case 0: {	/* upsert */
			struct proctab_entry *e = proctab_upsert(&t, pid);
			assert_int_equal(e->p.pid, pid);
			if (at < mn) {
				memmove(model + at, model + at + 1, (mn - at - 1) * sizeof(*model));
				mn--;
			} else if (mn == MAX) {
				memmove(model, model + 1, (mn - 1) * sizeof(*model));
				mn--;
				evictions++;
			}
			model[mn++] = pid;
			break;
		}
		case 1: {	/* lookup */
			struct proctab_entry *e = proctab_lookup(&t, pid);
			assert_true((e != NULL) == (at < mn));
			if (e) {
				assert_int_equal(e->p.pid, pid);
				memmove(model + at, model + at + 1, (mn - at - 1) * sizeof(*model));
				model[mn - 1] = pid;
			}
			break;
		}
		default:	/* remove */
			proctab_remove(&t, pid);
			if (at < mn) {
				memmove(model + at, model + at + 1, (mn - at - 1) * sizeof(*model));
				mn--;
			}
			break;
		}
		assert_int_equal(t.count, mn);
		assert_true(t.evictions == evictions);
		if (op % 97 == 0) {
			size_t i = 0;
			for (struct proctab_entry *e = t.lru_head; e; e = e->lnext)
				assert_int_equal(e->p.pid, model[i++]);
			assert_int_equal(i, mn);
			check_consistent(&t);
		}
	}
	proctab_release(&t);
	assert_int_equal(t.count, 0);
	assert_null(t.buckets);
}

static void
test_many_entries(void **state)
{
	struct proctab t;

	proctab_init(&t, 5000, 0, "h");
	assert_true(t.nbuckets >= 2048);
	assert_int_equal(t.nbuckets & (t.nbuckets - 1), 0);	/* a power of two */
	for (int32_t pid = 2; pid < 5002; pid++)
		proctab_upsert(&t, pid);
	assert_int_equal(t.count, 5000);
	for (int32_t pid = 2; pid < 5002; pid += 2)
		proctab_remove(&t, pid);
	for (int32_t pid = 2; pid < 5002; pid++)
		assert_true((proctab_lookup(&t, pid) != NULL) == (pid % 2 == 1));
	assert_int_equal(t.count, 2500);
	assert_int_equal(t.evictions, 0);
	check_consistent(&t);
	proctab_release(&t);
}

static void
test_set_copies_and_caps_args(void **state)
{
	struct proctab t;
	struct process src;
	struct proctab_entry *e;

	proctab_init(&t, 8, 8, "h");
	e = proctab_upsert(&t, 10);
	process_init(&src);
	src.pid = 999;				/* the entry keeps its own pid */
	src.ppid = 1;
	src.known = PF_ARGS | PF_EXE | PF_CWD | PF_STAT;
	src.executable = strdup("/bin/true");
	src.cwd = strdup("/");
	src.args = malloc(12);
	memcpy(src.args, "hello\0world", 12);
	src.args_len = 11;
	src.args_count = 2;
	src.start_ticks = 77;
	proctab_set(&t, e, &src);
	assert_int_equal(e->p.pid, 10);
	assert_int_equal(e->p.ppid, 1);
	assert_true(e->p.start_ticks == 77);
	assert_string_equal(e->p.executable, "/bin/true");
	assert_ptr_not_equal(e->p.executable, src.executable);	/* deep copy */
	assert_ptr_not_equal(e->p.cwd, src.cwd);
	/* 11 bytes of args into 8: cut back to the argument boundary. */
	assert_true(e->p.args_truncated);
	assert_int_equal(e->p.args_count, 2);
	assert_true(e->p.args_len <= 8);
	assert_memory_equal(e->p.args, "hello", 5);
	assert_int_equal(e->p.args[5], '\0');
	assert_int_equal(e->p.args[e->p.args_len], '\0');

	/* The source can go; the entry is unchanged. */
	free(src.executable);
	src.executable = strdup("/changed");
	assert_string_equal(e->p.executable, "/bin/true");

	/* One argument longer than the cap: cut inside it. */
	free(src.args);
	src.args = strdup("abcdefghijkl");
	src.args_len = 12;
	src.args_count = 1;
	proctab_set(&t, e, &src);
	assert_int_equal(e->p.args_len, 8);
	assert_memory_equal(e->p.args, "abcdefgh", 8);
	assert_true(e->p.args_truncated);

	/* Short args are kept whole. */
	free(src.args);
	src.args = strdup("ls");
	src.args_len = 2;
	src.args_truncated = false;
	proctab_set(&t, e, &src);
	assert_int_equal(e->p.args_len, 2);
	assert_false(e->p.args_truncated);
	assert_string_equal(e->p.args, "ls");

	/* Setting an entry to itself is a no-op, not a use after free. */
	proctab_set(&t, e, &e->p);
	assert_string_equal(e->p.args, "ls");
	process_release(&src);
	proctab_release(&t);
}

static void
test_entity_id_golden(void **state)
{
	/* base64url(SHA-256("host:pid:start")[0..18)), computed independently. */
	static const struct {
		const char *host;
		int32_t pid;
		uint64_t start;
		const char *id;
	} t[] = {
		{ "host-a", 1234, 5678, "10llaPIY7YGxQoyRVk5ArkZ8" },
		{ "host-a", 1234, 5679, "MgEhcfV0JnwtnLmMfF91bu_J" },
		{ "host-a", 1235, 5678, "5D3ir8cs0WfB2LVdM0TS5qdL" },
		{ "host-b", 1234, 5678, "0ccX7QuDOXiHjjVYWOy-6MQa" },
		{ "", 1, 0, "bg9NNOw_cmGW3JsqUHErsnZs" },
		{ "host-a", -5, UINT64_MAX, "-2XJOKMPQ1N9aKn3nR_RWdvw" },
	};
	char id[ENTITY_ID_LEN + 1];

	for (size_t i = 0; i < UNIT_COUNT(t); i++) {
		memset(id, '#', sizeof(id));
		proctab_entity_id(t[i].host, t[i].pid, t[i].start, id);
		assert_string_equal(id, t[i].id);
		assert_int_equal(strlen(id), ENTITY_ID_LEN);
	}
}

static void
test_entity_id_properties(void **state)
{
	char a[ENTITY_ID_LEN + 1], b[ENTITY_ID_LEN + 1];
	char host[65];

	/* Stable: the same process gets the same id every time. */
	proctab_entity_id("h", 42, 1000, a);
	proctab_entity_id("h", 42, 1000, b);
	assert_string_equal(a, b);
	/* A reused pid (another start time) is another process. */
	for (uint64_t st = 1001; st < 1100; st++) {
		proctab_entity_id("h", 42, st, b);
		assert_string_not_equal(a, b);
	}
	/* The longest host id the table keeps is hashed whole. */
	memset(host, 'm', 64);
	host[64] = '\0';
	proctab_entity_id(host, 42, 1000, a);
	host[63] = 'n';
	proctab_entity_id(host, 42, 1000, b);
	assert_string_not_equal(a, b);
	for (size_t i = 0; i < ENTITY_ID_LEN; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-_", a[i]));
}

static void
test_init_keeps_host_id(void **state)
{
	struct proctab t;
	char longhost[100];

	proctab_init(&t, 64, 0, NULL);
	assert_string_equal(t.host_id, "");
	proctab_release(&t);
	memset(longhost, 'q', sizeof(longhost) - 1);
	longhost[sizeof(longhost) - 1] = '\0';
	proctab_init(&t, 64, 0, longhost);
	assert_int_equal(strlen(t.host_id), 64);
	assert_int_equal(t.max_entries, 64);
	proctab_release(&t);
}

static void
test_seed_from_proc(void **state)
{
	struct proctab t;
	int procfd = procfs_open_root();
	struct proctab_entry *e;
	char id[ENTITY_ID_LEN + 1];

	assert_true(procfd >= 0);
	proctab_init(&t, 4096, 256, "seed-host");
	size_t n = proctab_seed(&t, procfd);
	assert_true(n >= 1);
	assert_int_equal(t.count, n < 4096 ? n : 4096);
	e = proctab_lookup(&t, getpid());
	assert_non_null(e);
	assert_int_equal(e->p.ppid, getppid());
	assert_true(e->p.known & PF_STAT);
	assert_true(e->p.known & PF_ARGS);
	assert_true(e->p.args_len <= 256);
	proctab_entity_id("seed-host", getpid(), e->p.start_ticks, id);
	assert_string_equal(e->p.entity_id, id);
	if (getppid() > 0 && proctab_lookup(&t, getppid()))
		assert_string_not_equal(proctab_lookup(&t, getppid())->p.entity_id, id);
	check_consistent(&t);
	proctab_release(&t);
	close(procfd);
}

/*
 * Regression (fixed in ed24c0d): a host id too long for the 128-byte
 * stack buffer made SHA256 read past it (inside libcrypto, unseen by ASan)
 * and hash the wrong bytes. Expected ids computed with Python's hashlib.
 */
static void
test_entity_id_long_host(void **state)
{
	char host[200], id[ENTITY_ID_LEN + 1];

	/* 96 bytes: "host:1:1" is 100 bytes and fits in[128]; this one passes. */
	memset(host, 'h', 96);
	host[96] = '\0';
	proctab_entity_id(host, 1, 1, id);
	assert_string_equal(id, "P6KHG8KqZIcrmk59sq7ppuWt");
	/* 199 bytes: in[] holds only the first 127, SHA256 reads 203. */
	memset(host, 'h', 199);
	host[199] = '\0';
	proctab_entity_id(host, 1, 1, id);
	assert_string_equal(id, "ofFEaldAmlOKuPsL3So7eYIt");
}

/* A pid reused within one start tick gets a new generation, hence a new entity id. */
static void
test_reuse_generation(void **state)
{
	struct proctab t;
	char a[ENTITY_ID_LEN + 1], b[ENTITY_ID_LEN + 1];
	(void)state;
	proctab_init(&t, 64, 256, "h");
	assert_int_equal(proctab_reuse_gen(&t, 500, 77), 0);
	struct proctab_entry *e = proctab_upsert(&t, 500);
	e->p.start_ticks = 77;
	e->gen = 0;
	proctab_remove(&t, 500);
	assert_int_equal(proctab_reuse_gen(&t, 500, 77), 1);	/* same tick: next generation */
	assert_int_equal(proctab_reuse_gen(&t, 500, 78), 0);	/* later tick: no clash */
	assert_int_equal(proctab_reuse_gen(&t, 500 + PROCTAB_RECENT, 77), 0);	/* same slot, other pid */
	e = proctab_upsert(&t, 500);
	e->p.start_ticks = 77;
	e->gen = 1;
	proctab_remove(&t, 500);
	assert_int_equal(proctab_reuse_gen(&t, 500, 77), 2);
	proctab_entity_id(t.host_id, 500, 77, a);
	proctab_entity_id_gen(t.host_id, 500, 77, 0, b);
	assert_string_equal(a, b);	/* generation 0 is the id a restarted agent computes */
	proctab_entity_id_gen(t.host_id, 500, 77, 1, b);
	assert_string_not_equal(a, b);
	proctab_release(&t);
}

/* Returns a new string of n copies of c. */
static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/*
 * Paths are cut at max_path and flagged, and past max_bytes the least
 * recently touched entries go (counted apart), however long the paths:
 * 4 KiB paths of sleepers cannot grow the table past its budget.
 */
static void
test_byte_budget(void **state)
{
	const size_t budget = 1u << 20, path = 128;
	struct proctab t;
	struct process p;

	proctab_init(&t, 100000, 64, "h");
	proctab_set_budget(&t, budget, path);
	process_init(&p);
	p.executable = repeat('e', 4000);
	p.cwd = repeat('c', 4000);
	p.cgroup = repeat('g', 4000);
	p.cgroup[0] = '/';
	for (int32_t pid = 1; pid <= 20000; pid++) {
		struct proctab_entry *e = proctab_upsert(&t, pid);
		proctab_set(&t, e, &p);
		assert_true(t.bytes <= budget);
		assert_ptr_equal(proctab_lookup(&t, pid), e);	/* the newest stays */
		assert_int_equal(strlen(e->p.executable), path);
		assert_int_equal(strlen(e->p.cwd), path);
		assert_int_equal(strlen(e->p.cgroup), path);
		assert_int_equal(e->p.paths_cut, PATH_CUT_EXE | PATH_CUT_CWD | PATH_CUT_CGROUP);
	}
	check_consistent(&t);
	assert_true(t.count > 1000 && t.count < 20000);
	assert_int_equal(t.budget_evictions, 20000 - t.count);
	assert_int_equal(t.evictions, t.budget_evictions);
	/* The oldest went first. */
	assert_null(proctab_lookup(&t, 1));
	assert_non_null(proctab_lookup(&t, 20000 - (int32_t)t.count + 1));
	assert_null(proctab_lookup(&t, 20000 - (int32_t)t.count));

	/* A short path is kept whole and not flagged; a cut never splits a character. */
	process_release(&p);
	process_init(&p);
	p.executable = strdup("/bin/sh");
	p.cwd = malloc(2 * 100 + 1);
	assert_non_null(p.cwd);
	for (int i = 0; i < 100; i++)
		memcpy(p.cwd + 2 * i, "\xc3\xa9", 2);
	p.cwd[200] = '\0';
	proctab_set_budget(&t, budget, 129);
	struct proctab_entry *e = proctab_upsert(&t, 99999);
	proctab_set(&t, e, &p);
	assert_string_equal(e->p.executable, "/bin/sh");
	assert_int_equal(strlen(e->p.cwd), 128);
	assert_int_equal(e->p.paths_cut, PATH_CUT_CWD);
	check_consistent(&t);
	process_release(&p);

	/* Removing everything gives every byte back. */
	for (int32_t pid = 1; pid <= 100000; pid++)
		proctab_remove(&t, pid);
	assert_int_equal(t.count, 0);
	assert_int_equal(t.bytes, 0);
	proctab_release(&t);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upsert_lookup_remove),
		cmocka_unit_test(test_eviction_is_lru),
		cmocka_unit_test(test_against_model),
		cmocka_unit_test(test_many_entries),
		cmocka_unit_test(test_set_copies_and_caps_args),
		cmocka_unit_test(test_entity_id_golden),
		cmocka_unit_test(test_entity_id_properties),
		cmocka_unit_test(test_init_keeps_host_id),
		cmocka_unit_test(test_seed_from_proc),
		cmocka_unit_test(test_reuse_generation),
		cmocka_unit_test(test_byte_budget),
		cmocka_unit_test(test_entity_id_long_host),
	};
	return unit_main(argc, argv, "proctab", tests, UNIT_COUNT(tests), NULL, 0);
}
