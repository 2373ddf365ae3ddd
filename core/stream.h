/* Streams: subscriber connections owned by a worker, with a byte-capped queue, overflow policies and client rates. */
#ifndef LG_STREAM_H
#define LG_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "buf.h"
#include "error.h"
#include "event.h"
#include "http.h"

typedef struct lg_stream lg_stream;

typedef enum lg_notice_kind {
    LG_NOTICE_SUBSCRIBED = 1, /* subscription active; RECOVERED tells whether a resume succeeded */
    LG_NOTICE_RESET,          /* the resume id is unknown or its events are gone; a snapshot follows */
    LG_NOTICE_GAP,            /* DROPPED events of CHANNEL were not delivered (overflow policy "drop"), or, with
                                 DROPPED 0 and a REASON, an unknown number was lost upstream */
    LG_NOTICE_ERROR,          /* the subscription to CHANNEL failed; REASON says why */
} lg_notice_kind;

typedef struct lg_notice {
    lg_notice_kind kind;
    const char *channel;
    int recovered;
    uint64_t dropped;
    const char *reason; /* RESET: why, for example "unknown id" or "evicted"; GAP: why events were lost upstream;
                           ERROR: the message */
} lg_notice;

/* Reason the server ends a stream on its own, given to the sink for its goodbye frame. */
typedef enum lg_stream_end {
    LG_STREAM_END_OVERFLOW = 1, /* the queue overflowed on a channel with the disconnect policy */
} lg_stream_end;

/* What a sink provides for its streams. All callbacks run on the worker
 * thread that owns the stream. */
typedef struct lg_stream_class {
    const char *sink; /* label in metrics and logs: "sse", "websocket" */
    int format;       /* id from lg_format_register: the frames queued for events */

    /* Encode NOTICE into OUT. */
    void (*encode_notice)(const lg_notice *notice, lg_buf *out, void *ctx);

    /* Encode EVENT into OUT like its shared frame, but with RESUME_ID as the
     * position a client resumes from (SSE: the id: line; WebSocket: a
     * "resume" member). Used for the few events that leave a stream out of
     * id order. */
    void (*encode_resumed)(const lg_event *event, const char *resume_id, lg_buf *out, void *ctx);

    /* Encode a keep-alive frame into OUT; NULL disables heartbeats. */
    void (*encode_heartbeat)(lg_buf *out, void *ctx);

    /* Bytes arrived from the client; NULL discards them. The callback may
     * call lg_stream_close. */
    void (*on_input)(lg_stream *stream, struct evbuffer *input, void *ctx);

    /* The server is shutting down: queue a goodbye frame (WebSocket close
     * 1001) if the protocol has one. Queued bytes are flushed afterwards.
     * NULL: nothing is added. */
    void (*on_shutdown)(lg_stream *stream, void *ctx);

    /* The stream is closing and will be freed after this returns. */
    void (*on_close)(lg_stream *stream, void *ctx);

    /* The server ends the stream for REASON, described by MESSAGE: queue a
     * goodbye frame (a WebSocket close frame) if the protocol has one. Queued
     * events are gone by then, so the frame follows the bytes already handed
     * to the socket, and the stream then closes with a flush bounded by the
     * shutdown timeout. NULL: the connection is cut at once. */
    void (*on_end)(lg_stream *stream, lg_stream_end reason, const char *message, void *ctx);

    /* 1: the client keeps one resume position for all the channels of the
     * stream (SSE's Last-Event-ID). With more than one channel, frames of
     * events with Kafka position ids then carry the local "EPOCH-SEQ"
     * position instead, because one channel's position id does not cover
     * the others on another node. */
    int one_position;
} lg_stream_class;

/* Take over the connection of REQ (see lg_http_detach) as a stream of CLS.
 * CTX is passed to the callbacks. Returns the stream, or NULL when no stream
 * could be opened: the worker is shutting down (REQ has been answered with
 * 503), the client's address has server.limits.max_streams_per_address
 * streams (429), or the client has already gone. Either way REQ is finished. */
lg_stream *lg_stream_open(lg_http_request *req, const lg_stream_class *cls, void *ctx);

/* Hand bytes that are already buffered (sent by the client right after its
 * request) to the class's on_input, as if they had just arrived. */
void lg_stream_process_input(lg_stream *stream);

/* Queue raw bytes (response head, control frames) ahead of later events,
 * and hand what fits to the socket at once. */
void lg_stream_write(lg_stream *stream, const void *data, size_t len);

/* Check that CHANNEL may be subscribed: a valid name matched by a channel
 * rule that allows subscribing. Returns 0, or -1 with ERR set and *STATUS
 * set to the HTTP status that fits (400 invalid name, 403 not allowed,
 * 404 no rule). Needs no stream, so a sink can check before answering. */
int lg_stream_check_channel(lg_http_request *req, const char *channel, int *status, lg_error *err);

/* Check that a new stream may follow COUNT channels (server.limits.max_subscriptions).
 * Returns 0, or -1 with ERR set. */
int lg_stream_check_count(lg_http_request *req, size_t count, lg_error *err);

/* Subscribe to CHANNEL. LAST_EVENT_ID (may be NULL) asks for a resume;
 * MAX_RATE (updates per second per key, 0 for unlimited) sets the client's
 * rate. The result arrives later as notices and events. Returns 0, or -1
 * with ERR set (invalid or forbidden channel, too many subscriptions, or
 * already subscribed). */
int lg_stream_subscribe(lg_stream *stream, const char *channel, const char *last_event_id, double max_rate,
                        lg_error *err);

/* Subscribe to COUNT channels at once, all from LAST_EVENT_ID. The replay
 * (or snapshot) of all of them arrives in one batch in id order, which
 * keeps one resume id valid across every channel of the stream. Nothing is
 * subscribed when any channel is rejected. Returns 0, or -1 with ERR set. */
int lg_stream_subscribe_many(lg_stream *stream, const char *const *channels, size_t count,
                             const char *last_event_id, double max_rate, lg_error *err);

/* Unsubscribe from CHANNEL. Returns 0, or -1 when not subscribed. */
int lg_stream_unsubscribe(lg_stream *stream, const char *channel);

/* Number of active subscriptions. */
size_t lg_stream_subscription_count(const lg_stream *stream);

/* Set the heartbeat interval; 0 disables it. */
void lg_stream_set_heartbeat(lg_stream *stream, int64_t interval_ms);

/* Close the stream. With FLUSH, queued bytes are sent first (bounded by the
 * server's shutdown timeout); otherwise the connection closes at once. The
 * stream is freed later, from the event loop. */
void lg_stream_close(lg_stream *stream, int flush);

void *lg_stream_context(const lg_stream *stream);
struct event_base *lg_stream_base(const lg_stream *stream);
const char *lg_stream_peer(const lg_stream *stream);
uint64_t lg_stream_id(const lg_stream *stream);

#endif
