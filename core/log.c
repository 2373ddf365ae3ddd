/* Log writer: one mutex-guarded destination, UTC timestamps, per-site rate limits. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "alloc.h"
#include "clock.h"
#include "log.h"

#define LG_LOG_LINE_BYTES 4096

static pthread_mutex_t lg_log_mutex = PTHREAD_MUTEX_INITIALIZER;
static int lg_log_fd = STDERR_FILENO;
static char *lg_log_path;
static volatile lg_log_level lg_log_threshold = LG_LOG_INFO;
static unsigned lg_log_burst = LG_LOG_DEFAULT_BURST;
static unsigned lg_log_window_ms = LG_LOG_DEFAULT_WINDOW_MS;

static const char *const lg_log_level_names[] = {"error", "warn", "info", "debug"};

static int lg_log_open_fd(const char *file)
{
    return open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int lg_log_open(const char *file)
{
    int fd = STDERR_FILENO;
    char *path = NULL;

    if (file != NULL && strcmp(file, "-") != 0 && file[0] != '\0') {
        fd = lg_log_open_fd(file);
        if (fd < 0)
            return -1;
        path = lg_strdup(file);
    }

    pthread_mutex_lock(&lg_log_mutex);
    if (lg_log_fd != STDERR_FILENO)
        close(lg_log_fd);
    free(lg_log_path);
    lg_log_fd = fd;
    lg_log_path = path;
    pthread_mutex_unlock(&lg_log_mutex);
    return 0;
}

int lg_log_reopen(void)
{
    int fd;
    int rc = 0;

    pthread_mutex_lock(&lg_log_mutex);
    if (lg_log_path != NULL) {
        fd = lg_log_open_fd(lg_log_path);
        if (fd < 0) {
            rc = -1;
        } else {
            close(lg_log_fd);
            lg_log_fd = fd;
            rc = 1;
        }
    }
    pthread_mutex_unlock(&lg_log_mutex);
    return rc;
}

void lg_log_close(void)
{
    lg_log_open(NULL);
}

void lg_log_set_level(lg_log_level level)
{
    lg_log_threshold = level;
}

void lg_log_set_rate_limit(unsigned burst, unsigned window_ms)
{
    pthread_mutex_lock(&lg_log_mutex);
    lg_log_burst = burst;
    lg_log_window_ms = window_ms;
    pthread_mutex_unlock(&lg_log_mutex);
}

int lg_log_enabled(lg_log_level level)
{
    return level <= lg_log_threshold;
}

int lg_log_level_parse(const char *name, lg_log_level *level)
{
    for (size_t i = 0; i < sizeof(lg_log_level_names) / sizeof(lg_log_level_names[0]); i++) {
        if (strcmp(name, lg_log_level_names[i]) == 0) {
            *level = (lg_log_level)i;
            return 0;
        }
    }
    return -1;
}

const char *lg_log_level_name(lg_log_level level)
{
    if ((unsigned)level >= sizeof(lg_log_level_names) / sizeof(lg_log_level_names[0]))
        return "unknown";
    return lg_log_level_names[level];
}

/* FNV-1a hash of SCOPE, never 0 (0 marks an unused slot). */
static uint64_t lg_log_scope_hash(const char *scope)
{
    uint64_t hash = 14695981039346656037ULL;

    for (const char *p = scope != NULL ? scope : "core"; *p != '\0'; p++) {
        hash ^= (unsigned char)*p;
        hash *= 1099511628211ULL;
    }
    return hash != 0 ? hash : 1;
}

/* Return the slot of SCOPE in LIMIT, taking a free one for a new scope. */
static lg_log_scope_limit *lg_log_scope_slot(lg_log_limit *limit, const char *scope)
{
    uint64_t hash = lg_log_scope_hash(scope);

    for (size_t i = 0; i < LG_LOG_LIMIT_SCOPES; i++) {
        lg_log_scope_limit *slot = &limit->scopes[i];

        if (slot->scope_hash == hash)
            return slot;
        if (slot->scope_hash == 0) {
            slot->scope_hash = hash;
            return slot;
        }
    }
    return &limit->scopes[LG_LOG_LIMIT_SCOPES - 1];
}

/* Decide under the log mutex whether this call site may print now for
 * SCOPE. Returns 1 to print, 0 to count the line as suppressed. *SUPPRESSED
 * receives the number of lines hidden before, to report once with the
 * printed line. NOW_MS is monotonic, so that a wall clock stepped back
 * cannot stretch a window. */
static int lg_log_admit(lg_log_limit *site, const char *scope, int64_t now_ms, unsigned *suppressed)
{
    lg_log_scope_limit *limit;

    *suppressed = 0;
    if (site == NULL)
        return 1;
    limit = lg_log_scope_slot(site, scope);

    /* With rate limiting turned off (a burst of 0 after a reload), every line
     * prints, and the count hidden before the change goes with the first one. */
    if (lg_log_burst == 0) {
        *suppressed = limit->suppressed;
        limit->suppressed = 0;
        return 1;
    }

    if (limit->window_start_ms == 0 || now_ms - limit->window_start_ms >= (int64_t)lg_log_window_ms) {
        *suppressed = limit->suppressed;
        limit->window_start_ms = now_ms;
        limit->count = 0;
        limit->suppressed = 0;
    }

    if (limit->count < lg_log_burst) {
        limit->count++;
        return 1;
    }
    limit->suppressed++;
    return 0;
}

static size_t lg_log_format_prefix(char *line, size_t size, int64_t now_ms, lg_log_level level, const char *scope)
{
    time_t seconds = (time_t)(now_ms / 1000);
    struct tm tm;
    int len;

    gmtime_r(&seconds, &tm);
    len = snprintf(line, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ [%s] [%s] ", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(now_ms % 1000), lg_log_level_name(level),
                   scope != NULL ? scope : "core");
    return len > 0 ? (size_t)len : 0;
}

static void lg_log_emit(const char *line, size_t len)
{
    ssize_t written;

    while (len > 0) {
        written = write(lg_log_fd, line, len);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            return;
        line += written;
        len -= (size_t)written;
    }
}

void lg_log_vwrite(lg_log_limit *limit, lg_log_level level, const char *scope, const char *fmt, va_list args)
{
    char line[LG_LOG_LINE_BYTES];
    int64_t now_ms = lg_clock_wall_ms();
    unsigned suppressed;
    size_t len;
    int body;

    pthread_mutex_lock(&lg_log_mutex);
    if (!lg_log_admit(limit, scope, lg_clock_monotonic_ms(), &suppressed)) {
        pthread_mutex_unlock(&lg_log_mutex);
        return;
    }

    if (suppressed > 0) {
        len = lg_log_format_prefix(line, sizeof(line), now_ms, level, scope);
        body = snprintf(line + len, sizeof(line) - len, "%u similar messages were suppressed\n", suppressed);
        if (body > 0)
            lg_log_emit(line, len + (size_t)body);
    }

    len = lg_log_format_prefix(line, sizeof(line), now_ms, level, scope);
    body = vsnprintf(line + len, sizeof(line) - len - 1, fmt, args);
    if (body < 0)
        body = 0;
    len += (size_t)body;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    lg_log_emit(line, len);
    pthread_mutex_unlock(&lg_log_mutex);
}

void lg_log_write(lg_log_limit *limit, lg_log_level level, const char *scope, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    lg_log_vwrite(limit, level, scope, fmt, args);
    va_end(args);
}

static void lg_log_libevent(int severity, const char *msg)
{
    static lg_log_limit limit;
    lg_log_level level;

    switch (severity) {
    case EVENT_LOG_DEBUG:
        level = LG_LOG_DEBUG;
        break;
    case EVENT_LOG_MSG:
        level = LG_LOG_INFO;
        break;
    case EVENT_LOG_WARN:
        level = LG_LOG_WARN;
        break;
    default:
        level = LG_LOG_ERROR;
        break;
    }
    if (lg_log_enabled(level))
        lg_log_write(&limit, level, "libevent", "%s", msg);
}

void lg_log_route_libevent(void)
{
    event_set_log_callback(lg_log_libevent);
}
