/* Unit tests of the pacer: rates per key, replacement by newer events, independent keys and the oldest held seq. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pacer.h"

typedef struct sink {
    char emitted[512];
    unsigned dropped;
} sink;

static void record_emit(void *tag, lg_event *event, void *arg)
{
    sink *out = arg;

    if (out->emitted[0] != '\0')
        strcat(out->emitted, ",");
    strcat(out->emitted, event->data);
}

static void record_drop(void *tag, lg_event *event, lg_drop_reason reason, void *arg)
{
    sink *out = arg;

    assert_int_equal(reason, LG_DROP_RATE);
    out->dropped++;
}

static uint64_t next_seq;

static void offer(lg_pacer *pacer, void *tag, int64_t interval_ms, const char *key, const char *data, int64_t now_ms)
{
    lg_event *event = lg_event_new(key, NULL, data, strlen(data), 0);

    event->seq = ++next_seq;
    lg_pacer_offer(pacer, tag, interval_ms, event, 10, now_ms);
    lg_event_unref(event);
}

static void pacer_without_rate_passes_through(void **state)
{
    lg_pacer pacer;
    sink out = {0};
    int tag;

    lg_pacer_init(&pacer, 100, 1000, record_emit, record_drop, &out);
    offer(&pacer, &tag, 0, "a", "1", 0);
    offer(&pacer, &tag, 0, "a", "2", 0);
    assert_string_equal(out.emitted, "1,2");
    assert_int_equal(lg_pacer_next_due(&pacer), -1);
    lg_pacer_clear(&pacer);
}

static void pacer_holds_until_interval(void **state)
{
    lg_pacer pacer;
    sink out = {0};
    int tag;

    lg_pacer_init(&pacer, 100, 1000, record_emit, record_drop, &out);
    offer(&pacer, &tag, 500, "a", "1", 1000);
    offer(&pacer, &tag, 500, "a", "2", 1100);
    assert_string_equal(out.emitted, "1");
    assert_int_equal(lg_pacer_next_due(&pacer), 1500);

    assert_int_equal(lg_pacer_release(&pacer, 1499), 1500);
    assert_string_equal(out.emitted, "1");
    assert_int_equal(lg_pacer_release(&pacer, 1500), -1);
    assert_string_equal(out.emitted, "1,2");
    lg_pacer_clear(&pacer);
}

static void pacer_newer_replaces_held(void **state)
{
    lg_pacer pacer;
    sink out = {0};
    int tag;

    lg_pacer_init(&pacer, 100, 1000, record_emit, record_drop, &out);
    offer(&pacer, &tag, 500, "a", "1", 1000);
    offer(&pacer, &tag, 500, "a", "2", 1100);
    offer(&pacer, &tag, 500, "a", "3", 1200);
    assert_int_equal(out.dropped, 1);
    lg_pacer_release(&pacer, 1500);
    assert_string_equal(out.emitted, "1,3");
    lg_pacer_clear(&pacer);
}

static void pacer_keys_are_independent(void **state)
{
    lg_pacer pacer;
    sink out = {0};
    int tag;

    lg_pacer_init(&pacer, 100, 1000, record_emit, record_drop, &out);
    offer(&pacer, &tag, 500, "a", "a1", 1000);
    offer(&pacer, &tag, 500, "b", "b1", 1000);
    assert_string_equal(out.emitted, "a1,b1");
    lg_pacer_clear(&pacer);
}

static void pacer_held_key_delays_no_other(void **state)
{
    lg_pacer pacer;
    sink out = {0};
    int rated;
    int plain;

    lg_pacer_init(&pacer, 100, 1000, record_emit, record_drop, &out);
    offer(&pacer, &rated, 500, "a", "a1", 1000);
    offer(&pacer, &rated, 500, "a", "a2", 1100);
    offer(&pacer, &rated, 500, "b", "b1", 1200);
    offer(&pacer, &plain, 0, NULL, "p1", 1300);
    assert_string_equal(out.emitted, "a1,b1,p1");

    lg_pacer_release(&pacer, 1500);
    assert_string_equal(out.emitted, "a1,b1,p1,a2");
    lg_pacer_clear(&pacer);
}

static void pacer_replacement_keeps_turn(void **state)
{
    lg_pacer pacer;
    sink out = {0};
    int tag;

    lg_pacer_init(&pacer, 100, 1000, record_emit, record_drop, &out);
    offer(&pacer, &tag, 500, "a", "a1", 1000);
    offer(&pacer, &tag, 500, "b", "b1", 1050);
    offer(&pacer, &tag, 500, "a", "a2", 1100);
    offer(&pacer, &tag, 500, "b", "b2", 1100);
    offer(&pacer, &tag, 500, "a", "a3", 1200);
    assert_int_equal(lg_pacer_next_due(&pacer), 1500);
    assert_int_equal(lg_pacer_release(&pacer, 1500), 1550);
    assert_string_equal(out.emitted, "a1,b1,a3");
    assert_int_equal(lg_pacer_release(&pacer, 1550), -1);
    assert_string_equal(out.emitted, "a1,b1,a3,b2");
    lg_pacer_clear(&pacer);
}

static void pacer_reports_oldest_held_seq(void **state)
{
    lg_pacer pacer;
    sink out = {0};
    int tag;
    uint64_t first;

    lg_pacer_init(&pacer, 100, 1000, record_emit, record_drop, &out);
    assert_int_equal(lg_pacer_oldest_seq(&pacer), 0);
    offer(&pacer, &tag, 500, "a", "a1", 1000);
    offer(&pacer, &tag, 500, "b", "b1", 1000);
    offer(&pacer, &tag, 500, "a", "a2", 1100);
    first = next_seq;
    offer(&pacer, &tag, 500, "b", "b2", 1200);
    assert_int_equal(lg_pacer_oldest_seq(&pacer), first);

    /* Replacing the oldest held event moves the oldest seq to the next one. */
    offer(&pacer, &tag, 500, "a", "a3", 1300);
    assert_int_equal(lg_pacer_oldest_seq(&pacer), first + 1);
    lg_pacer_release(&pacer, 1500);
    assert_int_equal(lg_pacer_oldest_seq(&pacer), 0);
    assert_string_equal(out.emitted, "a1,b1,b2,a3");
    lg_pacer_clear(&pacer);
}

static void pacer_releases_early_past_byte_cap(void **state)
{
    lg_pacer pacer;
    sink out = {0};
    int tag;

    lg_pacer_init(&pacer, 100, 25, record_emit, record_drop, &out);
    offer(&pacer, &tag, 500, "a", "a1", 1000);
    offer(&pacer, &tag, 500, "b", "b1", 1001);
    offer(&pacer, &tag, 500, "c", "c1", 1002);
    offer(&pacer, &tag, 500, "a", "a2", 1003);
    offer(&pacer, &tag, 500, "b", "b2", 1003);
    assert_string_equal(out.emitted, "a1,b1,c1");

    /* The third held frame goes over 25 bytes: the one due first leaves early. */
    offer(&pacer, &tag, 500, "c", "c2", 1003);
    assert_string_equal(out.emitted, "a1,b1,c1,a2");
    assert_int_equal(lg_pacer_next_due(&pacer), 1501);
    lg_pacer_clear(&pacer);
}

static void pacer_heap_orders_many_keys(void **state)
{
    lg_pacer pacer;
    sink out = {0};
    int tag;
    char key[8];
    int64_t last_due = 0;

    lg_pacer_init(&pacer, 1000, 100000, record_emit, record_drop, &out);
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        offer(&pacer, &tag, 100 + (i * 37) % 50, key, "x", 1000);
    }
    out.emitted[0] = '\0';
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        offer(&pacer, &tag, 100 + (i * 37) % 50, key, "y", 1001);
    }
    assert_string_equal(out.emitted, "");

    /* Release one millisecond at a time: due times never go backwards. */
    for (int64_t now = 1001; lg_pacer_next_due(&pacer) >= 0; now++) {
        int64_t due = lg_pacer_next_due(&pacer);

        assert_true(due >= last_due);
        last_due = due;
        lg_pacer_release(&pacer, now);
    }
    assert_int_equal(strlen(out.emitted), 50 * 2 - 1);
    lg_pacer_clear(&pacer);
}

static void pacer_remove_tag_forgets_held(void **state)
{
    lg_pacer pacer;
    sink out = {0};
    int first;
    int second;

    lg_pacer_init(&pacer, 100, 1000, record_emit, record_drop, &out);
    offer(&pacer, &first, 500, "a", "x1", 1000);
    offer(&pacer, &first, 500, "a", "x2", 1100);
    offer(&pacer, &second, 0, NULL, "y1", 1100);
    lg_pacer_remove_tag(&pacer, &first);
    lg_pacer_release(&pacer, 1100);
    assert_string_equal(out.emitted, "x1,y1");
    assert_int_equal(out.dropped, 0);
    lg_pacer_clear(&pacer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pacer_without_rate_passes_through),
        cmocka_unit_test(pacer_holds_until_interval),
        cmocka_unit_test(pacer_newer_replaces_held),
        cmocka_unit_test(pacer_keys_are_independent),
        cmocka_unit_test(pacer_held_key_delays_no_other),
        cmocka_unit_test(pacer_replacement_keeps_turn),
        cmocka_unit_test(pacer_reports_oldest_held_seq),
        cmocka_unit_test(pacer_releases_early_past_byte_cap),
        cmocka_unit_test(pacer_heap_orders_many_keys),
        cmocka_unit_test(pacer_remove_tag_forgets_held),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
