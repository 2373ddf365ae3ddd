/* Memory allocation wrappers: livegate aborts on out-of-memory, so callers never check for NULL. */
#ifndef LG_ALLOC_H
#define LG_ALLOC_H

#include <stddef.h>
#include <stdarg.h>

/* Allocate, or log the size and abort the process when memory is exhausted.
 * A process that cannot allocate a few bytes cannot keep its promises to
 * clients, so it stops at once and lets the supervisor restart it. */
void *lg_malloc(size_t size);
void *lg_calloc(size_t count, size_t size);
void *lg_realloc(void *ptr, size_t size);
char *lg_strdup(const char *s);
char *lg_strndup(const char *s, size_t len);
void *lg_memdup(const void *data, size_t len);

/* Format into a new string, like asprintf(3), aborting on out-of-memory. */
char *lg_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *lg_vsprintf(const char *fmt, va_list args) __attribute__((format(printf, 1, 0)));

#endif
