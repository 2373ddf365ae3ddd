/* Instances: one configured source or sink, its parsed options, state, health and counters. */
#ifndef LG_INSTANCE_H
#define LG_INSTANCE_H

#include <stdint.h>

#include "plugin_api.h"
#include "settings.h"

struct lg_gateway;

typedef struct lg_instance_counter {
    char *name;
    char *help;
    char *labels; /* extra labels of a gauge, as 'a="1",b="2"'; NULL for none */
    int gauge;    /* 1: a gauge holding GAUGE_VALUE; 0: a counter holding VALUE */
    uint64_t value;
    int64_t gauge_value;
    struct lg_instance_counter *next;
} lg_instance_counter;

struct lg_instance {
    const lg_plugin *plugin;
    char *name;
    char *type;
    char *scope;
    void *config;
    void *data;
    int initialised;
    int started;
    int produce_target; /* a channel rule's publish_via names this source */
    lg_health health;
    char *health_reason;
    lg_instance_counter *counters;
    struct lg_gateway *gateway;
};

/* Create an instance of PLUGIN from ITEM: parse the plugin's options from
 * the item's mapping (name: and type: are the core's) and call init.
 * Returns NULL with ERR set ("FILE:LINE:COLUMN: source 'host' (sysmetrics): ...")
 * on failure. */
lg_instance *lg_instance_create(struct lg_gateway *gateway, const lg_plugin *plugin, const lg_plugin_settings *item,
                                lg_error *err);

/* Call the plugin's destroy, free the parsed options and the instance. */
void lg_instance_destroy(lg_instance *instance);

const char *lg_health_name(lg_health health);

#endif
