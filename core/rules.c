/* Channel rule options and lookup by exact name or glob. */
#include "config.h"

#include <stddef.h>

#include "glob.h"
#include "rules.h"

static const char *const lg_snapshot_names[] = {"none", "last", "keyed", NULL};
static const char *const lg_overflow_names[] = {"conflate", "drop", "disconnect", NULL};
static const char *const lg_on_error_names[] = {"drop", "pass", NULL};

static const lg_option lg_history_options[] = {
    {.name = "length",
     .type = LG_OPT_INT,
     .offset = offsetof(lg_history_config, length),
     .default_value = "100",
     .min = 0,
     .max = 1000000,
     .description = "Events kept per channel so that reconnecting clients can resume; 0 keeps none."},
    {.name = "max_age",
     .type = LG_OPT_DURATION,
     .offset = offsetof(lg_history_config, max_age_ms),
     .default_value = "0",
     .min = 0,
     .max = 7LL * 24 * 3600 * 1000,
     .description = "Events older than this are evicted from history; 0 evicts by length only."},
    {0},
};

const lg_option lg_rule_options[] = {
    {.name = "match",
     .type = LG_OPT_STRING,
     .offset = offsetof(lg_rule, match),
     .flags = LG_OPT_REQUIRED,
     .description = "Channel name, or a glob such as prices.* ('*' also matches dots). The first matching rule "
                    "applies."},
    {.name = "history",
     .type = LG_OPT_TABLE,
     .offset = offsetof(lg_rule, history),
     .table = lg_history_options,
     .description = "Resume history of each matching channel."},
    {.name = "snapshot",
     .type = LG_OPT_ENUM,
     .offset = offsetof(lg_rule, snapshot),
     .default_value = "last",
     .choices = lg_snapshot_names,
     .description = "What a new subscriber gets at once: nothing, the newest event, or the newest event of "
                    "every key."},
    {.name = "snapshot_max_keys",
     .type = LG_OPT_INT,
     .offset = offsetof(lg_rule, snapshot_max_keys),
     .default_value = "10000",
     .min = 1,
     .max = 10000000,
     .description = "Keys kept by a keyed snapshot; the least recently updated key is forgotten first."},
    {.name = "overflow",
     .type = LG_OPT_ENUM,
     .offset = offsetof(lg_rule, overflow),
     .default_value = "conflate",
     .choices = lg_overflow_names,
     .description = "What happens when a client's queue is full: keep the newest event per key, drop new "
                    "events and send a gap notice, or disconnect the client."},
    {.name = "max_rate",
     .type = LG_OPT_DOUBLE,
     .offset = offsetof(lg_rule, max_rate),
     .default_value = "0",
     .description = "Updates per second per key sent to each client, always the newest; 0 is unlimited. "
                    "Clients may ask for a lower rate, never a higher one."},
    {.name = "publish",
     .type = LG_OPT_BOOL,
     .offset = offsetof(lg_rule, publish),
     .default_value = "false",
     .description = "Allow publishing to matching channels through the admin API."},
    {.name = "subscribe",
     .type = LG_OPT_BOOL,
     .offset = offsetof(lg_rule, subscribe),
     .default_value = "true",
     .description = "Allow clients to subscribe to matching channels."},
    {.name = "lua",
     .type = LG_OPT_STRING,
     .offset = offsetof(lg_rule, lua),
     .description = "Lua script whose on_event(event) filters, changes or splits every event of matching "
                    "channels (see docs/lua.md); relative to the config file."},
    {.name = "lua_config",
     .type = LG_OPT_NODE,
     .offset = offsetof(lg_rule, lua_config),
     .description = "Any YAML value handed to the script as livegate.config, so that one script serves "
                    "several rules with different settings."},
    {.name = "on_error",
     .type = LG_OPT_ENUM,
     .offset = offsetof(lg_rule, on_error),
     .default_value = "drop",
     .choices = lg_on_error_names,
     .description = "What happens to an event when the script fails on it (an error, the instruction budget "
                    "or the memory limit), and to every event once the script is disabled."},
    {.name = "publish_via",
     .type = LG_OPT_STRING,
     .offset = offsetof(lg_rule, publish_via),
     .description = "Name of a source (kafka) that events published through the admin API are written "
                    "through: the API answers 201 only once the source's upstream acknowledged the event, 503 "
                    "when it could not, and the event enters the channel when the source reads it back."},
    {.name = "dedup_window",
     .type = LG_OPT_INT,
     .offset = offsetof(lg_rule, dedup_window),
     .default_value = "1000",
     .min = 0,
     .max = 10000000,
     .description = "Origins of recent events remembered per channel (a source's position of the event, "
                    "such as a Kafka record's topic, partition and offset). An event whose origin is among "
                    "them is dropped, so one that arrives twice, through Kafka and through Redis, reaches "
                    "clients once. Events without an origin, such as those published through the admin API, "
                    "are never dropped; 0 turns this off."},
    {0},
};

const lg_rule *lg_rules_find(const lg_rule *rules, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++) {
        if (lg_glob_match(rules[i].match, name))
            return &rules[i];
    }
    return NULL;
}

const char *lg_snapshot_mode_name(int mode)
{
    return mode >= 0 && mode <= LG_SNAPSHOT_KEYED ? lg_snapshot_names[mode] : "unknown";
}

const char *lg_on_error_name(int on_error)
{
    return on_error == LG_ON_ERROR_PASS ? "pass" : "drop";
}

const char *lg_overflow_policy_name(int policy)
{
    return policy >= 0 && policy <= LG_OVERFLOW_DISCONNECT ? lg_overflow_names[policy] : "unknown";
}
