/* Entry points of the stream module for the worker thread that owns the streams. */
#ifndef LG_STREAM_WORKER_H
#define LG_STREAM_WORKER_H

#include "event.h"
#include "messages.h"
#include "worker.h"

/* Queue EVENT to every active subscription of its channel on WORKER. */
void lg_stream_dispatch_event(lg_worker *worker, lg_event *event);

/* Queue a gap notice with REASON to every subscriber of CHANNEL on WORKER. */
void lg_stream_dispatch_gap(lg_worker *worker, lg_channel *channel, const char *reason);

/* Complete a subscription with the hub's answer (takes over MSG's event references). */
void lg_stream_handle_subscribed(lg_worker *worker, lg_msg_subscribed *msg);

/* Move queued frames of the streams that got data this turn to their sockets. */
void lg_stream_flush_dirty(lg_worker *worker);

/* Start a graceful close of every stream: goodbye frame, flush, close. */
void lg_stream_shutdown_all(lg_worker *worker);

/* Close every stream at once, without flushing. */
void lg_stream_close_all(lg_worker *worker);

/* Free the streams closed since the last call. */
void lg_stream_reap(lg_worker *worker);

/* Number of streams that are still open or flushing. */
size_t lg_stream_open_count(const lg_worker *worker);

#endif
