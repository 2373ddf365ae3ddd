/* Routing Kafka records to channels: a name template, or a field of the JSON value. */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "route.h"

static const char *const placeholders[] = {"{topic}", "{partition}", "{key}", NULL};

static size_t placeholder_at(const char *text)
{
    for (size_t i = 0; placeholders[i] != NULL; i++) {
        size_t len = strlen(placeholders[i]);

        if (strncmp(text, placeholders[i], len) == 0)
            return len;
    }
    return 0;
}

int kafka_route_check_template(const char *template, lg_error *err)
{
    for (const char *c = template; *c != '\0'; c++) {
        const char *end;

        if (*c != '{' || placeholder_at(c) > 0)
            continue;
        end = strchr(c, '}');
        return lg_error_set(err, "unknown placeholder %.*s: use {topic}, {partition} or {key}",
                            end != NULL ? (int)(end - c + 1) : (int)strlen(c), c);
    }
    return 0;
}

int kafka_route_uses_key(const char *template)
{
    return template != NULL && strstr(template, "{key}") != NULL;
}

static int fill_template(const char *template, const kafka_record_view *record, lg_buf *out, lg_error *err)
{
    for (const char *c = template; *c != '\0';) {
        size_t len = placeholder_at(c);

        if (len == 0) {
            lg_buf_append_char(out, *c++);
            continue;
        }
        if (c[1] == 't') {
            lg_buf_append_str(out, record->topic);
        } else if (c[1] == 'p') {
            lg_buf_printf(out, "%d", (int)record->partition);
        } else if (record->key == NULL) {
            return lg_error_set(err, "the record has no key for {key} in the channel template \"%s\"", template);
        } else {
            lg_buf_append_str(out, record->key);
        }
        c += len;
    }
    return 0;
}

/* Append the string at top-level FIELD of the record's JSON value to OUT.
 * Returns 1 when found, 0 when the value has no such string field. */
static int field_channel(const char *field, const kafka_record_view *record, lg_buf *out)
{
    json_t *root = json_loadb(record->value, record->value_len, 0, NULL);
    json_t *value = json_is_object(root) ? json_object_get(root, field) : NULL;
    int found = json_is_string(value);

    if (found)
        lg_buf_append(out, json_string_value(value), json_string_length(value));
    json_decref(root);
    return found;
}

int kafka_route_channel(const char *template, const char *field, const kafka_record_view *record, lg_buf *out,
                        lg_error *err)
{
    lg_buf_reset(out);

    if (field != NULL && field_channel(field, record, out))
        return 0;
    if (template == NULL)
        return lg_error_set(err, "the record's value has no string field \"%s\" to name its channel", field);
    return fill_template(template, record, out, err);
}
