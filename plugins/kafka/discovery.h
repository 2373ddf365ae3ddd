/* Partition discovery: a thread that requests the partition count of each topic from the brokers. */
#ifndef LG_KAFKA_DISCOVERY_H
#define LG_KAFKA_DISCOVERY_H

#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "error.h"
#include "options.h"

typedef struct kafka_discovery kafka_discovery;

/* What the thread last found for one topic. */
typedef struct kafka_topic_found {
    int partitions;  /* -1 until a metadata request succeeded */
    int missing;     /* 1 when the brokers said the topic does not exist */
    char error[256]; /* why the last request failed, "" after a success */
} kafka_topic_found;

/* Start the thread. It requests the metadata of every topic in TOPICS
 * every REFRESH_MS (every second while one fails) and writes a byte to
 * NOTIFY_FD after each round that changed anything. With START_TIME_MS 0
 * or more, it also looks up, for the partitions a topic has when first
 * found, the offset of the first record at or after that time. */
kafka_discovery *kafka_discovery_start(rd_kafka_t *kafka, const lg_string_list *topics, int64_t refresh_ms,
                                       int64_t start_time_ms, int notify_fd, lg_error *err);

/* Return the offset looked up for START_TIME_MS in PARTITION of topic
 * TOPIC_INDEX, or RD_KAFKA_OFFSET_END when the partition has no record
 * from that time on or the lookup failed. */
int64_t kafka_discovery_time_offset(kafka_discovery *discovery, size_t topic_index, int32_t partition);

/* Copy the latest results into FOUND, one per topic in the order of TOPICS. */
void kafka_discovery_take(kafka_discovery *discovery, kafka_topic_found *found);

/* Stop the thread (waiting for a request in progress, at most a few
 * seconds) and free DISCOVERY. */
void kafka_discovery_stop(kafka_discovery *discovery);

#endif
