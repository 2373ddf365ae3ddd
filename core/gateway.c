/* Gateway lifecycle: plugins and instances, listeners, threads, signals and the ordered shutdown. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "alloc.h"
#include "clock.h"
#include "format.h"
#include "gateway.h"
#include "log.h"
#include "lua_script.h"
#include "publish_via.h"
#include "rule_scripts.h"
#include "source_hooks.h"
#include "stats_channel.h"

lg_instance *lg_gateway_create_instance(lg_gateway *gateway, const lg_plugin_settings *item, lg_plugin_kind kind,
                                        lg_error *err)
{
    const lg_plugin *plugin = lg_module_load(&gateway->modules, item->type, kind, err);

    if (plugin == NULL) {
        const lg_conf_node *node = lg_conf_map_get(item->node, "type", NULL);

        lg_error_prefix(err, "%s:%u:%u: %s '%s'", node->file, node->line, node->column, lg_plugin_kind_name(kind),
                        item->name);
        return NULL;
    }
    return lg_instance_create(gateway, plugin, item, err);
}

static int lg_gateway_create_instances(lg_gateway *gateway, lg_error *err)
{
    lg_settings *settings = gateway->settings;

    gateway->sources = lg_calloc(settings->source_count, sizeof(*gateway->sources));
    for (size_t i = 0; i < settings->source_count; i++) {
        gateway->sources[i] = lg_gateway_create_instance(gateway, &settings->sources[i], LG_PLUGIN_SOURCE, err);
        if (gateway->sources[i] == NULL)
            return -1;
        gateway->source_count++;
    }

    gateway->sinks = lg_calloc(settings->sink_count, sizeof(*gateway->sinks));
    for (size_t i = 0; i < settings->sink_count; i++) {
        gateway->sinks[i] = lg_gateway_create_instance(gateway, &settings->sinks[i], LG_PLUGIN_SINK, err);
        if (gateway->sinks[i] == NULL)
            return -1;
        gateway->sink_count++;
    }
    return 0;
}

static void lg_gateway_serve_static(lg_http_request *req, void *arg)
{
    lg_gateway *gateway = arg;

    lg_http_serve_file(req, gateway->web_root);
}

static void lg_gateway_set_limits(lg_gateway *gateway)
{
    const lg_limit_settings *limits = &gateway->settings->server.limits;
    lg_http_limits *pub = &gateway->public_limits;

    pub->max_request_line_bytes = (size_t)limits->max_request_line_bytes;
    pub->max_header_count = (size_t)limits->max_header_count;
    pub->max_header_bytes = (size_t)limits->max_header_bytes;
    pub->max_body_bytes = (size_t)limits->max_body_bytes;
    pub->max_connections = (size_t)limits->max_connections;
    pub->idle_timeout_ms = limits->idle_timeout_ms;
    pub->request_timeout_ms = limits->request_timeout_ms;

    gateway->admin_limits = *pub;
    gateway->admin_limits.max_connections = 0;

    gateway->ruleset = lg_calloc(1, sizeof(*gateway->ruleset));
    gateway->ruleset->rules = gateway->settings->channels.items;
    gateway->ruleset->count = gateway->settings->channels.count;
    atomic_init(&gateway->worker_settings.ruleset, gateway->ruleset);
    gateway->worker_settings.client_queue_bytes = (size_t)limits->client_queue_bytes;
    gateway->worker_settings.max_subscriptions = (size_t)limits->max_subscriptions;
    gateway->worker_settings.flush_timeout_ms = gateway->settings->server.shutdown_timeout_ms;
    gateway->worker_settings.send_timeout_ms = limits->send_timeout_ms;
    lg_address_limit_init(&gateway->address_limit, (size_t)limits->max_streams_per_address);
    gateway->worker_settings.address_limit = &gateway->address_limit;
}

/* Return server.plugin_dir resolved. When it is the installed default and
 * livegate is not installed, the build tree's modules/ is used instead. */
static char *lg_gateway_default_plugin_dir(const lg_settings *settings)
{
    const char *configured = settings->server.plugin_dir;
    struct stat st;

    if (strcmp(configured, LG_PLUGIN_DIR) == 0 && stat(LG_PLUGIN_DIR, &st) < 0 &&
        stat(LG_BUILD_PLUGIN_DIR, &st) == 0) {
        LG_LOG_INFO("core", "%s does not exist; using the plugins of the build tree in %s", LG_PLUGIN_DIR,
                    LG_BUILD_PLUGIN_DIR);
        return lg_strdup(LG_BUILD_PLUGIN_DIR);
    }
    return lg_settings_resolve_path(settings, configured);
}

static void lg_gateway_script_emit(void *arg, const char *channel, lg_event *event, unsigned hops)
{
    lg_gateway *gateway = arg;

    /* Without a hub (livegate -t) nothing is published. */
    if (gateway->hub == NULL) {
        lg_event_unref(event);
        return;
    }
    lg_hub_emit(gateway->hub, channel, event, hops);
}

static void lg_gateway_script_flush(void *arg)
{
    lg_gateway *gateway = arg;

    if (gateway->hub != NULL && !gateway->hub->publishing)
        lg_hub_flush_emits(gateway->hub);
}

/* Compile the scripts of SETTINGS with the gateway as their host, so that
 * -t reports script errors and neither a start nor a reload runs with a
 * broken script. */
int lg_gateway_load_scripts(lg_gateway *gateway, const lg_settings *settings, lg_script ***scripts, lg_error *err)
{
    lg_script_host host = {
        .base = gateway->base, .emit = lg_gateway_script_emit, .flush = lg_gateway_script_flush, .arg = gateway};

    return lg_rule_scripts_load(settings, &host, scripts, err);
}

lg_gateway *lg_gateway_new(lg_settings *settings, const char *plugin_dir, lg_error *err)
{
    lg_gateway *gateway = lg_calloc(1, sizeof(*gateway));
    char *dir;

    gateway->settings = settings;
    gateway->start_settings = settings;
    gateway->started_ms = lg_clock_wall_ms();
    gateway->config_loaded_ms = gateway->started_ms;
    gateway->config_version = 1;
    atomic_init(&gateway->public_connections, 0);
    atomic_init(&gateway->admin_connections, 0);

    gateway->base = event_base_new();
    if (gateway->base == NULL) {
        lg_error_set(err, "event_base_new failed");
        goto fail;
    }

    /* A directory from the command line is relative to the working
     * directory, one from the file relative to the file. */
    dir = plugin_dir != NULL ? lg_strdup(plugin_dir) : lg_gateway_default_plugin_dir(settings);
    lg_module_set_init(&gateway->modules, dir);
    free(dir);
    if (settings->server.web_root != NULL && settings->server.web_root[0] != '\0')
        gateway->web_root = lg_settings_resolve_path(settings, settings->server.web_root);

    gateway->public_routes = lg_http_routes_new();
    gateway->admin_routes = lg_http_routes_new();
    lg_gateway_set_limits(gateway);

    if (lg_gateway_create_instances(gateway, err) < 0)
        goto fail;
    if (lg_gateway_load_scripts(gateway, settings, &gateway->scripts, err) < 0)
        goto fail;
    if (lg_publish_via_check(gateway, settings, err) < 0)
        goto fail;

    if (gateway->web_root != NULL)
        lg_http_routes_add(gateway->public_routes, "GET", "/", LG_HTTP_ROUTE_PREFIX, lg_gateway_serve_static, gateway);
    lg_admin_add_routes(gateway, gateway->admin_routes);
    return gateway;

fail:
    lg_gateway_free(gateway);
    return NULL;
}

static size_t lg_gateway_worker_count(const lg_gateway *gateway)
{
    long cores;

    if (gateway->settings->server.workers > 0)
        return (size_t)gateway->settings->server.workers;
    cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores > 0 ? (size_t)cores : 1;
}

/* Bind one SO_REUSEPORT socket per worker on the public address. With port
 * 0, the first socket picks the port and the others reuse it. */
static int lg_gateway_bind_public(lg_gateway *gateway, evutil_socket_t *fds, size_t count, lg_error *err)
{
    const char *address = gateway->settings->server.listen;
    const char *port = strrchr(address, ':');
    char *resolved = NULL;
    evutil_socket_t probe;
    int rc = 0;

    /* SO_REUSEPORT would let this process share a port that another
     * livegate already serves, splitting its clients between the two. A
     * plain bind first fails with "address in use" in that case. */
    if (port != NULL && strcmp(port, ":0") != 0) {
        probe = lg_http_listen(address, 0, err);
        if (probe < 0)
            return -1;
        evutil_closesocket(probe);
    }

    for (size_t i = 0; i < count; i++) {
        fds[i] = lg_http_listen(resolved != NULL ? resolved : address, 1, err);
        if (fds[i] < 0) {
            rc = -1;
            break;
        }
        if (i == 0) {
            lg_http_socket_address(fds[0], gateway->public_address, sizeof(gateway->public_address));
            resolved = lg_strdup(gateway->public_address);
        }
    }
    free(resolved);
    return rc;
}

static int lg_gateway_start_workers(lg_gateway *gateway, lg_error *err)
{
    size_t count = lg_gateway_worker_count(gateway);
    evutil_socket_t *fds = lg_calloc(count, sizeof(*fds));
    int rc = -1;

    for (size_t i = 0; i < count; i++)
        fds[i] = -1;
    if (lg_gateway_bind_public(gateway, fds, count, err) < 0)
        goto done;

    gateway->workers = lg_calloc(count, sizeof(*gateway->workers));
    lg_hub_set_workers(gateway->hub, gateway->workers, count);
    for (size_t i = 0; i < count; i++) {
        gateway->workers[i] = lg_worker_new(i, gateway->hub, &gateway->worker_settings, fds[i],
                                            gateway->public_routes, &gateway->public_limits,
                                            &gateway->public_connections, err);
        fds[i] = -1;
        if (gateway->workers[i] == NULL)
            goto done;
        gateway->worker_count++;
    }

    for (size_t i = 0; i < count; i++) {
        if (lg_worker_start(gateway->workers[i], err) < 0)
            goto done;
    }
    rc = 0;

done:
    for (size_t i = 0; i < count; i++) {
        if (fds[i] >= 0)
            evutil_closesocket(fds[i]);
    }
    free(fds);
    return rc;
}

static int lg_gateway_start_admin(lg_gateway *gateway, lg_error *err)
{
    evutil_socket_t fd = lg_http_listen(gateway->settings->server.admin.listen, 0, err);

    if (fd < 0)
        return -1;
    lg_http_socket_address(fd, gateway->admin_address, sizeof(gateway->admin_address));
    gateway->admin = lg_http_server_new(gateway->base, fd, gateway->admin_routes, &gateway->admin_limits,
                                        &gateway->admin_connections, "admin", err);
    if (gateway->admin == NULL)
        return -1;
    lg_http_server_set_context(gateway->admin, gateway);
    return 0;
}

static int lg_gateway_start_sources(lg_gateway *gateway, lg_error *err)
{
    for (size_t i = 0; i < gateway->source_count; i++) {
        lg_instance *source = gateway->sources[i];

        if (source->plugin->start != NULL && source->plugin->start(source, err) < 0)
            return lg_error_prefix(err, "cannot start source '%s' (%s)", source->name, source->type);
        source->started = 1;
        LG_LOG_INFO(source->scope, "started");
        lg_source_hooks_replay(gateway, source);
    }
    for (size_t i = 0; i < gateway->sink_count; i++) {
        lg_instance *sink = gateway->sinks[i];

        if (sink->plugin->start != NULL && sink->plugin->start(sink, err) < 0)
            return lg_error_prefix(err, "cannot start sink '%s' (%s)", sink->name, sink->type);
        sink->started = 1;
    }
    return 0;
}

static void lg_gateway_stop_instances(lg_instance **instances, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        lg_instance *instance = instances[i];

        if (!instance->started)
            continue;
        if (instance->plugin->stop != NULL)
            instance->plugin->stop(instance);
        instance->started = 0;
        LG_LOG_INFO(instance->scope, "stopped");
    }
}

static void lg_gateway_on_workers_stopped(void *arg)
{
    lg_gateway *gateway = arg;

    LG_LOG_INFO("core", "all client connections are closed");
    event_base_loopexit(gateway->base, NULL);
}

void lg_gateway_stop(lg_gateway *gateway)
{
    if (gateway->stopping)
        return;
    gateway->stopping = 1;

    LG_LOG_INFO("core", "stopping: closing listeners and client connections (timeout %lld ms)",
                (long long)gateway->settings->server.shutdown_timeout_ms);
    if (gateway->admin != NULL)
        lg_http_server_stop_accepting(gateway->admin);
    /* A resume that waits for a read-back gets no reset now: its client
     * reconnects elsewhere with the id it has. */
    gateway->hub->stopping = 1;
    lg_gateway_stop_instances(gateway->sources, gateway->source_count);
    lg_stats_channel_stop(gateway);
    lg_hub_shutdown_workers(gateway->hub, gateway->settings->server.shutdown_timeout_ms, lg_gateway_on_workers_stopped,
                            gateway);
}

/* SIGHUP: reopen the log file (for rotation), then reload the configuration. */
static void lg_gateway_on_hangup(lg_gateway *gateway)
{
    json_t *warnings = NULL;
    size_t index;
    json_t *warning;
    lg_error err;
    int reopened;

    reopened = lg_log_reopen();
    if (reopened < 0) {
        /* The old file may be gone, so say it on standard error too. */
        fprintf(stderr, "livegate: SIGHUP: cannot reopen the log file: %s\n", strerror(errno));
        LG_LOG_ERROR("core", "SIGHUP: cannot reopen the log file: %s", strerror(errno));
    } else if (reopened > 0) {
        LG_LOG_INFO("core", "SIGHUP: log file reopened");
    }

    if (lg_gateway_reload(gateway, &warnings, &err) < 0) {
        LG_LOG_ERROR("core", "SIGHUP: reload failed, the running configuration stays: %s", err.message);
        return;
    }
    json_array_foreach(warnings, index, warning)
    {
        LG_LOG_WARN("core", "SIGHUP: %s", json_string_value(warning));
    }
    json_decref(warnings);
}

static void lg_gateway_on_signal(evutil_socket_t signum, short what, void *arg)
{
    lg_gateway *gateway = arg;

    if (signum == SIGHUP) {
        lg_gateway_on_hangup(gateway);
        return;
    }


    LG_LOG_INFO("core", "received %s", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    if (gateway->stopping) {
        LG_LOG_WARN("core", "already stopping; connections are cut when the shutdown timeout passes");
        return;
    }
    lg_gateway_stop(gateway);
}

static void lg_gateway_watch_signals(lg_gateway *gateway)
{
    static const int watched[] = {SIGTERM, SIGINT, SIGHUP};

    for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++) {
        gateway->signals[i] = evsignal_new(gateway->base, watched[i], lg_gateway_on_signal, gateway);
        evsignal_add(gateway->signals[i], NULL);
    }
}

int lg_gateway_run(lg_gateway *gateway, lg_error *err)
{
    gateway->hub = lg_hub_new(gateway->base, gateway->settings->channels.items, gateway->settings->channels.count,
                              (size_t)gateway->settings->server.limits.max_channels, err);
    if (gateway->hub == NULL)
        return -1;
    lg_hub_set_scripts(gateway->hub, gateway->scripts);
    gateway->hub->watch = lg_source_hooks_watch;
    gateway->hub->watch_arg = gateway;
    gateway->hub->log_range = lg_source_hooks_log_range;
    gateway->hub->read_range = lg_source_hooks_read_range;
    gateway->hub->sources_arg = gateway;
    gateway->hub->resume_wait_ms = gateway->settings->server.limits.resume_wait_ms;

    lg_gateway_watch_signals(gateway);
    if (lg_gateway_start_admin(gateway, err) < 0)
        return lg_error_prefix(err, "%s: server.admin.listen", gateway->settings->path);
    if (lg_gateway_start_workers(gateway, err) < 0)
        return lg_error_prefix(err, "%s: server.listen", gateway->settings->path);

    LG_LOG_INFO("core", "public listener bound to %s (%zu workers)", gateway->public_address, gateway->worker_count);
    LG_LOG_INFO("core", "admin listener bound to %s%s", gateway->admin_address,
                gateway->settings->server.admin.token != NULL && gateway->settings->server.admin.token[0] != '\0'
                    ? " (bearer token required)"
                    : "");

    if (lg_gateway_start_sources(gateway, err) < 0)
        return -1;
    if (lg_stats_channel_start(gateway) < 0)
        return lg_error_set(err, "cannot start the timer of server.stats");

    LG_LOG_INFO("core", "livegate " PACKAGE_VERSION " running with %s", gateway->settings->path);
    event_base_dispatch(gateway->base);
    LG_LOG_INFO("core", "stopped");
    return 0;
}

static void lg_gateway_free_instances(lg_instance **instances, size_t count)
{
    for (size_t i = 0; i < count; i++)
        lg_instance_destroy(instances[i]);
    free(instances);
}

void lg_gateway_free(lg_gateway *gateway)
{
    if (gateway == NULL)
        return;

    lg_stats_channel_stop(gateway);
    lg_gateway_stop_instances(gateway->sources, gateway->source_count);
    lg_gateway_stop_instances(gateway->sinks, gateway->sink_count);

    if (gateway->admin != NULL)
        lg_http_server_free(gateway->admin);

    /* Workers stop first: their last unsubscribe messages reach the hub,
     * which drains them while it is freed. */
    if (gateway->hub != NULL && !gateway->stopping) {
        gateway->stopping = 1;
        lg_hub_shutdown_workers(gateway->hub, 0, NULL, NULL);
    }
    for (size_t i = 0; i < gateway->worker_count; i++)
        lg_worker_free(gateway->workers[i]);
    free(gateway->workers);
    lg_hub_free(gateway->hub);

    lg_gateway_free_instances(gateway->sources, gateway->source_count);
    lg_gateway_free_instances(gateway->sinks, gateway->sink_count);
    lg_rule_scripts_free(gateway->scripts, gateway->settings->channels.count);
    lg_module_set_clear(&gateway->modules);
    lg_format_reset();
    if (gateway->worker_settings.address_limit != NULL)
        lg_address_limit_destroy(&gateway->address_limit);

    for (size_t i = 0; i < sizeof(gateway->signals) / sizeof(gateway->signals[0]); i++) {
        if (gateway->signals[i] != NULL)
            event_free(gateway->signals[i]);
    }
    if (gateway->public_routes != NULL)
        lg_http_routes_free(gateway->public_routes);
    if (gateway->admin_routes != NULL)
        lg_http_routes_free(gateway->admin_routes);
    if (gateway->base != NULL)
        event_base_free(gateway->base);
    free(gateway->web_root);
    free(gateway->ruleset);
    if (gateway->start_settings != gateway->settings)
        lg_settings_free(gateway->start_settings);
    lg_settings_free(gateway->settings);
    free(gateway);
}
