/* Load generator: shared types of the subscribers, the publisher and the run that drives them. */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>

#include "loadgen_histogram.h"

/* Server processes whose resident memory is summed (nginx's master and workers). */
#define LOADGEN_MAX_PIDS 16

/* Marker before the send time inside every published payload, in microseconds. */
#define LOADGEN_TIME_MARKER "\"sent_us\":"

typedef enum loadgen_transport {
    LOADGEN_SSE,
    LOADGEN_WEBSOCKET,
} loadgen_transport;

typedef struct loadgen_options {
    loadgen_transport transport;
    const char *subscribe_url;
    const char *publish_url;
    const char *ws_subscribe_message;
    const char *ready_text;
    const char *channel_prefix;
    int subscribers;
    int channels;
    long events;
    double rate;
    int size;
    int publishers;
    int connect_concurrency;
    double duration_s;
    double settle_s;
    double drain_s;
    double hold_s;
    pid_t server_pids[LOADGEN_MAX_PIDS];
    int server_pid_count;
} loadgen_options;

/* A loopback HTTP target: where to connect and the request target to send. */
typedef struct loadgen_target {
    struct sockaddr_in address;
    char *host_header;
    char *path;
} loadgen_target;

/* One channel: its name, where its subscribers connect and where events are published. */
typedef struct loadgen_channel {
    char *name;
    loadgen_target subscribe;
    loadgen_target publish;
    int subscribers;
    char *ws_subscribe_message;
} loadgen_channel;

typedef struct loadgen_subscriber loadgen_subscriber;
typedef struct loadgen_publisher loadgen_publisher;

typedef struct loadgen_run {
    struct event_base *base;
    const loadgen_options *options;
    loadgen_channel *channels;
    loadgen_subscriber **subscribers;
    loadgen_publisher *publisher;

    int started;
    int connected;
    int ready;
    int failed;
    int disconnected;
    char first_error[256];

    uint64_t expected;
    uint64_t delivered;
    uint64_t ignored_frames;
    int64_t first_publish_us;
    int64_t last_receive_us;
    loadgen_histogram latency;

    long rss_start_kib;
    long rss_connected_kib;
    long rss_peak_kib;
} loadgen_run;

/* Return the monotonic clock in microseconds. */
int64_t loadgen_now_us(void);

/* Record the first failure of the run as MESSAGE (printf format); later ones only count. */
void loadgen_run_fail(loadgen_run *run, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Open more subscribers while fewer than options->connect_concurrency
 * connections are in progress; subscribers call it whenever one of theirs
 * connects or fails. */
void loadgen_run_open_more(loadgen_run *run);

/* Parse URL (http:// or ws://, loopback hosts only) into TARGET. Returns 0, or
 * -1 with the reason in ERROR (ERROR_SIZE bytes). */
int loadgen_target_parse(const char *url, loadgen_target *target, char *error, size_t error_size);
void loadgen_target_free(loadgen_target *target);

/* Replace every "{channel}" in TEMPLATE with CHANNEL. Returns a new string. */
char *loadgen_expand(const char *template_text, const char *channel);

/* Open subscriber INDEX of CHANNEL: connect without blocking and send the
 * request once connected. Progress and failures are counted in RUN. */
loadgen_subscriber *loadgen_subscriber_open(loadgen_run *run, int index, loadgen_channel *channel);
void loadgen_subscriber_free(loadgen_subscriber *subscriber);

/* Create the publisher of RUN. It sends nothing before loadgen_publisher_start. */
loadgen_publisher *loadgen_publisher_new(loadgen_run *run);

/* Start publishing the run's events: at options->rate per second, or as fast
 * as the server acknowledges them when the rate is 0. */
void loadgen_publisher_start(loadgen_publisher *publisher);

/* Stop sending; requests in flight are still counted when they complete. */
void loadgen_publisher_stop(loadgen_publisher *publisher);

/* Return 1 once every event was sent and acknowledged, or the publisher stopped with none in flight. */
int loadgen_publisher_done(const loadgen_publisher *publisher);

long loadgen_publisher_published(const loadgen_publisher *publisher);
long loadgen_publisher_errors(const loadgen_publisher *publisher);
double loadgen_publisher_seconds(const loadgen_publisher *publisher);
void loadgen_publisher_free(loadgen_publisher *publisher);

/* Return the resident memory of the PIDS (COUNT of them) in KiB, summed, or
 * -1 when one of them cannot be read. */
long loadgen_rss_kib(const pid_t *pids, int count);

#endif
