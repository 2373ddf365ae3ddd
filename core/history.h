/* Resume history of one channel: a ring of the newest events, bounded by count and age. */
#ifndef LG_HISTORY_H
#define LG_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "positions.h"

typedef struct lg_history {
    lg_event **ring;
    size_t capacity;
    size_t head; /* index of the oldest event */
    size_t count;
    /* Highest sequence number that left the history (evicted, or never kept
     * when CAPACITY is 0). A resume from sequence S is complete when S is at
     * least this: no event after S has been lost. */
    uint64_t evicted_seq;
    /* The channel's positions, updated for every positioned event that
     * leaves the history. May be NULL. */
    lg_positions *positions;
} lg_history;

void lg_history_init(lg_history *history, size_t capacity);

/* Free the ring and drop every reference. */
void lg_history_clear(lg_history *history);

/* Change the capacity to CAPACITY, keeping the newest events that fit. */
void lg_history_resize(lg_history *history, size_t capacity);

/* Append EVENT (takes a new reference), evicting the oldest when full. */
void lg_history_push(lg_history *history, lg_event *event);

/* Evict events received before NOW_MS - MAX_AGE_MS (monotonic clock). A
 * MAX_AGE_MS of 0 does nothing. */
void lg_history_expire(lg_history *history, int64_t now_ms, int64_t max_age_ms);

/* Return the INDEX-th event, 0 being the oldest. */
lg_event *lg_history_at(const lg_history *history, size_t index);

/* Return the event with sequence number SEQ (no new reference), or NULL
 * when the history does not hold it. */
lg_event *lg_history_find(const lg_history *history, uint64_t seq);

/* Return the newest event whose origin is ORIGIN, or NULL. Linear in the
 * history's length. */
lg_event *lg_history_find_origin(const lg_history *history, const char *origin);

/* Return the newest event whose id is ID, or NULL. Linear in the history's length. */
lg_event *lg_history_find_id(const lg_history *history, const char *id);

/* Collect the events with a sequence number above SEQ, oldest first, into a
 * new array of new references (*OUT, *COUNT; free the array and unref the
 * events). Returns 0 when the result is complete, or -1 when events after
 * SEQ were evicted (then *OUT is NULL and *COUNT 0). */
int lg_history_since(const lg_history *history, uint64_t seq, lg_event ***out, size_t *count);

#endif
