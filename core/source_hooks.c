/* Source hooks: channel interest and admin-published events passed on to the source plugins. */
#include "config.h"

#include <string.h>

#include "channel.h"
#include "gateway.h"
#include "hashmap.h"
#include "instance.h"
#include "source_hooks.h"

void lg_source_hooks_watch(void *arg, const char *channel, int watched)
{
    lg_gateway *gateway = arg;

    for (size_t i = 0; i < gateway->source_count; i++) {
        lg_instance *source = gateway->sources[i];

        if (source->started && source->plugin->watch != NULL)
            source->plugin->watch(source, channel, watched);
    }
}

void lg_source_hooks_replay(lg_gateway *gateway, lg_instance *source)
{
    lg_channel *channel;
    lg_channel *tmp;

    if (source->plugin->watch == NULL || gateway->hub == NULL)
        return;
    HASH_ITER(hh, gateway->hub->channels, channel, tmp)
    {
        if (channel->subscribers > 0)
            source->plugin->watch(source, channel->name, 1);
    }
}

/* Return the started source that reads LOG, with its range, or NULL. */
static lg_instance *lg_source_hooks_reader(lg_gateway *gateway, const char *log, int64_t *first, int64_t *next)
{
    for (size_t i = 0; i < gateway->source_count; i++) {
        lg_instance *source = gateway->sources[i];

        if (source->started && source->plugin->log_range != NULL &&
            source->plugin->log_range(source, log, first, next) == 0)
            return source;
    }
    return NULL;
}

int lg_source_hooks_log_range(void *arg, const char *log, int64_t *first, int64_t *next)
{
    return lg_source_hooks_reader(arg, log, first, next) != NULL ? 0 : -1;
}

int lg_source_hooks_read_range(void *arg, const char *channel, const char *log, int64_t from, int64_t to,
                               lg_read_done done, void *done_arg, lg_error *err)
{
    int64_t first;
    int64_t next;
    lg_instance *source = lg_source_hooks_reader(arg, log, &first, &next);

    if (source == NULL)
        return lg_error_set(err, "no source reads %s", log);
    if (source->plugin->read_range == NULL)
        return lg_error_set(err, "source '%s' cannot read %s back", source->name, log);
    return source->plugin->read_range(source, channel, log, from, to, done, done_arg, err);
}

/* What the hub's appended callback needs during one admin publish. */
typedef struct lg_publish_context {
    lg_gateway *gateway;
    const char *channel;
} lg_publish_context;

/* Pass EVENT to the sources when it entered the published channel, not a
 * channel that a script emitted into. */
static void lg_source_hooks_appended(void *arg, lg_event *event)
{
    lg_publish_context *context = arg;
    lg_gateway *gateway = context->gateway;

    if (strcmp(event->channel_name, context->channel) != 0)
        return;

    for (size_t i = 0; i < gateway->source_count; i++) {
        lg_instance *source = gateway->sources[i];

        if (source->started && source->plugin->published != NULL)
            source->plugin->published(source, event);
    }
}

static int lg_source_hooks_wanted(const lg_gateway *gateway)
{
    for (size_t i = 0; i < gateway->source_count; i++) {
        if (gateway->sources[i]->started && gateway->sources[i]->plugin->published != NULL)
            return 1;
    }
    return 0;
}

int lg_source_hooks_publish(lg_gateway *gateway, const char *name, lg_event *event, lg_publish_result *result,
                            int *status, lg_error *err)
{
    lg_publish_context context = {gateway, name};
    lg_hub *hub = gateway->hub;
    int rc;

    if (!lg_source_hooks_wanted(gateway))
        return lg_hub_publish(hub, name, event, result, status, err);

    hub->appended = lg_source_hooks_appended;
    hub->appended_arg = &context;
    rc = lg_hub_publish(hub, name, event, result, status, err);
    hub->appended = NULL;
    hub->appended_arg = NULL;
    return rc;
}
