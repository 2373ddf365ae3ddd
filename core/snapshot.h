/* Snapshot of one channel: the newest event, or the newest event of every key. */
#ifndef LG_SNAPSHOT_H
#define LG_SNAPSHOT_H

#include <stddef.h>

#include "event.h"

struct lg_snapshot_entry;

typedef struct lg_snapshot {
    int mode; /* lg_snapshot_mode */
    size_t max_keys;
    lg_event *last;                   /* LG_SNAPSHOT_LAST */
    struct lg_snapshot_entry *by_key; /* LG_SNAPSHOT_KEYED, least recently updated first */
} lg_snapshot;

void lg_snapshot_init(lg_snapshot *snapshot, int mode, size_t max_keys);
void lg_snapshot_clear(lg_snapshot *snapshot);

/* Record EVENT as the newest (of its key; an event without a key counts as
 * the key ""). Takes a new reference. In keyed mode past MAX_KEYS the least
 * recently updated key is forgotten. */
void lg_snapshot_update(lg_snapshot *snapshot, lg_event *event);

/* Collect the snapshot's events in order of their last update into a new
 * array of new references. Returns the count; *OUT is NULL when it is 0. */
size_t lg_snapshot_collect(const lg_snapshot *snapshot, lg_event ***out);

size_t lg_snapshot_key_count(const lg_snapshot *snapshot);

#endif
