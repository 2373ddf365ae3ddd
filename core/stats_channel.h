/* livegate's own figures published into a channel (server.stats), for dashboards. */
#ifndef LG_STATS_CHANNEL_H
#define LG_STATS_CHANNEL_H

#include <jansson.h>

struct lg_gateway;

/* Start publishing every server.stats.interval; does nothing when the
 * channel is empty or the interval 0. Returns 0, or -1 when the timer
 * cannot be created. */
int lg_stats_channel_start(struct lg_gateway *gateway);

void lg_stats_channel_stop(struct lg_gateway *gateway);

/* Remove from STATS (a GET /api/stats document) what only the admin API
 * shows: the config path, the listeners, health reasons and script paths
 * and errors. */
void lg_stats_channel_redact(json_t *stats);

#endif
