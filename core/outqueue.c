/* Client outbound queue with the conflate, drop and disconnect policies. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "hashmap.h"
#include "outqueue.h"

void lg_outqueue_init(lg_outqueue *queue)
{
    TAILQ_INIT(&queue->items);
    queue->bytes = 0;
    queue->count = 0;
    queue->pushed_since_conflation = 0;
}

void lg_outqueue_item_free(lg_outqueue_item *item)
{
    lg_event_unref(item->event);
    free(item->raw);
    free(item);
}

static void lg_outqueue_remove(lg_outqueue *queue, lg_outqueue_item *item)
{
    TAILQ_REMOVE(&queue->items, item, link);
    queue->bytes -= item->len;
    queue->count--;
    lg_outqueue_item_free(item);
}

void lg_outqueue_clear(lg_outqueue *queue)
{
    lg_outqueue_item *item;

    while ((item = TAILQ_FIRST(&queue->items)) != NULL)
        lg_outqueue_remove(queue, item);
}

void lg_outqueue_push_raw(lg_outqueue *queue, const void *data, size_t len)
{
    lg_outqueue_item *item;

    if (len == 0)
        return;
    item = lg_calloc(1, sizeof(*item));
    item->raw = lg_memdup(data, len);
    item->len = len;
    TAILQ_INSERT_TAIL(&queue->items, item, link);
    queue->bytes += len;
    queue->count++;
}

/* A (tag, key) pair already seen while conflating. */
typedef struct lg_outqueue_seen {
    char *id;
    UT_hash_handle hh;
} lg_outqueue_seen;

/* Keep only the newest queued event of every (tag, key) pair whose policy
 * is "conflate", walking from the newest item back. */
static void lg_outqueue_conflate(lg_outqueue *queue, lg_outqueue_drop_fn on_drop, void *arg)
{
    lg_outqueue_seen *seen = NULL;
    lg_outqueue_seen *entry;
    lg_outqueue_seen *tmp;
    lg_outqueue_item *item;
    lg_outqueue_item *prev;

    for (item = TAILQ_LAST(&queue->items, lg_outqueue_items); item != NULL; item = prev) {
        char *id;

        prev = TAILQ_PREV(item, lg_outqueue_items, link);
        if (item->event == NULL || item->policy != LG_OVERFLOW_CONFLATE)
            continue;

        id = lg_sprintf("%p/%s", item->tag, item->event->key != NULL ? item->event->key : "");
        HASH_FIND_STR(seen, id, entry);
        if (entry != NULL) {
            free(id);
            on_drop(item->tag, item->event, LG_DROP_CONFLATED, arg);
            lg_outqueue_remove(queue, item);
            continue;
        }
        entry = lg_calloc(1, sizeof(*entry));
        entry->id = id;
        HASH_ADD_KEYPTR(hh, seen, entry->id, strlen(entry->id), entry);
    }

    HASH_ITER(hh, seen, entry, tmp)
    {
        HASH_DEL(seen, entry);
        free(entry->id);
        free(entry);
    }
}

static int lg_outqueue_same_key(const lg_event *a, const lg_event *b)
{
    if (a->key == NULL || b->key == NULL)
        return a->key == b->key;
    return strcmp(a->key, b->key) == 0;
}

/* Remove every older event of the same tag and key as NEWEST. Under a
 * steady overload of the same keys this keeps the queue flat in one pass
 * without allocating. */
static void lg_outqueue_replace_older(lg_outqueue *queue, lg_outqueue_item *newest, lg_outqueue_drop_fn on_drop,
                                      void *arg)
{
    lg_outqueue_item *item;
    lg_outqueue_item *prev;

    for (item = TAILQ_PREV(newest, lg_outqueue_items, link); item != NULL; item = prev) {
        prev = TAILQ_PREV(item, lg_outqueue_items, link);
        if (item->event != NULL && item->tag == newest->tag && lg_outqueue_same_key(item->event, newest->event)) {
            on_drop(item->tag, item->event, LG_DROP_CONFLATED, arg);
            lg_outqueue_remove(queue, item);
        }
    }
}

/* Drop the oldest queued events until the queue plus EXTRA fits CAP. */
static void lg_outqueue_trim_oldest(lg_outqueue *queue, size_t cap, size_t extra, lg_outqueue_drop_fn on_drop,
                                    void *arg)
{
    lg_outqueue_item *item;
    lg_outqueue_item *next;

    for (item = TAILQ_FIRST(&queue->items); item != NULL && queue->bytes + extra > cap; item = next) {
        next = TAILQ_NEXT(item, link);
        if (item->event == NULL)
            continue;
        on_drop(item->tag, item->event, LG_DROP_OVERFLOW, arg);
        lg_outqueue_remove(queue, item);
    }
}

lg_outqueue_result lg_outqueue_push_event(lg_outqueue *queue, lg_event *event, size_t frame_len, void *tag,
                                          lg_overflow_policy policy, size_t cap, size_t extra,
                                          lg_outqueue_drop_fn on_drop, void *arg)
{
    lg_outqueue_item *item;

    int oversized_fits = frame_len > cap && queue->bytes + extra <= cap / 2;

    /* A frame larger than the cap still goes out while the queue is at most
     * half full, so an event within the body limit is never undeliverable;
     * memory stays within half the cap plus that one frame. */
    if (queue->bytes + extra + frame_len > cap && !oversized_fits) {
        if (policy == LG_OVERFLOW_DROP) {
            on_drop(tag, event, LG_DROP_OVERFLOW, arg);
            return LG_OUTQUEUE_DROPPED;
        }
        if (policy == LG_OVERFLOW_DISCONNECT) {
            on_drop(tag, event, LG_DROP_DISCONNECT, arg);
            return LG_OUTQUEUE_DISCONNECT;
        }
    }

    item = lg_calloc(1, sizeof(*item));
    item->event = lg_event_ref(event);
    item->tag = tag;
    item->policy = policy;
    item->len = frame_len;
    TAILQ_INSERT_TAIL(&queue->items, item, link);
    queue->bytes += frame_len;
    queue->count++;
    queue->pushed_since_conflation++;
    if (queue->bytes + extra <= cap || oversized_fits)
        return LG_OUTQUEUE_QUEUED;

    /* Cheapest first: replace this key's older events. A full conflation
     * pass runs only when enough items arrived since the last one to make
     * it worthwhile. As a last resort the oldest events are dropped. */
    if (policy == LG_OVERFLOW_CONFLATE)
        lg_outqueue_replace_older(queue, item, on_drop, arg);
    if (queue->bytes + extra > cap && queue->pushed_since_conflation * 4 >= queue->count) {
        lg_outqueue_conflate(queue, on_drop, arg);
        queue->pushed_since_conflation = 0;
    }
    if (queue->bytes + extra > cap)
        lg_outqueue_trim_oldest(queue, cap, extra, on_drop, arg);
    return LG_OUTQUEUE_QUEUED;
}

lg_outqueue_item *lg_outqueue_last(lg_outqueue *queue)
{
    return TAILQ_LAST(&queue->items, lg_outqueue_items);
}

lg_outqueue_item *lg_outqueue_pop(lg_outqueue *queue)
{
    lg_outqueue_item *item = TAILQ_FIRST(&queue->items);

    if (item == NULL)
        return NULL;
    TAILQ_REMOVE(&queue->items, item, link);
    queue->bytes -= item->len;
    queue->count--;
    return item;
}

void lg_outqueue_remove_tag(lg_outqueue *queue, void *tag)
{
    lg_outqueue_item *item;
    lg_outqueue_item *next;

    for (item = TAILQ_FIRST(&queue->items); item != NULL; item = next) {
        next = TAILQ_NEXT(item, link);
        if (item->tag == tag)
            lg_outqueue_remove(queue, item);
    }
}

size_t lg_outqueue_count(const lg_outqueue *queue)
{
    return queue->count;
}
