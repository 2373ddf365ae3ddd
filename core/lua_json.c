/* JSON bridge between jansson documents, JSON text and Lua values. */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lauxlib.h>

#include "alloc.h"
#include "lua_json.h"

/* Addresses used as unique registry keys and as the null sentinel. */
static const char lg_lua_null_key = 'n';
static const char lg_lua_array_key = 'a';
static const char lg_lua_object_key = 'o';
static const char lg_lua_order_key = 'k';
static const char lg_lua_doc_key = 'd';

static int lg_lua_doc_gc(lua_State *L)
{
    json_t **doc = lua_touserdata(L, 1);

    json_decref(*doc);
    *doc = NULL;
    return 0;
}

static void lg_lua_new_metatable(lua_State *L, const void *key, const char *name)
{
    lua_newtable(L);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__name");
    lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

void lg_lua_json_open(lua_State *L)
{
    lg_lua_new_metatable(L, &lg_lua_array_key, "json array");
    lg_lua_new_metatable(L, &lg_lua_object_key, "json object");

    /* Key order of decoded objects, held weakly so it goes with its object. */
    lua_newtable(L);
    lua_newtable(L);
    lua_pushstring(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &lg_lua_order_key);

    /* Holder of a jansson document, freed by the collector even when a
     * conversion stops with an error half way. */
    lua_newtable(L);
    lua_pushcfunction(L, lg_lua_doc_gc);
    lua_setfield(L, -2, "__gc");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &lg_lua_doc_key);
}

void lg_lua_json_push_null(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&lg_lua_null_key);
}

int lg_lua_json_is_null(lua_State *L, int index)
{
    return lua_islightuserdata(L, index) && lua_touserdata(L, index) == &lg_lua_null_key;
}

static void lg_lua_mark(lua_State *L, int index, const void *key)
{
    index = lua_absindex(L, index);
    lua_rawgetp(L, LUA_REGISTRYINDEX, key);
    lua_setmetatable(L, index);
}

void lg_lua_json_mark_array(lua_State *L, int index)
{
    lg_lua_mark(L, index, &lg_lua_array_key);
}

void lg_lua_json_mark_object(lua_State *L, int index)
{
    lg_lua_mark(L, index, &lg_lua_object_key);
}

/* ---- decoding ---- */

static void lg_lua_push_json(lua_State *L, json_t *value, int depth);

static void lg_lua_push_object(lua_State *L, json_t *object, int depth)
{
    int table;
    int order;
    const char *key;
    json_t *member;
    lua_Integer position = 0;

    lua_createtable(L, 0, (int)json_object_size(object));
    table = lua_gettop(L);
    lg_lua_json_mark_object(L, table);
    lua_createtable(L, (int)json_object_size(object), 0);
    order = lua_gettop(L);

    json_object_foreach(object, key, member)
    {
        lua_pushstring(L, key);
        lua_rawseti(L, order, ++position);
        lg_lua_push_json(L, member, depth + 1);
        lua_setfield(L, table, key);
    }

    /* order[table] = keys */
    lua_rawgetp(L, LUA_REGISTRYINDEX, &lg_lua_order_key);
    lua_pushvalue(L, table);
    lua_pushvalue(L, order);
    lua_rawset(L, -3);
    lua_pop(L, 2);
}

static void lg_lua_push_array(lua_State *L, json_t *array, int depth)
{
    size_t index;
    json_t *item;

    lua_createtable(L, (int)json_array_size(array), 0);
    lg_lua_json_mark_array(L, -1);
    json_array_foreach(array, index, item)
    {
        lg_lua_push_json(L, item, depth + 1);
        lua_rawseti(L, -2, (lua_Integer)index + 1);
    }
}

static void lg_lua_push_json(lua_State *L, json_t *value, int depth)
{
    if (depth > LG_LUA_JSON_MAX_DEPTH)
        luaL_error(L, "JSON nested deeper than %d levels", LG_LUA_JSON_MAX_DEPTH);
    luaL_checkstack(L, 4, "JSON too deep");

    switch (json_typeof(value)) {
    case JSON_OBJECT:
        lg_lua_push_object(L, value, depth);
        break;
    case JSON_ARRAY:
        lg_lua_push_array(L, value, depth);
        break;
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(value), json_string_length(value));
        break;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(value));
        break;
    case JSON_REAL:
        lua_pushnumber(L, json_real_value(value));
        break;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        break;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        break;
    case JSON_NULL:
        lg_lua_json_push_null(L);
        break;
    }
}

int lg_lua_json_decode(lua_State *L, const char *data, size_t len, lg_error *err)
{
    json_error_t error;
    json_t **holder;
    json_t *doc = json_loadb(data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);

    if (doc == NULL)
        return lg_error_set(err, "invalid JSON at line %d column %d: %s", error.line, error.column, error.text);

    holder = lua_newuserdatauv(L, sizeof(*holder), 0);
    *holder = doc;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &lg_lua_doc_key);
    lua_setmetatable(L, -2);

    lg_lua_push_json(L, doc, 0);
    lua_remove(L, -2);
    return 0;
}

/* ---- encoding ---- */

static int lg_lua_encode_value(lua_State *L, int index, int depth, lg_buf *out, lg_error *err);

static int lg_lua_has_metatable(lua_State *L, int index, const void *key)
{
    int same;

    if (!lua_getmetatable(L, index))
        return 0;
    lua_rawgetp(L, LUA_REGISTRYINDEX, key);
    same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same;
}

/* Return the length n when the table at INDEX has exactly the keys 1..n
 * (n > 0), else 0. */
static lua_Integer lg_lua_sequence_length(lua_State *L, int index)
{
    lua_Integer n = (lua_Integer)lua_rawlen(L, index);
    lua_Integer count = 0;

    if (n == 0)
        return 0;
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > n) {
            lua_pop(L, 1);
            return 0;
        }
        count++;
    }
    return count == n ? n : 0;
}

static int lg_lua_encode_array(lua_State *L, int index, lua_Integer n, int depth, lg_buf *out, lg_error *err)
{
    lg_buf_append_char(out, '[');
    for (lua_Integer i = 1; i <= n; i++) {
        if (i > 1)
            lg_buf_append_char(out, ',');
        lua_rawgeti(L, index, i);
        if (lua_isnil(L, -1)) {
            lg_buf_append_str(out, "null");
        } else if (lg_lua_encode_value(L, -1, depth + 1, out, err) < 0) {
            lua_pop(L, 1);
            return -1;
        }
        lua_pop(L, 1);
    }
    lg_buf_append_char(out, ']');
    return 0;
}

/* A key of an object table: its JSON text and how to read it back. */
typedef struct lg_lua_key {
    char *name;
    int is_integer;
    lua_Integer integer;
} lg_lua_key;

static int lg_lua_compare_keys(const void *a, const void *b)
{
    return strcmp(((const lg_lua_key *)a)->name, ((const lg_lua_key *)b)->name);
}

static void lg_lua_free_keys(lg_lua_key *keys, int count)
{
    for (int i = 0; i < count; i++)
        free(keys[i].name);
    free(keys);
}

/* Encode one member KEY of the table at INDEX (skipped when its value is nil).
 * *FIRST is cleared once a member has been written. */
static int lg_lua_encode_member(lua_State *L, int index, const lg_lua_key *key, int *first, int depth, lg_buf *out,
                                lg_error *err)
{
    int rc = 0;

    if (key->is_integer)
        lua_rawgeti(L, index, key->integer);
    else {
        lua_pushstring(L, key->name);
        lua_rawget(L, index);
    }
    if (!lua_isnil(L, -1)) {
        if (!*first)
            lg_buf_append_char(out, ',');
        *first = 0;
        lg_buf_append_json_string(out, key->name, strlen(key->name));
        lg_buf_append_char(out, ':');
        rc = lg_lua_encode_value(L, -1, depth + 1, out, err);
    }
    lua_pop(L, 1);
    return rc;
}

/* Collect every key of the table at INDEX that ORDER (a table of keys, or 0)
 * does not list, sorted by their text. Integer keys become decimal text.
 * Returns the count, or -1 with ERR set. */
static int lg_lua_collect_new_keys(lua_State *L, int index, int order, lg_lua_key **keys, lg_error *err)
{
    int count = 0;
    int cap = 0;

    *keys = NULL;
    lua_newtable(L);
    if (order != 0) {
        for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, order); i <= n; i++) {
            lua_rawgeti(L, order, i);
            lua_pushboolean(L, 1);
            lua_rawset(L, -3);
        }
    }

    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        lg_lua_key key = {0};

        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING) {
            key.name = lg_strdup(lua_tostring(L, -1));
        } else if (lua_isinteger(L, -1)) {
            key.is_integer = 1;
            key.integer = lua_tointeger(L, -1);
            key.name = lg_sprintf("%" PRId64, (int64_t)key.integer);
        } else {
            lg_error_set(err, "cannot encode a table key of type %s as JSON", luaL_typename(L, -1));
            lua_pop(L, 2);
            lg_lua_free_keys(*keys, count);
            *keys = NULL;
            return -1;
        }

        lua_pushvalue(L, -1);
        lua_rawget(L, -3);
        if (lua_toboolean(L, -1)) {
            free(key.name);
        } else {
            if (count == cap) {
                cap = cap ? cap * 2 : 8;
                *keys = lg_realloc(*keys, (size_t)cap * sizeof(**keys));
            }
            (*keys)[count++] = key;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (count > 1)
        qsort(*keys, (size_t)count, sizeof(**keys), lg_lua_compare_keys);
    return count;
}

static lua_Integer lg_lua_count_keys(lua_State *L, int index)
{
    lua_Integer count = 0;

    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        lua_pop(L, 1);
        count++;
    }
    return count;
}

static int lg_lua_encode_object(lua_State *L, int index, int depth, lg_buf *out, lg_error *err)
{
    int first = 1;
    int order = 0;
    lg_lua_key *keys;
    int count;
    lua_Integer written = 0;
    int rc = 0;

    lua_rawgetp(L, LUA_REGISTRYINDEX, &lg_lua_order_key);
    lua_pushvalue(L, index);
    lua_rawget(L, -2);
    lua_remove(L, -2);
    if (lua_istable(L, -1))
        order = lua_gettop(L);

    lg_buf_append_char(out, '{');
    for (lua_Integer i = 1, n = order ? (lua_Integer)lua_rawlen(L, order) : 0; i <= n && rc == 0; i++) {
        lg_lua_key key = {0};
        size_t before = out->len;

        lua_rawgeti(L, order, i);
        key.name = (char *)lua_tostring(L, -1);
        rc = lg_lua_encode_member(L, index, &key, &first, depth, out, err);
        written += out->len != before;
        lua_pop(L, 1);
    }

    /* Keys the script added come after the decoded ones; when the table
     * holds no more keys than were written there are none to look for. */
    keys = NULL;
    if (rc < 0)
        count = -1;
    else if (order != 0 && lg_lua_count_keys(L, index) == written)
        count = 0;
    else
        count = lg_lua_collect_new_keys(L, index, order, &keys, err);
    lua_pop(L, 1);
    if (count < 0)
        return -1;
    for (int i = 0; i < count && rc == 0; i++)
        rc = lg_lua_encode_member(L, index, &keys[i], &first, depth, out, err);
    lg_lua_free_keys(keys, count);
    lg_buf_append_char(out, '}');
    return rc;
}

static int lg_lua_encode_table(lua_State *L, int index, int depth, lg_buf *out, lg_error *err)
{
    lua_Integer n;

    if (lg_lua_has_metatable(L, index, &lg_lua_array_key))
        return lg_lua_encode_array(L, index, (lua_Integer)lua_rawlen(L, index), depth, out, err);
    if (lg_lua_has_metatable(L, index, &lg_lua_object_key))
        return lg_lua_encode_object(L, index, depth, out, err);

    n = lg_lua_sequence_length(L, index);
    if (n > 0)
        return lg_lua_encode_array(L, index, n, depth, out, err);
    return lg_lua_encode_object(L, index, depth, out, err);
}

/* Append the shortest decimal form of D that reads back as D, with ".0"
 * added when it would otherwise read as an integer. */
static int lg_lua_encode_float(double d, lg_buf *out, lg_error *err)
{
    char text[40];

    if (!isfinite(d))
        return lg_error_set(err, "cannot encode %s as JSON", isnan(d) ? "NaN" : "an infinite number");

    for (int precision = 15; precision <= 17; precision++) {
        snprintf(text, sizeof(text), "%.*g", precision, d);
        if (strtod(text, NULL) == d)
            break;
    }
    lg_buf_append_str(out, text);
    if (strpbrk(text, ".eE") == NULL)
        lg_buf_append_str(out, ".0");
    return 0;
}

static int lg_lua_encode_value(lua_State *L, int index, int depth, lg_buf *out, lg_error *err)
{
    size_t len;
    const char *s;

    if (depth > LG_LUA_JSON_MAX_DEPTH)
        return lg_error_set(err, "cannot encode as JSON: nested deeper than %d levels (or a table contains itself)",
                            LG_LUA_JSON_MAX_DEPTH);
    index = lua_absindex(L, index);
    luaL_checkstack(L, 6, "JSON too deep");

    switch (lua_type(L, index)) {
    case LUA_TNIL:
        lg_buf_append_str(out, "null");
        return 0;
    case LUA_TBOOLEAN:
        lg_buf_append_str(out, lua_toboolean(L, index) ? "true" : "false");
        return 0;
    case LUA_TNUMBER:
        if (lua_isinteger(L, index)) {
            lg_buf_printf(out, "%" PRId64, (int64_t)lua_tointeger(L, index));
            return 0;
        }
        return lg_lua_encode_float(lua_tonumber(L, index), out, err);
    case LUA_TSTRING:
        s = lua_tolstring(L, index, &len);
        lg_buf_append_json_string(out, s, len);
        return 0;
    case LUA_TTABLE:
        return lg_lua_encode_table(L, index, depth, out, err);
    case LUA_TLIGHTUSERDATA:
        if (lg_lua_json_is_null(L, index)) {
            lg_buf_append_str(out, "null");
            return 0;
        }
        break;
    default:
        break;
    }
    return lg_error_set(err, "cannot encode a %s as JSON", luaL_typename(L, index));
}

int lg_lua_json_encode(lua_State *L, int index, lg_buf *out, lg_error *err)
{
    size_t start = out->len;
    int top = lua_gettop(L);
    int rc = lg_lua_encode_value(L, index, 0, out, err);

    lua_settop(L, top);
    if (rc < 0) {
        out->len = start;
        if (out->data != NULL)
            out->data[start] = '\0';
    }
    return rc;
}
