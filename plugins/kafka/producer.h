/* Writing admin-published events into a Kafka topic, acknowledged by every in-sync replica. */
#ifndef LG_KAFKA_PRODUCER_H
#define LG_KAFKA_PRODUCER_H

#include <stdint.h>

#include <event2/event.h>
#include <librdkafka/rdkafka.h>

#include "plugin_api.h"

typedef struct kafka_producer kafka_producer;

/* Build the producer's librdkafka configuration from the brokers, the
 * user's PROPERTIES mapping (may be NULL) and TIMEOUT_MS, the longest wait
 * for an acknowledgement. Returns NULL with ERR set. */
rd_kafka_conf_t *kafka_producer_conf(const char *brokers, const lg_conf_node *properties, const char *client_id,
                                     int64_t timeout_ms, lg_error *err);

/* Start a producer from CONF (taken over, also on failure) that writes to
 * TOPIC and reports on BASE. SCOPE names it in logs. */
kafka_producer *kafka_producer_new(rd_kafka_conf_t *conf, const char *topic, const char *type_header,
                                   struct event_base *base, const char *scope, lg_error *err);

/* Write EVENT into the topic with its key, CHANNEL in a header, and its type
 * in TYPE_HEADER when set; DONE runs once on the main thread. Returns 0, or
 * -1 with ERR set (DONE is then never called). */
int kafka_producer_send(kafka_producer *producer, const char *channel, const lg_event *event, lg_produce_done done,
                        void *arg, lg_error *err);

/* Fail the writes still waiting (their DONE runs with an error) and free PRODUCER. */
void kafka_producer_free(kafka_producer *producer);

#endif
