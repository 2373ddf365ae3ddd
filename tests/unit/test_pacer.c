/* Unit tests of the pacer: rates per key, replacement by newer events, and order kept. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

static void offer(lg_pacer *pacer, void *tag, int64_t interval_ms, const char *key, const char *data, int64_t now_ms)
{
    lg_event *event = lg_event_new(key, NULL, data, strlen(data), 0);

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

static void pacer_keeps_order_behind_held(void **state)
{
    lg_pacer pacer;
    sink out = {0};
    int rated;
    int plain;

    lg_pacer_init(&pacer, 100, 1000, record_emit, record_drop, &out);
    offer(&pacer, &rated, 500, "a", "a1", 1000);
    offer(&pacer, &rated, 500, "a", "a2", 1100);
    /* Due now, but an older event is held: it waits behind it. */
    offer(&pacer, &rated, 500, "b", "b1", 1200);
    offer(&pacer, &plain, 0, NULL, "p1", 1300);
    assert_string_equal(out.emitted, "a1");

    lg_pacer_release(&pacer, 1500);
    assert_string_equal(out.emitted, "a1,a2,b1,p1");
    lg_pacer_clear(&pacer);
}

static void pacer_replacement_moves_to_end(void **state)
{
    lg_pacer pacer;
    sink out = {0};
    int tag;

    lg_pacer_init(&pacer, 100, 1000, record_emit, record_drop, &out);
    offer(&pacer, &tag, 500, "a", "a1", 1000);
    offer(&pacer, &tag, 500, "b", "b1", 1000);
    offer(&pacer, &tag, 500, "a", "a2", 1100);
    offer(&pacer, &tag, 500, "b", "b2", 1100);
    offer(&pacer, &tag, 500, "a", "a3", 1200);
    lg_pacer_release(&pacer, 1500);
    assert_string_equal(out.emitted, "a1,b1,b2,a3");
    lg_pacer_clear(&pacer);
}

static void pacer_flushes_past_byte_cap(void **state)
{
    lg_pacer pacer;
    sink out = {0};
    int tag;

    lg_pacer_init(&pacer, 100, 25, record_emit, record_drop, &out);
    offer(&pacer, &tag, 500, "a", "a1", 1000);
    offer(&pacer, &tag, 500, "b", "b1", 1000);
    offer(&pacer, &tag, 500, "a", "a2", 1001);
    offer(&pacer, &tag, 500, "b", "b2", 1001);
    assert_string_equal(out.emitted, "a1,b1");
    offer(&pacer, &tag, 0, "c", "c1", 1002);
    assert_string_equal(out.emitted, "a1,b1,a2,b2,c1");
    assert_int_equal(lg_pacer_next_due(&pacer), -1);
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
        cmocka_unit_test(pacer_keeps_order_behind_held),
        cmocka_unit_test(pacer_replacement_moves_to_end),
        cmocka_unit_test(pacer_flushes_past_byte_cap),
        cmocka_unit_test(pacer_remove_tag_forgets_held),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
