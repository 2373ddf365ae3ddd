/* Reconnect delays: capped exponential backoff with full jitter. */
#ifndef LG_REDIS_BACKOFF_H
#define LG_REDIS_BACKOFF_H

#include <stdint.h>

/* Return the ceiling of the delay before retry ATTEMPT (1 for the first):
 * BASE_MS * 2^(ATTEMPT - 1), capped at MAX_MS. */
int64_t redis_backoff_ceiling_ms(int64_t base_ms, int64_t max_ms, unsigned attempt);

/* Return the delay before retry ATTEMPT with full jitter: FRACTION (from 0
 * up to, not including, 1) of the ceiling above, so that clients that lost
 * the server together do not come back together. */
int64_t redis_backoff_delay_ms(int64_t base_ms, int64_t max_ms, unsigned attempt, double fraction);

/* Return a pseudo-random fraction from 0 up to 1 and advance STATE
 * (xorshift64*; a zero STATE is replaced by a fixed seed). */
double redis_backoff_random(uint64_t *state);

#endif
