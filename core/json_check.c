/* JSON syntax check (RFC 8259) without building a document, for deciding how a payload is embedded. */
#include "config.h"

#include <stddef.h>

#include "event.h"

/* Nesting deeper than this is treated as invalid, so a hostile payload
 * cannot exhaust the stack. */
#define LG_JSON_MAX_DEPTH 512

typedef struct lg_json_cursor {
    const unsigned char *p;
    const unsigned char *end;
    int depth;
} lg_json_cursor;

static int lg_json_value(lg_json_cursor *c);

static void lg_json_skip_space(lg_json_cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int lg_json_literal(lg_json_cursor *c, const char *word)
{
    for (; *word != '\0'; word++, c->p++) {
        if (c->p >= c->end || *c->p != (unsigned char)*word)
            return 0;
    }
    return 1;
}

static int lg_json_digits(lg_json_cursor *c)
{
    const unsigned char *start = c->p;

    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
        c->p++;
    return c->p > start;
}

/* Numbers of any size are valid JSON; their range is the reader's concern. */
static int lg_json_number(lg_json_cursor *c)
{
    if (c->p < c->end && *c->p == '-')
        c->p++;
    if (c->p < c->end && *c->p == '0')
        c->p++;
    else if (!lg_json_digits(c))
        return 0;

    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (!lg_json_digits(c))
            return 0;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (!lg_json_digits(c))
            return 0;
    }
    return 1;
}

static int lg_json_hex4(lg_json_cursor *c)
{
    for (int i = 0; i < 4; i++, c->p++) {
        unsigned char h = c->p < c->end ? *c->p : 0;

        if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
            return 0;
    }
    return 1;
}

/* Check one UTF-8 sequence starting at the cursor (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF). */
static int lg_json_utf8(lg_json_cursor *c)
{
    unsigned char first = *c->p;
    size_t need;
    unsigned low = 0x80;
    unsigned high = 0xBF;

    if (first >= 0xC2 && first <= 0xDF) {
        need = 1;
    } else if (first >= 0xE0 && first <= 0xEF) {
        need = 2;
        if (first == 0xE0)
            low = 0xA0;
        if (first == 0xED)
            high = 0x9F;
    } else if (first >= 0xF0 && first <= 0xF4) {
        need = 3;
        if (first == 0xF0)
            low = 0x90;
        if (first == 0xF4)
            high = 0x8F;
    } else {
        return 0;
    }

    c->p++;
    for (size_t i = 0; i < need; i++, c->p++) {
        if (c->p >= c->end || *c->p < (i == 0 ? low : 0x80) || *c->p > (i == 0 ? high : 0xBF))
            return 0;
    }
    return 1;
}

static int lg_json_string(lg_json_cursor *c)
{
    c->p++;
    while (c->p < c->end) {
        unsigned char ch = *c->p;

        if (ch == '"') {
            c->p++;
            return 1;
        }
        if (ch < 0x20)
            return 0;
        if (ch == '\\') {
            c->p++;
            if (c->p >= c->end)
                return 0;
            if (*c->p == 'u') {
                c->p++;
                if (!lg_json_hex4(c))
                    return 0;
                continue;
            }
            if (*c->p != '"' && *c->p != '\\' && *c->p != '/' && *c->p != 'b' && *c->p != 'f' && *c->p != 'n' &&
                *c->p != 'r' && *c->p != 't')
                return 0;
            c->p++;
            continue;
        }
        if (ch < 0x80) {
            c->p++;
            continue;
        }
        if (!lg_json_utf8(c))
            return 0;
    }
    return 0;
}

/* Check a list of items between OPEN and CLOSE; objects have "key": value items. */
static int lg_json_container(lg_json_cursor *c, unsigned char close, int object)
{
    if (++c->depth > LG_JSON_MAX_DEPTH)
        return 0;
    c->p++;
    lg_json_skip_space(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        c->depth--;
        return 1;
    }

    for (;;) {
        if (object) {
            if (c->p >= c->end || *c->p != '"' || !lg_json_string(c))
                return 0;
            lg_json_skip_space(c);
            if (c->p >= c->end || *c->p != ':')
                return 0;
            c->p++;
        }
        if (!lg_json_value(c))
            return 0;
        lg_json_skip_space(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            lg_json_skip_space(c);
            continue;
        }
        if (c->p < c->end && *c->p == close) {
            c->p++;
            c->depth--;
            return 1;
        }
        return 0;
    }
}

static int lg_json_value(lg_json_cursor *c)
{
    lg_json_skip_space(c);
    if (c->p >= c->end)
        return 0;

    switch (*c->p) {
    case '{':
        return lg_json_container(c, '}', 1);
    case '[':
        return lg_json_container(c, ']', 0);
    case '"':
        return lg_json_string(c);
    case 't':
        return lg_json_literal(c, "true");
    case 'f':
        return lg_json_literal(c, "false");
    case 'n':
        return lg_json_literal(c, "null");
    default:
        return lg_json_number(c);
    }
}

int lg_json_is_valid(const char *data, size_t len)
{
    lg_json_cursor c = {(const unsigned char *)data, (const unsigned char *)data + len, 0};

    if (!lg_json_value(&c))
        return 0;
    lg_json_skip_space(&c);
    return c.p == c.end;
}
