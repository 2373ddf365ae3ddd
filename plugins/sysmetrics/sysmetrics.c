/* The sysmetrics source plugin: reads host metrics from /proc on a timer and publishes them as JSON. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>

#include "payload.h"
#include "plugin_api.h"
#include "proc.h"

#define SYSMETRICS_MIN_INTERVAL_MS 100
#define SYSMETRICS_MAX_INTERVAL_MS 3600000

typedef struct sysmetrics_config {
    int64_t interval_ms;
    char *proc_root;
    char *sys_root;
    char *channel_prefix;
    lg_string_list metrics;
    lg_string_list exclude_interfaces;
    lg_string_list exclude_devices;
    int include_partitions;
} sysmetrics_config;

/* Metric groups: one proc file and one channel each. */
typedef enum metric_group {
    GROUP_CPU,
    GROUP_MEMORY,
    GROUP_LOAD,
    GROUP_NETWORK,
    GROUP_DISK,
    GROUP_COUNT
} metric_group;

static const char *const group_names[GROUP_COUNT] = {"cpu", "memory", "load", "network", "disk"};
static const char *const group_files[GROUP_COUNT] = {"stat", "meminfo", "loadavg", "net/dev", "diskstats"};

#define GROUP_NAME_LIST "cpu, memory, load, network, disk"

typedef struct group_state {
    int enabled;
    char *channel; /* PREFIX.NAME */
    char *failure; /* why the last read failed, NULL after a good read */
    int has_sample; /* the previous sample of a rate group is kept */
    int64_t sampled_ms; /* monotonic time of that sample */
} group_state;

typedef struct sysmetrics_state {
    lg_instance *instance;
    const sysmetrics_config *config;
    struct event *timer;
    group_state groups[GROUP_COUNT];

    /* The previous samples of the groups that publish rates. */
    lg_proc_stat stat;
    lg_proc_net_dev net_dev;
    lg_proc_diskstats diskstats;
    lg_proc_disk_filter disk_filter;

    lg_health health;    /* as last reported */
    char *health_reason; /* as last reported, NULL while healthy */
    lg_buf payload;
} sysmetrics_state;

/* Sampling */

static void publish_payload(sysmetrics_state *state, metric_group group)
{
    const char *channel = state->groups[group].channel;
    lg_publish event = {
        .channel = channel,
        .data = state->payload.data,
        .data_len = state->payload.len,
    };
    lg_error err;

    lg_error_clear(&err);
    if (lg_instance_publish(state->instance, &event, &err) < 0)
        LG_LOG_ERROR(lg_instance_scope(state->instance), "publishing to channel %s failed: %s", channel, err.message);
    lg_buf_reset(&state->payload);
}

/* Return the milliseconds since GROUP's previous sample and note NOW_MS as the new one. */
static int64_t take_elapsed_ms(group_state *group, int64_t now_ms)
{
    int64_t elapsed_ms = now_ms - group->sampled_ms;

    group->sampled_ms = now_ms;
    return elapsed_ms;
}

static int sample_cpu(sysmetrics_state *state, lg_error *err)
{
    group_state *group = &state->groups[GROUP_CPU];
    lg_proc_cpu_usage usage;
    lg_proc_stat sample;

    if (lg_proc_read_stat(state->config->proc_root, &sample, err) < 0)
        return -1;

    if (group->has_sample) {
        lg_proc_cpu_usage_compute(&state->stat, &sample, &usage);
        lg_payload_cpu(&usage, &state->payload);
        lg_proc_cpu_usage_free(&usage);
        publish_payload(state, GROUP_CPU);
    }

    lg_proc_stat_free(&state->stat);
    state->stat = sample;
    group->has_sample = 1;
    return 0;
}

static int sample_memory(sysmetrics_state *state, lg_error *err)
{
    lg_proc_meminfo memory;

    if (lg_proc_read_meminfo(state->config->proc_root, &memory, err) < 0)
        return -1;

    lg_payload_memory(&memory, &state->payload);
    publish_payload(state, GROUP_MEMORY);
    return 0;
}

static int sample_load(sysmetrics_state *state, lg_error *err)
{
    lg_proc_loadavg load;

    if (lg_proc_read_loadavg(state->config->proc_root, &load, err) < 0)
        return -1;

    lg_payload_load(&load, &state->payload);
    publish_payload(state, GROUP_LOAD);
    return 0;
}

static int sample_network(sysmetrics_state *state, lg_error *err)
{
    group_state *group = &state->groups[GROUP_NETWORK];
    lg_proc_net_dev_rates rates;
    lg_proc_net_dev net_dev;
    int64_t elapsed_ms;

    if (lg_proc_read_net_dev(state->config->proc_root, &state->config->exclude_interfaces, &net_dev, err) < 0)
        return -1;
    elapsed_ms = take_elapsed_ms(group, lg_clock_monotonic_ms());

    if (group->has_sample) {
        lg_proc_net_dev_rates_compute(&state->net_dev, &net_dev, elapsed_ms, &rates);
        lg_payload_network(&rates, &state->payload);
        lg_proc_net_dev_rates_free(&rates);
        publish_payload(state, GROUP_NETWORK);
    }

    lg_proc_net_dev_free(&state->net_dev);
    state->net_dev = net_dev;
    group->has_sample = 1;
    return 0;
}

static int sample_disk(sysmetrics_state *state, lg_error *err)
{
    group_state *group = &state->groups[GROUP_DISK];
    lg_proc_diskstats_rates rates;
    lg_proc_diskstats diskstats;
    int64_t elapsed_ms;

    if (lg_proc_read_diskstats(state->config->proc_root, &state->disk_filter, &diskstats, err) < 0)
        return -1;
    elapsed_ms = take_elapsed_ms(group, lg_clock_monotonic_ms());

    if (group->has_sample) {
        lg_proc_diskstats_rates_compute(&state->diskstats, &diskstats, elapsed_ms, &rates);
        lg_payload_disk(&rates, &state->payload);
        lg_proc_diskstats_rates_free(&rates);
        publish_payload(state, GROUP_DISK);
    }

    lg_proc_diskstats_free(&state->diskstats);
    state->diskstats = diskstats;
    group->has_sample = 1;
    return 0;
}

static int (*const group_samplers[GROUP_COUNT])(sysmetrics_state *state, lg_error *err) = {
    [GROUP_CPU] = sample_cpu,
    [GROUP_MEMORY] = sample_memory,
    [GROUP_LOAD] = sample_load,
    [GROUP_NETWORK] = sample_network,
    [GROUP_DISK] = sample_disk,
};

/* Failures and health */

/* Log a failed read once, when the group goes from readable to failing. */
static void note_failure(sysmetrics_state *state, metric_group group, const char *reason)
{
    group_state *g = &state->groups[group];

    if (g->failure == NULL)
        LG_LOG_WARN(lg_instance_scope(state->instance), "%s; %s metrics are skipped until the file can be read",
                    reason, group_names[group]);
    free(g->failure);
    g->failure = lg_strdup(reason);
}

static void note_success(sysmetrics_state *state, metric_group group)
{
    group_state *g = &state->groups[group];

    if (g->failure == NULL)
        return;
    LG_LOG_INFO(lg_instance_scope(state->instance), "%s/%s can be read again; publishing %s metrics again",
                state->config->proc_root, group_files[group], group_names[group]);
    free(g->failure);
    g->failure = NULL;
}

/* Report OK when every group was read, FAILED when none was (so nothing is
 * published), and DEGRADED in between, with the failures joined as the
 * reason. lg_instance_set_health is called only on a change. */
static void update_health(sysmetrics_state *state)
{
    lg_buf reason = LG_BUF_INIT;
    size_t enabled = 0;
    size_t failing = 0;
    lg_health health;

    for (int g = 0; g < GROUP_COUNT; g++) {
        if (!state->groups[g].enabled)
            continue;
        enabled++;
        if (state->groups[g].failure == NULL)
            continue;
        if (failing++ > 0)
            lg_buf_append_str(&reason, "; ");
        lg_buf_append_str(&reason, state->groups[g].failure);
    }

    if (failing == 0)
        health = LG_HEALTH_OK;
    else if (failing == enabled)
        health = LG_HEALTH_FAILED;
    else
        health = LG_HEALTH_DEGRADED;
    if (health == state->health &&
        (health == LG_HEALTH_OK || strcmp(reason.data, state->health_reason) == 0)) {
        lg_buf_free(&reason);
        return;
    }

    free(state->health_reason);
    state->health_reason = health == LG_HEALTH_OK ? NULL : lg_buf_steal(&reason, NULL);
    state->health = health;
    lg_instance_set_health(state->instance, health, state->health_reason);
    lg_buf_free(&reason);
}

static void sysmetrics_tick(evutil_socket_t fd, short what, void *arg)
{
    sysmetrics_state *state = arg;

    for (int g = 0; g < GROUP_COUNT; g++) {
        lg_error err;

        if (!state->groups[g].enabled)
            continue;

        lg_error_clear(&err);
        if (group_samplers[g](state, &err) < 0)
            note_failure(state, (metric_group)g, err.message);
        else
            note_success(state, (metric_group)g);
    }

    update_health(state);
}

/* Configuration */

static int find_group(const char *name)
{
    for (int g = 0; g < GROUP_COUNT; g++) {
        if (strcmp(name, group_names[g]) == 0)
            return g;
    }
    return -1;
}

/* Mark the groups named in METRICS as enabled in STATE. Returns 0, or -1
 * with ERR set for an empty list or an unknown name. */
static int enable_groups(sysmetrics_state *state, const lg_string_list *metrics, lg_error *err)
{
    if (metrics->count == 0)
        return lg_error_set(err, "metrics is empty: list one or more of " GROUP_NAME_LIST);

    for (size_t i = 0; i < metrics->count; i++) {
        int g = find_group(metrics->items[i]);

        if (g < 0)
            return lg_error_set(err, "invalid metrics entry \"%s\": valid names are " GROUP_NAME_LIST,
                                metrics->items[i]);
        state->groups[g].enabled = 1;
    }
    return 0;
}

static int check_config(const sysmetrics_config *config, lg_error *err)
{
    struct stat st;

    if (config->channel_prefix == NULL || config->channel_prefix[0] == '\0')
        return lg_error_set(err, "channel_prefix is empty: set it to a channel name prefix such as \"system\"");
    if (lg_channel_name_check(config->channel_prefix, err) < 0)
        return lg_error_prefix(err, "invalid channel_prefix '%s'", config->channel_prefix);
    if (config->proc_root == NULL || config->proc_root[0] == '\0')
        return lg_error_set(err, "proc_root is empty: set it to the procfs directory, normally \"/proc\"");
    if (stat(config->proc_root, &st) < 0)
        return lg_error_set(err, "invalid proc_root \"%s\": %s; set it to the procfs directory, normally \"/proc\"",
                            config->proc_root, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return lg_error_set(err, "invalid proc_root \"%s\": not a directory; set it to the procfs directory, "
                            "normally \"/proc\"", config->proc_root);
    return 0;
}

static void sysmetrics_state_free(sysmetrics_state *state)
{
    if (state->timer != NULL)
        event_free(state->timer);
    for (int g = 0; g < GROUP_COUNT; g++) {
        free(state->groups[g].channel);
        free(state->groups[g].failure);
    }
    lg_proc_stat_free(&state->stat);
    lg_proc_net_dev_free(&state->net_dev);
    lg_proc_diskstats_free(&state->diskstats);
    free(state->health_reason);
    lg_buf_free(&state->payload);
    free(state);
}

/* Plugin callbacks */

static int sysmetrics_init(lg_instance *instance, void *config_ptr, lg_error *err)
{
    const sysmetrics_config *config = config_ptr;
    sysmetrics_state *state;

    if (check_config(config, err) < 0)
        return -1;

    state = lg_calloc(1, sizeof(*state));
    state->instance = instance;
    state->config = config;
    state->health = LG_HEALTH_OK;
    state->disk_filter.exclude = &config->exclude_devices;
    state->disk_filter.include_partitions = config->include_partitions;
    state->disk_filter.sys_root = config->sys_root;

    if (enable_groups(state, &config->metrics, err) < 0) {
        sysmetrics_state_free(state);
        return -1;
    }
    for (int g = 0; g < GROUP_COUNT; g++)
        state->groups[g].channel = lg_sprintf("%s.%s", config->channel_prefix, group_names[g]);

    lg_instance_set_data(instance, state);
    return 0;
}

static void log_start(const sysmetrics_state *state)
{
    const sysmetrics_config *config = state->config;
    lg_buf groups = LG_BUF_INIT;

    for (int g = 0; g < GROUP_COUNT; g++) {
        if (!state->groups[g].enabled)
            continue;
        if (groups.len > 0)
            lg_buf_append_str(&groups, ", ");
        lg_buf_append_str(&groups, group_names[g]);
    }

    LG_LOG_INFO(lg_instance_scope(state->instance), "publishing %s to %s.* every %lld ms from %s", groups.data,
                config->channel_prefix, (long long)config->interval_ms, config->proc_root);
    lg_buf_free(&groups);
}

static int sysmetrics_start(lg_instance *instance, lg_error *err)
{
    sysmetrics_state *state = lg_instance_data(instance);
    int64_t interval_ms = state->config->interval_ms;
    struct timeval interval = {
        .tv_sec = (time_t)(interval_ms / 1000),
        .tv_usec = (suseconds_t)(interval_ms % 1000 * 1000),
    };

    state->timer = event_new(lg_instance_base(instance), -1, EV_PERSIST, sysmetrics_tick, state);
    if (state->timer == NULL)
        return lg_error_set(err, "event_new failed for the sampling timer");
    if (event_add(state->timer, &interval) < 0) {
        event_free(state->timer);
        state->timer = NULL;
        return lg_error_set(err, "event_add failed for the sampling timer of %lld ms", (long long)interval_ms);
    }

    log_start(state);
    sysmetrics_tick(-1, EV_TIMEOUT, state);
    return 0;
}

static void sysmetrics_stop(lg_instance *instance)
{
    sysmetrics_state *state = lg_instance_data(instance);

    if (state == NULL || state->timer == NULL)
        return;

    event_free(state->timer);
    state->timer = NULL;
    LG_LOG_INFO(lg_instance_scope(instance), "stopped publishing to %s.*", state->config->channel_prefix);
}

static void sysmetrics_destroy(lg_instance *instance)
{
    sysmetrics_state *state = lg_instance_data(instance);

    if (state == NULL)
        return;
    sysmetrics_state_free(state);
    lg_instance_set_data(instance, NULL);
}

/* Option table and descriptor */

static const lg_option sysmetrics_options[] = {
    {
        .name = "interval",
        .type = LG_OPT_DURATION,
        .offset = LG_OPT_FIELD(sysmetrics_config, interval_ms),
        .default_value = "1s",
        .min = SYSMETRICS_MIN_INTERVAL_MS,
        .max = SYSMETRICS_MAX_INTERVAL_MS,
        .description = "Time between two reads of the proc files, from 100ms to 1h. Rates are per second, "
                       "over the measured time between two reads.",
    },
    {
        .name = "proc_root",
        .type = LG_OPT_STRING,
        .offset = LG_OPT_FIELD(sysmetrics_config, proc_root),
        .default_value = "/proc",
        .description = "Directory to read stat, meminfo, loadavg, net/dev and diskstats from.",
    },
    {
        .name = "sys_root",
        .type = LG_OPT_STRING,
        .offset = LG_OPT_FIELD(sysmetrics_config, sys_root),
        .default_value = "/sys",
        .description = "sysfs directory that tells whole disks from partitions: a device is whole when "
                       "SYS_ROOT/block/NAME exists. Without SYS_ROOT/block, names such as sda1, vdb2, "
                       "nvme0n1p1 and mmcblk0p2 are taken for partitions and all others for whole devices.",
    },
    {
        .name = "channel_prefix",
        .type = LG_OPT_STRING,
        .offset = LG_OPT_FIELD(sysmetrics_config, channel_prefix),
        .default_value = "system",
        .description = "Prefix of the channel names: PREFIX.cpu, PREFIX.memory, PREFIX.load, PREFIX.network "
                       "and PREFIX.disk.",
    },
    {
        .name = "metrics",
        .type = LG_OPT_STRING_LIST,
        .offset = LG_OPT_FIELD(sysmetrics_config, metrics),
        .default_value = "[cpu, memory, load, network, disk]",
        .description = "Groups to publish, any of " GROUP_NAME_LIST ". cpu, network and disk are rates, "
                       "so they publish from the second read on.",
    },
    {
        .name = "exclude_interfaces",
        .type = LG_OPT_STRING_LIST,
        .offset = LG_OPT_FIELD(sysmetrics_config, exclude_interfaces),
        .default_value = "[lo]",
        .description = "fnmatch(3) globs of network interfaces to leave out, such as \"veth*\".",
    },
    {
        .name = "exclude_devices",
        .type = LG_OPT_STRING_LIST,
        .offset = LG_OPT_FIELD(sysmetrics_config, exclude_devices),
        .default_value = "[\"loop*\", \"ram*\", \"zram*\"]",
        .description = "fnmatch(3) globs of block devices to leave out.",
    },
    {
        .name = "include_partitions",
        .type = LG_OPT_BOOL,
        .offset = LG_OPT_FIELD(sysmetrics_config, include_partitions),
        .default_value = "false",
        .description = "Publish disk partitions (vda1) beside whole devices (vda).",
    },
    {.name = NULL},
};

const lg_plugin livegate_plugin = {
    .abi_version = LG_PLUGIN_ABI_VERSION,
    .name = "sysmetrics",
    .kind = LG_PLUGIN_SOURCE,
    .description = "Host CPU, memory, load, network and disk metrics read from /proc",
    .options = sysmetrics_options,
    .config_size = sizeof(sysmetrics_config),
    .init = sysmetrics_init,
    .start = sysmetrics_start,
    .stop = sysmetrics_stop,
    .destroy = sysmetrics_destroy,
};
