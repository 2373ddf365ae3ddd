/* Resume of new subscriptions: by local id from history, by position id from history and
 * read-backs from the sources, or a reset followed by the snapshot.
 *
 * A local id "EPOCH-SEQ" names a place in this process's sequence, and
 * history replays everything after it. A position id such as
 * "kafka:orders:0:1234,kafka:orders:1:77" names, per log, the highest
 * offset the client has, and means the same on every node: the resume sends
 * each record above it that routes to the channel. When this node has not
 * read as far as the id yet, the subscription first waits for it
 * (server.limits.resume_wait). When the history no longer reaches that far
 * back, the subscription waits while the source reads the missing range
 * again (read_range), then gets the records read back followed by the
 * history. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "format.h"
#include "hub.h"
#include "log.h"
#include "lua_script.h"
#include "messages.h"
#include "resume.h"
#include "worker.h"

typedef enum lg_point_kind {
    LG_POINT_NONE,    /* no id: the snapshot */
    LG_POINT_SEQ,     /* an event of this process */
    LG_POINT_VECTOR,  /* offsets in ordered logs */
    LG_POINT_UNKNOWN, /* another process's local id, or malformed */
} lg_point_kind;

typedef struct lg_resume_point {
    lg_point_kind kind;
    uint64_t seq;
    lg_positions vector;
} lg_resume_point;

/* A range of one log that must be read back before a resume. */
typedef struct lg_read_range {
    char *log;
    int64_t from;
    int64_t to;
} lg_read_range;

typedef struct lg_read_ranges {
    lg_read_range *items;
    size_t count;
} lg_read_ranges;

/* One channel of a parked subscribe request. */
typedef struct lg_parked_item {
    lg_channel *channel; /* NULL when ERROR is set */
    char *error;
    lg_read_ranges ranges;
    lg_event_list read; /* events read back, each log's in offset order */
    lg_positions covered; /* the client's positions, raised to the end of each range read back */
    int read_failed;
    int holds_channel; /* counted in the channel's parked */
} lg_parked_item;

typedef struct lg_parked lg_parked;

/* A subscribe request waiting for sources to catch up, then for read-backs. */
struct lg_parked {
    lg_hub *hub;
    size_t worker;
    uint64_t stream_id;
    lg_subscribe_item *request_items;
    size_t count;
    lg_resume_point point;
    lg_parked_item *items;
    size_t pending;
    int64_t waiting_since_ms; /* monotonic clock when the request arrived */
    struct event *retry;      /* checks again whether the sources caught up */
    int linked;               /* in the hub's list of parked requests */
    unsigned rounds;          /* read-back rounds started */
    struct lg_parked *next;
};

/* The reason lg_resume_check gives while a source has not read as far as
 * the client: the request waits, and gets "unknown id" if it waits too long. */
static const char lg_resume_behind[] = "unknown id (the node is behind)";

#define LG_RESUME_RETRY_MS 50

/* Live records may push more of a channel out of history while a read-back
 * runs. Each further round reads that part too, and after this many rounds
 * the client gets the reset. */
#define LG_RESUME_MAX_ROUNDS 8

/* The argument of one read-back's completion. */
typedef struct lg_read_back {
    lg_parked *parked;
    size_t index;
    lg_read_range range;
} lg_read_back;

static void lg_read_ranges_add(lg_read_ranges *ranges, const char *log, int64_t from, int64_t to)
{
    ranges->items = lg_realloc(ranges->items, (ranges->count + 1) * sizeof(*ranges->items));
    ranges->items[ranges->count++] = (lg_read_range){lg_strdup(log), from, to};
}

static void lg_read_ranges_clear(lg_read_ranges *ranges)
{
    for (size_t i = 0; i < ranges->count; i++)
        free(ranges->items[i].log);
    free(ranges->items);
    ranges->items = NULL;
    ranges->count = 0;
}

/* ---- the resume point ---- */

/* Return the sequence number of the newest event with id ID in CHANNEL's history, or 0. */
static uint64_t lg_resume_find_id(const lg_channel *channel, const char *id)
{
    lg_event *event = channel != NULL ? lg_history_find_id(&channel->history, id) : NULL;

    return event != NULL ? event->seq : 0;
}

/* Work out what LAST_ID means here. For a request of one channel, a position
 * id of an event still in its history resumes by that event's sequence,
 * which is the same as resuming by its offsets. Other nodes issue the same
 * id strings, so for several channels a position id always resumes by its
 * offsets; SSE streams of several channels carry local ids instead (see
 * lg_stream_class.one_position). */
static void lg_resume_point_parse(const lg_hub *hub, const char *last_id, lg_channel *const *channels, size_t count,
                                  lg_resume_point *point)
{
    memset(point, 0, sizeof(*point));
    if (last_id == NULL) {
        point->kind = LG_POINT_NONE;
    } else if (!lg_positions_is_id(last_id)) {
        point->kind = lg_hub_parse_id(hub, last_id, &point->seq) == 0 ? LG_POINT_SEQ : LG_POINT_UNKNOWN;
    } else if (count == 1 && (point->seq = lg_resume_find_id(channels[0], last_id)) != 0) {
        point->kind = LG_POINT_SEQ;
    } else {
        point->kind = lg_positions_parse(last_id, &point->vector) == 0 ? LG_POINT_VECTOR : LG_POINT_UNKNOWN;
    }
}

/* ---- position resume ---- */

/* Return the offset from which the channel's history contains every record
 * of the log of POSITION, given the first offset the source read of it
 * (FIRST_READ, or -1). */
static int64_t lg_resume_history_start(const lg_position *position, int64_t first_read)
{
    if (position->evicted >= position->first)
        return position->evicted + 1;
    /* Nothing evicted: the records the source read before the channel's
     * first one went to other channels. */
    return first_read >= 0 && first_read < position->first ? first_read : position->first;
}

/* Check one log of the client's positions against CHANNEL. Returns NULL to
 * go on, with a range to read back added to RANGES (or, when RANGES is
 * NULL, the reset "evicted"), or the reset reason. */
static const char *lg_resume_check_log(lg_hub *hub, lg_channel *channel, const lg_position *client,
                                       lg_read_ranges *ranges)
{
    lg_position *ours = lg_positions_find(&channel->positions, client->log, strlen(client->log));
    int64_t first_read = -1;
    int64_t next_read = -1;
    int64_t reached;
    int64_t start;

    if (hub->log_range == NULL || hub->log_range(hub->sources_arg, client->log, &first_read, &next_read) < 0)
        first_read = next_read = -1;
    if (ours == NULL && first_read < 0)
        return "unknown id";

    /* A node that has not read as far as the client cannot tell which of
     * the records still to come the client already has. */
    reached = next_read >= 0 ? next_read - 1 : ours->offset;
    if (reached < client->offset)
        return lg_resume_behind;

    start = ours != NULL ? lg_resume_history_start(ours, first_read) : first_read;
    if (client->offset + 1 >= start)
        return NULL;

    if (ranges == NULL || lg_hub_script_of(hub, channel) != NULL)
        return "evicted";
    lg_read_ranges_add(ranges, client->log, client->offset + 1, start - 1);
    return NULL;
}

/* Return 1 when CHANNEL has events but the client's offsets name none of
 * its logs. Such a channel is one of the request that another channel's id
 * does not cover. */
static int lg_resume_uncovered(const lg_channel *channel, const lg_positions *client)
{
    if (channel->history.count == 0)
        return 0;
    for (size_t i = 0; i < client->count; i++) {
        if (lg_positions_find(&channel->positions, client->items[i].log, strlen(client->items[i].log)) != NULL)
            return 0;
    }
    return 1;
}

/* Check the logs of CHANNEL that the client's positions COVERED do not
 * name. An id of this very channel (SINGLE: the request has one channel)
 * leaves out only logs whose records the client never got, which history
 * must still hold in full. An id of another channel of the request does
 * not cover them. */
static const char *lg_resume_check_unnamed(const lg_channel *channel, const lg_positions *covered, int single)
{
    for (size_t i = 0; i < channel->positions.count; i++) {
        const lg_position *ours = &channel->positions.items[i];

        if (lg_positions_find(covered, ours->log, strlen(ours->log)) != NULL)
            continue;
        if (!single)
            return "unknown id";
        if (ours->evicted >= ours->first)
            return "evicted";
    }
    return NULL;
}

/* Check every log of the client's positions COVERED against CHANNEL. Read-backs
 * (into RANGES) serve only requests of one channel (SINGLE): the events of
 * several channels would not come in one order of offsets. */
static const char *lg_resume_check(lg_hub *hub, lg_channel *channel, const lg_positions *covered,
                                   lg_read_ranges *ranges, int single)
{
    const char *reason;

    if (lg_resume_uncovered(channel, covered))
        return "unknown id";
    reason = lg_resume_check_unnamed(channel, covered, single);
    if (reason != NULL)
        return reason;
    if (!single)
        ranges = NULL;
    for (size_t i = 0; i < covered->count && reason == NULL; i++)
        reason = lg_resume_check_log(hub, channel, &covered->items[i], ranges);
    return reason;
}

/* Give EVENT, about to be sent on a resume, the id of the client's
 * positions WALK after it: a copy for this client, so that resuming from it
 * later on any node skips everything sent before. */
static lg_event *lg_resume_copy(lg_channel *channel, lg_event *event, const lg_positions *walk)
{
    char *id = lg_positions_id(walk);
    lg_event *copy;

    if (id == NULL)
        return lg_event_ref(event);

    copy = lg_event_new(event->key, event->type, event->data, event->data_len, event->time_ms);
    copy->origin = event->origin != NULL ? lg_strdup(event->origin) : NULL;
    copy->position = event->position;
    copy->log_len = event->log_len;
    copy->seq = event->seq;
    copy->received_ms = event->received_ms;
    copy->id = id;
    copy->id_is_position = 1;
    copy->channel = channel;
    copy->channel_name = channel->name;
    lg_format_encode_all(copy);
    return copy;
}

/* Make EVENT, read back for this resume only, an event of CHANNEL with the
 * id of the client's positions WALK after it. No other code holds a reference to it yet,
 * so it is changed in place. */
static void lg_resume_claim(lg_channel *channel, lg_event *event, const lg_positions *walk)
{
    char *id = lg_positions_id(walk);

    /* An id over LG_POSITIONS_ID_MAX falls back to the record's own position. */
    free(event->id);
    event->id = id != NULL ? id : lg_strdup(event->origin);
    event->id_is_position = 1;
    event->channel = channel;
    event->channel_name = channel->name;
    event->received_ms = lg_clock_monotonic_ms();
    lg_format_encode_all(event);
}

static void lg_resume_walk(lg_positions *walk, const lg_event *event)
{
    if (event->position >= 0)
        lg_positions_advance(walk, event->origin, event->log_len, event->position);
}

/* Return 1 when the client has EVENT: a positioned event at or below its offset in that log. */
static int lg_resume_has(const lg_positions *covered, const lg_event *event)
{
    const lg_position *position;

    if (event->position < 0)
        return 0;
    position = lg_positions_find(covered, event->origin, event->log_len);
    return position != NULL && event->position <= position->offset;
}

/* Append to OUT what a client at positions CLIENT misses in CHANNEL: READ
 * (records read back, which COVERED already counts) and then the history
 * events it does not have. Events of a log the client's id does not name
 * are all sent (lg_resume_check_unnamed allows that only for an id of this
 * channel). Events without a position are sent when they come after the
 * newest event the client is known to have. */
static void lg_resume_collect(lg_channel *channel, const lg_positions *client, const lg_positions *covered,
                              lg_event_list *read, lg_event_list *out)
{
    lg_history *history = &channel->history;
    lg_positions walk = {0};
    size_t after = 0;

    lg_positions_copy(&walk, client);
    for (size_t i = 0; i < read->count; i++) {
        lg_resume_walk(&walk, read->items[i]);
        lg_resume_claim(channel, read->items[i], &walk);
        lg_event_list_push(out, lg_event_ref(read->items[i]));
    }
    lg_positions_merge(&walk, covered);

    for (size_t i = 0; i < history->count; i++) {
        if (lg_resume_has(covered, lg_history_at(history, i)))
            after = i + 1;
    }
    for (size_t i = 0; i < history->count; i++) {
        lg_event *event = lg_history_at(history, i);
        const lg_position *position =
            event->position >= 0 ? lg_positions_find(covered, event->origin, event->log_len) : NULL;
        int wanted;

        if (position != NULL)
            wanted = event->position > position->offset;
        else
            wanted = event->position >= 0 || i >= after;

        if (!wanted)
            continue;
        lg_resume_walk(&walk, event);
        lg_event_list_push(out, lg_resume_copy(channel, event, &walk));
    }
    lg_positions_clear(&walk);
}

/* ---- resolving one channel ---- */

static void lg_resume_snapshot(lg_channel *channel, lg_event_list *events)
{
    lg_event **found = NULL;
    size_t count = lg_snapshot_collect(&channel->snapshot, &found);

    lg_event_list_take(events, found, count);
}

static void lg_resume_reset(lg_channel *channel, lg_subscribe_result *result, const char *reason, lg_event_list *events)
{
    result->reset = 1;
    result->reset_reason = reason;
    lg_resume_snapshot(channel, events);
}

static void lg_resume_by_seq(lg_channel *channel, uint64_t seq, lg_subscribe_result *result, lg_event_list *events)
{
    lg_event **found = NULL;
    size_t count = 0;

    if (lg_history_since(&channel->history, seq, &found, &count) < 0) {
        lg_resume_reset(channel, result, "evicted", events);
        return;
    }
    result->recovered = 1;
    lg_event_list_take(events, found, count);
}

/* Resolve CHANNEL for POINT, with READ the records read back for it and
 * COVERED the client's positions raised by them (NULL: none were read).
 * READ_FAILED sends the reset. SINGLE: the request has one channel. */
static void lg_resume_channel(lg_hub *hub, lg_channel *channel, const lg_resume_point *point,
                              const lg_positions *covered, lg_event_list *read, int read_failed, int single,
                              lg_subscribe_result *result, lg_event_list *events)
{
    const char *reason;

    lg_channel_expire(channel, lg_clock_monotonic_ms());
    switch (point->kind) {
    case LG_POINT_NONE:
        lg_resume_snapshot(channel, events);
        return;
    case LG_POINT_UNKNOWN:
        lg_resume_reset(channel, result, "unknown id", events);
        return;
    case LG_POINT_SEQ:
        lg_resume_by_seq(channel, point->seq, result, events);
        return;
    case LG_POINT_VECTOR:
        break;
    }

    if (covered == NULL || covered->count == 0)
        covered = &point->vector;
    reason = read_failed ? "evicted" : lg_resume_check(hub, channel, covered, NULL, single);
    if (reason == lg_resume_behind)
        reason = "unknown id";
    if (reason != NULL) {
        LG_LOG_DEBUG("hub", "channel '%s' resumes with a reset: %s", channel->name, reason);
        lg_resume_reset(channel, result, reason, events);
        return;
    }
    result->recovered = 1;
    lg_resume_collect(channel, &point->vector, covered, read, events);
}

void lg_hub_resolve_resume(lg_hub *hub, lg_channel *channel, const char *last_event_id, lg_subscribe_result *result,
                           lg_event_list *events)
{
    lg_resume_point point;
    lg_event_list read = {0};

    lg_resume_point_parse(hub, last_event_id, &channel, 1, &point);
    lg_resume_channel(hub, channel, &point, NULL, &read, 0, 1, result, events);
    lg_positions_clear(&point.vector);
}

/* ---- subscribe requests ---- */

static void lg_resume_register(lg_hub *hub, lg_channel *channel, size_t worker)
{
    channel->worker_subscribers[worker]++;
    channel->subscribers++;
    if (channel->subscribers == 1 && hub->watch != NULL)
        hub->watch(hub->watch_arg, channel->name, 1);
}

/* Reply to the request of PARKED: count every subscription, resolve each
 * channel, and send the events in order: the records read back first, then
 * every other event by sequence. */
static void lg_resume_answer(lg_parked *parked)
{
    lg_hub *hub = parked->hub;
    lg_msg_subscribed *reply = lg_calloc(1, sizeof(*reply));
    lg_event_list read_back = {0};
    lg_event_list events = {0};

    reply->header.type = LG_MSG_SUBSCRIBED;
    reply->stream_id = parked->stream_id;
    reply->count = parked->count;
    reply->results = lg_calloc(parked->count, sizeof(*reply->results));

    for (size_t i = 0; i < parked->count; i++) {
        lg_subscribe_result *result = &reply->results[i];
        lg_parked_item *item = &parked->items[i];

        result->request_id = parked->request_items[i].request_id;
        if (item->channel == NULL) {
            result->error = item->error;
            item->error = NULL;
            continue;
        }
        result->channel = item->channel;
        lg_resume_register(hub, item->channel, parked->worker);
        lg_resume_channel(hub, item->channel, &parked->point, &item->covered, &item->read, item->read_failed,
                          parked->count == 1, result, item->read.count > 0 ? &read_back : &events);
    }

    lg_event_list_sort(&events);
    for (size_t i = 0; i < events.count; i++)
        lg_event_list_push(&read_back, events.items[i]);
    free(events.items);
    reply->events = read_back.items;
    reply->event_count = read_back.count;
    lg_worker_post(hub->workers[parked->worker], &reply->header);
}

static void lg_parked_free(lg_parked *parked)
{
    for (size_t i = 0; i < parked->count; i++) {
        lg_parked_item *item = &parked->items[i];

        if (item->holds_channel)
            item->channel->parked--;
        free(item->error);
        lg_read_ranges_clear(&item->ranges);
        lg_event_list_clear(&item->read);
        lg_positions_clear(&item->covered);
        free(parked->request_items[i].channel_name);
    }
    if (parked->retry != NULL)
        event_free(parked->retry);
    free(parked->items);
    free(parked->request_items);
    lg_positions_clear(&parked->point.vector);
    free(parked);
}

static void lg_parked_unlink(lg_parked *parked)
{
    lg_parked **link = &parked->hub->parked;

    if (!parked->linked)
        return;
    parked->linked = 0;
    while (*link != NULL && *link != parked)
        link = &(*link)->next;
    if (*link != NULL)
        *link = parked->next;
}

static void lg_resume_proceed(lg_parked *parked);

/* Count the ranges read back as covered, and go on: another round when
 * history lost more meanwhile, else the reply. */
static void lg_resume_finish(lg_parked *parked)
{
    for (size_t i = 0; i < parked->count; i++) {
        lg_parked_item *item = &parked->items[i];

        for (size_t r = 0; r < item->ranges.count && !item->read_failed; r++)
            lg_positions_advance(&item->covered, item->ranges.items[r].log, strlen(item->ranges.items[r].log),
                                 item->ranges.items[r].to);
        lg_read_ranges_clear(&item->ranges);
    }
    lg_resume_proceed(parked);
}

static void lg_resume_on_read(void *arg, lg_event **events, size_t count, const char *error)
{
    lg_read_back *back = arg;
    lg_parked *parked = back->parked;
    lg_parked_item *item = &parked->items[back->index];

    if (error != NULL && parked->hub->stopping) {
        LG_LOG_INFO("hub", "resume of channel '%s' for stream %llu ends unanswered: livegate is stopping",
                    item->channel->name, (unsigned long long)parked->stream_id);
        item->read_failed = 1;
    } else if (error != NULL) {
        LG_LOG_WARN("hub", "resume of channel '%s' for stream %llu gets a reset: %s", item->channel->name,
                    (unsigned long long)parked->stream_id, error);
        item->read_failed = 1;
    } else {
        LG_LOG_DEBUG("hub", "resume of channel '%s': read back %zu events of %s offsets %lld to %lld",
                     item->channel->name, count, back->range.log, (long long)back->range.from,
                     (long long)back->range.to);
    }
    for (size_t i = 0; i < count; i++) {
        if (error == NULL)
            lg_event_list_push(&item->read, events[i]);
        else
            lg_event_unref(events[i]);
    }
    free(back);

    if (--parked->pending == 0)
        lg_resume_finish(parked);
}

/* Start the read-backs of ITEM I of PARKED. */
static void lg_resume_start_reads(lg_parked *parked, size_t index)
{
    lg_hub *hub = parked->hub;
    lg_parked_item *item = &parked->items[index];

    for (size_t r = 0; r < item->ranges.count; r++) {
        lg_read_back *back = lg_calloc(1, sizeof(*back));
        lg_error err;

        back->parked = parked;
        back->index = index;
        back->range = item->ranges.items[r];
        parked->pending++;
        if (hub->read_range(hub->sources_arg, item->channel->name, back->range.log, back->range.from, back->range.to,
                            lg_resume_on_read, back, &err) < 0) {
            lg_resume_on_read(back, NULL, 0, err.message);
        }
    }
}

/* Work out, for a request by position id, which channels wait for a
 * source to catch up (*WAITING) and which ranges must be read back (*READS).
 * A channel that can do neither gets its reset in the reply. */
static void lg_resume_plan(lg_parked *parked, size_t *reads, size_t *waiting)
{
    lg_hub *hub = parked->hub;

    *reads = 0;
    *waiting = 0;
    if (parked->point.kind != LG_POINT_VECTOR || hub->read_range == NULL)
        return;

    for (size_t i = 0; i < parked->count; i++) {
        lg_parked_item *item = &parked->items[i];
        const char *reason;

        if (item->channel == NULL)
            continue;
        if (!item->holds_channel) {
            item->channel->parked++;
            item->holds_channel = 1;
            lg_positions_copy(&item->covered, &parked->point.vector);
        }
        if (item->read_failed)
            continue;
        lg_read_ranges_clear(&item->ranges);
        lg_channel_expire(item->channel, lg_clock_monotonic_ms());
        reason = lg_resume_check(hub, item->channel, &item->covered, &item->ranges, parked->count == 1);
        if (reason != NULL)
            lg_read_ranges_clear(&item->ranges);
        if (reason == lg_resume_behind)
            (*waiting)++;
        *reads += item->ranges.count;
    }
}

static void lg_resume_on_retry(evutil_socket_t fd, short what, void *arg)
{
    lg_resume_proceed(arg);
}

static void lg_resume_link(lg_parked *parked)
{
    if (parked->linked)
        return;
    parked->next = parked->hub->parked;
    parked->hub->parked = parked;
    parked->linked = 1;
}

/* Reply to PARKED now, or wait for its sources to catch up, or start its read-backs. */
static void lg_resume_proceed(lg_parked *parked)
{
    lg_hub *hub = parked->hub;
    int64_t waited_ms = lg_clock_monotonic_ms() - parked->waiting_since_ms;
    size_t reads;
    size_t waiting;

    lg_resume_plan(parked, &reads, &waiting);
    if (waiting > 0 && waited_ms < hub->resume_wait_ms) {
        struct timeval delay = {0, LG_RESUME_RETRY_MS * 1000};

        if (parked->retry == NULL) {
            parked->retry = evtimer_new(hub->base, lg_resume_on_retry, parked);
            LG_LOG_DEBUG("hub", "stream %llu waits for this node to read as far as its resume id",
                         (unsigned long long)parked->stream_id);
        }
        lg_resume_link(parked);
        evtimer_add(parked->retry, &delay);
        return;
    }
    if (waiting > 0)
        LG_LOG_INFO("hub", "stream %llu resumes with a reset: this node did not read as far as its id within "
                    "%lld ms (server.limits.resume_wait)", (unsigned long long)parked->stream_id,
                    (long long)hub->resume_wait_ms);

    if (reads > 0 && parked->rounds == LG_RESUME_MAX_ROUNDS) {
        LG_LOG_WARN("hub", "stream %llu resumes with a reset: history lost records faster than %d read-back "
                    "rounds could read them", (unsigned long long)parked->stream_id, LG_RESUME_MAX_ROUNDS);
        for (size_t i = 0; i < parked->count; i++) {
            if (parked->items[i].ranges.count > 0)
                parked->items[i].read_failed = 1;
        }
        reads = 0;
    }
    if (reads == 0) {
        lg_parked_unlink(parked);
        if (!hub->stopping)
            lg_resume_answer(parked);
        lg_parked_free(parked);
        return;
    }
    parked->rounds++;

    LG_LOG_DEBUG("hub", "stream %llu waits before its resume for read-backs: %zu",
                 (unsigned long long)parked->stream_id, reads);
    lg_resume_link(parked);
    /* Held while the reads start, since a read may finish at once. */
    parked->pending = 1;
    for (size_t i = 0; i < parked->count; i++)
        lg_resume_start_reads(parked, i);
    if (--parked->pending == 0)
        lg_resume_finish(parked);
}

/* Move the request's items into a parked request. */
static lg_parked *lg_resume_park(lg_hub *hub, lg_msg_subscribe *request)
{
    lg_parked *parked = lg_calloc(1, sizeof(*parked));

    parked->hub = hub;
    parked->worker = request->worker;
    parked->stream_id = request->stream_id;
    parked->request_items = request->items;
    parked->count = request->count;
    parked->items = lg_calloc(request->count, sizeof(*parked->items));
    request->items = NULL;
    request->count = 0;
    return parked;
}

void lg_resume_subscribe(lg_hub *hub, lg_msg_subscribe *request)
{
    lg_parked *parked = lg_resume_park(hub, request);
    lg_channel **channels = lg_calloc(parked->count > 0 ? parked->count : 1, sizeof(*channels));

    for (size_t i = 0; i < parked->count; i++) {
        lg_error err;
        int status;

        channels[i] = lg_hub_channel(hub, parked->request_items[i].channel_name, &status, &err);
        parked->items[i].channel = channels[i];
        if (channels[i] == NULL)
            parked->items[i].error = lg_strdup(err.message);
    }
    lg_resume_point_parse(hub, request->last_event_id, channels, parked->count, &parked->point);
    free(channels);
    parked->waiting_since_ms = lg_clock_monotonic_ms();
    lg_resume_proceed(parked);
}

void lg_resume_free_parked(lg_hub *hub)
{
    while (hub->parked != NULL) {
        lg_parked *parked = hub->parked;

        hub->parked = parked->next;
        lg_parked_free(parked);
    }
}
