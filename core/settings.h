/* The livegate configuration file: server, sources, channels and sinks, parsed and checked. */
#ifndef LG_SETTINGS_H
#define LG_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "error.h"
#include "options.h"
#include "rules.h"

typedef struct lg_admin_settings {
    char *listen;
    char *token; /* empty or NULL: no token, and the admin listener must be on loopback */
    lg_string_list allowed_origins;
} lg_admin_settings;

typedef struct lg_log_settings {
    int level; /* lg_log_level */
    char *file;
    int64_t rate_limit_burst;
    int64_t rate_limit_window_ms;
} lg_log_settings;

typedef struct lg_limit_settings {
    int64_t max_request_line_bytes;
    int64_t max_header_count;
    int64_t max_header_bytes;
    int64_t max_body_bytes;
    int64_t max_connections;
    int64_t idle_timeout_ms;
    int64_t request_timeout_ms;
    int64_t client_queue_bytes;
    int64_t send_timeout_ms;
    int64_t max_streams_per_address;
    int64_t max_channels;
    int64_t max_subscriptions;
    int64_t resume_wait_ms;
} lg_limit_settings;

typedef struct lg_lua_settings {
    int64_t instruction_budget;
    int64_t memory_bytes;
    int64_t disable_after;
} lg_lua_settings;

/* server.stats: livegate's own figures published into a channel. */
typedef struct lg_stats_settings {
    char *channel;       /* empty: not published */
    int64_t interval_ms; /* 0: not published */
} lg_stats_settings;

typedef struct lg_server_settings {
    char *listen;
    int64_t workers;
    char *web_root;
    char *plugin_dir;
    int64_t shutdown_timeout_ms;
    lg_admin_settings admin;
    lg_log_settings log;
    lg_limit_settings limits;
    lg_lua_settings lua;
    lg_stats_settings stats;
} lg_server_settings;

/* One item of "tests:": events published into a config's channels and the
 * events expected out of them, to test channel scripts (livegate test). */
typedef struct lg_script_test {
    char *name;
    char *channel;      /* default channel of the inputs */
    int64_t start_time; /* the test clock at the start, ms since the Unix epoch */
    const lg_conf_node *input;
    const lg_conf_node *expect;
} lg_script_test;

/* One item of "sources:" or "sinks:". NODE is the item's mapping, kept for
 * the plugin's own options. */
typedef struct lg_plugin_settings {
    char *name;
    char *type;
    const lg_conf_node *node;
} lg_plugin_settings;

typedef struct lg_settings {
    lg_conf_doc *doc;
    char *path;     /* the file, or "(embedded default)" */
    int embedded;   /* loaded from the copy built into the binary */
    char *base_dir; /* relative paths are resolved against this directory */
    lg_server_settings server;
    lg_table_list channels; /* of lg_rule */
    lg_table_list tests;    /* of lg_script_test */
    lg_plugin_settings *sources;
    size_t source_count;
    lg_plugin_settings *sinks;
    size_t sink_count;
} lg_settings;

/* Options of the "server:" section, for help and docs. */
extern const lg_option lg_server_options[];

/* Options of one item of "tests:", for help and docs. */
const lg_option *lg_test_options_table(void);

/* Load and check the configuration at PATH, or the embedded default when
 * PATH is NULL (relative paths then resolve against LG_DATA_DIR/conf).
 * Checks everything that does not need the plugins: syntax, types, bounds,
 * unknown keys, duplicate source names, listen addresses, and the rule that
 * an admin listener without a token binds to loopback only. Returns the
 * settings, or NULL with ERR set to "FILE:LINE:COLUMN: reason". */
lg_settings *lg_settings_load(const char *path, lg_error *err);

void lg_settings_free(lg_settings *settings);

/* Return PATH unchanged when absolute, else joined to the settings' base
 * directory, as a new string. */
char *lg_settings_resolve_path(const lg_settings *settings, const char *path);

#endif
