/* The redis source plugin: Redis pub/sub into livegate channels, id-only fetches, and notifications of published events. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "redis_source.h"

#define NODE_ID_BYTES 8

void redis_source_count(redis_source *source, const char *name, uint64_t delta)
{
    static const struct {
        const char *name;
        const char *help;
    } helps[] = {
        {REDIS_COUNT_MESSAGES, "Redis messages received for livegate channels."},
        {REDIS_COUNT_DROPPED, "Redis messages or fetched payloads not published (too large or rejected)."},
        {REDIS_COUNT_RECONNECTS, "Reconnects of the subscriber connection after an outage."},
        {REDIS_COUNT_FETCHES, "Payloads of id-only notifications fetched and published."},
        {REDIS_COUNT_FETCH_RETRIES, "Fetches of id-only notifications that failed and were retried."},
        {REDIS_COUNT_FETCH_FAILURES, "Id-only notifications given up: invalid, or every fetch attempt failed."},
        {REDIS_COUNT_NOTIFICATIONS, "Notifications of published events sent to Redis."},
        {REDIS_COUNT_NOTIFY_FAILURES, "Notifications of published events that Redis did not take."},
    };
    const char *help = name;

    for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
        if (strcmp(helps[i].name, name) == 0)
            help = helps[i].help;
    }
    lg_instance_count(source->instance, name, help, delta);
}

void redis_source_publish(redis_source *source, const char *channel, const char *redis_channel, const char *type,
                          const char *key, const char *origin, const char *data, size_t len)
{
    lg_publish event = {
        .channel = channel, .type = type, .key = key, .data = data, .data_len = len, .origin = origin};
    lg_error err;

    if ((int64_t)len > source->config->max_message_size) {
        LG_LOG_WARN(source->scope, "message of %zu bytes for channel '%s' dropped: larger than max_message_size "
                    "(%lld bytes)", len, channel, (long long)source->config->max_message_size);
        redis_source_count(source, REDIS_COUNT_DROPPED, 1);
        return;
    }

    lg_error_clear(&err);
    if (lg_instance_publish(source->instance, &event, &err) < 0) {
        LG_LOG_WARN(source->scope, "message%s%s for channel '%s' dropped: %s", redis_channel != NULL ? " from " : "",
                    redis_channel != NULL ? redis_channel : "", channel, err.message);
        redis_source_count(source, REDIS_COUNT_DROPPED, 1);
    }
}

void redis_message_handle(redis_source *source, redis_rule *rule, const char *channel, const char *redis_channel,
                          const char *data, size_t len)
{
    redis_source_count(source, REDIS_COUNT_MESSAGES, 1);
    if ((int64_t)len > source->config->max_message_size) {
        LG_LOG_WARN(source->scope, "message of %zu bytes from Redis channel '%s' dropped: larger than "
                    "max_message_size (%lld bytes)", len, redis_channel, (long long)source->config->max_message_size);
        redis_source_count(source, REDIS_COUNT_DROPPED, 1);
        return;
    }
    if (rule->config->fetch.from != REDIS_FETCH_NONE)
        redis_fetch_start(source, rule, channel, redis_channel, data, len);
    else
        redis_source_publish(source, channel, redis_channel, NULL, NULL, NULL, data, len);
}

/* Return 16 hex digits that tell this instance's notifications from other nodes'. */
static char *make_node_id(void)
{
    unsigned char bytes[NODE_ID_BYTES];
    char text[NODE_ID_BYTES * 2 + 1];

    if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes)) {
        uint64_t fallback = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

        memcpy(bytes, &fallback, sizeof(bytes));
    }
    for (size_t i = 0; i < sizeof(bytes); i++)
        snprintf(text + 2 * i, 3, "%02x", bytes[i]);
    return lg_strdup(text);
}

static void source_free(redis_source *source)
{
    redis_rules_free(source->rules, source->rule_count);
    redis_address_free(&source->address);
    free(source->node);
    free(source);
}

/* Plugin callbacks */

static int redis_init(lg_instance *instance, void *config_ptr, lg_error *err)
{
    const redis_config *config = config_ptr;
    redis_source *source = lg_calloc(1, sizeof(*source));

    source->instance = instance;
    source->config = config;
    source->scope = lg_instance_scope(instance);
    if (redis_config_check(config, &source->address, &source->rules, &source->rule_count, err) < 0) {
        free(source);
        return -1;
    }
    source->node = make_node_id();

    redis_source_count(source, REDIS_COUNT_MESSAGES, 0);
    redis_source_count(source, REDIS_COUNT_DROPPED, 0);
    redis_source_count(source, REDIS_COUNT_RECONNECTS, 0);
    redis_source_count(source, REDIS_COUNT_FETCHES, 0);
    redis_source_count(source, REDIS_COUNT_FETCH_RETRIES, 0);
    redis_source_count(source, REDIS_COUNT_FETCH_FAILURES, 0);
    redis_source_count(source, REDIS_COUNT_NOTIFICATIONS, 0);
    redis_source_count(source, REDIS_COUNT_NOTIFY_FAILURES, 0);
    lg_instance_set_data(instance, source);
    return 0;
}

static int uses_http(const redis_source *source)
{
    for (size_t i = 0; i < source->rule_count; i++) {
        if (source->rules[i].config->fetch.from == REDIS_FETCH_HTTP)
            return 1;
    }
    return 0;
}

static int redis_start(lg_instance *instance, lg_error *err)
{
    redis_source *source = lg_instance_data(instance);

    redis_fetch_init(source);
    redis_notify_init(source);
    if (uses_http(source)) {
        source->http = redis_http_new(lg_instance_base(instance), err);
        if (source->http == NULL)
            return -1;
    }
    if (redis_subscriber_start(source, err) < 0)
        return -1;

    LG_LOG_INFO(source->scope, "using Redis at %s with %zu subscription rules and %zu notify rules (node %s)",
                source->address.display, source->rule_count, source->config->notify.count, source->node);
    return 0;
}

static void redis_stop(lg_instance *instance)
{
    redis_source *source = lg_instance_data(instance);

    if (source == NULL)
        return;
    source->stopping = 1;
    redis_subscriber_stop(source);
    redis_fetch_stop(source);
    redis_notify_stop(source);
}

static void redis_destroy(lg_instance *instance)
{
    redis_source *source = lg_instance_data(instance);

    if (source == NULL)
        return;
    source_free(source);
    lg_instance_set_data(instance, NULL);
}

static void redis_watch(lg_instance *instance, const char *channel, int watched)
{
    redis_source *source = lg_instance_data(instance);

    if (source->stopping)
        return;
    redis_subscriber_watch(source, channel, watched);
}

static void redis_published(lg_instance *instance, const lg_event *event)
{
    redis_source *source = lg_instance_data(instance);

    if (source->stopping)
        return;
    redis_notify_published(source, event);
}

const lg_plugin livegate_plugin = {
    .abi_version = LG_PLUGIN_ABI_VERSION,
    .name = "redis",
    .kind = LG_PLUGIN_SOURCE,
    .description = "Redis pub/sub: lazy per-channel subscriptions, id-only fetches, notifications of published events",
    .options = redis_options,
    .config_size = sizeof(redis_config),
    .init = redis_init,
    .start = redis_start,
    .stop = redis_stop,
    .destroy = redis_destroy,
    .watch = redis_watch,
    .published = redis_published,
};
