/* Unit tests of the client outbound queue and its conflate, drop and disconnect policies. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "outqueue.h"

#define FRAME_BYTES 100

typedef struct drops {
    unsigned count[LG_DROP_REASON_COUNT];
    void *last_tag;
} drops;

static void record_drop(void *tag, lg_event *event, lg_drop_reason reason, void *arg)
{
    drops *seen = arg;

    seen->count[reason]++;
    seen->last_tag = tag;
}

static lg_event *make_event(const char *key, const char *data)
{
    return lg_event_new(key, NULL, data, strlen(data), 0);
}

static lg_outqueue_result push(lg_outqueue *queue, const char *key, const char *data, void *tag,
                               lg_overflow_policy policy, size_t cap, drops *seen)
{
    lg_event *event = make_event(key, data);
    lg_outqueue_result result =
        lg_outqueue_push_event(queue, event, FRAME_BYTES, tag, policy, cap, 0, record_drop, seen);

    lg_event_unref(event);
    return result;
}

/* Pop every item and return their data joined by commas (raw items as "raw"). */
static char *drain(lg_outqueue *queue)
{
    char *out = calloc(1, 4096);
    lg_outqueue_item *item;

    while ((item = lg_outqueue_pop(queue)) != NULL) {
        if (out[0] != '\0')
            strcat(out, ",");
        strcat(out, item->event != NULL ? item->event->data : "raw");
        lg_outqueue_item_free(item);
    }
    return out;
}

static void outqueue_keeps_order_under_cap(void **state)
{
    lg_outqueue queue;
    drops seen = {0};
    char *order;
    int tag;

    lg_outqueue_init(&queue);
    assert_int_equal(push(&queue, "a", "1", &tag, LG_OVERFLOW_CONFLATE, 1000, &seen), LG_OUTQUEUE_QUEUED);
    lg_outqueue_push_raw(&queue, "notice", 6);
    assert_int_equal(push(&queue, "a", "2", &tag, LG_OVERFLOW_CONFLATE, 1000, &seen), LG_OUTQUEUE_QUEUED);

    assert_int_equal(lg_outqueue_count(&queue), 3);
    assert_int_equal(queue.bytes, 2 * FRAME_BYTES + 6);
    order = drain(&queue);
    assert_string_equal(order, "1,raw,2");
    assert_int_equal(queue.bytes, 0);
    assert_int_equal(seen.count[LG_DROP_CONFLATED], 0);
    free(order);
}

static void outqueue_conflate_keeps_newest_per_key(void **state)
{
    lg_outqueue queue;
    drops seen = {0};
    char *order;
    int tag;

    lg_outqueue_init(&queue);
    push(&queue, "a", "a1", &tag, LG_OVERFLOW_CONFLATE, 3 * FRAME_BYTES, &seen);
    push(&queue, "b", "b1", &tag, LG_OVERFLOW_CONFLATE, 3 * FRAME_BYTES, &seen);
    push(&queue, "a", "a2", &tag, LG_OVERFLOW_CONFLATE, 3 * FRAME_BYTES, &seen);
    /* Over the cap: a3 replaces both older events of key a, b1 stays. */
    push(&queue, "a", "a3", &tag, LG_OVERFLOW_CONFLATE, 3 * FRAME_BYTES, &seen);

    assert_int_equal(queue.bytes, 2 * FRAME_BYTES);
    assert_int_equal(seen.count[LG_DROP_CONFLATED], 2);
    assert_int_equal(seen.count[LG_DROP_OVERFLOW], 0);
    order = drain(&queue);
    assert_string_equal(order, "b1,a3");
    free(order);
}

static void outqueue_conflate_full_pass(void **state)
{
    lg_outqueue queue;
    drops seen = {0};
    char *order;
    int tag;

    lg_outqueue_init(&queue);
    /* Ten events of two keys fill a large queue, then a small cap forces a full pass. */
    for (int i = 0; i < 10; i++) {
        char data[16];

        snprintf(data, sizeof(data), "%c%d", i % 2 ? 'b' : 'a', i);
        push(&queue, i % 2 ? "b" : "a", data, &tag, LG_OVERFLOW_CONFLATE, 100 * FRAME_BYTES, &seen);
    }
    push(&queue, "c", "c10", &tag, LG_OVERFLOW_CONFLATE, 3 * FRAME_BYTES, &seen);

    order = drain(&queue);
    assert_string_equal(order, "a8,b9,c10");
    assert_int_equal(seen.count[LG_DROP_CONFLATED], 8);
    free(order);
}

static void outqueue_conflate_separates_tags(void **state)
{
    lg_outqueue queue;
    drops seen = {0};
    char *order;
    int first;
    int second;

    lg_outqueue_init(&queue);
    push(&queue, "a", "x1", &first, LG_OVERFLOW_CONFLATE, 2 * FRAME_BYTES, &seen);
    push(&queue, "a", "y1", &second, LG_OVERFLOW_CONFLATE, 2 * FRAME_BYTES, &seen);
    push(&queue, "a", "x2", &first, LG_OVERFLOW_CONFLATE, 2 * FRAME_BYTES, &seen);

    order = drain(&queue);
    assert_string_equal(order, "y1,x2");
    free(order);
}

static void outqueue_conflate_trims_distinct_keys(void **state)
{
    lg_outqueue queue;
    drops seen = {0};
    char *order;
    int tag;

    lg_outqueue_init(&queue);
    push(&queue, "a", "a", &tag, LG_OVERFLOW_CONFLATE, 2 * FRAME_BYTES, &seen);
    push(&queue, "b", "b", &tag, LG_OVERFLOW_CONFLATE, 2 * FRAME_BYTES, &seen);
    push(&queue, "c", "c", &tag, LG_OVERFLOW_CONFLATE, 2 * FRAME_BYTES, &seen);

    assert_int_equal(seen.count[LG_DROP_OVERFLOW], 1);
    assert_ptr_equal(seen.last_tag, &tag);
    order = drain(&queue);
    assert_string_equal(order, "b,c");
    free(order);
}

static void outqueue_drop_rejects_new(void **state)
{
    lg_outqueue queue;
    drops seen = {0};
    char *order;
    int tag;

    lg_outqueue_init(&queue);
    assert_int_equal(push(&queue, "a", "1", &tag, LG_OVERFLOW_DROP, 2 * FRAME_BYTES, &seen), LG_OUTQUEUE_QUEUED);
    assert_int_equal(push(&queue, "a", "2", &tag, LG_OVERFLOW_DROP, 2 * FRAME_BYTES, &seen), LG_OUTQUEUE_QUEUED);
    assert_int_equal(push(&queue, "a", "3", &tag, LG_OVERFLOW_DROP, 2 * FRAME_BYTES, &seen), LG_OUTQUEUE_DROPPED);

    assert_int_equal(seen.count[LG_DROP_OVERFLOW], 1);
    assert_int_equal(seen.count[LG_DROP_CONFLATED], 0);
    order = drain(&queue);
    assert_string_equal(order, "1,2");
    free(order);
}

static void outqueue_drop_counts_socket_bytes(void **state)
{
    lg_outqueue queue;
    drops seen = {0};
    lg_event *event = make_event(NULL, "1");
    int tag;

    lg_outqueue_init(&queue);
    /* The socket already holds most of the cap, so even one frame does not fit. */
    assert_int_equal(lg_outqueue_push_event(&queue, event, FRAME_BYTES, &tag, LG_OVERFLOW_DROP, 2 * FRAME_BYTES,
                                            2 * FRAME_BYTES - 10, record_drop, &seen),
                     LG_OUTQUEUE_DROPPED);
    assert_int_equal(lg_outqueue_count(&queue), 0);
    lg_event_unref(event);
}

static void outqueue_disconnect_asks_close(void **state)
{
    lg_outqueue queue;
    drops seen = {0};
    int tag;

    lg_outqueue_init(&queue);
    push(&queue, "a", "1", &tag, LG_OVERFLOW_DISCONNECT, FRAME_BYTES, &seen);
    assert_int_equal(push(&queue, "a", "2", &tag, LG_OVERFLOW_DISCONNECT, FRAME_BYTES, &seen), LG_OUTQUEUE_DISCONNECT);
    assert_int_equal(seen.count[LG_DROP_DISCONNECT], 1);
    assert_int_equal(lg_outqueue_count(&queue), 1);
    lg_outqueue_clear(&queue);
    assert_int_equal(queue.bytes, 0);
}

static void outqueue_large_frame_fits_empty_queue(void **state)
{
    lg_outqueue queue;
    drops seen = {0};
    lg_event *event = make_event(NULL, "big");
    int tag;

    lg_outqueue_init(&queue);
    lg_outqueue_push_raw(&queue, "notice", 6);
    assert_int_equal(lg_outqueue_push_event(&queue, event, 10 * FRAME_BYTES, &tag, LG_OVERFLOW_DROP, FRAME_BYTES, 0,
                                            record_drop, &seen),
                     LG_OUTQUEUE_QUEUED);
    assert_int_equal(lg_outqueue_count(&queue), 2);
    assert_int_equal(seen.count[LG_DROP_OVERFLOW], 0);
    /* The next one does not fit behind it. */
    assert_int_equal(lg_outqueue_push_event(&queue, event, 10 * FRAME_BYTES, &tag, LG_OVERFLOW_DROP, FRAME_BYTES, 0,
                                            record_drop, &seen),
                     LG_OUTQUEUE_DROPPED);
    lg_outqueue_clear(&queue);
    lg_event_unref(event);
}

static void outqueue_raw_never_dropped(void **state)
{
    lg_outqueue queue;
    drops seen = {0};
    char *order;
    int tag;

    lg_outqueue_init(&queue);
    lg_outqueue_push_raw(&queue, "head", 4);
    push(&queue, "a", "a", &tag, LG_OVERFLOW_CONFLATE, FRAME_BYTES + 4, &seen);
    push(&queue, "b", "b", &tag, LG_OVERFLOW_CONFLATE, FRAME_BYTES + 4, &seen);

    order = drain(&queue);
    assert_string_equal(order, "raw,b");
    free(order);
}

static void outqueue_remove_tag_keeps_others(void **state)
{
    lg_outqueue queue;
    drops seen = {0};
    char *order;
    int first;
    int second;

    lg_outqueue_init(&queue);
    push(&queue, "a", "x", &first, LG_OVERFLOW_DROP, 1000, &seen);
    push(&queue, "a", "y", &second, LG_OVERFLOW_DROP, 1000, &seen);
    lg_outqueue_push_raw(&queue, "n", 1);
    lg_outqueue_remove_tag(&queue, &first);

    assert_int_equal(lg_outqueue_count(&queue), 2);
    assert_int_equal(queue.bytes, FRAME_BYTES + 1);
    order = drain(&queue);
    assert_string_equal(order, "y,raw");
    free(order);
}

static void outqueue_shares_event_references(void **state)
{
    lg_outqueue first;
    lg_outqueue second;
    drops seen = {0};
    lg_event *event = make_event("k", "shared");
    int tag;

    lg_outqueue_init(&first);
    lg_outqueue_init(&second);
    lg_outqueue_push_event(&first, event, FRAME_BYTES, &tag, LG_OVERFLOW_DROP, 1000, 0, record_drop, &seen);
    lg_outqueue_push_event(&second, event, FRAME_BYTES, &tag, LG_OVERFLOW_DROP, 1000, 0, record_drop, &seen);

    assert_ptr_equal(TAILQ_FIRST(&first.items)->event, event);
    assert_ptr_equal(TAILQ_FIRST(&second.items)->event, event);
    assert_int_equal(atomic_load(&event->refs), 3);
    lg_outqueue_clear(&first);
    lg_outqueue_clear(&second);
    assert_int_equal(atomic_load(&event->refs), 1);
    lg_event_unref(event);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(outqueue_keeps_order_under_cap),
        cmocka_unit_test(outqueue_conflate_keeps_newest_per_key),
        cmocka_unit_test(outqueue_conflate_full_pass),
        cmocka_unit_test(outqueue_conflate_separates_tags),
        cmocka_unit_test(outqueue_conflate_trims_distinct_keys),
        cmocka_unit_test(outqueue_drop_rejects_new),
        cmocka_unit_test(outqueue_drop_counts_socket_bytes),
        cmocka_unit_test(outqueue_disconnect_asks_close),
        cmocka_unit_test(outqueue_large_frame_fits_empty_queue),
        cmocka_unit_test(outqueue_raw_never_dropped),
        cmocka_unit_test(outqueue_remove_tag_keeps_others),
        cmocka_unit_test(outqueue_shares_event_references),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
