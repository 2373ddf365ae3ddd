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

/* Publish EVENT into channel NAME like lg_hub_publish, for the admin API, and
 * pass every event that enters that channel to the sources with a published
 * callback. */
int lg_source_hooks_publish(struct lg_gateway *gateway, const char *name, lg_event *event, lg_publish_result *result,
                            int *status, lg_error *err);

#endif
