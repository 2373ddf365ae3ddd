/* The subscriber connection: lazy per-channel SUBSCRIBE and UNSUBSCRIBE with linger, eager rules, reconnects and gap notices. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "redis_source.h"
#include "template.h"

#define GAP_REASON "redis: the connection to Redis was lost and restored; messages published meanwhile are lost"

static struct timeval timeval_from_ms(int64_t ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000 * 1000)};

    return tv;
}

static int entry_needed(const redis_entry *entry)
{
    return entry->watched || entry->eager || entry->linger_timer != NULL;
}

static void entry_free(redis_source *source, redis_entry *entry)
{
    HASH_DELETE(hh, source->entries, entry);
    if (entry->upstream_key != NULL)
        HASH_DELETE(hh_upstream, source->by_upstream, entry);
    if (entry->linger_timer != NULL)
        event_free(entry->linger_timer);
    free(entry->channel);
    free(entry->upstream);
    free(entry->upstream_key);
    free(entry);
}

static redis_entry *find_upstream(redis_source *source, const char *prefix, const char *name)
{
    char *key = lg_sprintf("%s%s", prefix, name);
    redis_entry *entry;

    HASH_FIND(hh_upstream, source->by_upstream, key, strlen(key), entry);
    free(key);
    return entry;
}

static redis_rule *find_eager_pattern(redis_source *source, const char *pattern)
{
    for (size_t i = 0; i < source->rule_count; i++) {
        redis_rule *rule = &source->rules[i];

        if (rule->is_pattern && rule->config->eager && strcmp(rule->name, pattern) == 0)
            return rule;
    }
    return NULL;
}

/* Return the first rule that produces CHANNEL, with the wildcards it stands for in CAPTURES. */
static redis_rule *find_rule(redis_source *source, const char *channel, redis_captures *captures)
{
    for (size_t i = 0; i < source->rule_count; i++) {
        redis_rule *rule = &source->rules[i];

        if (!rule->is_pattern && strcmp(rule->channel, channel) == 0) {
            memset(captures, 0, sizeof(*captures));
            return rule;
        }
        if (rule->is_pattern && redis_template_invert(rule->channel, channel, captures))
            return rule;
    }
    return NULL;
}

/* Set the Redis channel or pattern that ENTRY subscribes to on its own. */
static void entry_set_upstream(redis_source *source, redis_entry *entry, const redis_captures *captures)
{
    lg_buf pattern = LG_BUF_INIT;
    lg_buf name = LG_BUF_INIT;
    redis_entry *other;

    if (!entry->rule->is_pattern) {
        entry->upstream = lg_strdup(entry->rule->name);
    } else if (redis_pattern_narrow(entry->rule->name, captures, &pattern, &name) == 0) {
        entry->upstream = lg_buf_steal(&name, NULL);
    } else {
        entry->upstream = lg_buf_steal(&pattern, NULL);
        entry->is_pattern = 1;
    }
    lg_buf_free(&pattern);
    lg_buf_free(&name);

    other = find_upstream(source, entry->is_pattern ? "p:" : "c:", entry->upstream);
    if (other != NULL) {
        LG_LOG_WARN(source->scope, "channel '%s' is not subscribed: its Redis %s '%s' already feeds channel '%s'; "
                    "make the subscription rules map them apart", entry->channel,
                    entry->is_pattern ? "pattern" : "channel", entry->upstream, other->channel);
        free(entry->upstream);
        entry->upstream = NULL;
        return;
    }
    entry->upstream_key = lg_sprintf("%s%s", entry->is_pattern ? "p:" : "c:", entry->upstream);
    HASH_ADD_KEYPTR(hh_upstream, source->by_upstream, entry->upstream_key, strlen(entry->upstream_key), entry);
}

static redis_entry *entry_create(redis_source *source, const char *channel, redis_rule *rule,
                                 const redis_captures *captures)
{
    redis_entry *entry = lg_calloc(1, sizeof(*entry));

    entry->source = source;
    entry->channel = lg_strdup(channel);
    entry->rule = rule;
    HASH_ADD_KEYPTR(hh, source->entries, entry->channel, strlen(entry->channel), entry);
    if (!(rule->is_pattern && rule->config->eager))
        entry_set_upstream(source, entry, captures);
    return entry;
}

/* Commands */

static void on_subscriber_reply(redisAsyncContext *context, void *reply, void *privdata);

static void send_command(redis_source *source, const char *verb, const char *name)
{
    if (redisAsyncCommand(source->subscriber.context, on_subscriber_reply, source, "%s %b", verb, name,
                          strlen(name)) != REDIS_OK) {
        redis_link_fail(&source->subscriber, "queueing a command failed");
        return;
    }
    redis_link_expect(&source->subscriber);
    LG_LOG_DEBUG(source->scope, "%s %s", verb, name);
}

static void entry_subscribe(redis_source *source, redis_entry *entry)
{
    if (entry->upstream == NULL || entry->state != REDIS_SUB_IDLE || !source->subscriber.ready)
        return;
    entry->state = REDIS_SUB_PENDING;
    send_command(source, entry->is_pattern ? "PSUBSCRIBE" : "SUBSCRIBE", entry->upstream);
}

static void entry_unsubscribe(redis_source *source, redis_entry *entry)
{
    entry->state = REDIS_SUB_LEAVING;
    send_command(source, entry->is_pattern ? "PUNSUBSCRIBE" : "UNSUBSCRIBE", entry->upstream);
}

/* Unsubscribe ENTRY once no subscriber, linger or eager rule needs it, or free it when it has no subscription. */
static void entry_release(redis_source *source, redis_entry *entry)
{
    if (entry_needed(entry))
        return;
    if (entry->state == REDIS_SUB_ACTIVE && source->subscriber.ready)
        entry_unsubscribe(source, entry);
    else if (entry->state == REDIS_SUB_IDLE)
        entry_free(source, entry);
}

static void rule_subscribe(redis_source *source, redis_rule *rule)
{
    if (rule->eager_state != REDIS_SUB_IDLE || !source->subscriber.ready)
        return;
    rule->eager_state = REDIS_SUB_PENDING;
    send_command(source, "PSUBSCRIBE", rule->name);
}

/* Replies */

static void signal_gap(redis_source *source, redis_entry *entry)
{
    if (!entry->gap_pending)
        return;
    entry->gap_pending = 0;
    lg_instance_signal_gap(source->instance, entry->channel, GAP_REASON);
}

static void on_subscribed(redis_source *source, int is_pattern, const char *name)
{
    redis_entry *entry = find_upstream(source, is_pattern ? "p:" : "c:", name);
    redis_rule *rule = is_pattern ? find_eager_pattern(source, name) : NULL;
    redis_entry *item;
    redis_entry *tmp;

    redis_link_received(&source->subscriber);
    if (entry != NULL) {
        entry->state = REDIS_SUB_ACTIVE;
        signal_gap(source, entry);
        entry_release(source, entry);
        return;
    }
    if (rule == NULL)
        return;

    rule->eager_state = REDIS_SUB_ACTIVE;
    if (!rule->eager_gap)
        return;
    rule->eager_gap = 0;
    HASH_ITER(hh, source->entries, item, tmp)
    {
        if (item->rule == rule && item->watched) {
            item->gap_pending = 1;
            signal_gap(source, item);
        }
    }
}

static void on_unsubscribed(redis_source *source, int is_pattern, const char *name)
{
    redis_entry *entry = find_upstream(source, is_pattern ? "p:" : "c:", name);

    redis_link_received(&source->subscriber);
    if (entry == NULL)
        return;
    entry->state = REDIS_SUB_IDLE;
    if (entry_needed(entry))
        entry_subscribe(source, entry);
    else
        entry_free(source, entry);
}

static void on_message(redis_source *source, const redisReply *channel, const redisReply *payload)
{
    redis_entry *entry = find_upstream(source, "c:", channel->str);

    if (entry != NULL)
        redis_message_handle(source, entry->rule, entry->channel, channel->str, payload->str, payload->len);
}

static void on_pattern_message(redis_source *source, const redisReply *pattern, const redisReply *channel,
                               const redisReply *payload)
{
    redis_entry *entry = find_upstream(source, "p:", pattern->str);
    redis_rule *rule = entry == NULL ? find_eager_pattern(source, pattern->str) : NULL;
    redis_captures captures;
    redis_template_values values = {.captures = &captures};
    lg_buf name = LG_BUF_INIT;
    lg_error err;

    if (entry != NULL) {
        redis_message_handle(source, entry->rule, entry->channel, channel->str, payload->str, payload->len);
        return;
    }
    if (rule == NULL || !redis_pattern_match(rule->name, channel->str, &captures))
        return;

    lg_error_clear(&err);
    if (redis_template_expand(rule->channel, &values, 0, &name, &err) == 0)
        redis_message_handle(source, rule, name.data, channel->str, payload->str, payload->len);
    lg_buf_free(&name);
}

static int element_is_string(const redisReply *reply, size_t index)
{
    return index < reply->elements && (reply->element[index]->type == REDIS_REPLY_STRING ||
                                       reply->element[index]->type == REDIS_REPLY_STATUS);
}

static void on_subscriber_reply(redisAsyncContext *context, void *reply_ptr, void *privdata)
{
    redisReply *reply = reply_ptr;
    redis_source *source = privdata;
    const char *kind;

    if (reply == NULL || context->data == NULL)
        return;
    if (reply->type == REDIS_REPLY_ERROR) {
        char *reason = lg_sprintf("a subscription command failed: %s", reply->str);

        redis_link_fail(&source->subscriber, reason);
        free(reason);
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || !element_is_string(reply, 0) || !element_is_string(reply, 1))
        return;

    kind = reply->element[0]->str;
    if (strcmp(kind, "message") == 0 && element_is_string(reply, 2))
        on_message(source, reply->element[1], reply->element[2]);
    else if (strcmp(kind, "pmessage") == 0 && element_is_string(reply, 2) && element_is_string(reply, 3))
        on_pattern_message(source, reply->element[1], reply->element[2], reply->element[3]);
    else if (strcmp(kind, "subscribe") == 0 || strcmp(kind, "psubscribe") == 0)
        on_subscribed(source, kind[0] == 'p', reply->element[1]->str);
    else if (strcmp(kind, "unsubscribe") == 0 || strcmp(kind, "punsubscribe") == 0)
        on_unsubscribed(source, kind[0] == 'p', reply->element[1]->str);
}

/* Connection */

static void schedule_reconnect(redis_source *source, const char *reason);

static void on_reconnect_timer(evutil_socket_t fd, short what, void *arg)
{
    redis_source *source = arg;
    lg_error err;

    lg_error_clear(&err);
    if (redis_link_open(&source->subscriber, &err) < 0)
        schedule_reconnect(source, err.message);
}

static void schedule_reconnect(redis_source *source, const char *reason)
{
    const redis_config *config = source->config;
    int64_t delay_ms;
    struct timeval delay;
    char *health;

    source->attempt++;
    delay_ms = lg_backoff_jitter_ms(config->reconnect_delay_ms, config->reconnect_max_delay_ms, source->attempt);
    delay = timeval_from_ms(delay_ms);
    LG_LOG_WARN(source->scope, "subscriber connection to %s: %s; reconnecting in %lld ms (attempt %u)",
                source->address.display, reason, (long long)delay_ms, source->attempt);

    health = lg_sprintf("not connected to Redis at %s: %s", source->address.display, reason);
    lg_instance_set_health(source->instance, LG_HEALTH_DEGRADED, health);
    free(health);
    evtimer_add(source->reconnect_timer, &delay);
}

/* Every subscription ended with the connection. Mark the confirmed ones for
 * gap notices, and free the entries that are no longer needed. */
static void forget_subscriptions(redis_source *source)
{
    redis_entry *entry;
    redis_entry *tmp;

    HASH_ITER(hh, source->entries, entry, tmp)
    {
        if (entry->state == REDIS_SUB_ACTIVE)
            entry->gap_pending = 1;
        entry->state = REDIS_SUB_IDLE;
        if (!entry_needed(entry))
            entry_free(source, entry);
    }
    for (size_t i = 0; i < source->rule_count; i++) {
        if (source->rules[i].eager_state == REDIS_SUB_ACTIVE)
            source->rules[i].eager_gap = 1;
        source->rules[i].eager_state = REDIS_SUB_IDLE;
    }
}

static void on_subscriber_down(redis_link *link, const char *reason, void *arg)
{
    redis_source *source = arg;

    forget_subscriptions(source);
    if (source->stopping)
        return;
    schedule_reconnect(source, reason);
}

static void on_subscriber_ready(redis_link *link, void *arg)
{
    redis_source *source = arg;
    redis_entry *entry;
    redis_entry *tmp;
    unsigned count = 0;

    if (source->was_ready) {
        LG_LOG_INFO(source->scope, "reconnected to %s after %u attempts; restoring %u subscriptions",
                    source->address.display, source->attempt, HASH_CNT(hh, source->entries));
        redis_source_count(source, REDIS_COUNT_RECONNECTS, 1);
    }
    source->was_ready = 1;
    source->attempt = 0;
    lg_instance_set_health(source->instance, LG_HEALTH_OK, NULL);

    HASH_ITER(hh, source->entries, entry, tmp)
    {
        if (entry->upstream != NULL && entry_needed(entry)) {
            entry_subscribe(source, entry);
            count++;
        }
    }
    for (size_t i = 0; i < source->rule_count; i++) {
        if (source->rules[i].is_pattern && source->rules[i].config->eager) {
            rule_subscribe(source, &source->rules[i]);
            count++;
        }
    }
    LG_LOG_DEBUG(source->scope, "sent %u subscriptions", count);
}

/* Hooks */

static void on_linger_end(evutil_socket_t fd, short what, void *arg)
{
    redis_entry *entry = arg;

    event_free(entry->linger_timer);
    entry->linger_timer = NULL;
    entry_release(entry->source, entry);
}

void redis_subscriber_watch(redis_source *source, const char *channel, int watched)
{
    redis_entry *entry;
    redis_captures captures;
    redis_rule *rule;

    HASH_FIND(hh, source->entries, channel, strlen(channel), entry);
    if (entry == NULL && !watched)
        return;
    if (entry == NULL) {
        rule = find_rule(source, channel, &captures);
        if (rule == NULL)
            return;
        entry = entry_create(source, channel, rule, &captures);
    }

    entry->watched = watched;
    if (watched) {
        if (entry->linger_timer != NULL) {
            event_free(entry->linger_timer);
            entry->linger_timer = NULL;
        }
        entry_subscribe(source, entry);
        return;
    }
    if (source->config->linger_ms > 0 && !entry->eager) {
        struct timeval linger = timeval_from_ms(source->config->linger_ms);

        entry->linger_timer = evtimer_new(lg_instance_base(source->instance), on_linger_end, entry);
        evtimer_add(entry->linger_timer, &linger);
        return;
    }
    entry_release(source, entry);
}

/* Start and stop */

int redis_subscriber_start(redis_source *source, lg_error *err)
{
    redis_link *link = &source->subscriber;
    redis_captures none;
    lg_error open_err;

    if (source->rule_count == 0)
        return 0;

    memset(&none, 0, sizeof(none));
    for (size_t i = 0; i < source->rule_count; i++) {
        redis_rule *rule = &source->rules[i];

        if (!rule->is_pattern && rule->config->eager)
            entry_create(source, rule->channel, rule, &none)->eager = 1;
    }

    source->reconnect_timer = evtimer_new(lg_instance_base(source->instance), on_reconnect_timer, source);
    if (source->reconnect_timer == NULL)
        return lg_error_set(err, "evtimer_new failed for the reconnect timer");

    link->address = &source->address;
    link->scope = source->scope;
    link->role = "subscriber";
    link->base = lg_instance_base(source->instance);
    link->connect_timeout_ms = source->config->connect_timeout_ms;
    link->command_timeout_ms = source->config->command_timeout_ms;
    link->on_ready = on_subscriber_ready;
    link->on_down = on_subscriber_down;
    link->arg = source;

    lg_error_clear(&open_err);
    if (redis_link_open(link, &open_err) < 0)
        schedule_reconnect(source, open_err.message);
    return 0;
}

void redis_subscriber_stop(redis_source *source)
{
    redis_entry *entry;
    redis_entry *tmp;

    redis_link_close(&source->subscriber);
    if (source->reconnect_timer != NULL)
        event_free(source->reconnect_timer);
    source->reconnect_timer = NULL;
    HASH_ITER(hh, source->entries, entry, tmp)
        entry_free(source, entry);
}
