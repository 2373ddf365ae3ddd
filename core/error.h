/* Error reports: one message buffer that a failing call fills and its caller prints. */
#ifndef LG_ERROR_H
#define LG_ERROR_H

#include <stdarg.h>

#define LG_ERROR_MESSAGE_BYTES 1024

typedef struct lg_error {
    char message[LG_ERROR_MESSAGE_BYTES];
} lg_error;

/* Replace the message of ERR (ignored when ERR is NULL). Always returns -1,
 * so a failing function can end with "return lg_error_set(err, ...);". */
int lg_error_set(lg_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int lg_error_vset(lg_error *err, const char *fmt, va_list args) __attribute__((format(printf, 2, 0)));

/* Put "PREFIX: " in front of the current message, to add context on the way up. */
int lg_error_prefix(lg_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void lg_error_clear(lg_error *err);

#endif
