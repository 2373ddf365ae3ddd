/* Latency histogram of the load generator: constant-time adds and percentile queries. */
#include "loadgen_histogram.h"

static unsigned loadgen_histogram_bucket(uint64_t value)
{
    unsigned msb;
    unsigned shift;

    if (value < LOADGEN_HISTOGRAM_EXACT)
        return (unsigned)value;

    msb = 63u - (unsigned)__builtin_clzll(value);
    shift = msb - 6u;
    return LOADGEN_HISTOGRAM_EXACT + (shift - 1u) * LOADGEN_HISTOGRAM_SUB_BUCKETS +
           (unsigned)((value >> shift) - LOADGEN_HISTOGRAM_SUB_BUCKETS);
}

/* The upper bound of BUCKET, so that a percentile never understates a latency. */
static uint64_t loadgen_histogram_bucket_value(unsigned bucket)
{
    unsigned shift;
    uint64_t mantissa;

    if (bucket < LOADGEN_HISTOGRAM_EXACT)
        return bucket;

    shift = (bucket - LOADGEN_HISTOGRAM_EXACT) / LOADGEN_HISTOGRAM_SUB_BUCKETS + 1u;
    mantissa = (bucket - LOADGEN_HISTOGRAM_EXACT) % LOADGEN_HISTOGRAM_SUB_BUCKETS + LOADGEN_HISTOGRAM_SUB_BUCKETS;
    return ((mantissa + 1u) << shift) - 1u;
}

void loadgen_histogram_add(loadgen_histogram *histogram, uint64_t value)
{
    unsigned bucket = loadgen_histogram_bucket(value);

    if (bucket >= LOADGEN_HISTOGRAM_BUCKETS)
        bucket = LOADGEN_HISTOGRAM_BUCKETS - 1;
    histogram->counts[bucket]++;
    histogram->total++;
    if (value > histogram->max)
        histogram->max = value;
}

uint64_t loadgen_histogram_percentile(const loadgen_histogram *histogram, double fraction)
{
    uint64_t rank;
    uint64_t seen = 0;

    if (histogram->total == 0)
        return 0;

    rank = (uint64_t)(fraction * (double)histogram->total + 0.5);
    if (rank < 1)
        rank = 1;
    for (unsigned bucket = 0; bucket < LOADGEN_HISTOGRAM_BUCKETS; bucket++) {
        seen += histogram->counts[bucket];
        if (seen >= rank) {
            uint64_t value = loadgen_histogram_bucket_value(bucket);
            return value < histogram->max ? value : histogram->max;
        }
    }
    return histogram->max;
}
