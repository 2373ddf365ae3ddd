/* Host metrics from /proc: parsing stat, meminfo, loadavg, net/dev and diskstats, and rates between two samples. */
#ifndef LG_PROC_H
#define LG_PROC_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "options.h"

/* Room for a network interface name (the kernel allows 15 bytes) or a block
 * device name (31 bytes), with the NUL. A longer name is a parse error. */
#define LG_PROC_NAME_BYTES 64

/* Bytes per sector in /proc/diskstats, whatever the device's real sector size. */
#define LG_PROC_SECTOR_BYTES 512

/* Time counters of one "cpu" or "cpuN" line of /proc/stat, in USER_HZ ticks.
 * Guest time is already counted in USER, so it is not kept. */
typedef struct lg_proc_cpu_times {
    int id; /* N of "cpuN", or -1 for the aggregate "cpu" line */
    uint64_t user;
    uint64_t nice;
    uint64_t system;
    uint64_t idle;
    uint64_t iowait;
    uint64_t irq;
    uint64_t softirq;
    uint64_t steal;
} lg_proc_cpu_times;

/* One sample of /proc/stat: the aggregate line and each cpuN line in file order. */
typedef struct lg_proc_stat {
    lg_proc_cpu_times total;
    lg_proc_cpu_times *cores;
    size_t core_count;
} lg_proc_stat;

/* CPU time shares between two samples of /proc/stat, as percentages 0..100.
 * USAGE is everything but idle and iowait. Nice, irq and softirq time count
 * towards it but have no share of their own. */
typedef struct lg_proc_cpu_usage {
    double usage_percent;
    double user_percent;
    double system_percent;
    double iowait_percent;
    double steal_percent;
    double *cores; /* USAGE of each cpuN of the newer sample, in file order */
    size_t core_count;
} lg_proc_cpu_usage;

/* Values of /proc/meminfo in bytes (the file gives kB, that is KiB), and the
 * figures derived from them. */
typedef struct lg_proc_meminfo {
    uint64_t total_bytes;
    uint64_t free_bytes;
    uint64_t available_bytes;
    uint64_t buffers_bytes;
    uint64_t cached_bytes;
    uint64_t swap_total_bytes;
    uint64_t swap_free_bytes;
    uint64_t used_bytes;      /* TOTAL - AVAILABLE */
    uint64_t swap_used_bytes; /* SWAP_TOTAL - SWAP_FREE */
    double used_percent;      /* USED / TOTAL, 0..100 */
} lg_proc_meminfo;

/* /proc/loadavg: run-queue averages over 1, 5 and 15 minutes, the entities
 * (threads) runnable now, and all entities that exist. */
typedef struct lg_proc_loadavg {
    double load1;
    double load5;
    double load15;
    uint64_t runnable;
    uint64_t processes;
} lg_proc_loadavg;

/* Counters of one interface in /proc/net/dev. */
typedef struct lg_proc_interface {
    char name[LG_PROC_NAME_BYTES];
    uint64_t rx_bytes;
    uint64_t rx_packets;
    uint64_t rx_errors;
    uint64_t tx_bytes;
    uint64_t tx_packets;
    uint64_t tx_errors;
} lg_proc_interface;

/* One sample of /proc/net/dev: the interfaces that were not excluded, in file order. */
typedef struct lg_proc_net_dev {
    lg_proc_interface *interfaces;
    size_t count;
} lg_proc_net_dev;

typedef struct lg_proc_interface_rates {
    char name[LG_PROC_NAME_BYTES];
    double rx_bytes_per_s;
    double tx_bytes_per_s;
    double rx_packets_per_s;
    double tx_packets_per_s;
    double rx_errors_per_s;
    double tx_errors_per_s;
    uint64_t rx_bytes_total; /* the counters of the newer sample */
    uint64_t tx_bytes_total;
} lg_proc_interface_rates;

typedef struct lg_proc_net_dev_rates {
    lg_proc_interface_rates *interfaces;
    size_t count;
} lg_proc_net_dev_rates;

/* Counters of one block device in /proc/diskstats. */
typedef struct lg_proc_disk {
    char name[LG_PROC_NAME_BYTES];
    uint64_t reads;           /* reads completed */
    uint64_t sectors_read;
    uint64_t writes;          /* writes completed */
    uint64_t sectors_written;
    uint64_t io_ms;           /* milliseconds spent with I/O in flight */
} lg_proc_disk;

/* One sample of /proc/diskstats: the devices that passed the filter, in file order. */
typedef struct lg_proc_diskstats {
    lg_proc_disk *devices;
    size_t count;
} lg_proc_diskstats;

typedef struct lg_proc_disk_rates {
    char name[LG_PROC_NAME_BYTES];
    double reads_per_s;
    double writes_per_s;
    double read_bytes_per_s;
    double write_bytes_per_s;
    double busy_percent; /* share of the interval with I/O in flight, capped at 100 */
} lg_proc_disk_rates;

typedef struct lg_proc_diskstats_rates {
    lg_proc_disk_rates *devices;
    size_t count;
} lg_proc_diskstats_rates;

/* Which block devices lg_proc_read_diskstats keeps. */
typedef struct lg_proc_disk_filter {
    const lg_string_list *exclude; /* fnmatch(3) globs of device names, or NULL */
    int include_partitions;
    /* Root of sysfs ("/sys"). A device is whole when SYS_ROOT/block/NAME
     * exists. When SYS_ROOT/block is not a directory, the name decides,
     * as in lg_proc_is_partition_name. */
    const char *sys_root;
} lg_proc_disk_filter;

/* Each lg_proc_read_* function reads one file under PROC_ROOT ("/proc")
 * into OUT, whose earlier contents are not freed. Returns 0, or -1 with OUT
 * left empty and ERR set to "cannot read PATH: REASON". REASON is the
 * strerror text when the file cannot be opened or read. It is "line N: ..."
 * or names a missing line when the text is not what the kernel writes. */
int lg_proc_read_stat(const char *proc_root, lg_proc_stat *out, lg_error *err);
int lg_proc_read_meminfo(const char *proc_root, lg_proc_meminfo *out, lg_error *err);
int lg_proc_read_loadavg(const char *proc_root, lg_proc_loadavg *out, lg_error *err);
/* EXCLUDE (may be NULL) contains fnmatch(3) globs of interface names to leave out. */
int lg_proc_read_net_dev(const char *proc_root, const lg_string_list *exclude, lg_proc_net_dev *out, lg_error *err);
int lg_proc_read_diskstats(const char *proc_root, const lg_proc_disk_filter *filter, lg_proc_diskstats *out,
                           lg_error *err);

/* The parsers behind lg_proc_read_*, for TEXT already in memory. PATH only
 * names the file in messages. Same results as the readers. */
int lg_proc_parse_stat(const char *text, const char *path, lg_proc_stat *out, lg_error *err);
int lg_proc_parse_meminfo(const char *text, const char *path, lg_proc_meminfo *out, lg_error *err);
int lg_proc_parse_loadavg(const char *text, const char *path, lg_proc_loadavg *out, lg_error *err);
int lg_proc_parse_net_dev(const char *text, const char *path, const lg_string_list *exclude, lg_proc_net_dev *out,
                          lg_error *err);
int lg_proc_parse_diskstats(const char *text, const char *path, const lg_proc_disk_filter *filter,
                            lg_proc_diskstats *out, lg_error *err);

/* Return 1 when device NAME looks like a partition by its name alone:
 * "sda1", "vdb2", "hda1", "xvda3" (a letter device name followed by
 * digits), and "nvme0n1p1", "mmcblk0p2" (a digit, "p", digits). Everything
 * else is taken for a whole device ("nvme0n1", "md0", "dm-0", "loop0"). */
int lg_proc_is_partition_name(const char *name);

/* Rates between two samples. ELAPSED_MS is the measured time between the
 * reads of PREV and CUR; when it is not positive every rate is 0. A counter
 * that went backwards (wrap, reset) gives 0 for the interval. An interface
 * or device missing from PREV is left out of OUT until its second sample.
 * OUT is overwritten; free it with the matching _free function. */
void lg_proc_cpu_usage_compute(const lg_proc_stat *prev, const lg_proc_stat *cur, lg_proc_cpu_usage *out);
void lg_proc_net_dev_rates_compute(const lg_proc_net_dev *prev, const lg_proc_net_dev *cur, int64_t elapsed_ms,
                                   lg_proc_net_dev_rates *out);
void lg_proc_diskstats_rates_compute(const lg_proc_diskstats *prev, const lg_proc_diskstats *cur, int64_t elapsed_ms,
                                     lg_proc_diskstats_rates *out);

/* Free the arrays of a sample or a result and leave it empty. An empty one
 * may be freed again. */
void lg_proc_stat_free(lg_proc_stat *sample);
void lg_proc_net_dev_free(lg_proc_net_dev *net);
void lg_proc_diskstats_free(lg_proc_diskstats *disks);
void lg_proc_cpu_usage_free(lg_proc_cpu_usage *usage);
void lg_proc_net_dev_rates_free(lg_proc_net_dev_rates *rates);
void lg_proc_diskstats_rates_free(lg_proc_diskstats_rates *rates);

#endif
