/* Worker threads: an event loop, a public HTTP server and the streams it accepted. */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "hub.h"
#include "log.h"
#include "messages.h"
#include "stream_worker.h"
#include "worker.h"

static void lg_worker_handle_messages(struct lg_message_list *messages, void *arg);

static void lg_worker_on_reap(evutil_socket_t fd, short what, void *arg)
{
    lg_worker *worker = arg;

    lg_stream_reap(worker);
    if (worker->stopping && worker->streams == NULL)
        event_base_loopexit(worker->base, NULL);
}

static void lg_worker_on_stop_timeout(evutil_socket_t fd, short what, void *arg)
{
    lg_worker *worker = arg;
    size_t open = lg_stream_open_count(worker);

    if (open > 0)
        LG_LOG_WARN("worker", "worker %zu: %zu connections did not finish within the shutdown timeout, cutting them",
                    worker->index, open);
    lg_stream_close_all(worker);
    lg_stream_reap(worker);
    event_base_loopexit(worker->base, NULL);
}

lg_worker *lg_worker_new(size_t index, struct lg_hub *hub, const lg_worker_settings *settings,
                         evutil_socket_t listen_fd, const lg_http_routes *routes, const lg_http_limits *limits,
                         atomic_size_t *open_connections, lg_error *err)
{
    lg_worker *worker = lg_calloc(1, sizeof(*worker));
    char name[32];

    worker->index = index;
    worker->hub = hub;
    worker->settings = settings;
    TAILQ_INIT(&worker->closed_streams);
    TAILQ_INIT(&worker->dirty_streams);

    worker->base = event_base_new();
    if (worker->base == NULL) {
        evutil_closesocket(listen_fd);
        free(worker);
        lg_error_set(err, "worker %zu: event_base_new failed", index);
        return NULL;
    }

    worker->reaper = event_new(worker->base, -1, 0, lg_worker_on_reap, worker);
    if (lg_mailbox_init(&worker->mailbox, worker->base, lg_worker_handle_messages, worker, err) < 0) {
        evutil_closesocket(listen_fd);
        goto fail;
    }

    snprintf(name, sizeof(name), "public:%zu", index);
    worker->http = lg_http_server_new(worker->base, listen_fd, routes, limits, open_connections, name, err);
    if (worker->http == NULL)
        goto fail;
    lg_http_server_set_context(worker->http, worker);
    return worker;

fail:
    lg_worker_free(worker);
    return NULL;
}

static void *lg_worker_main(void *arg)
{
    lg_worker *worker = arg;
    lg_msg_worker_stopped *done;

    LG_LOG_DEBUG("worker", "worker %zu started", worker->index);
    event_base_dispatch(worker->base);

    if (worker->http != NULL) {
        lg_http_server_free(worker->http);
        worker->http = NULL;
    }
    LG_LOG_DEBUG("worker", "worker %zu stopped", worker->index);

    done = lg_calloc(1, sizeof(*done));
    done->header.type = LG_MSG_WORKER_STOPPED;
    done->worker = worker->index;
    lg_mailbox_post(&worker->hub->mailbox, &done->header);
    return NULL;
}

int lg_worker_start(lg_worker *worker, lg_error *err)
{
    sigset_t all;
    sigset_t previous;
    int rc;

    /* Signals are handled by the main thread's event loop only. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &previous);
    rc = pthread_create(&worker->thread, NULL, lg_worker_main, worker);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);

    if (rc != 0)
        return lg_error_set(err, "worker %zu: pthread_create failed: %s", worker->index, strerror(rc));
    worker->thread_started = 1;
    return 0;
}

void lg_worker_free(lg_worker *worker)
{
    if (worker == NULL)
        return;
    if (worker->thread_started)
        pthread_join(worker->thread, NULL);

    if (worker->http != NULL)
        lg_http_server_free(worker->http);
    lg_stream_close_all(worker);
    lg_stream_reap(worker);
    lg_mailbox_destroy(&worker->mailbox);
    if (worker->reaper != NULL)
        event_free(worker->reaper);
    if (worker->stop_timer != NULL)
        event_free(worker->stop_timer);
    if (worker->base != NULL)
        event_base_free(worker->base);
    free(worker);
}

void lg_worker_post(lg_worker *worker, lg_message *message)
{
    lg_mailbox_post(&worker->mailbox, message);
}

static void lg_worker_begin_stop(lg_worker *worker, int64_t timeout_ms)
{
    struct timeval timeout;

    if (worker->stopping)
        return;
    worker->stopping = 1;
    lg_http_server_stop_accepting(worker->http);
    lg_stream_shutdown_all(worker);

    timeout.tv_sec = (time_t)(timeout_ms / 1000);
    timeout.tv_usec = (suseconds_t)((timeout_ms % 1000) * 1000);
    worker->stop_timer = evtimer_new(worker->base, lg_worker_on_stop_timeout, worker);
    evtimer_add(worker->stop_timer, &timeout);
    event_active(worker->reaper, 0, 0);
}

static void lg_worker_release_message(lg_message *message)
{
    if (message->type == LG_MSG_EVENT) {
        lg_event_unref(((lg_msg_event *)message)->event);
    } else if (message->type == LG_MSG_SUBSCRIBED) {
        lg_msg_subscribed *reply = (lg_msg_subscribed *)message;

        for (size_t i = 0; i < reply->event_count; i++)
            lg_event_unref(reply->events[i]);
        free(reply->events);
        for (size_t i = 0; i < reply->count; i++)
            free(reply->results[i].error);
        free(reply->results);
    } else if (message->type == LG_MSG_GAP) {
        free(((lg_msg_gap *)message)->reason);
    }
    free(message);
}

static void lg_worker_handle_messages(struct lg_message_list *messages, void *arg)
{
    lg_worker *worker = arg;
    lg_message *message;

    while ((message = STAILQ_FIRST(messages)) != NULL) {
        STAILQ_REMOVE_HEAD(messages, next);
        switch (message->type) {
        case LG_MSG_EVENT:
            if (!worker->stopping)
                lg_stream_dispatch_event(worker, ((lg_msg_event *)message)->event);
            break;
        case LG_MSG_SUBSCRIBED:
            lg_stream_handle_subscribed(worker, (lg_msg_subscribed *)message);
            break;
        case LG_MSG_GAP:
            if (!worker->stopping)
                lg_stream_dispatch_gap(worker, ((lg_msg_gap *)message)->channel, ((lg_msg_gap *)message)->reason);
            break;
        case LG_MSG_SHUTDOWN:
            lg_worker_begin_stop(worker, ((lg_msg_shutdown *)message)->timeout_ms);
            break;
        case LG_MSG_BARRIER: {
            lg_msg_barrier *done = lg_calloc(1, sizeof(*done));

            done->header.type = LG_MSG_BARRIER_DONE;
            done->worker = worker->index;
            done->generation = ((lg_msg_barrier *)message)->generation;
            lg_mailbox_post(&worker->hub->mailbox, &done->header);
            break;
        }
        default:
            LG_LOG_ERROR("worker", "worker %zu: unexpected message type %d", worker->index, message->type);
            break;
        }
        lg_worker_release_message(message);
    }

    /* Every stream that got frames in this batch is written once. */
    lg_stream_flush_dirty(worker);
}
