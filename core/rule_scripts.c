/* Compiling the scripts named by channel rules. */
#include "config.h"

#include <stdlib.h>

#include "alloc.h"
#include "rule_scripts.h"

void lg_rule_scripts_free(lg_script **scripts, size_t count)
{
    for (size_t i = 0; scripts != NULL && i < count; i++)
        lg_script_free(scripts[i]);
    free(scripts);
}

int lg_rule_scripts_load(const lg_settings *settings, const lg_script_host *host, lg_script ***scripts,
                         lg_error *err)
{
    const lg_lua_settings *lua = &settings->server.lua;
    lg_script_limits limits = {lua->instruction_budget, lua->memory_bytes, lua->disable_after};
    const lg_rule *rules = settings->channels.items;
    const lg_conf_node *list = lg_conf_map_get(settings->doc->root, "channels", NULL);

    *scripts = lg_calloc(settings->channels.count, sizeof(**scripts));
    for (size_t i = 0; i < settings->channels.count; i++) {
        const lg_conf_node *node;
        char *path;

        if (rules[i].lua == NULL || rules[i].lua[0] == '\0')
            continue;
        path = lg_settings_resolve_path(settings, rules[i].lua);
        (*scripts)[i] = lg_script_load(path, rules[i].lua_config, &limits, host, err);
        free(path);
        if ((*scripts)[i] == NULL) {
            node = lg_conf_map_get(list->items[i], "lua", NULL);
            lg_rule_scripts_free(*scripts, settings->channels.count);
            *scripts = NULL;
            return lg_error_prefix(err, "%s:%u:%u: channels[%zu] (match '%s')", node->file, node->line,
                                   node->column, i, rules[i].match);
        }
    }
    return 0;
}
