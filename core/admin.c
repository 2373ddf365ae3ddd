/* Admin API handlers: bearer token check, health, stats, channels and publishing. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "admin.h"
#include "alloc.h"
#include "clock.h"
#include "format.h"
#include "gateway.h"
#include "log.h"
#include "lua_script.h"
#include "names.h"
#include "publish_via.h"
#include "source_hooks.h"
#include "stats.h"

#define LG_ADMIN_CHANNELS_PREFIX "/api/channels/"
#define LG_ADMIN_EVENTS_SUFFIX "/events"

void lg_admin_respond_json(lg_http_request *req, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    size_t len = strlen(text);

    lg_http_respond(req, status, "application/json", text, len);
    free(text);
    json_decref(body);
}

/* Return 1 when HOST (a Host header value) names this machine by a loopback
 * address or "localhost", with or without a port. */
static int lg_admin_host_is_local(const char *host)
{
    static const char *const names[] = {"127.0.0.1", "localhost", "[::1]", NULL};

    for (int i = 0; names[i] != NULL; i++) {
        size_t len = strlen(names[i]);

        if (strncasecmp(host, names[i], len) == 0 && (host[len] == '\0' || host[len] == ':'))
            return 1;
    }
    return 0;
}

/* Check where the request comes from. Browsers send Origin with every
 * cross-site request that could change state, so a page that is not
 * allowed is rejected. Without a token, a Host that is not loopback means
 * the request came through a name that resolves here (DNS rebinding). */
static int lg_admin_check_origin(lg_http_request *req, const lg_admin_settings *admin)
{
    const char *origin = lg_http_request_header(req, "Origin");
    const char *host = lg_http_request_header(req, "Host");

    if (origin != NULL) {
        int allowed = 0;

        for (size_t i = 0; i < admin->allowed_origins.count; i++)
            allowed = allowed || strcasecmp(admin->allowed_origins.items[i], origin) == 0;
        if (!allowed) {
            LG_LOG_WARN("admin", "%s %s from %s: rejected request from web page %s", lg_http_request_method(req),
                        lg_http_request_path(req), lg_http_request_peer(req), origin);
            lg_http_respond_error(req, 403,
                                  "the admin API does not accept requests from web page %s: add it to "
                                  "server.admin.allowed_origins",
                                  origin);
            return 0;
        }
    }

    if ((admin->token == NULL || admin->token[0] == '\0') && host != NULL && !lg_admin_host_is_local(host)) {
        LG_LOG_WARN("admin", "%s %s from %s: rejected Host %s", lg_http_request_method(req), lg_http_request_path(req),
                    lg_http_request_peer(req), host);
        lg_http_respond_error(req, 403,
                              "Host %s is not a loopback address: without server.admin.token the admin API answers "
                              "only to 127.0.0.1, [::1] and localhost",
                              host);
        return 0;
    }
    return 1;
}

/* Check the origin, then the bearer token when one is configured. Returns 1
 * when the request may go on; otherwise the error response has been sent.
 * The token comparison takes the same time whatever the number of matching
 * bytes, and the scheme name is case-insensitive. */
static int lg_admin_authorize(lg_http_request *req)
{
    lg_gateway *gateway = lg_http_request_context(req);
    const lg_admin_settings *admin = &gateway->settings->server.admin;
    const char *token = admin->token;
    const char *header;
    size_t token_len;

    if (!lg_admin_check_origin(req, admin))
        return 0;
    if (token == NULL || token[0] == '\0')
        return 1;

    header = lg_http_request_header(req, "Authorization");
    token_len = strlen(token);
    if (header != NULL && strncasecmp(header, "Bearer ", 7) == 0 && strlen(header + 7) == token_len &&
        CRYPTO_memcmp(header + 7, token, token_len) == 0)
        return 1;

    LG_LOG_WARN("admin", "%s %s from %s: %s bearer token", lg_http_request_method(req), lg_http_request_path(req),
                lg_http_request_peer(req), header == NULL ? "missing" : "invalid");
    lg_http_add_header(req, "WWW-Authenticate", "Bearer realm=\"livegate\"");
    lg_http_respond_error(req, 401, "missing or invalid bearer token: send Authorization: Bearer <server.admin.token>");
    return 0;
}

/* ---- health ---- */

static void lg_admin_health(lg_http_request *req, void *arg)
{
    lg_gateway *gateway = arg;
    json_t *body = json_object();
    json_t *sources = json_array();
    json_t *failing = json_array();
    lg_health worst = LG_HEALTH_OK;

    if (!lg_admin_authorize(req))
        goto done;

    for (size_t i = 0; i < gateway->source_count; i++) {
        lg_instance *source = gateway->sources[i];
        json_t *item = json_pack("{s:s, s:s, s:s}", "name", source->name, "type", source->type, "status",
                                 lg_health_name(source->health));

        if (source->health_reason != NULL && source->health != LG_HEALTH_OK)
            json_object_set_new(item, "reason", json_string(source->health_reason));
        json_array_append_new(sources, item);
        if (source->health != LG_HEALTH_OK)
            json_array_append_new(failing, json_string(source->name));
        if (source->health > worst)
            worst = source->health;
    }

    for (size_t i = 0; gateway->scripts != NULL && i < gateway->settings->channels.count; i++) {
        lg_script *script = gateway->scripts[i];

        if (script == NULL || !lg_script_disabled(script))
            continue;
        json_array_append_new(failing, json_sprintf("script:%s", lg_script_path(script)));
        if (worst < LG_HEALTH_DEGRADED)
            worst = LG_HEALTH_DEGRADED;
    }

    json_object_set_new(body, "status", json_string(lg_health_name(worst)));
    json_object_set_new(body, "sources", sources);
    json_object_set_new(body, "failing", failing);
    sources = failing = NULL;
    lg_admin_respond_json(req, worst == LG_HEALTH_OK ? 200 : 503, body);
    return;

done:
    json_decref(sources);
    json_decref(failing);
    json_decref(body);
}

/* ---- stats ---- */

static json_t *lg_admin_totals_json(lg_gateway *gateway, const lg_totals *totals)
{
    json_t *connections = json_object();
    json_t *dropped = json_object();

    for (int f = 0; f < lg_format_count(); f++)
        json_object_set_new(connections, lg_format_name(f), json_integer((json_int_t)totals->connections[f]));
    for (int r = 0; r < LG_DROP_REASON_COUNT; r++)
        json_object_set_new(dropped, lg_drop_reason_name((lg_drop_reason)r), json_integer((json_int_t)totals->dropped[r]));

    return json_pack("{s:o, s:I, s:I, s:I, s:I, s:o}", "connections", connections, "http_connections",
                     (json_int_t)totals->http_connections, "events_in", (json_int_t)gateway->hub->events_in,
                     "events_out", (json_int_t)totals->events_out, "queued_bytes", (json_int_t)totals->queued_bytes,
                     "dropped", dropped);
}

static json_t *lg_admin_scripts_json(lg_gateway *gateway)
{
    const lg_rule *rules = gateway->settings->channels.items;
    json_t *list = json_array();

    for (size_t i = 0; gateway->scripts != NULL && i < gateway->settings->channels.count; i++) {
        lg_script *script = gateway->scripts[i];
        const char *last_error;

        if (script == NULL)
            continue;
        last_error = lg_script_last_error(script);
        json_array_append_new(list, json_pack("{s:s, s:s, s:I, s:I, s:b, s:I, s:s?}", "path", lg_script_path(script),
                                              "match", rules[i].match, "calls", (json_int_t)lg_script_calls(script),
                                              "errors", (json_int_t)lg_script_errors(script), "disabled",
                                              lg_script_disabled(script), "memory_bytes",
                                              (json_int_t)lg_script_memory(script), "last_error", last_error));
    }
    return list;
}

json_t *lg_admin_stats(lg_gateway *gateway)
{
    int64_t now_ms = lg_clock_wall_ms();
    json_t *sources = json_array();
    json_t *stats;
    lg_totals totals;

    lg_stats_collect(gateway, &totals);
    for (size_t i = 0; i < gateway->source_count; i++) {
        lg_instance *source = gateway->sources[i];
        json_t *counters = json_object();

        for (lg_instance_counter *counter = source->counters; counter != NULL; counter = counter->next) {
            if (!counter->gauge)
                json_object_set_new(counters, counter->name, json_integer((json_int_t)counter->value));
        }
        json_array_append_new(sources, json_pack("{s:s, s:s, s:s, s:o}", "name", source->name, "type", source->type,
                                                 "status", lg_health_name(source->health), "counters", counters));
    }

    stats = lg_admin_totals_json(gateway, &totals);
    json_object_set_new(stats, "version", json_string(PACKAGE_VERSION));
    json_object_set_new(stats, "uptime_ms", json_integer(now_ms - gateway->started_ms));
    json_object_set_new(stats, "workers", json_integer((json_int_t)gateway->worker_count));
    json_object_set_new(stats, "channels", json_integer((json_int_t)gateway->hub->channel_count));
    json_object_set_new(stats, "epoch", json_string(gateway->hub->epoch));
    json_object_set_new(stats, "sources", sources);
    json_object_set_new(stats, "scripts", lg_admin_scripts_json(gateway));
    json_object_set_new(stats, "config", json_pack("{s:s, s:I, s:I}", "path", gateway->settings->path, "version",
                                                   (json_int_t)gateway->config_version, "loaded_at_ms",
                                                   (json_int_t)gateway->config_loaded_ms));
    json_object_set_new(stats, "listeners", json_pack("{s:s, s:s}", "public", gateway->public_address, "admin",
                                                      gateway->admin_address));
    return stats;
}

static void lg_admin_get_stats(lg_http_request *req, void *arg)
{
    if (!lg_admin_authorize(req))
        return;
    lg_admin_respond_json(req, 200, lg_admin_stats(arg));
}

static void lg_admin_get_metrics(lg_http_request *req, void *arg)
{
    lg_buf out = LG_BUF_INIT;

    if (!lg_admin_authorize(req))
        return;
    lg_metrics_render(arg, &out);
    lg_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
    lg_buf_free(&out);
}

/* ---- channels ---- */

static json_t *lg_admin_channel_json(const lg_channel *channel)
{
    json_t *dropped = json_object();

    for (int r = 0; r < LG_DROP_REASON_COUNT; r++)
        json_object_set_new(dropped, lg_drop_reason_name((lg_drop_reason)r),
                            json_integer((json_int_t)atomic_load_explicit(&channel->dropped[r], memory_order_relaxed)));

    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s?, s:s, s:s, s:o, s:I, s:I, s:I}", "name", channel->name, "rule",
                     channel->rule->match, "subscribers", (json_int_t)channel->subscribers, "events_in",
                     (json_int_t)channel->events_in, "events_out",
                     (json_int_t)atomic_load_explicit(&channel->events_out, memory_order_relaxed), "history",
                     (json_int_t)channel->history.count, "snapshot_keys",
                     (json_int_t)lg_snapshot_key_count(&channel->snapshot), "last_id", channel->last_id, "snapshot",
                     lg_snapshot_mode_name(channel->rule->snapshot), "overflow",
                     lg_overflow_policy_name(channel->rule->overflow), "dropped", dropped, "script_errors",
                     (json_int_t)channel->script_errors, "script_dropped", (json_int_t)channel->script_dropped,
                     "duplicates", (json_int_t)channel->duplicates);
}

static void lg_admin_list_channels(lg_http_request *req, void *arg)
{
    lg_gateway *gateway = arg;
    json_t *list = json_array();
    const lg_channel *channel;

    if (!lg_admin_authorize(req)) {
        json_decref(list);
        return;
    }
    for (channel = gateway->hub->channels; channel != NULL; channel = channel->hh.next)
        json_array_append_new(list, lg_admin_channel_json(channel));
    lg_admin_respond_json(req, 200, json_pack("{s:o}", "channels", list));
}

/* GET /api/channels/NAME/events/ID: one event from the channel's history,
 * found by its id or its origin, as its SSE envelope, so that another node
 * can fetch the payload that an id-only notification refers to. */
static void lg_admin_get_event(lg_http_request *req, lg_gateway *gateway, const char *name, const char *id)
{
    lg_channel *channel = lg_hub_find_channel(gateway->hub, name);
    lg_event *event = NULL;
    uint64_t seq;
    lg_buf envelope = LG_BUF_INIT;

    if (channel == NULL) {
        lg_http_respond_error(req, 404, "channel '%s' not found: it has had no events or subscribers yet", name);
        return;
    }
    lg_channel_expire(channel, lg_clock_monotonic_ms());
    if (lg_hub_parse_id(gateway->hub, id, &seq) == 0)
        event = lg_history_find(&channel->history, seq);
    else if ((event = lg_history_find_id(&channel->history, id)) == NULL)
        event = lg_history_find_origin(&channel->history, id);
    if (event == NULL) {
        lg_http_respond_error(req, 404, "event '%s' not found in the history of channel '%s': the id is unknown, "
                                        "from another run, or its event was evicted",
                              id, name);
        return;
    }
    if (event->type != NULL) {
        lg_buf extra = LG_BUF_INIT;

        lg_buf_append_str(&extra, "\"event\":");
        lg_buf_append_json_string(&extra, event->type, strlen(event->type));
        lg_format_append_envelope(event, extra.data, &envelope);
        lg_buf_free(&extra);
    } else {
        lg_format_append_envelope(event, NULL, &envelope);
    }
    lg_http_respond(req, 200, "application/json", envelope.data, envelope.len);
    lg_buf_free(&envelope);
}

/* Split PATH ("NAME/events/ID") into the channel NAME and the event ID
 * (pointing into PATH). Returns the name (to free), or NULL when PATH has
 * no such form. */
static char *lg_admin_event_path(const char *path, const char **id)
{
    const char *marker = NULL;

    for (const char *p = strstr(path, "/events/"); p != NULL; p = strstr(p + 1, "/events/"))
        marker = p;
    if (marker == NULL || marker == path || marker[8] == '\0' || strchr(marker + 8, '/') != NULL)
        return NULL;
    *id = marker + 8;
    return lg_strndup(path, (size_t)(marker - path));
}

static void lg_admin_get_channel(lg_http_request *req, lg_gateway *gateway, const char *name)
{
    lg_channel *channel = lg_hub_find_channel(gateway->hub, name);

    if (channel == NULL) {
        lg_http_respond_error(req, 404, "channel '%s' not found: it has had no events or subscribers yet", name);
        return;
    }
    lg_admin_respond_json(req, 200, lg_admin_channel_json(channel));
}

/* Read the optional "key" and "type" query parameters of a publish request.
 * Returns 0, or -1 after sending a 400 response. */
static int lg_admin_publish_options(lg_http_request *req, char **key, char **type)
{
    lg_error err;

    *key = lg_http_query_param(req, "key", 0);
    *type = lg_http_query_param(req, "type", 0);
    if (*type != NULL && lg_event_type_check(*type, &err) < 0) {
        lg_http_respond_error(req, 400, "invalid type parameter: %s", err.message);
        return -1;
    }
    if (*key != NULL && lg_event_key_check(*key, &err) < 0) {
        lg_http_respond_error(req, 400, "invalid key parameter: %s", err.message);
        return -1;
    }
    return 0;
}

static void lg_admin_publish(lg_http_request *req, lg_gateway *gateway, const char *name)
{
    const lg_rule *rule;
    lg_publish_result result;
    lg_event *event;
    const void *body;
    size_t body_len;
    char *key = NULL;
    char *type = NULL;
    lg_error err;
    int status;

    if (lg_channel_name_check(name, &err) < 0) {
        lg_http_respond_error(req, 400, "%s", err.message);
        return;
    }
    rule = lg_rules_find(gateway->settings->channels.items, gateway->settings->channels.count, name);
    if (rule == NULL) {
        lg_http_respond_error(req, 404, "channel '%s' not found: no channel rule matches it", name);
        return;
    }
    if (!rule->publish) {
        lg_http_respond_error(req, 403, "publishing to channel '%s' is not allowed: rule '%s' needs publish: true",
                              name, rule->match);
        return;
    }
    if (lg_admin_publish_options(req, &key, &type) < 0)
        goto done;

    body = lg_http_request_body(req, &body_len);
    if (body_len == 0) {
        lg_http_respond_error(req, 400, "the request body is empty: send the event data as the body");
        goto done;
    }
    if (!lg_utf8_is_valid(body, body_len)) {
        lg_http_respond_error(req, 400, "the request body is not valid UTF-8: send JSON or UTF-8 text");
        goto done;
    }

    event = lg_event_new(key, type, body, body_len, 0);
    if (rule->publish_via != NULL) {
        lg_publish_via(req, gateway, rule, name, event);
        goto done;
    }
    if (lg_source_hooks_publish(gateway, name, event, &result, &status, &err) < 0) {
        lg_http_respond_error(req, status, "%s", err.message);
        goto done;
    }

    /* 202 tells that the channel's script dropped the event. */
    if (result.count == 0)
        lg_admin_respond_json(req, 202, json_pack("{s:s, s:b}", "channel", result.channel->name, "dropped", 1));
    else
        lg_admin_respond_json(req, 201, json_pack("{s:s, s:s, s:I}", "channel", result.channel->name, "id",
                                                  result.last_id, "count", (json_int_t)result.count));

done:
    free(key);
    free(type);
}

/* Route /api/channels/NAME (GET), /api/channels/NAME/events/ID (GET) and
 * /api/channels/NAME/events (POST). */
static void lg_admin_channel_path(lg_http_request *req, void *arg)
{
    lg_gateway *gateway = arg;
    const char *path = lg_http_request_path(req);
    const char *method = lg_http_request_method(req);
    size_t suffix_len = strlen(LG_ADMIN_EVENTS_SUFFIX);
    const char *id;
    char *name;
    size_t len;

    if (!lg_admin_authorize(req))
        return;

    path += strlen(LG_ADMIN_CHANNELS_PREFIX);
    len = strlen(path);
    if (strcmp(method, "POST") == 0) {
        if (len <= suffix_len || strcmp(path + len - suffix_len, LG_ADMIN_EVENTS_SUFFIX) != 0) {
            lg_http_respond_error(req, 404, "not found: publish with POST /api/channels/{name}/events");
            return;
        }
        name = lg_strndup(path, len - suffix_len);
        lg_admin_publish(req, gateway, name);
    } else if (lg_hub_find_channel(gateway->hub, path) == NULL && (name = lg_admin_event_path(path, &id)) != NULL) {
        lg_admin_get_event(req, gateway, name, id);
    } else {
        name = lg_strdup(path);
        lg_admin_get_channel(req, gateway, name);
    }
    free(name);
}

static void lg_admin_reload(lg_http_request *req, void *arg)
{
    lg_gateway *gateway = arg;
    json_t *warnings;
    lg_error err;

    if (!lg_admin_authorize(req))
        return;
    if (lg_gateway_reload(gateway, &warnings, &err) < 0) {
        LG_LOG_ERROR("admin", "reload requested by %s failed, the running configuration stays: %s",
                     lg_http_request_peer(req), err.message);
        lg_http_respond_error(req, 400, "reload failed, the running configuration stays: %s", err.message);
        return;
    }
    lg_admin_respond_json(req, 200, json_pack("{s:s, s:I, s:I, s:o}", "config", gateway->settings->path, "version",
                                              (json_int_t)gateway->config_version, "loaded_at_ms",
                                              (json_int_t)gateway->config_loaded_ms, "warnings", warnings));
}

void lg_admin_add_routes(lg_gateway *gateway, lg_http_routes *routes)
{
    lg_http_routes_add(routes, "GET", "/health", 0, lg_admin_health, gateway);
    lg_http_routes_add(routes, "GET", "/api/stats", 0, lg_admin_get_stats, gateway);
    lg_http_routes_add(routes, "GET", "/metrics", 0, lg_admin_get_metrics, gateway);
    lg_http_routes_add(routes, "GET", "/api/channels", 0, lg_admin_list_channels, gateway);
    lg_http_routes_add(routes, "GET", LG_ADMIN_CHANNELS_PREFIX, LG_HTTP_ROUTE_PREFIX, lg_admin_channel_path, gateway);
    lg_http_routes_add(routes, "POST", LG_ADMIN_CHANNELS_PREFIX, LG_HTTP_ROUTE_PREFIX, lg_admin_channel_path, gateway);
    lg_http_routes_add(routes, "POST", "/api/reload", 0, lg_admin_reload, gateway);
}
