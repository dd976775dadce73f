/*
 * backoff.h: reconnect delays, exponential with full jitter and a cap, and
 * a jittered first connect, so that a fleet restarting together does not
 * stampede its collector. Pure: the random source is a seeded xorshift.
 */
#ifndef HIDS_BACKOFF_H
#define HIDS_BACKOFF_H

#include <stdint.h>

struct backoff {
	uint32_t initial_ms;
	uint32_t max_ms;
	unsigned attempt;
	uint64_t rng;
};

/* backoff.c */
void backoff_init(struct backoff *b, uint32_t initial_ms, uint32_t max_ms, uint64_t seed);
uint32_t backoff_ceiling_ms(const struct backoff *b);
uint32_t backoff_next_delay_ms(struct backoff *b);
uint32_t backoff_first_delay_ms(struct backoff *b, uint32_t spread_ms);
void backoff_reset(struct backoff *b);
void backoff_set_limits(struct backoff *b, uint32_t initial_ms, uint32_t max_ms);
uint64_t backoff_random(struct backoff *b);

#endif
