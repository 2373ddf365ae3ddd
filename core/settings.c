/* Configuration schema of the core and checks that need no plugin. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "http.h"
#include "log.h"
#include "names.h"
#include "settings.h"

#define LG_EMBEDDED_NAME "(embedded default)"

extern const char lg_default_config[];
extern const size_t lg_default_config_len;

static const char *const lg_log_level_choices[] = {"error", "warn", "info", "debug", NULL};

static const lg_option lg_admin_options[] = {
    {.name = "listen",
     .type = LG_OPT_STRING,
     .offset = offsetof(lg_admin_settings, listen),
     .default_value = "127.0.0.1:8081",
     .description = "Address of the admin listener, HOST:PORT (IPv6 in brackets). Without a token it must "
                    "be a loopback address."},
    {.name = "token",
     .type = LG_OPT_STRING,
     .offset = offsetof(lg_admin_settings, token),
     .flags = LG_OPT_SECRET,
     .description = "Bearer token that every admin request must carry (Authorization: Bearer TOKEN). Empty: "
                    "no token."},
    {.name = "allowed_origins",
     .type = LG_OPT_STRING_LIST,
     .offset = offsetof(lg_admin_settings, allowed_origins),
     .description = "Origins of web pages that may call the admin API, such as https://ops.example.com. "
                    "Requests from any other page (with an Origin header) get 403, so that a page cannot "
                    "publish through a browser on this machine."},
    {0},
};

static const lg_option lg_stats_options[] = {
    {.name = "channel",
     .type = LG_OPT_STRING,
     .offset = offsetof(lg_stats_settings, channel),
     .default_value = "livegate.stats",
     .description = "Channel that livegate's own figures are published into, for dashboards: connections by "
                    "sink, events in and out, queued bytes, drops by reason, workers, uptime, each source's "
                    "name, type and health, and each script's rule, calls, errors and state (not the config "
                    "path, the listeners, health reasons or script errors, which stay in the admin API). A "
                    "channel rule must match it; \"\" publishes nothing."},
    {.name = "interval",
     .type = LG_OPT_DURATION,
     .offset = offsetof(lg_stats_settings, interval_ms),
     .default_value = "2s",
     .min = 0,
     .max = 3600000,
     .description = "Time between two publications; 0 publishes nothing."},
    {0},
};

static const lg_option lg_log_options[] = {
    {.name = "level",
     .type = LG_OPT_ENUM,
     .offset = offsetof(lg_log_settings, level),
     .default_value = "info",
     .choices = lg_log_level_choices,
     .description = "Lowest level written to the log."},
    {.name = "file",
     .type = LG_OPT_STRING,
     .offset = offsetof(lg_log_settings, file),
     .default_value = "\"-\"",
     .description = "Log file, reopened on SIGHUP; '-' is standard error."},
    {.name = "rate_limit_burst",
     .type = LG_OPT_INT,
     .offset = offsetof(lg_log_settings, rate_limit_burst),
     .default_value = "5",
     .min = 0,
     .max = 1000000,
     .description = "Lines one log statement may write per window for each scope (such as one source) before "
                    "repeats are only counted; 0 disables rate limiting."},
    {.name = "rate_limit_window",
     .type = LG_OPT_DURATION,
     .offset = offsetof(lg_log_settings, rate_limit_window_ms),
     .default_value = "10s",
     .min = 1,
     .max = 3600000,
     .description = "Length of the rate-limiting window."},
    {0},
};

static const lg_option lg_limit_options[] = {
    {.name = "max_request_line",
     .type = LG_OPT_SIZE,
     .offset = offsetof(lg_limit_settings, max_request_line_bytes),
     .default_value = "8KiB",
     .min = 64,
     .max = 1048576,
     .description = "Maximum length of the request line (method and URL); longer ones get 414."},
    {.name = "max_header_count",
     .type = LG_OPT_INT,
     .offset = offsetof(lg_limit_settings, max_header_count),
     .default_value = "64",
     .min = 1,
     .max = 10000,
     .description = "Maximum number of header fields in one request; more get 431."},
    {.name = "max_header_size",
     .type = LG_OPT_SIZE,
     .offset = offsetof(lg_limit_settings, max_header_bytes),
     .default_value = "16KiB",
     .min = 256,
     .max = 1048576,
     .description = "Maximum bytes of header names and values in one request; more get 431."},
    {.name = "max_body_size",
     .type = LG_OPT_SIZE,
     .offset = offsetof(lg_limit_settings, max_body_bytes),
     .default_value = "1MiB",
     .min = 0,
     .max = 1073741824,
     .description = "Largest request body, such as a published event; larger ones get 413."},
    {.name = "max_connections",
     .type = LG_OPT_INT,
     .offset = offsetof(lg_limit_settings, max_connections),
     .default_value = "10000",
     .min = 0,
     .max = 10000000,
     .description = "Open connections on the public listener across all workers; more get 503. 0 is "
                    "unlimited (the open-file limit still applies)."},
    {.name = "idle_timeout",
     .type = LG_OPT_DURATION,
     .offset = offsetof(lg_limit_settings, idle_timeout_ms),
     .default_value = "60s",
     .min = 100,
     .max = 86400000,
     .description = "Keep-alive connection without a request in progress is closed after this."},
    {.name = "request_timeout",
     .type = LG_OPT_DURATION,
     .offset = offsetof(lg_limit_settings, request_timeout_ms),
     .default_value = "30s",
     .min = 100,
     .max = 3600000,
     .description = "A request not received completely within this gets 408."},
    {.name = "client_queue",
     .type = LG_OPT_SIZE,
     .offset = offsetof(lg_limit_settings, client_queue_bytes),
     .default_value = "256KiB",
     .min = 4096,
     .max = 1073741824,
     .description = "Bytes queued for one streaming client before its channels' overflow policy applies."},
    {.name = "max_streams_per_address",
     .type = LG_OPT_INT,
     .offset = offsetof(lg_limit_settings, max_streams_per_address),
     .default_value = "256",
     .min = 0,
     .max = 10000000,
     .description = "Streaming connections (SSE and WebSocket) from one client address; more get 429. 0 is "
                    "unlimited. Clients behind one proxy share an address."},
    {.name = "send_timeout",
     .type = LG_OPT_DURATION,
     .offset = offsetof(lg_limit_settings, send_timeout_ms),
     .default_value = "60s",
     .min = 1000,
     .max = 86400000,
     .description = "A streaming client that accepts no data for this long while data waits for it is "
                    "disconnected, whatever the overflow policy."},
    {.name = "max_channels",
     .type = LG_OPT_INT,
     .offset = offsetof(lg_limit_settings, max_channels),
     .default_value = "100000",
     .min = 1,
     .max = 100000000,
     .description = "Channels that may exist at once; publishing or subscribing to a new one past this fails."},
    {.name = "max_subscriptions",
     .type = LG_OPT_INT,
     .offset = offsetof(lg_limit_settings, max_subscriptions),
     .default_value = "100",
     .min = 1,
     .max = 100000,
     .description = "Channels one connection may subscribe to."},
    {.name = "resume_wait",
     .type = LG_OPT_DURATION,
     .offset = offsetof(lg_limit_settings, resume_wait_ms),
     .default_value = "5s",
     .min = 0,
     .max = 60000,
     .description = "Maximum time a resume by Kafka position id waits for this node to read as far as the "
                    "client's id, as after a client moved from a node that was ahead; after it the client gets "
                    "the reset (unknown id). 0: no wait."},
    {0},
};

static const lg_option lg_lua_options[] = {
    {.name = "instruction_budget",
     .type = LG_OPT_INT,
     .offset = offsetof(lg_lua_settings, instruction_budget),
     .default_value = "1000000",
     .min = 1000,
     .max = 1000000000,
     .description = "Lua instructions one call of a script may run (on_event, a timer callback, the top level); "
                    "a call that needs more is stopped and fails."},
    {.name = "memory_limit",
     .type = LG_OPT_SIZE,
     .offset = offsetof(lg_lua_settings, memory_bytes),
     .default_value = "32MiB",
     .min = 1048576,
     .max = 17179869184LL,
     .description = "Memory one script's Lua state may use; an allocation past it fails the running call."},
    {.name = "disable_after",
     .type = LG_OPT_INT,
     .offset = offsetof(lg_lua_settings, disable_after),
     .default_value = "100",
     .min = 0,
     .max = 100000000,
     .description = "Failed calls in a row after which a script is disabled until the next reload (its "
                    "channels then follow on_error); 0 never disables."},
    {0},
};

const lg_option lg_server_options[] = {
    {.name = "listen",
     .type = LG_OPT_STRING,
     .offset = offsetof(lg_server_settings, listen),
     .default_value = "127.0.0.1:8080",
     .description = "Address of the public listener (event streams and the dashboard), HOST:PORT; port 0 picks a "
                    "free port."},
    {.name = "workers",
     .type = LG_OPT_INT,
     .offset = offsetof(lg_server_settings, workers),
     .default_value = "0",
     .min = 0,
     .max = 64,
     .description = "Worker threads serving client connections; 0 starts one per CPU core."},
    {.name = "web_root",
     .type = LG_OPT_STRING,
     .offset = offsetof(lg_server_settings, web_root),
     .description = "Directory served at / on the public listener (the dashboard); unset serves nothing."},
    {.name = "plugin_dir",
     .type = LG_OPT_STRING,
     .offset = offsetof(lg_server_settings, plugin_dir),
     .default_value = LG_PLUGIN_DIR,
     .description = "Directory with the plugin modules (NAME.so); --plugin-dir overrides it."},
    {.name = "shutdown_timeout",
     .type = LG_OPT_DURATION,
     .offset = offsetof(lg_server_settings, shutdown_timeout_ms),
     .default_value = "5s",
     .min = 0,
     .max = 600000,
     .description = "On SIGTERM or SIGINT, time given to clients to receive their queued data before the "
                    "connections are cut."},
    {.name = "admin",
     .type = LG_OPT_TABLE,
     .offset = offsetof(lg_server_settings, admin),
     .table = lg_admin_options,
     .description = "Admin listener: health, stats, metrics, channels, publishing."},
    {.name = "log",
     .type = LG_OPT_TABLE,
     .offset = offsetof(lg_server_settings, log),
     .table = lg_log_options,
     .description = "Log destination and level."},
    {.name = "limits",
     .type = LG_OPT_TABLE,
     .offset = offsetof(lg_server_settings, limits),
     .table = lg_limit_options,
     .description = "Limits of requests, connections and queues."},
    {.name = "lua",
     .type = LG_OPT_TABLE,
     .offset = offsetof(lg_server_settings, lua),
     .table = lg_lua_options,
     .description = "Limits of the channel scripts."},
    {.name = "stats",
     .type = LG_OPT_TABLE,
     .offset = offsetof(lg_server_settings, stats),
     .table = lg_stats_options,
     .description = "livegate's own figures published into a channel."},
    {0},
};

typedef struct lg_settings_root {
    lg_server_settings server;
    lg_table_list channels;
    lg_table_list tests;
} lg_settings_root;

static const lg_option lg_test_options[] = {
    {.name = "name",
     .type = LG_OPT_STRING,
     .offset = offsetof(lg_script_test, name),
     .flags = LG_OPT_REQUIRED,
     .description = "Name printed with the result."},
    {.name = "channel",
     .type = LG_OPT_STRING,
     .offset = offsetof(lg_script_test, channel),
     .description = "Channel the inputs are published to, unless an input names its own."},
    {.name = "start_time",
     .type = LG_OPT_INT,
     .offset = offsetof(lg_script_test, start_time),
     .default_value = "0",
     .description = "The test clock at the start, in milliseconds since the Unix epoch (livegate.now)."},
    {.name = "input",
     .type = LG_OPT_NODE,
     .offset = offsetof(lg_script_test, input),
     .flags = LG_OPT_REQUIRED,
     .description = "List of steps: an event ({data, key, type, time, channel}) is published; {advance: "
                    "DURATION} moves the clock and fires the timers that fall due."},
    {.name = "expect",
     .type = LG_OPT_NODE,
     .offset = offsetof(lg_script_test, expect),
     .flags = LG_OPT_REQUIRED,
     .description = "List of the events expected to enter channels, in order; each names the fields to compare "
                    "(channel, key, type, time, data)."},
    {0},
};

static const lg_option lg_root_options[] = {
    {.name = "server",
     .type = LG_OPT_TABLE,
     .offset = offsetof(lg_settings_root, server),
     .table = lg_server_options,
     .description = "Listeners, paths, logging and limits."},
    {.name = "channels",
     .type = LG_OPT_TABLE_LIST,
     .offset = offsetof(lg_settings_root, channels),
     .table = lg_rule_options,
     .table_size = sizeof(lg_rule),
     .description = "Channel rules; the first rule whose match accepts a channel name applies."},
    {.name = "tests",
     .type = LG_OPT_TABLE_LIST,
     .offset = offsetof(lg_settings_root, tests),
     .table = lg_test_options,
     .table_size = sizeof(lg_script_test),
     .description = "Tests of the channel scripts, run by livegate test."},
    {0},
};

const lg_option *lg_test_options_table(void)
{
    return lg_test_options;
}

static char *lg_settings_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return lg_strdup(".");
    if (slash == path)
        return lg_strdup("/");
    return lg_strndup(path, (size_t)(slash - path));
}

/* Return the node under KEY in ITEM, or ITEM itself when the key is absent,
 * so that messages point at the value that is wrong. */
static const lg_conf_node *lg_settings_value_node(const lg_conf_node *item, const char *key)
{
    const lg_conf_node *value = lg_conf_map_get(item, key, NULL);

    return value != NULL ? value : item;
}

/* Return a plain scalar string of KEY in MAP, or NULL. */
static const char *lg_settings_scalar(const lg_conf_node *map, const char *key, const lg_conf_node **node)
{
    const lg_conf_node *value = lg_conf_map_get(map, key, NULL);

    *node = value;
    if (value == NULL || value->kind != LG_CONF_SCALAR)
        return NULL;
    return value->value;
}

/* Parse one "sources:" or "sinks:" item: a mapping with type: and, for
 * sources, name:. The remaining keys belong to the plugin. */
static int lg_settings_parse_plugin_item(const lg_conf_node *item, const char *section, size_t index,
                                         int name_required, lg_plugin_settings *out, lg_error *err)
{
    const lg_conf_node *node;
    const char *type;
    const char *name;

    if (item->kind != LG_CONF_MAP)
        return lg_error_set(err, "%s:%u:%u: %s[%zu]: expected a mapping with type:, got %s", item->file, item->line,
                            item->column, section, index, lg_conf_describe(item));

    type = lg_settings_scalar(item, "type", &node);
    if (type == NULL || type[0] == '\0')
        return lg_error_set(err, "%s:%u:%u: %s[%zu]: missing required option 'type' (the plugin name, such as %s)",
                            item->file, item->line, item->column, section, index,
                            name_required ? "sysmetrics" : "sse");
    for (const char *p = type; *p != '\0'; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return lg_error_set(err, "%s:%u:%u: %s[%zu]: invalid type '%s': plugin names use a-z, 0-9 and _",
                                node->file, node->line, node->column, section, index, type);
    }

    name = lg_settings_scalar(item, "name", &node);
    if (node != NULL && (name == NULL || name[0] == '\0'))
        return lg_error_set(err, "%s:%u:%u: %s[%zu]: option 'name' expects a non-empty string", node->file,
                            node->line, node->column, section, index);
    if (name == NULL && name_required)
        return lg_error_set(err, "%s:%u:%u: %s[%zu]: missing required option 'name' (a unique name for this %s)",
                            item->file, item->line, item->column, section, index, "source");
    if (name != NULL && lg_channel_name_check(name, NULL) < 0)
        return lg_error_set(err, "%s:%u:%u: %s[%zu]: invalid name '%s': use letters, digits and . _ : - @ /",
                            node->file, node->line, node->column, section, index, name);

    out->type = lg_strdup(type);
    out->name = lg_strdup(name != NULL ? name : type);
    out->node = item;
    return 0;
}

static int lg_settings_parse_plugins(const lg_conf_node *root, const char *section, int name_required,
                                     lg_plugin_settings **items, size_t *count, lg_error *err)
{
    const lg_conf_node *list = lg_conf_map_get(root, section, NULL);

    if (list == NULL || (list->kind == LG_CONF_SCALAR && list->value == NULL))
        return 0;
    if (list->kind != LG_CONF_SEQ)
        return lg_error_set(err, "%s:%u:%u: '%s' expects a list, got %s", list->file, list->line, list->column,
                            section, lg_conf_describe(list));

    *items = lg_calloc(list->count, sizeof(**items));
    for (size_t i = 0; i < list->count; i++) {
        if (lg_settings_parse_plugin_item(list->items[i], section, i, name_required, &(*items)[i], err) < 0)
            return -1;
        (*count)++;

        for (size_t j = 0; j < i; j++) {
            const lg_conf_node *name = lg_settings_value_node(list->items[i], "name");

            if (strcmp((*items)[j].name, (*items)[i].name) == 0)
                return lg_error_set(err, "%s:%u:%u: %s[%zu]: name '%s' is already used by %s[%zu] at line %u",
                                    name->file, name->line, name->column, section, i, (*items)[i].name, section, j,
                                    list->items[j]->line);
        }
    }
    return 0;
}

/* Format "FILE:LINE:COLUMN" of the value at PATH (keys from the root), or
 * "FILE" when the value comes from a default. */
static void lg_settings_position(const lg_conf_node *root, const char *const *path, char *out, size_t size)
{
    const lg_conf_node *node = root;

    for (size_t i = 0; path[i] != NULL && node != NULL; i++)
        node = lg_conf_map_get(node, path[i], NULL);
    if (node == NULL)
        snprintf(out, size, "%s", root->file);
    else
        snprintf(out, size, "%s:%u:%u", node->file, node->line, node->column);
}

/* Check "HOST:PORT" syntax; the bind itself happens later. */
static int lg_settings_check_address(const lg_conf_node *root, const char *option, const char *address,
                                     const char *const *path, lg_error *err)
{
    const char *colon = address != NULL ? strrchr(address, ':') : NULL;
    char where[512];
    char *end = NULL;
    long port;

    lg_settings_position(root, path, where, sizeof(where));
    if (colon == NULL || colon == address || colon[1] == '\0')
        return lg_error_set(err, "%s: option '%s' expects HOST:PORT such as 127.0.0.1:8080, got '%s'", where,
                            option,
                            address != NULL ? address : "");

    port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 0 || port > 65535)
        return lg_error_set(err, "%s: invalid port '%s' in '%s' (expected 0 to 65535)", where, colon + 1, address);
    return 0;
}

static int lg_settings_check(lg_settings *settings, lg_error *err)
{
    static const char *const listen_path[] = {"server", "listen", NULL};
    static const char *const admin_listen_path[] = {"server", "admin", "listen", NULL};
    const lg_conf_node *root = settings->doc->root;
    lg_server_settings *server = &settings->server;
    lg_rule *rules = settings->channels.items;
    const lg_conf_node *channels = lg_conf_map_get(root, "channels", NULL);
    char where[512];

    if (lg_settings_check_address(root, "server.listen", server->listen, listen_path, err) < 0)
        return -1;
    if (lg_settings_check_address(root, "server.admin.listen", server->admin.listen, admin_listen_path, err) < 0)
        return -1;

    if ((server->admin.token == NULL || server->admin.token[0] == '\0') &&
        !lg_http_address_is_loopback(server->admin.listen)) {
        lg_settings_position(root, admin_listen_path, where, sizeof(where));
        return lg_error_set(err,
                            "%s: server.admin.listen is '%s', which is not a loopback address, and "
                            "server.admin.token is empty: set a token or listen on 127.0.0.1 or [::1]",
                            where, server->admin.listen);
    }

    for (size_t i = 0; i < settings->channels.count; i++) {
        const lg_conf_node *item = channels->items[i];
        const lg_conf_node *rate = lg_settings_value_node(item, "max_rate");
        const lg_conf_node *match = lg_settings_value_node(item, "match");

        if (rules[i].max_rate < 0)
            return lg_error_set(err, "%s:%u:%u: channels[%zu]: option 'max_rate' must be 0 or more, got '%g'",
                                rate->file, rate->line, rate->column, i, rules[i].max_rate);
        if (rules[i].match[0] == '\0')
            return lg_error_set(err, "%s:%u:%u: channels[%zu]: option 'match' is empty", match->file, match->line,
                                match->column, i);
    }
    return 0;
}

/* Resolve server.log.file against the config's directory and check that the
 * file can be written, so that -t catches a bad path before a start does. */
static int lg_settings_check_log_file(lg_settings *settings, lg_error *err)
{
    static const char *const path[] = {"server", "log", "file", NULL};
    char *file = settings->server.log.file;
    char where[512];
    char *resolved;
    char *dir;

    if (file == NULL || file[0] == '\0' || strcmp(file, "-") == 0)
        return 0;

    resolved = lg_settings_resolve_path(settings, file);
    free(settings->server.log.file);
    settings->server.log.file = resolved;

    dir = lg_settings_dirname(resolved);
    if (access(resolved, W_OK) == 0 || (errno == ENOENT && access(dir, W_OK) == 0)) {
        free(dir);
        return 0;
    }
    free(dir);
    lg_settings_position(settings->doc->root, path, where, sizeof(where));
    return lg_error_set(err, "%s: cannot write log file %s: %s (check server.log.file)", where, resolved,
                        strerror(errno));
}

/* Check that server.web_root, when set, is a directory, so that a typo is
 * caught by -t instead of turning every page into a 404. */
static int lg_settings_check_web_root(lg_settings *settings, lg_error *err)
{
    static const char *const path[] = {"server", "web_root", NULL};
    const char *root = settings->server.web_root;
    char where[512];
    struct stat st;
    char *resolved;
    int rc = 0;

    if (root == NULL || root[0] == '\0')
        return 0;

    resolved = lg_settings_resolve_path(settings, root);
    lg_settings_position(settings->doc->root, path, where, sizeof(where));
    if (stat(resolved, &st) < 0)
        rc = lg_error_set(err, "%s: cannot use server.web_root %s: %s (point it at the dashboard, web/dist in "
                               "the source tree after scripts/run.sh builds it, or leave it unset to serve no pages)",
                          where, resolved, strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        rc = lg_error_set(err, "%s: server.web_root %s is not a directory", where, resolved);
    free(resolved);
    return rc;
}

/* Return the top-level keys the option table does not read: "sources",
 * "sinks", and extension keys starting with "x-", which hold YAML anchors
 * for reuse elsewhere in the file. The array is NULL-terminated; free it. */
static const char **lg_settings_ignored_keys(const lg_conf_node *root)
{
    const char **keys = lg_calloc(root->count + 3, sizeof(*keys));
    size_t count = 0;

    keys[count++] = "sources";
    keys[count++] = "sinks";
    for (size_t i = 0; i < root->count; i++) {
        if (strncmp(root->pairs[i].key, "x-", 2) == 0)
            keys[count++] = root->pairs[i].key;
    }
    return keys;
}

/* Check that the admin token can be sent in a header: printable ASCII
 * without spaces, so that it can ever match. */
static int lg_settings_check_token(const lg_settings *settings, lg_error *err)
{
    static const char *const path[] = {"server", "admin", "token", NULL};
    const char *token = settings->server.admin.token;
    char where[512];

    if (token == NULL)
        return 0;
    for (const char *p = token; *p != '\0'; p++) {
        if (*p <= ' ' || *p > '~') {
            lg_settings_position(settings->doc->root, path, where, sizeof(where));
            return lg_error_set(err, "%s: server.admin.token contains a space or a byte that is not printable "
                                     "ASCII, so no Authorization header could carry it",
                                where);
        }
    }
    return 0;
}

static lg_settings *lg_settings_parse(lg_conf_doc *doc, const char *path, char *base_dir, lg_error *err)
{
    const char **ignored = lg_settings_ignored_keys(doc->root);
    lg_settings *settings = lg_calloc(1, sizeof(*settings));
    lg_settings_root root = {0};
    int rc;

    settings->doc = doc;
    settings->path = lg_strdup(path);
    settings->base_dir = base_dir;

    rc = lg_options_parse(lg_root_options, doc->root, &root, ignored, "", err);
    free(ignored);
    settings->server = root.server;
    settings->channels = root.channels;
    settings->tests = root.tests;
    if (rc < 0)
        goto fail;

    if (lg_settings_parse_plugins(doc->root, "sources", 1, &settings->sources, &settings->source_count, err) < 0)
        goto fail;
    if (lg_settings_parse_plugins(doc->root, "sinks", 0, &settings->sinks, &settings->sink_count, err) < 0)
        goto fail;
    if (lg_settings_check(settings, err) < 0)
        goto fail;
    if (lg_settings_check_log_file(settings, err) < 0)
        goto fail;
    if (lg_settings_check_web_root(settings, err) < 0)
        goto fail;
    if (lg_settings_check_token(settings, err) < 0)
        goto fail;
    return settings;

fail:
    lg_settings_free(settings);
    return NULL;
}

/* Directory that the embedded default config's relative paths start from:
 * the installed conf/ when livegate is installed, else the source tree's,
 * so that an uninstalled build runs without -c too. */
static const char *lg_settings_embedded_base(void)
{
    struct stat st;

    if (stat(LG_DATA_DIR "/conf", &st) == 0 && S_ISDIR(st.st_mode))
        return LG_DATA_DIR "/conf";
    return LG_SOURCE_CONF_DIR;
}

lg_settings *lg_settings_load(const char *path, lg_error *err)
{
    lg_settings *settings;
    lg_conf_doc *doc;
    char *base_dir;

    if (path == NULL) {
        doc = lg_conf_load_string(LG_EMBEDDED_NAME, lg_default_config, lg_default_config_len, err);
        base_dir = lg_strdup(lg_settings_embedded_base());
    } else {
        doc = lg_conf_load_file(path, err);
        base_dir = lg_settings_dirname(path);
    }
    if (doc == NULL) {
        free(base_dir);
        return NULL;
    }
    settings = lg_settings_parse(doc, path != NULL ? path : LG_EMBEDDED_NAME, base_dir, err);
    if (settings != NULL)
        settings->embedded = path == NULL;
    return settings;
}

static void lg_settings_free_plugins(lg_plugin_settings *items, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(items[i].name);
        free(items[i].type);
    }
    free(items);
}

void lg_settings_free(lg_settings *settings)
{
    lg_settings_root root;

    if (settings == NULL)
        return;

    root.server = settings->server;
    root.channels = settings->channels;
    root.tests = settings->tests;
    lg_options_free(lg_root_options, &root);

    lg_settings_free_plugins(settings->sources, settings->source_count);
    lg_settings_free_plugins(settings->sinks, settings->sink_count);
    lg_conf_free(settings->doc);
    free(settings->path);
    free(settings->base_dir);
    free(settings);
}

char *lg_settings_resolve_path(const lg_settings *settings, const char *path)
{
    if (path[0] == '/')
        return lg_strdup(path);
    return lg_sprintf("%s/%s", settings->base_dir, path);
}
