/* Millisecond clocks built on clock_gettime(2). */
#include "config.h"

#include <time.h>

#include "clock.h"

static int64_t lg_clock_read_ms(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lg_clock_wall_ms(void)
{
    return lg_clock_read_ms(CLOCK_REALTIME);
}

int64_t lg_clock_monotonic_ms(void)
{
    return lg_clock_read_ms(CLOCK_MONOTONIC);
}
