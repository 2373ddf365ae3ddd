/* Option tables: validate a YAML mapping against a table and store the values in a struct. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "options.h"

#define UNIT_TEXT_BYTES 32

static void *field_of(void *target, const lg_option *opt)
{
    return (char *)target + opt->offset;
}

static int is_null(const lg_conf_node *node)
{
    return node == NULL || (node->kind == LG_CONF_SCALAR && node->value == NULL);
}

static char *join_context(const char *context, const char *name)
{
    if (context == NULL || context[0] == '\0')
        return lg_strdup(name);
    return lg_sprintf("%s.%s", context, name);
}

/* Set ERR to "FILE:LINE:COLUMN: CONTEXT: message", leaving out the position
 * when AT is NULL and the context when it is empty. */
static int options_error(lg_error *err, const lg_conf_node *at, const char *context, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int options_error(lg_error *err, const lg_conf_node *at, const char *context, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    lg_error_vset(err, fmt, args);
    va_end(args);

    if (context != NULL && context[0] != '\0')
        lg_error_prefix(err, "%s", context);
    if (at != NULL)
        lg_error_prefix(err, "%s:%u:%u", at->file, at->line, at->column);
    return -1;
}

/* Report VALUE as not matching EXPECTED. Scalars are quoted in the message,
 * except for secret options, and HINT (may be NULL) is appended after them. */
static int invalid_value(const lg_option *opt, const lg_conf_node *value, const char *expected, const char *hint,
                         const char *context, lg_error *err)
{
    if (value->kind != LG_CONF_SCALAR || value->value == NULL)
        return options_error(err, value, context, "option '%s' expects %s, got %s", opt->name, expected,
                             lg_conf_describe(value));
    if (opt->flags & LG_OPT_SECRET)
        return options_error(err, value, context, "option '%s' expects %s, got an invalid value", opt->name,
                             expected);
    return options_error(err, value, context, "option '%s' expects %s, got '%s'%s", opt->name, expected,
                         value->value, hint ? hint : "");
}

static int has_bounds(const lg_option *opt)
{
    return opt->min != 0 || opt->max != 0;
}

/* Check the bounds of an INT, DURATION or SIZE option, printed in the
 * option's own units. */
static int check_bounds(const lg_option *opt, const lg_conf_node *value, int64_t number, const char *context,
                        lg_error *err)
{
    char low[UNIT_TEXT_BYTES];
    char high[UNIT_TEXT_BYTES];

    if (!has_bounds(opt) || (number >= opt->min && number <= opt->max))
        return 0;

    if (opt->type == LG_OPT_DURATION) {
        lg_options_format_duration(opt->min, low, sizeof(low));
        lg_options_format_duration(opt->max, high, sizeof(high));
    } else if (opt->type == LG_OPT_SIZE) {
        lg_options_format_size(opt->min, low, sizeof(low));
        lg_options_format_size(opt->max, high, sizeof(high));
    } else {
        snprintf(low, sizeof(low), "%lld", (long long)opt->min);
        snprintf(high, sizeof(high), "%lld", (long long)opt->max);
    }

    if (opt->flags & LG_OPT_SECRET)
        return options_error(err, value, context, "option '%s' must be between %s and %s", opt->name, low, high);
    return options_error(err, value, context, "option '%s' must be between %s and %s, got '%s'", opt->name, low,
                         high, value->value);
}

/* Parse a decimal integer with an optional sign and nothing around it.
 * Returns 0, or -1 when TEXT is invalid, with errno set to ERANGE when the
 * number does not fit in int64_t. */
static int parse_int64(const char *text, int64_t *out)
{
    char *end;
    long long number;

    errno = 0;
    if (strchr("+-0123456789", text[0]) == NULL || text[0] == '\0')
        return -1;
    number = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0')
        return -1;
    *out = number;
    return 0;
}

static int set_int(const lg_option *opt, const lg_conf_node *value, int64_t *field, const char *context,
                   lg_error *err)
{
    int64_t number;

    if (value->kind != LG_CONF_SCALAR || parse_int64(value->value, &number) < 0)
        return invalid_value(opt, value, "an integer", errno == ERANGE ? " (out of the 64-bit range)" : NULL, context,
                             err);
    if (check_bounds(opt, value, number, context, err) < 0)
        return -1;
    *field = number;
    return 0;
}

static int set_bool(const lg_option *opt, const lg_conf_node *value, int *field, const char *context, lg_error *err)
{
    if (value->kind == LG_CONF_SCALAR && strcmp(value->value, "true") == 0) {
        *field = 1;
        return 0;
    }
    if (value->kind == LG_CONF_SCALAR && strcmp(value->value, "false") == 0) {
        *field = 0;
        return 0;
    }
    return invalid_value(opt, value, "true or false", NULL, context, err);
}

static int set_double(const lg_option *opt, const lg_conf_node *value, double *field, const char *context,
                      lg_error *err)
{
    const char *text = value->value;
    char *end = NULL;
    double number = 0;

    /* The first character is checked because strtod would skip leading
     * spaces, which a quoted value may contain. */
    if (value->kind == LG_CONF_SCALAR && text[0] != '\0' && strchr("+-.0123456789", text[0]) != NULL)
        number = strtod(text, &end);
    if (end == NULL || end == text || *end != '\0' || !isfinite(number))
        return invalid_value(opt, value, "a finite number", NULL, context, err);
    *field = number;
    return 0;
}

static int is_digits(const char *text)
{
    return text[0] != '\0' && strspn(text, "0123456789") == strlen(text);
}

static int set_duration(const lg_option *opt, const lg_conf_node *value, int64_t *field, const char *context,
                        lg_error *err)
{
    const char *expected = "a duration with a unit such as 500ms, 2s or 5m";
    char *hint;
    int64_t ms;
    int rc;

    if (value->kind == LG_CONF_SCALAR && lg_parse_duration_ms(value->value, &ms) == 0) {
        if (check_bounds(opt, value, ms, context, err) < 0)
            return -1;
        *field = ms;
        return 0;
    }

    if (value->kind != LG_CONF_SCALAR || !is_digits(value->value))
        return invalid_value(opt, value, expected, errno == ERANGE ? " (too large)" : NULL, context, err);
    hint = lg_sprintf(" (add a unit, for example %ss or %sms)", value->value, value->value);
    rc = invalid_value(opt, value, expected, hint, context, err);
    free(hint);
    return rc;
}

static int set_size(const lg_option *opt, const lg_conf_node *value, int64_t *field, const char *context,
                    lg_error *err)
{
    const char *expected = "a size in bytes or with a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB) such as 64KiB";
    int64_t bytes;

    if (value->kind != LG_CONF_SCALAR || lg_parse_size_bytes(value->value, &bytes) < 0)
        return invalid_value(opt, value, expected, errno == ERANGE ? " (too large)" : NULL, context, err);
    if (check_bounds(opt, value, bytes, context, err) < 0)
        return -1;
    *field = bytes;
    return 0;
}

static int set_enum(const lg_option *opt, const lg_conf_node *value, int *field, const char *context, lg_error *err)
{
    lg_buf expected = LG_BUF_INIT;
    size_t i;
    int rc;

    for (i = 0; value->kind == LG_CONF_SCALAR && opt->choices != NULL && opt->choices[i] != NULL; i++) {
        if (strcmp(value->value, opt->choices[i]) == 0) {
            *field = (int)i;
            return 0;
        }
    }

    lg_buf_append_str(&expected, "one of:");
    for (i = 0; opt->choices != NULL && opt->choices[i] != NULL; i++)
        lg_buf_printf(&expected, "%s %s", i == 0 ? "" : ",", opt->choices[i]);
    rc = invalid_value(opt, value, expected.data, NULL, context, err);
    lg_buf_free(&expected);
    return rc;
}

static int set_string(const lg_option *opt, const lg_conf_node *value, char **field, const char *context,
                      lg_error *err)
{
    if (value->kind != LG_CONF_SCALAR)
        return invalid_value(opt, value, "a string", NULL, context, err);
    free(*field);
    *field = lg_strdup(value->value);
    return 0;
}

static void free_string_list(lg_string_list *list)
{
    size_t i;

    for (i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

/* Store a list of strings, or one string as a list of one item. */
static int set_string_list(const lg_option *opt, const lg_conf_node *value, lg_string_list *field,
                           const char *context, lg_error *err)
{
    const lg_conf_node *const *items = (const lg_conf_node *const *)value->items;
    size_t count = value->count;
    size_t i;

    if (value->kind == LG_CONF_MAP)
        return invalid_value(opt, value, "a list of strings", NULL, context, err);
    if (value->kind == LG_CONF_SCALAR) {
        items = &value;
        count = 1;
    }
    for (i = 0; i < count; i++) {
        if (items[i]->kind != LG_CONF_SCALAR || items[i]->value == NULL)
            return options_error(err, items[i], context, "option '%s' expects a list of strings, got %s in the list",
                                 opt->name, lg_conf_describe(items[i]));
    }

    free_string_list(field);
    field->items = lg_calloc(count, sizeof(*field->items));
    for (i = 0; i < count; i++)
        field->items[i] = lg_strdup(items[i]->value);
    field->count = count;
    return 0;
}

static int set_table(const lg_option *opt, const lg_conf_node *value, void *field, const char *context,
                     lg_error *err)
{
    char *inner;
    int rc;

    if (value->kind != LG_CONF_MAP)
        return invalid_value(opt, value, "a mapping", NULL, context, err);

    inner = join_context(context, opt->name);
    rc = lg_options_parse(opt->table, value, field, NULL, inner, err);
    free(inner);
    return rc;
}

static void free_table_list(const lg_option *opt, lg_table_list *list)
{
    size_t i;

    for (i = 0; i < list->count; i++)
        lg_options_free(opt->table, (char *)list->items + i * opt->table_size);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

/* Store a list of mappings, each parsed into a zeroed struct of TABLE_SIZE bytes.
 * The list is stored before its elements are parsed, so that a failure
 * leaves it in FIELD for lg_options_free. */
static int set_table_list(const lg_option *opt, const lg_conf_node *value, lg_table_list *field,
                          const char *context, lg_error *err)
{
    char *inner;
    size_t i;
    int rc = 0;

    if (value->kind != LG_CONF_SEQ)
        return invalid_value(opt, value, "a list of mappings", NULL, context, err);

    free_table_list(opt, field);
    field->items = lg_calloc(value->count, opt->table_size);
    field->count = value->count;

    inner = join_context(context, opt->name);
    for (i = 0; i < value->count && rc == 0; i++) {
        char *element = lg_sprintf("%s[%zu]", inner, i);

        if (value->items[i]->kind != LG_CONF_MAP)
            rc = options_error(err, value->items[i], element, "expected a mapping, got %s",
                               lg_conf_describe(value->items[i]));
        else
            rc = lg_options_parse(opt->table, value->items[i], (char *)field->items + i * opt->table_size, NULL,
                                  element, err);
        free(element);
    }
    free(inner);
    return rc;
}

/* Store VALUE, which is not null, into OPT's field of TARGET. */
static int apply_value(const lg_option *opt, const lg_conf_node *value, void *target, const char *context,
                       lg_error *err)
{
    void *field = field_of(target, opt);

    switch (opt->type) {
    case LG_OPT_STRING:
        return set_string(opt, value, field, context, err);
    case LG_OPT_INT:
        return set_int(opt, value, field, context, err);
    case LG_OPT_BOOL:
        return set_bool(opt, value, field, context, err);
    case LG_OPT_DOUBLE:
        return set_double(opt, value, field, context, err);
    case LG_OPT_DURATION:
        return set_duration(opt, value, field, context, err);
    case LG_OPT_SIZE:
        return set_size(opt, value, field, context, err);
    case LG_OPT_ENUM:
        return set_enum(opt, value, field, context, err);
    case LG_OPT_STRING_LIST:
        return set_string_list(opt, value, field, context, err);
    case LG_OPT_TABLE:
        return set_table(opt, value, field, context, err);
    case LG_OPT_TABLE_LIST:
        return set_table_list(opt, value, field, context, err);
    case LG_OPT_NODE:
        *(const lg_conf_node **)field = value;
        return 0;
    }
    return options_error(err, value, context, "option '%s' has an unknown type %d", opt->name, (int)opt->type);
}

static void free_field(const lg_option *opt, void *field)
{
    if (opt->type == LG_OPT_STRING) {
        free(*(char **)field);
        *(char **)field = NULL;
    } else if (opt->type == LG_OPT_STRING_LIST) {
        free_string_list(field);
    } else if (opt->type == LG_OPT_TABLE) {
        lg_options_free(opt->table, field);
    } else if (opt->type == LG_OPT_TABLE_LIST) {
        free_table_list(opt, field);
    }
}

/* Free the strings and lists in FIELD and set it to the value of an option without a default. */
static void reset_field(const lg_option *opt, void *field)
{
    free_field(opt, field);
    if (opt->type == LG_OPT_INT || opt->type == LG_OPT_DURATION || opt->type == LG_OPT_SIZE)
        *(int64_t *)field = 0;
    else if (opt->type == LG_OPT_BOOL || opt->type == LG_OPT_ENUM)
        *(int *)field = 0;
    else if (opt->type == LG_OPT_DOUBLE)
        *(double *)field = 0;
    else if (opt->type == LG_OPT_NODE)
        *(const lg_conf_node **)field = NULL;
}

static int apply_defaults(const lg_option *table, void *target, const char *context, lg_error *err);

/* Apply OPT's default. Its YAML text is parsed like a file value and reported
 * as file "(default)", since a bad default is a mistake in the table. */
static int apply_default(const lg_option *opt, void *target, const char *context, lg_error *err)
{
    lg_conf_doc *doc;
    char *inner;
    int rc = 0;

    reset_field(opt, field_of(target, opt));
    if (opt->type == LG_OPT_TABLE && opt->default_value == NULL) {
        inner = join_context(context, opt->name);
        rc = apply_defaults(opt->table, field_of(target, opt), inner, err);
        free(inner);
        return rc;
    }
    if (opt->default_value == NULL)
        return 0;

    doc = lg_conf_load_value("(default)", opt->default_value, strlen(opt->default_value), err);
    if (doc == NULL) {
        lg_error_prefix(err, "invalid default of option '%s'", opt->name);
        return context != NULL && context[0] != '\0' ? lg_error_prefix(err, "%s", context) : -1;
    }
    if (!is_null(doc->root))
        rc = apply_value(opt, doc->root, target, context, err);
    lg_conf_free(doc);
    return rc;
}

static int apply_defaults(const lg_option *table, void *target, const char *context, lg_error *err)
{
    const lg_option *opt;

    for (opt = table; opt->name != NULL; opt++) {
        if (apply_default(opt, target, context, err) < 0)
            return -1;
    }
    return 0;
}

static const lg_option *find_option(const lg_option *table, const char *name)
{
    const lg_option *opt;

    for (opt = table; opt->name != NULL; opt++) {
        if (strcmp(opt->name, name) == 0)
            return opt;
    }
    return NULL;
}

static int is_ignored(const char *const *ignored, const char *name)
{
    size_t i;

    for (i = 0; ignored != NULL && ignored[i] != NULL; i++) {
        if (strcmp(ignored[i], name) == 0)
            return 1;
    }
    return 0;
}

/* Return a node that carries only the position of PAIR's key in MAP, for messages. */
static lg_conf_node key_position(const lg_conf_node *map, const lg_conf_pair *pair)
{
    lg_conf_node at = {.kind = LG_CONF_SCALAR, .file = map->file, .line = pair->line, .column = pair->column};

    return at;
}

static int unknown_key(const lg_option *table, const lg_conf_node *map, const lg_conf_pair *pair,
                       const char *const *ignored, const char *context, lg_error *err)
{
    lg_conf_node at = key_position(map, pair);
    lg_buf valid = LG_BUF_INIT;
    const lg_option *opt;
    size_t i;

    for (opt = table; opt->name != NULL; opt++)
        lg_buf_printf(&valid, "%s%s", valid.len ? ", " : "", opt->name);
    for (i = 0; ignored != NULL && ignored[i] != NULL; i++)
        lg_buf_printf(&valid, "%s%s", valid.len ? ", " : "", ignored[i]);

    options_error(err, &at, context, "unknown option '%s', valid options are: %s", pair->key,
                  valid.len ? valid.data : "(none)");
    lg_buf_free(&valid);
    return -1;
}

/* Check that every required option of TABLE is set in MAP (NULL when the
 * section is absent), and the same for nested tables that MAP leaves out.
 * Errors point at AT, the closest mapping that exists. */
static int check_required(const lg_option *table, const lg_conf_node *map, const lg_conf_node *at,
                          const char *context, lg_error *err)
{
    const lg_option *opt;
    const lg_conf_pair *pair;
    char *inner;
    int rc;

    for (opt = table; opt->name != NULL; opt++) {
        const lg_conf_node *value = lg_conf_map_get(map, opt->name, &pair);
        lg_conf_node key_at;

        if ((opt->flags & LG_OPT_REQUIRED) && value == NULL)
            return options_error(err, at, context, "missing required option '%s'", opt->name);
        if ((opt->flags & LG_OPT_REQUIRED) && is_null(value)) {
            key_at = key_position(map, pair);
            return options_error(err, &key_at, context, "missing required option '%s' (its value is null)",
                                 opt->name);
        }
        if (opt->type != LG_OPT_TABLE || opt->default_value != NULL || !is_null(value))
            continue;

        inner = join_context(context, opt->name);
        rc = check_required(opt->table, NULL, at, inner, err);
        free(inner);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int lg_options_parse(const lg_option *table, const lg_conf_node *node, void *target, const char *const *ignored,
                     const char *context, lg_error *err)
{
    const lg_conf_node *map = is_null(node) ? NULL : node;
    size_t i;

    if (map != NULL && map->kind != LG_CONF_MAP)
        return options_error(err, map, context, "expected a mapping, got %s", lg_conf_describe(map));

    if (apply_defaults(table, target, context, err) < 0)
        return -1;

    /* A null value keeps the default, and check_required below rejects it
     * for a required option. */
    for (i = 0; map != NULL && i < map->count; i++) {
        const lg_conf_pair *pair = &map->pairs[i];
        const lg_option *opt = find_option(table, pair->key);

        if (opt == NULL && is_ignored(ignored, pair->key))
            continue;
        if (opt == NULL)
            return unknown_key(table, map, pair, ignored, context, err);
        if (is_null(pair->value))
            continue;
        if (apply_value(opt, pair->value, target, context, err) < 0)
            return -1;
    }

    return check_required(table, map, node, context, err);
}

void lg_options_free(const lg_option *table, void *target)
{
    const lg_option *opt;

    for (opt = table; opt->name != NULL; opt++)
        free_field(opt, field_of(target, opt));
}
