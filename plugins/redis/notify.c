/* Publish notifications: announce admin-published events to Redis as {"id","channel","type","node"}, best effort. */
#include "config.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "redis_source.h"
#include "template.h"

static void notify_failed(redis_source *source, const char *event_id, const char *reason)
{
    LG_LOG_WARN(source->scope, "notification of event %s not sent to Redis: %s", event_id, reason);
    redis_source_count(source, REDIS_COUNT_NOTIFY_FAILURES, 1);
}

static void on_publish_reply(redisAsyncContext *context, void *reply_ptr, void *privdata)
{
    redisReply *reply = reply_ptr;
    char *event_id = privdata;
    redis_source *source = context->data != NULL ? ((redis_link *)context->data)->arg : NULL;

    if (source == NULL) {
        /* The link was closed or failed: on_notify_link_down counted this one. */
        free(event_id);
        return;
    }
    source->notify_pending--;
    redis_link_received(&source->notify_link);
    if (reply == NULL)
        notify_failed(source, event_id, "the notify connection was lost");
    else if (reply->type == REDIS_REPLY_ERROR)
        notify_failed(source, event_id, reply->str);
    else
        redis_source_count(source, REDIS_COUNT_NOTIFICATIONS, 1);
    free(event_id);
}

static void on_notify_link_down(redis_link *link, const char *reason, void *arg)
{
    redis_source *source = arg;

    /* The commands that were waiting get a NULL reply after the link is
     * detached, so they are counted here. */
    if (source->notify_pending > 0) {
        LG_LOG_WARN(source->scope, "%lld notifications not sent to Redis: %s", (long long)source->notify_pending,
                    reason);
        redis_source_count(source, REDIS_COUNT_NOTIFY_FAILURES, (uint64_t)source->notify_pending);
    }
    source->notify_pending = 0;
    LG_LOG_WARN(source->scope, "notify connection to %s: %s; it reopens with the next notification",
                source->address.display, reason);
}

/* Append the notification of EVENT: its id, channel and type, and this node. */
static void format_notification(redis_source *source, const lg_event *event, lg_buf *out)
{
    lg_buf_append_str(out, "{\"id\":");
    lg_buf_append_json_string(out, event->id, strlen(event->id));
    lg_buf_append_str(out, ",\"channel\":");
    lg_buf_append_json_string(out, event->channel_name, strlen(event->channel_name));
    lg_buf_append_str(out, ",\"type\":");
    if (event->type != NULL)
        lg_buf_append_json_string(out, event->type, strlen(event->type));
    else
        lg_buf_append_str(out, "null");
    lg_buf_append_str(out, ",\"node\":");
    lg_buf_append_json_string(out, source->node, strlen(source->node));
    lg_buf_append_str(out, "}");
}

static void send_notification(redis_source *source, const redis_notify_config *rule, const lg_event *event)
{
    redis_template_values values = {.channel = event->channel_name};
    lg_buf redis_channel = LG_BUF_INIT;
    lg_buf message = LG_BUF_INIT;
    lg_error err;

    lg_error_clear(&err);
    if (source->notify_pending >= source->config->max_pending_notifications) {
        notify_failed(source, event->id, "too many notifications await a reply (max_pending_notifications)");
        return;
    }
    if (redis_template_expand(rule->redis_channel, &values, 0, &redis_channel, &err) < 0 ||
        (source->notify_link.context == NULL && redis_link_open(&source->notify_link, &err) < 0)) {
        notify_failed(source, event->id, err.message);
        lg_buf_free(&redis_channel);
        return;
    }

    format_notification(source, event, &message);
    if (redisAsyncCommand(source->notify_link.context, on_publish_reply, lg_strdup(event->id), "PUBLISH %b %b",
                          redis_channel.data, redis_channel.len, message.data, message.len) != REDIS_OK) {
        notify_failed(source, event->id, "queueing PUBLISH failed");
    } else {
        source->notify_pending++;
        redis_link_expect(&source->notify_link);
    }
    lg_buf_free(&redis_channel);
    lg_buf_free(&message);
}

void redis_notify_published(redis_source *source, const lg_event *event)
{
    const redis_notify_config *rules = source->config->notify.items;

    for (size_t i = 0; i < source->config->notify.count; i++) {
        if (fnmatch(rules[i].match, event->channel_name, 0) == 0) {
            send_notification(source, &rules[i], event);
            return;
        }
    }
}

void redis_notify_init(redis_source *source)
{
    redis_link *link = &source->notify_link;

    link->address = &source->address;
    link->scope = source->scope;
    link->role = "notify";
    link->base = lg_instance_base(source->instance);
    link->connect_timeout_ms = source->config->connect_timeout_ms;
    link->command_timeout_ms = source->config->command_timeout_ms;
    link->on_down = on_notify_link_down;
    link->arg = source;
}

void redis_notify_stop(redis_source *source)
{
    redis_link_close(&source->notify_link);
}
