/* Unit tests of retry delays and of the random numbers behind their jitter. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backoff.h"
#include "random.h"

static void cap_doubles_until_the_maximum(void **state)
{
    assert_int_equal(lg_backoff_cap_ms(1000, 60000, 0), 1000);
    assert_int_equal(lg_backoff_cap_ms(1000, 60000, 1), 2000);
    assert_int_equal(lg_backoff_cap_ms(1000, 60000, 3), 8000);
    assert_int_equal(lg_backoff_cap_ms(1000, 60000, 6), 60000);
    assert_int_equal(lg_backoff_cap_ms(1000, 60000, 1000), 60000);
}

static void cap_never_below_the_base(void **state)
{
    assert_int_equal(lg_backoff_cap_ms(5000, 1000, 4), 5000);
    assert_int_equal(lg_backoff_cap_ms(0, 1000, 4), 1000);
}

static void cap_survives_huge_values(void **state)
{
    int64_t max = INT64_MAX - 1;

    assert_int_equal(lg_backoff_cap_ms(INT64_MAX / 4, max, 100), max);
}

static void delays_stay_within_bounds_and_spread(void **state)
{
    int64_t low = INT64_MAX;
    int64_t high = 0;

    for (int i = 0; i < 2000; i++) {
        int64_t delay = lg_backoff_ms(1000, 60000, 3);

        assert_true(delay >= 1000 && delay <= 8000);
        low = delay < low ? delay : low;
        high = delay > high ? delay : high;
    }

    /* Full jitter: 2000 draws cover most of the range. */
    assert_true(low < 2000);
    assert_true(high > 7000);
}

static void no_failure_means_the_base(void **state)
{
    for (int i = 0; i < 100; i++)
        assert_int_equal(lg_backoff_ms(1500, 60000, 0), 1500);
}

static void jitter_spreads_from_zero_to_the_ceiling(void **state)
{
    int64_t low = INT64_MAX;
    int64_t high = 0;

    for (int i = 0; i < 2000; i++) {
        int64_t delay = lg_backoff_jitter_ms(100, 10000, 20);

        assert_true(delay >= 0 && delay <= 10000);
        low = delay < low ? delay : low;
        high = delay > high ? delay : high;
    }
    assert_true(low < 1000);
    assert_true(high > 9000);

    for (int i = 0; i < 200; i++) {
        assert_true(lg_backoff_jitter_ms(100, 10000, 1) <= 100);
        assert_true(lg_backoff_jitter_ms(100, 10000, 3) <= 400);
    }
}

static void random_below_respects_its_bound(void **state)
{
    int seen[4] = {0};

    assert_int_equal(lg_random_below(0), 0);
    assert_int_equal(lg_random_below(1), 0);
    for (int i = 0; i < 4000; i++) {
        uint64_t value = lg_random_below(4);

        assert_true(value < 4);
        seen[value]++;
    }
    for (int v = 0; v < 4; v++)
        assert_true(seen[v] > 800);
}

static void random_between_includes_both_ends(void **state)
{
    int low_seen = 0;
    int high_seen = 0;

    assert_int_equal(lg_random_between(7, 3), 7);
    for (int i = 0; i < 1000; i++) {
        int64_t value = lg_random_between(-2, 2);

        assert_true(value >= -2 && value <= 2);
        low_seen |= value == -2;
        high_seen |= value == 2;
    }
    assert_true(low_seen && high_seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cap_doubles_until_the_maximum),
        cmocka_unit_test(cap_never_below_the_base),
        cmocka_unit_test(cap_survives_huge_values),
        cmocka_unit_test(delays_stay_within_bounds_and_spread),
        cmocka_unit_test(no_failure_means_the_base),
        cmocka_unit_test(jitter_spreads_from_zero_to_the_ceiling),
        cmocka_unit_test(random_below_respects_its_bound),
        cmocka_unit_test(random_between_includes_both_ends),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
