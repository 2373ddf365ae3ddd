/* Outbound queue of one client: frames waiting for the socket, capped in bytes, with overflow policies. */
#ifndef LG_OUTQUEUE_H
#define LG_OUTQUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "channel.h"
#include "event.h"
#include "rules.h"

/* One queued frame: an event's shared encoding (EVENT set, LEN its frame
 * length) or bytes owned by the item (RAW). TAG identifies the
 * subscription an event was queued for; conflation works per tag and key. */
typedef struct lg_outqueue_item {
    TAILQ_ENTRY(lg_outqueue_item) link;
    lg_event *event;
    void *tag;
    lg_overflow_policy policy;
    char *raw;
    size_t len;
    uint64_t resume_seq; /* 0: the event's shared frame; else its frame with this resume position */
} lg_outqueue_item;

TAILQ_HEAD(lg_outqueue_items, lg_outqueue_item);

typedef struct lg_outqueue {
    struct lg_outqueue_items items;
    size_t bytes; /* sum of the items' LEN */
    size_t count;
    size_t pushed_since_conflation;
} lg_outqueue;

typedef enum lg_outqueue_result {
    LG_OUTQUEUE_QUEUED = 0, /* the event is queued (older ones may have been dropped to make room) */
    LG_OUTQUEUE_DROPPED,    /* the event was dropped by the "drop" policy */
    LG_OUTQUEUE_DISCONNECT, /* the "disconnect" policy asks to close the client */
} lg_outqueue_result;

/* Called for every event the queue drops, with the event's TAG and the reason. */
typedef void (*lg_outqueue_drop_fn)(void *tag, lg_event *event, lg_drop_reason reason, void *arg);

void lg_outqueue_init(lg_outqueue *queue);

/* Drop every item. */
void lg_outqueue_clear(lg_outqueue *queue);

/* Append bytes (copied). Raw frames are never dropped by a policy. */
void lg_outqueue_push_raw(lg_outqueue *queue, const void *data, size_t len);

/* Append EVENT (a new reference) whose frame is FRAME_LEN bytes, for TAG,
 * when the queue plus EXTRA bytes already handed to the socket stays within
 * CAP. Otherwise POLICY decides: "drop" drops this event; "disconnect"
 * queues nothing and asks for a close; "conflate" queues it, then removes
 * older queued events of the same tag and key, and when that is not enough,
 * the oldest events of any tag. A frame larger than CAP is queued while
 * the queue plus EXTRA is at most half of CAP. ON_DROP hears about every dropped event. */
lg_outqueue_result lg_outqueue_push_event(lg_outqueue *queue, lg_event *event, size_t frame_len, void *tag,
                                          lg_overflow_policy policy, size_t cap, size_t extra,
                                          lg_outqueue_drop_fn on_drop, void *arg);

/* Return the newest item, or NULL. */
lg_outqueue_item *lg_outqueue_last(lg_outqueue *queue);

/* Remove and return the oldest item, or NULL. The caller frees it with
 * lg_outqueue_item_free (or takes its event reference first). */
lg_outqueue_item *lg_outqueue_pop(lg_outqueue *queue);

void lg_outqueue_item_free(lg_outqueue_item *item);

/* Drop every item queued for TAG, without calling a drop callback. */
void lg_outqueue_remove_tag(lg_outqueue *queue, void *tag);

/* Number of items. */
size_t lg_outqueue_count(const lg_outqueue *queue);

#endif
