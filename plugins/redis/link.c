/* Asynchronous Redis connections driven by hiredis's libevent adapter, with timeouts hiredis 0.14 lacks. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <hiredis/adapters/libevent.h>
#include <hiredis/hiredis.h>

#include "clock.h"
#include "link.h"
#include "log.h"

#define WATCHDOG_MIN_INTERVAL_MS 10
#define REASON_BYTES 256

static struct timeval timeval_from_ms(int64_t ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000 * 1000)};

    return tv;
}

static void stop_timers(redis_link *link)
{
    if (link->connect_timer != NULL)
        event_free(link->connect_timer);
    if (link->watchdog != NULL)
        event_free(link->watchdog);
    link->connect_timer = NULL;
    link->watchdog = NULL;
}

/* Detach and free the context. hiredis defers the free when this runs
 * inside one of its callbacks, and calls the command callbacks still
 * waiting with a NULL reply. */
static void release_context(redis_link *link)
{
    redisAsyncContext *context = link->context;

    link->context = NULL;
    link->connected = 0;
    link->ready = 0;
    link->handshake = 0;
    link->waiting = 0;
    stop_timers(link);
    if (context == NULL)
        return;
    context->data = NULL;
    redisAsyncFree(context);
}

void redis_link_close(redis_link *link)
{
    release_context(link);
}

void redis_link_fail(redis_link *link, const char *reason)
{
    char copy[REASON_BYTES];

    snprintf(copy, sizeof(copy), "%s", reason);
    release_context(link);
    if (link->on_down != NULL)
        link->on_down(link, copy, link->arg);
}

static void become_ready(redis_link *link)
{
    link->ready = 1;
    LG_LOG_INFO(link->scope, "%s connection to %s is ready", link->role, link->address->display);
    if (link->on_ready != NULL)
        link->on_ready(link, link->arg);
}

static void on_handshake_reply(redisAsyncContext *context, void *reply_ptr, void *privdata)
{
    redisReply *reply = reply_ptr;
    redis_link *link = context->data;
    const char *command = privdata;
    char reason[REASON_BYTES];

    if (link == NULL || reply == NULL)
        return;
    if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(reason, sizeof(reason), "%s failed: %s", command, reply->str);
        redis_link_fail(link, reason);
        return;
    }

    redis_link_received(link);
    if (--link->handshake == 0 && link->connected)
        become_ready(link);
}

static void on_connect(const redisAsyncContext *context, int status)
{
    redis_link *link = context->data;
    char reason[REASON_BYTES];

    if (link == NULL)
        return;
    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback. */
        snprintf(reason, sizeof(reason), "connecting failed: %s", context->errstr);
        ((redisAsyncContext *)context)->data = NULL;
        link->context = NULL;
        redis_link_fail(link, reason);
        return;
    }

    link->connected = 1;
    if (link->connect_timer != NULL) {
        event_free(link->connect_timer);
        link->connect_timer = NULL;
    }
    if (link->handshake == 0)
        become_ready(link);
}

static void on_disconnect(const redisAsyncContext *context, int status)
{
    redis_link *link = context->data;
    char reason[REASON_BYTES];

    if (link == NULL)
        return;
    snprintf(reason, sizeof(reason), "connection lost: %s",
             status == REDIS_OK ? "closed" : (context->errstr[0] != '\0' ? context->errstr : "unknown error"));
    ((redisAsyncContext *)context)->data = NULL;
    link->context = NULL;
    redis_link_fail(link, reason);
}

static void on_connect_timeout(evutil_socket_t fd, short what, void *arg)
{
    redis_link *link = arg;
    char reason[REASON_BYTES];

    snprintf(reason, sizeof(reason), "connecting timed out after %lld ms (connect_timeout)",
             (long long)link->connect_timeout_ms);
    redis_link_fail(link, reason);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    redis_link *link = arg;
    char reason[REASON_BYTES];

    if (link->waiting == 0 || lg_clock_monotonic_ms() - link->progress_ms <= link->command_timeout_ms)
        return;
    snprintf(reason, sizeof(reason), "no reply within %lld ms (command_timeout)", (long long)link->command_timeout_ms);
    redis_link_fail(link, reason);
}

void redis_link_expect(redis_link *link)
{
    if (link->waiting++ == 0)
        link->progress_ms = lg_clock_monotonic_ms();
}

void redis_link_received(redis_link *link)
{
    if (link->waiting > 0)
        link->waiting--;
    link->progress_ms = lg_clock_monotonic_ms();
}

static int start_timers(redis_link *link, lg_error *err)
{
    int64_t interval_ms = link->command_timeout_ms / 4;
    struct timeval connect_timeout = timeval_from_ms(link->connect_timeout_ms);
    struct timeval interval;

    if (interval_ms < WATCHDOG_MIN_INTERVAL_MS)
        interval_ms = WATCHDOG_MIN_INTERVAL_MS;
    interval = timeval_from_ms(interval_ms);

    link->connect_timer = evtimer_new(link->base, on_connect_timeout, link);
    link->watchdog = event_new(link->base, -1, EV_PERSIST, on_watchdog, link);
    if (link->connect_timer == NULL || link->watchdog == NULL || evtimer_add(link->connect_timer, &connect_timeout) < 0 ||
        event_add(link->watchdog, &interval) < 0)
        return lg_error_set(err, "creating the %s connection's timers failed", link->role);
    return 0;
}

/* Queue AUTH and SELECT ahead of every other command. */
static int send_handshake(redis_link *link, lg_error *err)
{
    const redis_address *address = link->address;
    int rc = REDIS_OK;

    if (address->password != NULL && address->username != NULL)
        rc = redisAsyncCommand(link->context, on_handshake_reply, "AUTH", "AUTH %s %s", address->username,
                               address->password);
    else if (address->password != NULL)
        rc = redisAsyncCommand(link->context, on_handshake_reply, "AUTH", "AUTH %s", address->password);
    if (rc == REDIS_OK && address->password != NULL) {
        link->handshake++;
        redis_link_expect(link);
    }

    if (rc == REDIS_OK && address->db != 0) {
        rc = redisAsyncCommand(link->context, on_handshake_reply, "SELECT", "SELECT %d", address->db);
        link->handshake++;
        redis_link_expect(link);
    }
    if (rc != REDIS_OK)
        return lg_error_set(err, "queueing AUTH or SELECT on the %s connection failed", link->role);
    return 0;
}

int redis_link_open(redis_link *link, lg_error *err)
{
    const redis_address *address = link->address;
    redisAsyncContext *context;

    if (link->context != NULL)
        return 0;

    /* NOTE: hiredis 0.14 resolves host names with a blocking getaddrinfo;
     * use an IP address or a Unix socket where that matters. */
    if (address->socket_path != NULL)
        context = redisAsyncConnectUnix(address->socket_path);
    else
        context = redisAsyncConnect(address->host, address->port);
    if (context == NULL)
        return lg_error_set(err, "redisAsyncConnect failed for the %s connection to %s: out of memory", link->role,
                            address->display);
    if (context->err) {
        lg_error_set(err, "connecting the %s connection to %s failed: %s", link->role, address->display,
                     context->errstr);
        redisAsyncFree(context);
        return -1;
    }

    link->context = context;
    context->data = link;
    link->connected = 0;
    link->ready = 0;
    link->handshake = 0;
    link->waiting = 0;
    if (redisLibeventAttach(context, link->base) != REDIS_OK ||
        redisAsyncSetConnectCallback(context, on_connect) != REDIS_OK ||
        redisAsyncSetDisconnectCallback(context, on_disconnect) != REDIS_OK || start_timers(link, err) < 0 ||
        send_handshake(link, err) < 0) {
        if (err->message[0] == '\0')
            lg_error_set(err, "setting up the %s connection to %s failed", link->role, address->display);
        release_context(link);
        return -1;
    }
    return 0;
}
