/* Read-backs: each one a consumer assigned to one partition at the first
 * offset of its range, served on the main loop like the source's own
 * consumer. librdkafka's consumer_close and destroy wait for its threads,
 * so a finished consumer is closed on a thread of its own rather than
 * stalling the main loop. Those threads are joined when the source stops. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "log.h"
#include "names.h"
#include "properties.h"
#include "rdkafka_glue.h"
#include "read_back.h"

typedef struct kafka_read_back kafka_read_back;

/* A consumer being closed on its own thread. */
typedef struct kafka_closing {
    pthread_t thread;
    rd_kafka_t *kafka;
    kafka_read_back *back; /* the consumer's opaque, freed after it */
    struct kafka_closing *next;
} kafka_closing;

struct kafka_read_backs {
    rd_kafka_conf_t *conf;
    const kafka_record_rules *rules;
    kafka_read_back_limits limits;
    struct event_base *base;
    char *scope;
    kafka_read_back *running;
    size_t running_count;
    kafka_read_back *queued; /* waiting for one of the max_running slots, oldest first */
    kafka_closing *closing;
};

struct kafka_read_back {
    kafka_read_backs *owner;
    char *scope; /* for librdkafka's callbacks, which may outlive OWNER's use of this read-back */
    rd_kafka_t *kafka;
    rd_kafka_queue_t *queue;
    int pipe[2];
    struct event *wake;
    struct event *timer;
    char *channel;
    char *topic;
    int32_t partition;
    int64_t from;
    int64_t to;
    lg_event_list events;
    lg_read_done done;
    void *arg;
    int opened; /* has its consumer; else still queued */
    kafka_read_back *next;
};

static int open_back(kafka_read_backs *backs, kafka_read_back *back, lg_error *err);
static void discard_back_events(kafka_read_back *back);
static void discard_back(kafka_read_back *back);

static void on_back_error(rd_kafka_t *kafka, int code, const char *reason, void *opaque)
{
    kafka_read_back *back = opaque;

    if (code != RD_KAFKA_RESP_ERR__TRANSPORT && code != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        LG_LOG_WARN(back->scope, "read-back of %s/%d: %s: %s", back->topic, (int)back->partition,
                    rd_kafka_err2name((rd_kafka_resp_err_t)code), reason);
}

static void on_back_log(const rd_kafka_t *kafka, int level, const char *facility, const char *message)
{
    kafka_read_back *back = rd_kafka_opaque(kafka);

    kafka_log_line(back->scope, "librdkafka read-back", level, facility, message);
}

static void *close_consumer(void *arg)
{
    kafka_closing *closing = arg;

    rd_kafka_consumer_close(closing->kafka);
    rd_kafka_destroy(closing->kafka);
    free(closing->back->scope);
    free(closing->back->topic);
    free(closing->back);
    return NULL;
}

/* Hand BACK's consumer to a closing thread; BACK itself goes with it. */
static void retire_consumer(kafka_read_back *back)
{
    kafka_read_backs *owner = back->owner;
    kafka_closing *closing = lg_calloc(1, sizeof(*closing));

    closing->kafka = back->kafka;
    closing->back = back;
    if (pthread_create(&closing->thread, NULL, close_consumer, closing) != 0) {
        LG_LOG_WARN(owner->scope, "cannot start a thread to close a read-back consumer: %s; closing it here",
                    strerror(errno));
        close_consumer(closing);
        free(closing);
        return;
    }
    closing->next = owner->closing;
    owner->closing = closing;
}

static void unlink_back(kafka_read_back **list, kafka_read_back *back)
{
    while (*list != back)
        list = &(*list)->next;
    *list = back->next;
}

static void finish(kafka_read_back *back, const char *error);

/* Open the oldest queued read-backs while slots are free. */
static void start_queued(kafka_read_backs *owner)
{
    while (owner->queued != NULL && (int64_t)owner->running_count < owner->limits.max_running) {
        kafka_read_back *back = owner->queued;
        lg_error err;

        owner->queued = back->next;
        back->next = owner->running;
        owner->running = back;
        owner->running_count++;
        back->opened = 1;
        if (open_back(owner, back, &err) < 0)
            finish(back, err.message);
    }
}

/* Call DONE with the events or ERROR, free what the main loop owned, and
 * start a queued read-back in the freed slot. */
static void finish(kafka_read_back *back, const char *error)
{
    kafka_read_backs *owner = back->owner;

    if (back->opened) {
        unlink_back(&owner->running, back);
        owner->running_count--;
    } else {
        unlink_back(&owner->queued, back);
    }

    if (error != NULL)
        LG_LOG_WARN(owner->scope, "read-back of offsets %lld to %lld of %s/%d for channel '%s' failed: %s",
                    (long long)back->from, (long long)back->to, back->topic, (int)back->partition, back->channel,
                    error);
    else
        LG_LOG_INFO(owner->scope, "read back offsets %lld to %lld of %s/%d: %zu records for channel '%s'",
                    (long long)back->from, (long long)back->to, back->topic, (int)back->partition,
                    back->events.count, back->channel);

    back->done(back->arg, back->events.items, error == NULL ? back->events.count : 0, error);
    if (error != NULL)
        lg_event_list_clear(&back->events);
    free(back->events.items);
    memset(&back->events, 0, sizeof(back->events));

    if (back->kafka == NULL) {
        discard_back(back);
    } else {
        rd_kafka_t *kafka = back->kafka;

        /* The consumer goes to its closing thread; the rest is freed here. */
        back->kafka = NULL;
        discard_back_events(back);
        back->kafka = kafka;
        retire_consumer(back);
    }
    start_queued(owner);
}

/* Keep the record of MESSAGE when it goes to the read-back's channel. */
static void keep_record(kafka_read_back *back, rd_kafka_message_t *message)
{
    kafka_record record;
    lg_event *event;
    lg_error err;

    if (kafka_record_read(back->owner->rules, message, &record, &err) < 0 ||
        strcmp(record.channel.data, back->channel) != 0 ||
        (record.has_type && lg_event_type_check(record.type.data, &err) < 0) ||
        (record.key != NULL && lg_event_key_check(record.key, &err) < 0)) {
        kafka_record_clear(&record);
        return;
    }

    event = lg_event_new(record.key, record.has_type ? record.type.data : NULL, record.value, record.value_len,
                         record.time_ms);
    if (lg_event_set_origin(event, record.origin, 1, &err) < 0)
        lg_event_unref(event);
    else
        lg_event_list_push(&back->events, event);
    kafka_record_clear(&record);
}

/* Handle one message; return 1 when the read-back is finished. */
static int handle(kafka_read_back *back, rd_kafka_message_t *message)
{
    char reason[512];

    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (message->offset > back->to) {
            finish(back, NULL);
            return 1;
        }
        keep_record(back, message);
        if (message->offset == back->to) {
            finish(back, NULL);
            return 1;
        }
        return 0;
    }
    /* The end of the partition: offsets left in the range hold no record
     * (transaction markers, compaction). */
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        finish(back, NULL);
        return 1;
    }

    snprintf(reason, sizeof(reason), "%s (%s)", rd_kafka_message_errstr(message), rd_kafka_err2name(message->err));
    finish(back, reason);
    return 1;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    kafka_read_back *back = arg;
    rd_kafka_message_t *message;

    kafka_drain_pipe(fd);
    while ((message = rd_kafka_consumer_poll(back->kafka, 0)) != NULL) {
        int finished = handle(back, message);

        rd_kafka_message_destroy(message);
        if (finished)
            return;
    }
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    kafka_read_back *back = arg;
    char reason[128];

    snprintf(reason, sizeof(reason), "timed out after %lld ms (read_back_timeout)",
             (long long)back->owner->limits.timeout_ms);
    finish(back, reason);
}

static rd_kafka_conf_t *back_conf(kafka_read_backs *backs, kafka_read_back *back, lg_error *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_dup(backs->conf);

    /* A range that Kafka no longer contains is an error, never a silent jump. */
    if (kafka_set_property(conf, "auto.offset.reset", "error", err) < 0 ||
        kafka_set_property(conf, "enable.partition.eof", "true", err) < 0 ||
        kafka_set_property(conf, "statistics.interval.ms", "0", err) < 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, back);
    rd_kafka_conf_set_error_cb(conf, on_back_error);
    rd_kafka_conf_set_stats_cb(conf, NULL);
    rd_kafka_conf_set_log_cb(conf, on_back_log);
    return conf;
}

/* Create BACK's consumer, pipe and events, and assign its partition. */
static int open_back(kafka_read_backs *backs, kafka_read_back *back, lg_error *err)
{
    rd_kafka_conf_t *conf = back_conf(backs, back, err);
    rd_kafka_topic_partition_list_t *list;
    rd_kafka_resp_err_t code;
    char reason[512];

    if (conf == NULL)
        return -1;
    back->kafka = rd_kafka_new(RD_KAFKA_CONSUMER, conf, reason, sizeof(reason));
    if (back->kafka == NULL) {
        rd_kafka_conf_destroy(conf);
        return lg_error_set(err, "cannot create a read-back consumer: %s", reason);
    }
    rd_kafka_set_log_queue(back->kafka, NULL);
    rd_kafka_poll_set_consumer(back->kafka);
    back->queue = rd_kafka_queue_get_consumer(back->kafka);

    if (pipe2(back->pipe, O_NONBLOCK | O_CLOEXEC) < 0)
        return lg_error_set(err, "cannot create a read-back pipe: %s", strerror(errno));
    rd_kafka_queue_io_event_enable(back->queue, back->pipe[1], "1", 1);
    back->wake = event_new(backs->base, back->pipe[0], EV_READ | EV_PERSIST, on_wake, back);
    event_add(back->wake, NULL);

    list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, back->topic, back->partition)->offset = back->from;
    code = rd_kafka_assign(back->kafka, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR)
        return lg_error_set(err, "cannot assign %s/%d to a read-back consumer: %s", back->topic, (int)back->partition,
                            rd_kafka_err2str(code));
    return 0;
}

/* Free the queue, events, pipe and channel name of BACK, what the main loop owns. */
static void discard_back_events(kafka_read_back *back)
{
    if (back->queue != NULL) {
        rd_kafka_queue_io_event_enable(back->queue, -1, NULL, 0);
        rd_kafka_queue_destroy(back->queue);
        back->queue = NULL;
    }
    if (back->wake != NULL)
        event_free(back->wake);
    if (back->timer != NULL)
        event_free(back->timer);
    back->wake = back->timer = NULL;
    if (back->pipe[0] >= 0) {
        close(back->pipe[0]);
        close(back->pipe[1]);
    }
    back->pipe[0] = back->pipe[1] = -1;
    lg_event_list_clear(&back->events);
    free(back->channel);
    back->channel = NULL;
}

/* Free BACK, which has no consumer or whose consumer never started. */
static void discard_back(kafka_read_back *back)
{
    discard_back_events(back);
    if (back->kafka != NULL)
        rd_kafka_destroy(back->kafka);
    free(back->topic);
    free(back->scope);
    free(back);
}

int kafka_read_back_start(kafka_read_backs *backs, const char *channel, const char *topic, int32_t partition,
                          int64_t from, int64_t to, lg_read_done done, void *arg, lg_error *err)
{
    struct timeval timeout = {backs->limits.timeout_ms / 1000, (backs->limits.timeout_ms % 1000) * 1000};
    kafka_read_back *back;
    kafka_read_back **tail;

    if (from < 0 || to < from)
        return lg_error_set(err, "invalid read-back range %lld to %lld", (long long)from, (long long)to);
    if (backs->limits.max_records == 0)
        return lg_error_set(err, "read-backs are off (max_read_back is 0)");
    if (to - from + 1 > backs->limits.max_records)
        return lg_error_set(err, "the resume needs offsets %lld to %lld of %s/%d, more than max_read_back (%lld)",
                            (long long)from, (long long)to, topic, (int)partition,
                            (long long)backs->limits.max_records);

    back = lg_calloc(1, sizeof(*back));
    back->owner = backs;
    back->scope = lg_strdup(backs->scope);
    back->channel = lg_strdup(channel);
    back->topic = lg_strdup(topic);
    back->partition = partition;
    back->from = from;
    back->to = to;
    back->done = done;
    back->arg = arg;
    back->pipe[0] = back->pipe[1] = -1;

    /* The timeout counts from now, so a read-back that waits for a slot
     * still ends within read_back_timeout. */
    back->timer = evtimer_new(backs->base, on_timeout, back);
    evtimer_add(back->timer, &timeout);

    for (tail = &backs->queued; *tail != NULL; tail = &(*tail)->next)
        ;
    *tail = back;
    if ((int64_t)backs->running_count >= backs->limits.max_running)
        LG_LOG_INFO(backs->scope, "read-back of offsets %lld to %lld of %s/%d for channel '%s' waits for one of "
                    "max_read_backs (%lld) to finish", (long long)from, (long long)to, topic, (int)partition,
                    channel, (long long)backs->limits.max_running);
    else
        LG_LOG_INFO(backs->scope, "reading offsets %lld to %lld of %s/%d back for a resume of channel '%s'",
                    (long long)from, (long long)to, topic, (int)partition, channel);
    start_queued(backs);
    return 0;
}

kafka_read_backs *kafka_read_backs_new(rd_kafka_conf_t *conf, const kafka_record_rules *rules,
                                       const kafka_read_back_limits *limits, struct event_base *base,
                                       const char *scope)
{
    kafka_read_backs *backs = lg_calloc(1, sizeof(*backs));

    backs->conf = conf;
    backs->rules = rules;
    backs->limits = *limits;
    backs->base = base;
    backs->scope = lg_strdup(scope);
    return backs;
}

void kafka_read_backs_free(kafka_read_backs *backs)
{
    if (backs == NULL)
        return;
    /* Queued ones first, so that finishing a running one starts none. */
    while (backs->queued != NULL)
        finish(backs->queued, "the source stopped");
    while (backs->running != NULL)
        finish(backs->running, "the source stopped");
    while (backs->closing != NULL) {
        kafka_closing *closing = backs->closing;

        backs->closing = closing->next;
        pthread_join(closing->thread, NULL);
        free(closing);
    }
    rd_kafka_conf_destroy(backs->conf);
    free(backs->scope);
    free(backs);
}
