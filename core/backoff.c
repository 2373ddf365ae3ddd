/* Retry delays: capped exponential backoff with full jitter between the base and the cap. */
#include "config.h"

#include "backoff.h"
#include "random.h"

int64_t lg_backoff_cap_ms(int64_t base_ms, int64_t max_ms, unsigned failures)
{
    int64_t cap = base_ms;

    if (base_ms <= 0)
        return max_ms > 0 ? max_ms : 0;

    for (unsigned i = 0; i < failures && cap < max_ms; i++)
        cap = cap > max_ms / 2 ? max_ms : cap * 2;
    return cap < max_ms ? cap : (max_ms > base_ms ? max_ms : base_ms);
}

int64_t lg_backoff_ms(int64_t base_ms, int64_t max_ms, unsigned failures)
{
    if (failures == 0)
        return base_ms;
    return lg_random_between(base_ms, lg_backoff_cap_ms(base_ms, max_ms, failures));
}

int64_t lg_backoff_jitter_ms(int64_t base_ms, int64_t max_ms, unsigned attempt)
{
    return lg_random_between(0, lg_backoff_cap_ms(base_ms, max_ms, attempt > 0 ? attempt - 1 : 0));
}
