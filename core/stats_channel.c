/* livegate's own figures published into a channel (server.stats), for dashboards.
 *
 * Browsers cannot read the admin API, which is on another listener, so the
 * figures a dashboard shows go out like any other event, with what only
 * operators should see taken out. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "event.h"
#include "gateway.h"
#include "log.h"
#include "stats_channel.h"

static void lg_stats_channel_redact_items(json_t *items, const char *const *keys)
{
    size_t index;
    json_t *item;

    json_array_foreach(items, index, item) {
        for (size_t k = 0; keys[k] != NULL; k++)
            json_object_del(item, keys[k]);
    }
}

void lg_stats_channel_redact(json_t *stats)
{
    static const char *const source_keys[] = {"reason", NULL};
    static const char *const script_keys[] = {"path", "last_error", NULL};

    json_object_del(stats, "config");
    json_object_del(stats, "listeners");
    lg_stats_channel_redact_items(json_object_get(stats, "sources"), source_keys);
    lg_stats_channel_redact_items(json_object_get(stats, "scripts"), script_keys);
}

static void lg_stats_channel_publish(evutil_socket_t fd, short what, void *arg)
{
    lg_gateway *gateway = arg;
    const char *channel = gateway->settings->server.stats.channel;
    json_t *stats = lg_admin_stats(gateway);
    char *text;
    lg_publish_result result;
    lg_error err;
    int status;

    lg_stats_channel_redact(stats);
    text = json_dumps(stats, JSON_COMPACT);
    json_decref(stats);

    if (lg_hub_publish(gateway->hub, channel, lg_event_new(NULL, NULL, text, strlen(text), 0), &result, &status,
                       &err) < 0)
        LG_LOG_WARN("core", "cannot publish livegate's figures into channel '%s' (server.stats.channel): %s", channel,
                    err.message);
    free(text);
}

int lg_stats_channel_start(lg_gateway *gateway)
{
    const lg_stats_settings *settings = &gateway->settings->server.stats;
    struct timeval interval = {
        .tv_sec = (time_t)(settings->interval_ms / 1000),
        .tv_usec = (suseconds_t)(settings->interval_ms % 1000 * 1000),
    };

    if (settings->channel == NULL || settings->channel[0] == '\0' || settings->interval_ms == 0)
        return 0;

    gateway->stats_timer = event_new(gateway->base, -1, EV_PERSIST, lg_stats_channel_publish, gateway);
    if (gateway->stats_timer == NULL || event_add(gateway->stats_timer, &interval) < 0)
        return -1;
    LG_LOG_INFO("core", "publishing livegate's figures into channel %s every %lld ms", settings->channel,
                (long long)settings->interval_ms);
    lg_stats_channel_publish(-1, EV_TIMEOUT, gateway);
    return 0;
}

void lg_stats_channel_stop(lg_gateway *gateway)
{
    if (gateway->stats_timer == NULL)
        return;
    event_free(gateway->stats_timer);
    gateway->stats_timer = NULL;
}
