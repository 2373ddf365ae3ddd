/* Dedup windows: the origins of a channel's recent events, to drop an event that arrives twice. */
#ifndef LG_DEDUP_H
#define LG_DEDUP_H

#include <stddef.h>

typedef struct lg_dedup_entry lg_dedup_entry;

/* The last CAPACITY origins seen, oldest forgotten first. Zeroed is empty. */
typedef struct lg_dedup {
    size_t capacity;
    size_t count;
    size_t next;             /* ring slot the next origin goes to */
    lg_dedup_entry **ring;   /* CAPACITY slots */
    lg_dedup_entry *entries; /* hash of the same entries by origin */
} lg_dedup;

/* Return 1 when ORIGIN is among the last CAPACITY origins seen; otherwise
 * remember it (forgetting the oldest when full) and return 0. A change of
 * CAPACITY forgets everything first; CAPACITY 0 remembers nothing. */
int lg_dedup_seen(lg_dedup *dedup, const char *origin, size_t capacity);

void lg_dedup_clear(lg_dedup *dedup);

#endif
