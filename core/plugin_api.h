/* The plugin ABI: the descriptor a plugin exports and the core services it may call. */
#ifndef LG_PLUGIN_API_H
#define LG_PLUGIN_API_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "alloc.h"
#include "backoff.h"
#include "buf.h"
#include "clock.h"
#include "conf.h"
#include "error.h"
#include "event.h"
#include "format.h"
#include "http.h"
#include "http_client.h"
#include "log.h"
#include "names.h"
#include "options.h"
#include "random.h"
#include "stream.h"

/* Raised whenever a struct or function below changes incompatibly. A plugin
 * built against another version is rejected at load time. */
#define LG_PLUGIN_ABI_VERSION 4

/* The one symbol every plugin exports: a const lg_plugin named this way. */
#define LG_PLUGIN_SYMBOL "livegate_plugin"

typedef enum lg_plugin_kind {
    LG_PLUGIN_SOURCE = 1,
    LG_PLUGIN_SINK = 2,
} lg_plugin_kind;

typedef enum lg_health {
    LG_HEALTH_OK = 0,
    LG_HEALTH_DEGRADED, /* working, with a problem that clients may notice */
    LG_HEALTH_FAILED,   /* not delivering at all */
} lg_health;

/* One configured source or sink: a plugin plus its parsed options. */
typedef struct lg_instance lg_instance;

/* How a source reports the end of a produce call (see lg_plugin.produce). */
typedef void (*lg_produce_done)(void *arg, const char *error, const char *origin);

typedef struct lg_plugin {
    uint32_t abi_version; /* LG_PLUGIN_ABI_VERSION */
    const char *name;     /* must equal the file name without ".so" and the config's type: */
    lg_plugin_kind kind;
    const char *description;

    /* Options of one instance, ended by an entry whose name is NULL. The core
     * parses them into a zeroed struct of CONFIG_SIZE bytes. */
    const lg_option *options;
    size_t config_size;

    /* Main thread, before any thread starts, also in check mode (-t):
     * validate CONFIG beyond the table (cross-field rules), allocate state,
     * register formats and routes. Returns 0, or -1 with ERR set. */
    int (*init)(lg_instance *instance, void *config, lg_error *err);

    /* Main thread, after every instance is initialised and the event loops
     * exist; not called in check mode. Sources start producing here.
     * Returns 0, or -1 with ERR set. */
    int (*start)(lg_instance *instance, lg_error *err);

    /* Main thread, at shutdown: stop timers and connections. May be NULL. */
    void (*stop)(lg_instance *instance);

    /* Free what init allocated. May be NULL. The parsed config is freed by
     * the core afterwards. */
    void (*destroy)(lg_instance *instance);

    /* Sources, main thread, after start: CHANNEL got its first subscriber on
     * this node (WATCHED 1) or lost its last one (WATCHED 0). A source that
     * reads upstream only while a client listens subscribes and unsubscribes
     * here. Called for every channel; a source ignores those it does not
     * feed. May be NULL. */
    void (*watch)(lg_instance *instance, const char *channel, int watched);

    /* Sources, main thread: EVENT entered its channel through the admin API
     * (after the channel's script). A source that forwards notifications
     * of published events upstream does it here. May be NULL. */
    void (*published)(lg_instance *instance, const lg_event *event);

    /* Sources, main thread: write EVENT, published through the admin API
     * into CHANNEL, upstream (for example into a Kafka topic), for a channel
     * rule whose publish_via names this source. The source reads it back
     * into CHANNEL like any other record. Call DONE with ARG exactly once,
     * later, on the main thread: with ERROR NULL and the event's ORIGIN once
     * upstream acknowledged it, or with ERROR saying why it was not written.
     * Returns 0, or -1 with ERR set (DONE is then never called). May be NULL. */
    int (*produce)(lg_instance *instance, const char *channel, const lg_event *event, lg_produce_done done,
                   void *arg, lg_error *err);

    /* Sources whose events carry positions (lg_publish.positioned), main
     * thread: return 0 with *FIRST, the first offset of LOG (such as
     * "kafka:orders:0") read on this node, and *NEXT, the offset read next.
     * Return -1 when the source does not read LOG. May be NULL. */
    int (*log_range)(lg_instance *instance, const char *log, int64_t *first, int64_t *next);

    /* Sources with log_range, main thread: read offsets FROM to TO of LOG
     * again for a client that resumes from further back than history, and
     * keep the records that go to CHANNEL, as events with their positioned
     * origin (lg_event_set_origin). Call DONE with ARG exactly once, later,
     * on the main thread, also when the source stops first. Returns 0, or
     * -1 with ERR set (DONE is then never called), for example when the
     * range is longer than the source allows. May be NULL. */
    int (*read_range)(lg_instance *instance, const char *channel, const char *log, int64_t from, int64_t to,
                      lg_read_done done, void *arg, lg_error *err);
} lg_plugin;

/* Instance services. Unless stated otherwise, call them on the main thread. */
const char *lg_instance_name(const lg_instance *instance);
const char *lg_instance_type(const lg_instance *instance);
const char *lg_instance_scope(const lg_instance *instance); /* log scope "source:sysmetrics:host" */
void *lg_instance_config(const lg_instance *instance);
void *lg_instance_data(const lg_instance *instance);
void lg_instance_set_data(lg_instance *instance, void *data);

/* The main thread's event base, for timers and sockets of sources. */
struct event_base *lg_instance_base(const lg_instance *instance);

/* Report health for /health and /api/stats. REASON (copied, may be NULL)
 * says what is wrong; a change is logged once. */
void lg_instance_set_health(lg_instance *instance, lg_health health, const char *reason);

/* An event handed to the core by a source. */
typedef struct lg_publish {
    const char *channel;
    const char *key;  /* may be NULL */
    const char *type; /* may be NULL */
    const void *data;
    size_t data_len;
    int64_t time_ms; /* 0: now */
    /* Position of the event at its source, the same on every node, such as
     * "kafka:orders:0:1234"; may be NULL. The channel drops an event whose
     * origin it saw among its last dedup_window events, so one that arrives
     * twice (through Kafka and through Redis) reaches clients once. */
    const char *origin;
    /* 1: ORIGIN is "LOG:OFFSET", with offsets that grow along LOG and every
     * node reading the same record at the same offset (a Kafka partition).
     * The channel then builds resume ids from these positions, and a
     * resume deeper than history reads LOG again through read_range. */
    int positioned;
} lg_publish;

/* Publish one event from a source into its channel (main thread). Channel
 * rules apply: a name no rule matches is rejected. Returns 0, or -1 with ERR
 * set; the caller logs the error. */
int lg_instance_publish(lg_instance *instance, const lg_publish *event, lg_error *err);

/* Return 1 when a channel rule's publish_via names INSTANCE, so that a
 * source can prepare its produce path at start rather than on the first
 * publish. A reload may add such rules later. */
int lg_instance_is_produce_target(const lg_instance *instance);

/* Return 1 when CHANNEL has subscribers on this node, for a source that
 * (re)subscribes upstream after start or a reconnect. */
int lg_instance_is_watched(lg_instance *instance, const char *channel);

/* Tell the subscribers of CHANNEL that events may have been lost upstream,
 * for example while the source was disconnected, with REASON (copied) for
 * the gap notice. Events published after this call come after the notice. */
void lg_instance_signal_gap(lg_instance *instance, const char *channel, const char *reason);

/* Sinks only, from init: add an HTTP route on the public listener. The
 * handler runs on a worker thread with ARG. */
void lg_instance_add_route(lg_instance *instance, const char *method, const char *path, unsigned flags,
                           lg_http_handler handler, void *arg);

/* Add the value of a plugin-defined counter. The core prints it in /metrics
 * as livegate_NAME{source="..."} (NAME gets "_total" when it is missing). */
void lg_instance_count(lg_instance *instance, const char *name, const char *help, uint64_t delta);

/* Set the value of a plugin-defined gauge, printed in /metrics as
 * livegate_NAME{source="...",LABELS}. LABELS (may be NULL) are extra labels
 * written as 'topic="t",partition="0"', with values escaped by the caller;
 * each NAME and LABELS pair is one sample. */
void lg_instance_gauge(lg_instance *instance, const char *name, const char *help, const char *labels, int64_t value);

#endif
