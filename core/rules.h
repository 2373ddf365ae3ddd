/* Channel rules: which channels exist, and their history, snapshot, overflow and permissions. */
#ifndef LG_RULES_H
#define LG_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "options.h"

typedef enum lg_snapshot_mode {
    LG_SNAPSHOT_NONE = 0,
    LG_SNAPSHOT_LAST,  /* the newest event */
    LG_SNAPSHOT_KEYED, /* the newest event of every key */
} lg_snapshot_mode;

typedef enum lg_on_error {
    LG_ON_ERROR_DROP = 0, /* an event whose script failed is dropped */
    LG_ON_ERROR_PASS,     /* it goes on unchanged */
} lg_on_error;

typedef enum lg_overflow_policy {
    LG_OVERFLOW_CONFLATE = 0, /* keep the newest queued event per key */
    LG_OVERFLOW_DROP,         /* drop new events and send a gap notice */
    LG_OVERFLOW_DISCONNECT,   /* close the client's connection */
} lg_overflow_policy;

typedef struct lg_history_config {
    int64_t length;     /* events kept for resume; 0 keeps none */
    int64_t max_age_ms; /* older events are evicted; 0 keeps them until LENGTH evicts them */
} lg_history_config;

/* One item of the "channels:" list. The first rule whose MATCH accepts a
 * channel name applies to that channel. */
typedef struct lg_rule {
    char *match;
    lg_history_config history;
    int snapshot;  /* lg_snapshot_mode */
    int64_t snapshot_max_keys;
    int overflow;  /* lg_overflow_policy */
    double max_rate;
    int publish;
    int subscribe;
    char *lua;    /* script path as written in the file, NULL for none */
    const struct lg_conf_node *lua_config; /* any YAML value given to the script as livegate.config */
    int on_error; /* lg_on_error */
    int64_t dedup_window; /* origins remembered to drop repeated events; 0 remembers none */
    char *publish_via;    /* source that admin-published events are written through, NULL for none */
} lg_rule;

/* The rules of one configuration, swapped as a whole on reload. */
typedef struct lg_ruleset {
    const lg_rule *rules;
    size_t count;
} lg_ruleset;

/* The option table of one rule, for the config parser and the docs. */
extern const lg_option lg_rule_options[];

/* Return the first rule of RULES (COUNT items) that matches NAME, or NULL. */
const lg_rule *lg_rules_find(const lg_rule *rules, size_t count, const char *name);

const char *lg_snapshot_mode_name(int mode);
const char *lg_overflow_policy_name(int policy);
const char *lg_on_error_name(int on_error);

#endif
