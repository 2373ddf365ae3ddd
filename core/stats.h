/* Totals over all workers, read from their atomic counters for stats and metrics. */
#ifndef LG_STATS_H
#define LG_STATS_H

#include <stdint.h>

#include "channel.h"
#include "event.h"

struct lg_gateway;

typedef struct lg_totals {
    uint64_t connections[LG_FORMAT_MAX];       /* open streams per wire format (sink) */
    uint64_t connections_total[LG_FORMAT_MAX]; /* streams opened since start */
    int64_t queued_bytes;
    uint64_t events_out;
    uint64_t dropped[LG_DROP_REASON_COUNT];
    uint64_t http_connections; /* open public connections, streams included */
} lg_totals;

void lg_stats_collect(struct lg_gateway *gateway, lg_totals *totals);

#endif
