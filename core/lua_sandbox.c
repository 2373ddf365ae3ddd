/* Lua states for scripts: a capped allocator, an instruction-count hook and a reduced set of libraries. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "alloc.h"
#include "log.h"
#include "lua_sandbox.h"

struct lg_lua_sandbox {
    lua_State *L;
    size_t used;
    size_t limit;
    int over_limit; /* an allocation was refused during the current call */
    int64_t budget; /* instructions of the current call */
    char *scope;
};

/* lua_Alloc with a cap: Lua turns a refused allocation into a memory error
 * that stops the running call and leaves the state usable. */
static void *lg_lua_alloc(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    lg_lua_sandbox *sandbox = ud;
    size_t old = ptr != NULL ? old_size : 0;
    void *moved;

    if (new_size == 0) {
        free(ptr);
        sandbox->used -= old;
        return NULL;
    }
    if (new_size > old && sandbox->used - old + new_size > sandbox->limit) {
        sandbox->over_limit = 1;
        return NULL;
    }

    moved = realloc(ptr, new_size);
    if (moved == NULL)
        return NULL;
    sandbox->used = sandbox->used - old + new_size;
    return moved;
}

/* Stop the running call. The message names the line that was running, as
 * a runtime error in the script would. */
static void lg_lua_budget_hook(lua_State *L, lua_Debug *ar)
{
    lg_lua_sandbox *sandbox;

    lua_getallocf(L, (void **)&sandbox);
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
        luaL_error(L, "%s:%d: instruction budget of %I exceeded", ar->short_src, ar->currentline,
                   (lua_Integer)sandbox->budget);
    luaL_error(L, "instruction budget of %I exceeded", (lua_Integer)sandbox->budget);
}

static int lg_lua_print(lua_State *L)
{
    lg_lua_sandbox *sandbox;
    luaL_Buffer line;
    int n = lua_gettop(L);

    lua_getallocf(L, (void **)&sandbox);
    luaL_buffinit(L, &line);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&line, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&line);
    }
    luaL_pushresult(&line);
    LG_LOG_INFO(sandbox->scope, "%s", lua_tostring(L, -1));
    return 0;
}

/* Keep only os.time, os.clock, os.date and os.difftime. */
static void lg_lua_open_os(lua_State *L)
{
    static const char *const kept[] = {"time", "clock", "date", "difftime", NULL};

    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
    lua_newtable(L);
    for (int i = 0; kept[i] != NULL; i++) {
        lua_getfield(L, -2, kept[i]);
        lua_setfield(L, -2, kept[i]);
    }
    lua_setglobal(L, LUA_OSLIBNAME);
    lua_pop(L, 1);
}

static void lg_lua_open_libs(lua_State *L)
{
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},         {LUA_TABLIBNAME, luaopen_table}, {LUA_STRLIBNAME, luaopen_string},
        {LUA_MATHLIBNAME, luaopen_math},   {LUA_UTF8LIBNAME, luaopen_utf8}, {LUA_COLIBNAME, luaopen_coroutine},
        {NULL, NULL},
    };
    static const char *const removed[] = {"dofile", "loadfile", "load", "require", "collectgarbage", NULL};

    for (const luaL_Reg *lib = libs; lib->name != NULL; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    lg_lua_open_os(L);

    for (int i = 0; removed[i] != NULL; i++) {
        lua_pushnil(L);
        lua_setglobal(L, removed[i]);
    }
    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);

    lua_pushcfunction(L, lg_lua_print);
    lua_setglobal(L, "print");
}

lg_lua_sandbox *lg_lua_sandbox_new(size_t memory_bytes, const char *scope, lg_error *err)
{
    lg_lua_sandbox *sandbox = lg_calloc(1, sizeof(*sandbox));

    sandbox->limit = memory_bytes;
    sandbox->scope = lg_strdup(scope);
    sandbox->L = lua_newstate(lg_lua_alloc, sandbox);
    if (sandbox->L == NULL) {
        free(sandbox->scope);
        free(sandbox);
        lg_error_set(err, "cannot create a Lua state within %zu bytes", memory_bytes);
        return NULL;
    }
    lg_lua_open_libs(sandbox->L);
    return sandbox;
}

void lg_lua_sandbox_free(lg_lua_sandbox *sandbox)
{
    if (sandbox == NULL)
        return;
    lua_close(sandbox->L);
    free(sandbox->scope);
    free(sandbox);
}

lua_State *lg_lua_sandbox_state(lg_lua_sandbox *sandbox)
{
    return sandbox->L;
}

size_t lg_lua_sandbox_memory(const lg_lua_sandbox *sandbox)
{
    return sandbox->used;
}

/* Turn the error object on top of the stack into ERR and pop it. */
static int lg_lua_take_error(lg_lua_sandbox *sandbox, int status, lg_error *err)
{
    const char *message = lua_type(sandbox->L, -1) == LUA_TSTRING ? lua_tostring(sandbox->L, -1) : NULL;

    if (status == LUA_ERRMEM || sandbox->over_limit)
        lg_error_set(err, "%s (memory limit of %zu bytes reached)", message != NULL ? message : "not enough memory",
                     sandbox->limit);
    else
        lg_error_set(err, "%s", message != NULL ? message : "error object is not a string");
    lua_pop(sandbox->L, 1);
    return -1;
}

int lg_lua_sandbox_call(lg_lua_sandbox *sandbox, int nargs, int nresults, int64_t budget, lg_error *err)
{
    lua_State *L = sandbox->L;
    int status;

    sandbox->over_limit = 0;
    sandbox->budget = budget;
    if (budget > 0)
        lua_sethook(L, lg_lua_budget_hook, LUA_MASKCOUNT, budget > INT32_MAX ? INT32_MAX : (int)budget);
    status = lua_pcall(L, nargs, nresults, 0);
    lua_sethook(L, NULL, 0, 0);

    if (status != LUA_OK)
        return lg_lua_take_error(sandbox, status, err);
    return 0;
}

int lg_lua_sandbox_run_chunk(lg_lua_sandbox *sandbox, const char *name, const char *text, size_t len, int64_t budget,
                             lg_error *err)
{
    char *chunkname = lg_sprintf("@%s", name);
    int status = luaL_loadbufferx(sandbox->L, text, len, chunkname, "t");

    free(chunkname);
    if (status != LUA_OK)
        return lg_lua_take_error(sandbox, status, err);
    return lg_lua_sandbox_call(sandbox, 0, 0, budget, err);
}
