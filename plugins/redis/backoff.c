/* Capped exponential backoff with full jitter, for reconnecting to Redis. */
#include "config.h"

#include "backoff.h"

/* 2^62 fits in int64_t; larger shifts would overflow long before any cap. */
#define MAX_DOUBLINGS 62
#define FALLBACK_SEED UINT64_C(0x9E3779B97F4A7C15)

int64_t redis_backoff_ceiling_ms(int64_t base_ms, int64_t max_ms, unsigned attempt)
{
    int64_t ceiling = base_ms;

    for (unsigned i = 1; i < attempt && i <= MAX_DOUBLINGS && ceiling < max_ms; i++)
        ceiling *= 2;
    return ceiling < max_ms ? ceiling : max_ms;
}

int64_t redis_backoff_delay_ms(int64_t base_ms, int64_t max_ms, unsigned attempt, double fraction)
{
    int64_t ceiling = redis_backoff_ceiling_ms(base_ms, max_ms, attempt);

    if (fraction < 0)
        fraction = 0;
    if (fraction >= 1)
        return ceiling;
    return (int64_t)((double)ceiling * fraction);
}

double redis_backoff_random(uint64_t *state)
{
    uint64_t x = *state != 0 ? *state : FALLBACK_SEED;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (double)((x * UINT64_C(0x2545F4914F6CDD1D)) >> 11) / (double)(UINT64_C(1) << 53);
}
