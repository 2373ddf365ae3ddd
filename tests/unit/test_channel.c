/* Unit tests of channel history, snapshots, resume ids and rule matching. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "channel.h"
#include "glob.h"
#include "history.h"
#include "hub.h"
#include "messages.h"
#include "rules.h"
#include "snapshot.h"

static lg_event *make_event(uint64_t seq, const char *key, int64_t received_ms)
{
    lg_event *event = lg_event_new(key, NULL, "{}", 2, 1000);

    event->seq = seq;
    event->received_ms = received_ms;
    return event;
}

static void history_find_locates_by_seq(void **state)
{
    lg_history history;

    (void)state;
    lg_history_init(&history, 4);
    for (uint64_t seq = 10; seq <= 70; seq += 10) {
        lg_event *event = make_event(seq, NULL, 0);

        lg_history_push(&history, event);
        lg_event_unref(event);
    }

    /* 10, 20 and 30 were evicted; the ring wrapped around. */
    assert_null(lg_history_find(&history, 30));
    for (uint64_t seq = 40; seq <= 70; seq += 10)
        assert_int_equal(lg_history_find(&history, seq)->seq, seq);
    assert_null(lg_history_find(&history, 45));
    assert_null(lg_history_find(&history, 80));
    lg_history_clear(&history);
}

static void history_keeps_newest_by_count(void **state)
{
    lg_history history;

    lg_history_init(&history, 3);
    for (uint64_t seq = 1; seq <= 5; seq++) {
        lg_event *event = make_event(seq, NULL, 0);

        lg_history_push(&history, event);
        lg_event_unref(event);
    }

    assert_int_equal(history.count, 3);
    assert_int_equal(lg_history_at(&history, 0)->seq, 3);
    assert_int_equal(lg_history_at(&history, 2)->seq, 5);
    assert_int_equal(history.evicted_seq, 2);
    lg_history_clear(&history);
}

static void history_since_returns_missed_in_order(void **state)
{
    lg_history history;
    lg_event **events;
    size_t count;

    lg_history_init(&history, 10);
    for (uint64_t seq = 10; seq <= 50; seq += 10) {
        lg_event *event = make_event(seq, NULL, 0);

        lg_history_push(&history, event);
        lg_event_unref(event);
    }

    assert_int_equal(lg_history_since(&history, 20, &events, &count), 0);
    assert_int_equal(count, 3);
    assert_int_equal(events[0]->seq, 30);
    assert_int_equal(events[1]->seq, 40);
    assert_int_equal(events[2]->seq, 50);
    for (size_t i = 0; i < count; i++)
        lg_event_unref(events[i]);
    free(events);

    /* An id between two events of this channel (from another channel) works too. */
    assert_int_equal(lg_history_since(&history, 35, &events, &count), 0);
    assert_int_equal(count, 2);
    assert_int_equal(events[0]->seq, 40);
    for (size_t i = 0; i < count; i++)
        lg_event_unref(events[i]);
    free(events);

    assert_int_equal(lg_history_since(&history, 50, &events, &count), 0);
    assert_int_equal(count, 0);
    assert_null(events);
    lg_history_clear(&history);
}

static void history_since_reports_evicted(void **state)
{
    lg_history history;
    lg_event **events;
    size_t count;

    lg_history_init(&history, 2);
    for (uint64_t seq = 1; seq <= 4; seq++) {
        lg_event *event = make_event(seq, NULL, 0);

        lg_history_push(&history, event);
        lg_event_unref(event);
    }

    assert_int_equal(lg_history_since(&history, 1, &events, &count), -1);
    assert_null(events);
    assert_int_equal(lg_history_since(&history, 2, &events, &count), 0);
    assert_int_equal(count, 2);
    for (size_t i = 0; i < count; i++)
        lg_event_unref(events[i]);
    free(events);
    lg_history_clear(&history);
}

static void history_without_capacity_evicts_all(void **state)
{
    lg_history history;
    lg_event **events;
    size_t count;
    lg_event *event = make_event(7, NULL, 0);

    lg_history_init(&history, 0);
    lg_history_push(&history, event);
    lg_event_unref(event);

    assert_int_equal(history.count, 0);
    assert_int_equal(lg_history_since(&history, 6, &events, &count), -1);
    assert_int_equal(lg_history_since(&history, 7, &events, &count), 0);
    assert_int_equal(count, 0);
    lg_history_clear(&history);
}

static void history_expires_by_age(void **state)
{
    lg_history history;

    lg_history_init(&history, 10);
    for (uint64_t seq = 1; seq <= 4; seq++) {
        lg_event *event = make_event(seq, NULL, (int64_t)seq * 1000);

        lg_history_push(&history, event);
        lg_event_unref(event);
    }

    lg_history_expire(&history, 4500, 2000);
    assert_int_equal(history.count, 2);
    assert_int_equal(lg_history_at(&history, 0)->seq, 3);
    assert_int_equal(history.evicted_seq, 2);

    lg_history_expire(&history, 100000, 0);
    assert_int_equal(history.count, 2);
    lg_history_clear(&history);
}

static void snapshot_last_keeps_newest(void **state)
{
    lg_snapshot snapshot;
    lg_event **events;
    lg_event *first = make_event(1, "a", 0);
    lg_event *second = make_event(2, "b", 0);

    lg_snapshot_init(&snapshot, LG_SNAPSHOT_LAST, 10);
    lg_snapshot_update(&snapshot, first);
    lg_snapshot_update(&snapshot, second);

    assert_int_equal(lg_snapshot_collect(&snapshot, &events), 1);
    assert_ptr_equal(events[0], second);
    lg_event_unref(events[0]);
    free(events);

    lg_event_unref(first);
    lg_event_unref(second);
    lg_snapshot_clear(&snapshot);
}

static void snapshot_keyed_keeps_newest_per_key(void **state)
{
    const char *keys[] = {"a", "b", "a", "c", NULL};
    lg_snapshot snapshot;
    lg_event **events;
    size_t count;

    lg_snapshot_init(&snapshot, LG_SNAPSHOT_KEYED, 10);
    for (uint64_t i = 0; keys[i] != NULL; i++) {
        lg_event *event = make_event(i + 1, keys[i], 0);

        lg_snapshot_update(&snapshot, event);
        lg_event_unref(event);
    }

    count = lg_snapshot_collect(&snapshot, &events);
    assert_int_equal(count, 3);
    /* Least recently updated first: b (seq 2), a (seq 3), c (seq 4). */
    assert_string_equal(events[0]->key, "b");
    assert_string_equal(events[1]->key, "a");
    assert_int_equal(events[1]->seq, 3);
    assert_string_equal(events[2]->key, "c");
    for (size_t i = 0; i < count; i++)
        lg_event_unref(events[i]);
    free(events);
    lg_snapshot_clear(&snapshot);
}

static void snapshot_keyed_forgets_oldest_key(void **state)
{
    const char *keys[] = {"a", "b", "a", "c", NULL};
    lg_snapshot snapshot;
    lg_event **events;
    size_t count;

    lg_snapshot_init(&snapshot, LG_SNAPSHOT_KEYED, 2);
    for (uint64_t i = 0; keys[i] != NULL; i++) {
        lg_event *event = make_event(i + 1, keys[i], 0);

        lg_snapshot_update(&snapshot, event);
        lg_event_unref(event);
    }

    count = lg_snapshot_collect(&snapshot, &events);
    assert_int_equal(count, 2);
    assert_string_equal(events[0]->key, "a");
    assert_string_equal(events[1]->key, "c");
    for (size_t i = 0; i < count; i++)
        lg_event_unref(events[i]);
    free(events);
    lg_snapshot_clear(&snapshot);
}

static void snapshot_none_is_empty(void **state)
{
    lg_snapshot snapshot;
    lg_event **events;
    lg_event *event = make_event(1, NULL, 0);

    lg_snapshot_init(&snapshot, LG_SNAPSHOT_NONE, 10);
    lg_snapshot_update(&snapshot, event);
    assert_int_equal(lg_snapshot_collect(&snapshot, &events), 0);
    assert_null(events);
    lg_event_unref(event);
    lg_snapshot_clear(&snapshot);
}

/* ---- hub: ids and resume ---- */

typedef struct hub_fixture {
    struct event_base *base;
    lg_rule rules[2];
    lg_hub *hub;
} hub_fixture;

static int hub_setup(void **state)
{
    hub_fixture *fx = calloc(1, sizeof(*fx));
    lg_error err;

    fx->base = event_base_new();
    fx->rules[0] = (lg_rule){.match = "small.*",
                             .history = {.length = 3},
                             .snapshot = LG_SNAPSHOT_LAST,
                             .snapshot_max_keys = 100,
                             .publish = 1,
                             .subscribe = 1};
    fx->rules[1] = (lg_rule){.match = "*",
                             .history = {.length = 100},
                             .dedup_window = 100,
                             .snapshot = LG_SNAPSHOT_KEYED,
                             .snapshot_max_keys = 100,
                             .publish = 1,
                             .subscribe = 1};
    fx->hub = lg_hub_new(fx->base, fx->rules, 2, 10, &err);
    assert_non_null(fx->hub);
    *state = fx;
    return 0;
}

static int hub_teardown(void **state)
{
    hub_fixture *fx = *state;

    lg_hub_free(fx->hub);
    event_base_free(fx->base);
    free(fx);
    return 0;
}

static lg_channel *publish(hub_fixture *fx, const char *channel, const char *key, const char *data)
{
    lg_event *event = lg_event_new(key, NULL, data, strlen(data), 0);
    lg_publish_result result;
    lg_error err;
    int status;

    assert_int_equal(lg_hub_publish(fx->hub, channel, event, &result, &status, &err), 0);
    assert_int_equal(result.count, 1);
    return result.channel;
}

/* The outcome of resolving one subscription, as the hub computes it. */
typedef struct resume {
    lg_subscribe_result result;
    lg_event_list events;
} resume;

static void resolve(hub_fixture *fx, lg_channel *channel, const char *last_id, resume *out)
{
    memset(out, 0, sizeof(*out));
    lg_hub_resolve_resume(fx->hub, channel, last_id, &out->result, &out->events);
}

static void release_resume(resume *out)
{
    for (size_t i = 0; i < out->events.count; i++)
        lg_event_unref(out->events.items[i]);
    free(out->events.items);
}

static void hub_assigns_increasing_ids(void **state)
{
    hub_fixture *fx = *state;
    lg_channel *channel = publish(fx, "prices.a", NULL, "1");
    char *first = strdup(channel->last_id);
    uint64_t seq;

    publish(fx, "prices.a", NULL, "2");
    assert_string_not_equal(first, channel->last_id);
    assert_int_equal(lg_hub_parse_id(fx->hub, first, &seq), 0);
    assert_int_equal(seq, 1);
    assert_int_equal(lg_hub_parse_id(fx->hub, channel->last_id, &seq), 0);
    assert_int_equal(seq, 2);
    assert_int_equal(channel->events_in, 2);
    free(first);
}

static void hub_rejects_foreign_ids(void **state)
{
    hub_fixture *fx = *state;
    uint64_t seq;
    char *future;

    publish(fx, "prices.a", NULL, "1");
    future = lg_sprintf("%s-99", fx->hub->epoch);
    assert_int_equal(lg_hub_parse_id(fx->hub, "otherepoch-1", &seq), -1);
    assert_int_equal(lg_hub_parse_id(fx->hub, future, &seq), -1);
    assert_int_equal(lg_hub_parse_id(fx->hub, "", &seq), -1);
    assert_int_equal(lg_hub_parse_id(fx->hub, fx->hub->epoch, &seq), -1);
    free(future);
}

static void hub_resume_replays_missed(void **state)
{
    hub_fixture *fx = *state;
    lg_channel *channel = publish(fx, "prices.a", NULL, "1");
    char *last_seen = strdup(channel->last_id);
    resume answer;

    publish(fx, "prices.a", NULL, "2");
    publish(fx, "other", NULL, "x");
    publish(fx, "prices.a", NULL, "3");
    publish(fx, "prices.a", NULL, "4");

    resolve(fx, channel, last_seen, &answer);
    assert_true(answer.result.recovered);
    assert_false(answer.result.reset);
    assert_int_equal(answer.events.count, 3);
    assert_string_equal(answer.events.items[0]->data, "2");
    assert_string_equal(answer.events.items[1]->data, "3");
    assert_string_equal(answer.events.items[2]->data, "4");
    release_resume(&answer);
    free(last_seen);
}

static void hub_resume_evicted_resets(void **state)
{
    hub_fixture *fx = *state;
    lg_channel *channel = publish(fx, "small.a", NULL, "1");
    char *last_seen = strdup(channel->last_id);
    resume answer;

    for (int i = 2; i <= 6; i++)
        publish(fx, "small.a", NULL, i % 2 ? "odd" : "even");

    resolve(fx, channel, last_seen, &answer);
    assert_false(answer.result.recovered);
    assert_true(answer.result.reset);
    assert_string_equal(answer.result.reset_reason, "evicted");
    assert_int_equal(answer.events.count, 1);
    assert_string_equal(answer.events.items[0]->id, channel->last_id);
    release_resume(&answer);
    free(last_seen);
}

static void hub_resume_unknown_resets(void **state)
{
    hub_fixture *fx = *state;
    lg_channel *channel = publish(fx, "prices.k", "a", "1");
    resume answer;

    publish(fx, "prices.k", "b", "2");
    resolve(fx, channel, "someone-else-7", &answer);
    assert_true(answer.result.reset);
    assert_string_equal(answer.result.reset_reason, "unknown id");
    assert_int_equal(answer.events.count, 2);
    release_resume(&answer);
}

static void hub_subscribe_without_id_gets_snapshot(void **state)
{
    hub_fixture *fx = *state;
    lg_channel *channel = publish(fx, "prices.k", "a", "1");
    resume answer;

    publish(fx, "prices.k", "b", "2");
    publish(fx, "prices.k", "a", "3");
    resolve(fx, channel, NULL, &answer);
    assert_false(answer.result.reset);
    assert_false(answer.result.recovered);
    assert_int_equal(answer.events.count, 2);
    assert_string_equal(answer.events.items[0]->data, "2");
    assert_string_equal(answer.events.items[1]->data, "3");
    release_resume(&answer);
}

static void hub_merged_resume_is_in_id_order(void **state)
{
    hub_fixture *fx = *state;
    lg_channel *c = publish(fx, "merge.c", NULL, "c0");
    lg_channel *d;
    char *last_seen = strdup(c->last_id);
    resume first;
    resume second;
    lg_event_list all = {0};

    d = publish(fx, "merge.d", NULL, "d1");
    publish(fx, "merge.c", NULL, "c2");
    publish(fx, "merge.d", NULL, "d3");
    publish(fx, "merge.c", NULL, "c4");

    resolve(fx, c, last_seen, &first);
    resolve(fx, d, last_seen, &second);
    for (size_t i = 0; i < first.events.count; i++)
        lg_event_list_push(&all, first.events.items[i]);
    for (size_t i = 0; i < second.events.count; i++)
        lg_event_list_push(&all, second.events.items[i]);
    lg_event_list_sort(&all);

    assert_int_equal(all.count, 4);
    assert_string_equal(all.items[0]->data, "d1");
    assert_string_equal(all.items[1]->data, "c2");
    assert_string_equal(all.items[2]->data, "d3");
    assert_string_equal(all.items[3]->data, "c4");
    free(all.items);
    release_resume(&first);
    release_resume(&second);
    free(last_seen);
}

/* ---- positions ---- */

static void positions_format_and_parse_round_trip(void **state)
{
    lg_positions positions = {0};
    lg_positions parsed = {0};
    lg_buf id = LG_BUF_INIT;

    lg_positions_advance(&positions, "kafka:orders:0", 14, 12);
    lg_positions_advance(&positions, "kafka:orders:1", 14, 7);
    lg_positions_advance(&positions, "kafka:orders:0", 14, 13);
    assert_int_equal(lg_positions_format(&positions, &id), 0);
    assert_string_equal(id.data, "kafka:orders:0:13,kafka:orders:1:7");
    assert_true(lg_positions_is_id(id.data));
    assert_false(lg_positions_is_id("mx9fugu7-85"));

    assert_int_equal(lg_positions_parse(id.data, &parsed), 0);
    assert_int_equal(parsed.count, 2);
    assert_string_equal(parsed.items[1].log, "kafka:orders:1");
    assert_int_equal(parsed.items[1].offset, 7);
    assert_int_equal(positions.items[0].first, 12);
    assert_int_equal(positions.items[0].evicted, 11);

    lg_buf_free(&id);
    lg_positions_clear(&positions);
    lg_positions_clear(&parsed);
}

static void positions_parse_rejects_malformed(void **state)
{
    static const char *const bad[] = {
        "kafka:orders:0:", "kafka:orders:0:-1", "kafka:orders:0:1x", ":5", "kafka:a:0:1,kafka:a:0:2",
        "kafka:a:0:1,",    "",                  "kafka:a:0:99999999999999999999",
    };
    lg_positions parsed = {0};

    /* Only the text after the last ':' is the offset: this is log "kafka:orders" at offset 0. */
    assert_int_equal(lg_positions_parse("kafka:orders:0", &parsed), 0);
    assert_string_equal(parsed.items[0].log, "kafka:orders");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(lg_positions_parse(bad[i], &parsed), -1);
    lg_positions_clear(&parsed);
}

static lg_channel *publish_at(hub_fixture *fx, const char *channel, const char *origin, const char *data)
{
    lg_event *event = lg_event_new(NULL, NULL, data, strlen(data), 0);
    lg_publish_result result;
    lg_error err;
    int status;

    assert_int_equal(lg_event_set_origin(event, origin, 1, &err), 0);
    assert_int_equal(lg_hub_publish(fx->hub, channel, event, &result, &status, &err), 0);
    return result.channel;
}

static void hub_positioned_events_get_position_ids(void **state)
{
    hub_fixture *fx = *state;
    lg_channel *channel = publish_at(fx, "orders", "kafka:orders:0:5", "a");

    assert_string_equal(channel->last_id, "kafka:orders:0:5");
    publish_at(fx, "orders", "kafka:orders:1:2", "b");
    assert_string_equal(channel->last_id, "kafka:orders:0:5,kafka:orders:1:2");
    publish(fx, "orders", NULL, "local");
    assert_false(lg_positions_is_id(channel->last_id));
}

static void hub_duplicate_still_moves_position(void **state)
{
    hub_fixture *fx = *state;
    lg_event *fetched = lg_event_new(NULL, NULL, "1", 1, 0);
    lg_publish_result result;
    lg_channel *channel;
    lg_error err;
    int status;

    /* The copy fetched through Redis comes first and has no position. */
    assert_int_equal(lg_event_set_origin(fetched, "kafka:orders:0:7", 0, &err), 0);
    assert_int_equal(lg_hub_publish(fx->hub, "orders", fetched, &result, &status, &err), 0);
    channel = result.channel;
    assert_int_equal(channel->positions.count, 0);

    publish_at(fx, "orders", "kafka:orders:0:7", "1");
    assert_int_equal(channel->duplicates, 1);
    assert_int_equal(channel->positions.count, 1);
    assert_int_equal(channel->positions.items[0].offset, 7);
}

static void hub_position_resume_skips_what_client_has(void **state)
{
    hub_fixture *fx = *state;
    lg_channel *channel = publish_at(fx, "orders", "kafka:orders:0:5", "p0-5");
    resume answer;

    publish_at(fx, "orders", "kafka:orders:1:2", "p1-2");
    publish_at(fx, "orders", "kafka:orders:0:6", "p0-6");
    publish_at(fx, "orders", "kafka:orders:1:3", "p1-3");

    /* A client from another node that read partition 1 further than partition 0. */
    resolve(fx, channel, "kafka:orders:0:5,kafka:orders:1:3", &answer);
    assert_true(answer.result.recovered);
    assert_int_equal(answer.events.count, 1);
    assert_string_equal(answer.events.items[0]->data, "p0-6");
    /* Its id carries the client's own offset of partition 1. */
    assert_string_equal(answer.events.items[0]->id, "kafka:orders:0:6,kafka:orders:1:3");
    release_resume(&answer);
}

static void hub_position_resume_before_history_resets(void **state)
{
    hub_fixture *fx = *state;
    lg_channel *channel = publish_at(fx, "orders", "kafka:orders:0:5", "a");
    resume answer;

    /* Offsets 3 and 4 never reached this node's history, and without a
     * source to read them back the client gets the reset. */
    resolve(fx, channel, "kafka:orders:0:2", &answer);
    assert_true(answer.result.reset);
    assert_string_equal(answer.result.reset_reason, "evicted");
    release_resume(&answer);

    resolve(fx, channel, "kafka:orders:0:4", &answer);
    assert_true(answer.result.recovered);
    assert_int_equal(answer.events.count, 1);
    release_resume(&answer);

    /* A log this channel never had. */
    resolve(fx, channel, "kafka:other:0:4", &answer);
    assert_true(answer.result.reset);
    assert_string_equal(answer.result.reset_reason, "unknown id");
    release_resume(&answer);
}

static void hub_channel_errors(void **state)
{
    hub_fixture *fx = *state;
    lg_rule only_prices = {.match = "prices.*", .history = {.length = 1}, .snapshot_max_keys = 1};
    lg_hub *strict = lg_hub_new(fx->base, &only_prices, 1, 1, NULL);
    lg_error err;
    int status = 0;

    assert_null(lg_hub_channel(strict, "bad name", &status, &err));
    assert_int_equal(status, 400);
    assert_null(lg_hub_channel(strict, "orders.x", &status, &err));
    assert_int_equal(status, 404);
    assert_non_null(lg_hub_channel(strict, "prices.a", &status, &err));
    assert_null(lg_hub_channel(strict, "prices.b", &status, &err));
    assert_int_equal(status, 503);
    lg_hub_free(strict);
}

/* ---- rules and globs ---- */

static void glob_matches_patterns(void **state)
{
    assert_true(lg_glob_match("prices.*", "prices.AAPL"));
    assert_true(lg_glob_match("prices.*", "prices.a.b"));
    assert_false(lg_glob_match("prices.*", "prices"));
    assert_false(lg_glob_match("prices.*", "xprices.a"));
    assert_true(lg_glob_match("*", "anything.at.all"));
    assert_true(lg_glob_match("system.cpu", "system.cpu"));
    assert_false(lg_glob_match("system.cpu", "system.cpus"));
    assert_true(lg_glob_match("trades.?", "trades.x"));
    assert_false(lg_glob_match("trades.?", "trades.xy"));
    assert_true(lg_glob_match("a[bc]d", "acd"));
    assert_false(lg_glob_match("a[bc]d", "aed"));
    assert_true(lg_glob_match("lit\\*", "lit*"));
    assert_false(lg_glob_match("lit\\*", "litx"));
}

static void glob_detects_wildcards(void **state)
{
    assert_true(lg_glob_has_wildcard("a.*"));
    assert_true(lg_glob_has_wildcard("a?"));
    assert_false(lg_glob_has_wildcard("system.cpu"));
}

static void rules_first_match_wins(void **state)
{
    lg_rule rules[] = {
        {.match = "system.cpu"},
        {.match = "system.*"},
        {.match = "*"},
    };

    assert_ptr_equal(lg_rules_find(rules, 3, "system.cpu"), &rules[0]);
    assert_ptr_equal(lg_rules_find(rules, 3, "system.memory"), &rules[1]);
    assert_ptr_equal(lg_rules_find(rules, 3, "prices.a"), &rules[2]);
    assert_null(lg_rules_find(rules, 2, "prices.a"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(history_find_locates_by_seq),
        cmocka_unit_test(history_keeps_newest_by_count),
        cmocka_unit_test(history_since_returns_missed_in_order),
        cmocka_unit_test(history_since_reports_evicted),
        cmocka_unit_test(history_without_capacity_evicts_all),
        cmocka_unit_test(history_expires_by_age),
        cmocka_unit_test(snapshot_last_keeps_newest),
        cmocka_unit_test(snapshot_keyed_keeps_newest_per_key),
        cmocka_unit_test(snapshot_keyed_forgets_oldest_key),
        cmocka_unit_test(snapshot_none_is_empty),
        cmocka_unit_test_setup_teardown(hub_assigns_increasing_ids, hub_setup, hub_teardown),
        cmocka_unit_test_setup_teardown(hub_rejects_foreign_ids, hub_setup, hub_teardown),
        cmocka_unit_test_setup_teardown(hub_resume_replays_missed, hub_setup, hub_teardown),
        cmocka_unit_test_setup_teardown(hub_resume_evicted_resets, hub_setup, hub_teardown),
        cmocka_unit_test_setup_teardown(hub_resume_unknown_resets, hub_setup, hub_teardown),
        cmocka_unit_test_setup_teardown(hub_subscribe_without_id_gets_snapshot, hub_setup, hub_teardown),
        cmocka_unit_test_setup_teardown(hub_merged_resume_is_in_id_order, hub_setup, hub_teardown),
        cmocka_unit_test_setup_teardown(hub_channel_errors, hub_setup, hub_teardown),
        cmocka_unit_test(positions_format_and_parse_round_trip),
        cmocka_unit_test(positions_parse_rejects_malformed),
        cmocka_unit_test_setup_teardown(hub_positioned_events_get_position_ids, hub_setup, hub_teardown),
        cmocka_unit_test_setup_teardown(hub_duplicate_still_moves_position, hub_setup, hub_teardown),
        cmocka_unit_test_setup_teardown(hub_position_resume_skips_what_client_has, hub_setup, hub_teardown),
        cmocka_unit_test_setup_teardown(hub_position_resume_before_history_resets, hub_setup, hub_teardown),
        cmocka_unit_test(glob_matches_patterns),
        cmocka_unit_test(glob_detects_wildcards),
        cmocka_unit_test(rules_first_match_wins),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
