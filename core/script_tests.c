/* Runner of a configuration's script tests: inputs into a hub without clients, outputs compared with expectations. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "alloc.h"
#include "hub.h"
#include "options.h"
#include "rule_scripts.h"
#include "script_tests.h"

/* The world of one test: a hub, fresh scripts and a clock that moves only on advance steps. */
typedef struct lg_test_env {
    struct event_base *base;
    lg_hub *hub;
    lg_script **scripts;
    size_t script_count;
    int64_t clock_ms;
    lg_event_list seen;
} lg_test_env;

/* ---- YAML values as JSON ---- */

/* Convert NODE like livegate.config: unquoted true, false, null and
 * numbers keep their type, everything else is a string. */
static json_t *lg_test_to_json(const lg_conf_node *node)
{
    json_t *value;

    switch (node->kind) {
    case LG_CONF_MAP:
        value = json_object();
        for (size_t i = 0; i < node->count; i++)
            json_object_set_new(value, node->pairs[i].key, lg_test_to_json(node->pairs[i].value));
        return value;
    case LG_CONF_SEQ:
        value = json_array();
        for (size_t i = 0; i < node->count; i++)
            json_array_append_new(value, lg_test_to_json(node->items[i]));
        return value;
    case LG_CONF_SCALAR:
        break;
    }

    if (node->value == NULL)
        return json_null();

    /* An unquoted scalar that reads as a JSON number, true, false or null keeps that type. */
    if (!node->quoted) {
        json_t *typed = json_loads(node->value, JSON_DECODE_ANY, NULL);

        if (typed != NULL && !json_is_array(typed) && !json_is_object(typed) && !json_is_string(typed))
            return typed;
        json_decref(typed);
    }
    return json_string(node->value);
}

static const char *lg_test_string(const lg_conf_node *map, const char *key)
{
    const lg_conf_node *node = lg_conf_map_get(map, key, NULL);

    return node != NULL && node->kind == LG_CONF_SCALAR ? node->value : NULL;
}

/* Check that every key of the mapping STEP is one of ALLOWED (NULL-terminated);
 * WHAT names the mapping in the error. Returns 0, or -1 with ERR set. */
static int lg_test_check_keys(const lg_conf_node *step, const char *const *allowed, const char *what, lg_error *err)
{
    for (size_t i = 0; i < step->count; i++) {
        const lg_conf_pair *pair = &step->pairs[i];
        size_t k = 0;

        while (allowed[k] != NULL && strcmp(allowed[k], pair->key) != 0)
            k++;
        if (allowed[k] == NULL) {
            char list[128] = "";

            for (k = 0; allowed[k] != NULL; k++) {
                strncat(list, k > 0 ? ", " : "", sizeof(list) - strlen(list) - 1);
                strncat(list, allowed[k], sizeof(list) - strlen(list) - 1);
            }
            return lg_error_set(err, "%s:%u:%u: unknown key '%s' in %s (use %s)", step->file, pair->line,
                                pair->column, pair->key, what, list);
        }
    }
    return 0;
}

/* Read the optional integer field "time" of MAP into *TIME_MS. Returns 1
 * when present, 0 when absent, -1 with ERR set when it is not an integer. */
static int lg_test_time(const lg_conf_node *map, int64_t *time_ms, lg_error *err)
{
    const lg_conf_node *node = lg_conf_map_get(map, "time", NULL);
    char *end;

    if (node == NULL)
        return 0;
    if (node->kind == LG_CONF_SCALAR && node->value != NULL) {
        errno = 0;
        *time_ms = strtoll(node->value, &end, 10);
        if (errno == 0 && end != node->value && *end == '\0')
            return 1;
    }
    return lg_error_set(err, "%s:%u:%u: time expects an integer of milliseconds since the Unix epoch", node->file,
                        node->line, node->column);
}

/* ---- the script host ---- */

static int64_t lg_test_now(void *arg)
{
    return ((lg_test_env *)arg)->clock_ms;
}

static void lg_test_emit(void *arg, const char *channel, lg_event *event, unsigned hops)
{
    lg_hub_emit(((lg_test_env *)arg)->hub, channel, event, hops);
}

static void lg_test_flush(void *arg)
{
    lg_test_env *env = arg;

    if (!env->hub->publishing)
        lg_hub_flush_emits(env->hub);
}

static void lg_test_observe(void *arg, lg_event *event)
{
    lg_event_list_push(&((lg_test_env *)arg)->seen, lg_event_ref(event));
}

static int lg_test_env_init(lg_test_env *env, const lg_settings *settings, const lg_script_test *test, lg_error *err)
{
    lg_script_host host = {.now = lg_test_now, .emit = lg_test_emit, .flush = lg_test_flush, .arg = env};

    memset(env, 0, sizeof(*env));
    env->clock_ms = test->start_time;
    env->base = event_base_new();
    env->hub = lg_hub_new(env->base, settings->channels.items, settings->channels.count,
                          (size_t)settings->server.limits.max_channels, err);
    if (env->hub == NULL)
        return -1;
    env->hub->observer = lg_test_observe;
    env->hub->observer_arg = env;
    if (lg_rule_scripts_load(settings, &host, &env->scripts, err) < 0)
        return -1;
    env->script_count = settings->channels.count;
    lg_hub_set_scripts(env->hub, env->scripts);
    return 0;
}

static void lg_test_env_free(lg_test_env *env)
{
    lg_hub_free(env->hub);
    lg_rule_scripts_free(env->scripts, env->script_count);
    lg_event_list_clear(&env->seen);
    if (env->base != NULL)
        event_base_free(env->base);
}

/* ---- steps ---- */

/* Fire the timers due at the clock's time in every script. Returns the
 * earliest due time of the timers left, or -1. */
static int64_t lg_test_fire_due(lg_test_env *env)
{
    int64_t next = -1;

    for (size_t i = 0; i < env->script_count; i++) {
        int64_t due = env->scripts[i] != NULL ? lg_script_fire_timers(env->scripts[i], env->clock_ms) : -1;

        if (due >= 0 && (next < 0 || due < next))
            next = due;
    }
    return next;
}

/* Move the clock to TARGET_MS one due timer at a time, so that a callback
 * sees its own due time in livegate.now() and timers it starts count from there. */
static void lg_test_move_clock(lg_test_env *env, int64_t target_ms)
{
    int64_t next = lg_test_fire_due(env);

    while (next > env->clock_ms && next <= target_ms) {
        env->clock_ms = next;
        next = lg_test_fire_due(env);
    }
    env->clock_ms = target_ms;
}

static int lg_test_advance(lg_test_env *env, const lg_conf_node *step, lg_error *err)
{
    static const char *const allowed[] = {"advance", NULL};
    const char *text = lg_test_string(step, "advance");
    int64_t ms;

    if (lg_test_check_keys(step, allowed, "an advance step", err) < 0)
        return -1;
    if (text == NULL || lg_parse_duration_ms(text, &ms) < 0 || ms < 0)
        return lg_error_set(err, "%s:%u:%u: advance expects a duration such as 60s", step->file, step->line,
                            step->column);
    lg_test_move_clock(env, env->clock_ms + ms);
    return 0;
}

/* Publish one input event: "data" is JSON, "raw" a payload taken as it is. */
static int lg_test_publish(lg_test_env *env, const lg_script_test *test, const lg_conf_node *step, lg_error *err)
{
    const char *channel = lg_test_string(step, "channel");
    const lg_conf_node *data = lg_conf_map_get(step, "data", NULL);
    const char *raw = lg_test_string(step, "raw");
    static const char *const allowed[] = {"data", "raw", "channel", "key", "type", "time", NULL};
    int64_t time_ms = env->clock_ms;
    lg_publish_result result;
    lg_event *event;
    char *payload;
    int status;

    if (lg_test_check_keys(step, allowed, "an input event", err) < 0 || lg_test_time(step, &time_ms, err) < 0)
        return -1;

    if (channel == NULL)
        channel = test->channel;
    if (channel == NULL)
        return lg_error_set(err, "%s:%u:%u: the input names no channel: add channel: to the input or to the test",
                            step->file, step->line, step->column);
    if ((data == NULL) == (raw == NULL))
        return lg_error_set(err, "%s:%u:%u: an input has either data: (JSON) or raw: (text)", step->file,
                            step->line, step->column);

    if (raw != NULL) {
        payload = lg_strdup(raw);
    } else {
        json_t *value = lg_test_to_json(data);

        payload = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
        json_decref(value);
    }
    event = lg_event_new(lg_test_string(step, "key"), lg_test_string(step, "type"), payload, strlen(payload), time_ms);
    free(payload);
    return lg_hub_publish(env->hub, channel, event, &result, &status, err);
}

static int lg_test_run_steps(lg_test_env *env, const lg_script_test *test, lg_error *err)
{
    const lg_conf_node *input = test->input;

    if (input->kind != LG_CONF_SEQ)
        return lg_error_set(err, "%s:%u:%u: input expects a list of steps", input->file, input->line, input->column);
    for (size_t i = 0; i < input->count; i++) {
        const lg_conf_node *step = input->items[i];
        int rc;

        if (step->kind != LG_CONF_MAP)
            return lg_error_set(err, "%s:%u:%u: a step is a mapping: an event or {advance: DURATION}", step->file,
                                step->line, step->column);
        if (lg_conf_map_get(step, "advance", NULL) != NULL)
            rc = lg_test_advance(env, step, err);
        else
            rc = lg_test_publish(env, test, step, err);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* ---- comparison ---- */

static json_t *lg_test_event_data(const lg_event *event)
{
    json_t *value = event->data_is_json ? json_loadb(event->data, event->data_len, JSON_DECODE_ANY, NULL) : NULL;

    return value != NULL ? value : json_stringn(event->data, event->data_len);
}

static void lg_test_report(FILE *out, size_t index, const char *field, const char *expected, const char *actual)
{
    fprintf(out, "  # event %zu: %s differs\n  #   expected: %s\n  #   actual:   %s\n", index + 1, field, expected,
            actual != NULL ? actual : "(none)");
}

static int lg_test_compare_string(FILE *out, size_t index, const lg_conf_node *expected, const char *field,
                                  const char *actual)
{
    const char *want = lg_test_string(expected, field);

    if (lg_conf_map_get(expected, field, NULL) == NULL)
        return 0;
    if ((want == NULL && actual == NULL) || (want != NULL && actual != NULL && strcmp(want, actual) == 0))
        return 0;
    lg_test_report(out, index, field, want != NULL ? want : "null", actual);
    return 1;
}

/* Compare one event with its expectation; returns the number of differences. */
static int lg_test_compare_event(FILE *out, size_t index, const lg_conf_node *expected, const lg_event *event)
{
    const lg_conf_node *data = lg_conf_map_get(expected, "data", NULL);
    int64_t time_ms;
    int has_time = lg_test_time(expected, &time_ms, NULL) == 1;
    int differences = 0;

    differences += lg_test_compare_string(out, index, expected, "channel", event->channel_name);
    differences += lg_test_compare_string(out, index, expected, "key", event->key);
    differences += lg_test_compare_string(out, index, expected, "type", event->type);
    if (has_time && time_ms != event->time_ms) {
        char want[32];
        char actual[32];

        snprintf(want, sizeof(want), "%lld", (long long)time_ms);
        snprintf(actual, sizeof(actual), "%lld", (long long)event->time_ms);
        lg_test_report(out, index, "time", want, actual);
        differences++;
    }
    if (data != NULL) {
        json_t *want = lg_test_to_json(data);
        json_t *got = lg_test_event_data(event);

        if (!json_equal(want, got)) {
            char *want_text = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
            char *got_text = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);

            lg_test_report(out, index, "data", want_text, got_text);
            free(want_text);
            free(got_text);
            differences++;
        }
        json_decref(want);
        json_decref(got);
    }
    return differences;
}

/* Check the shape of the expect: list of TEST before anything runs. */
static int lg_test_check_expect(const lg_script_test *test, lg_error *err)
{
    static const char *const allowed[] = {"channel", "key", "type", "time", "data", NULL};
    const lg_conf_node *expect = test->expect;
    int64_t time_ms;

    if (expect->kind != LG_CONF_SEQ)
        return lg_error_set(err, "%s:%u:%u: expect expects a list of events", expect->file, expect->line,
                            expect->column);
    for (size_t i = 0; i < expect->count; i++) {
        const lg_conf_node *item = expect->items[i];

        if (item->kind != LG_CONF_MAP)
            return lg_error_set(err, "%s:%u:%u: an expected event is a mapping of channel, key, type, time and data",
                                item->file, item->line, item->column);
        if (lg_test_check_keys(item, allowed, "an expected event", err) < 0 || lg_test_time(item, &time_ms, err) < 0)
            return -1;
    }
    return 0;
}

static int lg_test_compare(FILE *out, const lg_script_test *test, const lg_event_list *seen)
{
    const lg_conf_node *expect = test->expect;
    int differences = 0;

    for (size_t i = 0; i < expect->count && i < seen->count; i++)
        differences += lg_test_compare_event(out, i, expect->items[i], seen->items[i]);
    if (expect->count != seen->count) {
        fprintf(out, "  # expected %zu events, got %zu\n", expect->count, seen->count);
        for (size_t i = expect->count; i < seen->count; i++)
            fprintf(out, "  #   extra: channel %s, data %.*s\n", seen->items[i]->channel_name,
                    (int)seen->items[i]->data_len, seen->items[i]->data);
        differences++;
    }
    return differences;
}

int lg_script_tests_run(const lg_settings *settings, FILE *out)
{
    const lg_script_test *tests = settings->tests.items;
    size_t failed = 0;

    for (size_t i = 0; i < settings->tests.count; i++) {
        const lg_script_test *test = &tests[i];
        lg_test_env env = {0};
        lg_error err;
        int differences = 0;

        if (lg_test_check_expect(test, &err) < 0 || lg_test_env_init(&env, settings, test, &err) < 0 ||
            lg_test_run_steps(&env, test, &err) < 0) {
            fprintf(out, "not ok %zu - %s\n  # %s\n", i + 1, test->name, err.message);
            failed++;
            lg_test_env_free(&env);
            continue;
        }
        /* The details follow the result line, so they are gathered first. */
        char *details = NULL;
        size_t details_len = 0;
        FILE *report = open_memstream(&details, &details_len);

        differences = lg_test_compare(report, test, &env.seen);
        fclose(report);
        fprintf(out, "%s %zu - %s\n%s", differences == 0 ? "ok" : "not ok", i + 1, test->name, details);
        free(details);
        if (differences > 0)
            failed++;
        lg_test_env_free(&env);
    }
    fprintf(out, "%zu passed, %zu failed\n", settings->tests.count - failed, failed);
    return (int)failed;
}
