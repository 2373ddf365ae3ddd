/* Allocation wrappers that abort on out-of-memory, the one policy of the whole program. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

static void lg_alloc_fail(size_t size)
{
    fprintf(stderr, "livegate: out of memory allocating %zu bytes, aborting\n", size);
    abort();
}

void *lg_malloc(size_t size)
{
    void *ptr = malloc(size ? size : 1);

    if (ptr == NULL)
        lg_alloc_fail(size);
    return ptr;
}

void *lg_calloc(size_t count, size_t size)
{
    void *ptr = calloc(count ? count : 1, size ? size : 1);

    if (ptr == NULL)
        lg_alloc_fail(count * size);
    return ptr;
}

void *lg_realloc(void *ptr, size_t size)
{
    void *moved = realloc(ptr, size ? size : 1);

    if (moved == NULL)
        lg_alloc_fail(size);
    return moved;
}

char *lg_strdup(const char *s)
{
    return lg_strndup(s, strlen(s));
}

char *lg_strndup(const char *s, size_t len)
{
    char *copy = lg_malloc(len + 1);

    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

void *lg_memdup(const void *data, size_t len)
{
    void *copy = lg_malloc(len);

    if (len > 0)
        memcpy(copy, data, len);
    return copy;
}

char *lg_vsprintf(const char *fmt, va_list args)
{
    va_list copy;
    int len;
    char *out;

    va_copy(copy, args);
    len = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (len < 0)
        lg_alloc_fail(0);

    out = lg_malloc((size_t)len + 1);
    vsnprintf(out, (size_t)len + 1, fmt, args);
    return out;
}

char *lg_sprintf(const char *fmt, ...)
{
    va_list args;
    char *out;

    va_start(args, fmt);
    out = lg_vsprintf(fmt, args);
    va_end(args);
    return out;
}
