/* Routing Kafka records to channels: a name template, or a field of the JSON value. */
#ifndef LG_KAFKA_ROUTE_H
#define LG_KAFKA_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

typedef struct kafka_record_view {
    const char *topic;
    int32_t partition;
    const char *key; /* NUL-terminated copy of the record key, NULL without one */
    const char *value;
    size_t value_len;
} kafka_record_view;

/* Check TEMPLATE: its placeholders must be {topic}, {partition} or {key}.
 * Returns 0, or -1 with ERR naming the first unknown placeholder. */
int kafka_route_check_template(const char *template, lg_error *err);

/* Return 1 when TEMPLATE uses {key}. */
int kafka_route_uses_key(const char *template);

/* Write into OUT the channel of RECORD: the string at top-level FIELD of
 * its JSON value when FIELD is set and present, else TEMPLATE with its
 * placeholders filled (TEMPLATE may be NULL when FIELD is set). Returns 0,
 * or -1 with ERR saying why the record has no channel. */
int kafka_route_channel(const char *template, const char *field, const kafka_record_view *record, lg_buf *out,
                        lg_error *err);

#endif
