/*
 * backoff.c: delay = uniform(0, min(max, initial * 2^attempt)), floored at
 * BACKOFF_MIN_MS so a zero draw cannot spin. The attempt count is reset by
 * the caller once a connection has stayed healthy.
 */
#include "backoff.h"

#define BACKOFF_MIN_MS 10	/* never retry sooner than this */

/* Sets up a schedule; seed 0 is replaced, as xorshift cannot use it. */
void
backoff_init(struct backoff *b, uint32_t initial_ms, uint32_t max_ms, uint64_t seed)
{
	backoff_set_limits(b, initial_ms, max_ms);
	b->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
}

/* Changes the first delay and the cap (max below initial means initial), and starts over. */
void
backoff_set_limits(struct backoff *b, uint32_t initial_ms, uint32_t max_ms)
{
	b->initial_ms = initial_ms ? initial_ms : 1;
	b->max_ms = max_ms < b->initial_ms ? b->initial_ms : max_ms;
	b->attempt = 0;
}

/* Returns the next pseudo-random 64-bit value (xorshift64*). */
uint64_t
backoff_random(struct backoff *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * 0x2545f4914f6cdd1dull;
}

/* Returns the cap of the current attempt: min(max, initial * 2^attempt). */
uint32_t
backoff_ceiling_ms(const struct backoff *b)
{
	uint64_t c = b->initial_ms;
	for (unsigned i = 0; i < b->attempt && c < b->max_ms; i++)
		c <<= 1;
	return c > b->max_ms ? b->max_ms : (uint32_t)c;
}

/* Returns the delay before the next attempt and counts the attempt. */
uint32_t
backoff_next_delay_ms(struct backoff *b)
{
	uint32_t ceil = backoff_ceiling_ms(b);
	uint32_t d = (uint32_t)(backoff_random(b) % ((uint64_t)ceil + 1));
	if (b->attempt < 64)
		b->attempt++;
	return d < BACKOFF_MIN_MS ? BACKOFF_MIN_MS : d;
}

/* Returns a delay for the very first connect: uniform(0, spread_ms). */
uint32_t
backoff_first_delay_ms(struct backoff *b, uint32_t spread_ms)
{
	return spread_ms ? (uint32_t)(backoff_random(b) % ((uint64_t)spread_ms + 1)) : 0;
}

/* Forgets past failures, after a healthy connection. */
void
backoff_reset(struct backoff *b)
{
	b->attempt = 0;
}
