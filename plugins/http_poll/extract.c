/* Turning a polled body into events: JSON validation, array splitting, keys, change detection. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alloc.h"
#include "extract.h"
#include "hashmap.h"

/* Paths */

static json_t *path_step(json_t *value, const char *name, size_t len)
{
    char *end;
    unsigned long index;
    char *segment = lg_strndup(name, len);
    json_t *next = NULL;

    if (json_is_object(value)) {
        next = json_object_get(value, segment);
    } else if (json_is_array(value) && len > 0 && segment[0] >= '0' && segment[0] <= '9') {
        index = strtoul(segment, &end, 10);
        if (*end == '\0')
            next = json_array_get(value, index);
    }
    free(segment);
    return next;
}

/* Follow dotted PATH from ROOT; "." is ROOT itself. Returns NULL when a step is missing. */
static json_t *path_find(json_t *root, const char *path)
{
    json_t *value = root;
    const char *start = path;

    if (strcmp(path, ".") == 0)
        return root;

    while (value != NULL) {
        const char *dot = strchr(start, '.');
        size_t len = dot != NULL ? (size_t)(dot - start) : strlen(start);

        value = path_step(value, start, len);
        if (dot == NULL)
            break;
        start = dot + 1;
    }
    return value;
}

/* Return the key at KEY_PATH in VALUE as a new string, or NULL with REASON set. */
static char *key_of(json_t *value, const char *key_path, const char **reason)
{
    json_t *field = path_find(value, key_path);

    if (field == NULL) {
        *reason = "has no key field";
        return NULL;
    }
    if (json_is_string(field))
        return lg_strndup(json_string_value(field), json_string_length(field));
    if (json_is_integer(field))
        return lg_sprintf("%lld", (long long)json_integer_value(field));
    if (json_is_real(field))
        return json_dumps(field, JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    *reason = "has a key field that is not a string or a number";
    return NULL;
}

/* Items */

static void add_item(poll_items *out, char *key, char *data, size_t len)
{
    out->items = lg_realloc(out->items, (out->count + 1) * sizeof(*out->items));
    out->items[out->count].key = key;
    out->items[out->count].data = data;
    out->items[out->count].len = len;
    out->count++;
}

static void skip_element(poll_items *out, size_t index, const char *key_path, const char *reason)
{
    if (out->skipped++ == 0)
        out->skip_reason = lg_sprintf("element %zu %s (key: %s)", index, reason, key_path);
}

static void split_array(json_t *array, const char *key_path, poll_items *out)
{
    size_t index;
    json_t *element;

    json_array_foreach(array, index, element) {
        const char *reason = NULL;
        char *key = NULL;
        char *data;

        if (key_path != NULL && (key = key_of(element, key_path, &reason)) == NULL) {
            skip_element(out, index, key_path, reason);
            continue;
        }
        data = json_dumps(element, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
        add_item(out, key, data, strlen(data));
    }
}

static int whole_body(json_t *root, const char *body, size_t len, const char *key_path, poll_items *out,
                      lg_error *err)
{
    const char *reason = NULL;
    char *key = NULL;

    if (key_path != NULL && (key = key_of(root, key_path, &reason)) == NULL)
        return lg_error_set(err, "the body %s (key: %s)", reason, key_path);
    add_item(out, key, lg_strndup(body, len), len);
    return 0;
}

int poll_extract_json(const char *body, size_t len, const char *array_path, const char *key_path, poll_items *out,
                      lg_error *err)
{
    json_error_t parse_error;
    json_t *root;
    json_t *array;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    root = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &parse_error);
    if (root == NULL)
        return lg_error_set(err, "the body is not JSON: %s at line %d, column %d", parse_error.text,
                            parse_error.line, parse_error.column);

    if (array_path == NULL) {
        rc = whole_body(root, body, len, key_path, out, err);
    } else if ((array = path_find(root, array_path)) == NULL) {
        rc = lg_error_set(err, "the body has nothing at the array path \"%s\"", array_path);
    } else if (!json_is_array(array)) {
        rc = lg_error_set(err, "the value at the array path \"%s\" is not an array", array_path);
    } else {
        split_array(array, key_path, out);
    }

    json_decref(root);
    if (rc < 0)
        poll_items_free(out);
    return rc;
}

void poll_items_free(poll_items *items)
{
    for (size_t i = 0; i < items->count; i++) {
        free(items->items[i].key);
        free(items->items[i].data);
    }
    free(items->items);
    free(items->skip_reason);
    memset(items, 0, sizeof(*items));
}

/* Change detection */

typedef struct seen_entry {
    char *key;
    char *data;
    size_t len;
    UT_hash_handle hh;
} seen_entry;

struct poll_changes {
    seen_entry *entries;
};

poll_changes *poll_changes_new(void)
{
    return lg_calloc(1, sizeof(poll_changes));
}

void poll_changes_free(poll_changes *changes)
{
    seen_entry *entry;
    seen_entry *tmp;

    if (changes == NULL)
        return;
    HASH_ITER(hh, changes->entries, entry, tmp) {
        HASH_DEL(changes->entries, entry);
        free(entry->key);
        free(entry->data);
        free(entry);
    }
    free(changes);
}

int poll_changes_update(poll_changes *changes, const char *key, const char *data, size_t len)
{
    const char *name = key != NULL ? key : "";
    seen_entry *entry;

    HASH_FIND_STR(changes->entries, name, entry);
    if (entry != NULL && entry->len == len && memcmp(entry->data, data, len) == 0)
        return 0;

    if (entry == NULL) {
        entry = lg_calloc(1, sizeof(*entry));
        entry->key = lg_strdup(name);
        HASH_ADD_KEYPTR(hh, changes->entries, entry->key, strlen(entry->key), entry);
    }
    free(entry->data);
    entry->data = lg_memdup(data, len);
    entry->len = len;
    return 1;
}
