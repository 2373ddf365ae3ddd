/* Connection counts per client address, guarded by one mutex taken only at connect and disconnect. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "address_limit.h"
#include "alloc.h"
#include "hashmap.h"

typedef struct lg_address_count {
    char *host;
    size_t count;
    UT_hash_handle hh;
} lg_address_count;

void lg_address_limit_init(lg_address_limit *limit, size_t max)
{
    pthread_mutex_init(&limit->lock, NULL);
    limit->counts = NULL;
    limit->max = max;
}

void lg_address_limit_destroy(lg_address_limit *limit)
{
    lg_address_count *entry;
    lg_address_count *tmp;

    HASH_ITER(hh, limit->counts, entry, tmp)
    {
        HASH_DEL(limit->counts, entry);
        free(entry->host);
        free(entry);
    }
    pthread_mutex_destroy(&limit->lock);
}

/* Return the host part of "HOST:PORT" as a new string. */
static char *lg_address_host(const char *peer)
{
    const char *colon = strrchr(peer, ':');

    return colon != NULL ? lg_strndup(peer, (size_t)(colon - peer)) : lg_strdup(peer);
}

int lg_address_limit_acquire(lg_address_limit *limit, const char *peer)
{
    char *host;
    lg_address_count *entry;
    int rc = 0;

    if (limit == NULL || limit->max == 0)
        return 0;

    host = lg_address_host(peer);
    pthread_mutex_lock(&limit->lock);
    HASH_FIND_STR(limit->counts, host, entry);
    if (entry == NULL) {
        entry = lg_calloc(1, sizeof(*entry));
        entry->host = host;
        host = NULL;
        HASH_ADD_KEYPTR(hh, limit->counts, entry->host, strlen(entry->host), entry);
    }
    if (entry->count >= limit->max)
        rc = -1;
    else
        entry->count++;
    pthread_mutex_unlock(&limit->lock);
    free(host);
    return rc;
}

void lg_address_limit_release(lg_address_limit *limit, const char *peer)
{
    char *host;
    lg_address_count *entry;

    if (limit == NULL || limit->max == 0)
        return;

    host = lg_address_host(peer);
    pthread_mutex_lock(&limit->lock);
    HASH_FIND_STR(limit->counts, host, entry);
    if (entry != NULL && entry->count > 0 && --entry->count == 0) {
        HASH_DEL(limit->counts, entry);
        free(entry->host);
        free(entry);
    }
    pthread_mutex_unlock(&limit->lock);
    free(host);
}
