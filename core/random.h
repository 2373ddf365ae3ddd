/* Random numbers for jitter: fast, per thread, seeded from the kernel; not for secrets. */
#ifndef LG_RANDOM_H
#define LG_RANDOM_H

#include <stdint.h>

/* Return a number in [0, BOUND), or 0 when BOUND is 0. */
uint64_t lg_random_below(uint64_t bound);

/* Return a number in [LOW, HIGH], or LOW when HIGH <= LOW. */
int64_t lg_random_between(int64_t low, int64_t high);

#endif
