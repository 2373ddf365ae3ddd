/* Parsers for the /proc files that the sysmetrics plugin samples, and the rates between two samples. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "proc.h"

/* Counters per cpu line that every kernel since 2.6.11 writes: user, nice,
 * system, idle, iowait, irq, softirq, steal. Guest fields may follow. */
#define CPU_COUNTERS 8

/* Counters per interface line of /proc/net/dev: 8 receive, 8 transmit. */
#define NET_DEV_COUNTERS 16
#define NET_RX_BYTES 0
#define NET_RX_PACKETS 1
#define NET_RX_ERRORS 2
#define NET_TX_BYTES 8
#define NET_TX_PACKETS 9
#define NET_TX_ERRORS 10

/* Counters per device line of /proc/diskstats since Linux 2.6.25. Linux
 * 4.18 and 5.5 append discard and flush counters, which are not used. */
#define DISK_COUNTERS 11
#define DISK_READS 0
#define DISK_SECTORS_READ 2
#define DISK_WRITES 4
#define DISK_SECTORS_WRITTEN 6
#define DISK_IO_MS 9

#define KIB_BYTES 1024

/* Free room requested before each read(2); /proc files are read until EOF. */
#define READ_CHUNK_BYTES 4096

/* The text of a file under the proc root, and its path for messages. */
typedef struct proc_file {
    char *path;
    lg_buf text;
} proc_file;

/* A cursor over the lines of a NUL-terminated text. */
typedef struct text_lines {
    const char *next;
    unsigned number; /* 1-based number of the line last returned */
} text_lines;

/* Reading files */

static int read_fd(int fd, lg_buf *text)
{
    for (;;) {
        ssize_t n;

        lg_buf_reserve(text, READ_CHUNK_BYTES);
        n = read(fd, text->data + text->len, text->cap - text->len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        text->len += (size_t)n;
        text->data[text->len] = '\0';
    }
}

/* Read PROC_ROOT/NAME whole into FILE. Returns 0, or -1 with ERR set; FILE
 * must be freed with proc_file_free either way. */
static int proc_file_load(proc_file *file, const char *proc_root, const char *name, lg_error *err)
{
    int fd;
    int rc;

    file->path = lg_sprintf("%s/%s", proc_root, name);
    file->text = (lg_buf)LG_BUF_INIT;
    lg_buf_reserve(&file->text, 0);
    file->text.data[0] = '\0';

    fd = open(file->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lg_error_set(err, "cannot read %s: %s", file->path, strerror(errno));

    rc = read_fd(fd, &file->text);
    if (rc < 0)
        lg_error_set(err, "cannot read %s: %s", file->path, strerror(errno));
    close(fd);

    if (rc == 0 && strlen(file->text.data) != file->text.len)
        rc = lg_error_set(err, "cannot read %s: the file contains a NUL byte", file->path);
    return rc;
}

static void proc_file_free(proc_file *file)
{
    free(file->path);
    lg_buf_free(&file->text);
}

/* Scanning text */

static const char *lines_next(text_lines *lines)
{
    const char *line = lines->next;
    const char *end;

    if (line == NULL || *line == '\0')
        return NULL;

    end = strchr(line, '\n');
    lines->next = end != NULL ? end + 1 : NULL;
    lines->number++;
    return line;
}

static const char *skip_blanks(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Return 1 when a number may end before C: at a blank, a line end, or a
 * separator such as '/' or ':', but not inside a longer word like "12x". */
static int ends_number(char c)
{
    return !isalnum((unsigned char)c) && c != '.' && c != '_' && c != '-';
}

/* Skip blanks, then read one unsigned decimal number. Returns 0 and moves
 * *CURSOR past it, or -1 when none starts there, it does not fit in 64 bits,
 * or it runs into other characters. Never crosses a line end. */
static int scan_u64(const char **cursor, uint64_t *value)
{
    const char *p = skip_blanks(*cursor);
    unsigned long long parsed;
    char *end;

    if (!isdigit((unsigned char)*p))
        return -1;

    errno = 0;
    parsed = strtoull(p, &end, 10);
    if (errno == ERANGE || !ends_number(*end))
        return -1;

    *value = parsed;
    *cursor = end;
    return 0;
}

/* Skip blanks, then read a decimal fraction such as "0.52" without the
 * locale, so a comma locale cannot change the result. Same contract as
 * scan_u64. */
static int scan_decimal(const char **cursor, double *value)
{
    const char *p = skip_blanks(*cursor);
    double result = 0;
    double scale = 1;

    if (!isdigit((unsigned char)*p))
        return -1;

    while (isdigit((unsigned char)*p))
        result = result * 10 + (*p++ - '0');
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            scale /= 10;
            result += (*p++ - '0') * scale;
        }
    }
    if (!ends_number(*p))
        return -1;

    *value = result;
    *cursor = p;
    return 0;
}

/* Skip blanks, then copy the word up to the next blank, line end or STOP
 * character into NAME. Returns 0, or -1 when the word is empty or does not
 * fit. */
static int scan_word(const char **cursor, char stop, char name[LG_PROC_NAME_BYTES])
{
    const char *p = skip_blanks(*cursor);
    size_t len = 0;

    while (p[len] != '\0' && p[len] != '\n' && p[len] != ' ' && p[len] != '\t' && p[len] != stop)
        len++;
    if (len == 0 || len >= LG_PROC_NAME_BYTES)
        return -1;

    memcpy(name, p, len);
    name[len] = '\0';
    *cursor = p + len;
    return 0;
}

static int scan_counters(const char **cursor, uint64_t *values, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (scan_u64(cursor, &values[i]) < 0)
            return -1;
    }
    return 0;
}

/* Set ERR to "cannot read PATH: line LINE: DETAIL". Always returns -1. */
static int __attribute__((format(printf, 4, 5)))
line_error(lg_error *err, const char *path, unsigned line, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    lg_error_vset(err, fmt, args);
    va_end(args);
    return lg_error_prefix(err, "cannot read %s: line %u", path, line);
}

static int matches_any(const lg_string_list *globs, const char *name)
{
    if (globs == NULL)
        return 0;
    for (size_t i = 0; i < globs->count; i++) {
        if (fnmatch(globs->items[i], name, 0) == 0)
            return 1;
    }
    return 0;
}

/* /proc/stat */

/* Parse the label of a cpu line: "cpu" gives -1, "cpuN" gives N. Returns 0,
 * or -1 for any other word. */
static int parse_cpu_label(const char *label, int *id)
{
    const char *digits = label + strlen("cpu");
    char *end;
    long parsed;

    if (strncmp(label, "cpu", 3) != 0)
        return -1;
    if (*digits == '\0') {
        *id = -1;
        return 0;
    }
    if (!isdigit((unsigned char)*digits))
        return -1;

    errno = 0;
    parsed = strtol(digits, &end, 10);
    if (errno == ERANGE || *end != '\0' || parsed > INT_MAX)
        return -1;
    *id = (int)parsed;
    return 0;
}

static int parse_cpu_line(const char *line, lg_proc_cpu_times *times)
{
    uint64_t counters[CPU_COUNTERS];
    char label[LG_PROC_NAME_BYTES];
    const char *cursor = line;

    if (scan_word(&cursor, '\0', label) < 0 || parse_cpu_label(label, &times->id) < 0)
        return -1;
    if (scan_counters(&cursor, counters, CPU_COUNTERS) < 0)
        return -1;

    times->user = counters[0];
    times->nice = counters[1];
    times->system = counters[2];
    times->idle = counters[3];
    times->iowait = counters[4];
    times->irq = counters[5];
    times->softirq = counters[6];
    times->steal = counters[7];
    return 0;
}

int lg_proc_parse_stat(const char *text, const char *path, lg_proc_stat *out, lg_error *err)
{
    lg_proc_stat sample = {0};
    text_lines lines = {text, 0};
    int have_total = 0;
    const char *line;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    while ((line = lines_next(&lines)) != NULL) {
        lg_proc_cpu_times times;

        if (strncmp(line, "cpu", 3) != 0)
            continue;

        if (parse_cpu_line(line, &times) < 0) {
            line_error(err, path, lines.number, "expected \"cpu\" or \"cpuN\" followed by %d or more numbers",
                       CPU_COUNTERS);
            goto done;
        }

        if (times.id >= 0) {
            sample.cores = lg_realloc(sample.cores, (sample.core_count + 1) * sizeof(*sample.cores));
            sample.cores[sample.core_count++] = times;
        } else if (have_total) {
            line_error(err, path, lines.number, "a second \"cpu\" line");
            goto done;
        } else {
            sample.total = times;
            have_total = 1;
        }
    }

    if (!have_total) {
        lg_error_set(err, "cannot read %s: the \"cpu\" line is missing", path);
        goto done;
    }
    *out = sample;
    sample = (lg_proc_stat){0};
    rc = 0;

done:
    lg_proc_stat_free(&sample);
    return rc;
}

int lg_proc_read_stat(const char *proc_root, lg_proc_stat *out, lg_error *err)
{
    proc_file file;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = proc_file_load(&file, proc_root, "stat", err);
    if (rc == 0)
        rc = lg_proc_parse_stat(file.text.data, file.path, out, err);
    proc_file_free(&file);
    return rc;
}

/* /proc/meminfo */

enum meminfo_index {
    MEM_TOTAL,
    MEM_FREE,
    MEM_AVAILABLE,
    MEM_BUFFERS,
    MEM_CACHED,
    MEM_SWAP_TOTAL,
    MEM_SWAP_FREE,
    MEMINFO_FIELD_COUNT
};

/* The lines taken from /proc/meminfo. Every one is required except
 * MemAvailable, which kernels before 3.14 lack; it is then estimated. */
static const struct meminfo_field {
    const char *key;
    size_t offset;
} meminfo_fields[MEMINFO_FIELD_COUNT] = {
    [MEM_TOTAL] = {"MemTotal", offsetof(lg_proc_meminfo, total_bytes)},
    [MEM_FREE] = {"MemFree", offsetof(lg_proc_meminfo, free_bytes)},
    [MEM_AVAILABLE] = {"MemAvailable", offsetof(lg_proc_meminfo, available_bytes)},
    [MEM_BUFFERS] = {"Buffers", offsetof(lg_proc_meminfo, buffers_bytes)},
    [MEM_CACHED] = {"Cached", offsetof(lg_proc_meminfo, cached_bytes)},
    [MEM_SWAP_TOTAL] = {"SwapTotal", offsetof(lg_proc_meminfo, swap_total_bytes)},
    [MEM_SWAP_FREE] = {"SwapFree", offsetof(lg_proc_meminfo, swap_free_bytes)},
};

static int find_meminfo_field(const char *line)
{
    const char *colon = strchr(line, ':');
    const char *newline = strchr(line, '\n');

    if (colon == NULL || (newline != NULL && newline < colon))
        return -1;
    for (size_t i = 0; i < MEMINFO_FIELD_COUNT; i++) {
        size_t len = strlen(meminfo_fields[i].key);

        if ((size_t)(colon - line) == len && strncmp(line, meminfo_fields[i].key, len) == 0)
            return (int)i;
    }
    return -1;
}

/* Parse the value of a "Key:   123 kB" line into bytes. */
static int parse_kib_value(const char *line, uint64_t *bytes)
{
    const char *cursor = strchr(line, ':') + 1;
    uint64_t kib;

    if (scan_u64(&cursor, &kib) < 0 || kib > UINT64_MAX / KIB_BYTES)
        return -1;
    cursor = skip_blanks(cursor);
    if (strncmp(cursor, "kB", 2) != 0 || !ends_number(cursor[2]))
        return -1;

    *bytes = kib * KIB_BYTES;
    return 0;
}

static void derive_meminfo(lg_proc_meminfo *mem, unsigned seen)
{
    /* Without MemAvailable, free plus page cache is the usual estimate,
     * although it counts some cache that cannot be reclaimed. */
    if (!(seen & (1u << MEM_AVAILABLE)))
        mem->available_bytes = mem->free_bytes + mem->buffers_bytes + mem->cached_bytes;

    mem->used_bytes = mem->total_bytes > mem->available_bytes ? mem->total_bytes - mem->available_bytes : 0;
    mem->swap_used_bytes =
        mem->swap_total_bytes > mem->swap_free_bytes ? mem->swap_total_bytes - mem->swap_free_bytes : 0;
    mem->used_percent = mem->total_bytes > 0 ? 100.0 * (double)mem->used_bytes / (double)mem->total_bytes : 0;
}

int lg_proc_parse_meminfo(const char *text, const char *path, lg_proc_meminfo *out, lg_error *err)
{
    lg_proc_meminfo mem = {0};
    text_lines lines = {text, 0};
    unsigned seen = 0;
    const char *line;

    memset(out, 0, sizeof(*out));
    while ((line = lines_next(&lines)) != NULL) {
        int field = find_meminfo_field(line);
        uint64_t bytes;

        if (field < 0)
            continue;
        if (parse_kib_value(line, &bytes) < 0)
            return line_error(err, path, lines.number, "expected \"%s: NUMBER kB\"", meminfo_fields[field].key);
        *(uint64_t *)((char *)&mem + meminfo_fields[field].offset) = bytes;
        seen |= 1u << field;
    }

    for (size_t i = 0; i < MEMINFO_FIELD_COUNT; i++) {
        if (i != MEM_AVAILABLE && !(seen & (1u << i)))
            return lg_error_set(err, "cannot read %s: the \"%s\" line is missing", path, meminfo_fields[i].key);
    }

    derive_meminfo(&mem, seen);
    *out = mem;
    return 0;
}

int lg_proc_read_meminfo(const char *proc_root, lg_proc_meminfo *out, lg_error *err)
{
    proc_file file;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = proc_file_load(&file, proc_root, "meminfo", err);
    if (rc == 0)
        rc = lg_proc_parse_meminfo(file.text.data, file.path, out, err);
    proc_file_free(&file);
    return rc;
}

/* /proc/loadavg */

int lg_proc_parse_loadavg(const char *text, const char *path, lg_proc_loadavg *out, lg_error *err)
{
    lg_proc_loadavg load = {0};
    const char *cursor = text;
    uint64_t last_pid;

    memset(out, 0, sizeof(*out));
    if (scan_decimal(&cursor, &load.load1) < 0 || scan_decimal(&cursor, &load.load5) < 0 ||
        scan_decimal(&cursor, &load.load15) < 0 || scan_u64(&cursor, &load.runnable) < 0 || *cursor++ != '/' ||
        scan_u64(&cursor, &load.processes) < 0 || scan_u64(&cursor, &last_pid) < 0)
        return line_error(err, path, 1, "expected \"LOAD1 LOAD5 LOAD15 RUNNABLE/TOTAL LAST_PID\"");

    *out = load;
    return 0;
}

int lg_proc_read_loadavg(const char *proc_root, lg_proc_loadavg *out, lg_error *err)
{
    proc_file file;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = proc_file_load(&file, proc_root, "loadavg", err);
    if (rc == 0)
        rc = lg_proc_parse_loadavg(file.text.data, file.path, out, err);
    proc_file_free(&file);
    return rc;
}

/* /proc/net/dev */

static int parse_interface_line(const char *line, lg_proc_interface *iface)
{
    uint64_t counters[NET_DEV_COUNTERS];
    const char *cursor = line;

    if (scan_word(&cursor, ':', iface->name) < 0 || *cursor++ != ':')
        return -1;
    if (scan_counters(&cursor, counters, NET_DEV_COUNTERS) < 0)
        return -1;

    iface->rx_bytes = counters[NET_RX_BYTES];
    iface->rx_packets = counters[NET_RX_PACKETS];
    iface->rx_errors = counters[NET_RX_ERRORS];
    iface->tx_bytes = counters[NET_TX_BYTES];
    iface->tx_packets = counters[NET_TX_PACKETS];
    iface->tx_errors = counters[NET_TX_ERRORS];
    return 0;
}

static int is_blank_line(const char *line)
{
    const char *p = skip_blanks(line);

    return *p == '\n' || *p == '\0';
}

static int is_net_dev_header(const char *line)
{
    const char *bar = strchr(line, '|');
    const char *newline = strchr(line, '\n');

    return bar != NULL && (newline == NULL || bar < newline);
}

int lg_proc_parse_net_dev(const char *text, const char *path, const lg_string_list *exclude, lg_proc_net_dev *out,
                          lg_error *err)
{
    lg_proc_net_dev net = {0};
    text_lines lines = {text, 0};
    const char *line;

    memset(out, 0, sizeof(*out));
    while ((line = lines_next(&lines)) != NULL) {
        lg_proc_interface iface;

        if (is_net_dev_header(line) || is_blank_line(line))
            continue;

        if (parse_interface_line(line, &iface) < 0) {
            lg_proc_net_dev_free(&net);
            return line_error(err, path, lines.number, "expected \"NAME:\" followed by %d numbers",
                              NET_DEV_COUNTERS);
        }
        if (matches_any(exclude, iface.name))
            continue;

        net.interfaces = lg_realloc(net.interfaces, (net.count + 1) * sizeof(*net.interfaces));
        net.interfaces[net.count++] = iface;
    }

    *out = net;
    return 0;
}

int lg_proc_read_net_dev(const char *proc_root, const lg_string_list *exclude, lg_proc_net_dev *out, lg_error *err)
{
    proc_file file;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = proc_file_load(&file, proc_root, "net/dev", err);
    if (rc == 0)
        rc = lg_proc_parse_net_dev(file.text.data, file.path, exclude, out, err);
    proc_file_free(&file);
    return rc;
}

/* /proc/diskstats */

static int is_lowercase_word(const char *start, const char *end)
{
    if (start >= end)
        return 0;
    for (const char *p = start; p < end; p++) {
        if (!islower((unsigned char)*p))
            return 0;
    }
    return 1;
}

int lg_proc_is_partition_name(const char *name)
{
    static const char *const lettered_prefixes[] = {"sd", "vd", "hd", "xvd"};
    size_t len = strlen(name);
    size_t stem_len = len;

    while (stem_len > 0 && isdigit((unsigned char)name[stem_len - 1]))
        stem_len--;
    if (stem_len == len || stem_len == 0)
        return 0;

    if (stem_len >= 2 && name[stem_len - 1] == 'p' && isdigit((unsigned char)name[stem_len - 2]))
        return 1;

    for (size_t i = 0; i < sizeof(lettered_prefixes) / sizeof(lettered_prefixes[0]); i++) {
        size_t prefix_len = strlen(lettered_prefixes[i]);

        if (strncmp(name, lettered_prefixes[i], prefix_len) == 0 &&
            is_lowercase_word(name + prefix_len, name + stem_len))
            return 1;
    }
    return 0;
}

static int directory_exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Return 1 when SYS_BLOCK/NAME exists. sysfs writes '/' in device names
 * ("cciss/c0d0") as '!'. */
static int sysfs_has_block_device(const char *sys_block, const char *name)
{
    char *path = lg_sprintf("%s/%s", sys_block, name);
    struct stat st;
    int found;

    for (char *p = path + strlen(sys_block) + 1; *p != '\0'; p++) {
        if (*p == '/')
            *p = '!';
    }
    found = stat(path, &st) == 0;
    free(path);
    return found;
}

/* What the filter needs to decide on each device, worked out once per sample. */
typedef struct disk_filter_state {
    const lg_proc_disk_filter *filter;
    char *sys_block; /* SYS_ROOT/block when it is a directory, otherwise NULL */
} disk_filter_state;

static void disk_filter_state_init(disk_filter_state *state, const lg_proc_disk_filter *filter)
{
    state->filter = filter;
    state->sys_block = NULL;
    if (filter == NULL || filter->include_partitions || filter->sys_root == NULL)
        return;

    state->sys_block = lg_sprintf("%s/block", filter->sys_root);
    if (!directory_exists(state->sys_block)) {
        free(state->sys_block);
        state->sys_block = NULL;
    }
}

static int disk_filter_keeps(const disk_filter_state *state, const char *name)
{
    const lg_proc_disk_filter *filter = state->filter;

    if (filter == NULL)
        return 1;
    if (matches_any(filter->exclude, name))
        return 0;
    if (filter->include_partitions)
        return 1;
    if (state->sys_block != NULL)
        return sysfs_has_block_device(state->sys_block, name);
    return !lg_proc_is_partition_name(name);
}

static int parse_disk_line(const char *line, lg_proc_disk *disk)
{
    uint64_t counters[DISK_COUNTERS];
    const char *cursor = line;
    uint64_t major;
    uint64_t minor;

    if (scan_u64(&cursor, &major) < 0 || scan_u64(&cursor, &minor) < 0)
        return -1;
    if (scan_word(&cursor, '\0', disk->name) < 0)
        return -1;
    if (scan_counters(&cursor, counters, DISK_COUNTERS) < 0)
        return -1;

    disk->reads = counters[DISK_READS];
    disk->sectors_read = counters[DISK_SECTORS_READ];
    disk->writes = counters[DISK_WRITES];
    disk->sectors_written = counters[DISK_SECTORS_WRITTEN];
    disk->io_ms = counters[DISK_IO_MS];
    return 0;
}

int lg_proc_parse_diskstats(const char *text, const char *path, const lg_proc_disk_filter *filter,
                            lg_proc_diskstats *out, lg_error *err)
{
    lg_proc_diskstats disks = {0};
    text_lines lines = {text, 0};
    disk_filter_state state;
    const char *line;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    disk_filter_state_init(&state, filter);
    while ((line = lines_next(&lines)) != NULL) {
        lg_proc_disk disk;

        if (is_blank_line(line))
            continue;

        if (parse_disk_line(line, &disk) < 0) {
            rc = line_error(err, path, lines.number, "expected \"MAJOR MINOR NAME\" followed by %d or more numbers",
                            DISK_COUNTERS);
            break;
        }
        if (!disk_filter_keeps(&state, disk.name))
            continue;

        disks.devices = lg_realloc(disks.devices, (disks.count + 1) * sizeof(*disks.devices));
        disks.devices[disks.count++] = disk;
    }
    free(state.sys_block);

    if (rc < 0)
        lg_proc_diskstats_free(&disks);
    else
        *out = disks;
    return rc;
}

int lg_proc_read_diskstats(const char *proc_root, const lg_proc_disk_filter *filter, lg_proc_diskstats *out,
                           lg_error *err)
{
    proc_file file;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = proc_file_load(&file, proc_root, "diskstats", err);
    if (rc == 0)
        rc = lg_proc_parse_diskstats(file.text.data, file.path, filter, out, err);
    proc_file_free(&file);
    return rc;
}

/* Rates */

static uint64_t counter_delta(uint64_t prev, uint64_t cur)
{
    return cur >= prev ? cur - prev : 0;
}

static double per_second(uint64_t prev, uint64_t cur, int64_t elapsed_ms)
{
    if (elapsed_ms <= 0)
        return 0;
    return (double)counter_delta(prev, cur) * 1000.0 / (double)elapsed_ms;
}

static double percent_of(uint64_t part, uint64_t whole)
{
    return whole > 0 ? 100.0 * (double)part / (double)whole : 0;
}

/* The share of ELAPSED_MS in which the device had I/O in flight. io_ms may
 * advance a little more than the measured interval, because the two reads
 * of diskstats and of the clock are not simultaneous, hence the cap. */
static double busy_percent(uint64_t prev_io_ms, uint64_t cur_io_ms, int64_t elapsed_ms)
{
    double busy;

    if (elapsed_ms <= 0)
        return 0;
    busy = 100.0 * (double)counter_delta(prev_io_ms, cur_io_ms) / (double)elapsed_ms;
    return busy > 100.0 ? 100.0 : busy;
}

/* Tick deltas of one cpu line between two samples. A field that went
 * backwards (iowait does on some tickless kernels) counts as 0. */
typedef struct cpu_delta {
    uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
    uint64_t total;
} cpu_delta;

static cpu_delta cpu_times_delta(const lg_proc_cpu_times *prev, const lg_proc_cpu_times *cur)
{
    cpu_delta d;

    d.user = counter_delta(prev->user, cur->user);
    d.nice = counter_delta(prev->nice, cur->nice);
    d.system = counter_delta(prev->system, cur->system);
    d.idle = counter_delta(prev->idle, cur->idle);
    d.iowait = counter_delta(prev->iowait, cur->iowait);
    d.irq = counter_delta(prev->irq, cur->irq);
    d.softirq = counter_delta(prev->softirq, cur->softirq);
    d.steal = counter_delta(prev->steal, cur->steal);
    d.total = d.user + d.nice + d.system + d.idle + d.iowait + d.irq + d.softirq + d.steal;
    return d;
}

static double cpu_busy_percent(const cpu_delta *d)
{
    return percent_of(d->total - d->idle - d->iowait, d->total);
}

/* Find the core with ID in SAMPLE, trying index HINT first because the
 * order rarely changes. Returns NULL when the core is not there. */
static const lg_proc_cpu_times *find_core(const lg_proc_stat *sample, int id, size_t hint)
{
    if (hint < sample->core_count && sample->cores[hint].id == id)
        return &sample->cores[hint];
    for (size_t i = 0; i < sample->core_count; i++) {
        if (sample->cores[i].id == id)
            return &sample->cores[i];
    }
    return NULL;
}

void lg_proc_cpu_usage_compute(const lg_proc_stat *prev, const lg_proc_stat *cur, lg_proc_cpu_usage *out)
{
    cpu_delta total = cpu_times_delta(&prev->total, &cur->total);

    out->usage_percent = cpu_busy_percent(&total);
    out->user_percent = percent_of(total.user, total.total);
    out->system_percent = percent_of(total.system, total.total);
    out->iowait_percent = percent_of(total.iowait, total.total);
    out->steal_percent = percent_of(total.steal, total.total);

    /* A core that came online since PREV has no interval yet: 0 until the next sample. */
    out->core_count = cur->core_count;
    out->cores = lg_calloc(cur->core_count, sizeof(*out->cores));
    for (size_t i = 0; i < cur->core_count; i++) {
        const lg_proc_cpu_times *before = find_core(prev, cur->cores[i].id, i);
        cpu_delta core;

        if (before == NULL)
            continue;
        core = cpu_times_delta(before, &cur->cores[i]);
        out->cores[i] = cpu_busy_percent(&core);
    }
}

static const lg_proc_interface *find_interface(const lg_proc_net_dev *sample, const char *name, size_t hint)
{
    if (hint < sample->count && strcmp(sample->interfaces[hint].name, name) == 0)
        return &sample->interfaces[hint];
    for (size_t i = 0; i < sample->count; i++) {
        if (strcmp(sample->interfaces[i].name, name) == 0)
            return &sample->interfaces[i];
    }
    return NULL;
}

void lg_proc_net_dev_rates_compute(const lg_proc_net_dev *prev, const lg_proc_net_dev *cur, int64_t elapsed_ms,
                                   lg_proc_net_dev_rates *out)
{
    out->count = 0;
    out->interfaces = lg_calloc(cur->count, sizeof(*out->interfaces));
    for (size_t i = 0; i < cur->count; i++) {
        const lg_proc_interface *now = &cur->interfaces[i];
        const lg_proc_interface *before = find_interface(prev, now->name, i);
        lg_proc_interface_rates *rates;

        if (before == NULL)
            continue;

        rates = &out->interfaces[out->count++];
        memcpy(rates->name, now->name, sizeof(rates->name));
        rates->rx_bytes_per_s = per_second(before->rx_bytes, now->rx_bytes, elapsed_ms);
        rates->tx_bytes_per_s = per_second(before->tx_bytes, now->tx_bytes, elapsed_ms);
        rates->rx_packets_per_s = per_second(before->rx_packets, now->rx_packets, elapsed_ms);
        rates->tx_packets_per_s = per_second(before->tx_packets, now->tx_packets, elapsed_ms);
        rates->rx_errors_per_s = per_second(before->rx_errors, now->rx_errors, elapsed_ms);
        rates->tx_errors_per_s = per_second(before->tx_errors, now->tx_errors, elapsed_ms);
        rates->rx_bytes_total = now->rx_bytes;
        rates->tx_bytes_total = now->tx_bytes;
    }
}

static const lg_proc_disk *find_disk(const lg_proc_diskstats *sample, const char *name, size_t hint)
{
    if (hint < sample->count && strcmp(sample->devices[hint].name, name) == 0)
        return &sample->devices[hint];
    for (size_t i = 0; i < sample->count; i++) {
        if (strcmp(sample->devices[i].name, name) == 0)
            return &sample->devices[i];
    }
    return NULL;
}

void lg_proc_diskstats_rates_compute(const lg_proc_diskstats *prev, const lg_proc_diskstats *cur, int64_t elapsed_ms,
                                     lg_proc_diskstats_rates *out)
{
    out->count = 0;
    out->devices = lg_calloc(cur->count, sizeof(*out->devices));
    for (size_t i = 0; i < cur->count; i++) {
        const lg_proc_disk *now = &cur->devices[i];
        const lg_proc_disk *before = find_disk(prev, now->name, i);
        lg_proc_disk_rates *rates;

        if (before == NULL)
            continue;

        rates = &out->devices[out->count++];
        memcpy(rates->name, now->name, sizeof(rates->name));
        rates->reads_per_s = per_second(before->reads, now->reads, elapsed_ms);
        rates->writes_per_s = per_second(before->writes, now->writes, elapsed_ms);
        rates->read_bytes_per_s =
            per_second(before->sectors_read, now->sectors_read, elapsed_ms) * LG_PROC_SECTOR_BYTES;
        rates->write_bytes_per_s =
            per_second(before->sectors_written, now->sectors_written, elapsed_ms) * LG_PROC_SECTOR_BYTES;
        rates->busy_percent = busy_percent(before->io_ms, now->io_ms, elapsed_ms);
    }
}

/* Freeing */

void lg_proc_stat_free(lg_proc_stat *sample)
{
    free(sample->cores);
    memset(sample, 0, sizeof(*sample));
}

void lg_proc_net_dev_free(lg_proc_net_dev *net)
{
    free(net->interfaces);
    memset(net, 0, sizeof(*net));
}

void lg_proc_diskstats_free(lg_proc_diskstats *disks)
{
    free(disks->devices);
    memset(disks, 0, sizeof(*disks));
}

void lg_proc_cpu_usage_free(lg_proc_cpu_usage *usage)
{
    free(usage->cores);
    memset(usage, 0, sizeof(*usage));
}

void lg_proc_net_dev_rates_free(lg_proc_net_dev_rates *rates)
{
    free(rates->interfaces);
    memset(rates, 0, sizeof(*rates));
}

void lg_proc_diskstats_rates_free(lg_proc_diskstats_rates *rates)
{
    free(rates->devices);
    memset(rates, 0, sizeof(*rates));
}
