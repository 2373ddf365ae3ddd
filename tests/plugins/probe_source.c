/* Test source that logs the channel hooks of the core (watch, published) and
 * sends a gap notice to the first subscriber of a "probe." channel. */
#include <stdlib.h>
#include <string.h>

#include "plugin_api.h"

typedef struct probe_gap {
    lg_instance *instance;
    char *channel;
    struct event *timer;
} probe_gap;

static const lg_option probe_options[] = {{0}};

static int probe_init(lg_instance *instance, void *config, lg_error *err)
{
    (void)instance;
    (void)config;
    (void)err;
    return 0;
}

/* Signal the gap on the next loop turn, once the subscription is in place. */
static void probe_on_timer(evutil_socket_t fd, short what, void *arg)
{
    probe_gap *gap = arg;

    (void)fd;
    (void)what;
    lg_instance_signal_gap(gap->instance, gap->channel, "probe: upstream restarted");
    event_free(gap->timer);
    free(gap->channel);
    free(gap);
}

static void probe_watch(lg_instance *instance, const char *channel, int watched)
{
    probe_gap *gap;
    struct timeval now = {0, 0};

    LG_LOG_INFO(lg_instance_scope(instance), "watch %s %d (watched: %d)", channel, watched,
                lg_instance_is_watched(instance, channel));
    if (!watched || strncmp(channel, "probe.", 6) != 0)
        return;

    gap = lg_calloc(1, sizeof(*gap));
    gap->instance = instance;
    gap->channel = lg_strdup(channel);
    gap->timer = evtimer_new(lg_instance_base(instance), probe_on_timer, gap);
    evtimer_add(gap->timer, &now);
}

static void probe_published(lg_instance *instance, const lg_event *event)
{
    LG_LOG_INFO(lg_instance_scope(instance), "published %s %s", event->channel_name, event->id);
}

const lg_plugin livegate_plugin = {
    .abi_version = LG_PLUGIN_ABI_VERSION,
    .name = "probe_source",
    .kind = LG_PLUGIN_SOURCE,
    .description = "Test source that logs channel hooks.",
    .options = probe_options,
    .init = probe_init,
    .watch = probe_watch,
    .published = probe_published,
};
