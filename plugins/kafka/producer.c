/* Writing admin-published events into a Kafka topic, acknowledged by every in-sync replica.
 *
 * Delivery reports are served on the main thread: librdkafka writes a byte
 * to a pipe when its main queue becomes non-empty, and the event loop then
 * calls rd_kafka_poll, which runs the delivery report callback. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "producer.h"
#include "properties.h"
#include "rdkafka_glue.h"

struct kafka_producer {
    rd_kafka_t *kafka;
    rd_kafka_queue_t *queue;
    char *topic;
    char *type_header;
    char *scope;
    int pipe[2];
    struct event *wake;
};

/* One write waiting for its delivery report. */
typedef struct pending_write {
    lg_produce_done done;
    void *arg;
} pending_write;

rd_kafka_conf_t *kafka_producer_conf(const char *brokers, const lg_conf_node *properties, const char *client_id,
                                     int64_t timeout_ms, lg_error *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char timeout[32];
    int rc;

    snprintf(timeout, sizeof(timeout), "%lld", (long long)timeout_ms);
    rc = kafka_apply_properties(conf, properties, err);
    if (rc == 0)
        rc = kafka_set_property(conf, "bootstrap.servers", brokers, err);
    if (rc == 0)
        rc = kafka_set_property(conf, "acks", "all", err);
    if (rc == 0)
        rc = kafka_set_property(conf, "enable.idempotence", "true", err);
    if (rc == 0)
        rc = kafka_set_property(conf, "message.timeout.ms", timeout, err);
    if (rc == 0)
        rc = kafka_set_property(conf, "log.queue", "true", err);
    if (rc == 0)
        rc = kafka_set_default(conf, properties, "client.id", client_id, err);
    if (rc == 0)
        rc = kafka_set_default(conf, properties, "linger.ms", "1", err);
    if (rc == 0)
        rc = kafka_set_default(conf, properties, "log.connection.close", "false", err);
    if (rc < 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

static void on_delivery(rd_kafka_t *kafka, const rd_kafka_message_t *message, void *opaque)
{
    pending_write *write = message->_private;
    char *origin;

    if (write == NULL)
        return;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        write->done(write->arg, rd_kafka_err2str(message->err), NULL);
    } else {
        origin = kafka_origin(rd_kafka_topic_name(message->rkt), message->partition, message->offset);
        write->done(write->arg, NULL, origin);
        free(origin);
    }
    free(write);
}

static void on_log(const rd_kafka_t *kafka, int level, const char *facility, const char *message)
{
    kafka_producer *producer = rd_kafka_opaque(kafka);

    kafka_log_line(producer != NULL ? producer->scope : "source:kafka", "librdkafka producer", level, facility,
                   message);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    kafka_producer *producer = arg;

    kafka_drain_pipe(fd);
    rd_kafka_poll(producer->kafka, 0);
}

kafka_producer *kafka_producer_new(rd_kafka_conf_t *conf, const char *topic, const char *type_header,
                                   struct event_base *base, const char *scope, lg_error *err)
{
    kafka_producer *producer = lg_calloc(1, sizeof(*producer));
    char reason[512];

    producer->pipe[0] = producer->pipe[1] = -1;
    producer->topic = lg_strdup(topic);
    producer->type_header = type_header != NULL ? lg_strdup(type_header) : NULL;
    producer->scope = lg_strdup(scope);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_opaque(conf, producer);

    if (pipe2(producer->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
        rd_kafka_conf_destroy(conf);
        lg_error_set(err, "cannot create the producer's pipe: %s", strerror(errno));
        kafka_producer_free(producer);
        return NULL;
    }
    producer->kafka = rd_kafka_new(RD_KAFKA_PRODUCER, conf, reason, sizeof(reason));
    if (producer->kafka == NULL) {
        rd_kafka_conf_destroy(conf);
        lg_error_set(err, "cannot create the Kafka producer: %s", reason);
        kafka_producer_free(producer);
        return NULL;
    }

    rd_kafka_set_log_queue(producer->kafka, NULL);
    producer->queue = rd_kafka_queue_get_main(producer->kafka);
    rd_kafka_queue_io_event_enable(producer->queue, producer->pipe[1], "1", 1);
    producer->wake = event_new(base, producer->pipe[0], EV_READ | EV_PERSIST, on_wake, producer);
    if (producer->wake == NULL || event_add(producer->wake, NULL) < 0) {
        lg_error_set(err, "cannot watch the producer's pipe in the event loop");
        kafka_producer_free(producer);
        return NULL;
    }
    LG_LOG_INFO(scope, "writing admin-published events into topic %s", topic);
    return producer;
}

int kafka_producer_send(kafka_producer *producer, const char *channel, const lg_event *event, lg_produce_done done,
                        void *arg, lg_error *err)
{
    pending_write *write = lg_calloc(1, sizeof(*write));
    rd_kafka_headers_t *headers = rd_kafka_headers_new(2);
    size_t key_len = event->key != NULL ? strlen(event->key) : 0;
    rd_kafka_resp_err_t rc;

    rd_kafka_header_add(headers, KAFKA_CHANNEL_HEADER, -1, channel, -1);
    if (event->type != NULL && producer->type_header != NULL)
        rd_kafka_header_add(headers, producer->type_header, -1, event->type, -1);

    write->done = done;
    write->arg = arg;
    rc = rd_kafka_producev(producer->kafka, RD_KAFKA_V_TOPIC(producer->topic),
                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                           RD_KAFKA_V_KEY(event->key, key_len),
                           RD_KAFKA_V_VALUE(event->data, event->data_len), RD_KAFKA_V_HEADERS(headers),
                           RD_KAFKA_V_OPAQUE(write), RD_KAFKA_V_END);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* The headers are only taken over on success. */
        rd_kafka_headers_destroy(headers);
        free(write);
        return lg_error_set(err, "cannot queue the event for topic %s: %s", producer->topic, rd_kafka_err2str(rc));
    }
    return 0;
}

void kafka_producer_free(kafka_producer *producer)
{
    if (producer == NULL)
        return;

    if (producer->kafka != NULL) {
        /* Every write still waiting gets a delivery report with an error. */
        rd_kafka_purge(producer->kafka, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(producer->kafka, 1000);
        rd_kafka_poll(producer->kafka, 0);
    }
    if (producer->wake != NULL)
        event_free(producer->wake);
    if (producer->queue != NULL)
        rd_kafka_queue_destroy(producer->queue);
    if (producer->kafka != NULL)
        rd_kafka_destroy(producer->kafka);
    for (int i = 0; i < 2; i++) {
        if (producer->pipe[i] >= 0)
            close(producer->pipe[i]);
    }
    free(producer->topic);
    free(producer->type_header);
    free(producer->scope);
    free(producer);
}
