/* uthash, with its allocations routed through the abort-on-failure allocator. */
#ifndef LG_HASHMAP_H
#define LG_HASHMAP_H

#include "alloc.h"

#define uthash_malloc(size) lg_malloc(size)
#define uthash_free(ptr, size) free(ptr)

#include <stdlib.h>
#include <uthash.h>

#endif
