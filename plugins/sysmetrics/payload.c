/* JSON text of the sysmetrics payloads, written into lg_buf without a JSON library. */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "payload.h"

/* Beyond this many hundredths a value no longer fits the int64_t used for
 * rounding. */
#define MAX_HUNDREDTHS 9e18

/* Append VALUE rounded to two decimals without trailing zeros. The digits
 * come from integer arithmetic, so a locale with a decimal comma cannot
 * break the JSON. JSON has no NaN or infinity, so those are written as 0. */
static void append_decimal(lg_buf *out, double value)
{
    double scaled;
    int64_t hundredths;
    int64_t fraction;

    if (!isfinite(value))
        value = 0;
    scaled = round(value * 100.0);

    /* The ".0" keeps a value this large a JSON real: parsers such as
     * jansson reject integers beyond 64 bits. */
    if (fabs(scaled) >= MAX_HUNDREDTHS) {
        lg_buf_printf(out, "%.0f.0", value);
        return;
    }

    hundredths = (int64_t)scaled;
    if (hundredths < 0) {
        lg_buf_append_char(out, '-');
        hundredths = -hundredths;
    }
    lg_buf_printf(out, "%" PRId64, hundredths / 100);

    fraction = hundredths % 100;
    if (fraction == 0)
        return;
    if (fraction % 10 == 0)
        lg_buf_printf(out, ".%" PRId64, fraction / 10);
    else
        lg_buf_printf(out, ".%02" PRId64, fraction);
}

/* Append "KEY": after a comma, or without one for the FIRST member. */
static void append_key(lg_buf *out, const char *key, int first)
{
    if (!first)
        lg_buf_append_char(out, ',');
    lg_buf_append_json_string(out, key, strlen(key));
    lg_buf_append_char(out, ':');
}

static void append_decimal_member(lg_buf *out, const char *key, double value, int first)
{
    append_key(out, key, first);
    append_decimal(out, value);
}

static void append_integer_member(lg_buf *out, const char *key, uint64_t value, int first)
{
    append_key(out, key, first);
    lg_buf_printf(out, "%" PRIu64, value);
}

static void append_name_member(lg_buf *out, const char *name)
{
    append_key(out, "name", 1);
    lg_buf_append_json_string(out, name, strlen(name));
}

void lg_payload_cpu(const lg_proc_cpu_usage *usage, lg_buf *out)
{
    lg_buf_append_char(out, '{');
    append_decimal_member(out, "usage_percent", usage->usage_percent, 1);
    append_decimal_member(out, "user_percent", usage->user_percent, 0);
    append_decimal_member(out, "system_percent", usage->system_percent, 0);
    append_decimal_member(out, "iowait_percent", usage->iowait_percent, 0);
    append_decimal_member(out, "steal_percent", usage->steal_percent, 0);
    append_integer_member(out, "core_count", usage->core_count, 0);

    append_key(out, "cores", 0);
    lg_buf_append_char(out, '[');
    for (size_t i = 0; i < usage->core_count; i++) {
        if (i > 0)
            lg_buf_append_char(out, ',');
        append_decimal(out, usage->cores[i]);
    }
    lg_buf_append_str(out, "]}");
}

void lg_payload_memory(const lg_proc_meminfo *memory, lg_buf *out)
{
    lg_buf_append_char(out, '{');
    append_integer_member(out, "total_bytes", memory->total_bytes, 1);
    append_integer_member(out, "available_bytes", memory->available_bytes, 0);
    append_integer_member(out, "used_bytes", memory->used_bytes, 0);
    append_decimal_member(out, "used_percent", memory->used_percent, 0);
    append_integer_member(out, "free_bytes", memory->free_bytes, 0);
    append_integer_member(out, "buffers_bytes", memory->buffers_bytes, 0);
    append_integer_member(out, "cached_bytes", memory->cached_bytes, 0);
    append_integer_member(out, "swap_total_bytes", memory->swap_total_bytes, 0);
    append_integer_member(out, "swap_used_bytes", memory->swap_used_bytes, 0);
    lg_buf_append_char(out, '}');
}

void lg_payload_load(const lg_proc_loadavg *load, lg_buf *out)
{
    lg_buf_append_char(out, '{');
    append_decimal_member(out, "load1", load->load1, 1);
    append_decimal_member(out, "load5", load->load5, 0);
    append_decimal_member(out, "load15", load->load15, 0);
    append_integer_member(out, "runnable", load->runnable, 0);
    append_integer_member(out, "processes", load->processes, 0);
    lg_buf_append_char(out, '}');
}

static void append_interface(lg_buf *out, const lg_proc_interface_rates *iface)
{
    lg_buf_append_char(out, '{');
    append_name_member(out, iface->name);
    append_decimal_member(out, "rx_bytes_per_s", iface->rx_bytes_per_s, 0);
    append_decimal_member(out, "tx_bytes_per_s", iface->tx_bytes_per_s, 0);
    append_decimal_member(out, "rx_packets_per_s", iface->rx_packets_per_s, 0);
    append_decimal_member(out, "tx_packets_per_s", iface->tx_packets_per_s, 0);
    append_decimal_member(out, "rx_errors_per_s", iface->rx_errors_per_s, 0);
    append_decimal_member(out, "tx_errors_per_s", iface->tx_errors_per_s, 0);
    append_integer_member(out, "rx_bytes_total", iface->rx_bytes_total, 0);
    append_integer_member(out, "tx_bytes_total", iface->tx_bytes_total, 0);
    lg_buf_append_char(out, '}');
}

void lg_payload_network(const lg_proc_net_dev_rates *rates, lg_buf *out)
{
    lg_buf_append_str(out, "{\"interfaces\":[");
    for (size_t i = 0; i < rates->count; i++) {
        if (i > 0)
            lg_buf_append_char(out, ',');
        append_interface(out, &rates->interfaces[i]);
    }
    lg_buf_append_str(out, "]}");
}

static void append_device(lg_buf *out, const lg_proc_disk_rates *device)
{
    lg_buf_append_char(out, '{');
    append_name_member(out, device->name);
    append_decimal_member(out, "reads_per_s", device->reads_per_s, 0);
    append_decimal_member(out, "writes_per_s", device->writes_per_s, 0);
    append_decimal_member(out, "read_bytes_per_s", device->read_bytes_per_s, 0);
    append_decimal_member(out, "write_bytes_per_s", device->write_bytes_per_s, 0);
    append_decimal_member(out, "busy_percent", device->busy_percent, 0);
    lg_buf_append_char(out, '}');
}

void lg_payload_disk(const lg_proc_diskstats_rates *rates, lg_buf *out)
{
    lg_buf_append_str(out, "{\"devices\":[");
    for (size_t i = 0; i < rates->count; i++) {
        if (i > 0)
            lg_buf_append_char(out, ',');
        append_device(out, &rates->devices[i]);
    }
    lg_buf_append_str(out, "]}");
}
