/* Dedup windows: a ring of the last origins in arrival order, indexed by a hash. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dedup.h"
#include "hashmap.h"

struct lg_dedup_entry {
    char *origin;
    UT_hash_handle hh;
};

static void forget(lg_dedup *dedup, lg_dedup_entry *entry)
{
    HASH_DEL(dedup->entries, entry);
    free(entry->origin);
    free(entry);
}

void lg_dedup_clear(lg_dedup *dedup)
{
    for (size_t i = 0; i < dedup->capacity && dedup->ring != NULL; i++) {
        if (dedup->ring[i] != NULL)
            forget(dedup, dedup->ring[i]);
    }
    free(dedup->ring);
    memset(dedup, 0, sizeof(*dedup));
}

int lg_dedup_seen(lg_dedup *dedup, const char *origin, size_t capacity)
{
    lg_dedup_entry *entry;

    if (capacity != dedup->capacity) {
        lg_dedup_clear(dedup);
        dedup->capacity = capacity;
        dedup->ring = capacity > 0 ? lg_calloc(capacity, sizeof(*dedup->ring)) : NULL;
    }
    if (capacity == 0)
        return 0;

    HASH_FIND_STR(dedup->entries, origin, entry);
    if (entry != NULL)
        return 1;

    if (dedup->ring[dedup->next] != NULL)
        forget(dedup, dedup->ring[dedup->next]);
    else
        dedup->count++;
    entry = lg_calloc(1, sizeof(*entry));
    entry->origin = lg_strdup(origin);
    HASH_ADD_KEYPTR(hh, dedup->entries, entry->origin, strlen(entry->origin), entry);
    dedup->ring[dedup->next] = entry;
    dedup->next = (dedup->next + 1) % capacity;
    return 0;
}
