/* Unit tests of the Lua JSON bridge, the sandbox and channel scripts. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lauxlib.h>

#include "alloc.h"
#include "lua_json.h"
#include "lua_sandbox.h"
#include "lua_script.h"

/* ---- JSON bridge ---- */

/* Decode TEXT in a sandbox, run CHUNK (when not NULL) with the value as global
 * "v" and the null sentinel as "null", encode "v" again and return the text,
 * which the caller frees. */
static char *json_through(const char *text, const char *chunk)
{
    lg_error err;
    lg_lua_sandbox *sandbox = lg_lua_sandbox_new(8 << 20, "test", &err);
    lua_State *L;
    lg_buf out = LG_BUF_INIT;
    char *result;

    assert_non_null(sandbox);
    L = lg_lua_sandbox_state(sandbox);
    lg_lua_json_open(L);
    if (lg_lua_json_decode(L, text, strlen(text), &err) < 0)
        fail_msg("decode of %s failed: %s", text, err.message);
    lua_setglobal(L, "v");
    lg_lua_json_push_null(L);
    lua_setglobal(L, "null");
    if (chunk != NULL && lg_lua_sandbox_run_chunk(sandbox, "chunk", chunk, strlen(chunk), 100000, &err) < 0)
        fail_msg("chunk failed: %s", err.message);

    lua_getglobal(L, "v");
    if (lg_lua_json_encode(L, -1, &out, &err) < 0)
        fail_msg("encode of %s failed: %s", text, err.message);
    result = lg_strdup(out.data);
    lg_buf_free(&out);
    lg_lua_sandbox_free(sandbox);
    return result;
}

static void assert_json_through(const char *text, const char *chunk, const char *expected)
{
    char *result = json_through(text, chunk);

    assert_string_equal(result, expected);
    free(result);
}

static void json_round_trips_exactly(void **state)
{
    static const char *const texts[] = {
        "null", "[]", "{}", "true", "false", "0", "-1", "1.0", "0.1", "-0.0005", "1e+300",
        "9007199254740993", "-9223372036854775808", "9223372036854775807", "1796416246572",
        "\"\"", "\"tab\\there\"", "[null,null]", "{\"n\":null}", "[[],{}]", "{\"b\":1,\"a\":2,\"c\":3}",
        "{\"a\":[1,[2,{}]],\"e\":[],\"o\":{}}", "[1.5,2,\"x\",true,null]",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        assert_json_through(texts[i], NULL, texts[i]);
}

static void json_writes_canonical_forms(void **state)
{
    (void)state;
    assert_json_through("{ \"a\" : 1 }", NULL, "{\"a\":1}");
    assert_json_through("\"\\u00e9\"", NULL, "\"\xc3\xa9\"");
    assert_json_through("1E2", NULL, "100.0");
    assert_json_through("-5e-4", NULL, "-0.0005");
}

static void json_keeps_order_and_sorts_new_keys(void **state)
{
    (void)state;
    assert_json_through("{\"z\":1,\"a\":2}", "v.m = 3; v.b = 4", "{\"z\":1,\"a\":2,\"b\":4,\"m\":3}");
    assert_json_through("{\"z\":1,\"a\":2}", "v.z = nil", "{\"a\":2}");
    assert_json_through("{\"z\":1,\"a\":2}", "v.z = nil; v.z = 5", "{\"z\":5,\"a\":2}");
    assert_json_through("{\"z\":1}", "v[1] = true", "{\"z\":1,\"1\":true}");
}

static void json_keeps_kinds_of_empty_tables(void **state)
{
    (void)state;
    assert_json_through("[1,2]", "v[1] = nil; v[2] = nil", "[]");
    assert_json_through("{\"a\":1}", "v.a = nil", "{}");
    assert_json_through("{}", "v.list = {1, 2}; v.map = {x = 1}; v.none = {}",
                        "{\"list\":[1,2],\"map\":{\"x\":1},\"none\":{}}");
    assert_json_through("[]", "v[1] = null", "[null]");
}

static void json_rejects_what_it_cannot_write(void **state)
{
    static const char *const chunks[] = {
        "v = 0/0", "v = 1/0", "v = print", "v = {[true] = 1}", "v = {}; v.self = v",
    };
    static const char *const messages[] = {
        "cannot encode NaN as JSON", "cannot encode an infinite number as JSON", "cannot encode a function as JSON",
        "cannot encode a table key of type boolean as JSON", "nested deeper than 128 levels",
    };
    lg_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        lg_lua_sandbox *sandbox = lg_lua_sandbox_new(8 << 20, "test", &err);
        lua_State *L = lg_lua_sandbox_state(sandbox);
        lg_buf out = LG_BUF_INIT;

        lg_lua_json_open(L);
        assert_int_equal(lg_lua_sandbox_run_chunk(sandbox, "chunk", chunks[i], strlen(chunks[i]), 100000, &err), 0);
        lua_getglobal(L, "v");
        assert_int_equal(lg_lua_json_encode(L, -1, &out, &err), -1);
        if (strstr(err.message, messages[i]) == NULL)
            fail_msg("%s: error '%s' lacks '%s'", chunks[i], err.message, messages[i]);
        assert_int_equal(out.len, 0);
        lg_buf_free(&out);
        lg_lua_sandbox_free(sandbox);
    }
}

static void json_rejects_invalid_input(void **state)
{
    static const char *const texts[] = {"", "{", "[1,]", "nul", "{\"a\" 1}", "99999999999999999999"};
    lg_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        lg_lua_sandbox *sandbox = lg_lua_sandbox_new(8 << 20, "test", &err);
        lua_State *L = lg_lua_sandbox_state(sandbox);
        int top;

        lg_lua_json_open(L);
        top = lua_gettop(L);
        if (lg_lua_json_decode(L, texts[i], strlen(texts[i]), &err) != -1)
            fail_msg("'%s' was decoded", texts[i]);
        assert_non_null(strstr(err.message, "invalid JSON"));
        assert_int_equal(lua_gettop(L), top);
        lg_lua_sandbox_free(sandbox);
    }
}

/* ---- sandbox ---- */

static void sandbox_lacks_unsafe_functions(void **state)
{
    static const char *const names[] = {
        "io", "package", "require", "load", "loadfile", "dofile", "debug", "collectgarbage",
        "string.dump", "os.execute", "os.getenv", "os.remove", "os.exit",
    };
    lg_error err;
    lg_lua_sandbox *sandbox = lg_lua_sandbox_new(8 << 20, "test", &err);

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char chunk[128];

        snprintf(chunk, sizeof(chunk), "assert(%s == nil, '%s is reachable')", names[i], names[i]);
        if (lg_lua_sandbox_run_chunk(sandbox, "chunk", chunk, strlen(chunk), 100000, &err) < 0)
            fail_msg("%s", err.message);
    }
    assert_int_equal(lg_lua_sandbox_run_chunk(sandbox, "chunk", "assert(os.time() > 0)", 21, 100000, &err), 0);
    lg_lua_sandbox_free(sandbox);
}

static void sandbox_rejects_binary_chunks(void **state)
{
    static const char chunk[] = "\x1bLua\x54\x00";
    lg_error err;
    lg_lua_sandbox *sandbox = lg_lua_sandbox_new(8 << 20, "test", &err);

    (void)state;
    assert_int_equal(lg_lua_sandbox_run_chunk(sandbox, "binary", chunk, sizeof(chunk) - 1, 100000, &err), -1);
    assert_non_null(strstr(err.message, "binary"));
    lg_lua_sandbox_free(sandbox);
}

static void sandbox_stops_loops_and_memory(void **state)
{
    static const char loop[] = "while true do end";
    static const char memory[] = "local s = 'x' for i = 1, 40 do s = s .. s end";
    lg_error err;
    lg_lua_sandbox *sandbox = lg_lua_sandbox_new(4 << 20, "test", &err);

    (void)state;
    assert_int_equal(lg_lua_sandbox_run_chunk(sandbox, "loop", loop, strlen(loop), 50000, &err), -1);
    assert_string_equal(err.message, "loop:1: instruction budget of 50000 exceeded");
    assert_int_equal(lg_lua_sandbox_run_chunk(sandbox, "memory", memory, strlen(memory), 50000, &err), -1);
    assert_non_null(strstr(err.message, "memory limit of 4194304 bytes reached"));

    /* The state stays usable after both. */
    assert_int_equal(lg_lua_sandbox_run_chunk(sandbox, "after", "x = 1", 5, 50000, &err), 0);
    assert_true(lg_lua_sandbox_memory(sandbox) < (4 << 20));
    lg_lua_sandbox_free(sandbox);
}

/* ---- scripts ---- */

typedef struct script_fixture {
    char path[64];
    lg_script *script;
    lg_event_list emitted;
    int64_t now_ms;
} script_fixture;

static int64_t fixture_now(void *arg)
{
    return ((script_fixture *)arg)->now_ms;
}

static void fixture_emit(void *arg, const char *channel, lg_event *event, unsigned hops)
{
    (void)channel;
    (void)hops;
    lg_event_list_push(&((script_fixture *)arg)->emitted, event);
}

static void fixture_flush(void *arg)
{
    (void)arg;
}

static script_fixture *load_script(const char *text, int64_t disable_after)
{
    script_fixture *fixture = lg_calloc(1, sizeof(*fixture));
    lg_script_limits limits = {.instruction_budget = 100000, .memory_bytes = 8 << 20, .disable_after = disable_after};
    lg_script_host host = {.now = fixture_now, .emit = fixture_emit, .flush = fixture_flush, .arg = fixture};
    lg_error err;
    FILE *file;
    int fd;

    strcpy(fixture->path, "/tmp/livegate-test-lua-XXXXXX");
    fd = mkstemp(fixture->path);
    assert_true(fd >= 0);
    file = fdopen(fd, "w");
    fputs(text, file);
    fclose(file);

    fixture->now_ms = 1700000000000;
    fixture->script = lg_script_load(fixture->path, NULL, &limits, &host, &err);
    if (fixture->script == NULL)
        fail_msg("load failed: %s", err.message);
    return fixture;
}

static void free_script(script_fixture *fixture)
{
    lg_script_free(fixture->script);
    lg_event_list_clear(&fixture->emitted);
    free(fixture->emitted.items);
    unlink(fixture->path);
    free(fixture);
}

static lg_event *make_event(const char *key, const char *data)
{
    lg_event *event = lg_event_new(key, NULL, data, strlen(data), 1700000000123);

    event->id = lg_strdup("1-7");
    return event;
}

/* Run DATA through FIXTURE's script; returns the result code and fills OUT. */
static int run_script(script_fixture *fixture, const char *key, const char *data, lg_event_list *out, lg_error *err)
{
    lg_event *event = make_event(key, data);
    int rc = lg_script_run(fixture->script, "prices.x", event, 0, out, err);

    lg_event_unref(event);
    return rc;
}

static void script_passes_input_unchanged(void **state)
{
    script_fixture *fixture = load_script("function on_event(e)\n"
                                          "  if e.data.p > 0 then return e end\n"
                                          "end\n",
                                          0);
    lg_event *event = make_event("k", "{\"p\":1.0,\"big\":9007199254740993}");
    lg_event_list out = {0};
    lg_error err;

    (void)state;
    assert_int_equal(lg_script_run(fixture->script, "prices.x", event, 0, &out, &err), 0);
    assert_int_equal(out.count, 1);
    assert_ptr_equal(out.items[0], event);
    lg_event_list_clear(&out);
    free(out.items);
    lg_event_unref(event);
    free_script(fixture);
}

static void script_reads_event_fields(void **state)
{
    script_fixture *fixture = load_script("function on_event(e)\n"
                                          "  e.data = {channel = e.channel, id = e.id, time = e.time,\n"
                                          "            key = e.key, type = e.type == nil}\n"
                                          "  return e\n"
                                          "end\n",
                                          0);
    lg_event_list out = {0};
    lg_error err;

    (void)state;
    assert_int_equal(run_script(fixture, "AAPL", "{}", &out, &err), 0);
    assert_int_equal(out.count, 1);
    assert_string_equal(out.items[0]->data,
                        "{\"channel\":\"prices.x\",\"id\":\"1-7\",\"key\":\"AAPL\",\"time\":1700000000123,\"type\":true}");
    lg_event_list_clear(&out);
    free(out.items);
    free_script(fixture);
}

static void script_splits_and_drops(void **state)
{
    script_fixture *fixture = load_script("function on_event(e)\n"
                                          "  if e.key == 'drop' then return nil end\n"
                                          "  return {{data = 1, key = 'a'}, {data = 'text', type = 'note'}}\n"
                                          "end\n",
                                          0);
    lg_event_list out = {0};
    lg_error err;

    (void)state;
    assert_int_equal(run_script(fixture, "drop", "{}", &out, &err), 0);
    assert_int_equal(out.count, 0);
    assert_int_equal(run_script(fixture, "split", "{}", &out, &err), 0);
    assert_int_equal(out.count, 2);
    assert_string_equal(out.items[0]->data, "1");
    assert_string_equal(out.items[0]->key, "a");
    assert_string_equal(out.items[1]->data, "\"text\"");
    assert_string_equal(out.items[1]->type, "note");
    lg_event_list_clear(&out);
    free(out.items);
    free_script(fixture);
}

static void script_rejects_bad_results(void **state)
{
    static const struct {
        const char *body;
        const char *message;
    } cases[] = {
        {"return 5", "on_event must return the event, nil or a list of events, not a number"},
        {"e.channel = 'other' return e", "use livegate.emit to publish to another channel"},
        {"e.key = {} return e", "event field 'key' must be a string, got a table"},
        {"e.time = 1.5 return e", "event field 'time' must be an integer of milliseconds"},
        {"return {e, 5}", "item 2 of the list returned by on_event is not an event"},
        {"e.data = print return e", "cannot encode a function as JSON"},
    };
    lg_event_list out = {0};
    lg_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        script_fixture *fixture;

        snprintf(text, sizeof(text), "function on_event(e) %s end\n", cases[i].body);
        fixture = load_script(text, 0);
        assert_int_equal(run_script(fixture, NULL, "{}", &out, &err), -1);
        if (strstr(err.message, cases[i].message) == NULL)
            fail_msg("%s: error '%s' lacks '%s'", cases[i].body, err.message, cases[i].message);
        assert_int_equal(out.count, 0);
        assert_int_equal(lg_script_errors(fixture->script), 1);
        free_script(fixture);
    }
    free(out.items);
}

static void script_is_disabled_after_failures(void **state)
{
    script_fixture *fixture = load_script("function on_event(e)\n"
                                          "  if e.key == 'bad' then error('bad key') end\n"
                                          "  return e\n"
                                          "end\n",
                                          3);
    lg_event_list out = {0};
    lg_error err;

    (void)state;
    assert_int_equal(run_script(fixture, "bad", "{}", &out, &err), -1);
    assert_int_equal(run_script(fixture, "bad", "{}", &out, &err), -1);
    assert_int_equal(run_script(fixture, "good", "{}", &out, &err), 0);
    lg_event_list_clear(&out);
    assert_false(lg_script_disabled(fixture->script));

    for (int i = 0; i < 3; i++)
        assert_int_equal(run_script(fixture, "bad", "{}", &out, &err), -1);
    assert_true(lg_script_disabled(fixture->script));
    assert_non_null(strstr(lg_script_last_error(fixture->script), "bad key"));
    assert_int_equal(lg_script_errors(fixture->script), 5);
    free(out.items);
    free_script(fixture);
}

static void script_timers_follow_host_clock(void **state)
{
    script_fixture *fixture = load_script("local n = 0\n"
                                          "function on_event(e) n = n + 1 return nil end\n"
                                          "livegate.every(1000, function() livegate.emit('count', {n = n}) end)\n"
                                          "local once = livegate.after(500, function() livegate.emit('once', 1) end)\n"
                                          "local never = livegate.after(700, function() livegate.emit('never', 1) end)\n"
                                          "assert(livegate.cancel(never))\n",
                                          0);
    lg_event_list out = {0};
    lg_error err;

    (void)state;
    assert_int_equal(run_script(fixture, NULL, "{}", &out, &err), 0);
    assert_int_equal(lg_script_fire_timers(fixture->script, fixture->now_ms + 499), fixture->now_ms + 500);
    assert_int_equal(fixture->emitted.count, 0);

    fixture->now_ms += 1000;
    assert_int_equal(lg_script_fire_timers(fixture->script, fixture->now_ms), fixture->now_ms + 1000);
    assert_int_equal(fixture->emitted.count, 2);
    assert_string_equal(fixture->emitted.items[0]->data, "1");
    assert_string_equal(fixture->emitted.items[1]->data, "{\"n\":1}");
    assert_int_equal(fixture->emitted.items[1]->time_ms, fixture->now_ms);
    free(out.items);
    free_script(fixture);
}

static void script_failed_call_emits_nothing(void **state)
{
    script_fixture *fixture = load_script("function on_event(e)\n"
                                          "  livegate.emit('side', {n = 1})\n"
                                          "  if e.key == 'fail' then error('after the emit') end\n"
                                          "  return nil\n"
                                          "end\n",
                                          0);
    lg_event_list out = {0};
    lg_error err;

    (void)state;
    assert_int_equal(run_script(fixture, "fail", "{}", &out, &err), -1);
    assert_int_equal(fixture->emitted.count, 0);
    assert_int_equal(run_script(fixture, "ok", "{}", &out, &err), 0);
    assert_int_equal(fixture->emitted.count, 1);
    assert_string_equal(fixture->emitted.items[0]->data, "{\"n\":1}");
    free(out.items);
    free_script(fixture);
}

static void script_load_reports_line(void **state)
{
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"function on_event(e)\n  return e +\nend\n", ":3: unexpected symbol near 'end'"},
        {"x = 1\n", "the script does not define a function on_event(event)"},
        {"local t = nil\nt.x = 1\nfunction on_event(e) return e end\n", ":2: attempt to index a nil value"},
        {"livegate.emit('x', 1)\nfunction on_event(e) return e end\n",
         ":1: livegate.emit: not available while the script loads"},
    };
    lg_script_limits limits = {.instruction_budget = 100000, .memory_bytes = 8 << 20};
    lg_script_host host = {0};
    lg_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[] = "/tmp/livegate-test-lua-XXXXXX";
        int fd = mkstemp(path);
        FILE *file = fdopen(fd, "w");

        fputs(cases[i].text, file);
        fclose(file);
        assert_null(lg_script_load(path, NULL, &limits, &host, &err));
        if (strstr(err.message, cases[i].message) == NULL)
            fail_msg("case %zu: error '%s' lacks '%s'", i, err.message, cases[i].message);
        unlink(path);
    }
    assert_null(lg_script_load("/nonexistent/script.lua", NULL, &limits, &host, &err));
    assert_non_null(strstr(err.message, "/nonexistent/script.lua"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_round_trips_exactly),
        cmocka_unit_test(json_writes_canonical_forms),
        cmocka_unit_test(json_keeps_order_and_sorts_new_keys),
        cmocka_unit_test(json_keeps_kinds_of_empty_tables),
        cmocka_unit_test(json_rejects_what_it_cannot_write),
        cmocka_unit_test(json_rejects_invalid_input),
        cmocka_unit_test(sandbox_lacks_unsafe_functions),
        cmocka_unit_test(sandbox_rejects_binary_chunks),
        cmocka_unit_test(sandbox_stops_loops_and_memory),
        cmocka_unit_test(script_passes_input_unchanged),
        cmocka_unit_test(script_reads_event_fields),
        cmocka_unit_test(script_splits_and_drops),
        cmocka_unit_test(script_rejects_bad_results),
        cmocka_unit_test(script_is_disabled_after_failures),
        cmocka_unit_test(script_timers_follow_host_clock),
        cmocka_unit_test(script_failed_call_emits_nothing),
        cmocka_unit_test(script_load_reports_line),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
