/* Option tables printed as aligned help text and as a Markdown reference table. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "options.h"

/* Width of the name column at the top level. Nested names are indented by
 * HELP_NEST_INDENT and their column is narrower by as much, so that the
 * type, default and description columns stay aligned. */
#define HELP_NAME_WIDTH 18
#define HELP_TYPE_WIDTH 9
#define HELP_DEFAULT_WIDTH 16
#define HELP_NEST_INDENT 2

#define UNIT_TEXT_BYTES 32

static const char *type_name(lg_option_type type)
{
    switch (type) {
    case LG_OPT_STRING:
        return "string";
    case LG_OPT_INT:
        return "integer";
    case LG_OPT_BOOL:
        return "bool";
    case LG_OPT_DOUBLE:
        return "number";
    case LG_OPT_DURATION:
        return "duration";
    case LG_OPT_SIZE:
        return "size";
    case LG_OPT_ENUM:
        return "enum";
    case LG_OPT_STRING_LIST:
        return "list";
    case LG_OPT_TABLE:
        return "table";
    case LG_OPT_TABLE_LIST:
        return "tables";
    case LG_OPT_NODE:
        return "any";
    }
    return "unknown";
}

static void format_bound(const lg_option *opt, int64_t value, char *buf, size_t size)
{
    if (opt->type == LG_OPT_DURATION)
        lg_options_format_duration(value, buf, size);
    else if (opt->type == LG_OPT_SIZE)
        lg_options_format_size(value, buf, size);
    else
        snprintf(buf, size, "%lld", (long long)value);
}

/* Append " (1 to 64)" or " (one of: a, b)" when OPT has bounds or choices. */
static void append_constraints(lg_buf *out, const lg_option *opt)
{
    char low[UNIT_TEXT_BYTES];
    char high[UNIT_TEXT_BYTES];
    size_t i;

    if (opt->type == LG_OPT_ENUM && opt->choices != NULL) {
        lg_buf_append_str(out, " (one of:");
        for (i = 0; opt->choices[i] != NULL; i++)
            lg_buf_printf(out, "%s %s", i == 0 ? "" : ",", opt->choices[i]);
        lg_buf_append_char(out, ')');
        return;
    }

    if (opt->type != LG_OPT_INT && opt->type != LG_OPT_DURATION && opt->type != LG_OPT_SIZE)
        return;
    if (opt->min == 0 && opt->max == 0)
        return;
    format_bound(opt, opt->min, low, sizeof(low));
    format_bound(opt, opt->max, high, sizeof(high));
    lg_buf_printf(out, " (%s to %s)", low, high);
}

/* The default column: "required", the default as written, "(secret)" for a
 * secret default, or empty. */
static const char *default_text(const lg_option *opt)
{
    if (opt->flags & LG_OPT_REQUIRED)
        return "required";
    if (opt->default_value == NULL)
        return "";
    if (opt->flags & LG_OPT_SECRET)
        return "(secret)";
    return opt->default_value;
}

static void trim_trailing_spaces(lg_buf *buf)
{
    while (buf->len > 0 && buf->data[buf->len - 1] == ' ')
        buf->data[--buf->len] = '\0';
}

static void print_help_rows(FILE *out, const lg_option *table, int indent, int depth)
{
    int name_width = HELP_NAME_WIDTH - depth * HELP_NEST_INDENT;
    const lg_option *opt;

    if (name_width < 1)
        name_width = 1;

    for (opt = table; opt->name != NULL; opt++) {
        lg_buf line = LG_BUF_INIT;
        const char *def = default_text(opt);
        char *column = def[0] == '\0' || (opt->flags & LG_OPT_REQUIRED) ? lg_strdup(def)
                                                                         : lg_sprintf("default %s", def);

        lg_buf_printf(&line, "%*s%-*s %-*s %-*s %s", indent + depth * HELP_NEST_INDENT, "", name_width, opt->name,
                      HELP_TYPE_WIDTH, type_name(opt->type), HELP_DEFAULT_WIDTH, column,
                      opt->description ? opt->description : "");
        append_constraints(&line, opt);
        trim_trailing_spaces(&line);
        fprintf(out, "%s\n", line.data);
        free(column);
        lg_buf_free(&line);

        if ((opt->type == LG_OPT_TABLE || opt->type == LG_OPT_TABLE_LIST) && opt->table != NULL)
            print_help_rows(out, opt->table, indent, depth + 1);
    }
}

void lg_options_print_help(FILE *out, const lg_option *table, int indent)
{
    print_help_rows(out, table, indent, 0);
}

/* Append TEXT to a Markdown table cell: '|' is escaped and line breaks
 * become spaces, so the row stays one line. */
static void append_cell(lg_buf *row, const char *text)
{
    const char *p;

    for (p = text; *p != '\0'; p++) {
        if (*p == '|')
            lg_buf_append_str(row, "\\|");
        else if (*p == '\n' || *p == '\r')
            lg_buf_append_char(row, ' ');
        else
            lg_buf_append_char(row, *p);
    }
}

/* Print the rows of TABLE. Nested names are "parent.child", and the items
 * of a list of tables are "parent[].child". */
static void print_markdown_rows(FILE *out, const lg_option *table, const char *prefix)
{
    const lg_option *opt;

    for (opt = table; opt->name != NULL; opt++) {
        char *name = prefix != NULL && prefix[0] != '\0' ? lg_sprintf("%s.%s", prefix, opt->name)
                                                          : lg_strdup(opt->name);
        const char *def = default_text(opt);
        lg_buf row = LG_BUF_INIT;
        char *nested;

        lg_buf_append_str(&row, "| `");
        append_cell(&row, name);
        lg_buf_printf(&row, "` | %s | ", type_name(opt->type));
        if (def[0] != '\0' && def == opt->default_value) {
            lg_buf_append_char(&row, '`');
            append_cell(&row, def);
            lg_buf_append_char(&row, '`');
        } else {
            append_cell(&row, def);
        }
        lg_buf_append_str(&row, " | ");
        append_cell(&row, opt->description ? opt->description : "");
        append_constraints(&row, opt);
        lg_buf_append_str(&row, " |");
        fprintf(out, "%s\n", row.data);
        lg_buf_free(&row);

        if ((opt->type == LG_OPT_TABLE || opt->type == LG_OPT_TABLE_LIST) && opt->table != NULL) {
            nested = opt->type == LG_OPT_TABLE_LIST ? lg_sprintf("%s[]", name) : lg_strdup(name);
            print_markdown_rows(out, opt->table, nested);
            free(nested);
        }
        free(name);
    }
}

void lg_options_print_markdown(FILE *out, const lg_option *table, const char *prefix)
{
    fprintf(out, "| option | type | default | description |\n");
    fprintf(out, "|---|---|---|---|\n");
    print_markdown_rows(out, table, prefix);
}
