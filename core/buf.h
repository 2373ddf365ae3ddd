/* Growable byte buffer for building frames and JSON text. */
#ifndef LG_BUF_H
#define LG_BUF_H

#include <stddef.h>

typedef struct lg_buf {
    char *data;
    size_t len;
    size_t cap;
} lg_buf;

#define LG_BUF_INIT {NULL, 0, 0}

/* Every append keeps DATA NUL-terminated after LEN bytes. Allocation failure aborts. */
void lg_buf_reserve(lg_buf *buf, size_t extra);
void lg_buf_append(lg_buf *buf, const void *data, size_t len);
void lg_buf_append_str(lg_buf *buf, const char *s);
void lg_buf_append_char(lg_buf *buf, char c);
void lg_buf_printf(lg_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append S as a JSON string literal, quotes included. Bytes that are not
 * valid UTF-8 are replaced by U+FFFD so the output is always valid JSON. */
void lg_buf_append_json_string(lg_buf *buf, const char *s, size_t len);

/* Return 1 when S of LEN bytes is valid UTF-8 (no overlong forms, no
 * surrogates, nothing past U+10FFFF), else 0. */
int lg_utf8_is_valid(const char *s, size_t len);

/* Hand the bytes to the caller (who frees them) and reset BUF to empty. */
char *lg_buf_steal(lg_buf *buf, size_t *len);
void lg_buf_reset(lg_buf *buf);
void lg_buf_free(lg_buf *buf);

#endif
