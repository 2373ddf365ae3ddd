/* Turning a polled body into events: JSON validation, array splitting, keys, change detection. */
#ifndef LG_POLL_EXTRACT_H
#define LG_POLL_EXTRACT_H

#include <stddef.h>

#include "error.h"

typedef struct poll_item {
    char *key;  /* NULL without a key path */
    char *data; /* NUL-terminated JSON or raw text */
    size_t len;
} poll_item;

typedef struct poll_items {
    size_t count;
    poll_item *items;
    size_t skipped;     /* array elements left out */
    char *skip_reason;  /* why the first of them was left out, NULL when none */
} poll_items;

/* Parse BODY as JSON. Without ARRAY_PATH the body is one item with the
 * bytes as received. With it, the array at ARRAY_PATH (dotted names and
 * indexes, "." for the body itself) gives one item per element, in compact
 * JSON. KEY_PATH (may be NULL) names the field, in the body or in each
 * element, whose string or number becomes the item's key; an element
 * without a usable key is skipped and counted. Returns 0, or -1 with ERR
 * set when the body is not JSON or ARRAY_PATH is not an array; OUT is then
 * empty. */
int poll_extract_json(const char *body, size_t len, const char *array_path, const char *key_path, poll_items *out,
                      lg_error *err);

void poll_items_free(poll_items *items);

/* The last data seen per key, to emit only what changed. */
typedef struct poll_changes poll_changes;

poll_changes *poll_changes_new(void);
void poll_changes_free(poll_changes *changes);

/* Return 1 and remember DATA when it differs from what KEY (NULL for an
 * item without a key) held, 0 when it is the same. */
int poll_changes_update(poll_changes *changes, const char *key, const char *data, size_t len);

#endif
