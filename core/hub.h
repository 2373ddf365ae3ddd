/* The hub: the channel thread's state, where events get their ids and fan out to workers. */
#ifndef LG_HUB_H
#define LG_HUB_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "channel.h"
#include "error.h"
#include "event.h"
#include "hashmap.h"
#include "mailbox.h"
#include "rules.h"

struct lg_worker;

#define LG_HUB_EPOCH_BYTES 16

typedef struct lg_hub {
    struct event_base *base;
    lg_mailbox mailbox; /* from workers */

    lg_channel *channels; /* uthash by name */
    size_t channel_count;
    size_t max_channels;
    const lg_rule *rules;
    size_t rule_count;

    /* Resume ids are "EPOCH-SEQ": EPOCH changes at every start, so ids from
     * an earlier process are recognised as unknown instead of being
     * mistaken for offsets of this one. */
    char epoch[LG_HUB_EPOCH_BYTES];
    uint64_t last_seq;

    struct lg_worker **workers;
    size_t worker_count;
    size_t workers_running;

    void (*workers_stopped)(void *arg);
    void *workers_stopped_arg;

    struct event *expire_timer;
    uint64_t events_in;
    int64_t started_ms;
} lg_hub;

/* Create the hub on BASE with channel RULES (kept by pointer; they must
 * outlive the hub). Returns NULL with ERR set on failure. */
lg_hub *lg_hub_new(struct event_base *base, const lg_rule *rules, size_t rule_count, size_t max_channels,
                   lg_error *err);

/* Attach the workers events are fanned out to; call once before any
 * channel exists. */
void lg_hub_set_workers(lg_hub *hub, struct lg_worker **workers, size_t count);

void lg_hub_free(lg_hub *hub);

/* Return the channel NAME, creating it when a rule matches. Returns NULL
 * with ERR and *STATUS (HTTP: 400 invalid name, 404 no rule, 503 too many
 * channels) on failure. */
lg_channel *lg_hub_channel(lg_hub *hub, const char *name, int *status, lg_error *err);

/* Return the channel NAME if it exists, without creating it. */
lg_channel *lg_hub_find_channel(lg_hub *hub, const char *name);

/* Publish EVENT (the hub takes over the caller's reference) into channel
 * NAME: assign its sequence and id, encode it once per wire format, add it
 * to history and snapshot, and hand it to every worker that has
 * subscribers. Returns the channel, or NULL with ERR and *STATUS set (the
 * event is then released). */
lg_channel *lg_hub_publish(lg_hub *hub, const char *name, lg_event *event, int *status, lg_error *err);

/* Ask every worker to close its connections within TIMEOUT_MS and stop.
 * CALLBACK runs on the hub thread when the last worker has stopped. */
void lg_hub_shutdown_workers(lg_hub *hub, int64_t timeout_ms, void (*callback)(void *arg), void *arg);

/* Parse a resume id "EPOCH-SEQ". Returns 0 and *SEQ when EPOCH is this
 * hub's, or -1 for ids of another process or malformed ids. */
int lg_hub_parse_id(const lg_hub *hub, const char *id, uint64_t *seq);

struct lg_subscribe_result;

/* A growable array of event references. */
typedef struct lg_event_list {
    lg_event **items;
    size_t count;
    size_t cap;
} lg_event_list;

/* Resolve a new subscription to CHANNEL: with LAST_EVENT_ID, append the
 * events after it to EVENTS when history still has all of them (RECOVERED),
 * else set RESET with its reason and append the snapshot; without an id,
 * append the snapshot. */
void lg_hub_resolve_resume(lg_hub *hub, lg_channel *channel, const char *last_event_id,
                           struct lg_subscribe_result *result, lg_event_list *events);

/* Append EVENT to EVENTS without taking a reference. */
void lg_event_list_push(lg_event_list *events, lg_event *event);

/* Sort EVENTS by sequence number. */
void lg_event_list_sort(lg_event_list *events);

#endif
