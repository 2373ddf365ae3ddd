/* JSON for Lua scripts: exact round trips of null, empty arrays and objects, integers, floats and key order. */
#ifndef LG_LUA_JSON_H
#define LG_LUA_JSON_H

#include <stddef.h>

#include <lua.h>

#include "buf.h"
#include "error.h"

/* Nesting deeper than this is rejected in both directions. */
#define LG_LUA_JSON_MAX_DEPTH 128

/* Set up the JSON support of state L: the null sentinel, the array and
 * object metatables and the key-order table. Call once per state. */
void lg_lua_json_open(lua_State *L);

/* Push the sentinel that stands for JSON null. */
void lg_lua_json_push_null(lua_State *L);

/* Return 1 when the value at INDEX is the null sentinel. */
int lg_lua_json_is_null(lua_State *L, int index);

/* Mark the table at INDEX as a JSON array or object, so that an empty one
 * keeps its kind when encoded. */
void lg_lua_json_mark_array(lua_State *L, int index);
void lg_lua_json_mark_object(lua_State *L, int index);

/* Decode DATA (LEN bytes of JSON) and push the value: objects become tables
 * marked as objects that remember their key order, arrays tables marked as
 * arrays, null the sentinel, integers Lua integers and other numbers Lua
 * floats. Returns 0, or -1 with ERR set and nothing pushed (invalid JSON, an
 * integer outside 64 bits, nesting over LG_LUA_JSON_MAX_DEPTH). */
int lg_lua_json_decode(lua_State *L, const char *data, size_t len, lg_error *err);

/* Encode the value at INDEX into OUT. Marked tables keep their kind; an
 * unmarked table is an array when its keys are exactly 1..n (n > 0), else an
 * object. Object keys come out in their decoded order, then new keys in
 * sorted order. Floats use the shortest text that reads back to the same
 * double and always look like floats (1.0). Returns 0, or -1 with ERR set
 * (functions, NaN or infinity, non-string keys, too deep or cyclic). */
int lg_lua_json_encode(lua_State *L, int index, lg_buf *out, lg_error *err);

#endif
