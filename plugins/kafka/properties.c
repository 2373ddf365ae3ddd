/* librdkafka properties: the user's pass-through block and livegate's defaults, with secrets kept out of messages. */
#include "config.h"

#include <string.h>

#include "properties.h"

static int property_is_secret(const char *name)
{
    return strstr(name, "password") != NULL || strstr(name, "secret") != NULL || strstr(name, "key") != NULL ||
           strstr(name, "jaas") != NULL || strstr(name, "token") != NULL;
}

int kafka_set_property(rd_kafka_conf_t *conf, const char *name, const char *value, lg_error *err)
{
    char reason[512];

    if (rd_kafka_conf_set(conf, name, value, reason, sizeof(reason)) == RD_KAFKA_CONF_OK)
        return 0;
    /* librdkafka quotes some rejected values in its reason, so a secret's reason is shown only without it. */
    if (property_is_secret(name) && (value[0] == '\0' || strstr(reason, value) != NULL))
        return lg_error_set(err, "librdkafka rejected the value of property '%s' (value not shown)", name);
    return lg_error_set(err, "librdkafka property '%s': %s", name, reason);
}

int kafka_apply_properties(rd_kafka_conf_t *conf, const lg_conf_node *node, lg_error *err)
{
    if (node == NULL)
        return 0;
    if (node->kind != LG_CONF_MAP)
        return lg_error_set(err, "%s:%u:%u: properties must be a mapping of librdkafka property names to values",
                            node->file, node->line, node->column);

    for (size_t i = 0; i < node->count; i++) {
        const lg_conf_pair *pair = &node->pairs[i];
        const lg_conf_node *value = pair->value;

        if (strcmp(pair->key, "bootstrap.servers") == 0 || strcmp(pair->key, "metadata.broker.list") == 0)
            return lg_error_set(err, "%s:%u:%u: set the brokers with the brokers option, not properties.%s",
                                node->file, pair->line, pair->column, pair->key);
        if (value->kind != LG_CONF_SCALAR || value->value == NULL)
            return lg_error_set(err, "%s:%u:%u: properties.%s must be a single value", node->file, pair->line,
                                pair->column, pair->key);
        if (kafka_set_property(conf, pair->key, value->value, err) < 0)
            return lg_error_prefix(err, "%s:%u:%u", node->file, pair->line, pair->column);
    }
    return 0;
}

int kafka_set_default(rd_kafka_conf_t *conf, const lg_conf_node *user, const char *name, const char *value,
                      lg_error *err)
{
    if (user != NULL && user->kind == LG_CONF_MAP && lg_conf_map_get(user, name, NULL) != NULL)
        return 0;
    return kafka_set_property(conf, name, value, err);
}

