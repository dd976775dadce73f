/* Proves the reconnect schedule: full jitter under a doubling, capped ceiling, reset, and a jittered first connect. */
#include "unit.h"

#include "backoff.h"

/* The ceiling doubles per attempt from initial and stops at max. */
static void
test_ceiling_doubles_and_caps(void **state)
{
	struct backoff b;
	(void)state;
	backoff_init(&b, 250, 30000, 42);
	uint32_t want[] = { 250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000 };
	for (size_t i = 0; i < UNIT_COUNT(want); i++) {
		assert_int_equal(backoff_ceiling_ms(&b), want[i]);
		uint32_t d = backoff_next_delay_ms(&b);
		assert_true(d <= want[i]);
		assert_true(d >= 10);
	}
}

/* New limits (a reload) start the schedule over from the new initial, under the new cap. */
static void
test_set_limits(void **state)
{
	struct backoff b;
	(void)state;
	backoff_init(&b, 250, 30000, 42);
	for (int i = 0; i < 5; i++)
		backoff_next_delay_ms(&b);
	assert_int_equal(backoff_ceiling_ms(&b), 8000);
	backoff_set_limits(&b, 100, 300);
	uint32_t want[] = { 100, 200, 300, 300 };
	for (size_t i = 0; i < UNIT_COUNT(want); i++) {
		assert_int_equal(backoff_ceiling_ms(&b), want[i]);
		assert_true(backoff_next_delay_ms(&b) <= want[i]);
	}
	backoff_set_limits(&b, 500, 100);	/* a cap below initial means initial */
	assert_int_equal(backoff_ceiling_ms(&b), 500);
	backoff_next_delay_ms(&b);
	assert_int_equal(backoff_ceiling_ms(&b), 500);
}

/* Delays spread over the whole [0, ceiling] range (full jitter), not a fixed value. */
static void
test_full_jitter_spreads(void **state)
{
	struct backoff b;
	uint32_t lo = UINT32_MAX, hi = 0;
	(void)state;
	for (uint64_t seed = 1; seed <= 2000; seed++) {
		backoff_init(&b, 1000, 1000, seed);
		uint32_t d = backoff_next_delay_ms(&b);
		assert_true(d <= 1000);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	assert_true(lo < 100);	/* some draws near zero (floored at 10 ms) */
	assert_true(hi > 900);	/* some near the ceiling */
}

/* A reset goes back to the initial ceiling. */
static void
test_reset(void **state)
{
	struct backoff b;
	(void)state;
	backoff_init(&b, 100, 10000, 7);
	for (int i = 0; i < 6; i++)
		backoff_next_delay_ms(&b);
	assert_int_equal(backoff_ceiling_ms(&b), 6400);
	backoff_reset(&b);
	assert_int_equal(backoff_ceiling_ms(&b), 100);
}

/* The first connect is spread over [0, spread]; a fleet with different seeds does not line up. */
static void
test_first_delay_jittered(void **state)
{
	struct backoff b;
	uint32_t first = 0;
	int distinct = 0;
	(void)state;
	for (uint64_t seed = 1; seed <= 50; seed++) {
		backoff_init(&b, 250, 30000, seed * 7919);
		uint32_t d = backoff_first_delay_ms(&b, 5000);
		assert_true(d <= 5000);
		if (seed == 1)
			first = d;
		else if (d != first)
			distinct++;
	}
	assert_true(distinct > 40);
	backoff_init(&b, 250, 30000, 3);
	assert_int_equal(backoff_first_delay_ms(&b, 0), 0);
}

/* The same seed gives the same schedule (the tests above are repeatable). */
static void
test_deterministic_per_seed(void **state)
{
	struct backoff a, b;
	(void)state;
	backoff_init(&a, 250, 30000, 99);
	backoff_init(&b, 250, 30000, 99);
	for (int i = 0; i < 20; i++)
		assert_int_equal(backoff_next_delay_ms(&a), backoff_next_delay_ms(&b));
}

/* A huge attempt count neither overflows nor exceeds the cap. */
static void
test_no_overflow(void **state)
{
	struct backoff b;
	(void)state;
	backoff_init(&b, 1, UINT32_MAX, 5);
	for (int i = 0; i < 200; i++)
		backoff_next_delay_ms(&b);
	assert_true(backoff_ceiling_ms(&b) <= UINT32_MAX);
	backoff_init(&b, 0, 0, 0);	/* degenerate input is made sane */
	assert_true(backoff_ceiling_ms(&b) >= 1);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ceiling_doubles_and_caps),
		cmocka_unit_test(test_full_jitter_spreads),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_set_limits),
		cmocka_unit_test(test_first_delay_jittered),
		cmocka_unit_test(test_deterministic_per_seed),
		cmocka_unit_test(test_no_overflow),
	};
	return unit_main(argc, argv, "backoff", tests, UNIT_COUNT(tests), NULL, 0);
}
