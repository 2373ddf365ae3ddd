/* Unit tests of dedup windows: repeated origins are found, the oldest are forgotten. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "dedup.h"

static void repeated_origin_is_seen(void **state)
{
    lg_dedup dedup = {0};

    assert_int_equal(lg_dedup_seen(&dedup, "kafka:t:0:1", 3), 0);
    assert_int_equal(lg_dedup_seen(&dedup, "kafka:t:0:2", 3), 0);
    assert_int_equal(lg_dedup_seen(&dedup, "kafka:t:0:1", 3), 1);
    assert_int_equal(lg_dedup_seen(&dedup, "kafka:t:0:2", 3), 1);
    assert_int_equal(dedup.count, 2);
    lg_dedup_clear(&dedup);
}

static void oldest_origin_is_forgotten(void **state)
{
    lg_dedup dedup = {0};
    char origin[32];

    for (int i = 0; i < 5; i++) {
        snprintf(origin, sizeof(origin), "o%d", i);
        assert_int_equal(lg_dedup_seen(&dedup, origin, 3), 0);
    }

    /* o0 and o1 left the window of three; o2 to o4 are in it. */
    assert_int_equal(lg_dedup_seen(&dedup, "o4", 3), 1);
    assert_int_equal(lg_dedup_seen(&dedup, "o3", 3), 1);
    assert_int_equal(lg_dedup_seen(&dedup, "o2", 3), 1);
    assert_int_equal(lg_dedup_seen(&dedup, "o1", 3), 0);
    assert_int_equal(dedup.count, 3);
    lg_dedup_clear(&dedup);
}

static void capacity_change_starts_over(void **state)
{
    lg_dedup dedup = {0};

    assert_int_equal(lg_dedup_seen(&dedup, "a", 2), 0);
    assert_int_equal(lg_dedup_seen(&dedup, "a", 4), 0);
    assert_int_equal(lg_dedup_seen(&dedup, "a", 4), 1);
    assert_int_equal(lg_dedup_seen(&dedup, "a", 0), 0);
    assert_int_equal(lg_dedup_seen(&dedup, "a", 0), 0);
    lg_dedup_clear(&dedup);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(repeated_origin_is_seen),
        cmocka_unit_test(oldest_origin_is_forgotten),
        cmocka_unit_test(capacity_change_starts_over),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
