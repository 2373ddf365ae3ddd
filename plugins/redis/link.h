/* One asynchronous Redis connection on the core's event base: connect timeout, AUTH and SELECT, reply watchdog. */
#ifndef LG_REDIS_LINK_H
#define LG_REDIS_LINK_H

#include <stdint.h>

#include <event2/event.h>
#include <hiredis/async.h>

#include "address.h"
#include "error.h"

typedef struct redis_link redis_link;

/* Called once the connection is up and AUTH and SELECT succeeded. */
typedef void (*redis_link_ready_fn)(redis_link *link, void *arg);

/* Called once when a connection that redis_link_open started fails or
 * ends, with REASON; not called after redis_link_close. The link is closed
 * by then and may be opened again, from a timer rather than from here. */
typedef void (*redis_link_down_fn)(redis_link *link, const char *reason, void *arg);

struct redis_link {
    /* Set by the owner before redis_link_open. */
    const redis_address *address;
    const char *scope; /* log scope of the instance */
    const char *role;  /* "subscriber", "fetch" or "notify", for logs */
    struct event_base *base;
    int64_t connect_timeout_ms;
    int64_t command_timeout_ms;
    redis_link_ready_fn on_ready;
    redis_link_down_fn on_down;
    void *arg;

    redisAsyncContext *context; /* NULL while closed */
    int connected;              /* TCP or socket connection established */
    int ready;                  /* and AUTH and SELECT succeeded */
    unsigned handshake;         /* AUTH and SELECT replies still expected */
    unsigned waiting;           /* replies the owner still expects */
    int64_t progress_ms;        /* monotonic time of the last reply, or of the first awaited command */
    struct event *connect_timer;
    struct event *watchdog;
};

/* Start connecting LINK. Commands sent before it is ready are queued by
 * hiredis and sent after AUTH and SELECT. Returns 0, or -1 with ERR set
 * when hiredis could not even start (the link stays closed, and on_down is
 * not called). */
int redis_link_open(redis_link *link, lg_error *err);

/* Close LINK at once without calling on_down. Callbacks of commands still
 * waiting are called with a NULL reply. Safe on a closed link. */
void redis_link_close(redis_link *link);

/* Close LINK because of REASON and call on_down. */
void redis_link_fail(redis_link *link, const char *reason);

/* Count one reply the owner waits for, or one that arrived. While any is
 * awaited and none arrives for command_timeout_ms, the link fails with
 * "no reply within ...". */
void redis_link_expect(redis_link *link);
void redis_link_received(redis_link *link);

#endif
