/* Loading plugin modules with dlopen and validating their descriptors. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "log.h"
#include "plugin.h"

/* Refers to the list so that the linker keeps the services it names. */
__attribute__((used)) static const void *const *const lg_plugin_exports_kept = lg_plugin_exports;

void lg_module_set_init(lg_module_set *set, const char *dir)
{
    set->dir = lg_strdup(dir);
    set->modules = NULL;
}

void lg_module_set_clear(lg_module_set *set)
{
    lg_module *module = set->modules;

    while (module != NULL) {
        lg_module *next = module->next;

        dlclose(module->handle);
        free(module->path);
        free(module);
        module = next;
    }
    set->modules = NULL;
    free(set->dir);
    set->dir = NULL;
}

const char *lg_plugin_kind_name(lg_plugin_kind kind)
{
    switch (kind) {
    case LG_PLUGIN_SOURCE:
        return "source";
    case LG_PLUGIN_SINK:
        return "sink";
    default:
        return "unknown kind";
    }
}

static int lg_module_check(const char *path, const lg_plugin *plugin, lg_error *err)
{
    if (plugin->abi_version != LG_PLUGIN_ABI_VERSION)
        return lg_error_set(err,
                            "plugin %s was built for plugin ABI version %u, but this livegate uses version %d: "
                            "rebuild the plugin against this livegate",
                            path, plugin->abi_version, LG_PLUGIN_ABI_VERSION);
    if (plugin->name == NULL || plugin->name[0] == '\0')
        return lg_error_set(err, "plugin %s has no name in its descriptor", path);
    if (plugin->kind != LG_PLUGIN_SOURCE && plugin->kind != LG_PLUGIN_SINK)
        return lg_error_set(err, "plugin %s declares an invalid kind %d", path, (int)plugin->kind);
    if (plugin->options == NULL)
        return lg_error_set(err, "plugin %s has no option table (an empty one ends with {0})", path);
    if (plugin->init == NULL)
        return lg_error_set(err, "plugin %s has no init callback", path);
    return 0;
}

const lg_plugin *lg_module_load_path(lg_module_set *set, const char *path, lg_error *err)
{
    lg_module *module;
    const lg_plugin *plugin;
    void *handle;

    for (module = set->modules; module != NULL; module = module->next) {
        if (strcmp(module->path, path) == 0)
            return module->plugin;
    }

    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL)
        return lg_error_set(err, "cannot load plugin %s: %s", path, dlerror()), NULL;

    plugin = dlsym(handle, LG_PLUGIN_SYMBOL);
    if (plugin == NULL) {
        lg_error_set(err, "plugin %s does not export the symbol '%s': it is not a livegate plugin", path,
                     LG_PLUGIN_SYMBOL);
        dlclose(handle);
        return NULL;
    }
    if (lg_module_check(path, plugin, err) < 0) {
        dlclose(handle);
        return NULL;
    }

    module = lg_calloc(1, sizeof(*module));
    module->path = lg_strdup(path);
    module->handle = handle;
    module->plugin = plugin;
    module->next = set->modules;
    set->modules = module;
    return plugin;
}

const lg_plugin *lg_module_load(lg_module_set *set, const char *type, lg_plugin_kind kind, lg_error *err)
{
    char *path = lg_sprintf("%s/%s.so", set->dir, type);
    const lg_plugin *plugin = NULL;
    struct stat st;

    if (stat(path, &st) < 0) {
        lg_error_set(err, "plugin '%s' not found: cannot open %s: %s (check the type name and --plugin-dir)", type,
                     path, strerror(errno));
        goto done;
    }

    plugin = lg_module_load_path(set, path, err);
    if (plugin == NULL)
        goto done;

    if (strcmp(plugin->name, type) != 0) {
        lg_error_set(err, "plugin %s calls itself '%s', not '%s': the file name must match the plugin name", path,
                     plugin->name, type);
        plugin = NULL;
    } else if (plugin->kind != kind) {
        lg_error_set(err, "plugin %s is a %s, but it is configured as a %s", path, lg_plugin_kind_name(plugin->kind),
                     lg_plugin_kind_name(kind));
        plugin = NULL;
    }

done:
    free(path);
    return plugin;
}
