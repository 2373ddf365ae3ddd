/* Configuration reload: check everything first, then swap channel rules, scripts and log settings in place. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "gateway.h"
#include "log.h"
#include "lua_script.h"
#include "publish_via.h"
#include "rule_scripts.h"

/* What the workers may still read until they pass a barrier. */
typedef struct lg_retired {
    lg_settings *settings;
    lg_ruleset *ruleset;
} lg_retired;

static void lg_reload_free_retired(void *arg)
{
    lg_retired *retired = arg;

    lg_settings_free(retired->settings);
    free(retired->ruleset);
    free(retired);
}

/* Settings that a reload does not apply: listeners, threads, paths, limits,
 * sources and sinks are built once at start. */
static void lg_reload_note_restart(const lg_settings *old, const lg_settings *new, json_t *warnings)
{
    static const char *const server_keys[] = {"listen", "workers", "web_root", "plugin_dir", "shutdown_timeout",
                                              "limits", NULL};
    static const char *const top_keys[] = {"sources", "sinks", NULL};
    const lg_conf_node *old_server = lg_conf_map_get(old->doc->root, "server", NULL);
    const lg_conf_node *new_server = lg_conf_map_get(new->doc->root, "server", NULL);
    const lg_conf_node *old_admin = lg_conf_map_get(old_server, "admin", NULL);
    const lg_conf_node *new_admin = lg_conf_map_get(new_server, "admin", NULL);

    for (int i = 0; server_keys[i] != NULL; i++) {
        if (!lg_conf_equal(lg_conf_map_get(old_server, server_keys[i], NULL),
                           lg_conf_map_get(new_server, server_keys[i], NULL)))
            json_array_append_new(warnings, json_sprintf("server.%s changed: restart to apply it", server_keys[i]));
    }
    if (!lg_conf_equal(lg_conf_map_get(old_admin, "listen", NULL), lg_conf_map_get(new_admin, "listen", NULL)))
        json_array_append_new(warnings, json_string("server.admin.listen changed: restart to apply it"));
    for (int i = 0; top_keys[i] != NULL; i++) {
        if (!lg_conf_equal(lg_conf_map_get(old->doc->root, top_keys[i], NULL),
                           lg_conf_map_get(new->doc->root, top_keys[i], NULL)))
            json_array_append_new(warnings, json_sprintf("%s changed: restart to apply it", top_keys[i]));
    }
}

/* Create and free an instance of every source in SETTINGS, so that a
 * reload rejects options that the next start would reject. Sinks are not
 * checked this way, because their init adds routes to the running listener. */
static int lg_reload_check_sources(lg_gateway *gateway, const lg_settings *settings, lg_error *err)
{
    for (size_t i = 0; i < settings->source_count; i++) {
        lg_instance *instance = lg_gateway_create_instance(gateway, &settings->sources[i], LG_PLUGIN_SOURCE, err);

        if (instance == NULL)
            return -1;
        lg_instance_destroy(instance);
    }
    return 0;
}

/* Point every channel at its rule in RULESET. */
static void lg_reload_rebind_channels(lg_hub *hub, const lg_ruleset *ruleset)
{
    lg_channel *channel;

    for (channel = hub->channels; channel != NULL; channel = channel->hh.next)
        lg_channel_set_rule(channel, lg_rules_find(ruleset->rules, ruleset->count, channel->name));
}

static void lg_reload_apply_log(const lg_log_settings *old, const lg_log_settings *log)
{
    if (strcmp(old->file != NULL ? old->file : "-", log->file != NULL ? log->file : "-") != 0 &&
        lg_log_open(log->file) < 0)
        LG_LOG_ERROR("core", "cannot open log file %s: %s; logging goes on to the previous one", log->file,
                     strerror(errno));
    lg_log_set_level((lg_log_level)log->level);
    lg_log_set_rate_limit((unsigned)log->rate_limit_burst, (unsigned)log->rate_limit_window_ms);
}

int lg_gateway_reload(lg_gateway *gateway, json_t **warnings, lg_error *err)
{
    lg_settings *settings;
    lg_settings *previous;
    lg_script **scripts;
    lg_ruleset *ruleset;
    lg_retired *retired;

    *warnings = NULL;
    if (gateway->stopping)
        return lg_error_set(err, "livegate is stopping");

    settings = lg_settings_load(gateway->settings->embedded ? NULL : gateway->settings->path, err);
    if (settings == NULL)
        return -1;
    if (lg_reload_check_sources(gateway, settings, err) < 0 || lg_publish_via_check(gateway, settings, err) < 0) {
        lg_settings_free(settings);
        return -1;
    }
    if (lg_gateway_load_scripts(gateway, settings, &scripts, err) < 0) {
        lg_settings_free(settings);
        return -1;
    }

    /* Everything is valid: swap. Scripts run on this thread only, so the
     * old ones go at once; the workers read the rules and get a barrier. */
    *warnings = json_array();
    lg_reload_note_restart(gateway->start_settings, settings, *warnings);
    ruleset = lg_calloc(1, sizeof(*ruleset));
    ruleset->rules = settings->channels.items;
    ruleset->count = settings->channels.count;

    gateway->hub->rules = ruleset->rules;
    gateway->hub->rule_count = ruleset->count;
    lg_hub_set_scripts(gateway->hub, scripts);
    lg_reload_rebind_channels(gateway->hub, ruleset);
    atomic_store_explicit(&gateway->worker_settings.ruleset, ruleset, memory_order_release);

    lg_rule_scripts_free(gateway->scripts, gateway->settings->channels.count);
    gateway->scripts = scripts;

    previous = gateway->settings;
    retired = lg_calloc(1, sizeof(*retired));
    retired->settings = previous != gateway->start_settings ? previous : NULL;
    retired->ruleset = gateway->ruleset;
    gateway->settings = settings;
    gateway->ruleset = ruleset;
    lg_reload_apply_log(&previous->server.log, &settings->server.log);
    lg_hub_barrier(gateway->hub, lg_reload_free_retired, retired);

    gateway->config_version++;
    gateway->config_loaded_ms = lg_clock_wall_ms();
    LG_LOG_INFO("core", "configuration %s reloaded (version %llu, %zu channel rules)", settings->path,
                (unsigned long long)gateway->config_version, ruleset->count);
    return 0;
}
