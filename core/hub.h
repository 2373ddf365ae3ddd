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
struct lg_script;
struct lg_pending_emit;
struct lg_parked;

#define LG_HUB_EPOCH_BYTES 16

typedef struct lg_hub {
    struct event_base *base;
    lg_mailbox mailbox; /* from workers */

    lg_channel *channels; /* uthash by name */
    size_t channel_count;
    size_t max_channels;
    const lg_rule *rules;
    size_t rule_count;
    struct lg_script **scripts; /* per rule, NULL where a rule has no script; not owned */

    /* Events emitted by scripts, published once the current publish ends. */
    STAILQ_HEAD(, lg_pending_emit) pending;
    int publishing;

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

    /* Called when CHANNEL gets its first subscriber on this node (WATCHED 1)
     * or loses its last one (WATCHED 0), so that sources can subscribe
     * upstream only while somebody listens. May be NULL. */
    void (*watch)(void *arg, const char *channel, int watched);
    void *watch_arg;

    /* Called with every event that enters a channel; for tests. */
    void (*observer)(void *arg, lg_event *event);
    void *observer_arg;

    /* Called with every event that enters a channel while it is set: the
     * admin API sets it around one publish to pass the events on to sources. */
    void (*appended)(void *arg, lg_event *event);
    void *appended_arg;

    /* Ordered logs that sources read (see lg_positions), for resumes by
     * position id; may be NULL. LOG_RANGE returns 0 with the first offset
     * read of LOG and the next one to read, or -1 when no source reads it.
     * READ_RANGE reads offsets FROM to TO of LOG again, keeping the records
     * that go to CHANNEL, and calls DONE once, later. It returns -1 with ERR
     * set when it cannot, and DONE is then never called. */
    int (*log_range)(void *arg, const char *log, int64_t *first, int64_t *next);
    int (*read_range)(void *arg, const char *channel, const char *log, int64_t from, int64_t to, lg_read_done done,
                      void *done_arg, lg_error *err);
    void *sources_arg;
    struct lg_parked *parked; /* subscribe requests waiting for read-backs or for sources to catch up */
    int64_t resume_wait_ms;   /* how long a resume waits for sources to read as far as its id */
    int stopping;             /* shutting down: parked requests get no reply */

    struct lg_barrier *barriers; /* waiting for workers' replies */
    uint64_t barrier_generation;

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

/* Attach the scripts of the rules (SCRIPTS[i] belongs to RULES[i]). */
void lg_hub_set_scripts(lg_hub *hub, struct lg_script **scripts);

/* What a publish did. */
typedef struct lg_publish_result {
    lg_channel *channel;
    size_t count;        /* events that entered the channel: 0 when its script dropped the event */
    const char *last_id; /* id of the last of them, owned by the channel; NULL when COUNT is 0 */
    int duplicate;       /* 1: dropped because the channel saw the event's origin before */
} lg_publish_result;

/* Publish EVENT (the hub takes over the caller's reference) into channel
 * NAME: assign its sequence and id, run the channel's script if it has one,
 * encode what comes out once per wire format, add it to history and
 * snapshot, and hand it to every worker that has subscribers. Events that
 * scripts emit are published after it. Returns 0 with RESULT filled, or -1
 * with ERR and *STATUS set (the event is then released). A failing script is
 * not an error here: its rule's on_error decides. */
int lg_hub_publish(lg_hub *hub, const char *name, lg_event *event, lg_publish_result *result, int *status,
                   lg_error *err);

/* Queue EVENT (taken over) for CHANNEL, to be published when the current
 * publish or timer callback ends; HOPS counts the scripts before it. */
void lg_hub_emit(lg_hub *hub, const char *channel, lg_event *event, unsigned hops);

/* Publish everything queued by lg_hub_emit. */
void lg_hub_flush_emits(lg_hub *hub);

/* Ask every worker to close its connections within TIMEOUT_MS and stop.
 * CALLBACK runs on the hub thread when the last worker has stopped. */
void lg_hub_shutdown_workers(lg_hub *hub, int64_t timeout_ms, void (*callback)(void *arg), void *arg);

/* Call CALLBACK(ARG) on the hub thread once every running worker has
 * handled all the messages posted to it before this call: after that, no
 * worker still uses data that was retired before it. Runs CALLBACK at once
 * when no worker runs. */
void lg_hub_barrier(lg_hub *hub, void (*callback)(void *arg), void *arg);

/* Return the script of CHANNEL's rule, or NULL. */
struct lg_script *lg_hub_script_of(const lg_hub *hub, const lg_channel *channel);

/* Parse a resume id "EPOCH-SEQ". Returns 0 and *SEQ when EPOCH is this
 * hub's, or -1 for ids of another process or malformed ids. */
int lg_hub_parse_id(const lg_hub *hub, const char *id, uint64_t *seq);

struct lg_subscribe_result;

/* Tell every subscriber of channel NAME that events may have been lost
 * upstream, with REASON, before any event published after this call. A
 * channel that does not exist has no subscribers: nothing happens. */
void lg_hub_signal_gap(lg_hub *hub, const char *name, const char *reason);

/* Return 1 when channel NAME has subscribers on this node. */
int lg_hub_is_watched(const lg_hub *hub, const char *name);

/* Resolve a new subscription to CHANNEL from history alone (see resume.c).
 * With LAST_EVENT_ID, append the events after it to EVENTS when history
 * still has all of them (RECOVERED), else set RESET with its reason and
 * append the snapshot. Without an id, append the snapshot. */
void lg_hub_resolve_resume(lg_hub *hub, lg_channel *channel, const char *last_event_id,
                           struct lg_subscribe_result *result, lg_event_list *events);

#endif
