/* Pieces the Kafka consumer and producer share: the record header, origins, logs and wake-up pipes. */
#ifndef LG_KAFKA_RDKAFKA_GLUE_H
#define LG_KAFKA_RDKAFKA_GLUE_H

#include <stdint.h>

/* The record header that names the channel of an event written by produce,
 * so that it comes back into the channel it was published to. */
#define KAFKA_CHANNEL_HEADER "livegate-channel"

/* Return the origin of a record, "kafka:TOPIC:PARTITION:OFFSET"; free it. */
char *kafka_origin(const char *topic, int32_t partition, int64_t offset);

/* Log a line librdkafka wrote at syslog LEVEL under SCOPE, with
 * PREFIX ("librdkafka" or "librdkafka producer") and FACILITY in front. */
void kafka_log_line(const char *scope, const char *prefix, int level, const char *facility, const char *message);

/* Read and discard every wake-up byte waiting on the non-blocking pipe FD. */
void kafka_drain_pipe(int fd);

#endif
