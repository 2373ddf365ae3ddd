/* Instance services that plugins call: naming, health, publishing, routes and counters. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "gateway.h"
#include "hub.h"
#include "instance.h"
#include "log.h"
#include "names.h"

lg_instance *lg_instance_create(struct lg_gateway *gateway, const lg_plugin *plugin, const lg_plugin_settings *item,
                                lg_error *err)
{
    static const char *const core_keys[] = {"name", "type", NULL};
    lg_instance *instance = lg_calloc(1, sizeof(*instance));
    char *context;
    int rc;

    instance->gateway = gateway;
    instance->plugin = plugin;
    instance->name = lg_strdup(item->name);
    instance->type = lg_strdup(item->type);
    instance->scope = lg_sprintf("%s:%s:%s", lg_plugin_kind_name(plugin->kind), item->type, item->name);
    instance->config = lg_calloc(1, plugin->config_size > 0 ? plugin->config_size : 1);

    context = lg_sprintf("%s '%s' (%s)", lg_plugin_kind_name(plugin->kind), item->name, item->type);
    rc = lg_options_parse(plugin->options, item->node, instance->config, core_keys, context, err);
    free(context);
    if (rc < 0)
        goto fail;

    if (plugin->init(instance, instance->config, err) < 0) {
        lg_error_prefix(err, "%s:%u:%u: %s '%s' (%s)", item->node->file, item->node->line, item->node->column,
                        lg_plugin_kind_name(plugin->kind), item->name, item->type);
        goto fail;
    }
    instance->initialised = 1;
    return instance;

fail:
    lg_instance_destroy(instance);
    return NULL;
}

void lg_instance_destroy(lg_instance *instance)
{
    lg_instance_counter *counter;

    if (instance == NULL)
        return;
    if (instance->initialised && instance->plugin->destroy != NULL)
        instance->plugin->destroy(instance);
    lg_options_free(instance->plugin->options, instance->config);

    while ((counter = instance->counters) != NULL) {
        instance->counters = counter->next;
        free(counter->name);
        free(counter->help);
        free(counter->labels);
        free(counter);
    }
    free(instance->config);
    free(instance->health_reason);
    free(instance->scope);
    free(instance->name);
    free(instance->type);
    free(instance);
}

const char *lg_health_name(lg_health health)
{
    switch (health) {
    case LG_HEALTH_OK:
        return "ok";
    case LG_HEALTH_DEGRADED:
        return "degraded";
    case LG_HEALTH_FAILED:
        return "failed";
    default:
        return "unknown";
    }
}

const char *lg_instance_name(const lg_instance *instance)
{
    return instance->name;
}

const char *lg_instance_type(const lg_instance *instance)
{
    return instance->type;
}

const char *lg_instance_scope(const lg_instance *instance)
{
    return instance->scope;
}

void *lg_instance_config(const lg_instance *instance)
{
    return instance->config;
}

void *lg_instance_data(const lg_instance *instance)
{
    return instance->data;
}

void lg_instance_set_data(lg_instance *instance, void *data)
{
    instance->data = data;
}

struct event_base *lg_instance_base(const lg_instance *instance)
{
    return instance->gateway->base;
}

void lg_instance_set_health(lg_instance *instance, lg_health health, const char *reason)
{
    int same_reason = (reason == NULL && instance->health_reason == NULL) ||
                       (reason != NULL && instance->health_reason != NULL && strcmp(reason, instance->health_reason) == 0);

    if (health == instance->health && same_reason)
        return;

    if (health == LG_HEALTH_OK)
        LG_LOG_INFO(instance->scope, "health is ok again");
    else
        LG_LOG_WARN(instance->scope, "health is %s: %s", lg_health_name(health), reason != NULL ? reason : "no reason given");

    free(instance->health_reason);
    instance->health_reason = reason != NULL ? lg_strdup(reason) : NULL;
    instance->health = health;
}

int lg_instance_publish(lg_instance *instance, const lg_publish *publish, lg_error *err)
{
    lg_publish_result result;
    lg_event *event;
    int status;

    if (publish->type != NULL && lg_event_type_check(publish->type, err) < 0)
        return -1;
    if (publish->key != NULL && lg_event_key_check(publish->key, err) < 0)
        return -1;

    event = lg_event_new(publish->key, publish->type, publish->data, publish->data_len, publish->time_ms);
    if (publish->origin != NULL && lg_event_set_origin(event, publish->origin, publish->positioned, err) < 0) {
        lg_event_unref(event);
        return -1;
    }
    return lg_hub_publish(instance->gateway->hub, publish->channel, event, &result, &status, err);
}

int lg_instance_is_produce_target(const lg_instance *instance)
{
    return instance->produce_target;
}

int lg_instance_is_watched(lg_instance *instance, const char *channel)
{
    return lg_hub_is_watched(instance->gateway->hub, channel);
}

void lg_instance_signal_gap(lg_instance *instance, const char *channel, const char *reason)
{
    LG_LOG_INFO(instance->scope, "events of channel '%s' may be lost: %s", channel, reason);
    lg_hub_signal_gap(instance->gateway->hub, channel, reason);
}

void lg_instance_add_route(lg_instance *instance, const char *method, const char *path, unsigned flags,
                           lg_http_handler handler, void *arg)
{
    lg_http_routes_add(instance->gateway->public_routes, method, path, flags, handler, arg);
}

void lg_instance_count(lg_instance *instance, const char *name, const char *help, uint64_t delta)
{
    lg_instance_counter *counter;

    for (counter = instance->counters; counter != NULL; counter = counter->next) {
        if (!counter->gauge && strcmp(counter->name, name) == 0) {
            counter->value += delta;
            return;
        }
    }

    counter = lg_calloc(1, sizeof(*counter));
    counter->name = lg_strdup(name);
    counter->help = lg_strdup(help != NULL ? help : name);
    counter->value = delta;
    counter->next = instance->counters;
    instance->counters = counter;
}

static int lg_labels_equal(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

void lg_instance_gauge(lg_instance *instance, const char *name, const char *help, const char *labels, int64_t value)
{
    lg_instance_counter *gauge;

    for (gauge = instance->counters; gauge != NULL; gauge = gauge->next) {
        if (gauge->gauge && strcmp(gauge->name, name) == 0 && lg_labels_equal(gauge->labels, labels)) {
            gauge->gauge_value = value;
            return;
        }
    }

    gauge = lg_calloc(1, sizeof(*gauge));
    gauge->name = lg_strdup(name);
    gauge->help = lg_strdup(help != NULL ? help : name);
    gauge->labels = labels != NULL ? lg_strdup(labels) : NULL;
    gauge->gauge = 1;
    gauge->gauge_value = value;
    gauge->next = instance->counters;
    instance->counters = gauge;
}
