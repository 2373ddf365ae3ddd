/* Prometheus text exposition of the gateway's counters and gauges. */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "admin.h"
#include "clock.h"
#include "format.h"
#include "gateway.h"
#include "lua_script.h"
#include "stats.h"

static void lg_metrics_header(lg_buf *out, const char *name, const char *type, const char *help)
{
    lg_buf_printf(out, "# HELP livegate_%s %s\n# TYPE livegate_%s %s\n", name, help, name, type);
}

/* Append a label value with the escapes of the exposition format. */
static void lg_metrics_label(lg_buf *out, const char *value)
{
    for (const char *p = value; *p != '\0'; p++) {
        if (*p == '\\' || *p == '"')
            lg_buf_append_char(out, '\\');
        if (*p == '\n') {
            lg_buf_append_str(out, "\\n");
            continue;
        }
        lg_buf_append_char(out, *p);
    }
}

static void lg_metrics_channel_counter(lg_buf *out, lg_gateway *gateway, const char *name, const char *help,
                                       int which)
{
    const lg_channel *channel;

    lg_metrics_header(out, name, "counter", help);
    for (channel = gateway->hub->channels; channel != NULL; channel = channel->hh.next) {
        uint64_t value = which == 0 ? channel->events_in
                                    : atomic_load_explicit(&channel->events_out, memory_order_relaxed);

        lg_buf_printf(out, "livegate_%s{channel=\"", name);
        lg_metrics_label(out, channel->name);
        lg_buf_printf(out, "\"} %" PRIu64 "\n", value);
    }
}

static void lg_metrics_connections(lg_buf *out, const lg_totals *totals)
{
    lg_metrics_header(out, "connections", "gauge", "Open streaming connections by sink.");
    for (int f = 0; f < lg_format_count(); f++)
        lg_buf_printf(out, "livegate_connections{sink=\"%s\"} %" PRIu64 "\n", lg_format_name(f), totals->connections[f]);

    lg_metrics_header(out, "connections_opened_total", "counter", "Streaming connections opened since start, by sink.");
    for (int f = 0; f < lg_format_count(); f++)
        lg_buf_printf(out, "livegate_connections_opened_total{sink=\"%s\"} %" PRIu64 "\n", lg_format_name(f),
                      totals->connections_total[f]);

    lg_metrics_header(out, "http_connections", "gauge", "Open connections on the public listener.");
    lg_buf_printf(out, "livegate_http_connections %" PRIu64 "\n", totals->http_connections);
}

static void lg_metrics_drops(lg_buf *out, lg_gateway *gateway, const lg_totals *totals)
{
    const lg_channel *channel;

    lg_metrics_header(out, "dropped_events_total", "counter", "Events not delivered to a client, by reason.");
    for (int r = 0; r < LG_DROP_REASON_COUNT; r++)
        lg_buf_printf(out, "livegate_dropped_events_total{reason=\"%s\"} %" PRIu64 "\n",
                      lg_drop_reason_name((lg_drop_reason)r), totals->dropped[r]);

    lg_metrics_header(out, "channel_dropped_events_total", "counter",
                      "Events not delivered to a client, by channel and reason.");
    for (channel = gateway->hub->channels; channel != NULL; channel = channel->hh.next) {
        for (int r = 0; r < LG_DROP_REASON_COUNT; r++) {
            uint64_t value = atomic_load_explicit(&channel->dropped[r], memory_order_relaxed);

            if (value == 0)
                continue;
            lg_buf_append_str(out, "livegate_channel_dropped_events_total{channel=\"");
            lg_metrics_label(out, channel->name);
            lg_buf_printf(out, "\",reason=\"%s\"} %" PRIu64 "\n", lg_drop_reason_name((lg_drop_reason)r), value);
        }
    }
}

/* Return 1 when a counter named like COUNTER of source INDEX came before it,
 * so that each metric family is printed once. */
static int lg_metrics_counter_seen(lg_gateway *gateway, size_t index, const lg_instance_counter *counter)
{
    for (size_t i = 0; i <= index; i++) {
        for (lg_instance_counter *c = gateway->sources[i]->counters; c != NULL && c != counter; c = c->next) {
            if (c->gauge == counter->gauge && strcmp(c->name, counter->name) == 0)
                return 1;
        }
    }
    return 0;
}

/* One family of plugin-defined counters or gauges: the header, then a
 * sample for each source from FIRST on that has one named like SAMPLE. */
static void lg_metrics_source_counter(lg_buf *out, lg_gateway *gateway, size_t first,
                                      const lg_instance_counter *sample)
{
    size_t len = strlen(sample->name);
    const char *suffix = sample->gauge || (len > 6 && strcmp(sample->name + len - 6, "_total") == 0) ? "" : "_total";
    char metric[256];

    snprintf(metric, sizeof(metric), "%s%s", sample->name, suffix);
    lg_metrics_header(out, metric, sample->gauge ? "gauge" : "counter", sample->help);
    for (size_t i = first; i < gateway->source_count; i++) {
        for (lg_instance_counter *c = gateway->sources[i]->counters; c != NULL; c = c->next) {
            if (c->gauge != sample->gauge || strcmp(c->name, sample->name) != 0)
                continue;
            lg_buf_printf(out, "livegate_%s{source=\"", metric);
            lg_metrics_label(out, gateway->sources[i]->name);
            if (c->gauge)
                lg_buf_printf(out, "\"%s%s} %" PRId64 "\n", c->labels != NULL ? "," : "",
                              c->labels != NULL ? c->labels : "", c->gauge_value);
            else
                lg_buf_printf(out, "\"} %" PRIu64 "\n", c->value);
        }
    }
}

static void lg_metrics_sources(lg_buf *out, lg_gateway *gateway)
{
    lg_metrics_header(out, "source_health", "gauge", "Health of each source: 0 ok, 1 degraded, 2 failed.");
    for (size_t i = 0; i < gateway->source_count; i++) {
        lg_instance *source = gateway->sources[i];

        lg_buf_append_str(out, "livegate_source_health{source=\"");
        lg_metrics_label(out, source->name);
        lg_buf_printf(out, "\",type=\"%s\"} %d\n", source->type, (int)source->health);
    }

    for (size_t i = 0; i < gateway->source_count; i++) {
        for (lg_instance_counter *counter = gateway->sources[i]->counters; counter != NULL; counter = counter->next) {
            if (!lg_metrics_counter_seen(gateway, i, counter))
                lg_metrics_source_counter(out, gateway, i, counter);
        }
    }
}

/* One labelled sample per script: WHICH selects calls, errors, disabled or memory. */
static void lg_metrics_scripts(lg_buf *out, lg_gateway *gateway, const char *name, const char *type, const char *help,
                               int which)
{
    lg_metrics_header(out, name, type, help);
    for (size_t i = 0; gateway->scripts != NULL && i < gateway->settings->channels.count; i++) {
        lg_script *script = gateway->scripts[i];
        uint64_t value;

        if (script == NULL)
            continue;
        value = which == 0   ? lg_script_calls(script)
                : which == 1 ? lg_script_errors(script)
                : which == 2 ? (uint64_t)lg_script_disabled(script)
                             : (uint64_t)lg_script_memory(script);
        lg_buf_printf(out, "livegate_%s{script=\"", name);
        lg_metrics_label(out, lg_script_path(script));
        lg_buf_printf(out, "\"} %" PRIu64 "\n", value);
    }
}

static void lg_metrics_channel_scripts(lg_buf *out, lg_gateway *gateway)
{
    const lg_channel *channel;

    lg_metrics_header(out, "channel_script_errors_total", "counter", "Events on which the channel's script failed.");
    for (channel = gateway->hub->channels; channel != NULL; channel = channel->hh.next) {
        if (channel->script_errors == 0)
            continue;
        lg_buf_append_str(out, "livegate_channel_script_errors_total{channel=\"");
        lg_metrics_label(out, channel->name);
        lg_buf_printf(out, "\"} %" PRIu64 "\n", channel->script_errors);
    }
    lg_metrics_header(out, "channel_script_dropped_total", "counter", "Events the channel's script dropped.");
    for (channel = gateway->hub->channels; channel != NULL; channel = channel->hh.next) {
        if (channel->script_dropped == 0)
            continue;
        lg_buf_append_str(out, "livegate_channel_script_dropped_total{channel=\"");
        lg_metrics_label(out, channel->name);
        lg_buf_printf(out, "\"} %" PRIu64 "\n", channel->script_dropped);
    }
}

void lg_metrics_render(lg_gateway *gateway, lg_buf *out)
{
    lg_totals totals;

    lg_stats_collect(gateway, &totals);

    lg_metrics_header(out, "build_info", "gauge", "Version of this livegate.");
    lg_buf_printf(out, "livegate_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
    lg_metrics_header(out, "uptime_seconds", "gauge", "Seconds since start.");
    lg_buf_printf(out, "livegate_uptime_seconds %.3f\n", (double)(lg_clock_wall_ms() - gateway->started_ms) / 1000.0);
    lg_metrics_header(out, "workers", "gauge", "Worker threads serving client connections.");
    lg_buf_printf(out, "livegate_workers %zu\n", gateway->worker_count);
    lg_metrics_header(out, "channels", "gauge", "Channels that exist.");
    lg_buf_printf(out, "livegate_channels %zu\n", gateway->hub->channel_count);

    lg_metrics_connections(out, &totals);

    lg_metrics_header(out, "events_in_all_total", "counter", "Events taken into channels.");
    lg_buf_printf(out, "livegate_events_in_all_total %" PRIu64 "\n", gateway->hub->events_in);
    lg_metrics_header(out, "events_out_all_total", "counter", "Event frames queued to clients.");
    lg_buf_printf(out, "livegate_events_out_all_total %" PRIu64 "\n", totals.events_out);
    lg_metrics_channel_counter(out, gateway, "events_in_total", "Events taken into each channel.", 0);
    lg_metrics_channel_counter(out, gateway, "events_out_total", "Event frames queued to clients, by channel.", 1);

    lg_metrics_drops(out, gateway, &totals);

    lg_metrics_header(out, "queued_bytes", "gauge", "Bytes queued for clients and not yet written to their sockets.");
    lg_buf_printf(out, "livegate_queued_bytes %" PRId64 "\n", totals.queued_bytes);

    lg_metrics_sources(out, gateway);

    lg_metrics_scripts(out, gateway, "script_calls_total", "counter", "Calls of each script (events and timers).", 0);
    lg_metrics_scripts(out, gateway, "script_errors_total", "counter",
                       "Failed calls of each script: errors, budget or memory overruns.", 1);
    lg_metrics_scripts(out, gateway, "script_disabled", "gauge", "1 when a script was disabled after repeated failures.",
                       2);
    lg_metrics_scripts(out, gateway, "script_memory_bytes", "gauge", "Memory each script's Lua state uses.", 3);
    lg_metrics_channel_scripts(out, gateway);
}
