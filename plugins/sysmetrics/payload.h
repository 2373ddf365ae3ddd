/* JSON payloads of the sysmetrics channels, built from /proc samples and rates. */
#ifndef LG_PAYLOAD_H
#define LG_PAYLOAD_H

#include "buf.h"
#include "proc.h"

/* Each function appends one JSON object to OUT. Percentages, rates and load
 * averages are rounded to two decimals and written without trailing zeros
 * ("12.5", "0"); counters and byte counts are written as integers. */

/* {"usage_percent", "user_percent", "system_percent", "iowait_percent",
 *  "steal_percent", "core_count", "cores": [usage of each cpuN]} */
void lg_payload_cpu(const lg_proc_cpu_usage *usage, lg_buf *out);

/* {"total_bytes", "available_bytes", "used_bytes", "used_percent",
 *  "free_bytes", "buffers_bytes", "cached_bytes", "swap_total_bytes",
 *  "swap_used_bytes"} */
void lg_payload_memory(const lg_proc_meminfo *memory, lg_buf *out);

/* {"load1", "load5", "load15", "runnable", "processes"} */
void lg_payload_load(const lg_proc_loadavg *load, lg_buf *out);

/* {"interfaces": [{"name", "rx_bytes_per_s", "tx_bytes_per_s",
 *  "rx_packets_per_s", "tx_packets_per_s", "rx_errors_per_s",
 *  "tx_errors_per_s", "rx_bytes_total", "tx_bytes_total"}]} */
void lg_payload_network(const lg_proc_net_dev_rates *rates, lg_buf *out);

/* {"devices": [{"name", "reads_per_s", "writes_per_s", "read_bytes_per_s",
 *  "write_bytes_per_s", "busy_percent"}]} */
void lg_payload_disk(const lg_proc_diskstats_rates *rates, lg_buf *out);

#endif
