/* librdkafka properties: the user's pass-through block and livegate's defaults. */
#ifndef LG_KAFKA_PROPERTIES_H
#define LG_KAFKA_PROPERTIES_H

#include <librdkafka/rdkafka.h>

#include "conf.h"
#include "error.h"

/* Set property NAME to VALUE. Returns 0, or -1 with ERR naming the
 * property; the value and librdkafka's reason are left out for properties
 * whose names suggest a secret (password, secret, key, jaas, token). */
int kafka_set_property(rd_kafka_conf_t *conf, const char *name, const char *value, lg_error *err);

/* Apply NODE, the "properties" mapping of the config (may be NULL).
 * bootstrap.servers is rejected there: it comes from the brokers option. */
int kafka_apply_properties(rd_kafka_conf_t *conf, const lg_conf_node *node, lg_error *err);

/* Set NAME to VALUE unless the mapping USER (may be NULL) sets it. */
int kafka_set_default(rd_kafka_conf_t *conf, const lg_conf_node *user, const char *name, const char *value,
                      lg_error *err);

#endif
