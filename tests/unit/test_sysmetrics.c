/* Unit tests of the sysmetrics plugin's /proc parsers, rates and JSON payloads, on fake proc trees. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "alloc.h"
#include "buf.h"
#include "payload.h"
#include "proc.h"

/* The fixtures: two snapshots of a fake proc tree read ELAPSED_MS apart,
 * truncated copies of each file, and a fake sysfs with /sys/block. */
#define FIXTURES LG_TEST_PROC_FIXTURES
#define SAMPLE1 FIXTURES "/sample1"
#define SAMPLE2 FIXTURES "/sample2"
#define GARBLED FIXTURES "/garbled"
#define SYSFS FIXTURES "/sysfs"
#define MISSING FIXTURES "/missing"
#define ELAPSED_MS 2000

#define TOLERANCE 1e-6

#define assert_near(actual, expected) assert_near_at((actual), (expected), #actual, __FILE__, __LINE__)

static void assert_near_at(double actual, double expected, const char *expression, const char *file, int line)
{
    if (fabs(actual - expected) <= TOLERANCE)
        return;
    print_error("%s is %.9g, expected %.9g\n", expression, actual, expected);
    _fail(file, line);
}

static char *const default_interface_globs[] = {"lo"};
static const lg_string_list default_interfaces = {1, (char **)default_interface_globs};

static char *const default_device_globs[] = {"loop*", "ram*", "zram*"};
static const lg_string_list default_devices = {3, (char **)default_device_globs};

static lg_proc_disk_filter default_disk_filter(void)
{
    return (lg_proc_disk_filter){.exclude = &default_devices, .include_partitions = 0, .sys_root = SYSFS};
}

static void read_stats(const char *root, lg_proc_stat *stat)
{
    lg_error err;

    lg_error_clear(&err);
    if (lg_proc_read_stat(root, stat, &err) < 0)
        fail_msg("%s", err.message);
}

static void read_net_dev(const char *root, const lg_string_list *exclude, lg_proc_net_dev *net)
{
    lg_error err;

    lg_error_clear(&err);
    if (lg_proc_read_net_dev(root, exclude, net, &err) < 0)
        fail_msg("%s", err.message);
}

static void read_diskstats(const char *root, const lg_proc_disk_filter *filter, lg_proc_diskstats *disks)
{
    lg_error err;

    lg_error_clear(&err);
    if (lg_proc_read_diskstats(root, filter, disks, &err) < 0)
        fail_msg("%s", err.message);
}

/* Parsing the fixtures */

static void test_stat_parse_fixture(void **unused)
{
    lg_proc_stat stat;

    read_stats(SAMPLE1, &stat);

    assert_int_equal(stat.total.id, -1);
    assert_int_equal(stat.total.user, 1000);
    assert_int_equal(stat.total.nice, 100);
    assert_int_equal(stat.total.system, 500);
    assert_int_equal(stat.total.idle, 8000);
    assert_int_equal(stat.total.iowait, 200);
    assert_int_equal(stat.total.irq, 50);
    assert_int_equal(stat.total.softirq, 50);
    assert_int_equal(stat.total.steal, 100);
    assert_int_equal(stat.core_count, 2);
    assert_int_equal(stat.cores[0].id, 0);
    assert_int_equal(stat.cores[0].user, 600);
    assert_int_equal(stat.cores[0].idle, 4000);
    assert_int_equal(stat.cores[0].steal, 0);
    assert_int_equal(stat.cores[1].id, 1);
    assert_int_equal(stat.cores[1].system, 300);
    assert_int_equal(stat.cores[1].steal, 100);
    lg_proc_stat_free(&stat);
}

static void test_meminfo_parse_fixture(void **unused)
{
    lg_proc_meminfo mem;
    lg_error err;

    assert_int_equal(lg_proc_read_meminfo(SAMPLE1, &mem, &err), 0);

    assert_int_equal(mem.total_bytes, 8000000ULL * 1024);
    assert_int_equal(mem.free_bytes, 2000000ULL * 1024);
    assert_int_equal(mem.available_bytes, 5000000ULL * 1024);
    assert_int_equal(mem.buffers_bytes, 250000ULL * 1024);
    assert_int_equal(mem.cached_bytes, 2500000ULL * 1024);
    assert_int_equal(mem.swap_total_bytes, 1000000ULL * 1024);
    assert_int_equal(mem.swap_free_bytes, 750000ULL * 1024);
    assert_int_equal(mem.used_bytes, (8000000ULL - 5000000ULL) * 1024);
    assert_int_equal(mem.swap_used_bytes, (1000000ULL - 750000ULL) * 1024);
    assert_near(mem.used_percent, 100.0 * 3000000 / 8000000);
}

static void test_meminfo_without_available(void **unused)
{
    const char *text = "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n"
                       "SwapTotal: 0 kB\nSwapFree: 0 kB\n";
    lg_proc_meminfo mem;
    lg_error err;

    assert_int_equal(lg_proc_parse_meminfo(text, "meminfo", &mem, &err), 0);

    assert_int_equal(mem.available_bytes, (100 + 50 + 250) * 1024);
    assert_int_equal(mem.used_bytes, (1000 - 400) * 1024);
    assert_near(mem.used_percent, 60.0);
    assert_int_equal(mem.swap_used_bytes, 0);
}

static void test_loadavg_parse_fixture(void **unused)
{
    lg_proc_loadavg load;
    lg_error err;

    assert_int_equal(lg_proc_read_loadavg(SAMPLE1, &load, &err), 0);

    assert_near(load.load1, 0.52);
    assert_near(load.load5, 0.40);
    assert_near(load.load15, 0.30);
    assert_int_equal(load.runnable, 2);
    assert_int_equal(load.processes, 312);
}

static void test_net_dev_parse_fixture(void **unused)
{
    lg_proc_net_dev net;

    read_net_dev(SAMPLE1, &default_interfaces, &net);

    /* lo is excluded; the rest stays in file order. */
    assert_int_equal(net.count, 3);
    assert_string_equal(net.interfaces[0].name, "eth0");
    assert_int_equal(net.interfaces[0].rx_bytes, 1000000);
    assert_int_equal(net.interfaces[0].rx_packets, 2000);
    assert_int_equal(net.interfaces[0].rx_errors, 1);
    assert_int_equal(net.interfaces[0].tx_bytes, 400000);
    assert_int_equal(net.interfaces[0].tx_packets, 1500);
    assert_int_equal(net.interfaces[0].tx_errors, 0);
    /* eth1's counter fills its column, so no blank follows the colon. */
    assert_string_equal(net.interfaces[1].name, "eth1");
    assert_int_equal(net.interfaces[1].rx_bytes, 4294967000ULL);
    assert_int_equal(net.interfaces[1].tx_errors, 2);
    assert_string_equal(net.interfaces[2].name, "veth1a2b");
    lg_proc_net_dev_free(&net);
}

static void test_net_dev_exclude_globs(void **unused)
{
    char *globs[] = {"lo", "veth*", "eth[1-9]"};
    lg_string_list exclude = {3, globs};
    lg_proc_net_dev all;
    lg_proc_net_dev net;

    read_net_dev(SAMPLE2, NULL, &all);
    read_net_dev(SAMPLE2, &exclude, &net);

    assert_int_equal(all.count, 5);
    assert_string_equal(all.interfaces[0].name, "lo");
    assert_int_equal(net.count, 2);
    assert_string_equal(net.interfaces[0].name, "eth0");
    assert_string_equal(net.interfaces[1].name, "docker0");
    lg_proc_net_dev_free(&all);
    lg_proc_net_dev_free(&net);
}

static void test_diskstats_parse_fixture(void **unused)
{
    lg_proc_disk_filter filter = default_disk_filter();
    lg_proc_diskstats disks;

    read_diskstats(SAMPLE1, &filter, &disks);

    /* loop0 and zram0 are excluded by glob; vda1, nvme0n1p1 and md0 are
     * not in the fake /sys/block, so they count as partitions. */
    assert_int_equal(disks.count, 2);
    assert_string_equal(disks.devices[0].name, "vda");
    assert_int_equal(disks.devices[0].reads, 1000);
    assert_int_equal(disks.devices[0].sectors_read, 80000);
    assert_int_equal(disks.devices[0].writes, 2000);
    assert_int_equal(disks.devices[0].sectors_written, 160000);
    assert_int_equal(disks.devices[0].io_ms, 3000);
    assert_string_equal(disks.devices[1].name, "nvme0n1");
    lg_proc_diskstats_free(&disks);
}

static void test_diskstats_include_partitions(void **unused)
{
    lg_proc_disk_filter filter = default_disk_filter();
    lg_proc_diskstats disks;

    filter.include_partitions = 1;
    read_diskstats(SAMPLE1, &filter, &disks);

    assert_int_equal(disks.count, 5);
    assert_string_equal(disks.devices[0].name, "vda");
    assert_string_equal(disks.devices[1].name, "vda1");
    assert_string_equal(disks.devices[2].name, "nvme0n1");
    assert_string_equal(disks.devices[3].name, "nvme0n1p1");
    assert_string_equal(disks.devices[4].name, "md0");
    lg_proc_diskstats_free(&disks);
}

static void test_diskstats_name_rule_without_sysfs(void **unused)
{
    lg_proc_disk_filter filter = default_disk_filter();
    lg_proc_diskstats disks;

    /* md0 is missing from the fake /sys/block on purpose: sysfs leaves it
     * out, while the name rule takes it for a whole device. */
    filter.sys_root = MISSING;
    read_diskstats(SAMPLE1, &filter, &disks);

    assert_int_equal(disks.count, 3);
    assert_string_equal(disks.devices[0].name, "vda");
    assert_string_equal(disks.devices[1].name, "nvme0n1");
    assert_string_equal(disks.devices[2].name, "md0");
    lg_proc_diskstats_free(&disks);
}

static void test_partition_name_rule(void **unused)
{
    static const struct {
        const char *name;
        int partition;
    } cases[] = {
        {"sda", 0},      {"sda1", 1},     {"sdab12", 1},   {"vda", 0},     {"vda1", 1},
        {"hdb3", 1},     {"xvda", 0},     {"xvda2", 1},    {"nvme0n1", 0}, {"nvme0n1p1", 1},
        {"mmcblk0", 0},  {"mmcblk0p2", 1}, {"md0", 0},     {"dm-0", 0},    {"loop0", 0},
        {"loop0p1", 1},  {"sr0", 0},      {"zram0", 0},    {"sd1", 0},     {"1", 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (lg_proc_is_partition_name(cases[i].name) != cases[i].partition)
            fail_msg("lg_proc_is_partition_name(\"%s\") should be %d", cases[i].name, cases[i].partition);
    }
}

/* Rates between the two snapshots */

static void test_cpu_usage_rates(void **unused)
{
    lg_proc_stat first;
    lg_proc_stat second;
    lg_proc_cpu_usage usage;

    read_stats(SAMPLE1, &first);
    read_stats(SAMPLE2, &second);
    lg_proc_cpu_usage_compute(&first, &second, &usage);

    /* Aggregate deltas: user 80, nice 0, system 40, idle 240, iowait 20,
     * irq 4, softirq 4, steal 12; total 400 ticks. */
    assert_near(usage.usage_percent, 100.0 * (400 - 240 - 20) / 400);
    assert_near(usage.user_percent, 100.0 * 80 / 400);
    assert_near(usage.system_percent, 100.0 * 40 / 400);
    assert_near(usage.iowait_percent, 100.0 * 20 / 400);
    assert_near(usage.steal_percent, 100.0 * 12 / 400);
    assert_int_equal(usage.core_count, 2);
    /* cpu0: total 200, idle 102, iowait 10. cpu1: total 200, idle 138, iowait 10. */
    assert_near(usage.cores[0], 100.0 * (200 - 102 - 10) / 200);
    assert_near(usage.cores[1], 100.0 * (200 - 138 - 10) / 200);

    lg_proc_cpu_usage_free(&usage);
    lg_proc_stat_free(&first);
    lg_proc_stat_free(&second);
}

static void test_cpu_usage_backwards_counter(void **unused)
{
    const char *before = "cpu 100 0 100 800 50 0 0 0\ncpu0 100 0 100 800 50 0 0 0\n";
    const char *after = "cpu 150 0 150 900 10 0 0 0\ncpu0 150 0 150 900 10 0 0 0\ncpu1 5 0 5 90 0 0 0 0\n";
    lg_proc_stat first;
    lg_proc_stat second;
    lg_proc_cpu_usage usage;
    lg_error err;

    assert_int_equal(lg_proc_parse_stat(before, "stat", &first, &err), 0);
    assert_int_equal(lg_proc_parse_stat(after, "stat", &second, &err), 0);
    lg_proc_cpu_usage_compute(&first, &second, &usage);

    /* iowait went from 50 to 10: its delta is 0, so total is 50+50+100 = 200. */
    assert_near(usage.iowait_percent, 0);
    assert_near(usage.usage_percent, 100.0 * 100 / 200);
    assert_near(usage.user_percent, 100.0 * 50 / 200);
    assert_int_equal(usage.core_count, 2);
    assert_near(usage.cores[0], 100.0 * 100 / 200);
    /* cpu1 came online between the samples: no interval yet. */
    assert_near(usage.cores[1], 0);

    lg_proc_cpu_usage_free(&usage);
    lg_proc_stat_free(&first);
    lg_proc_stat_free(&second);
}

static void test_net_dev_rates(void **unused)
{
    lg_proc_net_dev first;
    lg_proc_net_dev second;
    lg_proc_net_dev_rates rates;

    read_net_dev(SAMPLE1, &default_interfaces, &first);
    read_net_dev(SAMPLE2, &default_interfaces, &second);
    lg_proc_net_dev_rates_compute(&first, &second, ELAPSED_MS, &rates);

    /* docker0 appears only in the second sample, so it waits for a third. */
    assert_int_equal(rates.count, 3);

    assert_string_equal(rates.interfaces[0].name, "eth0");
    assert_near(rates.interfaces[0].rx_bytes_per_s, 2469 / 2.0);
    assert_near(rates.interfaces[0].tx_bytes_per_s, 1000 / 2.0);
    assert_near(rates.interfaces[0].rx_packets_per_s, 20 / 2.0);
    assert_near(rates.interfaces[0].tx_packets_per_s, 8 / 2.0);
    assert_near(rates.interfaces[0].rx_errors_per_s, 2 / 2.0);
    assert_near(rates.interfaces[0].tx_errors_per_s, 0);
    assert_int_equal(rates.interfaces[0].rx_bytes_total, 1002469);
    assert_int_equal(rates.interfaces[0].tx_bytes_total, 401000);

    /* eth1's rx_bytes wrapped and its tx_errors were reset: 0, not huge. */
    assert_string_equal(rates.interfaces[1].name, "eth1");
    assert_near(rates.interfaces[1].rx_bytes_per_s, 0);
    assert_near(rates.interfaces[1].tx_errors_per_s, 0);
    assert_near(rates.interfaces[1].rx_packets_per_s, 40 / 2.0);
    assert_near(rates.interfaces[1].tx_bytes_per_s, 500 / 2.0);
    assert_near(rates.interfaces[1].tx_packets_per_s, 6 / 2.0);
    assert_int_equal(rates.interfaces[1].rx_bytes_total, 200);

    assert_string_equal(rates.interfaces[2].name, "veth1a2b");
    assert_near(rates.interfaces[2].rx_bytes_per_s, 200 / 2.0);

    lg_proc_net_dev_rates_free(&rates);
    lg_proc_net_dev_free(&first);
    lg_proc_net_dev_free(&second);
}

static void test_diskstats_rates(void **unused)
{
    lg_proc_disk_filter filter = default_disk_filter();
    lg_proc_diskstats first;
    lg_proc_diskstats second;
    lg_proc_diskstats_rates rates;

    filter.include_partitions = 1;
    read_diskstats(SAMPLE1, &filter, &first);
    read_diskstats(SAMPLE2, &filter, &second);
    lg_proc_diskstats_rates_compute(&first, &second, ELAPSED_MS, &rates);

    /* sdb appears only in the second sample and is left out. */
    assert_int_equal(rates.count, 5);

    assert_string_equal(rates.devices[0].name, "vda");
    assert_near(rates.devices[0].reads_per_s, 200 / 2.0);
    assert_near(rates.devices[0].writes_per_s, 100 / 2.0);
    assert_near(rates.devices[0].read_bytes_per_s, 4000 * 512 / 2.0);
    assert_near(rates.devices[0].write_bytes_per_s, 2000 * 512 / 2.0);
    assert_near(rates.devices[0].busy_percent, 100.0 * 500 / 2000);

    assert_string_equal(rates.devices[1].name, "vda1");
    assert_near(rates.devices[1].reads_per_s, 180 / 2.0);
    assert_near(rates.devices[1].read_bytes_per_s, 3600 * 512 / 2.0);
    assert_near(rates.devices[1].busy_percent, 100.0 * 450 / 2000);

    /* nvme0n1 was reset (reads went down) and its io_ms grew by 2600 ms
     * in 2000 ms: rates of 0 and a busy share capped at 100. */
    assert_string_equal(rates.devices[2].name, "nvme0n1");
    assert_near(rates.devices[2].reads_per_s, 0);
    assert_near(rates.devices[2].read_bytes_per_s, 0);
    assert_near(rates.devices[2].writes_per_s, 50 / 2.0);
    assert_near(rates.devices[2].write_bytes_per_s, 400 * 512 / 2.0);
    assert_near(rates.devices[2].busy_percent, 100);

    assert_string_equal(rates.devices[3].name, "nvme0n1p1");
    assert_near(rates.devices[3].busy_percent, 100.0 * 200 / 2000);
    assert_string_equal(rates.devices[4].name, "md0");

    lg_proc_diskstats_rates_free(&rates);
    lg_proc_diskstats_free(&first);
    lg_proc_diskstats_free(&second);
}

static void test_rates_without_elapsed_time(void **unused)
{
    lg_proc_disk_filter filter = default_disk_filter();
    lg_proc_net_dev net1, net2;
    lg_proc_diskstats disks1, disks2;
    lg_proc_net_dev_rates net_rates;
    lg_proc_diskstats_rates disk_rates;

    read_net_dev(SAMPLE1, &default_interfaces, &net1);
    read_net_dev(SAMPLE2, &default_interfaces, &net2);
    read_diskstats(SAMPLE1, &filter, &disks1);
    read_diskstats(SAMPLE2, &filter, &disks2);
    lg_proc_net_dev_rates_compute(&net1, &net2, 0, &net_rates);
    lg_proc_diskstats_rates_compute(&disks1, &disks2, -5, &disk_rates);

    assert_int_equal(net_rates.count, 3);
    assert_near(net_rates.interfaces[0].rx_bytes_per_s, 0);
    assert_int_equal(disk_rates.count, 2);
    assert_near(disk_rates.devices[0].reads_per_s, 0);
    assert_near(disk_rates.devices[0].busy_percent, 0);

    lg_proc_net_dev_rates_free(&net_rates);
    lg_proc_diskstats_rates_free(&disk_rates);
    lg_proc_net_dev_free(&net1);
    lg_proc_net_dev_free(&net2);
    lg_proc_diskstats_free(&disks1);
    lg_proc_diskstats_free(&disks2);
}

/* Failures */

static void assert_error_names(const lg_error *err, const char *path, const char *reason)
{
    if (strstr(err->message, path) == NULL)
        fail_msg("error \"%s\" does not name %s", err->message, path);
    if (strstr(err->message, reason) == NULL)
        fail_msg("error \"%s\" does not say \"%s\"", err->message, reason);
}

static void test_read_missing_file(void **unused)
{
    lg_proc_disk_filter filter = default_disk_filter();
    lg_proc_stat stat;
    lg_proc_meminfo mem;
    lg_proc_loadavg load;
    lg_proc_net_dev net;
    lg_proc_diskstats disks;
    lg_error err;

    assert_int_equal(lg_proc_read_stat(MISSING, &stat, &err), -1);
    assert_error_names(&err, MISSING "/stat", strerror(ENOENT));
    assert_null(stat.cores);
    assert_int_equal(lg_proc_read_meminfo(MISSING, &mem, &err), -1);
    assert_error_names(&err, MISSING "/meminfo", strerror(ENOENT));
    assert_int_equal(lg_proc_read_loadavg(MISSING, &load, &err), -1);
    assert_error_names(&err, MISSING "/loadavg", strerror(ENOENT));
    assert_int_equal(lg_proc_read_net_dev(MISSING, NULL, &net, &err), -1);
    assert_error_names(&err, MISSING "/net/dev", strerror(ENOENT));
    assert_null(net.interfaces);
    assert_int_equal(lg_proc_read_diskstats(MISSING, &filter, &disks, &err), -1);
    assert_error_names(&err, MISSING "/diskstats", strerror(ENOENT));
    assert_null(disks.devices);
}

static void test_read_truncated_files(void **unused)
{
    lg_proc_disk_filter filter = default_disk_filter();
    lg_proc_stat stat;
    lg_proc_meminfo mem;
    lg_proc_loadavg load;
    lg_proc_net_dev net;
    lg_proc_diskstats disks;
    lg_error err;

    assert_int_equal(lg_proc_read_stat(GARBLED, &stat, &err), -1);
    assert_error_names(&err, GARBLED "/stat", "line 2");
    assert_null(stat.cores);
    assert_int_equal(stat.core_count, 0);

    assert_int_equal(lg_proc_read_meminfo(GARBLED, &mem, &err), -1);
    assert_error_names(&err, GARBLED "/meminfo", "line 2");
    assert_int_equal(mem.total_bytes, 0);

    assert_int_equal(lg_proc_read_loadavg(GARBLED, &load, &err), -1);
    assert_error_names(&err, GARBLED "/loadavg", "line 1");
    assert_near(load.load1, 0);

    assert_int_equal(lg_proc_read_net_dev(GARBLED, NULL, &net, &err), -1);
    assert_error_names(&err, GARBLED "/net/dev", "line 3");
    assert_null(net.interfaces);
    assert_int_equal(net.count, 0);

    assert_int_equal(lg_proc_read_diskstats(GARBLED, &filter, &disks, &err), -1);
    assert_error_names(&err, GARBLED "/diskstats", "line 1");
    assert_null(disks.devices);
    assert_int_equal(disks.count, 0);
}

static void test_stat_rejects_garbled_text(void **unused)
{
    static const char *const cases[] = {
        "",
        "intr 1 2 3\n",
        "cpu 1 2 3 4 5 6 7\n",
        "cpu 1 2 3 4 5 6 7 x\n",
        "cpu 1 2 3 4 5 6 7 8x\n",
        "cpu -1 2 3 4 5 6 7 8\n",
        "cpu 1.5 2 3 4 5 6 7 8\n",
        "cpu 1 2 3 4 5 6 7 99999999999999999999\n",
        "cpu 1 2 3 4 5 6 7 8\ncpuX 1 2 3 4 5 6 7 8\n",
        "cpu 1 2 3 4 5 6 7 8\ncpu 1 2 3 4 5 6 7 8\n",
        "cpu0 1 2 3 4 5 6 7 8\n",
        "cpu 1 2 3 4\n5 6 7 8\n",
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lg_proc_stat stat;
        lg_error err;

        if (lg_proc_parse_stat(cases[i], "fake/stat", &stat, &err) == 0)
            fail_msg("stat text %zu was accepted: \"%s\"", i, cases[i]);
        assert_error_names(&err, "fake/stat", "cannot read");
        assert_null(stat.cores);
    }
}

static void test_meminfo_rejects_garbled_text(void **unused)
{
    static const char *const cases[] = {
        "",
        "MemTotal: abc kB\n",
        "MemTotal: 100\nMemFree: 1 kB\nBuffers: 1 kB\nCached: 1 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
        "MemTotal: 100 MB\nMemFree: 1 kB\nBuffers: 1 kB\nCached: 1 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
        "MemTotal: 99999999999999999 kB\nMemFree: 1 kB\nBuffers: 1 kB\nCached: 1 kB\nSwapTotal: 0 kB\n"
        "SwapFree: 0 kB\n",
        "MemTotal: 100 kB\nMemFree: 1 kB\nBuffers: 1 kB\nCached: 1 kB\nSwapTotal: 0 kB\n",
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lg_proc_meminfo mem;
        lg_error err;

        if (lg_proc_parse_meminfo(cases[i], "fake/meminfo", &mem, &err) == 0)
            fail_msg("meminfo text %zu was accepted: \"%s\"", i, cases[i]);
        assert_error_names(&err, "fake/meminfo", "cannot read");
        assert_int_equal(mem.total_bytes, 0);
    }
}

static void test_loadavg_rejects_garbled_text(void **unused)
{
    static const char *const cases[] = {
        "",
        "0.5 0.4 0.3\n",
        "0.5 0.4 0.3 2 312 1\n",
        "a b c 1/2 3\n",
        "0.5 0.4 0.3 2/312\n",
        "0,5 0.4 0.3 2/312 1\n",
        "0.5 0.4 0.3 -2/312 1\n",
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lg_proc_loadavg load;
        lg_error err;

        if (lg_proc_parse_loadavg(cases[i], "fake/loadavg", &load, &err) == 0)
            fail_msg("loadavg text %zu was accepted: \"%s\"", i, cases[i]);
        assert_error_names(&err, "fake/loadavg", "line 1");
    }
}

static void test_net_dev_rejects_garbled_text(void **unused)
{
    static const char *const cases[] = {
        "eth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
        "eth0: 1 2 3\n",
        "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x6\n",
        ": 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
        "a-name-that-is-much-longer-than-any-interface-name-the-kernel-allows: "
        "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lg_proc_net_dev net;
        lg_error err;

        if (lg_proc_parse_net_dev(cases[i], "fake/net/dev", NULL, &net, &err) == 0)
            fail_msg("net/dev text %zu was accepted: \"%s\"", i, cases[i]);
        assert_error_names(&err, "fake/net/dev", "line 1");
        assert_null(net.interfaces);
    }
}

static void test_diskstats_rejects_garbled_text(void **unused)
{
    static const char *const cases[] = {
        "254 0 vda 1 2 3\n",
        "x 0 vda 1 2 3 4 5 6 7 8 9 10 11\n",
        "254 0\n",
        "254 0 vda 1 2 3 4 5 6 7 8 9 10 1.1\n",
    };
    lg_proc_disk_filter filter = default_disk_filter();

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lg_proc_diskstats disks;
        lg_error err;

        if (lg_proc_parse_diskstats(cases[i], "fake/diskstats", &filter, &disks, &err) == 0)
            fail_msg("diskstats text %zu was accepted: \"%s\"", i, cases[i]);
        assert_error_names(&err, "fake/diskstats", "line 1");
        assert_null(disks.devices);
    }
}

/* Payloads */

static json_t *parse_payload(const lg_buf *payload)
{
    json_error_t error;
    json_t *root = json_loadb(payload->data, payload->len, 0, &error);

    if (root == NULL)
        fail_msg("payload is not JSON (%s): %s", error.text, payload->data);
    assert_true(json_is_object(root));
    return root;
}

/* Return the number under KEY, failing when it is missing or not a number. */
static double number_member(const json_t *object, const char *key)
{
    json_t *value = json_object_get(object, key);

    if (!json_is_number(value))
        fail_msg("member \"%s\" is missing or not a number", key);
    return json_number_value(value);
}

static json_int_t integer_member(const json_t *object, const char *key)
{
    json_t *value = json_object_get(object, key);

    if (!json_is_integer(value))
        fail_msg("member \"%s\" is missing or not an integer", key);
    return json_integer_value(value);
}

/* Fail when a number in TEXT has more than two decimals. */
static void assert_two_decimals_at_most(const char *text)
{
    for (const char *p = strchr(text, '.'); p != NULL; p = strchr(p + 1, '.')) {
        size_t digits = strspn(p + 1, "0123456789");

        if (digits > 2)
            fail_msg("a number has %zu decimals in %s", digits, text);
    }
}

static void test_payload_cpu(void **unused)
{
    lg_proc_stat first, second;
    lg_proc_cpu_usage usage;
    lg_buf payload = LG_BUF_INIT;
    json_t *root;
    json_t *cores;

    read_stats(SAMPLE1, &first);
    read_stats(SAMPLE2, &second);
    lg_proc_cpu_usage_compute(&first, &second, &usage);
    lg_payload_cpu(&usage, &payload);
    root = parse_payload(&payload);

    assert_near(number_member(root, "usage_percent"), 35);
    assert_near(number_member(root, "user_percent"), 20);
    assert_near(number_member(root, "system_percent"), 10);
    assert_near(number_member(root, "iowait_percent"), 5);
    assert_near(number_member(root, "steal_percent"), 3);
    assert_int_equal(integer_member(root, "core_count"), 2);
    cores = json_object_get(root, "cores");
    assert_true(json_is_array(cores));
    assert_int_equal(json_array_size(cores), 2);
    assert_near(json_number_value(json_array_get(cores, 0)), 44);
    assert_near(json_number_value(json_array_get(cores, 1)), 26);
    assert_int_equal(json_object_size(root), 7);

    json_decref(root);
    lg_buf_free(&payload);
    lg_proc_cpu_usage_free(&usage);
    lg_proc_stat_free(&first);
    lg_proc_stat_free(&second);
}

static void test_payload_rounding(void **unused)
{
    double cores[] = {33.333333, 66.666666, 0.004, 99.996, 12.5};
    lg_proc_cpu_usage usage = {
        .usage_percent = 100,
        .user_percent = 1.0 / 3.0 * 100,
        .system_percent = 0.1,
        .iowait_percent = NAN,
        .steal_percent = 0,
        .cores = cores,
        .core_count = 5,
    };
    lg_buf payload = LG_BUF_INIT;
    json_t *root;

    lg_payload_cpu(&usage, &payload);
    root = parse_payload(&payload);

    assert_two_decimals_at_most(payload.data);
    assert_non_null(strstr(payload.data, "\"usage_percent\":100,"));
    assert_non_null(strstr(payload.data, "\"user_percent\":33.33,"));
    assert_non_null(strstr(payload.data, "\"system_percent\":0.1,"));
    assert_non_null(strstr(payload.data, "\"iowait_percent\":0,"));
    assert_non_null(strstr(payload.data, "\"cores\":[33.33,66.67,0,100,12.5]"));

    json_decref(root);
    lg_buf_free(&payload);
}

static void test_payload_memory(void **unused)
{
    lg_proc_meminfo mem;
    lg_buf payload = LG_BUF_INIT;
    lg_error err;
    json_t *root;

    assert_int_equal(lg_proc_read_meminfo(SAMPLE1, &mem, &err), 0);
    lg_payload_memory(&mem, &payload);
    root = parse_payload(&payload);

    assert_int_equal(integer_member(root, "total_bytes"), 8192000000LL);
    assert_int_equal(integer_member(root, "available_bytes"), 5120000000LL);
    assert_int_equal(integer_member(root, "used_bytes"), 3072000000LL);
    assert_near(number_member(root, "used_percent"), 37.5);
    assert_int_equal(integer_member(root, "free_bytes"), 2048000000LL);
    assert_int_equal(integer_member(root, "buffers_bytes"), 256000000LL);
    assert_int_equal(integer_member(root, "cached_bytes"), 2560000000LL);
    assert_int_equal(integer_member(root, "swap_total_bytes"), 1024000000LL);
    assert_int_equal(integer_member(root, "swap_used_bytes"), 256000000LL);
    assert_int_equal(json_object_size(root), 9);

    json_decref(root);
    lg_buf_free(&payload);
}

static void test_payload_load(void **unused)
{
    lg_proc_loadavg load;
    lg_buf payload = LG_BUF_INIT;
    lg_error err;
    json_t *root;

    assert_int_equal(lg_proc_read_loadavg(SAMPLE1, &load, &err), 0);
    lg_payload_load(&load, &payload);
    root = parse_payload(&payload);

    assert_string_equal(payload.data, "{\"load1\":0.52,\"load5\":0.4,\"load15\":0.3,\"runnable\":2,\"processes\":312}");
    assert_near(number_member(root, "load1"), 0.52);
    assert_near(number_member(root, "load5"), 0.4);
    assert_near(number_member(root, "load15"), 0.3);
    assert_int_equal(integer_member(root, "runnable"), 2);
    assert_int_equal(integer_member(root, "processes"), 312);

    json_decref(root);
    lg_buf_free(&payload);
}

static void test_payload_network(void **unused)
{
    lg_proc_net_dev first, second;
    lg_proc_net_dev_rates rates;
    lg_buf payload = LG_BUF_INIT;
    json_t *root;
    json_t *interfaces;
    json_t *eth0;

    read_net_dev(SAMPLE1, &default_interfaces, &first);
    read_net_dev(SAMPLE2, &default_interfaces, &second);
    lg_proc_net_dev_rates_compute(&first, &second, ELAPSED_MS, &rates);
    lg_payload_network(&rates, &payload);
    root = parse_payload(&payload);

    interfaces = json_object_get(root, "interfaces");
    assert_true(json_is_array(interfaces));
    assert_int_equal(json_array_size(interfaces), 3);
    eth0 = json_array_get(interfaces, 0);
    assert_string_equal(json_string_value(json_object_get(eth0, "name")), "eth0");
    assert_near(number_member(eth0, "rx_bytes_per_s"), 1234.5);
    assert_near(number_member(eth0, "tx_bytes_per_s"), 500);
    assert_near(number_member(eth0, "rx_packets_per_s"), 10);
    assert_near(number_member(eth0, "tx_packets_per_s"), 4);
    assert_near(number_member(eth0, "rx_errors_per_s"), 1);
    assert_near(number_member(eth0, "tx_errors_per_s"), 0);
    assert_int_equal(integer_member(eth0, "rx_bytes_total"), 1002469);
    assert_int_equal(integer_member(eth0, "tx_bytes_total"), 401000);
    assert_int_equal(json_object_size(eth0), 9);
    assert_string_equal(json_string_value(json_object_get(json_array_get(interfaces, 1), "name")), "eth1");
    assert_string_equal(json_string_value(json_object_get(json_array_get(interfaces, 2), "name")), "veth1a2b");

    json_decref(root);
    lg_buf_free(&payload);
    lg_proc_net_dev_rates_free(&rates);
    lg_proc_net_dev_free(&first);
    lg_proc_net_dev_free(&second);
}

static void test_payload_network_empty(void **unused)
{
    lg_proc_net_dev_rates rates = {NULL, 0};
    lg_buf payload = LG_BUF_INIT;

    lg_payload_network(&rates, &payload);

    assert_string_equal(payload.data, "{\"interfaces\":[]}");
    lg_buf_free(&payload);
}

static void test_payload_disk(void **unused)
{
    lg_proc_disk_filter filter = default_disk_filter();
    lg_proc_diskstats first, second;
    lg_proc_diskstats_rates rates;
    lg_buf payload = LG_BUF_INIT;
    json_t *root;
    json_t *devices;
    json_t *vda;

    read_diskstats(SAMPLE1, &filter, &first);
    read_diskstats(SAMPLE2, &filter, &second);
    lg_proc_diskstats_rates_compute(&first, &second, ELAPSED_MS, &rates);
    lg_payload_disk(&rates, &payload);
    root = parse_payload(&payload);

    devices = json_object_get(root, "devices");
    assert_true(json_is_array(devices));
    assert_int_equal(json_array_size(devices), 2);
    vda = json_array_get(devices, 0);
    assert_string_equal(json_string_value(json_object_get(vda, "name")), "vda");
    assert_near(number_member(vda, "reads_per_s"), 100);
    assert_near(number_member(vda, "writes_per_s"), 50);
    assert_near(number_member(vda, "read_bytes_per_s"), 1024000);
    assert_near(number_member(vda, "write_bytes_per_s"), 512000);
    assert_near(number_member(vda, "busy_percent"), 25);
    assert_int_equal(json_object_size(vda), 6);
    assert_string_equal(json_string_value(json_object_get(json_array_get(devices, 1), "name")), "nvme0n1");
    assert_near(number_member(json_array_get(devices, 1), "busy_percent"), 100);

    json_decref(root);
    lg_buf_free(&payload);
    lg_proc_diskstats_rates_free(&rates);
    lg_proc_diskstats_free(&first);
    lg_proc_diskstats_free(&second);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stat_parse_fixture),
        cmocka_unit_test(test_meminfo_parse_fixture),
        cmocka_unit_test(test_meminfo_without_available),
        cmocka_unit_test(test_loadavg_parse_fixture),
        cmocka_unit_test(test_net_dev_parse_fixture),
        cmocka_unit_test(test_net_dev_exclude_globs),
        cmocka_unit_test(test_diskstats_parse_fixture),
        cmocka_unit_test(test_diskstats_include_partitions),
        cmocka_unit_test(test_diskstats_name_rule_without_sysfs),
        cmocka_unit_test(test_partition_name_rule),
        cmocka_unit_test(test_cpu_usage_rates),
        cmocka_unit_test(test_cpu_usage_backwards_counter),
        cmocka_unit_test(test_net_dev_rates),
        cmocka_unit_test(test_diskstats_rates),
        cmocka_unit_test(test_rates_without_elapsed_time),
        cmocka_unit_test(test_read_missing_file),
        cmocka_unit_test(test_read_truncated_files),
        cmocka_unit_test(test_stat_rejects_garbled_text),
        cmocka_unit_test(test_meminfo_rejects_garbled_text),
        cmocka_unit_test(test_loadavg_rejects_garbled_text),
        cmocka_unit_test(test_net_dev_rejects_garbled_text),
        cmocka_unit_test(test_diskstats_rejects_garbled_text),
        cmocka_unit_test(test_payload_cpu),
        cmocka_unit_test(test_payload_rounding),
        cmocka_unit_test(test_payload_memory),
        cmocka_unit_test(test_payload_load),
        cmocka_unit_test(test_payload_network),
        cmocka_unit_test(test_payload_network_empty),
        cmocka_unit_test(test_payload_disk),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
