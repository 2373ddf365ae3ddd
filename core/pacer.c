/* Rate limiting per (subscription, key) for one stream, each key on its own schedule. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "hashmap.h"
#include "pacer.h"

typedef struct lg_pacer_key {
    char *id; /* "TAG/KEY", the hash key */
    void *tag;
    int64_t last_sent_ms;
    lg_pacer_item *held;
    UT_hash_handle hh;
} lg_pacer_key;

void lg_pacer_init(lg_pacer *pacer, size_t max_keys, size_t max_held_bytes, lg_pacer_emit_fn emit,
                   lg_pacer_drop_fn drop, void *arg)
{
    memset(pacer, 0, sizeof(*pacer));
    TAILQ_INIT(&pacer->items);
    pacer->max_keys = max_keys > 0 ? max_keys : 1;
    pacer->max_held_bytes = max_held_bytes;
    pacer->emit = emit;
    pacer->drop = drop;
    pacer->arg = arg;
}

/* ---- due-time heap ---- */

static void lg_pacer_heap_set(lg_pacer *pacer, size_t index, lg_pacer_item *item)
{
    pacer->heap[index] = item;
    item->heap_index = index;
}

static void lg_pacer_heap_up(lg_pacer *pacer, size_t index)
{
    lg_pacer_item *item = pacer->heap[index];

    while (index > 0) {
        size_t parent = (index - 1) / 2;

        if (pacer->heap[parent]->due_ms <= item->due_ms)
            break;
        lg_pacer_heap_set(pacer, index, pacer->heap[parent]);
        index = parent;
    }
    lg_pacer_heap_set(pacer, index, item);
}

static void lg_pacer_heap_down(lg_pacer *pacer, size_t index)
{
    lg_pacer_item *item = pacer->heap[index];

    for (;;) {
        size_t child = 2 * index + 1;

        if (child >= pacer->heap_len)
            break;
        if (child + 1 < pacer->heap_len && pacer->heap[child + 1]->due_ms < pacer->heap[child]->due_ms)
            child++;
        if (item->due_ms <= pacer->heap[child]->due_ms)
            break;
        lg_pacer_heap_set(pacer, index, pacer->heap[child]);
        index = child;
    }
    lg_pacer_heap_set(pacer, index, item);
}

static void lg_pacer_heap_push(lg_pacer *pacer, lg_pacer_item *item)
{
    if (pacer->heap_len == pacer->heap_cap) {
        pacer->heap_cap = pacer->heap_cap > 0 ? 2 * pacer->heap_cap : 16;
        pacer->heap = lg_realloc(pacer->heap, pacer->heap_cap * sizeof(*pacer->heap));
    }
    lg_pacer_heap_set(pacer, pacer->heap_len++, item);
    lg_pacer_heap_up(pacer, item->heap_index);
}

static void lg_pacer_heap_remove(lg_pacer *pacer, lg_pacer_item *item)
{
    size_t index = item->heap_index;
    lg_pacer_item *last = pacer->heap[--pacer->heap_len];

    if (last == item)
        return;
    lg_pacer_heap_set(pacer, index, last);
    lg_pacer_heap_down(pacer, index);
    lg_pacer_heap_up(pacer, last->heap_index);
}

/* ---- held events ---- */

static void lg_pacer_free_item(lg_pacer *pacer, lg_pacer_item *item)
{
    TAILQ_REMOVE(&pacer->items, item, link);
    lg_pacer_heap_remove(pacer, item);
    pacer->held_bytes -= item->len;
    if (item->key != NULL)
        item->key->held = NULL;
    lg_event_unref(item->event);
    free(item);
}

static void lg_pacer_free_key(lg_pacer *pacer, lg_pacer_key *key)
{
    HASH_DEL(pacer->keys, key);
    pacer->key_count--;
    free(key->id);
    free(key);
}

void lg_pacer_clear(lg_pacer *pacer)
{
    lg_pacer_key *key;
    lg_pacer_key *tmp;
    lg_pacer_item *item;

    while ((item = TAILQ_FIRST(&pacer->items)) != NULL)
        lg_pacer_free_item(pacer, item);
    HASH_ITER(hh, pacer->keys, key, tmp)
    {
        lg_pacer_free_key(pacer, key);
    }
    free(pacer->heap);
    pacer->heap = NULL;
    pacer->heap_cap = 0;
}

/* Forget the idle key that was sent longest ago. Keys with a held event stay. */
static void lg_pacer_evict_key(lg_pacer *pacer)
{
    lg_pacer_key *key;
    lg_pacer_key *oldest = NULL;

    for (key = pacer->keys; key != NULL; key = key->hh.next) {
        if (key->held == NULL && (oldest == NULL || key->last_sent_ms < oldest->last_sent_ms))
            oldest = key;
    }
    if (oldest != NULL)
        lg_pacer_free_key(pacer, oldest);
}

static lg_pacer_key *lg_pacer_key_get(lg_pacer *pacer, void *tag, const lg_event *event)
{
    char *id = lg_sprintf("%p/%s", tag, event->key != NULL ? event->key : "");
    lg_pacer_key *key;

    HASH_FIND_STR(pacer->keys, id, key);
    if (key != NULL) {
        free(id);
        return key;
    }

    if (pacer->key_count >= pacer->max_keys)
        lg_pacer_evict_key(pacer);
    key = lg_calloc(1, sizeof(*key));
    key->id = id;
    key->tag = tag;
    key->last_sent_ms = INT64_MIN / 2;
    HASH_ADD_KEYPTR(hh, pacer->keys, key->id, strlen(key->id), key);
    pacer->key_count++;
    return key;
}

/* Insert ITEM into the held list by seq. Live events arrive in seq order,
 * so the walk from the tail usually stops at once. */
static void lg_pacer_insert_by_seq(lg_pacer *pacer, lg_pacer_item *item)
{
    lg_pacer_item *before = TAILQ_LAST(&pacer->items, lg_pacer_items);

    while (before != NULL && before->event->seq > item->event->seq)
        before = TAILQ_PREV(before, lg_pacer_items, link);
    if (before == NULL)
        TAILQ_INSERT_HEAD(&pacer->items, item, link);
    else
        TAILQ_INSERT_AFTER(&pacer->items, before, item, link);
}

static void lg_pacer_hold(lg_pacer *pacer, void *tag, lg_pacer_key *key, lg_event *event, size_t len,
                          int64_t due_ms)
{
    lg_pacer_item *item = lg_calloc(1, sizeof(*item));

    item->tag = tag;
    item->event = lg_event_ref(event);
    item->len = len;
    item->due_ms = due_ms;
    item->key = key;
    key->held = item;
    lg_pacer_insert_by_seq(pacer, item);
    lg_pacer_heap_push(pacer, item);
    pacer->held_bytes += len;
}

/* Emit the held event due first, whether it is due yet or not. */
static void lg_pacer_emit_next(lg_pacer *pacer, int64_t now_ms)
{
    lg_pacer_item *item = pacer->heap[0];
    lg_event *event = lg_event_ref(item->event);
    void *tag = item->tag;

    item->key->last_sent_ms = now_ms;
    lg_pacer_free_item(pacer, item);
    pacer->emit(tag, event, pacer->arg);
    lg_event_unref(event);
}

void lg_pacer_offer(lg_pacer *pacer, void *tag, int64_t interval_ms, lg_event *event, size_t len, int64_t now_ms)
{
    lg_pacer_key *key;
    int64_t due_ms;

    if (interval_ms <= 0) {
        pacer->emit(tag, event, pacer->arg);
        return;
    }

    key = lg_pacer_key_get(pacer, tag, event);
    due_ms = key->last_sent_ms + interval_ms;

    /* A newer event of the key replaces the held one and keeps its turn. */
    if (key->held != NULL) {
        due_ms = key->held->due_ms;
        pacer->drop(tag, key->held->event, LG_DROP_RATE, pacer->arg);
        lg_pacer_free_item(pacer, key->held);
    }

    if (due_ms <= now_ms) {
        key->last_sent_ms = now_ms;
        pacer->emit(tag, event, pacer->arg);
        return;
    }

    lg_pacer_hold(pacer, tag, key, event, len, due_ms);
    while (pacer->held_bytes > pacer->max_held_bytes && pacer->heap_len > 0)
        lg_pacer_emit_next(pacer, now_ms);
}

int64_t lg_pacer_next_due(const lg_pacer *pacer)
{
    return pacer->heap_len > 0 ? pacer->heap[0]->due_ms : -1;
}

uint64_t lg_pacer_oldest_seq(const lg_pacer *pacer)
{
    const lg_pacer_item *item = TAILQ_FIRST(&pacer->items);

    return item != NULL ? item->event->seq : 0;
}

int64_t lg_pacer_release(lg_pacer *pacer, int64_t now_ms)
{
    while (pacer->heap_len > 0 && pacer->heap[0]->due_ms <= now_ms)
        lg_pacer_emit_next(pacer, now_ms);
    return lg_pacer_next_due(pacer);
}

void lg_pacer_remove_tag(lg_pacer *pacer, void *tag)
{
    lg_pacer_item *item;
    lg_pacer_item *next;
    lg_pacer_key *key;
    lg_pacer_key *tmp;

    for (item = TAILQ_FIRST(&pacer->items); item != NULL; item = next) {
        next = TAILQ_NEXT(item, link);
        if (item->tag == tag)
            lg_pacer_free_item(pacer, item);
    }
    HASH_ITER(hh, pacer->keys, key, tmp)
    {
        if (key->tag == tag)
            lg_pacer_free_key(pacer, key);
    }
}
