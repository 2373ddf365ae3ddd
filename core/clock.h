/* Clocks in milliseconds: wall time for event timestamps, monotonic time for intervals. */
#ifndef LG_CLOCK_H
#define LG_CLOCK_H

#include <stdint.h>

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t lg_clock_wall_ms(void);

/* Milliseconds from an arbitrary start that never jumps (CLOCK_MONOTONIC). */
int64_t lg_clock_monotonic_ms(void);

#endif
