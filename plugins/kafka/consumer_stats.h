/* Reading librdkafka's statistics JSON: broker states and per-partition consumer lag. */
#ifndef LG_KAFKA_CONSUMER_STATS_H
#define LG_KAFKA_CONSUMER_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef struct kafka_partition_stats {
    const char *topic;
    int32_t partition;
    int64_t lag;             /* records behind the high watermark, -1 when unknown */
    const char *fetch_state; /* "active" while fetching */
} kafka_partition_stats;

typedef void (*kafka_partition_visit)(const kafka_partition_stats *stats, void *arg);

/* Call VISIT for every partition this consumer fetches, and set BROKERS_UP
 * to the number of brokers (not the bootstrap entries) in state UP.
 * Returns 0, or -1 when JSON is not librdkafka's statistics. */
int kafka_stats_parse(const char *json, size_t len, kafka_partition_visit visit, void *arg, int *brokers_up);

#endif
