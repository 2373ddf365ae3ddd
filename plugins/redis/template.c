/* Redis glob matching with captures, pattern narrowing, and template checking, expansion and inversion. */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "template.h"

/* Return the length of the wildcard or literal token at P, with its escape. */
static size_t token_length(const char *p)
{
    const char *q;

    if (p[0] == '\\' && p[1] != '\0')
        return 2;
    if (p[0] != '[')
        return 1;
    q = p + 1;
    if (*q == '^')
        q++;
    if (*q == ']')
        q++;
    while (*q != '\0' && *q != ']') {
        if (*q == '\\' && q[1] != '\0')
            q++;
        q++;
    }
    return (size_t)(q - p) + (*q == ']' ? 1 : 0);
}

static int is_wildcard(const char *p)
{
    return *p == '*' || *p == '?' || *p == '[';
}

int redis_pattern_wildcards(const char *pattern)
{
    int count = 0;

    for (const char *p = pattern; *p != '\0'; p += token_length(p)) {
        if (is_wildcard(p))
            count++;
    }
    return count;
}

/* Return 1 when character C is in the class token CLASS ("[...]"). */
static int class_matches(const char *class_token, size_t len, char c)
{
    const char *p = class_token + 1;
    const char *end = class_token + len - (class_token[len - 1] == ']' ? 1 : 0);
    int negate = 0;
    int found = 0;

    if (p < end && *p == '^') {
        negate = 1;
        p++;
    }
    while (p < end) {
        char low = *p;

        if (low == '\\' && p + 1 < end)
            low = *++p;
        if (p + 2 < end && p[1] == '-') {
            char high = p[2];

            if ((c >= low && c <= high) || (c >= high && c <= low))
                found = 1;
            p += 3;
            continue;
        }
        if (c == low)
            found = 1;
        p++;
    }
    return negate ? !found : found;
}

static int match_from(const char *p, const char *s, redis_captures *captures, int index)
{
    while (*p != '\0') {
        size_t len = token_length(p);

        if (*p == '*') {
            for (const char *t = s;; t++) {
                captures->start[index] = s;
                captures->len[index] = (size_t)(t - s);
                if (match_from(p + 1, t, captures, index + 1))
                    return 1;
                if (*t == '\0')
                    return 0;
            }
        }
        if (*s == '\0')
            return 0;
        if (*p == '?' || *p == '[') {
            if (*p == '[' && !class_matches(p, len, *s))
                return 0;
            captures->start[index] = s;
            captures->len[index] = 1;
            index++;
        } else if (p[len - 1] != *s) {
            return 0;
        }
        p += len;
        s++;
    }
    return *s == '\0';
}

int redis_pattern_match(const char *pattern, const char *name, redis_captures *captures)
{
    int count = redis_pattern_wildcards(pattern);

    memset(captures, 0, sizeof(*captures));
    if (count > REDIS_MAX_CAPTURES || !match_from(pattern, name, captures, 0))
        return 0;
    captures->set = (1u << count) - 1;
    return 1;
}

static void append_escaped_glob(lg_buf *out, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (strchr("*?[]\\", text[i]) != NULL)
            lg_buf_append_char(out, '\\');
        lg_buf_append_char(out, text[i]);
    }
}

int redis_pattern_narrow(const char *pattern, const redis_captures *captures, lg_buf *as_pattern, lg_buf *as_name)
{
    int index = 0;
    int left = 0;

    for (const char *p = pattern; *p != '\0';) {
        size_t len = token_length(p);

        if (is_wildcard(p) && index < REDIS_MAX_CAPTURES && (captures->set & (1u << index))) {
            append_escaped_glob(as_pattern, captures->start[index], captures->len[index]);
            lg_buf_append(as_name, captures->start[index], captures->len[index]);
        } else {
            lg_buf_append(as_pattern, p, len);
            lg_buf_append_char(as_name, p[len - 1]);
            if (is_wildcard(p))
                left++;
        }
        if (is_wildcard(p))
            index++;
        p += len;
    }
    lg_buf_append_str(as_pattern, "");
    lg_buf_append_str(as_name, "");
    return left;
}

/* Placeholders */

typedef enum placeholder_kind {
    PLACEHOLDER_CAPTURE,
    PLACEHOLDER_ID,
    PLACEHOLDER_CHANNEL,
    PLACEHOLDER_REDIS_CHANNEL,
    PLACEHOLDER_INVALID,
} placeholder_kind;

/* Read the placeholder at P ('{'), returning its kind, its capture number
 * in NUMBER and its length in LEN (0 when the brace is never closed). */
static placeholder_kind read_placeholder(const char *p, int *number, size_t *len)
{
    const char *close = strchr(p, '}');
    size_t name_len;

    *len = close != NULL ? (size_t)(close - p) + 1 : 0;
    if (close == NULL)
        return PLACEHOLDER_INVALID;
    name_len = (size_t)(close - p - 1);
    if (name_len == 1 && p[1] >= '1' && p[1] <= '9') {
        *number = p[1] - '0';
        return PLACEHOLDER_CAPTURE;
    }
    if (name_len == 2 && strncmp(p + 1, "id", 2) == 0)
        return PLACEHOLDER_ID;
    if (name_len == 7 && strncmp(p + 1, "channel", 7) == 0)
        return PLACEHOLDER_CHANNEL;
    if (name_len == 13 && strncmp(p + 1, "redis_channel", 13) == 0)
        return PLACEHOLDER_REDIS_CHANNEL;
    return PLACEHOLDER_INVALID;
}

static const unsigned placeholder_flags[] = {
    [PLACEHOLDER_CAPTURE] = REDIS_TEMPLATE_CAPTURES,
    [PLACEHOLDER_ID] = REDIS_TEMPLATE_ID,
    [PLACEHOLDER_CHANNEL] = REDIS_TEMPLATE_CHANNEL,
    [PLACEHOLDER_REDIS_CHANNEL] = REDIS_TEMPLATE_REDIS_CHANNEL,
};

int redis_template_check(const char *template_text, unsigned allowed, int max_capture, lg_error *err)
{
    for (const char *p = template_text; *p != '\0'; p++) {
        placeholder_kind kind;
        int number = 0;
        size_t len;

        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            p++;
            continue;
        }
        if (*p == '}')
            return lg_error_set(err, "unmatched '}' in template \"%s\": write }} for a literal brace", template_text);
        if (*p != '{')
            continue;

        kind = read_placeholder(p, &number, &len);
        if (len == 0)
            return lg_error_set(err, "unclosed '{' in template \"%s\": write {{ for a literal brace", template_text);
        if (kind == PLACEHOLDER_INVALID || !(placeholder_flags[kind] & allowed))
            return lg_error_set(err, "invalid placeholder %.*s in template \"%s\"", (int)len, p, template_text);
        if (kind == PLACEHOLDER_CAPTURE && number > max_capture)
            return lg_error_set(err, "placeholder {%d} in template \"%s\" refers to a wildcard the pattern lacks: "
                                "the pattern has %d", number, template_text, max_capture);
        p += len - 1;
    }
    return 0;
}

static void append_value(lg_buf *out, const char *text, size_t len, int url_escape)
{
    if (!url_escape) {
        lg_buf_append(out, text, len);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];

        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
            lg_buf_append_char(out, (char)c);
        else
            lg_buf_printf(out, "%%%02X", c);
    }
}

/* Append the value of the placeholder of KIND and NUMBER, or return -1 when it is unknown. */
static int append_placeholder(lg_buf *out, placeholder_kind kind, int number, const redis_template_values *values,
                              int url_escape)
{
    const char *text = NULL;
    const redis_captures *captures = values->captures;

    if (kind == PLACEHOLDER_CAPTURE) {
        if (captures == NULL || !(captures->set & (1u << (number - 1))))
            return -1;
        append_value(out, captures->start[number - 1], captures->len[number - 1], url_escape);
        return 0;
    }
    if (kind == PLACEHOLDER_ID)
        text = values->id;
    else if (kind == PLACEHOLDER_CHANNEL)
        text = values->channel;
    else if (kind == PLACEHOLDER_REDIS_CHANNEL)
        text = values->redis_channel;
    if (text == NULL)
        return -1;
    append_value(out, text, strlen(text), url_escape);
    return 0;
}

int redis_template_expand(const char *template_text, const redis_template_values *values, int url_escape,
                          lg_buf *out, lg_error *err)
{
    for (const char *p = template_text; *p != '\0'; p++) {
        placeholder_kind kind;
        int number = 0;
        size_t len;

        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            lg_buf_append_char(out, *p++);
            continue;
        }
        if (*p != '{') {
            lg_buf_append_char(out, *p);
            continue;
        }

        kind = read_placeholder(p, &number, &len);
        if (kind == PLACEHOLDER_INVALID || append_placeholder(out, kind, number, values, url_escape) < 0)
            return lg_error_set(err, "no value for %.*s in template \"%s\"", (int)(len > 0 ? len : 1), p,
                                template_text);
        p += len - 1;
    }
    lg_buf_append_str(out, "");
    return 0;
}

static int invert_from(const char *t, const char *s, redis_captures *captures)
{
    while (*t != '\0') {
        int number = 0;
        size_t len;

        if ((t[0] == '{' && t[1] == '{') || (t[0] == '}' && t[1] == '}'))
            t++;
        else if (t[0] == '{' && read_placeholder(t, &number, &len) == PLACEHOLDER_CAPTURE) {
            unsigned bit = 1u << (number - 1);
            redis_captures saved = *captures;

            if (captures->set & bit) {
                if (strncmp(s, captures->start[number - 1], captures->len[number - 1]) != 0)
                    return 0;
                s += captures->len[number - 1];
                t += len;
                continue;
            }
            for (const char *end = s + 1; end[-1] != '\0'; end++) {
                captures->start[number - 1] = s;
                captures->len[number - 1] = (size_t)(end - s);
                captures->set |= bit;
                if (invert_from(t + len, end, captures))
                    return 1;
                *captures = saved;
                if (*end == '\0')
                    break;
            }
            return 0;
        }
        if (*t != *s)
            return 0;
        t++;
        s++;
    }
    return *s == '\0';
}

int redis_template_invert(const char *template_text, const char *name, redis_captures *captures)
{
    memset(captures, 0, sizeof(*captures));
    return invert_from(template_text, name, captures);
}
