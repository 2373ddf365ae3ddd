/* The gateway: everything one configuration runs, from plugin loading to shutdown. */
#ifndef LG_GATEWAY_H
#define LG_GATEWAY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "address_limit.h"
#include <jansson.h>
#include "error.h"
#include "http.h"
#include "hub.h"
#include "instance.h"
#include "plugin.h"
#include "settings.h"
#include "worker.h"

#define LG_ADDRESS_BYTES 80

typedef struct lg_gateway {
    lg_settings *settings;
    /* The settings that the listeners, sources and sinks were built from.
     * Kept until exit, because reloads compare with them and source
     * configs may point into them. */
    lg_settings *start_settings;
    struct event_base *base;
    lg_module_set modules;
    char *web_root;

    lg_instance **sources;
    size_t source_count;
    lg_instance **sinks;
    size_t sink_count;

    lg_http_routes *public_routes;
    lg_http_routes *admin_routes;
    lg_http_limits public_limits;
    lg_http_limits admin_limits;
    atomic_size_t public_connections;
    atomic_size_t admin_connections;

    struct lg_script **scripts; /* per channel rule, NULL where a rule has no script */
    lg_hub *hub;
    lg_worker **workers;
    size_t worker_count;
    lg_worker_settings worker_settings;
    lg_ruleset *ruleset; /* the rules in force, published to the workers */
    uint64_t config_version;
    lg_address_limit address_limit;
    lg_http_server *admin;

    char public_address[LG_ADDRESS_BYTES];
    char admin_address[LG_ADDRESS_BYTES];

    struct event *signals[4];
    struct event *stats_timer; /* server.stats publications, NULL when off */
    int stopping;
    int64_t started_ms;
    int64_t config_loaded_ms;
} lg_gateway;

/* Build a gateway from SETTINGS (taken over, also on failure): load every
 * plugin from PLUGIN_DIR (NULL: server.plugin_dir), parse its options and
 * call its init. Binds nothing, starts nothing, so `livegate -t` stops
 * here. Returns NULL with ERR set on the first failure. */
lg_gateway *lg_gateway_new(lg_settings *settings, const char *plugin_dir, lg_error *err);

/* Bind the listeners, start the workers and sources, and run the main event
 * loop until SIGTERM or SIGINT has closed every connection. Returns 0 after
 * a clean stop, or -1 with ERR set when start-up failed. */
int lg_gateway_run(lg_gateway *gateway, lg_error *err);

/* Stop and free everything. */
void lg_gateway_free(lg_gateway *gateway);

/* Start a graceful stop (as SIGTERM does). */
void lg_gateway_stop(lg_gateway *gateway);

/* Load the plugin of ITEM and create its instance: parse its options and
 * run its init. Returns NULL with ERR set ("FILE:LINE:COLUMN: ..."). */
lg_instance *lg_gateway_create_instance(lg_gateway *gateway, const lg_plugin_settings *item, lg_plugin_kind kind,
                                        lg_error *err);

struct lg_script;

/* Compile the scripts of SETTINGS' channel rules into *SCRIPTS (one per
 * rule, NULL where none). Returns 0, or -1 with ERR set. */
int lg_gateway_load_scripts(lg_gateway *gateway, const lg_settings *settings, struct lg_script ***scripts,
                            lg_error *err);

/* Load and compile the configuration again (SIGHUP, POST /api/reload) and
 * swap in its channel rules, scripts, log settings and admin token while
 * every client stays connected. Nothing changes unless the whole file is
 * valid and every script compiles. Returns 0 with *WARNINGS (a new JSON
 * array, may be empty) naming changed settings that need a restart, or -1
 * with ERR set ("FILE:LINE:COLUMN: reason") and the running config intact. */
int lg_gateway_reload(lg_gateway *gateway, struct json_t **warnings, lg_error *err);

#endif
