/* ${NAME} and ${NAME:-default} expansion of configuration values from the environment. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "conf.h"

static int is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Find the '}' that closes the default starting at TEXT, skipping nested
 * ${...} references, or NULL when the text ends first. */
static const char *find_default_end(const char *text)
{
    unsigned depth = 0;
    const char *p;

    for (p = text; *p != '\0'; p++) {
        if (p[0] == '$' && p[1] == '{') {
            depth++;
            p++;
        } else if (*p == '}' && depth == 0) {
            return p;
        } else if (*p == '}') {
            depth--;
        }
    }
    return NULL;
}

/* Append the value of the default TEXT of LEN bytes, which may itself
 * contain references. */
static int append_default(lg_buf *out, const char *text, size_t len, lg_error *err)
{
    char *raw = lg_strndup(text, len);
    char *expanded = lg_conf_expand_env(raw, err);

    free(raw);
    if (expanded == NULL)
        return -1;
    lg_buf_append_str(out, expanded);
    free(expanded);
    return 0;
}

/* Expand the reference that starts at *CURSOR ("${"), append its value to
 * OUT and move *CURSOR past the closing '}'. */
static int expand_reference(const char **cursor, lg_buf *out, lg_error *err)
{
    const char *start = *cursor;
    const char *name = start + 2;
    const char *name_end = name;
    const char *default_end;
    const char *value;
    char *var;
    int rc = 0;

    while (is_name_char(*name_end))
        name_end++;
    if (!is_name_start(*name) || (*name_end != '}' && strncmp(name_end, ":-", 2) != 0)) {
        if (strchr(start, '}') == NULL)
            return lg_error_set(err, "unterminated reference '%s', add the closing '}'", start);
        return lg_error_set(err,
                            "invalid reference '%.*s', expected ${NAME} or ${NAME:-default} where NAME is "
                            "letters, digits and underscores and does not start with a digit",
                            (int)(strchr(start, '}') - start + 1), start);
    }

    default_end = *name_end == '}' ? name_end : find_default_end(name_end + 2);
    if (default_end == NULL)
        return lg_error_set(err, "unterminated reference '%s', add the closing '}'", start);

    var = lg_strndup(name, (size_t)(name_end - name));
    value = getenv(var);
    if (*name_end == '}' && value == NULL)
        rc = lg_error_set(err, "environment variable '%s' is not set, set it or write ${%s:-default} to give a default",
                          var, var);
    else if (*name_end == '}' || (value != NULL && value[0] != '\0'))
        lg_buf_append_str(out, value);
    else
        rc = append_default(out, name_end + 2, (size_t)(default_end - name_end - 2), err);

    free(var);
    *cursor = default_end + 1;
    return rc;
}

char *lg_conf_expand_env(const char *text, lg_error *err)
{
    lg_buf out = LG_BUF_INIT;
    const char *p = text;

    while (*p != '\0') {
        size_t plain = strcspn(p, "$");

        lg_buf_append(&out, p, plain);
        p += plain;
        if (*p == '\0')
            break;

        if (p[1] == '$') {
            lg_buf_append_char(&out, '$');
            p += 2;
        } else if (p[1] != '{') {
            lg_buf_append_char(&out, '$');
            p++;
        } else if (expand_reference(&p, &out, err) < 0) {
            lg_buf_free(&out);
            return NULL;
        }
    }
    return lg_buf_steal(&out, NULL);
}
