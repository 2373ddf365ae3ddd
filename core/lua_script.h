/* Channel scripts: one sandboxed Lua state per script, on_event per event, the livegate module and timers. */
#ifndef LG_LUA_SCRIPT_H
#define LG_LUA_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "error.h"
#include "event.h"
#include "log.h"

/* What a script may use of the process around it. */
typedef struct lg_script_host {
    /* Wakes the script's timers; NULL in tests, which call lg_script_fire_timers. */
    struct event_base *base;
    /* Milliseconds since the Unix epoch for livegate.now and the timers;
     * NULL for the real clock. Tests pass a clock they move themselves. */
    int64_t (*now)(void *arg);
    /* Publish EVENT (a new reference, taken over) into CHANNEL once the
     * current call has returned; HOPS counts how many scripts led to it. */
    void (*emit)(void *arg, const char *channel, lg_event *event, unsigned hops);
    /* A timer callback finished: publish what it emitted. */
    void (*flush)(void *arg);
    void *arg;
} lg_script_host;

typedef struct lg_script_limits {
    int64_t instruction_budget; /* per call */
    int64_t memory_bytes;       /* per state */
    int64_t disable_after;      /* consecutive failed calls before the script is disabled; 0 never */
} lg_script_limits;

typedef struct lg_script lg_script;

struct lg_conf_node;

/* Load the script at PATH into a new sandbox, with CONFIG (may be NULL) as
 * livegate.config, run its top level and check that it defines on_event.
 * Returns NULL with ERR set ("PATH:LINE: reason", or the file error). */
lg_script *lg_script_load(const char *path, const struct lg_conf_node *config, const lg_script_limits *limits,
                          const lg_script_host *host, lg_error *err);

void lg_script_free(lg_script *script);

/* Call on_event for EVENT, which is about to enter CHANNEL (its id and time
 * are set). HOPS is how many scripts produced EVENT before. Appends the
 * events to publish to OUT as new references: none when the script dropped
 * the event, EVENT itself when it passed unchanged, new events otherwise.
 * Returns 0, or -1 with ERR set to the error and its script line (then OUT
 * is unchanged). Failures are counted, and after disable_after failures in
 * a row the script is disabled. */
int lg_script_run(lg_script *script, const char *channel, lg_event *event, unsigned hops, lg_event_list *out,
                  lg_error *err);

/* Run the timer callbacks that are due at NOW_MS (the host's clock), in
 * order of their due times. Returns the due time of the next timer, or -1
 * when there is none or the script is disabled. */
int64_t lg_script_fire_timers(lg_script *script, int64_t now_ms);

const char *lg_script_path(const lg_script *script);

/* Rate-limit state for the script's failure lines, so one noisy script does not
 * hide the errors of another. */
lg_log_limit *lg_script_error_log(lg_script *script);
int lg_script_disabled(const lg_script *script);
uint64_t lg_script_calls(const lg_script *script);
uint64_t lg_script_errors(const lg_script *script);
const char *lg_script_last_error(const lg_script *script);
size_t lg_script_memory(const lg_script *script);

#endif
