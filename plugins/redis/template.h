/* Redis glob patterns with captures, and the name templates that use them ("prices.{1}", "price:{id}"). */
#ifndef LG_REDIS_TEMPLATE_H
#define LG_REDIS_TEMPLATE_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

/* Maximum wildcards in a pattern, so that {1} to {9} name them all. */
#define REDIS_MAX_CAPTURES 9

/* The text each wildcard of a pattern matched: capture N ({N} in a template)
 * is START[N - 1] of LEN[N - 1] bytes, pointing into the matched name. */
typedef struct redis_captures {
    const char *start[REDIS_MAX_CAPTURES];
    size_t len[REDIS_MAX_CAPTURES];
    unsigned set; /* bit N - 1 set when capture N is known */
} redis_captures;

/* Values a template may refer to. NULL members and unset captures are
 * errors when the template names them. */
typedef struct redis_template_values {
    const redis_captures *captures;
    const char *id;            /* {id}: the id of an id-only notification */
    const char *channel;       /* {channel}: the livegate channel */
    const char *redis_channel; /* {redis_channel}: the Redis channel a message came from */
} redis_template_values;

/* What a template may name, for redis_template_check. */
#define REDIS_TEMPLATE_CAPTURES 0x1
#define REDIS_TEMPLATE_ID 0x2
#define REDIS_TEMPLATE_CHANNEL 0x4
#define REDIS_TEMPLATE_REDIS_CHANNEL 0x8

/* Return the number of wildcards ('*', '?', '[...]') in the Redis glob
 * PATTERN, where '\' escapes the next character. */
int redis_pattern_wildcards(const char *pattern);

/* Return 1 when NAME matches the Redis glob PATTERN, with the text of each
 * wildcard in CAPTURES (a '*' matches as little as it can), 0 otherwise.
 * PATTERN has at most REDIS_MAX_CAPTURES wildcards. */
int redis_pattern_match(const char *pattern, const char *name, redis_captures *captures);

/* Write PATTERN with each wildcard whose capture is set in CAPTURES replaced
 * by the captured text: into AS_PATTERN with glob characters escaped, and
 * into AS_NAME as plain text. Returns the number of wildcards left; when it
 * is 0, AS_NAME is the one Redis channel the narrowed pattern matches. */
int redis_pattern_narrow(const char *pattern, const redis_captures *captures, lg_buf *as_pattern, lg_buf *as_name);

/* Check that TEMPLATE is well formed and names only what ALLOWED permits,
 * captures up to MAX_CAPTURE. Returns 0, or -1 with ERR naming the
 * placeholder. */
int redis_template_check(const char *template_text, unsigned allowed, int max_capture, lg_error *err);

/* Append TEMPLATE with its placeholders replaced by VALUES to OUT. With
 * URL_ESCAPE, substituted values are percent-encoded (RFC 3986 unreserved
 * characters stay). "{{" and "}}" stand for one brace. Returns 0, or -1
 * with ERR set when a named value is missing. */
int redis_template_expand(const char *template_text, const redis_template_values *values, int url_escape,
                          lg_buf *out, lg_error *err);

/* Return 1 when NAME can be produced by the capture-only TEMPLATE, filling
 * CAPTURES with what each {N} stands for (each non-empty, the first as
 * short as possible), 0 otherwise. */
int redis_template_invert(const char *template_text, const char *name, redis_captures *captures);

#endif
