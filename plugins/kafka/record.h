/* Kafka records taken apart into the channel, key, type, time and positioned origin of an event. */
#ifndef LG_KAFKA_RECORD_H
#define LG_KAFKA_RECORD_H

#include <librdkafka/rdkafka.h>

#include "buf.h"
#include "error.h"
#include "event.h"

/* How records become events: the routing and naming options of a source. */
typedef struct kafka_record_rules {
    const char *channel;       /* name or template, may be NULL */
    const char *channel_field; /* may be NULL */
    int use_key;
    const char *type_header; /* may be NULL */
} kafka_record_rules;

/* A record taken apart. KEY is a NUL-terminated copy (NULL without a key
 * or with use_key off), CHANNEL, TYPE and ORIGIN are filled. */
typedef struct kafka_record {
    char *key;
    lg_buf channel;
    lg_buf type;
    int has_type;
    char *origin;
    int64_t time_ms;
    const void *value;
    size_t value_len;
} kafka_record;

/* Take MESSAGE apart into RECORD by RULES. The livegate-channel header, set
 * by produce, names the channel before any rule. Returns 0, or -1 with ERR
 * saying why the record has no channel (RECORD must still be cleared). */
int kafka_record_read(const kafka_record_rules *rules, rd_kafka_message_t *message, kafka_record *record,
                      lg_error *err);

void kafka_record_clear(kafka_record *record);

/* Parse LOG "kafka:TOPIC:PARTITION" into TOPIC (a pointer into LOG, LEN
 * bytes) and PARTITION. Returns 0, or -1 when LOG is not a Kafka log. */
int kafka_log_parse(const char *log, const char **topic, size_t *topic_len, int32_t *partition);

#endif
