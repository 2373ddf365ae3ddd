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
    /* hub to worker */
    LG_MSG_EVENT,
    LG_MSG_SUBSCRIBED,
    LG_MSG_SHUTDOWN,
} lg_message_type;

/* A stream asks to follow CHANNEL_NAME, optionally from LAST_EVENT_ID. */
typedef struct lg_msg_subscribe {
    lg_message header;
    size_t worker;
    uint64_t stream_id;
    uint64_t request_id;
    char *channel_name;
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

/* The answer to LG_MSG_SUBSCRIBE. CHANNEL is NULL when the subscription
 * failed (ERROR says why). Otherwise RESET tells that the resume id could
 * not be honoured, and EVENTS (references) are the replay when RECOVERED,
 * or the snapshot otherwise. */
typedef struct lg_msg_subscribed {
    lg_message header;
    uint64_t stream_id;
    uint64_t request_id;
    lg_channel *channel;
    int recovered;
    int reset;
    const char *reset_reason;
    lg_event **events;
    size_t event_count;
    char *error;
} lg_msg_subscribed;

typedef struct lg_msg_shutdown {
    lg_message header;
    int64_t timeout_ms;
} lg_msg_shutdown;

#endif
