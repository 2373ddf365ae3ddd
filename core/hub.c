/* The hub: channel registry, id assignment, fan-out to workers and subscription replies. */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "format.h"
#include "hub.h"
#include "log.h"
#include "lua_script.h"
#include "messages.h"
#include "names.h"
#include "resume.h"
#include "worker.h"

#define LG_HUB_EXPIRE_INTERVAL_MS 1000

/* A chain of scripts emitting into each other stops after this many hops. */
#define LG_HUB_MAX_HOPS 8

typedef struct lg_pending_emit {
    char *channel;
    lg_event *event;
    unsigned hops;
    STAILQ_ENTRY(lg_pending_emit) next;
} lg_pending_emit;


static void lg_hub_handle_messages(struct lg_message_list *messages, void *arg);

/* A barrier waiting for the replies of REMAINING workers. */
typedef struct lg_barrier {
    uint64_t generation;
    size_t remaining;
    void (*callback)(void *arg);
    void *arg;
    struct lg_barrier *next;
} lg_barrier;

void lg_hub_barrier(lg_hub *hub, void (*callback)(void *arg), void *arg)
{
    lg_barrier *barrier = lg_calloc(1, sizeof(*barrier));

    barrier->generation = ++hub->barrier_generation;
    barrier->callback = callback;
    barrier->arg = arg;
    for (size_t i = 0; i < hub->worker_count; i++) {
        lg_msg_barrier *msg;

        if (!hub->workers[i]->thread_started)
            continue;
        msg = lg_calloc(1, sizeof(*msg));
        msg->header.type = LG_MSG_BARRIER;
        msg->generation = barrier->generation;
        barrier->remaining++;
        lg_worker_post(hub->workers[i], &msg->header);
    }

    if (barrier->remaining == 0) {
        free(barrier);
        callback(arg);
        return;
    }
    barrier->next = hub->barriers;
    hub->barriers = barrier;
}

static void lg_hub_handle_barrier_done(lg_hub *hub, const lg_msg_barrier *msg)
{
    lg_barrier **link = &hub->barriers;

    while (*link != NULL && (*link)->generation != msg->generation)
        link = &(*link)->next;
    if (*link == NULL || --(*link)->remaining > 0)
        return;

    lg_barrier *done = *link;

    *link = done->next;
    done->callback(done->arg);
    free(done);
}

static void lg_hub_on_expire(evutil_socket_t fd, short what, void *arg)
{
    lg_hub *hub = arg;
    int64_t now_ms = lg_clock_monotonic_ms();
    lg_channel *channel;

    for (channel = hub->channels; channel != NULL; channel = channel->hh.next)
        lg_channel_expire(channel, now_ms);
}

/* Write the epoch: the start time in milliseconds in base 36, which orders
 * epochs of successive starts and stays short in every id. */
static void lg_hub_make_epoch(char *out, size_t size, int64_t now_ms)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    char reversed[LG_HUB_EPOCH_BYTES];
    uint64_t value = (uint64_t)now_ms;
    size_t len = 0;

    do {
        reversed[len++] = digits[value % 36];
        value /= 36;
    } while (value > 0 && len < sizeof(reversed) - 1);

    for (size_t i = 0; i < len && i < size - 1; i++)
        out[i] = reversed[len - 1 - i];
    out[len < size ? len : size - 1] = '\0';
}

lg_hub *lg_hub_new(struct event_base *base, const lg_rule *rules, size_t rule_count, size_t max_channels,
                   lg_error *err)
{
    lg_hub *hub = lg_calloc(1, sizeof(*hub));
    struct timeval period = {LG_HUB_EXPIRE_INTERVAL_MS / 1000, 0};

    hub->base = base;
    hub->rules = rules;
    hub->rule_count = rule_count;
    hub->max_channels = max_channels;
    hub->started_ms = lg_clock_wall_ms();
    STAILQ_INIT(&hub->pending);
    lg_hub_make_epoch(hub->epoch, sizeof(hub->epoch), hub->started_ms);

    if (lg_mailbox_init(&hub->mailbox, base, lg_hub_handle_messages, hub, err) < 0) {
        free(hub);
        return NULL;
    }

    hub->expire_timer = event_new(base, -1, EV_PERSIST, lg_hub_on_expire, hub);
    event_add(hub->expire_timer, &period);
    return hub;
}

void lg_hub_set_workers(lg_hub *hub, lg_worker **workers, size_t count)
{
    hub->workers = workers;
    hub->worker_count = count;
}

void lg_hub_free(lg_hub *hub)
{
    lg_channel *channel;
    lg_channel *tmp;

    if (hub == NULL)
        return;
    lg_mailbox_destroy(&hub->mailbox);
    event_free(hub->expire_timer);

    lg_resume_free_parked(hub);

    /* Workers are gone by now, so what barriers waited for is safe. */
    while (hub->barriers != NULL) {
        lg_barrier *barrier = hub->barriers;

        hub->barriers = barrier->next;
        barrier->callback(barrier->arg);
        free(barrier);
    }
    while (!STAILQ_EMPTY(&hub->pending)) {
        lg_pending_emit *pending = STAILQ_FIRST(&hub->pending);

        STAILQ_REMOVE_HEAD(&hub->pending, next);
        lg_event_unref(pending->event);
        free(pending->channel);
        free(pending);
    }

    HASH_ITER(hh, hub->channels, channel, tmp)
    {
        HASH_DEL(hub->channels, channel);
        lg_channel_free(channel);
    }
    free(hub);
}

lg_channel *lg_hub_find_channel(lg_hub *hub, const char *name)
{
    lg_channel *channel;

    HASH_FIND_STR(hub->channels, name, channel);
    return channel;
}

lg_channel *lg_hub_channel(lg_hub *hub, const char *name, int *status, lg_error *err)
{
    lg_channel *channel = lg_hub_find_channel(hub, name);
    const lg_rule *rule;

    if (channel != NULL)
        return channel;

    if (lg_channel_name_check(name, err) < 0) {
        *status = 400;
        return NULL;
    }
    rule = lg_rules_find(hub->rules, hub->rule_count, name);
    if (rule == NULL) {
        *status = 404;
        lg_error_set(err, "channel '%s' not found: no channel rule matches it", name);
        return NULL;
    }
    if (hub->channel_count >= hub->max_channels) {
        *status = 503;
        LG_LOG_WARN("hub", "cannot create channel '%s': %zu channels exist (server.limits.max_channels)", name,
                    hub->channel_count);
        lg_error_set(err, "cannot create channel '%s': the limit of %zu channels is reached", name,
                     hub->max_channels);
        return NULL;
    }

    channel = lg_channel_new(name, rule, hub->worker_count);
    HASH_ADD_KEYPTR(hh, hub->channels, channel->name, strlen(channel->name), channel);
    hub->channel_count++;
    LG_LOG_DEBUG("hub", "channel '%s' created by rule '%s'", name, rule->match);
    return channel;
}

static void lg_hub_fan_out(lg_hub *hub, lg_channel *channel, lg_event *event)
{
    for (size_t i = 0; i < hub->worker_count; i++) {
        lg_msg_event *msg;

        if (channel->worker_subscribers[i] == 0)
            continue;
        msg = lg_calloc(1, sizeof(*msg));
        msg->header.type = LG_MSG_EVENT;
        msg->event = lg_event_ref(event);
        lg_worker_post(hub->workers[i], &msg->header);
    }
}

/* Give EVENT sequence number SEQ and the matching id. */
static void lg_hub_number(lg_hub *hub, lg_event *event, uint64_t seq)
{
    event->seq = seq;
    free(event->id);
    event->id = lg_sprintf("%s-%" PRIu64, hub->epoch, event->seq);
}

/* Give EVENT, the last part of an event with a position, that position
 * and the channel's position id, so that every node gives it the same id. */
static void lg_hub_set_position_id(lg_channel *channel, lg_event *event, const lg_event *source)
{
    char *id;

    if (event != source && event->origin == NULL) {
        event->origin = lg_strdup(source->origin);
        event->position = source->position;
        event->log_len = source->log_len;
    }
    id = lg_positions_id(&channel->positions);
    if (id == NULL)
        return;
    free(event->id);
    event->id = id;
    event->id_is_position = 1;
}

/* Put EVENT into CHANNEL: encode it, keep it, hand it to the workers. */
static void lg_hub_append(lg_hub *hub, lg_channel *channel, lg_event *event)
{
    event->channel = channel;
    event->channel_name = channel->name;
    lg_format_encode_all(event);
    lg_channel_append(channel, event, lg_clock_monotonic_ms());
    hub->events_in++;
    lg_hub_fan_out(hub, channel, event);
    if (hub->observer != NULL)
        hub->observer(hub->observer_arg, event);
    if (hub->appended != NULL)
        hub->appended(hub->appended_arg, event);
}

lg_script *lg_hub_script_of(const lg_hub *hub, const lg_channel *channel)
{
    /* A channel left without a rule by a reload has a private copy, outside the array. */
    if (hub->scripts == NULL || channel->rule < hub->rules || channel->rule >= hub->rules + hub->rule_count)
        return NULL;
    return hub->scripts[channel->rule - hub->rules];
}

/* Run the channel's script on EVENT and fill OUT with what goes into the
 * channel: the script's result, or what on_error says when it fails. */
static void lg_hub_run_script(lg_hub *hub, lg_channel *channel, lg_script *script, lg_event *event, unsigned hops,
                              lg_event_list *out)
{
    lg_error err;

    if (lg_script_disabled(script)) {
        lg_error_set(&err, "script %s is disabled", lg_script_path(script));
    } else if (lg_script_run(script, channel->name, event, hops, out, &err) == 0) {
        if (out->count == 0)
            channel->script_dropped++;
        return;
    } else {
        channel->script_errors++;
        if (lg_log_enabled(LG_LOG_WARN))
            lg_log_write(lg_script_error_log(script), LG_LOG_WARN, "hub", "channel '%s' event %s: %s (on_error: %s)",
                         channel->name, event->id, err.message, lg_on_error_name(channel->rule->on_error));
    }

    if (channel->rule->on_error == LG_ON_ERROR_PASS)
        lg_event_list_push(out, lg_event_ref(event));
}

/* Publish one event with HOPS scripts behind it. */
static int lg_hub_publish_one(lg_hub *hub, const char *name, lg_event *event, unsigned hops,
                              lg_publish_result *result, int *status, lg_error *err)
{
    lg_channel *channel = lg_hub_channel(hub, name, status, err);
    lg_event_list out = {0};
    lg_script *script;

    memset(result, 0, sizeof(*result));
    if (channel == NULL) {
        lg_event_unref(event);
        return -1;
    }
    result->channel = channel;

    /* An event seen before, through another source, is dropped quietly. */
    if (event->origin != NULL && lg_dedup_seen(&channel->dedup, event->origin, (size_t)channel->rule->dedup_window)) {
        /* The copy that came first (from a Redis fetch) has no position, so
         * the channel's position moves on with this one. */
        if (event->position >= 0)
            lg_positions_advance(&channel->positions, event->origin, event->log_len, event->position);
        channel->duplicates++;
        result->duplicate = 1;
        lg_event_unref(event);
        return 0;
    }

    /* The id comes first, so that a script sees it and its errors name it. */
    lg_hub_number(hub, event, ++hub->last_seq);
    if (event->position >= 0)
        lg_positions_advance(&channel->positions, event->origin, event->log_len, event->position);
    script = lg_hub_script_of(hub, channel);
    if (script != NULL)
        lg_hub_run_script(hub, channel, script, event, hops, &out);
    else
        lg_event_list_push(&out, lg_event_ref(event));

    /* The first event keeps the reserved id; split parts get later ones. A
     * part that is the very event given is copied if it already went in. */
    for (size_t i = 0; i < out.count; i++) {
        lg_event *part = out.items[i];

        if (part->channel != NULL) {
            lg_event *copy = lg_event_new(part->key, part->type, part->data, part->data_len, part->time_ms);

            lg_event_unref(part);
            part = out.items[i] = copy;
        }
        if (i == 0 && part != event)
            lg_hub_number(hub, part, event->seq);
        else if (i > 0)
            lg_hub_number(hub, part, ++hub->last_seq);
        if (event->position >= 0 && i == out.count - 1)
            lg_hub_set_position_id(channel, part, event);
        lg_hub_append(hub, channel, part);
    }

    result->count = out.count;
    result->last_id = out.count > 0 ? channel->last_id : NULL;
    lg_event_list_clear(&out);
    lg_event_unref(event);
    return 0;
}

int lg_hub_publish(lg_hub *hub, const char *name, lg_event *event, lg_publish_result *result, int *status,
                   lg_error *err)
{
    int outermost = !hub->publishing;
    int rc;

    hub->publishing = 1;
    rc = lg_hub_publish_one(hub, name, event, 0, result, status, err);
    if (outermost) {
        lg_hub_flush_emits(hub);
        hub->publishing = 0;
    }
    return rc;
}

void lg_hub_emit(lg_hub *hub, const char *channel, lg_event *event, unsigned hops)
{
    lg_pending_emit *pending = lg_calloc(1, sizeof(*pending));

    pending->channel = lg_strdup(channel);
    pending->event = event;
    pending->hops = hops;
    STAILQ_INSERT_TAIL(&hub->pending, pending, next);
}

void lg_hub_flush_emits(lg_hub *hub)
{
    lg_pending_emit *pending;
    lg_publish_result result;
    lg_error err;
    int status;

    hub->publishing = 1;
    while ((pending = STAILQ_FIRST(&hub->pending)) != NULL) {
        STAILQ_REMOVE_HEAD(&hub->pending, next);
        if (pending->hops > LG_HUB_MAX_HOPS) {
            LG_LOG_WARN("hub", "event emitted into channel '%s' dropped: %u scripts in a row emitted it, the limit is %d",
                        pending->channel, pending->hops, LG_HUB_MAX_HOPS);
            lg_event_unref(pending->event);
        } else if (lg_hub_publish_one(hub, pending->channel, pending->event, pending->hops, &result, &status, &err) <
                   0) {
            LG_LOG_WARN("hub", "event emitted into channel '%s' dropped: %s", pending->channel, err.message);
        }
        free(pending->channel);
        free(pending);
    }
    hub->publishing = 0;
}

void lg_hub_set_scripts(lg_hub *hub, lg_script **scripts)
{
    hub->scripts = scripts;
}

int lg_hub_parse_id(const lg_hub *hub, const char *id, uint64_t *seq)
{
    size_t epoch_len = strlen(hub->epoch);
    const char *digits;
    char *end = NULL;
    unsigned long long value;

    if (strncmp(id, hub->epoch, epoch_len) != 0 || id[epoch_len] != '-')
        return -1;

    digits = id + epoch_len + 1;
    if (*digits < '0' || *digits > '9')
        return -1;
    value = strtoull(digits, &end, 10);
    if (*end != '\0' || value > hub->last_seq)
        return -1;

    *seq = (uint64_t)value;
    return 0;
}

static void lg_hub_handle_unsubscribe(lg_hub *hub, lg_msg_unsubscribe *request)
{
    lg_channel *channel = request->channel;

    if (channel->worker_subscribers[request->worker] == 0) {
        LG_LOG_ERROR("hub", "unsubscribe from channel '%s' by worker %zu without a subscription", channel->name,
                     request->worker);
        return;
    }
    channel->worker_subscribers[request->worker]--;
    channel->subscribers--;
    if (channel->subscribers == 0 && hub->watch != NULL)
        hub->watch(hub->watch_arg, channel->name, 0);

    /* A channel that only subscribers created, and that never got an event,
     * goes away with its last subscriber, so that subscribing to made-up
     * names cannot fill the channel table. No event or worker refers to it. */
    if (channel->subscribers == 0 && channel->events_in == 0 && channel->parked == 0) {
        HASH_DEL(hub->channels, channel);
        hub->channel_count--;
        LG_LOG_DEBUG("hub", "channel '%s' removed: no events and no subscribers", channel->name);
        lg_channel_free(channel);
    }
}

void lg_hub_signal_gap(lg_hub *hub, const char *name, const char *reason)
{
    lg_channel *channel;

    HASH_FIND_STR(hub->channels, name, channel);
    if (channel == NULL)
        return;

    for (size_t i = 0; i < hub->worker_count; i++) {
        lg_msg_gap *msg;

        if (channel->worker_subscribers[i] == 0)
            continue;
        msg = lg_calloc(1, sizeof(*msg));
        msg->header.type = LG_MSG_GAP;
        msg->channel = channel;
        msg->reason = lg_strdup(reason);
        lg_worker_post(hub->workers[i], &msg->header);
    }
}

int lg_hub_is_watched(const lg_hub *hub, const char *name)
{
    lg_channel *channel;

    HASH_FIND_STR(hub->channels, name, channel);
    return channel != NULL && channel->subscribers > 0;
}

static void lg_hub_handle_worker_stopped(lg_hub *hub, lg_msg_worker_stopped *msg)
{
    LG_LOG_DEBUG("hub", "worker %zu stopped", msg->worker);
    if (hub->workers_running > 0)
        hub->workers_running--;
    if (hub->workers_running == 0 && hub->workers_stopped != NULL)
        hub->workers_stopped(hub->workers_stopped_arg);
}

static void lg_hub_handle_messages(struct lg_message_list *messages, void *arg)
{
    lg_hub *hub = arg;
    lg_message *message;

    while ((message = STAILQ_FIRST(messages)) != NULL) {
        STAILQ_REMOVE_HEAD(messages, next);
        switch (message->type) {
        case LG_MSG_SUBSCRIBE: {
            lg_msg_subscribe *request = (lg_msg_subscribe *)message;

            lg_resume_subscribe(hub, request);
            for (size_t i = 0; i < request->count; i++)
                free(request->items[i].channel_name);
            free(request->items);
            free(request->last_event_id);
            break;
        }
        case LG_MSG_UNSUBSCRIBE:
            lg_hub_handle_unsubscribe(hub, (lg_msg_unsubscribe *)message);
            break;
        case LG_MSG_WORKER_STOPPED:
            lg_hub_handle_worker_stopped(hub, (lg_msg_worker_stopped *)message);
            break;
        case LG_MSG_BARRIER_DONE:
            lg_hub_handle_barrier_done(hub, (lg_msg_barrier *)message);
            break;
        default:
            LG_LOG_ERROR("hub", "unexpected message type %d from a worker", message->type);
            break;
        }
        free(message);
    }
}

void lg_hub_shutdown_workers(lg_hub *hub, int64_t timeout_ms, void (*callback)(void *arg), void *arg)
{
    hub->workers_stopped = callback;
    hub->workers_stopped_arg = arg;
    hub->workers_running = 0;

    for (size_t i = 0; i < hub->worker_count; i++) {
        lg_msg_shutdown *msg;

        if (!hub->workers[i]->thread_started)
            continue;
        msg = lg_calloc(1, sizeof(*msg));
        msg->header.type = LG_MSG_SHUTDOWN;
        msg->timeout_ms = timeout_ms;
        hub->workers_running++;
        lg_worker_post(hub->workers[i], &msg->header);
    }
    if (hub->workers_running == 0 && callback != NULL)
        callback(arg);
}
