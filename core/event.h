/* Events: reference-counted, immutable once in a channel, encoded once per wire format. */
#ifndef LG_EVENT_H
#define LG_EVENT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Maximum number of wire formats that sinks may register. */
#define LG_FORMAT_MAX 8

struct lg_channel;
struct lg_error;

typedef struct lg_bytes {
    char *data;
    size_t len;
} lg_bytes;

/* An event. Fields are set by lg_event_new and by the channel that takes
 * the event (SEQ, ID, CHANNEL, ENCODED); after that nobody writes to it,
 * so any thread holding a reference may read it without locks. */
typedef struct lg_event {
    atomic_uint refs;

    struct lg_channel *channel; /* the owning channel; channels outlive their events */
    const char *channel_name;   /* the channel's name, owned by the channel */

    uint64_t seq;   /* gateway-wide offset, monotonically increasing */
    char *id;       /* resume id "EPOCH-SEQ", as sent to clients */
    int64_t time_ms; /* milliseconds since the Unix epoch, as given by the source */
    int64_t received_ms; /* monotonic clock when the channel took the event, for history age */

    char *origin; /* where a source read it, such as "kafka:TOPIC:PARTITION:OFFSET"; NULL for none */
    /* With POSITION 0 or more, ORIGIN is "LOG:POSITION": the offset of the
     * event in an ordered log (such as "kafka:orders:0") that every node
     * reads alike, and LOG_LEN is the length of LOG. -1: no position. */
    int64_t position;
    size_t log_len;
    int id_is_position; /* 1: ID is the channel's position id, the same on every node */
    char *key;  /* NULL when the event has no key */
    char *type; /* NULL for a plain message */

    char *data; /* payload, NUL-terminated for convenience; DATA_LEN excludes the NUL */
    size_t data_len;
    int data_is_json; /* 1 when DATA is one valid JSON value */

    lg_bytes encoded[LG_FORMAT_MAX]; /* frames per registered wire format */
} lg_event;

/* Create an event with one reference. DATA is copied; KEY and TYPE may be
 * NULL. DATA is checked once here for being valid JSON. */
lg_event *lg_event_new(const char *key, const char *type, const void *data, size_t data_len, int64_t time_ms);

/* Set the origin of EVENT, not yet in a channel, to a copy of ORIGIN. With
 * POSITIONED, ORIGIN must be "LOG:OFFSET" and sets the event's position.
 * Returns 0, or -1 with ERR set (the event is unchanged). */
int lg_event_set_origin(lg_event *event, const char *origin, int positioned, struct lg_error *err);

/* How a source finishes a read-back (lg_plugin.read_range): with ERROR NULL
 * and COUNT events, whose references DONE takes over (the array stays the
 * caller's), or with ERROR saying why. */
typedef void (*lg_read_done)(void *arg, lg_event **events, size_t count, const char *error);

lg_event *lg_event_ref(lg_event *event);

/* Drop one reference; the last one frees the event and its frames. Safe
 * from any thread. */
void lg_event_unref(lg_event *event);

/* Same as lg_event_unref, with the signature of an evbuffer cleanup callback,
 * so queued frames keep their event alive until the bytes are sent. */
void lg_event_unref_cleanup(const void *data, size_t len, void *event);

/* A growable array of event references. */
typedef struct lg_event_list {
    lg_event **items;
    size_t count;
    size_t cap;
} lg_event_list;

/* Append EVENT to EVENTS, taking over the caller's reference. */
void lg_event_list_push(lg_event_list *events, lg_event *event);

/* Append COUNT references from EVENTS (taken over) and free that array. */
void lg_event_list_take(lg_event_list *list, lg_event **events, size_t count);

/* Sort EVENTS by sequence number. */
void lg_event_list_sort(lg_event_list *events);

/* Drop every reference and free the array. */
void lg_event_list_clear(lg_event_list *events);

/* Return 1 when DATA of LEN bytes is exactly one valid JSON value (RFC 8259,
 * UTF-8, surrounding whitespace allowed, numbers of any size). */
int lg_json_is_valid(const char *data, size_t len);

#endif
