/* Unit tests of the kafka source's record routing and of its statistics parser. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "route.h"
#include "start_time.h"
#include "consumer_stats.h"

static kafka_record_view record(const char *key, const char *value)
{
    return (kafka_record_view){
        .topic = "orders",
        .partition = 3,
        .key = key,
        .value = value,
        .value_len = strlen(value),
    };
}

static void template_fills_placeholders(void **state)
{
    kafka_record_view r = record("AAPL", "{}");
    lg_buf out = LG_BUF_INIT;
    lg_error err;

    assert_int_equal(kafka_route_channel("t.{topic}.{partition}.{key}", NULL, &r, &out, &err), 0);
    assert_string_equal(out.data, "t.orders.3.AAPL");
    assert_int_equal(kafka_route_channel("fixed", NULL, &r, &out, &err), 0);
    assert_string_equal(out.data, "fixed");
    lg_buf_free(&out);
}

static void key_placeholder_needs_a_key(void **state)
{
    kafka_record_view r = record(NULL, "{}");
    lg_buf out = LG_BUF_INIT;
    lg_error err;

    assert_int_equal(kafka_route_channel("orders.{key}", NULL, &r, &out, &err), -1);
    assert_non_null(strstr(err.message, "no key"));
    lg_buf_free(&out);
}

static void field_wins_over_template(void **state)
{
    kafka_record_view with_field = record("k", "{\"channel\":\"prices.X\",\"p\":1}");
    kafka_record_view without = record("k", "{\"p\":1}");
    kafka_record_view not_json = record("k", "<html>");
    lg_buf out = LG_BUF_INIT;
    lg_error err;

    assert_int_equal(kafka_route_channel("fallback.{key}", "channel", &with_field, &out, &err), 0);
    assert_string_equal(out.data, "prices.X");
    assert_int_equal(kafka_route_channel("fallback.{key}", "channel", &without, &out, &err), 0);
    assert_string_equal(out.data, "fallback.k");
    assert_int_equal(kafka_route_channel("fallback.{key}", "channel", &not_json, &out, &err), 0);
    assert_string_equal(out.data, "fallback.k");
    assert_int_equal(kafka_route_channel(NULL, "channel", &without, &out, &err), -1);
    assert_non_null(strstr(err.message, "no string field \"channel\""));
    lg_buf_free(&out);
}

static void unknown_placeholder_is_named(void **state)
{
    lg_error err;

    assert_int_equal(kafka_route_check_template("a.{topic}.{key}", &err), 0);
    assert_int_equal(kafka_route_check_template("a.{offset}", &err), -1);
    assert_non_null(strstr(err.message, "{offset}"));
    assert_int_equal(kafka_route_check_template("a.{open", &err), -1);
    assert_true(kafka_route_uses_key("x.{key}"));
    assert_false(kafka_route_uses_key("x.{topic}"));
    assert_false(kafka_route_uses_key(NULL));
}

typedef struct seen {
    int count;
    char topics[4][32];
    int32_t partitions[4];
    int64_t lags[4];
} seen;

static void remember(const kafka_partition_stats *stats, void *arg)
{
    seen *s = arg;

    snprintf(s->topics[s->count], sizeof(s->topics[0]), "%s", stats->topic);
    s->partitions[s->count] = stats->partition;
    s->lags[s->count] = stats->lag;
    s->count++;
}

static void stats_give_lag_and_brokers(void **state)
{
    const char *json = "{\"brokers\":{"
                       "\"127.0.0.1:9092/bootstrap\":{\"nodeid\":-1,\"state\":\"UP\"},"
                       "\"127.0.0.1:9092/1\":{\"nodeid\":1,\"state\":\"UP\"},"
                       "\"127.0.0.1:9093/2\":{\"nodeid\":2,\"state\":\"DOWN\"}},"
                       "\"topics\":{\"t\":{\"partitions\":{"
                       "\"0\":{\"partition\":0,\"desired\":true,\"ls_offset\":107,\"hi_offset\":108,\"app_offset\":100,"
                       "\"consumer_lag\":-1,\"fetch_state\":\"active\"},"
                       "\"2\":{\"partition\":2,\"desired\":true,\"ls_offset\":-1,\"hi_offset\":50,\"app_offset\":-1,"
                       "\"next_offset\":45},"
                       "\"3\":{\"partition\":3,\"desired\":true,\"ls_offset\":-1,\"hi_offset\":-1,\"app_offset\":-1},"
                       "\"1\":{\"partition\":1,\"desired\":false,\"consumer_lag\":9},"
                       "\"-1\":{\"partition\":-1,\"desired\":true,\"consumer_lag\":-1}}}}}";
    seen s = {0};
    int up = -1;

    assert_int_equal(kafka_stats_parse(json, strlen(json), remember, &s, &up), 0);
    assert_int_equal(up, 1);
    assert_int_equal(s.count, 3);
    for (int i = 0; i < s.count; i++) {
        assert_string_equal(s.topics[i], "t");
        if (s.partitions[i] == 0)
            assert_int_equal(s.lags[i], 7);
        else if (s.partitions[i] == 2)
            assert_int_equal(s.lags[i], 5);
        else
            assert_int_equal(s.lags[i], -1);
    }
}

static void stats_reject_other_json(void **state)
{
    seen s = {0};
    int up = 0;

    assert_int_equal(kafka_stats_parse("[1]", 3, remember, &s, &up), -1);
    assert_int_equal(kafka_stats_parse("not json", 8, remember, &s, &up), -1);
    assert_int_equal(s.count, 0);
}

static void start_time_accepts_rfc3339_and_millis(void **state)
{
    int64_t ms = 0;
    lg_error err;

    assert_int_equal(kafka_parse_start_time("2026-12-04T10:00:00Z", &ms, &err), 0);
    assert_int_equal(ms, 1796378400000LL);
    assert_int_equal(kafka_parse_start_time("2026-12-04T11:00:00.25+01:00", &ms, &err), 0);
    assert_int_equal(ms, 1796378400250LL);
    assert_int_equal(kafka_parse_start_time("2026-12-04T08:30:00-01:30", &ms, &err), 0);
    assert_int_equal(ms, 1796378400000LL);
    assert_int_equal(kafka_parse_start_time("1796378400000", &ms, &err), 0);
    assert_int_equal(ms, 1796378400000LL);
}

static void start_time_rejects_other_text(void **state)
{
    const char *bad[] = {"", "yesterday", "2026-12-04", "2026-12-04T10:00:00", "2026-12-04T10:00:00+1",
                         "-5", "12abc", "2026-12-04T10:00:00Zjunk"};
    int64_t ms;
    lg_error err;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(kafka_parse_start_time(bad[i], &ms, &err), -1);
        assert_non_null(strstr(err.message, "RFC 3339"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(template_fills_placeholders),
        cmocka_unit_test(key_placeholder_needs_a_key),
        cmocka_unit_test(field_wins_over_template),
        cmocka_unit_test(unknown_placeholder_is_named),
        cmocka_unit_test(stats_give_lag_and_brokers),
        cmocka_unit_test(stats_reject_other_json),
        cmocka_unit_test(start_time_accepts_rfc3339_and_millis),
        cmocka_unit_test(start_time_rejects_other_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
