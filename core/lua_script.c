/* Channel scripts: loading, on_event calls, event tables, the livegate module and script timers. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <lauxlib.h>

#include "alloc.h"
#include "buf.h"
#include "clock.h"
#include "conf.h"
#include "log.h"
#include "lua_json.h"
#include "lua_sandbox.h"
#include "lua_script.h"
#include "names.h"

/* Largest script file read. */
#define LG_SCRIPT_MAX_BYTES (4 * 1024 * 1024)

/* Shortest interval of livegate.every and livegate.after. */
#define LG_SCRIPT_MIN_TIMER_MS 10

/* Private keys of an event table: the payload as given, and whether it is JSON. */
static const char lg_script_payload_key = 'p';
static const char lg_script_json_key = 'j';
static const char lg_script_event_mt_key = 'e';

typedef struct lg_script_timer {
    lg_script *script;
    int function_ref;
    int64_t interval_ms; /* 0 for a one-shot timer */
    int64_t due_ms;      /* on the host's clock */
    lua_Integer id;
    TAILQ_ENTRY(lg_script_timer) link;
} lg_script_timer;

/* Events emitted by one call, handed to the host only when the call succeeds. */
typedef struct lg_script_emit_list {
    struct lg_script_pending_emit {
        char *channel;
        lg_event *event;
        unsigned hops;
    } *items;
    size_t count;
    size_t cap;
} lg_script_emit_list;

struct lg_script {
    char *path;
    char *scope;
    lg_lua_sandbox *sandbox;
    lua_State *L;
    int on_event_ref;
    lg_script_host host;
    lg_script_limits limits;

    uint64_t calls;
    uint64_t errors;
    uint64_t consecutive_errors;
    int disabled;
    char *last_error;
    lg_log_limit error_log; /* failures are rate-limited per script, not per log statement */
    lg_log_limit user_log;  /* the same for livegate.log lines */

    unsigned hops; /* of the event being processed, for emits */
    int loading;   /* the top level runs: livegate.emit is not available */
    lg_script_emit_list emits; /* emitted by the current call, published when it succeeds */
    int raw_input;  /* the event being processed has a raw (not JSON) payload */

    TAILQ_HEAD(, lg_script_timer) timers;
    lua_Integer next_timer_id;
    struct event *wake; /* fires at the earliest timer; NULL without an event base */
};

static lg_script *lg_script_self(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* ---- emits ---- */

static void lg_script_emits_push(lg_script *script, const char *channel, lg_event *event, unsigned hops)
{
    lg_script_emit_list *emits = &script->emits;

    if (emits->count == emits->cap) {
        emits->cap = emits->cap > 0 ? 2 * emits->cap : 8;
        emits->items = lg_realloc(emits->items, emits->cap * sizeof(*emits->items));
    }
    emits->items[emits->count].channel = lg_strdup(channel);
    emits->items[emits->count].event = event;
    emits->items[emits->count].hops = hops;
    emits->count++;
}

/* End a call: hand its emits to the host when it succeeded (SUCCEEDED),
 * drop them when it failed, since a failed call has no effect. */
static void lg_script_emits_finish(lg_script *script, int succeeded)
{
    lg_script_emit_list *emits = &script->emits;

    for (size_t i = 0; i < emits->count; i++) {
        if (succeeded)
            script->host.emit(script->host.arg, emits->items[i].channel, emits->items[i].event, emits->items[i].hops);
        else
            lg_event_unref(emits->items[i].event);
        free(emits->items[i].channel);
    }
    emits->count = 0;
}

/* ---- values to payloads ---- */

/* Turn the Lua value at INDEX into payload bytes in OUT: a string is taken
 * as it is when RAW (the input payload was not JSON), anything else becomes
 * JSON. Returns 0, or -1 with ERR set. */
static int lg_script_payload(lua_State *L, int index, int raw, lg_buf *out, lg_error *err)
{
    size_t len;
    const char *s;

    if (raw && lua_type(L, index) == LUA_TSTRING) {
        s = lua_tolstring(L, index, &len);
        lg_buf_append(out, s, len);
        return 0;
    }
    return lg_lua_json_encode(L, index, out, err);
}

/* ---- event tables ---- */

/* __index of event tables: the payload is decoded on the first read of
 * "data", so a script that never reads it pays nothing for JSON. */
static int lg_script_event_index(lua_State *L)
{
    size_t len;
    const char *payload;
    lg_error err;

    if (lua_type(L, 2) != LUA_TSTRING || strcmp(lua_tostring(L, 2), "data") != 0)
        return 0;
    if (lua_rawgetp(L, 1, &lg_script_payload_key) != LUA_TSTRING)
        return 0;
    payload = lua_tolstring(L, -1, &len);

    lua_rawgetp(L, 1, &lg_script_json_key);
    if (!lua_toboolean(L, -1) || lg_lua_json_decode(L, payload, len, &err) < 0)
        lua_pushvalue(L, -2);

    /* Cache the value, so that changes to it stay with the event. */
    lua_pushvalue(L, -1);
    lua_setfield(L, 1, "data");
    return 1;
}

static void lg_script_set_string(lua_State *L, int table, const char *name, const char *value)
{
    if (value == NULL)
        return;
    lua_pushstring(L, value);
    lua_setfield(L, table, name);
}

static void lg_script_push_event(lua_State *L, const char *channel, const lg_event *event)
{
    int table;

    lua_createtable(L, 0, 8);
    table = lua_gettop(L);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &lg_script_event_mt_key);
    lua_setmetatable(L, table);

    lg_script_set_string(L, table, "channel", channel);
    lg_script_set_string(L, table, "id", event->id);
    lg_script_set_string(L, table, "key", event->key);
    lg_script_set_string(L, table, "type", event->type);
    lua_pushinteger(L, (lua_Integer)event->time_ms);
    lua_setfield(L, table, "time");

    lua_pushlstring(L, event->data, event->data_len);
    lua_rawsetp(L, table, &lg_script_payload_key);
    lua_pushboolean(L, event->data_is_json);
    lua_rawsetp(L, table, &lg_script_json_key);
}

/* Read optional string field NAME of the table at INDEX into *VALUE (a new
 * string or NULL). Returns 0, or -1 with ERR set. */
static int lg_script_get_string(lua_State *L, int index, const char *name, char **value, lg_error *err)
{
    int type = lua_getfield(L, index, name);

    *value = NULL;
    if (type == LUA_TSTRING || type == LUA_TNUMBER)
        *value = lg_strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    if (type != LUA_TNIL && *value == NULL)
        return lg_error_set(err, "event field '%s' must be a string, got a %s", name, lua_typename(L, type));
    return 0;
}

static int lg_script_get_time(lua_State *L, int index, int64_t fallback, int64_t *time_ms, lg_error *err)
{
    int type = lua_getfield(L, index, "time");
    int rc = 0;

    *time_ms = fallback;
    if (type == LUA_TNUMBER) {
        lua_Number value = lua_tonumber(L, -1);

        if (lua_isinteger(L, -1))
            *time_ms = (int64_t)lua_tointeger(L, -1);
        else if (isfinite(value) && value == floor(value) && fabs(value) < 9e15)
            *time_ms = (int64_t)value;
        else
            rc = lg_error_set(err, "event field 'time' must be an integer of milliseconds");
    } else if (type != LUA_TNIL) {
        rc = lg_error_set(err, "event field 'time' must be an integer of milliseconds, got a %s",
                          lua_typename(L, type));
    }
    lua_pop(L, 1);
    return rc;
}

/* Push the raw "data" field of the table at INDEX (no decoding) and return its type. */
static int lg_script_rawget_data(lua_State *L, int index)
{
    index = lua_absindex(L, index);
    lua_pushstring(L, "data");
    return lua_rawget(L, index);
}

static int lg_script_same_string(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Turn the event table at INDEX into an event for CHANNEL. An unchanged
 * input table gives INPUT itself. Returns the event (a new reference), or
 * NULL with ERR set. */
static lg_event *lg_script_to_event(lg_script *script, int index, const char *channel, lg_event *input,
                                    lg_error *err)
{
    lua_State *L = script->L;
    lg_buf payload = LG_BUF_INIT;
    lg_event *event = NULL;
    char *target = NULL;
    char *key = NULL;
    char *type = NULL;
    int64_t time_ms;
    int data_type;
    int untouched;

    index = lua_absindex(L, index);
    if (lg_script_get_string(L, index, "channel", &target, err) < 0 ||
        lg_script_get_string(L, index, "key", &key, err) < 0 || lg_script_get_string(L, index, "type", &type, err) < 0 ||
        lg_script_get_time(L, index, input->time_ms, &time_ms, err) < 0)
        goto done;
    if (target != NULL && strcmp(target, channel) != 0) {
        lg_error_set(err, "on_event returned an event for channel '%s' instead of '%s': use livegate.emit to "
                          "publish to another channel", target, channel);
        goto done;
    }
    if ((type != NULL && lg_event_type_check(type, err) < 0) || (key != NULL && lg_event_key_check(key, err) < 0))
        goto done;

    data_type = lg_script_rawget_data(L, index);
    untouched = data_type == LUA_TNIL && lua_rawgetp(L, index, &lg_script_payload_key) == LUA_TSTRING;
    if (data_type == LUA_TNIL && !untouched) {
        lua_pop(L, 2);
        lg_error_set(err, "event has no 'data' field");
        goto done;
    }

    if (untouched) {
        /* The table's own payload: it may be an event table kept from an earlier call. */
        size_t len;
        const char *data = lua_tolstring(L, -1, &len);

        lg_buf_append(&payload, data, len);
        lua_pop(L, 2);
    } else {
        int rc = lg_script_payload(L, -1, script->raw_input, &payload, err);

        lua_pop(L, 1);
        if (rc < 0)
            goto done;
    }

    /* A script that only read the data gives back the same bytes: keep the input event. */
    if (payload.len == input->data_len && memcmp(payload.data != NULL ? payload.data : "", input->data,
                                                 payload.len) == 0 &&
        lg_script_same_string(key, input->key) && lg_script_same_string(type, input->type) &&
        time_ms == input->time_ms) {
        event = lg_event_ref(input);
        goto done;
    }
    event = lg_event_new(key, type, payload.data != NULL ? payload.data : "", payload.len, time_ms);

done:
    lg_buf_free(&payload);
    free(target);
    free(key);
    free(type);
    return event;
}

/* Return 1 when the table at INDEX is an event (an event table, or a table
 * with a "data" field) rather than a list of events. */
static int lg_script_is_event(lua_State *L, int index)
{
    int is_event;

    index = lua_absindex(L, index);
    if (lua_getmetatable(L, index)) {
        lua_rawgetp(L, LUA_REGISTRYINDEX, &lg_script_event_mt_key);
        is_event = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
        if (is_event)
            return 1;
    }
    is_event = lg_script_rawget_data(L, index) != LUA_TNIL;
    lua_pop(L, 1);
    return is_event;
}

/* Convert what on_event returned (at the top of the stack) into OUT.
 * Returns 0, or -1 with ERR set and OUT unchanged. */
static int lg_script_collect(lg_script *script, const char *channel, lg_event *input, lg_event_list *out,
                             lg_error *err)
{
    lua_State *L = script->L;
    int result = lua_gettop(L);
    lg_event_list found = {0};
    lua_Integer n;

    if (lua_isnil(L, result))
        return 0;
    if (!lua_istable(L, result))
        return lg_error_set(err, "on_event must return the event, nil or a list of events, not a %s",
                            luaL_typename(L, result));

    if (lg_script_is_event(L, result)) {
        lg_event *event = lg_script_to_event(script, result, channel, input, err);

        if (event == NULL)
            return -1;
        lg_event_list_push(out, event);
        return 0;
    }

    n = (lua_Integer)lua_rawlen(L, result);
    for (lua_Integer i = 1; i <= n; i++) {
        lg_event *event = NULL;

        lua_rawgeti(L, result, i);
        if (!lua_istable(L, -1) || !lg_script_is_event(L, -1))
            lg_error_set(err, "item %lld of the list returned by on_event is not an event", (long long)i);
        else
            event = lg_script_to_event(script, -1, channel, input, err);
        lua_pop(L, 1);
        if (event == NULL) {
            lg_event_list_clear(&found);
            return -1;
        }
        lg_event_list_push(&found, event);
    }

    for (size_t i = 0; i < found.count; i++)
        lg_event_list_push(out, found.items[i]);
    free(found.items);
    return 0;
}

static void lg_script_note_failure(lg_script *script, const char *message)
{
    script->errors++;
    script->consecutive_errors++;
    free(script->last_error);
    script->last_error = lg_strdup(message);

    if (script->limits.disable_after > 0 && !script->disabled &&
        script->consecutive_errors >= (uint64_t)script->limits.disable_after) {
        script->disabled = 1;
        LG_LOG_ERROR(script->scope, "disabled after %llu failed calls in a row (server.lua.disable_after); the last: %s",
                     (unsigned long long)script->consecutive_errors, message);
    }
}

/* One on_event call, handed to lg_script_invoke through a light userdata. */
typedef struct lg_script_call {
    lg_script *script;
    const char *channel;
    lg_event *event;
    lg_event_list *out;
    lg_error err;
} lg_script_call;

/* Build the event table, call on_event and collect its result, all inside
 * the protected call: any allocation can fail once the state reaches its
 * memory cap, and that must stop this call only. */
static int lg_script_invoke(lua_State *L)
{
    lg_script_call *call = lua_touserdata(L, 1);

    lua_rawgeti(L, LUA_REGISTRYINDEX, call->script->on_event_ref);
    lg_script_push_event(L, call->channel, call->event);
    lua_call(L, 1, 1);

    /* NOTE: a memory error raised while collecting leaks the C memory of the
     * events built so far; it takes a script at its memory cap to get here. */
    if (lg_script_collect(call->script, call->channel, call->event, call->out, &call->err) < 0)
        return luaL_error(L, "%s", call->err.message);
    return 0;
}

int lg_script_run(lg_script *script, const char *channel, lg_event *event, unsigned hops, lg_event_list *out,
                  lg_error *err)
{
    lua_State *L = script->L;
    lg_script_call call = {script, channel, event, out, {{0}}};
    int top = lua_gettop(L);
    int rc;

    script->calls++;
    script->hops = hops;
    script->raw_input = !event->data_is_json;

    lua_pushcfunction(L, lg_script_invoke);
    lua_pushlightuserdata(L, &call);
    rc = lg_lua_sandbox_call(script->sandbox, 1, 0, script->limits.instruction_budget, err);
    lua_settop(L, top);
    lg_script_emits_finish(script, rc == 0);

    if (rc < 0) {
        /* Errors without a position (memory, our own checks) get the script's name. */
        if (strncmp(err->message, script->path, strlen(script->path)) != 0)
            lg_error_prefix(err, "%s", script->path);
        lg_script_note_failure(script, err->message);
        return -1;
    }
    script->consecutive_errors = 0;
    return 0;
}

/* ---- the livegate module ---- */

/* livegate.emit(channel, data [, {key=, type=, time=}]): publish into
 * another channel once the current call returns. A string is sent as it is,
 * any other value as JSON. */
static int64_t lg_script_now_ms(const lg_script *script);

static int lg_script_emit(lua_State *L)
{
    lg_script *script = lg_script_self(L);
    const char *channel = luaL_checkstring(L, 1);
    lg_buf payload = LG_BUF_INIT;
    lg_event *event;
    char *key = NULL;
    char *type = NULL;
    int64_t time_ms = lg_script_now_ms(script);
    lg_error err;
    int rc = 0;

    if (script->loading)
        return luaL_error(L, "livegate.emit: not available while the script loads; call it from on_event or a timer");
    luaL_checkany(L, 2);
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        rc = lg_script_get_string(L, 3, "key", &key, &err);
        if (rc == 0)
            rc = lg_script_get_string(L, 3, "type", &type, &err);
        if (rc == 0)
            rc = lg_script_get_time(L, 3, time_ms, &time_ms, &err);
    }
    if (rc == 0 && lg_channel_name_check(channel, &err) < 0)
        rc = -1;
    if (rc == 0 && ((type != NULL && lg_event_type_check(type, &err) < 0) ||
                    (key != NULL && lg_event_key_check(key, &err) < 0)))
        rc = -1;
    if (rc == 0)
        rc = lg_script_payload(L, 2, 1, &payload, &err);
    if (rc < 0) {
        free(key);
        free(type);
        lg_buf_free(&payload);
        return luaL_error(L, "livegate.emit: %s", err.message);
    }

    event = lg_event_new(key, type, payload.data != NULL ? payload.data : "", payload.len, time_ms);
    free(key);
    free(type);
    lg_buf_free(&payload);
    lg_script_emits_push(script, channel, event, script->hops + 1);
    return 0;
}

static int lg_script_log(lua_State *L)
{
    lg_script *script = lg_script_self(L);
    const char *name = luaL_checkstring(L, 1);
    luaL_Buffer line;
    lg_log_level level;
    int n = lua_gettop(L);

    if (lg_log_level_parse(name, &level) < 0)
        return luaL_error(L, "livegate.log: unknown level '%s' (use debug, info, warn or error)", name);
    luaL_buffinit(L, &line);
    for (int i = 2; i <= n; i++) {
        if (i > 2)
            luaL_addchar(&line, ' ');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&line);
    }
    luaL_pushresult(&line);
    if (lg_log_enabled(level))
        lg_log_write(&script->user_log, level, script->scope, "%s", lua_tostring(L, -1));
    return 0;
}

static int lg_script_now(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)lg_script_now_ms(lg_script_self(L)));
    return 1;
}

static int lg_script_json_encode(lua_State *L)
{
    lg_buf out = LG_BUF_INIT;
    lg_error err;

    luaL_checkany(L, 1);
    if (lg_lua_json_encode(L, 1, &out, &err) < 0) {
        lg_buf_free(&out);
        return luaL_error(L, "livegate.json_encode: %s", err.message);
    }
    lua_pushlstring(L, out.data != NULL ? out.data : "", out.len);
    lg_buf_free(&out);
    return 1;
}

static int lg_script_json_decode(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    lg_error err;

    if (lg_lua_json_decode(L, text, len, &err) < 0)
        return luaL_error(L, "livegate.json_decode: %s", err.message);
    return 1;
}

/* livegate.array([t]) and livegate.object([t]): mark a table (a new one when
 * none is given) so that it encodes as a JSON array or object even when empty. */
static int lg_script_mark(lua_State *L, int array)
{
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    } else {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_settop(L, 1);
    }
    if (array)
        lg_lua_json_mark_array(L, 1);
    else
        lg_lua_json_mark_object(L, 1);
    return 1;
}

static int lg_script_array(lua_State *L)
{
    return lg_script_mark(L, 1);
}

static int lg_script_object(lua_State *L)
{
    return lg_script_mark(L, 0);
}

/* ---- timers ---- */

static int64_t lg_script_now_ms(const lg_script *script)
{
    return script->host.now != NULL ? script->host.now(script->host.arg) : lg_clock_wall_ms();
}

static void lg_script_timer_free(lg_script_timer *timer)
{
    lg_script *script = timer->script;

    TAILQ_REMOVE(&script->timers, timer, link);
    luaL_unref(script->L, LUA_REGISTRYINDEX, timer->function_ref);
    free(timer);
}

static lg_script_timer *lg_script_next_timer(const lg_script *script)
{
    lg_script_timer *timer;
    lg_script_timer *next = NULL;

    TAILQ_FOREACH(timer, &script->timers, link)
    {
        if (next == NULL || timer->due_ms < next->due_ms)
            next = timer;
    }
    return next;
}

/* Arm the wake-up event for the earliest timer (real clock only). */
static void lg_script_arm_wake(lg_script *script)
{
    lg_script_timer *next = lg_script_next_timer(script);
    int64_t delay_ms;
    struct timeval delay;

    if (script->wake == NULL)
        return;
    event_del(script->wake);

    /* A disabled script runs no timers: waking it for them would spin. */
    if (next == NULL || script->disabled)
        return;
    delay_ms = next->due_ms - lg_script_now_ms(script);
    if (delay_ms < 0)
        delay_ms = 0;
    delay.tv_sec = (time_t)(delay_ms / 1000);
    delay.tv_usec = (suseconds_t)((delay_ms % 1000) * 1000);
    event_add(script->wake, &delay);
}

static void lg_script_call_timer(lg_script *script, lg_script_timer *timer)
{
    lua_State *L = script->L;
    lg_error err;
    int rc;

    script->calls++;
    script->hops = 0;
    script->raw_input = 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, timer->function_ref);
    if (timer->interval_ms > 0)
        timer->due_ms += timer->interval_ms;
    else
        lg_script_timer_free(timer);

    rc = lg_lua_sandbox_call(script->sandbox, 0, 0, script->limits.instruction_budget, &err);
    lg_script_emits_finish(script, rc == 0);
    if (rc < 0) {
        if (lg_log_enabled(LG_LOG_WARN))
            lg_log_write(&script->error_log, LG_LOG_WARN, script->scope, "timer callback failed: %s", err.message);
        lg_script_note_failure(script, err.message);
    } else {
        script->consecutive_errors = 0;
    }
}

int64_t lg_script_fire_timers(lg_script *script, int64_t now_ms)
{
    lg_script_timer *timer;

    /* A periodic timer that fell behind catches up one step at a time, so
     * a one-minute candle closes once per minute even after a stall. */
    while (!script->disabled && (timer = lg_script_next_timer(script)) != NULL && timer->due_ms <= now_ms)
        lg_script_call_timer(script, timer);
    if (script->host.flush != NULL)
        script->host.flush(script->host.arg);

    timer = script->disabled ? NULL : lg_script_next_timer(script);
    return timer != NULL ? timer->due_ms : -1;
}

static void lg_script_on_wake(evutil_socket_t fd, short what, void *arg)
{
    lg_script *script = arg;

    lg_script_fire_timers(script, lg_script_now_ms(script));
    lg_script_arm_wake(script);
}

/* livegate.every(ms, fn) and livegate.after(ms, fn): call FN every MS
 * milliseconds, or once after MS. Return an id for livegate.cancel. */
static int lg_script_add_timer(lua_State *L, int periodic)
{
    lg_script *script = lg_script_self(L);
    lua_Integer ms = luaL_checkinteger(L, 1);
    lg_script_timer *timer;

    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (ms < LG_SCRIPT_MIN_TIMER_MS)
        return luaL_error(L, "timer interval %I ms is too short: the minimum is %d ms", ms, LG_SCRIPT_MIN_TIMER_MS);

    timer = lg_calloc(1, sizeof(*timer));
    timer->script = script;
    timer->interval_ms = periodic ? ms : 0;
    timer->due_ms = lg_script_now_ms(script) + ms;
    timer->id = ++script->next_timer_id;
    lua_pushvalue(L, 2);
    timer->function_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    TAILQ_INSERT_TAIL(&script->timers, timer, link);

    lg_script_arm_wake(script);
    lua_pushinteger(L, timer->id);
    return 1;
}

static int lg_script_every(lua_State *L)
{
    return lg_script_add_timer(L, 1);
}

static int lg_script_after(lua_State *L)
{
    return lg_script_add_timer(L, 0);
}

static int lg_script_cancel(lua_State *L)
{
    lg_script *script = lg_script_self(L);
    lua_Integer id = luaL_checkinteger(L, 1);
    lg_script_timer *timer;

    TAILQ_FOREACH(timer, &script->timers, link)
    {
        if (timer->id == id) {
            lg_script_timer_free(timer);
            lg_script_arm_wake(script);
            lua_pushboolean(L, 1);
            return 1;
        }
    }
    lua_pushboolean(L, 0);
    return 1;
}

static void lg_script_open_module(lg_script *script)
{
    static const luaL_Reg functions[] = {
        {"emit", lg_script_emit},
        {"log", lg_script_log},
        {"now", lg_script_now},
        {"json_encode", lg_script_json_encode},
        {"json_decode", lg_script_json_decode},
        {"array", lg_script_array},
        {"object", lg_script_object},
        {"every", lg_script_every},
        {"after", lg_script_after},
        {"cancel", lg_script_cancel},
        {NULL, NULL},
    };
    lua_State *L = script->L;

    lg_lua_json_open(L);

    lua_newtable(L);
    lua_pushcfunction(L, lg_script_event_index);
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, "livegate event");
    lua_setfield(L, -2, "__name");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &lg_script_event_mt_key);

    lua_newtable(L);
    lua_pushlightuserdata(L, script);
    luaL_setfuncs(L, functions, 1);
    lg_lua_json_push_null(L);
    lua_setfield(L, -2, "null");
    lua_setglobal(L, "livegate");
}

/* ---- loading ---- */

static char *lg_script_read(const char *path, size_t *len, lg_error *err)
{
    lg_buf text = LG_BUF_INIT;
    char chunk[8192];
    size_t n;
    FILE *file = fopen(path, "rb");

    if (file == NULL)
        return lg_error_set(err, "cannot open script %s: %s", path, strerror(errno)), NULL;
    while ((n = fread(chunk, 1, sizeof(chunk), file)) > 0) {
        lg_buf_append(&text, chunk, n);
        if (text.len > LG_SCRIPT_MAX_BYTES) {
            fclose(file);
            lg_buf_free(&text);
            return lg_error_set(err, "script %s is larger than %d bytes", path, LG_SCRIPT_MAX_BYTES), NULL;
        }
    }
    if (ferror(file)) {
        lg_error_set(err, "cannot read script %s: %s", path, strerror(errno));
        fclose(file);
        lg_buf_free(&text);
        return NULL;
    }
    fclose(file);
    return lg_buf_steal(&text, len);
}

/* Push a YAML value as Lua: mappings and lists become tables, unquoted
 * true/false booleans, unquoted numbers numbers, null nil, the rest strings. */
static void lg_script_push_conf(lua_State *L, const lg_conf_node *node)
{
    char *end;

    luaL_checkstack(L, 4, "lua_config too deep");
    switch (node->kind) {
    case LG_CONF_MAP:
        lua_createtable(L, 0, (int)node->count);
        for (size_t i = 0; i < node->count; i++) {
            lg_script_push_conf(L, node->pairs[i].value);
            lua_setfield(L, -2, node->pairs[i].key);
        }
        return;
    case LG_CONF_SEQ:
        lua_createtable(L, (int)node->count, 0);
        lg_lua_json_mark_array(L, -1);
        for (size_t i = 0; i < node->count; i++) {
            lg_script_push_conf(L, node->items[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        return;
    case LG_CONF_SCALAR:
        break;
    }

    if (node->value == NULL) {
        lua_pushnil(L);
    } else if (!node->quoted && (strcmp(node->value, "true") == 0 || strcmp(node->value, "false") == 0)) {
        lua_pushboolean(L, node->value[0] == 't');
    } else if (!node->quoted && node->value[0] != '\0' && (strtoll(node->value, &end, 10), *end == '\0')) {
        lua_pushinteger(L, (lua_Integer)strtoll(node->value, NULL, 10));
    } else if (!node->quoted && node->value[0] != '\0' && (strtod(node->value, &end), *end == '\0')) {
        lua_pushnumber(L, strtod(node->value, NULL));
    } else {
        lua_pushstring(L, node->value);
    }
}

lg_script *lg_script_load(const char *path, const lg_conf_node *config, const lg_script_limits *limits,
                          const lg_script_host *host, lg_error *err)
{
    lg_script *script;
    size_t len;
    char *text = lg_script_read(path, &len, err);
    int rc;

    if (text == NULL)
        return NULL;

    script = lg_calloc(1, sizeof(*script));
    script->path = lg_strdup(path);
    script->scope = lg_sprintf("lua:%s", path);
    script->host = *host;
    script->limits = *limits;
    script->on_event_ref = LUA_NOREF;
    TAILQ_INIT(&script->timers);
    if (host->base != NULL)
        script->wake = event_new(host->base, -1, 0, lg_script_on_wake, script);

    script->sandbox = lg_lua_sandbox_new((size_t)limits->memory_bytes, script->scope, err);
    if (script->sandbox == NULL)
        goto fail;
    script->L = lg_lua_sandbox_state(script->sandbox);
    lg_script_open_module(script);
    lua_getglobal(script->L, "livegate");
    if (config != NULL)
        lg_script_push_conf(script->L, config);
    else
        lua_newtable(script->L);
    lua_setfield(script->L, -2, "config");
    lua_pop(script->L, 1);

    script->loading = 1;
    rc = lg_lua_sandbox_run_chunk(script->sandbox, path, text, len, limits->instruction_budget, err);
    script->loading = 0;
    if (rc < 0)
        goto fail;
    if (lua_getglobal(script->L, "on_event") != LUA_TFUNCTION) {
        lua_pop(script->L, 1);
        lg_error_set(err, "%s: the script does not define a function on_event(event)", path);
        goto fail;
    }
    script->on_event_ref = luaL_ref(script->L, LUA_REGISTRYINDEX);
    free(text);
    return script;

fail:
    free(text);
    lg_script_free(script);
    return NULL;
}

void lg_script_free(lg_script *script)
{
    lg_script_timer *timer;

    if (script == NULL)
        return;
    while ((timer = TAILQ_FIRST(&script->timers)) != NULL)
        lg_script_timer_free(timer);
    if (script->wake != NULL)
        event_free(script->wake);
    lg_script_emits_finish(script, 0);
    free(script->emits.items);
    lg_lua_sandbox_free(script->sandbox);
    free(script->last_error);
    free(script->scope);
    free(script->path);
    free(script);
}

lg_log_limit *lg_script_error_log(lg_script *script)
{
    return &script->error_log;
}

const char *lg_script_path(const lg_script *script)
{
    return script->path;
}

int lg_script_disabled(const lg_script *script)
{
    return script->disabled;
}

uint64_t lg_script_calls(const lg_script *script)
{
    return script->calls;
}

uint64_t lg_script_errors(const lg_script *script)
{
    return script->errors;
}

const char *lg_script_last_error(const lg_script *script)
{
    return script->last_error;
}

size_t lg_script_memory(const lg_script *script)
{
    return lg_lua_sandbox_memory(script->sandbox);
}
