/* Pacer: client rates per key, independent of other keys, with the newest event of a key replacing older ones. */
#ifndef LG_PACER_H
#define LG_PACER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "channel.h"
#include "event.h"

struct lg_pacer_key;

/* An event held back until its key's interval has passed. A key has at most
 * one held event: a newer one replaces it. */
typedef struct lg_pacer_item {
    TAILQ_ENTRY(lg_pacer_item) link; /* in the held list, by event seq */
    size_t heap_index;               /* position in the due-time heap */
    void *tag;
    lg_event *event;
    size_t len;
    int64_t due_ms;
    struct lg_pacer_key *key;
} lg_pacer_item;

TAILQ_HEAD(lg_pacer_items, lg_pacer_item);

/* Hand EVENT (queued for TAG) on to the client. */
typedef void (*lg_pacer_emit_fn)(void *tag, lg_event *event, void *arg);

/* EVENT was replaced by a newer event of its key before it was sent. */
typedef void (*lg_pacer_drop_fn)(void *tag, lg_event *event, lg_drop_reason reason, void *arg);

/* The pacer of one stream. Keys are paced independently: an event held for
 * its key's rate never delays another key or channel, so events may leave
 * out of id order. lg_pacer_oldest_seq is the limit of the stream's resume
 * position. */
typedef struct lg_pacer {
    struct lg_pacer_items items; /* held events, oldest seq first */
    lg_pacer_item **heap;        /* the same events, a min-heap on due_ms */
    size_t heap_len;
    size_t heap_cap;
    struct lg_pacer_key *keys; /* uthash of (tag, key) rate state */
    size_t key_count;
    size_t max_keys;
    size_t held_bytes;
    size_t max_held_bytes;
    lg_pacer_emit_fn emit;
    lg_pacer_drop_fn drop;
    void *arg;
} lg_pacer;

/* Set up PACER. Past MAX_KEYS keys, the idle key sent longest ago is
 * forgotten. Past MAX_HELD_BYTES of held frames, the events due first are
 * released early until the rest fits: memory stays bounded at the price of
 * a burst above the rate. */
void lg_pacer_init(lg_pacer *pacer, size_t max_keys, size_t max_held_bytes, lg_pacer_emit_fn emit,
                   lg_pacer_drop_fn drop, void *arg);

/* Drop every held event and all key state. */
void lg_pacer_clear(lg_pacer *pacer);

/* Offer EVENT (frame of LEN bytes) for TAG. INTERVAL_MS is the minimum time
 * between two events of one key of TAG; 0 means no rate. The event is
 * emitted now or held (taking a reference). */
void lg_pacer_offer(lg_pacer *pacer, void *tag, int64_t interval_ms, lg_event *event, size_t len, int64_t now_ms);

/* Emit the held events that are due, earliest due time first. Returns the
 * due time of the next held event, or -1 when nothing is held. */
int64_t lg_pacer_release(lg_pacer *pacer, int64_t now_ms);

/* Earliest due time of the held events, or -1. */
int64_t lg_pacer_next_due(const lg_pacer *pacer);

/* Seq of the oldest held event, or 0 when nothing is held. */
uint64_t lg_pacer_oldest_seq(const lg_pacer *pacer);

/* Forget TAG: its held events (without calling DROP) and its key state. */
void lg_pacer_remove_tag(lg_pacer *pacer, void *tag);

#endif
