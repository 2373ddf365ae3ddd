/* Source hooks: channel interest and admin-published events passed on to the source plugins. */
#ifndef LG_SOURCE_HOOKS_H
#define LG_SOURCE_HOOKS_H

#include "error.h"
#include "event.h"
#include "hub.h"

struct lg_gateway;

/* The hub's watch callback (ARG is the gateway): tell every started source
 * with a watch callback that CHANNEL got or lost its subscribers. */
void lg_source_hooks_watch(void *arg, const char *channel, int watched);

/* Tell SOURCE, just started, about every channel that already has subscribers. */
void lg_source_hooks_replay(struct lg_gateway *gateway, struct lg_instance *source);

/* The hub's log_range callback (ARG is the gateway): ask each started
 * source with a log_range callback whether it reads LOG. */
int lg_source_hooks_log_range(void *arg, const char *log, int64_t *first, int64_t *next);

/* The hub's read_range callback (ARG is the gateway): hand the read-back to
 * the source that reads LOG. */
int lg_source_hooks_read_range(void *arg, const char *channel, const char *log, int64_t from, int64_t to,
                               lg_read_done done, void *done_arg, lg_error *err);

/* Publish EVENT into channel NAME like lg_hub_publish, for the admin API, and
 * pass every event that enters that channel to the sources with a published
 * callback. */
int lg_source_hooks_publish(struct lg_gateway *gateway, const char *name, lg_event *event, lg_publish_result *result,
                            int *status, lg_error *err);

#endif
