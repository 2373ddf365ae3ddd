/* Summing the workers' counters. */
#include "config.h"

#include <string.h>

#include "gateway.h"
#include "stats.h"

void lg_stats_collect(lg_gateway *gateway, lg_totals *totals)
{
    memset(totals, 0, sizeof(*totals));

    for (size_t i = 0; i < gateway->worker_count; i++) {
        lg_worker_stats *stats = &gateway->workers[i]->stats;

        for (int f = 0; f < LG_FORMAT_MAX; f++) {
            totals->connections[f] += atomic_load_explicit(&stats->streams[f], memory_order_relaxed);
            totals->connections_total[f] += atomic_load_explicit(&stats->streams_total[f], memory_order_relaxed);
        }
        totals->queued_bytes += atomic_load_explicit(&stats->queued_bytes, memory_order_relaxed);
        totals->events_out += atomic_load_explicit(&stats->events_out, memory_order_relaxed);
        for (int r = 0; r < LG_DROP_REASON_COUNT; r++)
            totals->dropped[r] += atomic_load_explicit(&stats->dropped[r], memory_order_relaxed);
    }
    totals->http_connections = atomic_load_explicit(&gateway->public_connections, memory_order_relaxed);
}
