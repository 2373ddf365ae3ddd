/* Retry delays: capped exponential backoff with full jitter. */
#ifndef LG_BACKOFF_H
#define LG_BACKOFF_H

#include <stdint.h>

/* Return the delay before the next try after FAILURES failures in a row
 * (1 for the first): a random value between BASE_MS and
 * min(MAX_MS, BASE_MS * 2^FAILURES), both included. FAILURES 0 gives BASE_MS. */
int64_t lg_backoff_ms(int64_t base_ms, int64_t max_ms, unsigned failures);

/* Return the delay before retry ATTEMPT (1 for the first) with full
 * jitter from zero: a random value between 0 and
 * min(MAX_MS, BASE_MS * 2^(ATTEMPT - 1)), both included, so that clients
 * that lost a server together do not come back together. */
int64_t lg_backoff_jitter_ms(int64_t base_ms, int64_t max_ms, unsigned attempt);

/* The upper bound that lg_backoff_ms draws below, for logs and tests. */
int64_t lg_backoff_cap_ms(int64_t base_ms, int64_t max_ms, unsigned failures);

#endif
