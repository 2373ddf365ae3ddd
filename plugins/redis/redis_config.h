/* Options of the redis source: the connection, subscription rules, id-only fetches and publish notifications. */
#ifndef LG_REDIS_CONFIG_H
#define LG_REDIS_CONFIG_H

#include <stdint.h>

#include "address.h"
#include "plugin_api.h"

typedef enum redis_fetch_from {
    REDIS_FETCH_NONE = 0,
    REDIS_FETCH_REDIS,
    REDIS_FETCH_HTTP,
} redis_fetch_from;

typedef struct redis_fetch_config {
    int from; /* redis_fetch_from */
    char *key;
    char *hash_field;
    char *url;
    lg_string_list headers;
    char *extract;
    int64_t timeout_ms;
    int64_t attempts;
    int64_t retry_delay_ms;
} redis_fetch_config;

typedef struct redis_rule_config {
    char *redis_channel;
    char *redis_pattern;
    char *channel;
    int eager;
    redis_fetch_config fetch;
} redis_rule_config;

typedef struct redis_notify_config {
    char *match;
    char *redis_channel;
} redis_notify_config;

typedef struct redis_config {
    char *address;
    char *password;
    int64_t connect_timeout_ms;
    int64_t command_timeout_ms;
    int64_t linger_ms;
    int64_t reconnect_delay_ms;
    int64_t reconnect_max_delay_ms;
    int64_t max_message_size;
    int64_t max_pending_fetches;
    int64_t max_pending_notifications;
    lg_table_list subscriptions; /* redis_rule_config */
    lg_table_list notify;        /* redis_notify_config */
} redis_config;

/* One subscription rule, checked and with its defaults filled in. */
typedef struct redis_rule {
    const redis_rule_config *config;
    size_t index;      /* position in subscriptions, for logs */
    const char *name;  /* the Redis channel or pattern */
    int is_pattern;
    int wildcards;     /* of the pattern */
    char *channel;     /* livegate channel name, or template of a pattern rule */
    int eager_state;   /* an eager pattern rule's subscription: a redis_sub_state */
    int eager_gap;     /* send gap notices once that subscription is back */
} redis_rule;

extern const lg_option redis_options[];

/* Check CONFIG beyond the option table and build ADDRESS and the RULES
 * (COUNT of them, to free with redis_rules_free). Returns 0, or -1 with ERR
 * naming the option and value. */
int redis_config_check(const redis_config *config, redis_address *address, redis_rule **rules, size_t *count,
                       lg_error *err);

void redis_rules_free(redis_rule *rules, size_t count);

#endif
