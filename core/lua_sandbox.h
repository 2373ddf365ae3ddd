/* Sandboxed Lua 5.4 states: safe libraries only, a memory cap per state and an instruction budget per call. */
#ifndef LG_LUA_SANDBOX_H
#define LG_LUA_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "error.h"

typedef struct lg_lua_sandbox lg_lua_sandbox;

/* Create a state capped at MEMORY_BYTES with the base, string, table, math,
 * utf8 and coroutine libraries and os.time, os.clock, os.date and
 * os.difftime. Absent: io, package and require, load, loadfile, dofile,
 * string.dump, collectgarbage and debug. print writes to the log. SCOPE
 * labels log lines. Returns NULL with ERR set when the state cannot be made. */
lg_lua_sandbox *lg_lua_sandbox_new(size_t memory_bytes, const char *scope, lg_error *err);

void lg_lua_sandbox_free(lg_lua_sandbox *sandbox);

lua_State *lg_lua_sandbox_state(lg_lua_sandbox *sandbox);

/* Compile the text chunk TEXT (binary chunks are refused) named NAME and run
 * it within BUDGET instructions. Returns 0, or -1 with ERR set to
 * "NAME:LINE: reason". */
int lg_lua_sandbox_run_chunk(lg_lua_sandbox *sandbox, const char *name, const char *text, size_t len, int64_t budget,
                             lg_error *err);

/* Call the function below NARGS arguments on the stack, like lua_pcall with
 * NRESULTS results, stopping it after BUDGET instructions. Returns 0, or -1
 * with ERR set to the error with its script line ("instruction budget of
 * 1000000 exceeded", "memory limit of 33554432 bytes reached", or the
 * script's own error); the stack then holds no results. */
int lg_lua_sandbox_call(lg_lua_sandbox *sandbox, int nargs, int nresults, int64_t budget, lg_error *err);

/* Bytes the state uses now. */
size_t lg_lua_sandbox_memory(const lg_lua_sandbox *sandbox);

#endif
