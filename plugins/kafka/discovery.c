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

static void *discovery_main(void *arg)
{
    kafka_discovery *discovery = arg;

    do {
        int changed = 0;
        int failing = 0;

        for (size_t i = 0; i < discovery->topics->count; i++) {
            kafka_topic_found result;

            request_topic(discovery->kafka, discovery->topics->items[i], &result);
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
                                       int notify_fd, lg_error *err)
{
    kafka_discovery *discovery = lg_calloc(1, sizeof(*discovery));
    int rc;

    discovery->kafka = kafka;
    discovery->topics = topics;
    discovery->refresh_ms = refresh_ms;
    discovery->notify_fd = notify_fd;
    discovery->found = lg_calloc(topics->count, sizeof(*discovery->found));
    for (size_t i = 0; i < topics->count; i++)
        discovery->found[i].partitions = -1;
    pthread_mutex_init(&discovery->lock, NULL);
    pthread_cond_init(&discovery->wake, NULL);

    rc = pthread_create(&discovery->thread, NULL, discovery_main, discovery);
    if (rc != 0) {
        lg_error_set(err, "cannot start the partition discovery thread: %s", strerror(rc));
        pthread_cond_destroy(&discovery->wake);
        pthread_mutex_destroy(&discovery->lock);
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
    free(discovery->found);
    free(discovery);
}
