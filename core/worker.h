/* Worker threads: each runs its own event loop and owns the client connections it accepted. */
#ifndef LG_WORKER_H
#define LG_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "channel.h"
#include "error.h"
#include "event.h"
#include "http.h"
#include "mailbox.h"
#include "rules.h"

struct lg_hub;
struct lg_address_limit;
struct lg_stream;
struct lg_local_channel;

/* Settings shared read-only by all workers. */
typedef struct lg_worker_settings {
    /* The channel rules in force. The hub swaps the pointer on reload and
     * frees the old rules only after every worker has passed a barrier, so a
     * worker reads it afresh in each callback and never keeps it. */
    _Atomic(const lg_ruleset *) ruleset;
    size_t client_queue_bytes;
    size_t max_subscriptions;
    int64_t flush_timeout_ms; /* how long a closing stream may take to send what it has queued */
    int64_t send_timeout_ms;  /* a stream without write progress for this long is closed */
    struct lg_address_limit *address_limit;
} lg_worker_settings;

/* Counters a worker updates and /metrics reads from another thread. */
typedef struct lg_worker_stats {
    atomic_uint_fast64_t streams[LG_FORMAT_MAX]; /* open streams per wire format */
    atomic_uint_fast64_t streams_total[LG_FORMAT_MAX];
    atomic_int_fast64_t queued_bytes;
    atomic_uint_fast64_t events_out;
    atomic_uint_fast64_t dropped[LG_DROP_REASON_COUNT];
} lg_worker_stats;

typedef struct lg_worker {
    size_t index;
    pthread_t thread;
    int thread_started;
    struct event_base *base;
    lg_mailbox mailbox; /* from the hub */
    struct lg_hub *hub;
    lg_http_server *http;
    const lg_worker_settings *settings;

    struct lg_stream *streams;                /* uthash by id */
    struct lg_local_channel *local_channels;  /* uthash by channel pointer */
    TAILQ_HEAD(, lg_stream) closed_streams;   /* waiting to be freed */
    TAILQ_HEAD(, lg_stream) dirty_streams;    /* got data this loop turn */
    struct event *reaper;
    uint64_t next_stream_id;
    uint64_t next_request_id;

    int stopping;
    struct event *stop_timer;

    lg_worker_stats stats;
} lg_worker;

/* Create worker INDEX with its event base and a public HTTP server on
 * LISTEN_FD (taken over). Returns NULL with ERR set on failure. */
lg_worker *lg_worker_new(size_t index, struct lg_hub *hub, const lg_worker_settings *settings,
                         evutil_socket_t listen_fd, const lg_http_routes *routes, const lg_http_limits *limits,
                         atomic_size_t *open_connections, lg_error *err);

/* Start the worker's thread. Returns 0, or -1 with ERR set. */
int lg_worker_start(lg_worker *worker, lg_error *err);

/* Wait for the thread to end and free the worker. */
void lg_worker_free(lg_worker *worker);

/* Post MESSAGE to the worker (from the hub thread). */
void lg_worker_post(lg_worker *worker, lg_message *message);

#endif
