/* Latency histogram of the load generator: log-linear buckets, under 1.6% error from 128 us up. */
#ifndef LOADGEN_HISTOGRAM_H
#define LOADGEN_HISTOGRAM_H

#include <stdint.h>

/* Values below this are counted exactly; above it each power of two has 64 buckets. */
#define LOADGEN_HISTOGRAM_EXACT 128
#define LOADGEN_HISTOGRAM_SUB_BUCKETS 64
#define LOADGEN_HISTOGRAM_BUCKETS (LOADGEN_HISTOGRAM_EXACT + 57 * LOADGEN_HISTOGRAM_SUB_BUCKETS)

typedef struct loadgen_histogram {
    uint64_t counts[LOADGEN_HISTOGRAM_BUCKETS];
    uint64_t total;
    uint64_t max;
} loadgen_histogram;

/* Count one sample of VALUE (any unit; the generator uses microseconds). */
void loadgen_histogram_add(loadgen_histogram *histogram, uint64_t value);

/* Return the smallest bucket value that at least FRACTION (0 to 1) of the
 * samples do not exceed, or 0 when the histogram is empty. */
uint64_t loadgen_histogram_percentile(const loadgen_histogram *histogram, double fraction);

#endif
