/* Messages between the channel thread (hub) and the worker threads. */
#ifndef LG_MESSAGES_H
#define LG_MESSAGES_H

#include <stddef.h>
#include <stdint.h>

#include "channel.h"
#include "event.h"
#include "mailbox.h"

typedef enum lg_message_type {
    /* worker to hub */
    LG_MSG_SUBSCRIBE = 1,
    LG_MSG_UNSUBSCRIBE,
    LG_MSG_WORKER_STOPPED,
    LG_MSG_BARRIER_DONE,
    /* hub to worker */
    LG_MSG_BARRIER,
    LG_MSG_EVENT,
    LG_MSG_SUBSCRIBED,
    LG_MSG_SHUTDOWN,
    LG_MSG_GAP,
} lg_message_type;

/* One channel of a subscribe request. */
typedef struct lg_subscribe_item {
    char *channel_name;
    uint64_t request_id;
} lg_subscribe_item;

/* A stream asks to follow COUNT channels at once, optionally from
 * LAST_EVENT_ID. One request per batch lets the hub answer with one replay
 * in id order across all the channels. */
typedef struct lg_msg_subscribe {
    lg_message header;
    size_t worker;
    uint64_t stream_id;
    lg_subscribe_item *items;
    size_t count;
    char *last_event_id; /* NULL: no resume */
} lg_msg_subscribe;

/* A worker no longer has the subscription that the hub counted. */
typedef struct lg_msg_unsubscribe {
    lg_message header;
    size_t worker;
    lg_channel *channel;
} lg_msg_unsubscribe;

/* A worker thread finished its shutdown. */
typedef struct lg_msg_worker_stopped {
    lg_message header;
    size_t worker;
} lg_msg_worker_stopped;

/* A new event of a channel that has subscribers on the receiving worker.
 * The message holds one reference. */
typedef struct lg_msg_event {
    lg_message header;
    lg_event *event;
} lg_msg_event;

/* The outcome for one channel of a subscribe request. CHANNEL is NULL when
 * the subscription failed (ERROR says why). Otherwise RESET tells that the
 * resume id could not be honoured for this channel. */
typedef struct lg_subscribe_result {
    uint64_t request_id;
    lg_channel *channel;
    int recovered;
    int reset;
    const char *reset_reason;
    char *error;
} lg_subscribe_result;

/* The reply to LG_MSG_SUBSCRIBE: a result per channel, and EVENTS
 * (references) of all channels together in id order: the replay of
 * recovered channels and the snapshot of the others. */
typedef struct lg_msg_subscribed {
    lg_message header;
    uint64_t stream_id;
    lg_subscribe_result *results;
    size_t count;
    lg_event **events;
    size_t event_count;
} lg_msg_subscribed;

/* A barrier: the worker answers with LG_MSG_BARRIER_DONE and the same
 * generation, proving it no longer uses anything retired before. */
typedef struct lg_msg_barrier {
    lg_message header;
    size_t worker;
    uint64_t generation;
} lg_msg_barrier;

/* Events of CHANNEL may have been lost upstream (a source reconnected):
 * every subscriber gets a gap notice with REASON (owned by the message). */
typedef struct lg_msg_gap {
    lg_message header;
    lg_channel *channel;
    char *reason;
} lg_msg_gap;

typedef struct lg_msg_shutdown {
    lg_message header;
    int64_t timeout_ms;
} lg_msg_shutdown;

#endif
