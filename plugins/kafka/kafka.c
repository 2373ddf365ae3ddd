/* The kafka source plugin: reads every partition of its topics into channels with librdkafka.
 *
 * Each node reads every record: partitions are assigned by hand
 * (rd_kafka_incremental_assign), with no consumer group membership and no
 * committed offsets, so a broker outage of any length ends with the
 * consumer fetching on from where it stopped. Records are polled on the
 * main thread: librdkafka writes a byte to a pipe when its queue becomes
 * non-empty, and the main event loop drains the queue in batches. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <librdkafka/rdkafka.h>

#include "discovery.h"
#include "producer.h"
#include "properties.h"
#include "rdkafka_glue.h"
#include "plugin_api.h"
#include "read_back.h"
#include "record.h"
#include "route.h"
#include "start_time.h"
#include "consumer_stats.h"

enum kafka_start { START_LATEST, START_EARLIEST, START_LAST, START_TIME };

static const char *const start_names[] = {"latest", "earliest", "last", "time", NULL};

typedef struct kafka_config {
    char *brokers;
    lg_string_list topics;
    char *channel;
    char *channel_field;
    int start;
    int64_t start_last;
    char *start_time;
    int use_key;
    char *type_header;
    const lg_conf_node *properties;
    int64_t metadata_refresh_ms;
    int64_t stats_interval_ms;
    int64_t max_batch;
    char *produce_topic;
    int64_t produce_timeout_ms;
    int64_t max_read_back;
    int64_t read_back_timeout_ms;
    int64_t max_read_backs;
} kafka_config;


typedef struct topic_state {
    int assigned; /* partitions 0 .. ASSIGNED-1 are being read */
    int64_t *first_read; /* per partition: offset of the first record read, -1 before one */
    int64_t *next_read;  /* per partition: offset after the last record read, -1 before one */
    int partitions_known;
    int created_later; /* the topic did not exist when reading started */
} topic_state;

typedef struct kafka_state {
    lg_instance *instance;
    const kafka_config *config;
    rd_kafka_conf_t *conf; /* until start hands it to rd_kafka_new */
    rd_kafka_t *kafka;
    rd_kafka_queue_t *queue;

    int wake_pipe[2];      /* librdkafka: records or callbacks are waiting */
    int discovery_pipe[2]; /* the discovery thread found something */
    struct event *wake_event;
    struct event *discovery_event;
    struct event *more_event; /* continues a drain cut short by max_batch */
    kafka_discovery *discovery;

    rd_kafka_conf_t *producer_conf; /* until the first produce call creates the producer */
    kafka_producer *producer;

    rd_kafka_conf_t *read_conf; /* until start creates the read-backs */
    kafka_read_backs *read_backs;
    kafka_record_rules rules;

    topic_state *topics;
    kafka_topic_found *found;

    int brokers_up;       /* from the last statistics, -1 before any */
    int partitions_idle;  /* assigned partitions not fetching, from the last statistics */
    char *broker_problem; /* the last broker error, until statistics show a broker up */
    lg_health health;
    char *health_reason;
    int64_t start_time_ms; /* with start: time; -1 otherwise */
} kafka_state;

static void count(kafka_state *state, const char *name, const char *help)
{
    lg_instance_count(state->instance, name, help, 1);
}

/* Health */

static void set_health(kafka_state *state, lg_health health, const char *reason)
{
    if (health == state->health &&
        (reason == NULL ? state->health_reason == NULL
                        : state->health_reason != NULL && strcmp(reason, state->health_reason) == 0))
        return;

    free(state->health_reason);
    state->health_reason = reason != NULL ? lg_strdup(reason) : NULL;
    state->health = health;
    lg_instance_set_health(state->instance, health, reason);
}

/* Work out health from the topics found, the broker errors and the last statistics. */
static void update_health(kafka_state *state)
{
    const kafka_config *config = state->config;
    lg_buf reason = LG_BUF_INIT;

    for (size_t i = 0; i < config->topics.count; i++) {
        if (state->found[i].partitions >= 0)
            continue;
        lg_buf_printf(&reason, "%stopic %s: %s", reason.len > 0 ? "; " : "", config->topics.items[i],
                      state->found[i].error[0] != '\0' ? state->found[i].error : "partitions not known yet");
    }
    if (state->broker_problem != NULL)
        lg_buf_printf(&reason, "%s%s", reason.len > 0 ? "; " : "", state->broker_problem);
    else if (state->partitions_idle > 0)
        lg_buf_printf(&reason, "%s%d partitions are not fetching", reason.len > 0 ? "; " : "",
                      state->partitions_idle);

    set_health(state, reason.len > 0 ? LG_HEALTH_DEGRADED : LG_HEALTH_OK, reason.len > 0 ? reason.data : NULL);
    lg_buf_free(&reason);
}

/* Records */

/* Remember how far this node has read the partition of MESSAGE. */
static void note_read(kafka_state *state, rd_kafka_message_t *message)
{
    const char *topic = rd_kafka_topic_name(message->rkt);

    for (size_t i = 0; i < state->config->topics.count; i++) {
        topic_state *ts = &state->topics[i];

        if (strcmp(state->config->topics.items[i], topic) != 0 || message->partition >= ts->assigned)
            continue;
        if (ts->first_read[message->partition] < 0)
            ts->first_read[message->partition] = message->offset;
        ts->next_read[message->partition] = message->offset + 1;
        return;
    }
}

static void publish_record(kafka_state *state, rd_kafka_message_t *message)
{
    kafka_record record;
    lg_publish event;
    lg_error err;

    lg_error_clear(&err);
    note_read(state, message);
    if (kafka_record_read(&state->rules, message, &record, &err) < 0) {
        count(state, "kafka_route_errors", "Records without a channel to go to");
        LG_LOG_WARN(lg_instance_scope(state->instance), "record %s/%d@%lld skipped: %s",
                    rd_kafka_topic_name(message->rkt), (int)message->partition, (long long)message->offset,
                    err.message);
        kafka_record_clear(&record);
        return;
    }

    event = (lg_publish){
        .channel = record.channel.data,
        .key = record.key,
        .type = record.has_type ? record.type.data : NULL,
        .data = record.value,
        .data_len = record.value_len,
        .time_ms = record.time_ms,
        .origin = record.origin,
        .positioned = 1,
    };
    if (lg_instance_publish(state->instance, &event, &err) < 0) {
        count(state, "kafka_publish_errors", "Records the core rejected, for example a channel no rule allows");
        LG_LOG_WARN(lg_instance_scope(state->instance), "record %s/%d@%lld into channel %s rejected: %s",
                    rd_kafka_topic_name(message->rkt), (int)message->partition, (long long)message->offset,
                    record.channel.data, err.message);
    } else {
        count(state, "kafka_records", "Records published into channels");
    }
    kafka_record_clear(&record);
}

static void handle_message(kafka_state *state, rd_kafka_message_t *message)
{
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        publish_record(state, message);
        return;
    }
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        return;

    count(state, "kafka_consume_errors", "Errors reported while fetching");
    LG_LOG_WARN(lg_instance_scope(state->instance), "fetch error on %s/%d: %s",
                message->rkt != NULL ? rd_kafka_topic_name(message->rkt) : "-", (int)message->partition,
                rd_kafka_message_errstr(message));
}

/* Serve librdkafka's queue: records, and the error, statistics and log callbacks. */
static void drain(kafka_state *state)
{
    int64_t served = 0;

    while (served < state->config->max_batch) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll(state->kafka, 0);

        if (message == NULL)
            return;
        handle_message(state, message);
        rd_kafka_message_destroy(message);
        served++;
    }

    /* Leave the loop to other work; the rest comes on the next turn. */
    event_active(state->more_event, EV_TIMEOUT, 0);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    kafka_drain_pipe(fd);
    drain(arg);
}

static void on_more(evutil_socket_t fd, short what, void *arg)
{
    drain(arg);
}

/* librdkafka callbacks, served by rd_kafka_consumer_poll on the main thread */

static void on_error(rd_kafka_t *kafka, int code, const char *reason, void *opaque)
{
    kafka_state *state = opaque;
    rd_kafka_resp_err_t err = (rd_kafka_resp_err_t)code;

    /* librdkafka's own log already reports each failed connection. */
    if (err != RD_KAFKA_RESP_ERR__TRANSPORT && err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        LG_LOG_WARN(lg_instance_scope(state->instance), "%s: %s", rd_kafka_err2name(err), reason);
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__TRANSPORT ||
        err == RD_KAFKA_RESP_ERR__RESOLVE || err == RD_KAFKA_RESP_ERR__AUTHENTICATION) {
        /* The first error names the outage until the brokers are back. */
        if (state->broker_problem == NULL) {
            state->broker_problem = lg_sprintf("brokers unreachable: %s", reason);
            update_health(state);
        }
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char fatal[512];

        rd_kafka_fatal_error(kafka, fatal, sizeof(fatal));
        set_health(state, LG_HEALTH_FAILED, fatal);
    }
}

static void record_lag(const kafka_partition_stats *stats, void *arg)
{
    kafka_state *state = arg;
    char labels[320];

    snprintf(labels, sizeof(labels), "topic=\"%s\",partition=\"%d\"", stats->topic, (int)stats->partition);
    lg_instance_gauge(state->instance, "kafka_consumer_lag", "Records behind the partition's high watermark",
                      labels, stats->lag);
    if (strcmp(stats->fetch_state, "active") != 0)
        state->partitions_idle++;
}

static int on_stats(rd_kafka_t *kafka, char *json, size_t len, void *opaque)
{
    kafka_state *state = opaque;
    int brokers_up = 0;

    state->partitions_idle = 0;
    if (kafka_stats_parse(json, len, record_lag, state, &brokers_up) < 0) {
        LG_LOG_WARN(lg_instance_scope(state->instance), "librdkafka statistics could not be parsed; lag is not updated");
        return 0;
    }

    state->brokers_up = brokers_up;
    if (brokers_up > 0 && state->broker_problem != NULL) {
        LG_LOG_INFO(lg_instance_scope(state->instance), "brokers are up again (%d up)", brokers_up);
        free(state->broker_problem);
        state->broker_problem = NULL;
    }
    update_health(state);
    return 0;
}

static void on_log(const rd_kafka_t *kafka, int level, const char *facility, const char *message)
{
    kafka_state *state = rd_kafka_opaque(kafka);

    kafka_log_line(state != NULL ? lg_instance_scope(state->instance) : "source:kafka", "librdkafka", level, facility,
                   message);
}

/* Partition assignment */

static int64_t start_offset(const kafka_config *config)
{
    switch (config->start) {
    case START_EARLIEST:
        return RD_KAFKA_OFFSET_BEGINNING;
    case START_LAST:
        return RD_KAFKA_OFFSET_TAIL(config->start_last);
    default:
        return RD_KAFKA_OFFSET_END;
    }
}

/* Make room for the read marks of COUNT partitions. */
static void grow_read_marks(topic_state *ts, int count)
{
    ts->first_read = lg_realloc(ts->first_read, (size_t)count * sizeof(*ts->first_read));
    ts->next_read = lg_realloc(ts->next_read, (size_t)count * sizeof(*ts->next_read));
    for (int p = ts->assigned; p < count; p++)
        ts->first_read[p] = ts->next_read[p] = -1;
}

/* Start reading partitions FIRST .. COUNT-1 of topic I. Partitions found at
 * start begin at the configured position. Partitions added later, and those
 * of a topic created after the start, begin at their first record, so none
 * of their records is missed. */
static void assign_partitions(kafka_state *state, size_t i, int count)
{
    const char *topic = state->config->topics.items[i];
    int first = state->topics[i].assigned;
    int from_first = state->topics[i].partitions_known || state->topics[i].created_later;
    int64_t offset = from_first ? RD_KAFKA_OFFSET_BEGINNING : start_offset(state->config);
    int by_time = !from_first && state->config->start == START_TIME;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(count - first);
    rd_kafka_error_t *error;

    for (int p = first; p < count; p++)
        rd_kafka_topic_partition_list_add(list, topic, p)->offset =
            by_time ? kafka_discovery_time_offset(state->discovery, i, p) : offset;

    error = rd_kafka_incremental_assign(state->kafka, list);
    if (error != NULL) {
        LG_LOG_ERROR(lg_instance_scope(state->instance), "cannot read partitions %d to %d of topic %s: %s", first,
                     count - 1, topic, rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    } else {
        LG_LOG_INFO(lg_instance_scope(state->instance), "reading partitions %d to %d of topic %s from %s", first,
                    count - 1, topic, from_first ? "their first record" :
                    start_names[state->config->start]);
        grow_read_marks(&state->topics[i], count);
        state->topics[i].assigned = count;
        state->topics[i].partitions_known = 1;
    }
    rd_kafka_topic_partition_list_destroy(list);
}

static void on_discovery(evutil_socket_t fd, short what, void *arg)
{
    kafka_state *state = arg;

    kafka_drain_pipe(fd);
    kafka_discovery_take(state->discovery, state->found);
    for (size_t i = 0; i < state->config->topics.count; i++) {
        if (state->found[i].missing && !state->topics[i].partitions_known)
            state->topics[i].created_later = 1;
        if (state->found[i].partitions > state->topics[i].assigned)
            assign_partitions(state, i, state->found[i].partitions);
    }
    update_health(state);
}

/* Configuration */

static rd_kafka_conf_t *build_conf(lg_instance *instance, const kafka_config *config, lg_error *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char *client_id = lg_sprintf("livegate-%s", lg_instance_name(instance));
    char stats[32];
    int rc;

    snprintf(stats, sizeof(stats), "%lld", (long long)config->stats_interval_ms);
    rc = kafka_apply_properties(conf, config->properties, err);
    if (rc == 0)
        rc = kafka_set_property(conf, "bootstrap.servers", config->brokers, err);
    if (rc == 0)
        rc = kafka_set_property(conf, "statistics.interval.ms", stats, err);
    if (rc == 0)
        rc = kafka_set_property(conf, "log.queue", "true", err);
    /* Partitions are assigned by hand, so the group id is never sent to the brokers. */
    if (rc == 0)
        rc = kafka_set_default(conf, config->properties, "group.id", client_id, err);
    if (rc == 0)
        rc = kafka_set_default(conf, config->properties, "client.id", client_id, err);
    if (rc == 0)
        rc = kafka_set_property(conf, "enable.auto.commit", "false", err);
    if (rc == 0)
        rc = kafka_set_property(conf, "enable.auto.offset.store", "false", err);
    if (rc == 0)
        rc = kafka_set_default(conf, config->properties, "auto.offset.reset", "earliest", err);
    if (rc == 0)
        rc = kafka_set_default(conf, config->properties, "log.connection.close", "false", err);
    free(client_id);

    if (rc < 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_stats_cb(conf, on_stats);
    rd_kafka_conf_set_log_cb(conf, on_log);
    return conf;
}

static int check_topic(const char *topic, lg_error *err)
{
    size_t len = strlen(topic);

    if (len == 0 || len > 249)
        return lg_error_set(err, "invalid topic \"%s\": a topic name has 1 to 249 characters", topic);
    if (strspn(topic, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != len)
        return lg_error_set(err, "invalid topic \"%s\": use letters, digits, '.', '_' and '-' only", topic);
    return 0;
}

static int check_config(const kafka_config *config, lg_error *err)
{
    if (config->brokers[strspn(config->brokers, " \t,")] == '\0')
        return lg_error_set(err, "brokers is empty: set it to one or more HOST:PORT, such as 127.0.0.1:9092");
    if (config->topics.count == 0)
        return lg_error_set(err, "topics is empty: list the Kafka topics to read");
    for (size_t i = 0; i < config->topics.count; i++) {
        if (check_topic(config->topics.items[i], err) < 0)
            return -1;
    }
    if (config->channel == NULL && config->channel_field == NULL)
        return lg_error_set(err, "neither channel nor channel_field is set: set channel to a name or template "
                            "such as \"orders.{key}\"");
    if (config->channel != NULL && kafka_route_check_template(config->channel, err) < 0)
        return lg_error_prefix(err, "invalid channel \"%s\"", config->channel);
    if (kafka_route_uses_key(config->channel) && !config->use_key)
        return lg_error_set(err, "channel \"%s\" uses {key}, but use_key is false", config->channel);
    if (config->produce_topic != NULL && check_topic(config->produce_topic, err) < 0)
        return lg_error_prefix(err, "produce_topic");
    if (config->start == START_LAST && config->start_last <= 0)
        return lg_error_set(err, "start is last, but start_last is not set: set how many records per partition "
                            "to read back, such as 1000");
    if (config->start == START_TIME && config->start_time == NULL)
        return lg_error_set(err, "start is time, but start_time is not set: set it to an RFC 3339 time such as "
                            "\"2026-12-04T10:00:00Z\"");
    return 0;
}

/* Plugin callbacks */

static void kafka_state_free(kafka_state *state)
{
    if (state->conf != NULL)
        rd_kafka_conf_destroy(state->conf);
    if (state->producer_conf != NULL)
        rd_kafka_conf_destroy(state->producer_conf);
    if (state->read_conf != NULL)
        rd_kafka_conf_destroy(state->read_conf);
    for (size_t i = 0; state->topics != NULL && i < state->config->topics.count; i++) {
        free(state->topics[i].first_read);
        free(state->topics[i].next_read);
    }
    free(state->topics);
    free(state->found);
    free(state->broker_problem);
    free(state->health_reason);
    free(state);
}

static int kafka_init(lg_instance *instance, void *config_ptr, lg_error *err)
{
    const kafka_config *config = config_ptr;
    kafka_state *state;
    char *client_id;

    if (check_config(config, err) < 0)
        return -1;

    state = lg_calloc(1, sizeof(*state));
    state->instance = instance;
    state->config = config;
    state->brokers_up = -1;
    state->health = LG_HEALTH_OK;
    state->start_time_ms = -1;
    if (config->start == START_TIME && kafka_parse_start_time(config->start_time, &state->start_time_ms, err) < 0) {
        free(state);
        return -1;
    }
    state->wake_pipe[0] = state->wake_pipe[1] = -1;
    state->discovery_pipe[0] = state->discovery_pipe[1] = -1;
    state->topics = lg_calloc(config->topics.count, sizeof(*state->topics));
    state->found = lg_calloc(config->topics.count, sizeof(*state->found));
    for (size_t i = 0; i < config->topics.count; i++)
        state->found[i].partitions = -1;

    state->conf = build_conf(instance, config, err);
    if (state->conf == NULL) {
        kafka_state_free(state);
        return -1;
    }
    rd_kafka_conf_set_opaque(state->conf, state);
    state->read_conf = rd_kafka_conf_dup(state->conf);
    state->rules = (kafka_record_rules){
        .channel = config->channel,
        .channel_field = config->channel_field,
        .use_key = config->use_key,
        .type_header = config->type_header,
    };

    /* Built now, while the properties in the config file are at hand. */
    client_id = lg_sprintf("livegate-%s", lg_instance_name(instance));
    state->producer_conf = kafka_producer_conf(config->brokers, config->properties, client_id,
                                               config->produce_timeout_ms, err);
    free(client_id);
    if (state->producer_conf == NULL) {
        kafka_state_free(state);
        return lg_error_prefix(err, "producer");
    }
    lg_instance_set_data(instance, state);
    return 0;
}

/* Create the producer from the configuration built at init, once. */
static int ensure_producer(kafka_state *state, lg_error *err)
{
    const kafka_config *config = state->config;
    const char *topic = config->produce_topic != NULL ? config->produce_topic : config->topics.items[0];
    rd_kafka_conf_t *conf = state->producer_conf;

    if (state->producer != NULL)
        return 0;
    if (conf == NULL)
        return lg_error_set(err, "the Kafka producer could not be created earlier; see the log");

    state->producer_conf = NULL;
    state->producer = kafka_producer_new(conf, topic, config->type_header, lg_instance_base(state->instance),
                                         lg_instance_scope(state->instance), err);
    return state->producer != NULL ? 0 : -1;
}

static int kafka_produce(lg_instance *instance, const char *channel, const lg_event *event, lg_produce_done done,
                         void *arg, lg_error *err)
{
    kafka_state *state = lg_instance_data(instance);

    if (ensure_producer(state, err) < 0)
        return -1;
    return kafka_producer_send(state->producer, channel, event, done, arg, err);
}

/* Return the topic index and partition of LOG when this source reads it, or -1. */
static int find_log(const kafka_state *state, const char *log, size_t *index, int32_t *partition)
{
    const char *topic;
    size_t len;

    if (kafka_log_parse(log, &topic, &len, partition) < 0)
        return -1;
    for (size_t i = 0; i < state->config->topics.count; i++) {
        const char *name = state->config->topics.items[i];

        if (strlen(name) == len && strncmp(name, topic, len) == 0 && *partition < state->topics[i].assigned) {
            *index = i;
            return 0;
        }
    }
    return -1;
}

static int kafka_log_range(lg_instance *instance, const char *log, int64_t *first, int64_t *next)
{
    kafka_state *state = lg_instance_data(instance);
    int32_t partition;
    size_t i;

    if (state == NULL || state->kafka == NULL || find_log(state, log, &i, &partition) < 0)
        return -1;
    if (state->topics[i].first_read[partition] < 0)
        return -1;
    *first = state->topics[i].first_read[partition];
    *next = state->topics[i].next_read[partition];
    return 0;
}

static int kafka_read_range(lg_instance *instance, const char *channel, const char *log, int64_t from, int64_t to,
                            lg_read_done done, void *arg, lg_error *err)
{
    kafka_state *state = lg_instance_data(instance);
    int32_t partition;
    size_t i;

    if (state == NULL || state->read_backs == NULL || find_log(state, log, &i, &partition) < 0)
        return lg_error_set(err, "this source does not read %s", log);
    return kafka_read_back_start(state->read_backs, channel, state->config->topics.items[i], partition, from, to,
                                 done, arg, err);
}

static int open_pipe(int fds[2], const char *what, lg_error *err)
{
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
        return lg_error_set(err, "cannot create the %s pipe: %s", what, strerror(errno));
    return 0;
}

static int watch_pipe(kafka_state *state, struct event **event, int fd, event_callback_fn callback, lg_error *err)
{
    *event = event_new(lg_instance_base(state->instance), fd, EV_READ | EV_PERSIST, callback, state);
    if (*event == NULL || event_add(*event, NULL) < 0)
        return lg_error_set(err, "cannot watch a pipe in the event loop");
    return 0;
}

static int create_consumer(kafka_state *state, lg_error *err)
{
    char reason[512];

    state->kafka = rd_kafka_new(RD_KAFKA_CONSUMER, state->conf, reason, sizeof(reason));
    if (state->kafka == NULL)
        return lg_error_set(err, "cannot create the Kafka consumer: %s", reason);
    state->conf = NULL; /* rd_kafka_new took it */

    rd_kafka_set_log_queue(state->kafka, NULL);
    rd_kafka_poll_set_consumer(state->kafka);
    state->queue = rd_kafka_queue_get_consumer(state->kafka);
    rd_kafka_queue_io_event_enable(state->queue, state->wake_pipe[1], "1", 1);
    return 0;
}

static int kafka_start(lg_instance *instance, lg_error *err)
{
    kafka_state *state = lg_instance_data(instance);
    const kafka_config *config = state->config;

    if (open_pipe(state->wake_pipe, "wake-up", err) < 0 || open_pipe(state->discovery_pipe, "discovery", err) < 0)
        return -1;
    if (create_consumer(state, err) < 0)
        return -1;

    kafka_read_back_limits limits = {
        .max_records = config->max_read_back,
        .timeout_ms = config->read_back_timeout_ms,
        .max_running = config->max_read_backs,
    };
    state->read_backs = kafka_read_backs_new(state->read_conf, &state->rules, &limits, lg_instance_base(instance),
                                             lg_instance_scope(instance));
    state->read_conf = NULL;

    state->more_event = event_new(lg_instance_base(instance), -1, 0, on_more, state);
    if (state->more_event == NULL)
        return lg_error_set(err, "cannot create the drain event");
    if (watch_pipe(state, &state->wake_event, state->wake_pipe[0], on_wake, err) < 0 ||
        watch_pipe(state, &state->discovery_event, state->discovery_pipe[0], on_discovery, err) < 0)
        return -1;

    state->discovery = kafka_discovery_start(state->kafka, &config->topics, config->metadata_refresh_ms,
                                             state->start_time_ms, state->discovery_pipe[1], err);
    if (state->discovery == NULL)
        return -1;

    /* The producer connects and gets its producer id now, not on the first publish. */
    if (lg_instance_is_produce_target(instance) && ensure_producer(state, err) < 0)
        return -1;

    lg_buf topic_list = LG_BUF_INIT;
    for (size_t i = 0; i < config->topics.count; i++)
        lg_buf_printf(&topic_list, "%s%s", i > 0 ? ", " : "", config->topics.items[i]);
    LG_LOG_INFO(lg_instance_scope(instance), "reading %s %s from %s, starting at %s",
                config->topics.count == 1 ? "topic" : "topics", topic_list.data, config->brokers,
                start_names[config->start]);
    lg_buf_free(&topic_list);
    update_health(state);
    drain(state);
    return 0;
}

static void close_pipe(int fds[2])
{
    for (int i = 0; i < 2; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}

static void free_event(struct event **event)
{
    if (*event != NULL)
        event_free(*event);
    *event = NULL;
}

static void kafka_stop(lg_instance *instance)
{
    kafka_state *state = lg_instance_data(instance);

    if (state == NULL || state->kafka == NULL)
        return;

    kafka_read_backs_free(state->read_backs);
    state->read_backs = NULL;
    kafka_discovery_stop(state->discovery);
    state->discovery = NULL;
    kafka_producer_free(state->producer);
    state->producer = NULL;
    rd_kafka_queue_io_event_enable(state->queue, -1, NULL, 0);
    rd_kafka_consumer_close(state->kafka);
    rd_kafka_queue_destroy(state->queue);
    rd_kafka_destroy(state->kafka);
    state->queue = NULL;
    state->kafka = NULL;

    free_event(&state->wake_event);
    free_event(&state->discovery_event);
    free_event(&state->more_event);
    close_pipe(state->wake_pipe);
    close_pipe(state->discovery_pipe);
    LG_LOG_INFO(lg_instance_scope(instance), "stopped reading from %s", state->config->brokers);
}

static void kafka_destroy(lg_instance *instance)
{
    kafka_state *state = lg_instance_data(instance);

    if (state == NULL)
        return;
    kafka_stop(instance);
    kafka_state_free(state);
    lg_instance_set_data(instance, NULL);
}

/* Option table and descriptor */

static const lg_option kafka_options[] = {
    {
        .name = "brokers",
        .type = LG_OPT_STRING,
        .offset = LG_OPT_FIELD(kafka_config, brokers),
        .flags = LG_OPT_REQUIRED,
        .description = "Bootstrap brokers, as \"host:port,host:port\".",
    },
    {
        .name = "topics",
        .type = LG_OPT_STRING_LIST,
        .offset = LG_OPT_FIELD(kafka_config, topics),
        .flags = LG_OPT_REQUIRED,
        .description = "Topics to read. Every partition of each is read by every livegate node; partitions "
                       "added later are found within metadata_refresh and read from their first record.",
    },
    {
        .name = "channel",
        .type = LG_OPT_STRING,
        .offset = LG_OPT_FIELD(kafka_config, channel),
        .description = "Channel of each record: a name, or a template with {topic}, {partition} and {key} (the "
                       "record key), such as \"orders.{key}\". To route with a script, name one channel here "
                       "and let its script emit into others.",
    },
    {
        .name = "channel_field",
        .type = LG_OPT_STRING,
        .offset = LG_OPT_FIELD(kafka_config, channel_field),
        .description = "Top-level field of the record's JSON value whose string names its channel. Records "
                       "without it go to channel, or are skipped and counted when channel is not set.",
    },
    {
        .name = "start",
        .type = LG_OPT_ENUM,
        .offset = LG_OPT_FIELD(kafka_config, start),
        .default_value = "latest",
        .choices = start_names,
        .description = "Where reading starts: latest (records produced from now on), earliest (everything "
                       "the topic still holds), last (the last start_last records of each partition, so "
                       "history is warm after a start), or time (the first record at or after start_time).",
    },
    {
        .name = "start_last",
        .type = LG_OPT_INT,
        .offset = LG_OPT_FIELD(kafka_config, start_last),
        .default_value = "0",
        .min = 0,
        .max = 100000000,
        .description = "Records per partition read back with start: last.",
    },
    {
        .name = "start_time",
        .type = LG_OPT_STRING,
        .offset = LG_OPT_FIELD(kafka_config, start_time),
        .description = "With start: time, an RFC 3339 time with its zone (\"2026-12-04T10:00:00Z\") or Unix "
                       "milliseconds; each partition is read from its first record at or after it, or from "
                       "its end when it has none.",
    },
    {
        .name = "use_key",
        .type = LG_OPT_BOOL,
        .offset = LG_OPT_FIELD(kafka_config, use_key),
        .default_value = "true",
        .description = "Use the record key as the event key (for keyed snapshots and conflation).",
    },
    {
        .name = "type_header",
        .type = LG_OPT_STRING,
        .offset = LG_OPT_FIELD(kafka_config, type_header),
        .description = "Record header whose value becomes the event type (the SSE event name).",
    },
    {
        .name = "properties",
        .type = LG_OPT_NODE,
        .offset = LG_OPT_FIELD(kafka_config, properties),
        .description = "librdkafka properties passed as they are, such as security.protocol, sasl.mechanisms, "
                       "sasl.username, sasl.password (use ${ENV}), ssl.ca.location or fetch.max.bytes. Values "
                       "of properties whose names contain password, secret, key, jaas or token are never "
                       "shown in messages.",
    },
    {
        .name = "produce_topic",
        .type = LG_OPT_STRING,
        .offset = LG_OPT_FIELD(kafka_config, produce_topic),
        .description = "Topic that events published through the admin API into a channel whose rule has "
                       "publish_via naming this source are written to (the first of topics when unset). Each "
                       "record carries the event's key, its channel in the header livegate-channel (which "
                       "brings it back into that channel) and its type in type_header.",
    },
    {
        .name = "produce_timeout",
        .type = LG_OPT_DURATION,
        .offset = LG_OPT_FIELD(kafka_config, produce_timeout_ms),
        .default_value = "5s",
        .min = 100,
        .max = 300000,
        .description = "Longest wait for Kafka to acknowledge an event written for the admin API (acks from "
                       "every in-sync replica); after it the API answers 503.",
    },
    {
        .name = "max_read_back",
        .type = LG_OPT_INT,
        .offset = LG_OPT_FIELD(kafka_config, max_read_back),
        .default_value = "100000",
        .min = 0,
        .max = 100000000,
        .description = "Most offsets of one partition that a resume may read back from Kafka when the client's "
                       "last id is older than the channel's history; a client further behind gets the reset. "
                       "0 turns read-backs off.",
    },
    {
        .name = "read_back_timeout",
        .type = LG_OPT_DURATION,
        .offset = LG_OPT_FIELD(kafka_config, read_back_timeout_ms),
        .default_value = "10s",
        .min = 100,
        .max = 600000,
        .description = "Maximum time a read-back may take; after it the resuming client gets the reset.",
    },
    {
        .name = "max_read_backs",
        .type = LG_OPT_INT,
        .offset = LG_OPT_FIELD(kafka_config, max_read_backs),
        .default_value = "4",
        .min = 1,
        .max = 1000,
        .description = "Read-backs running at once, each with its own Kafka consumer. More wait for a free "
                       "one, within their read_back_timeout.",
    },
    {
        .name = "metadata_refresh",
        .type = LG_OPT_DURATION,
        .offset = LG_OPT_FIELD(kafka_config, metadata_refresh_ms),
        .default_value = "30s",
        .min = 1000,
        .max = 3600000,
        .description = "Time between two checks for partitions added to the topics (every second while a "
                       "topic cannot be found).",
    },
    {
        .name = "stats_interval",
        .type = LG_OPT_DURATION,
        .offset = LG_OPT_FIELD(kafka_config, stats_interval_ms),
        .default_value = "2s",
        .min = 100,
        .max = 600000,
        .description = "Time between two updates of the consumer lag in /metrics and of the health from the "
                       "broker states.",
    },
    {
        .name = "max_batch",
        .type = LG_OPT_INT,
        .offset = LG_OPT_FIELD(kafka_config, max_batch),
        .default_value = "1000",
        .min = 1,
        .max = 1000000,
        .description = "Records handled in one turn of the event loop before other work gets its turn.",
    },
    {0},
};

const lg_plugin livegate_plugin = {
    .abi_version = LG_PLUGIN_ABI_VERSION,
    .name = "kafka",
    .kind = LG_PLUGIN_SOURCE,
    .description = "Reads every partition of Kafka topics into channels.",
    .options = kafka_options,
    .config_size = sizeof(kafka_config),
    .init = kafka_init,
    .start = kafka_start,
    .stop = kafka_stop,
    .destroy = kafka_destroy,
    .produce = kafka_produce,
    .log_range = kafka_log_range,
    .read_range = kafka_read_range,
};
