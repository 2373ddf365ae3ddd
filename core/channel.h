/* Channels: named streams with history, snapshot, subscriber counts per worker and counters. */
#ifndef LG_CHANNEL_H
#define LG_CHANNEL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "dedup.h"
#include "event.h"
#include "hashmap.h"
#include "history.h"
#include "positions.h"
#include "rules.h"
#include "snapshot.h"

/* Reasons why an event did not reach a client, for /metrics. */
typedef enum lg_drop_reason {
    LG_DROP_CONFLATED = 0, /* replaced by a newer event of the same key in a full queue */
    LG_DROP_OVERFLOW,      /* dropped by the "drop" policy (the client got a gap notice) */
    LG_DROP_DISCONNECT,    /* lost with a client cut by the "disconnect" policy */
    LG_DROP_RATE,          /* replaced by a newer event within the client's rate interval */
    LG_DROP_REASON_COUNT,
} lg_drop_reason;

const char *lg_drop_reason_name(lg_drop_reason reason);

/* A channel lives on the channel thread and is never freed while workers
 * run, so workers may keep pointers to it and update its atomic counters. */
typedef struct lg_channel {
    char *name;
    const lg_rule *rule;
    lg_rule *own_rule; /* a copy kept when a reload left no rule matching this channel */

    lg_history history;
    lg_snapshot snapshot;
    uint64_t last_seq;
    char *last_id;
    lg_positions positions; /* offsets reached in the logs that feed the channel */
    size_t parked;          /* subscriptions waiting for a read-back, which keep the channel alive */

    uint32_t *worker_subscribers; /* subscriptions per worker, channel thread only */
    size_t worker_count;
    uint64_t subscribers;

    uint64_t events_in; /* channel thread only */
    uint64_t script_errors;  /* events on which the script failed */
    uint64_t script_dropped; /* events the script dropped by returning nil */
    uint64_t duplicates;     /* events dropped because their origin was seen */
    lg_dedup dedup;          /* origins of recent events, channel thread only */
    atomic_uint_fast64_t events_out;
    atomic_uint_fast64_t dropped[LG_DROP_REASON_COUNT];

    UT_hash_handle hh;
} lg_channel;

lg_channel *lg_channel_new(const char *name, const lg_rule *rule, size_t worker_count);
void lg_channel_free(lg_channel *channel);

/* Take EVENT into the channel: it becomes part of history and snapshot.
 * The event's SEQ and ID must be set. */
void lg_channel_append(lg_channel *channel, lg_event *event, int64_t now_ms);

/* Switch to RULE after a reload, resizing history and resetting the
 * snapshot when its mode changed. RULE NULL keeps a private copy of the old
 * rule, without its script, for a channel that no rule matches any more. */
void lg_channel_set_rule(lg_channel *channel, const lg_rule *rule);

/* Apply the history age limit. */
void lg_channel_expire(lg_channel *channel, int64_t now_ms);

#endif
