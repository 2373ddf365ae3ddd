/* Logging: levels, a scope prefix per plugin instance, and rate-limited repeats per call site. */
#ifndef LG_LOG_H
#define LG_LOG_H

#include <stdarg.h>
#include <stdint.h>

typedef enum lg_log_level {
    LG_LOG_ERROR = 0,
    LG_LOG_WARN,
    LG_LOG_INFO,
    LG_LOG_DEBUG,
} lg_log_level;

/* Rate-limit state of one scope at one call site. */
typedef struct lg_log_scope_limit {
    uint64_t scope_hash; /* 0: slot unused */
    int64_t window_start_ms;
    unsigned count;
    unsigned suppressed;
} lg_log_scope_limit;

/* Scopes a call site limits separately. Scopes past this share the last slot. */
#define LG_LOG_LIMIT_SCOPES 8

/* Rate-limit state of one call site. Each LG_LOG_* macro use owns one, so a
 * repeated error logs a burst, then one summary line per window. Each scope
 * (plugin instance) has its own burst, so that one failing source cannot
 * hide the errors of another source of the same type. */
typedef struct lg_log_limit {
    lg_log_scope_limit scopes[LG_LOG_LIMIT_SCOPES];
} lg_log_limit;

/* Maximum lines per call site and window before repeats are counted, not printed. */
#define LG_LOG_DEFAULT_BURST 5
#define LG_LOG_DEFAULT_WINDOW_MS 10000

/* Open FILE for appending (NULL or "-" means stderr). Returns 0, or -1 with
 * errno set; the previous destination stays in use on failure. */
int lg_log_open(const char *file);

/* Reopen the current log file after rotation (SIGHUP). Returns 1 when it reopened
 * the file, 0 when logging goes to standard error, or -1 with errno set. */
int lg_log_reopen(void);

void lg_log_close(void);
void lg_log_set_level(lg_log_level level);
void lg_log_set_rate_limit(unsigned burst, unsigned window_ms);
int lg_log_enabled(lg_log_level level);

/* Parse "error", "warn", "info" or "debug". Returns 0, or -1 when unknown. */
int lg_log_level_parse(const char *name, lg_log_level *level);
const char *lg_log_level_name(lg_log_level level);

/* Route libevent's own warnings and errors into this log. */
void lg_log_route_libevent(void);

/* Write one line. LIMIT may be NULL for lines that are never rate-limited. */
void lg_log_write(lg_log_limit *limit, lg_log_level level, const char *scope, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void lg_log_vwrite(lg_log_limit *limit, lg_log_level level, const char *scope, const char *fmt, va_list args)
    __attribute__((format(printf, 4, 0)));

#define LG_LOG_AT(level, scope, ...)                                  \
    do {                                                              \
        if (lg_log_enabled(level)) {                                  \
            static lg_log_limit lg_log_site_limit;                    \
            lg_log_write(&lg_log_site_limit, level, scope, __VA_ARGS__); \
        }                                                             \
    } while (0)

#define LG_LOG_ERROR(scope, ...) LG_LOG_AT(LG_LOG_ERROR, scope, __VA_ARGS__)
#define LG_LOG_WARN(scope, ...) LG_LOG_AT(LG_LOG_WARN, scope, __VA_ARGS__)
#define LG_LOG_INFO(scope, ...) LG_LOG_AT(LG_LOG_INFO, scope, __VA_ARGS__)
#define LG_LOG_DEBUG(scope, ...) LG_LOG_AT(LG_LOG_DEBUG, scope, __VA_ARGS__)

#endif
