/* Per-address connection counts shared by all workers, for server.limits.max_streams_per_address. */
#ifndef LG_ADDRESS_LIMIT_H
#define LG_ADDRESS_LIMIT_H

#include <pthread.h>
#include <stddef.h>

struct lg_address_count;

typedef struct lg_address_limit {
    pthread_mutex_t lock;
    struct lg_address_count *counts; /* uthash by host */
    size_t max;                      /* 0: unlimited */
} lg_address_limit;

void lg_address_limit_init(lg_address_limit *limit, size_t max);
void lg_address_limit_destroy(lg_address_limit *limit);

/* Count one more stream from PEER ("HOST:PORT"; only HOST counts). Returns
 * 0, or -1 when HOST already has MAX streams (nothing is counted then). */
int lg_address_limit_acquire(lg_address_limit *limit, const char *peer);

/* Count one stream from PEER less. */
void lg_address_limit_release(lg_address_limit *limit, const char *peer);

#endif
