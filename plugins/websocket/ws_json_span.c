/* Raw member values of valid JSON objects: a scanner that skips strings, numbers, literals and nesting. */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "ws_json_span.h"

static const char *lg_ws_skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Return the byte after the string that opens at P. */
static const char *lg_ws_skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return end;
}

/* Return the byte after the object or array that opens at P. */
static const char *lg_ws_skip_nested(const char *p, const char *end)
{
    int depth = 0;

    while (p < end) {
        if (*p == '"') {
            p = lg_ws_skip_string(p, end);
            continue;
        }
        if (*p == '{' || *p == '[')
            depth++;
        else if (*p == '}' || *p == ']')
            depth--;
        p++;
        if (depth == 0)
            return p;
    }
    return end;
}

/* Return the byte after the value that starts at P. */
static const char *lg_ws_skip_value(const char *p, const char *end)
{
    if (p >= end)
        return end;
    if (*p == '"')
        return lg_ws_skip_string(p, end);
    if (*p == '{' || *p == '[')
        return lg_ws_skip_nested(p, end);

    /* A number or a literal runs to the next separator. */
    while (p < end && strchr(",}] \t\n\r", *p) == NULL)
        p++;
    return p;
}

/* Return 1 when the member name KEY (LEN bytes with its quotes) is NAME. */
static int lg_ws_key_is(const char *key, size_t len, const char *name)
{
    json_t *decoded;
    int same;

    if (memchr(key, '\\', len) == NULL)
        return len - 2 == strlen(name) && memcmp(key + 1, name, len - 2) == 0;

    decoded = json_loadb(key, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    same = json_is_string(decoded) && json_string_length(decoded) == strlen(name) &&
           strcmp(json_string_value(decoded), name) == 0;
    json_decref(decoded);
    return same;
}

int lg_ws_json_member_span(const char *text, size_t len, const char *name, size_t *start, size_t *value_len)
{
    const char *end = text + len;
    const char *p = lg_ws_skip_space(text, end);

    if (p >= end || *p != '{')
        return -1;
    p++;

    for (;;) {
        const char *key;
        const char *value;
        int match;

        p = lg_ws_skip_space(p, end);
        if (p >= end || *p != '"')
            return -1;
        key = p;
        p = lg_ws_skip_string(p, end);
        match = lg_ws_key_is(key, (size_t)(p - key), name);

        p = lg_ws_skip_space(p, end);
        if (p >= end || *p != ':')
            return -1;
        value = lg_ws_skip_space(p + 1, end);
        p = lg_ws_skip_value(value, end);
        if (match) {
            *start = (size_t)(value - text);
            *value_len = (size_t)(p - value);
            return 0;
        }

        p = lg_ws_skip_space(p, end);
        if (p >= end || *p != ',')
            return -1;
        p++;
    }
}
