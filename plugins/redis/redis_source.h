/* State of one redis source instance, shared by its subscriber, fetch and notify parts. */
#ifndef LG_REDIS_SOURCE_H
#define LG_REDIS_SOURCE_H

#include <stdint.h>

#include "hashmap.h"
#include "http_fetch.h"
#include "link.h"
#include "plugin_api.h"
#include "redis_config.h"

/* State of one upstream subscription. */
typedef enum redis_sub_state {
    REDIS_SUB_IDLE = 0, /* not subscribed */
    REDIS_SUB_PENDING,  /* (P)SUBSCRIBE sent, confirmation awaited */
    REDIS_SUB_ACTIVE,   /* confirmed */
    REDIS_SUB_LEAVING,  /* (P)UNSUBSCRIBE sent, confirmation awaited */
} redis_sub_state;

/* A livegate channel that one rule feeds and that has (or recently had)
 * local subscribers, or that an eager rule names. */
typedef struct redis_entry {
    struct redis_source *source;
    char *channel;
    redis_rule *rule;
    int watched;
    int eager;
    struct event *linger_timer;

    /* Its own upstream subscription; NULL when an eager pattern rule's
     * subscription covers the channel. */
    char *upstream;     /* Redis channel or pattern */
    int is_pattern;
    char *upstream_key; /* "c:NAME" or "p:NAME", the key of by_upstream */
    redis_sub_state state;
    int gap_pending;    /* send a gap notice once the subscription is back */

    UT_hash_handle hh;          /* by channel */
    UT_hash_handle hh_upstream; /* by upstream_key */
} redis_entry;

typedef struct redis_source {
    lg_instance *instance;
    const redis_config *config;
    const char *scope;
    redis_address address;
    redis_rule *rules;
    size_t rule_count;
    char *node;        /* random id of this instance, sent in notifications */
    int stopping;

    redis_link subscriber;
    struct event *reconnect_timer;
    unsigned attempt;  /* reconnect attempts since the subscriber was last ready */
    int was_ready;     /* the subscriber has been ready at least once */
    redis_entry *entries;     /* by channel */
    redis_entry *by_upstream; /* by upstream_key */

    redis_link fetch_link;
    redis_http *http;
    struct redis_fetch_job *jobs; /* fetches in flight or waiting, a doubly linked list */
    int64_t job_count;

    redis_link notify_link;
    int64_t notify_pending;
} redis_source;

/* Counter names, printed in /metrics as livegate_NAME{instance="..."}. */
#define REDIS_COUNT_MESSAGES "redis_messages_total"
#define REDIS_COUNT_DROPPED "redis_dropped_messages_total"
#define REDIS_COUNT_RECONNECTS "redis_reconnects_total"
#define REDIS_COUNT_FETCHES "redis_fetches_total"
#define REDIS_COUNT_FETCH_RETRIES "redis_fetch_retries_total"
#define REDIS_COUNT_FETCH_FAILURES "redis_fetch_failures_total"
#define REDIS_COUNT_NOTIFICATIONS "redis_notifications_total"
#define REDIS_COUNT_NOTIFY_FAILURES "redis_notify_failures_total"

/* Add DELTA to counter NAME of SOURCE. */
void redis_source_count(redis_source *source, const char *name, uint64_t delta);

/* Publish DATA of LEN bytes into CHANNEL with TYPE, KEY and ORIGIN (each
 * may be NULL), after the size check. A fetched event's origin is the id of
 * its notification, so that the channel drops it when the same event also
 * arrives by another way, such as Kafka. Failures are logged with
 * REDIS_CHANNEL and counted. */
void redis_source_publish(redis_source *source, const char *channel, const char *redis_channel, const char *type,
                          const char *key, const char *origin, const char *data, size_t len);

/* subscriber.c */
int redis_subscriber_start(redis_source *source, lg_error *err);
void redis_subscriber_stop(redis_source *source);
void redis_subscriber_watch(redis_source *source, const char *channel, int watched);

/* Message: one Redis message for CHANNEL (the livegate channel) of RULE. */
void redis_message_handle(redis_source *source, redis_rule *rule, const char *channel, const char *redis_channel,
                          const char *data, size_t len);

/* fetch.c */
void redis_fetch_init(redis_source *source);
void redis_fetch_start(redis_source *source, redis_rule *rule, const char *channel, const char *redis_channel,
                       const char *data, size_t len);
void redis_fetch_stop(redis_source *source);

/* notify.c */
void redis_notify_init(redis_source *source);
void redis_notify_published(redis_source *source, const lg_event *event);
void redis_notify_stop(redis_source *source);

#endif
