/* Partition discovery: a thread that requests the partition count of each topic from the brokers.
 *
 * rd_kafka_metadata blocks until the brokers answer, so it runs here rather
 * than on the main thread; results are handed over under a mutex and
 * announced by a byte on a pipe that the main event loop watches. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "discovery.h"

#define METADATA_TIMEOUT_MS 2000
#define TIME_LOOKUP_TIMEOUT_MS 5000
#define RETRY_MS 1000

struct kafka_discovery {
    rd_kafka_t *kafka;
    const lg_string_list *topics;
    int64_t refresh_ms;
    int notify_fd;

    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    kafka_topic_found *found; /* one per topic, under LOCK */

    int64_t start_time_ms;   /* -1: no lookup by time */
    int64_t **time_offsets;  /* per topic, NULL until looked up, under LOCK */
    int *time_offset_counts; /* partitions in each of them */
};

/* Request TOPIC's metadata into RESULT. */
static void request_topic(rd_kafka_t *kafka, const char *topic, kafka_topic_found *result)
{
    rd_kafka_topic_t *handle = rd_kafka_topic_new(kafka, topic, NULL);
    const struct rd_kafka_metadata *metadata = NULL;
    rd_kafka_resp_err_t rc;

    memset(result, 0, sizeof(*result));
    result->partitions = -1;
    if (handle == NULL) {
        snprintf(result->error, sizeof(result->error), "cannot create a topic handle: %s",
                 rd_kafka_err2str(rd_kafka_last_error()));
        return;
    }

    rc = rd_kafka_metadata(kafka, 0, handle, &metadata, METADATA_TIMEOUT_MS);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(result->error, sizeof(result->error), "metadata request failed: %s", rd_kafka_err2str(rc));
    } else if (metadata->topic_cnt != 1 || metadata->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(result->error, sizeof(result->error), "%s",
                 metadata->topic_cnt == 1 ? rd_kafka_err2str(metadata->topics[0].err) : "no metadata for the topic");
        result->missing = metadata->topic_cnt == 1 &&
                          metadata->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    } else {
        result->partitions = metadata->topics[0].partition_cnt;
    }

    if (metadata != NULL)
        rd_kafka_metadata_destroy(metadata);
    rd_kafka_topic_destroy(handle);
}

/* Store RESULT for topic I; return 1 when it differs from what was there. */
static int store(kafka_discovery *discovery, size_t i, const kafka_topic_found *result)
{
    int changed;

    pthread_mutex_lock(&discovery->lock);
    changed = memcmp(&discovery->found[i], result, sizeof(*result)) != 0;
    discovery->found[i] = *result;
    pthread_mutex_unlock(&discovery->lock);
    return changed;
}

static void notify(kafka_discovery *discovery)
{
    char byte = 1;

    /* A full pipe already contains a wake-up, so EAGAIN loses nothing. */
    while (write(discovery->notify_fd, &byte, 1) < 0 && errno == EINTR)
        continue;
}

/* Sleep MS milliseconds or until stopped. Returns 1 when stopping. */
static int pause_for(kafka_discovery *discovery, int64_t ms)
{
    struct timespec until;
    int stopping;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(ms / 1000);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }

    pthread_mutex_lock(&discovery->lock);
    while (!discovery->stopping && pthread_cond_timedwait(&discovery->wake, &discovery->lock, &until) != ETIMEDOUT)
        continue;
    stopping = discovery->stopping;
    pthread_mutex_unlock(&discovery->lock);
    return stopping;
}

/* Look up, for each of PARTITIONS partitions of topic I, the first offset at
 * or after the start time, and keep them for kafka_discovery_time_offset. */
static void look_up_start_time(kafka_discovery *discovery, size_t i, int partitions)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(partitions);
    int64_t *offsets = lg_calloc((size_t)partitions, sizeof(*offsets));
    rd_kafka_resp_err_t rc;

    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(list, discovery->topics->items[i], p)->offset = discovery->start_time_ms;

    rc = rd_kafka_offsets_for_times(discovery->kafka, list, TIME_LOOKUP_TIMEOUT_MS);
    for (int p = 0; p < partitions; p++) {
        const rd_kafka_topic_partition_t *found = &list->elems[p];

        offsets[p] = rc == RD_KAFKA_RESP_ERR_NO_ERROR && found->err == RD_KAFKA_RESP_ERR_NO_ERROR && found->offset >= 0
                         ? found->offset
                         : RD_KAFKA_OFFSET_END;
    }
    rd_kafka_topic_partition_list_destroy(list);

    pthread_mutex_lock(&discovery->lock);
    discovery->time_offsets[i] = offsets;
    discovery->time_offset_counts[i] = partitions;
    pthread_mutex_unlock(&discovery->lock);
}

static int needs_time_lookup(kafka_discovery *discovery, size_t i, const kafka_topic_found *result)
{
    int needed;

    if (discovery->start_time_ms < 0 || result->partitions <= 0)
        return 0;
    pthread_mutex_lock(&discovery->lock);
    needed = discovery->time_offsets[i] == NULL;
    pthread_mutex_unlock(&discovery->lock);
    return needed;
}

int64_t kafka_discovery_time_offset(kafka_discovery *discovery, size_t topic_index, int32_t partition)
{
    int64_t offset = RD_KAFKA_OFFSET_END;

    pthread_mutex_lock(&discovery->lock);
    if (discovery->time_offsets[topic_index] != NULL && partition < discovery->time_offset_counts[topic_index])
        offset = discovery->time_offsets[topic_index][partition];
    pthread_mutex_unlock(&discovery->lock);
    return offset;
}

static void *discovery_main(void *arg)
{
    kafka_discovery *discovery = arg;

    do {
        int changed = 0;
        int failing = 0;

        for (size_t i = 0; i < discovery->topics->count; i++) {
            kafka_topic_found result;

            request_topic(discovery->kafka, discovery->topics->items[i], &result);
            if (needs_time_lookup(discovery, i, &result))
                look_up_start_time(discovery, i, result.partitions);
            changed |= store(discovery, i, &result);
            failing |= result.partitions < 0;
        }
        if (changed)
            notify(discovery);
        if (pause_for(discovery, failing ? RETRY_MS : discovery->refresh_ms))
            break;
    } while (1);
    return NULL;
}

kafka_discovery *kafka_discovery_start(rd_kafka_t *kafka, const lg_string_list *topics, int64_t refresh_ms,
                                       int64_t start_time_ms, int notify_fd, lg_error *err)
{
    kafka_discovery *discovery = lg_calloc(1, sizeof(*discovery));
    int rc;

    discovery->kafka = kafka;
    discovery->topics = topics;
    discovery->refresh_ms = refresh_ms;
    discovery->notify_fd = notify_fd;
    discovery->found = lg_calloc(topics->count, sizeof(*discovery->found));
    discovery->start_time_ms = start_time_ms;
    discovery->time_offsets = lg_calloc(topics->count, sizeof(*discovery->time_offsets));
    discovery->time_offset_counts = lg_calloc(topics->count, sizeof(*discovery->time_offset_counts));
    for (size_t i = 0; i < topics->count; i++)
        discovery->found[i].partitions = -1;
    pthread_mutex_init(&discovery->lock, NULL);
    pthread_cond_init(&discovery->wake, NULL);

    rc = pthread_create(&discovery->thread, NULL, discovery_main, discovery);
    if (rc != 0) {
        lg_error_set(err, "cannot start the partition discovery thread: %s", strerror(rc));
        pthread_cond_destroy(&discovery->wake);
        pthread_mutex_destroy(&discovery->lock);
        free(discovery->time_offsets);
        free(discovery->time_offset_counts);
        free(discovery->found);
        free(discovery);
        return NULL;
    }
    return discovery;
}

void kafka_discovery_take(kafka_discovery *discovery, kafka_topic_found *found)
{
    pthread_mutex_lock(&discovery->lock);
    memcpy(found, discovery->found, discovery->topics->count * sizeof(*found));
    pthread_mutex_unlock(&discovery->lock);
}

void kafka_discovery_stop(kafka_discovery *discovery)
{
    if (discovery == NULL)
        return;

    pthread_mutex_lock(&discovery->lock);
    discovery->stopping = 1;
    pthread_cond_signal(&discovery->wake);
    pthread_mutex_unlock(&discovery->lock);

    pthread_join(discovery->thread, NULL);
    pthread_cond_destroy(&discovery->wake);
    pthread_mutex_destroy(&discovery->lock);
    for (size_t i = 0; i < discovery->topics->count; i++)
        free(discovery->time_offsets[i]);
    free(discovery->time_offsets);
    free(discovery->time_offset_counts);
    free(discovery->found);
    free(discovery);
}
