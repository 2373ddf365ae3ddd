/* Read-backs: short-lived consumers that read a range of one partition again for a resume. */
#ifndef LG_KAFKA_READ_BACK_H
#define LG_KAFKA_READ_BACK_H

#include <stdint.h>

#include <event2/event.h>
#include <librdkafka/rdkafka.h>

#include "error.h"
#include "event.h"
#include "record.h"

typedef struct kafka_read_backs kafka_read_backs;

/* Limits of the read-backs of one source. */
typedef struct kafka_read_back_limits {
    int64_t max_records; /* maximum offsets one read-back may cover */
    int64_t timeout_ms;
    int64_t max_running;
} kafka_read_back_limits;

/* Create the read-backs of a source. Each one gets a consumer built from a
 * copy of CONF (taken over), records become events by RULES (kept by
 * pointer), and the main loop BASE serves them. SCOPE names the source in
 * logs. */
kafka_read_backs *kafka_read_backs_new(rd_kafka_conf_t *conf, const kafka_record_rules *rules,
                                       const kafka_read_back_limits *limits, struct event_base *base,
                                       const char *scope);

/* Read offsets FROM to TO of TOPIC's PARTITION and keep the records that go
 * to CHANNEL; call DONE with ARG once, later, on the main thread. Returns 0,
 * or -1 with ERR set when the range is longer than max_records, too many
 * read-backs run, or the consumer cannot be created. */
int kafka_read_back_start(kafka_read_backs *backs, const char *channel, const char *topic, int32_t partition,
                          int64_t from, int64_t to, lg_read_done done, void *arg, lg_error *err);

/* Finish every running read-back with an error, wait for their consumers
 * to close, and free BACKS. May be NULL. */
void kafka_read_backs_free(kafka_read_backs *backs);

#endif
