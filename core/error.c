/* Error message buffers with printf-style setters. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "error.h"

int lg_error_vset(lg_error *err, const char *fmt, va_list args)
{
    if (err != NULL)
        vsnprintf(err->message, sizeof(err->message), fmt, args);
    return -1;
}

int lg_error_set(lg_error *err, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    lg_error_vset(err, fmt, args);
    va_end(args);
    return -1;
}

int lg_error_prefix(lg_error *err, const char *fmt, ...)
{
    char joined[2 * LG_ERROR_MESSAGE_BYTES];
    size_t len;
    va_list args;
    int written;

    if (err == NULL)
        return -1;

    va_start(args, fmt);
    written = vsnprintf(joined, LG_ERROR_MESSAGE_BYTES, fmt, args);
    va_end(args);
    len = written < 0 ? 0 : strlen(joined);

    memcpy(joined + len, ": ", 2);
    memcpy(joined + len + 2, err->message, sizeof(err->message));
    joined[sizeof(joined) - 1] = '\0';

    memcpy(err->message, joined, sizeof(err->message) - 1);
    err->message[sizeof(err->message) - 1] = '\0';
    return -1;
}

void lg_error_clear(lg_error *err)
{
    if (err != NULL)
        err->message[0] = '\0';
}
