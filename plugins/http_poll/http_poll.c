/* The http_poll source plugin: polls one HTTP endpoint and publishes what changed. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "backoff.h"
#include "extract.h"
#include "http_client.h"
#include "plugin_api.h"
#include "random.h"

#define KEY_PLACEHOLDER "{key}"

enum poll_method { METHOD_GET, METHOD_POST };
enum poll_format { FORMAT_JSON, FORMAT_TEXT };
enum poll_emit { EMIT_CHANGED, EMIT_ALWAYS };

static const char *const method_names[] = {"GET", "POST", NULL};
static const char *const format_names[] = {"json", "text", NULL};
static const char *const emit_names[] = {"changed", "always", NULL};

typedef struct poll_config {
    char *url;
    int method;
    char *body;
    lg_string_list headers;
    int64_t interval_ms;
    int64_t jitter_ms;
    int64_t timeout_ms;
    int64_t connect_timeout_ms;
    int64_t max_body_bytes;
    int64_t max_redirects;
    int64_t backoff_max_ms;
    char *ca_file;
    char *channel;
    int format;
    char *array;
    char *key;
    char *type;
    int emit;
} poll_config;

typedef struct poll_state {
    lg_instance *instance;
    const poll_config *config;
    char *url_for_log; /* without user, password and query */
    lg_http_client *client;
    lg_http_fetch *fetch;
    struct event *timer;
    char *etag;
    char *last_modified;
    poll_changes *changes;
    unsigned failures; /* polls in a row that failed */
    int degraded;
} poll_state;

/* Counters, health and logs */

static void count(poll_state *state, const char *name, const char *help)
{
    lg_instance_count(state->instance, name, help, 1);
}

static void set_healthy(poll_state *state)
{
    if (state->failures > 0)
        LG_LOG_INFO(lg_instance_scope(state->instance), "%s answers again (failed polls in a row: %u)", state->url_for_log,
                    state->failures);
    state->failures = 0;
    if (!state->degraded)
        return;
    state->degraded = 0;
    lg_instance_set_health(state->instance, LG_HEALTH_OK, NULL);
}

/* Note a failed poll: log REASON with the URL, count it under COUNTER, mark
 * the source degraded. The last good data stays in the channel. */
static void fail_poll(poll_state *state, const char *counter, const char *help, const char *reason)
{
    char *health;

    state->failures++;
    count(state, "http_poll_errors", "Polls that failed, whatever the reason");
    count(state, counter, help);
    LG_LOG_WARN(lg_instance_scope(state->instance), "poll of %s failed (%u in a row): %s", state->url_for_log,
                state->failures, reason);

    health = lg_sprintf("poll of %s failed: %s", state->url_for_log, reason);
    lg_instance_set_health(state->instance, LG_HEALTH_DEGRADED, health);
    state->degraded = 1;
    free(health);
}

/* Publishing */

static char *channel_for(const poll_config *config, const char *key)
{
    const char *at = strstr(config->channel, KEY_PLACEHOLDER);

    if (at == NULL || key == NULL)
        return lg_strdup(config->channel);
    return lg_sprintf("%.*s%s%s", (int)(at - config->channel), config->channel, key,
                      at + strlen(KEY_PLACEHOLDER));
}

static void publish_item(poll_state *state, const poll_item *item)
{
    const poll_config *config = state->config;
    char *channel = channel_for(config, item->key);
    lg_publish event = {
        .channel = channel,
        .key = item->key,
        .type = config->type,
        .data = item->data,
        .data_len = item->len,
    };
    lg_error err;

    lg_error_clear(&err);
    if (lg_instance_publish(state->instance, &event, &err) < 0) {
        count(state, "http_poll_publish_errors", "Events the core refused, for example a channel no rule allows");
        LG_LOG_ERROR(lg_instance_scope(state->instance), "publishing to channel %s failed: %s", channel,
                     err.message);
    } else {
        count(state, "http_poll_events", "Events published");
    }
    free(channel);
}

static void publish_items(poll_state *state, const poll_items *items)
{
    for (size_t i = 0; i < items->count; i++) {
        const poll_item *item = &items->items[i];

        if (state->config->emit == EMIT_CHANGED &&
            !poll_changes_update(state->changes, item->key, item->data, item->len)) {
            count(state, "http_poll_unchanged", "Items left out because they equal the last ones published");
            continue;
        }
        publish_item(state, item);
    }
}

/* Responses */

static void keep_validators(poll_state *state, const lg_http_response *response)
{
    free(state->etag);
    free(state->last_modified);
    state->etag = response->etag != NULL ? lg_strdup(response->etag) : NULL;
    state->last_modified = response->last_modified != NULL ? lg_strdup(response->last_modified) : NULL;
}

static int extract(poll_state *state, const lg_http_response *response, poll_items *items, lg_error *err)
{
    const poll_config *config = state->config;

    if (config->format == FORMAT_TEXT) {
        memset(items, 0, sizeof(*items));
        if (response->body_len == 0)
            return lg_error_set(err, "the body is empty");
        items->items = lg_calloc(1, sizeof(*items->items));
        items->items[0].data = lg_strndup(response->body, response->body_len);
        items->items[0].len = response->body_len;
        items->count = 1;
        return 0;
    }
    return poll_extract_json(response->body, response->body_len, config->array, config->key, items, err);
}

static void handle_body(poll_state *state, const lg_http_response *response)
{
    poll_items items;
    lg_error err;
    char *reason;

    lg_error_clear(&err);
    if (extract(state, response, &items, &err) < 0) {
        reason = lg_sprintf("HTTP %ld with Content-Type %s: %s; nothing was published", response->status,
                            response->content_type != NULL ? response->content_type : "(none)", err.message);
        fail_poll(state, "http_poll_parse_errors", "Answers whose body is not in the expected format", reason);
        free(reason);
        return;
    }

    if (items.skipped > 0) {
        lg_instance_count(state->instance, "http_poll_skipped_elements", "Array elements left out for lack of a key",
                          items.skipped);
        LG_LOG_WARN(lg_instance_scope(state->instance), "%s: %zu array elements left out, the first: %s",
                    state->url_for_log, items.skipped, items.skip_reason);
    }

    keep_validators(state, response);
    publish_items(state, &items);
    poll_items_free(&items);
    set_healthy(state);
}

static void handle_response(poll_state *state, const lg_http_response *response)
{
    char *reason;

    count(state, "http_poll_requests", "Polls sent");
    switch (response->failure) {
    case LG_HTTP_OK:
        break;
    case LG_HTTP_TIMEOUT:
        fail_poll(state, "http_poll_timeouts", "Polls that took longer than timeout", response->error);
        return;
    case LG_HTTP_CONNECT:
        fail_poll(state, "http_poll_connect_errors", "Polls that could not connect", response->error);
        return;
    case LG_HTTP_TOO_LARGE:
        fail_poll(state, "http_poll_oversized", "Answers larger than max_body", response->error);
        return;
    case LG_HTTP_OTHER:
        fail_poll(state, "http_poll_transfer_errors", "Polls that failed in transfer", response->error);
        return;
    }

    if (response->status == 304 || response->status == 204) {
        count(state, "http_poll_not_modified", "Answers 304 or 204: nothing changed");
        set_healthy(state);
        return;
    }
    if (response->status < 200 || response->status > 299) {
        reason = lg_sprintf("HTTP %ld; nothing was published", response->status);
        fail_poll(state, "http_poll_status_errors", "Answers with a status other than 2xx", reason);
        free(reason);
        return;
    }
    handle_body(state, response);
}

/* Scheduling */

static void schedule(poll_state *state)
{
    const poll_config *config = state->config;
    int64_t delay_ms = lg_backoff_ms(config->interval_ms, config->backoff_max_ms, state->failures);
    struct timeval delay;

    delay_ms += (int64_t)lg_random_below((uint64_t)config->jitter_ms + 1);
    delay.tv_sec = (time_t)(delay_ms / 1000);
    delay.tv_usec = (suseconds_t)(delay_ms % 1000 * 1000);
    if (state->failures > 0)
        LG_LOG_INFO(lg_instance_scope(state->instance), "next poll of %s in %lld ms (failed polls in a row: %u)",
                    state->url_for_log, (long long)delay_ms, state->failures);
    evtimer_add(state->timer, &delay);
}

static void on_response(const lg_http_response *response, void *arg)
{
    poll_state *state = arg;

    state->fetch = NULL;
    handle_response(state, response);
    schedule(state);
}

static void poll_now(poll_state *state)
{
    const poll_config *config = state->config;
    lg_http_request request = {
        .url = config->url,
        .method = method_names[config->method],
        .headers = &config->headers,
        .body = config->body,
        .body_len = config->body != NULL ? strlen(config->body) : 0,
        .timeout_ms = config->timeout_ms,
        .connect_timeout_ms = config->connect_timeout_ms,
        .max_body_bytes = config->max_body_bytes,
        .max_redirects = (long)config->max_redirects,
        .if_none_match = state->etag,
        .if_modified_since = state->last_modified,
        .ca_file = config->ca_file,
    };
    lg_error err;

    lg_error_clear(&err);
    state->fetch = lg_http_client_fetch(state->client, &request, on_response, state, &err);
    if (state->fetch == NULL) {
        fail_poll(state, "http_poll_transfer_errors", "Polls that failed in transfer", err.message);
        schedule(state);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    poll_now(arg);
}

/* Configuration */

static int check_header(const char *line, size_t index, lg_error *err)
{
    const char *colon = strchr(line, ':');

    if (colon == NULL || colon == line)
        return lg_error_set(err, "headers entry %zu has no name before a ':': write it as \"Name: value\"",
                            index + 1);
    if (strpbrk(line, "\r\n") != NULL)
        return lg_error_set(err, "headers entry %zu holds a line break: one header per entry", index + 1);
    for (const char *c = line; c < colon; c++) {
        if (*c == ' ' || *c == '\t')
            return lg_error_set(err, "headers entry %zu has a space in its name: write it as \"Name: value\"",
                                index + 1);
    }
    return 0;
}

static int check_channel(const poll_config *config, lg_error *err)
{
    char *sample;
    int rc;

    if (strstr(config->channel, KEY_PLACEHOLDER) != NULL && config->key == NULL)
        return lg_error_set(err, "channel \"%s\" uses {key}, but key is not set: name the field that holds the key",
                            config->channel);

    sample = channel_for(config, "k");
    rc = lg_channel_name_check(sample, err);
    free(sample);
    if (rc < 0)
        return lg_error_prefix(err, "invalid channel \"%s\"", config->channel);
    return 0;
}

static int check_config(const poll_config *config, lg_error *err)
{
    if (lg_http_url_check(config->url, err) < 0)
        return lg_error_prefix(err, "invalid url");
    for (size_t i = 0; i < config->headers.count; i++) {
        if (check_header(config->headers.items[i], i, err) < 0)
            return -1;
    }
    if (config->body != NULL && config->method == METHOD_GET)
        return lg_error_set(err, "body is set, but method is GET: set method: POST, or remove body");
    if (config->type != NULL && lg_event_type_check(config->type, err) < 0)
        return lg_error_prefix(err, "invalid event_type \"%s\"", config->type);
    if (config->format == FORMAT_TEXT && (config->array != NULL || config->key != NULL))
        return lg_error_set(err, "array and key need format: json; format: text publishes the body as it is");
    if (config->array != NULL && config->array[0] == '\0')
        return lg_error_set(err, "array is empty: use \".\" when the body itself is the array");
    if (config->key != NULL && config->key[0] == '\0')
        return lg_error_set(err, "key is empty: name the field that holds each event's key, or remove key");
    if (config->ca_file != NULL && access(config->ca_file, R_OK) < 0)
        return lg_error_set(err, "invalid ca_file \"%s\": %s; set it to a readable PEM file of CA certificates",
                            config->ca_file, strerror(errno));
    if (config->backoff_max_ms < config->interval_ms)
        return lg_error_set(err, "backoff_max (%lld ms) is shorter than interval (%lld ms): raise backoff_max",
                            (long long)config->backoff_max_ms, (long long)config->interval_ms);
    return check_channel(config, err);
}

static void poll_state_free(poll_state *state)
{
    lg_http_fetch_cancel(state->fetch);
    lg_http_client_free(state->client);
    if (state->timer != NULL)
        event_free(state->timer);
    poll_changes_free(state->changes);
    free(state->url_for_log);
    free(state->etag);
    free(state->last_modified);
    free(state);
}

/* Plugin callbacks */

static int poll_init(lg_instance *instance, void *config_ptr, lg_error *err)
{
    const poll_config *config = config_ptr;
    poll_state *state;

    if (check_config(config, err) < 0)
        return -1;

    state = lg_calloc(1, sizeof(*state));
    state->instance = instance;
    state->config = config;
    state->url_for_log = lg_http_url_for_log(config->url);
    state->changes = poll_changes_new();
    lg_instance_set_data(instance, state);
    return 0;
}

static int poll_start(lg_instance *instance, lg_error *err)
{
    poll_state *state = lg_instance_data(instance);
    const poll_config *config = state->config;

    state->client = lg_http_client_new(lg_instance_base(instance), err);
    if (state->client == NULL)
        return -1;
    state->timer = evtimer_new(lg_instance_base(instance), on_timer, state);
    if (state->timer == NULL)
        return lg_error_set(err, "evtimer_new failed for the poll timer");

    LG_LOG_INFO(lg_instance_scope(instance), "polling %s every %lld ms into %s", state->url_for_log,
                (long long)config->interval_ms, config->channel);
    poll_now(state);
    return 0;
}

static void poll_stop(lg_instance *instance)
{
    poll_state *state = lg_instance_data(instance);

    if (state == NULL || state->client == NULL)
        return;

    lg_http_fetch_cancel(state->fetch);
    state->fetch = NULL;
    if (state->timer != NULL)
        evtimer_del(state->timer);
    LG_LOG_INFO(lg_instance_scope(instance), "stopped polling %s", state->url_for_log);
}

static void poll_destroy(lg_instance *instance)
{
    poll_state *state = lg_instance_data(instance);

    if (state == NULL)
        return;
    poll_state_free(state);
    lg_instance_set_data(instance, NULL);
}

/* Option table and descriptor */

static const lg_option poll_options[] = {
    {
        .name = "url",
        .type = LG_OPT_STRING,
        .offset = LG_OPT_FIELD(poll_config, url),
        .flags = LG_OPT_REQUIRED,
        .description = "The http:// or https:// URL to poll. Logs show it without user, password and query, "
                       "so a secret in the query stays out of them; prefer headers for secrets.",
    },
    {
        .name = "method",
        .type = LG_OPT_ENUM,
        .offset = LG_OPT_FIELD(poll_config, method),
        .default_value = "GET",
        .choices = method_names,
        .description = "HTTP method.",
    },
    {
        .name = "body",
        .type = LG_OPT_STRING,
        .offset = LG_OPT_FIELD(poll_config, body),
        .description = "Request body sent with method POST; set its type with a Content-Type header.",
    },
    {
        .name = "headers",
        .type = LG_OPT_STRING_LIST,
        .offset = LG_OPT_FIELD(poll_config, headers),
        .flags = LG_OPT_SECRET,
        .description = "Request headers, one \"Name: value\" per entry. Take secrets from the environment, "
                       "as in \"Authorization: Bearer ${API_TOKEN}\"; values are never logged.",
    },
    {
        .name = "interval",
        .type = LG_OPT_DURATION,
        .offset = LG_OPT_FIELD(poll_config, interval_ms),
        .default_value = "10s",
        .min = 100,
        .max = 86400000,
        .description = "Time from the end of one poll to the start of the next, from 100ms to 24h.",
    },
    {
        .name = "jitter",
        .type = LG_OPT_DURATION,
        .offset = LG_OPT_FIELD(poll_config, jitter_ms),
        .default_value = "0s",
        .min = 0,
        .max = 86400000,
        .description = "Random time from 0 to this added to every wait, so that several livegate nodes "
                       "polling one API spread their requests.",
    },
    {
        .name = "timeout",
        .type = LG_OPT_DURATION,
        .offset = LG_OPT_FIELD(poll_config, timeout_ms),
        .default_value = "10s",
        .min = 100,
        .max = 600000,
        .description = "Longest time one poll may take, connection included; a slower answer is an error.",
    },
    {
        .name = "connect_timeout",
        .type = LG_OPT_DURATION,
        .offset = LG_OPT_FIELD(poll_config, connect_timeout_ms),
        .default_value = "5s",
        .min = 100,
        .max = 600000,
        .description = "Longest time to connect, TLS handshake included.",
    },
    {
        .name = "max_body",
        .type = LG_OPT_SIZE,
        .offset = LG_OPT_FIELD(poll_config, max_body_bytes),
        .default_value = "1MiB",
        .min = 1,
        .max = 268435456,
        .description = "Largest body accepted, after decompression, up to 256MiB; a larger one is an error "
                       "and is not read further.",
    },
    {
        .name = "max_redirects",
        .type = LG_OPT_INT,
        .offset = LG_OPT_FIELD(poll_config, max_redirects),
        .default_value = "3",
        .min = 0,
        .max = 20,
        .description = "Redirects followed per poll, to http or https only; 0 makes any redirect an error.",
    },
    {
        .name = "backoff_max",
        .type = LG_OPT_DURATION,
        .offset = LG_OPT_FIELD(poll_config, backoff_max_ms),
        .default_value = "5m",
        .min = 100,
        .max = 86400000,
        .description = "Longest wait after failed polls. After N failures in a row the wait is random between "
                       "interval and min(backoff_max, interval * 2^N); the first good answer ends it.",
    },
    {
        .name = "ca_file",
        .type = LG_OPT_STRING,
        .offset = LG_OPT_FIELD(poll_config, ca_file),
        .description = "PEM file of CA certificates that https servers are verified with, in place of the "
                       "system's, for APIs with a private CA. Certificates are always verified.",
    },
    {
        .name = "channel",
        .type = LG_OPT_STRING,
        .offset = LG_OPT_FIELD(poll_config, channel),
        .flags = LG_OPT_REQUIRED,
        .description = "Channel to publish into. {key} in the name is replaced by the event's key, for one "
                       "channel per key, as in \"prices.{key}\".",
    },
    {
        .name = "format",
        .type = LG_OPT_ENUM,
        .offset = LG_OPT_FIELD(poll_config, format),
        .default_value = "json",
        .choices = format_names,
        .description = "json: the body must be JSON, or the poll is an error and nothing is published. text: "
                       "the body is published as it is, for a channel script to parse (an empty body is an "
                       "error).",
    },
    {
        .name = "array",
        .type = LG_OPT_STRING,
        .offset = LG_OPT_FIELD(poll_config, array),
        .description = "With format json: dotted path to an array in the body (\"data.items\", \".\" for the "
                       "body itself); each element becomes one event. Unset: the whole body is one event.",
    },
    {
        .name = "key",
        .type = LG_OPT_STRING,
        .offset = LG_OPT_FIELD(poll_config, key),
        .description = "With format json: dotted path, inside each element (or the body), of the string or "
                       "number that becomes the event's key. Elements without it are left out and counted.",
    },
    {
        .name = "event_type",
        .type = LG_OPT_STRING,
        .offset = LG_OPT_FIELD(poll_config, type),
        .description = "Event type given to every event.",
    },
    {
        .name = "emit",
        .type = LG_OPT_ENUM,
        .offset = LG_OPT_FIELD(poll_config, emit),
        .default_value = "changed",
        .choices = emit_names,
        .description = "changed: publish an event only when its bytes differ from the last one with the same "
                       "key. always: publish the events of every poll that returns a body (a 304 or 204 "
                       "publishes nothing either way).",
    },
    {0},
};

const lg_plugin livegate_plugin = {
    .abi_version = LG_PLUGIN_ABI_VERSION,
    .name = "http_poll",
    .kind = LG_PLUGIN_SOURCE,
    .description = "Polls an HTTP endpoint with conditional requests and publishes what changed.",
    .options = poll_options,
    .config_size = sizeof(poll_config),
    .init = poll_init,
    .start = poll_start,
    .stop = poll_stop,
    .destroy = poll_destroy,
};
