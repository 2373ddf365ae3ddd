/* Growable byte buffer and JSON string escaping. */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"

#define LG_BUF_MIN_CAP 64

void lg_buf_reserve(lg_buf *buf, size_t extra)
{
    size_t need = buf->len + extra + 1;
    size_t cap = buf->cap ? buf->cap : LG_BUF_MIN_CAP;

    if (need <= buf->cap)
        return;
    while (cap < need)
        cap *= 2;
    buf->data = lg_realloc(buf->data, cap);
    buf->cap = cap;
}

void lg_buf_append(lg_buf *buf, const void *data, size_t len)
{
    lg_buf_reserve(buf, len);
    if (len > 0)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
}

void lg_buf_append_str(lg_buf *buf, const char *s)
{
    lg_buf_append(buf, s, strlen(s));
}

void lg_buf_append_char(lg_buf *buf, char c)
{
    lg_buf_append(buf, &c, 1);
}

void lg_buf_printf(lg_buf *buf, const char *fmt, ...)
{
    va_list args;
    va_list copy;
    int len;

    va_start(args, fmt);
    va_copy(copy, args);
    len = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (len > 0) {
        lg_buf_reserve(buf, (size_t)len);
        vsnprintf(buf->data + buf->len, (size_t)len + 1, fmt, args);
        buf->len += (size_t)len;
    }
    va_end(args);
}

/* Return the length of the valid UTF-8 sequence at S (at most LEN bytes), or
 * 0 when it is invalid: overlong forms, surrogates and values past U+10FFFF
 * are all rejected. */
static size_t lg_utf8_sequence_length(const unsigned char *s, size_t len)
{
    uint32_t cp;
    size_t need;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        need = 2;
        cp = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        need = 3;
        cp = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        need = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len < need)
        return 0;

    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }

    if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) || cp > 0x10FFFF)
        return 0;
    if (cp >= 0xD800 && cp <= 0xDFFF)
        return 0;
    return need;
}

int lg_utf8_is_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        size_t seq = lg_utf8_sequence_length(p + i, len - i);

        if (seq == 0)
            return 0;
        i += seq;
    }
    return 1;
}

void lg_buf_append_json_string(lg_buf *buf, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    lg_buf_reserve(buf, len + 2);
    lg_buf_append_char(buf, '"');
    while (i < len) {
        unsigned char c = p[i];
        size_t seq;

        switch (c) {
        case '"':
            lg_buf_append(buf, "\\\"", 2);
            i++;
            continue;
        case '\\':
            lg_buf_append(buf, "\\\\", 2);
            i++;
            continue;
        case '\n':
            lg_buf_append(buf, "\\n", 2);
            i++;
            continue;
        case '\r':
            lg_buf_append(buf, "\\r", 2);
            i++;
            continue;
        case '\t':
            lg_buf_append(buf, "\\t", 2);
            i++;
            continue;
        default:
            break;
        }

        if (c < 0x20 || c == 0x7F) {
            lg_buf_printf(buf, "\\u%04x", c);
            i++;
            continue;
        }

        seq = lg_utf8_sequence_length(p + i, len - i);
        if (seq == 0) {
            lg_buf_append(buf, "\\ufffd", 6);
            i++;
            continue;
        }
        lg_buf_append(buf, p + i, seq);
        i += seq;
    }
    lg_buf_append_char(buf, '"');
}

char *lg_buf_steal(lg_buf *buf, size_t *len)
{
    char *data = buf->data;

    if (data == NULL)
        data = lg_calloc(1, 1);
    if (len != NULL)
        *len = buf->len;
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    return data;
}

void lg_buf_reset(lg_buf *buf)
{
    buf->len = 0;
    if (buf->data != NULL)
        buf->data[0] = '\0';
}

void lg_buf_free(lg_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}
