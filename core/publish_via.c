/* Publishing through a source: the event goes upstream first and enters the channel on its way back.
 *
 * The admin request is answered from the source's acknowledgement, on the
 * main thread, so a 201 means the event is durable upstream (for Kafka:
 * written to every in-sync replica) and a 503 means it was not confirmed and
 * no other source was notified. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin.h"
#include "alloc.h"
#include "instance.h"
#include "log.h"
#include "plugin_api.h"
#include "publish_via.h"

typedef struct lg_pending_produce {
    lg_http_request *req;
    lg_gateway *gateway;
    lg_instance *source;
    char *channel;
    lg_event *event;
} lg_pending_produce;

static lg_instance *lg_publish_via_source(const lg_gateway *gateway, const char *name)
{
    for (size_t i = 0; i < gateway->source_count; i++) {
        if (strcmp(gateway->sources[i]->name, name) == 0)
            return gateway->sources[i];
    }
    return NULL;
}

int lg_publish_via_check(const lg_gateway *gateway, const lg_settings *settings, lg_error *err)
{
    for (size_t i = 0; i < settings->channels.count; i++) {
        const lg_rule *rule = (const lg_rule *)settings->channels.items + i;
        lg_instance *source;

        if (rule->publish_via == NULL)
            continue;
        source = lg_publish_via_source(gateway, rule->publish_via);
        if (source == NULL)
            return lg_error_set(err, "channel rule '%s': publish_via names '%s', but no source has that name",
                                rule->match, rule->publish_via);
        if (source->plugin->produce == NULL)
            return lg_error_set(err, "channel rule '%s': publish_via names source '%s' of type %s, which cannot "
                                "write events upstream: name a kafka source", rule->match, rule->publish_via,
                                source->type);
        if (!rule->publish)
            return lg_error_set(err, "channel rule '%s': publish_via is set, but publish is false: set publish: "
                                "true", rule->match);
        source->produce_target = 1;
    }
    return 0;
}

/* Run the published hooks of the other sources, with the origin as the event's id. */
static void lg_publish_via_tell_sources(lg_pending_produce *pending, const char *origin)
{
    lg_gateway *gateway = pending->gateway;
    lg_event *event = pending->event;

    event->id = lg_strdup(origin);
    event->origin = lg_strdup(origin);
    event->channel_name = pending->channel;
    for (size_t i = 0; i < gateway->source_count; i++) {
        lg_instance *source = gateway->sources[i];

        if (source != pending->source && source->started && source->plugin->published != NULL)
            source->plugin->published(source, event);
    }
}

static void lg_publish_via_done(void *arg, const char *error, const char *origin)
{
    lg_pending_produce *pending = arg;

    if (error != NULL) {
        LG_LOG_WARN(pending->source->scope, "event for channel '%s' not published: %s", pending->channel, error);
        lg_http_respond_error(pending->req, 503, "source '%s' could not write the event upstream: %s; it is not "
                              "confirmed and no other source was notified, so publish it again",
                              pending->source->name, error);
    } else {
        lg_publish_via_tell_sources(pending, origin);
        lg_admin_respond_json(pending->req, 201, json_pack("{s:s, s:s, s:s}", "channel", pending->channel, "origin",
                                                            origin, "via", pending->source->name));
    }

    lg_event_unref(pending->event);
    free(pending->channel);
    free(pending);
}

void lg_publish_via(lg_http_request *req, lg_gateway *gateway, const lg_rule *rule, const char *name, lg_event *event)
{
    lg_pending_produce *pending = lg_calloc(1, sizeof(*pending));
    lg_error err;

    pending->req = req;
    pending->gateway = gateway;
    pending->source = lg_publish_via_source(gateway, rule->publish_via);
    pending->channel = lg_strdup(name);
    pending->event = event;

    lg_error_clear(&err);
    if (pending->source == NULL || !pending->source->started ||
        pending->source->plugin->produce(pending->source, name, event, lg_publish_via_done, pending, &err) < 0) {
        if (pending->source == NULL || !pending->source->started)
            lg_error_set(&err, "source '%s' is not running", rule->publish_via);
        LG_LOG_WARN("admin", "event for channel '%s' not published: %s", name, err.message);
        lg_http_respond_error(req, 503, "%s; nothing was published", err.message);
        lg_event_unref(event);
        free(pending->channel);
        free(pending);
    }
}
