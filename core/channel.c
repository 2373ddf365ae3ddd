/* Channel state: appending events to history and snapshot. */
#include "config.h"

#include <stdlib.h>

#include "alloc.h"
#include "channel.h"

static const char *const lg_drop_reason_names[LG_DROP_REASON_COUNT] = {"conflated", "overflow", "disconnect",
                                                                        "rate"};

const char *lg_drop_reason_name(lg_drop_reason reason)
{
    return reason < LG_DROP_REASON_COUNT ? lg_drop_reason_names[reason] : "unknown";
}

lg_channel *lg_channel_new(const char *name, const lg_rule *rule, size_t worker_count)
{
    lg_channel *channel = lg_calloc(1, sizeof(*channel));

    channel->name = lg_strdup(name);
    channel->rule = rule;
    lg_history_init(&channel->history, (size_t)rule->history.length);
    channel->history.positions = &channel->positions;
    lg_snapshot_init(&channel->snapshot, rule->snapshot, (size_t)rule->snapshot_max_keys);
    channel->worker_subscribers = lg_calloc(worker_count, sizeof(*channel->worker_subscribers));
    channel->worker_count = worker_count;
    atomic_init(&channel->events_out, 0);
    for (int i = 0; i < LG_DROP_REASON_COUNT; i++)
        atomic_init(&channel->dropped[i], 0);
    return channel;
}

void lg_channel_free(lg_channel *channel)
{
    if (channel == NULL)
        return;
    lg_history_clear(&channel->history);
    lg_positions_clear(&channel->positions);
    lg_snapshot_clear(&channel->snapshot);
    lg_dedup_clear(&channel->dedup);
    free(channel->worker_subscribers);
    if (channel->own_rule != NULL) {
        free(channel->own_rule->match);
        free(channel->own_rule);
    }
    free(channel->last_id);
    free(channel->name);
    free(channel);
}

void lg_channel_append(lg_channel *channel, lg_event *event, int64_t now_ms)
{
    event->channel = channel;
    event->channel_name = channel->name;
    event->received_ms = now_ms;

    lg_channel_expire(channel, now_ms);
    lg_history_push(&channel->history, event);
    lg_snapshot_update(&channel->snapshot, event);

    channel->last_seq = event->seq;
    free(channel->last_id);
    channel->last_id = lg_strdup(event->id);
    channel->events_in++;
}

void lg_channel_expire(lg_channel *channel, int64_t now_ms)
{
    lg_history_expire(&channel->history, now_ms, channel->rule->history.max_age_ms);
}

void lg_channel_set_rule(lg_channel *channel, const lg_rule *rule)
{
    const lg_rule *old = channel->rule;
    lg_rule *previous_copy = channel->own_rule;

    if (rule == NULL) {
        if (previous_copy != NULL)
            return;
        channel->own_rule = lg_memdup(old, sizeof(*old));
        channel->own_rule->match = lg_strdup(old->match);
        channel->own_rule->lua = NULL;
        channel->rule = channel->own_rule;
        return;
    }

    channel->rule = rule;
    lg_history_resize(&channel->history, (size_t)rule->history.length);
    if (rule->snapshot != old->snapshot || rule->snapshot_max_keys != old->snapshot_max_keys) {
        lg_snapshot_clear(&channel->snapshot);
        lg_snapshot_init(&channel->snapshot, rule->snapshot, (size_t)rule->snapshot_max_keys);
    }
    if (previous_copy != NULL) {
        channel->own_rule = NULL;
        free(previous_copy->match);
        free(previous_copy);
    }
}
