/* History ring buffer with eviction by count and age. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "history.h"

void lg_history_init(lg_history *history, size_t capacity)
{
    history->ring = capacity > 0 ? lg_calloc(capacity, sizeof(*history->ring)) : NULL;
    history->capacity = capacity;
    history->head = 0;
    history->count = 0;
    history->evicted_seq = 0;
    history->positions = NULL;
}

static void lg_history_note_evicted(lg_history *history, const lg_event *event)
{
    history->evicted_seq = event->seq;
    if (history->positions != NULL && event->position >= 0)
        lg_positions_evict(history->positions, event->origin, event->log_len, event->position);
}

static void lg_history_pop_oldest(lg_history *history)
{
    lg_event *oldest = history->ring[history->head];

    lg_history_note_evicted(history, oldest);
    history->ring[history->head] = NULL;
    history->head = (history->head + 1) % history->capacity;
    history->count--;
    lg_event_unref(oldest);
}

void lg_history_clear(lg_history *history)
{
    while (history->count > 0)
        lg_history_pop_oldest(history);
    free(history->ring);
    history->ring = NULL;
    history->capacity = 0;
}

void lg_history_push(lg_history *history, lg_event *event)
{
    if (history->capacity == 0) {
        lg_history_note_evicted(history, event);
        return;
    }
    if (history->count == history->capacity)
        lg_history_pop_oldest(history);

    history->ring[(history->head + history->count) % history->capacity] = lg_event_ref(event);
    history->count++;
}

void lg_history_expire(lg_history *history, int64_t now_ms, int64_t max_age_ms)
{
    if (max_age_ms <= 0)
        return;
    while (history->count > 0 && history->ring[history->head]->received_ms < now_ms - max_age_ms)
        lg_history_pop_oldest(history);
}

lg_event *lg_history_at(const lg_history *history, size_t index)
{
    return history->ring[(history->head + index) % history->capacity];
}

int lg_history_since(const lg_history *history, uint64_t seq, lg_event ***out, size_t *count)
{
    size_t first = history->count;

    *out = NULL;
    *count = 0;
    if (seq < history->evicted_seq)
        return -1;

    /* The ring is ordered by sequence, so the newer part is a suffix. */
    while (first > 0 && lg_history_at(history, first - 1)->seq > seq)
        first--;
    if (first == history->count)
        return 0;

    *count = history->count - first;
    *out = lg_calloc(*count, sizeof(**out));
    for (size_t i = 0; i < *count; i++)
        (*out)[i] = lg_event_ref(lg_history_at(history, first + i));
    return 0;
}

void lg_history_resize(lg_history *history, size_t capacity)
{
    lg_event **ring;
    size_t keep;

    if (capacity == history->capacity)
        return;
    while (history->count > capacity)
        lg_history_pop_oldest(history);

    keep = history->count;
    ring = capacity > 0 ? lg_calloc(capacity, sizeof(*ring)) : NULL;
    for (size_t i = 0; i < keep; i++)
        ring[i] = lg_history_at(history, i);
    free(history->ring);
    history->ring = ring;
    history->capacity = capacity;
    history->head = 0;
}

lg_event *lg_history_find(const lg_history *history, uint64_t seq)
{
    size_t low = 0;
    size_t high = history->count;

    /* Sequence numbers increase from the oldest event to the newest. */
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        lg_event *event = lg_history_at(history, middle);

        if (event->seq == seq)
            return event;
        if (event->seq < seq)
            low = middle + 1;
        else
            high = middle;
    }
    return NULL;
}

lg_event *lg_history_find_origin(const lg_history *history, const char *origin)
{
    for (size_t i = history->count; i > 0; i--) {
        lg_event *event = lg_history_at(history, i - 1);

        if (event->origin != NULL && strcmp(event->origin, origin) == 0)
            return event;
    }
    return NULL;
}

lg_event *lg_history_find_id(const lg_history *history, const char *id)
{
    for (size_t i = history->count; i > 0; i--) {
        lg_event *event = lg_history_at(history, i - 1);

        if (strcmp(event->id, id) == 0)
            return event;
    }
    return NULL;
}
