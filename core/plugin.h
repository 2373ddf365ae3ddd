/* Plugin loader: dlopen of NAME.so from the plugin directory, with descriptor and ABI checks. */
#ifndef LG_PLUGIN_H
#define LG_PLUGIN_H

#include "error.h"
#include "plugin_api.h"

typedef struct lg_module {
    char *path;
    void *handle;
    const lg_plugin *plugin;
    struct lg_module *next;
} lg_module;

/* A cache of loaded modules, so two instances of one type share one dlopen. */
typedef struct lg_module_set {
    char *dir;
    lg_module *modules;
} lg_module_set;

void lg_module_set_init(lg_module_set *set, const char *dir);

/* dlclose every module. Call after every instance is destroyed. */
void lg_module_set_clear(lg_module_set *set);

/* Load plugin TYPE of KIND from DIR/TYPE.so (RTLD_NOW | RTLD_LOCAL) and check
 * its descriptor: the "livegate_plugin" symbol, the ABI version, the name
 * and the kind. Returns the descriptor, or NULL with ERR naming the file and
 * the reason. */
const lg_plugin *lg_module_load(lg_module_set *set, const char *type, lg_plugin_kind kind, lg_error *err);

/* Load the module at PATH without a kind check, for --help. */
const lg_plugin *lg_module_load_path(lg_module_set *set, const char *path, lg_error *err);

const char *lg_plugin_kind_name(lg_plugin_kind kind);

/* Core services that only plugins call, kept in the executable (plugin_exports.c). */
extern const void *const lg_plugin_exports[];

#endif
