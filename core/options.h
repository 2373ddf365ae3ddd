/* Option tables: one declaration per option that validates YAML, fills a struct and prints help. */
#ifndef LG_OPTIONS_H
#define LG_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "error.h"

typedef enum lg_option_type {
    LG_OPT_STRING = 1, /* char *, NULL when unset and without default */
    LG_OPT_INT,        /* int64_t, bounds from MIN and MAX */
    LG_OPT_BOOL,       /* int, 0 or 1; YAML true or false */
    LG_OPT_DOUBLE,     /* double */
    LG_OPT_DURATION,   /* int64_t milliseconds; "250ms", "2s", "5m", "1h", or 0 */
    LG_OPT_SIZE,       /* int64_t bytes; "512", "64KiB", "1MiB", "2GiB", "10KB", "5MB" */
    LG_OPT_ENUM,       /* int, index into CHOICES */
    LG_OPT_STRING_LIST, /* lg_string_list; a YAML list of strings, or one string */
    LG_OPT_TABLE,      /* nested struct at OFFSET, described by TABLE */
    LG_OPT_TABLE_LIST, /* lg_table_list of structs of TABLE_SIZE bytes */
    LG_OPT_NODE,       /* const lg_conf_node *: any YAML value, kept as written for its user */
} lg_option_type;

/* Flags of an option. */
#define LG_OPT_REQUIRED 0x1 /* the key must be present and not null */
#define LG_OPT_SECRET 0x2   /* the value never appears in messages, logs or help defaults */

typedef struct lg_string_list {
    size_t count;
    char **items;
} lg_string_list;

typedef struct lg_table_list {
    size_t count;
    void *items; /* COUNT structs of the option's TABLE_SIZE bytes, one after the other */
} lg_table_list;

typedef struct lg_option {
    const char *name;
    lg_option_type type;
    size_t offset;
    /* Default as YAML text, parsed exactly like a value from the file. NULL
     * means no default: strings stay NULL, numbers 0, lists empty. */
    const char *default_value;
    unsigned flags;
    /* Inclusive bounds for INT, DURATION and SIZE; ignored when both are 0. */
    int64_t min;
    int64_t max;
    const char *const *choices;    /* ENUM: NULL-terminated list of names */
    const struct lg_option *table; /* TABLE and TABLE_LIST: terminated by a zeroed entry */
    size_t table_size;             /* TABLE_LIST: size of one element */
    const char *description;
} lg_option;

/* Parse mapping NODE into TARGET as described by TABLE (ended by an entry
 * whose NAME is NULL). First every option gets its default, then the keys of
 * NODE are applied. A NULL NODE applies the defaults only. Keys listed in
 * IGNORED (NULL-terminated, may be NULL) are skipped, for keys the caller
 * reads itself such as "name" and "type". CONTEXT names the section for
 * messages ("source 'host'", "server.admin").
 *
 * Returns 0, or -1 with ERR set to "FILE:LINE:COLUMN: CONTEXT: ..." for an
 * unknown key (naming the valid keys), a wrong type (naming the expected
 * type and the value, unless the option is SECRET), a value out of bounds,
 * an unknown enum choice (listing the choices), or a missing required
 * option. On failure TARGET may be partly filled: free it with
 * lg_options_free. TARGET must start zeroed or hold an earlier result for
 * the same TABLE, whose strings and lists are freed as they are replaced. */
int lg_options_parse(const lg_option *table, const lg_conf_node *node, void *target, const char *const *ignored,
                     const char *context, lg_error *err);

/* Free the strings, lists and nested tables that lg_options_parse stored in
 * TARGET, and zero those fields. TARGET itself is not freed. */
void lg_options_free(const lg_option *table, void *target);

/* Print one line per option, indented by INDENT spaces: name, type,
 * default, bounds or choices, and description. Nested tables are printed
 * below their option with more indentation. */
void lg_options_print_help(FILE *out, const lg_option *table, int indent);

/* Print the options as a Markdown table (option, type, default, description),
 * for the option reference in the docs. PREFIX is put before nested names. */
void lg_options_print_markdown(FILE *out, const lg_option *table, const char *prefix);

/* Parsers shared with other modules. Each returns 0, or -1 when TEXT is not
 * valid, with errno set to ERANGE when the value does not fit in int64_t
 * and to EINVAL otherwise. */
int lg_parse_duration_ms(const char *text, int64_t *ms);
int lg_parse_size_bytes(const char *text, int64_t *bytes);

/* Write MS or BYTES into BUF of SIZE bytes with the largest unit that
 * divides it exactly, the way the parsers above read it back ("90s",
 * "5m", "64KiB", "10MB", "513B"). */
void lg_options_format_duration(int64_t ms, char *buf, size_t size);
void lg_options_format_size(int64_t bytes, char *buf, size_t size);

/* Helpers to declare table entries: LG_OPT_FIELD(struct type, field). */
#define LG_OPT_FIELD(type, field) offsetof(type, field)

#endif
