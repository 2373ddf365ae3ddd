/* Option tables of the redis source and the checks that go beyond them. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "redis_config.h"
#include "template.h"

#define MIN_TIMEOUT_MS 10
#define MAX_TIMEOUT_MS 600000
#define MAX_LINGER_MS 3600000
#define MAX_RECONNECT_DELAY_MS 3600000
#define MAX_FETCH_ATTEMPTS 100
#define MAX_PENDING 1000000
#define MAX_MESSAGE_BYTES (INT64_C(64) * 1024 * 1024)

static const char *const fetch_choices[] = {"none", "redis", "http", NULL};

static const lg_option fetch_options[] = {
    {.name = "from",
     .type = LG_OPT_ENUM,
     .offset = LG_OPT_FIELD(redis_fetch_config, from),
     .default_value = "none",
     .choices = fetch_choices,
     .description = "none: a Redis message is the event data. redis or http: a message is an id-only "
                    "notification, a JSON object with an id member, and the data is fetched by that id "
                    "with GET (or HGET) key on a second connection, or with an HTTP GET of url."},
    {.name = "key",
     .type = LG_OPT_STRING,
     .offset = LG_OPT_FIELD(redis_fetch_config, key),
     .description = "from: redis: template of the key to read, such as \"price:{id}\". Placeholders: {id}, "
                    "{channel} (livegate channel), {redis_channel}, and {1} to {9} (pattern wildcards)."},
    {.name = "hash_field",
     .type = LG_OPT_STRING,
     .offset = LG_OPT_FIELD(redis_fetch_config, hash_field),
     .description = "from: redis: template of a hash field; when set the data is read with HGET key field "
                    "instead of GET key."},
    {.name = "url",
     .type = LG_OPT_STRING,
     .offset = LG_OPT_FIELD(redis_fetch_config, url),
     .description = "from: http: template of the URL to GET, with the placeholders of key, each value "
                    "percent-encoded, such as \"http://10.0.0.2:8081/api/channels/{channel}/events/{id}\". "
                    "A 2xx response with a non-empty body is the data."},
    {.name = "headers",
     .type = LG_OPT_STRING_LIST,
     .offset = LG_OPT_FIELD(redis_fetch_config, headers),
     .flags = LG_OPT_SECRET,
     .description = "from: http: request headers, each \"Name: value\", such as \"Authorization: Bearer "
                    "TOKEN\". Their values are never logged."},
    {.name = "extract",
     .type = LG_OPT_STRING,
     .offset = LG_OPT_FIELD(redis_fetch_config, extract),
     .description = "Name of a member of the fetched JSON object to use as the data, such as \"data\" for "
                    "the event envelope that another livegate node returns. Unset: the whole reply."},
    {.name = "timeout",
     .type = LG_OPT_DURATION,
     .offset = LG_OPT_FIELD(redis_fetch_config, timeout_ms),
     .default_value = "2s",
     .min = MIN_TIMEOUT_MS,
     .max = MAX_TIMEOUT_MS,
     .description = "from: http: time limit of one request, connecting included. Redis fetches use the "
                    "source's command_timeout."},
    {.name = "attempts",
     .type = LG_OPT_INT,
     .offset = LG_OPT_FIELD(redis_fetch_config, attempts),
     .default_value = "3",
     .min = 1,
     .max = MAX_FETCH_ATTEMPTS,
     .description = "Fetches of one id before it is given up, logged and counted; a missing key or a non-2xx "
                    "response is retried too, since the payload may not be stored yet."},
    {.name = "retry_delay",
     .type = LG_OPT_DURATION,
     .offset = LG_OPT_FIELD(redis_fetch_config, retry_delay_ms),
     .default_value = "200ms",
     .min = 0,
     .max = MAX_TIMEOUT_MS,
     .description = "Wait between two fetches of the same id."},
    {0},
};

static const lg_option rule_options[] = {
    {.name = "redis_channel",
     .type = LG_OPT_STRING,
     .offset = LG_OPT_FIELD(redis_rule_config, redis_channel),
     .description = "Redis channel to SUBSCRIBE to. Set this or redis_pattern."},
    {.name = "redis_pattern",
     .type = LG_OPT_STRING,
     .offset = LG_OPT_FIELD(redis_rule_config, redis_pattern),
     .description = "Redis glob pattern (*, ?, [abc], \\ escapes; at most 9 wildcards). Each livegate channel "
                    "that the channel template produces gets its own subscription: SUBSCRIBE to the one "
                    "Redis channel it stands for, or PSUBSCRIBE to the pattern narrowed by the wildcards the "
                    "template uses."},
    {.name = "channel",
     .type = LG_OPT_STRING,
     .offset = LG_OPT_FIELD(redis_rule_config, channel),
     .description = "livegate channel. With redis_channel a plain name (default: the Redis channel's name). "
                    "With redis_pattern a template where {N} stands for what wildcard N matched, such as "
                    "\"prices.{1}\" for \"prices.*\" (default: the pattern with wildcard N replaced by {N}); "
                    "write {{ and }} for literal braces."},
    {.name = "eager",
     .type = LG_OPT_BOOL,
     .offset = LG_OPT_FIELD(redis_rule_config, eager),
     .default_value = "false",
     .description = "Subscribe at start and stay subscribed, so that history fills without subscribers. An "
                    "eager pattern rule holds one PSUBSCRIBE of the whole pattern."},
    {.name = "fetch",
     .type = LG_OPT_TABLE,
     .offset = LG_OPT_FIELD(redis_rule_config, fetch),
     .table = fetch_options,
     .description = "Id-only notifications: how to fetch the data a message refers to."},
    {0},
};

static const lg_option notify_options[] = {
    {.name = "match",
     .type = LG_OPT_STRING,
     .offset = LG_OPT_FIELD(redis_notify_config, match),
     .flags = LG_OPT_REQUIRED,
     .description = "livegate channel name or fnmatch(3) glob whose admin-published events are announced."},
    {.name = "redis_channel",
     .type = LG_OPT_STRING,
     .offset = LG_OPT_FIELD(redis_notify_config, redis_channel),
     .default_value = "\"{channel}\"",
     .description = "Template of the Redis channel to PUBLISH the notification to; {channel} is the livegate "
                    "channel."},
    {0},
};

const lg_option redis_options[] = {
    {.name = "address",
     .type = LG_OPT_STRING,
     .offset = LG_OPT_FIELD(redis_config, address),
     .default_value = "127.0.0.1:6379",
     .description = "Redis server: HOST:PORT, redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (percent-encode "
                    "special characters in the password), or a Unix socket path (/run/redis.sock or "
                    "unix:///run/redis.sock). The password is never logged."},
    {.name = "password",
     .type = LG_OPT_STRING,
     .offset = LG_OPT_FIELD(redis_config, password),
     .flags = LG_OPT_SECRET,
     .description = "AUTH password, replacing one in the address; use ${ENV} to keep it out of the file."},
    {.name = "connect_timeout",
     .type = LG_OPT_DURATION,
     .offset = LG_OPT_FIELD(redis_config, connect_timeout_ms),
     .default_value = "2s",
     .min = MIN_TIMEOUT_MS,
     .max = MAX_TIMEOUT_MS,
     .description = "Time limit to establish a connection; the attempt then counts as failed."},
    {.name = "command_timeout",
     .type = LG_OPT_DURATION,
     .offset = LG_OPT_FIELD(redis_config, command_timeout_ms),
     .default_value = "2s",
     .min = MIN_TIMEOUT_MS,
     .max = MAX_TIMEOUT_MS,
     .description = "Time limit for a reply (SUBSCRIBE confirmations, GET, PUBLISH); a connection that "
                    "stays silent longer is closed and opened again."},
    {.name = "linger",
     .type = LG_OPT_DURATION,
     .offset = LG_OPT_FIELD(redis_config, linger_ms),
     .default_value = "2s",
     .min = 0,
     .max = MAX_LINGER_MS,
     .description = "How long a subscription outlives the last local subscriber of its channel, so that a "
                    "page reload does not UNSUBSCRIBE and SUBSCRIBE again."},
    {.name = "reconnect_delay",
     .type = LG_OPT_DURATION,
     .offset = LG_OPT_FIELD(redis_config, reconnect_delay_ms),
     .default_value = "100ms",
     .min = MIN_TIMEOUT_MS,
     .max = MAX_RECONNECT_DELAY_MS,
     .description = "Base of the reconnect backoff: attempt N waits a random time from 0 to "
                    "min(reconnect_max_delay, reconnect_delay * 2^(N-1)) (full jitter)."},
    {.name = "reconnect_max_delay",
     .type = LG_OPT_DURATION,
     .offset = LG_OPT_FIELD(redis_config, reconnect_max_delay_ms),
     .default_value = "10s",
     .min = MIN_TIMEOUT_MS,
     .max = MAX_RECONNECT_DELAY_MS,
     .description = "Cap of the reconnect backoff."},
    {.name = "max_message_size",
     .type = LG_OPT_SIZE,
     .offset = LG_OPT_FIELD(redis_config, max_message_size),
     .default_value = "1MiB",
     .min = 1,
     .max = MAX_MESSAGE_BYTES,
     .description = "Largest Redis message (or id-only notification) and largest fetched payload; larger "
                    "ones are dropped, logged and counted."},
    {.name = "max_pending_fetches",
     .type = LG_OPT_INT,
     .offset = LG_OPT_FIELD(redis_config, max_pending_fetches),
     .default_value = "1000",
     .min = 1,
     .max = MAX_PENDING,
     .description = "Fetches of id-only notifications in flight or waiting to retry; notifications beyond "
                    "are dropped, logged and counted."},
    {.name = "max_pending_notifications",
     .type = LG_OPT_INT,
     .offset = LG_OPT_FIELD(redis_config, max_pending_notifications),
     .default_value = "10000",
     .min = 1,
     .max = MAX_PENDING,
     .description = "PUBLISH commands of notify awaiting their reply; notifications beyond are dropped, "
                    "logged and counted."},
    {.name = "subscriptions",
     .type = LG_OPT_TABLE_LIST,
     .offset = LG_OPT_FIELD(redis_config, subscriptions),
     .table = rule_options,
     .table_size = sizeof(redis_rule_config),
     .description = "Rules from Redis channels or patterns to livegate channels; for a livegate channel the "
                    "first rule that can produce its name applies."},
    {.name = "notify",
     .type = LG_OPT_TABLE_LIST,
     .offset = LG_OPT_FIELD(redis_config, notify),
     .table = notify_options,
     .table_size = sizeof(redis_notify_config),
     .description = "Channels whose events published through the admin API are announced to Redis with a "
                    "notification {\"id\",\"channel\",\"type\",\"node\"}, never the data, on a separate "
                    "connection; a Redis failure is logged and counted and never fails the publish."},
    {0},
};

/* Return the default channel template of PATTERN: each wildcard N becomes {N}. */
static char *default_template(const char *pattern)
{
    lg_buf out = LG_BUF_INIT;
    redis_captures captures;
    lg_buf unused = LG_BUF_INIT;
    static const char *const numbers[REDIS_MAX_CAPTURES] = {"{1}", "{2}", "{3}", "{4}", "{5}",
                                                             "{6}", "{7}", "{8}", "{9}"};

    memset(&captures, 0, sizeof(captures));
    for (int i = 0; i < REDIS_MAX_CAPTURES; i++) {
        captures.start[i] = numbers[i];
        captures.len[i] = 3;
    }
    captures.set = (1u << REDIS_MAX_CAPTURES) - 1;
    redis_pattern_narrow(pattern, &captures, &unused, &out);
    lg_buf_free(&unused);
    return lg_buf_steal(&out, NULL);
}

static int check_fetch(const redis_fetch_config *fetch, int wildcards, lg_error *err)
{
    unsigned allowed = REDIS_TEMPLATE_ID | REDIS_TEMPLATE_CHANNEL | REDIS_TEMPLATE_REDIS_CHANNEL |
                       REDIS_TEMPLATE_CAPTURES;

    if (fetch->from == REDIS_FETCH_REDIS) {
        if (fetch->key == NULL || fetch->key[0] == '\0')
            return lg_error_set(err, "fetch.key is missing: set it to a key template such as \"price:{id}\"");
        if (redis_template_check(fetch->key, allowed, wildcards, err) < 0)
            return lg_error_prefix(err, "invalid fetch.key");
        if (fetch->hash_field != NULL && redis_template_check(fetch->hash_field, allowed, wildcards, err) < 0)
            return lg_error_prefix(err, "invalid fetch.hash_field");
    }
    if (fetch->from == REDIS_FETCH_HTTP) {
        if (fetch->url == NULL || fetch->url[0] == '\0')
            return lg_error_set(err, "fetch.url is missing: set it to a URL template such as "
                                     "\"http://127.0.0.1:8081/api/channels/{channel}/events/{id}\"");
        if (strncmp(fetch->url, "http://", 7) != 0 && strncmp(fetch->url, "https://", 8) != 0)
            return lg_error_set(err, "invalid fetch.url \"%s\": it must start with http:// or https://", fetch->url);
        if (redis_template_check(fetch->url, allowed, wildcards, err) < 0)
            return lg_error_prefix(err, "invalid fetch.url");
    }
    for (size_t i = 0; i < fetch->headers.count; i++) {
        if (strchr(fetch->headers.items[i], ':') == NULL)
            return lg_error_set(err, "invalid fetch.headers entry %zu: write \"Name: value\"", i + 1);
    }
    return 0;
}

static int check_rule(const redis_rule_config *config, redis_rule *rule, lg_error *err)
{
    int has_channel = config->redis_channel != NULL && config->redis_channel[0] != '\0';
    int has_pattern = config->redis_pattern != NULL && config->redis_pattern[0] != '\0';

    if (has_channel == has_pattern)
        return lg_error_set(err, "set exactly one of redis_channel (a Redis channel) and redis_pattern (a glob)");

    rule->config = config;
    rule->is_pattern = has_pattern;
    rule->name = has_pattern ? config->redis_pattern : config->redis_channel;
    if (!has_pattern) {
        rule->channel = lg_strdup(config->channel != NULL ? config->channel : config->redis_channel);
        if (lg_channel_name_check(rule->channel, err) < 0)
            return lg_error_prefix(err, "invalid channel \"%s\" (with redis_channel, channel is a plain livegate "
                                        "channel name)", rule->channel);
        return check_fetch(&config->fetch, 0, err);
    }

    rule->wildcards = redis_pattern_wildcards(config->redis_pattern);
    if (rule->wildcards == 0)
        return lg_error_set(err, "redis_pattern \"%s\" has no wildcard: use redis_channel for one channel",
                            config->redis_pattern);
    if (rule->wildcards > REDIS_MAX_CAPTURES)
        return lg_error_set(err, "redis_pattern \"%s\" has %d wildcards: at most %d are supported",
                            config->redis_pattern, rule->wildcards, REDIS_MAX_CAPTURES);
    rule->channel = config->channel != NULL ? lg_strdup(config->channel) : default_template(config->redis_pattern);
    if (redis_template_check(rule->channel, REDIS_TEMPLATE_CAPTURES, rule->wildcards, err) < 0)
        return lg_error_prefix(err, "invalid channel template");
    return check_fetch(&config->fetch, rule->wildcards, err);
}

int redis_config_check(const redis_config *config, redis_address *address, redis_rule **rules, size_t *count,
                       lg_error *err)
{
    const redis_rule_config *items = config->subscriptions.items;
    const redis_notify_config *notify = config->notify.items;
    redis_rule *list;

    if (config->reconnect_max_delay_ms < config->reconnect_delay_ms)
        return lg_error_set(err, "reconnect_max_delay (%lld ms) is below reconnect_delay (%lld ms): raise it",
                            (long long)config->reconnect_max_delay_ms, (long long)config->reconnect_delay_ms);
    if (config->subscriptions.count == 0 && config->notify.count == 0)
        return lg_error_set(err, "subscriptions and notify are both empty: add a rule to subscriptions "
                                 "(redis_channel or redis_pattern) or to notify");
    for (size_t i = 0; i < config->notify.count; i++) {
        if (redis_template_check(notify[i].redis_channel, REDIS_TEMPLATE_CHANNEL, 0, err) < 0)
            return lg_error_prefix(err, "notify entry %zu: invalid redis_channel", i + 1);
    }

    if (redis_address_parse(config->address, address, err) < 0)
        return -1;
    if (config->password != NULL && config->password[0] != '\0') {
        free(address->password);
        address->password = lg_strdup(config->password);
    }

    list = lg_calloc(config->subscriptions.count + 1, sizeof(*list));
    for (size_t i = 0; i < config->subscriptions.count; i++) {
        list[i].index = i;
        if (check_rule(&items[i], &list[i], err) < 0) {
            lg_error_prefix(err, "subscriptions entry %zu", i + 1);
            redis_rules_free(list, config->subscriptions.count);
            redis_address_free(address);
            return -1;
        }
    }
    *rules = list;
    *count = config->subscriptions.count;
    return 0;
}

void redis_rules_free(redis_rule *rules, size_t count)
{
    if (rules == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        free(rules[i].channel);
    free(rules);
}
