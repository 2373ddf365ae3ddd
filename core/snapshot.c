/* Snapshot state kept per channel for new subscribers. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "hashmap.h"

#include "alloc.h"
#include "rules.h"
#include "snapshot.h"

typedef struct lg_snapshot_entry {
    char *key;
    lg_event *event;
    UT_hash_handle hh;
} lg_snapshot_entry;

void lg_snapshot_init(lg_snapshot *snapshot, int mode, size_t max_keys)
{
    memset(snapshot, 0, sizeof(*snapshot));
    snapshot->mode = mode;
    snapshot->max_keys = max_keys > 0 ? max_keys : 1;
}

static void lg_snapshot_remove(lg_snapshot *snapshot, lg_snapshot_entry *entry)
{
    HASH_DEL(snapshot->by_key, entry);
    lg_event_unref(entry->event);
    free(entry->key);
    free(entry);
}

void lg_snapshot_clear(lg_snapshot *snapshot)
{
    lg_snapshot_entry *entry;
    lg_snapshot_entry *tmp;

    HASH_ITER(hh, snapshot->by_key, entry, tmp)
    {
        lg_snapshot_remove(snapshot, entry);
    }
    lg_event_unref(snapshot->last);
    snapshot->last = NULL;
}

/* Replace the entry of the event's key, moving it to the end of the hash's
 * insertion order so that the order stays "least recently updated first". */
static void lg_snapshot_update_keyed(lg_snapshot *snapshot, lg_event *event)
{
    const char *key = event->key != NULL ? event->key : "";
    lg_snapshot_entry *entry;

    HASH_FIND_STR(snapshot->by_key, key, entry);
    if (entry != NULL) {
        HASH_DEL(snapshot->by_key, entry);
        lg_event_unref(entry->event);
    } else {
        if (HASH_COUNT(snapshot->by_key) >= snapshot->max_keys)
            lg_snapshot_remove(snapshot, snapshot->by_key);
        entry = lg_calloc(1, sizeof(*entry));
        entry->key = lg_strdup(key);
    }
    entry->event = lg_event_ref(event);
    HASH_ADD_KEYPTR(hh, snapshot->by_key, entry->key, strlen(entry->key), entry);
}

void lg_snapshot_update(lg_snapshot *snapshot, lg_event *event)
{
    switch (snapshot->mode) {
    case LG_SNAPSHOT_LAST:
        lg_event_unref(snapshot->last);
        snapshot->last = lg_event_ref(event);
        break;
    case LG_SNAPSHOT_KEYED:
        lg_snapshot_update_keyed(snapshot, event);
        break;
    default:
        break;
    }
}

size_t lg_snapshot_collect(const lg_snapshot *snapshot, lg_event ***out)
{
    lg_snapshot_entry *entry;
    size_t count = 0;

    *out = NULL;
    if (snapshot->mode == LG_SNAPSHOT_LAST && snapshot->last != NULL) {
        *out = lg_calloc(1, sizeof(**out));
        (*out)[0] = lg_event_ref(snapshot->last);
        return 1;
    }
    if (snapshot->mode != LG_SNAPSHOT_KEYED || snapshot->by_key == NULL)
        return 0;

    *out = lg_calloc(HASH_COUNT(snapshot->by_key), sizeof(**out));
    for (entry = snapshot->by_key; entry != NULL; entry = entry->hh.next)
        (*out)[count++] = lg_event_ref(entry->event);
    return count;
}

size_t lg_snapshot_key_count(const lg_snapshot *snapshot)
{
    if (snapshot->mode == LG_SNAPSHOT_LAST)
        return snapshot->last != NULL ? 1 : 0;
    return HASH_COUNT(snapshot->by_key);
}
