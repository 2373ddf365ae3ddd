/* Message compression for the WebSocket sink with zlib. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "alloc.h"
#include "ws_deflate.h"

/* Inflating uses the largest window, which any peer may have used. */
#define LG_WS_WINDOW_BITS 15

/* Compression settings for events of a few hundred bytes, chosen with
 * bench/ws-deflate-bench (docs/benchmarks.md): level 3 with a 2 KiB window
 * and small hash tables is about as small as level 6 for such messages and
 * costs less, mostly because resetting the state per message is cheaper.
 * Any RFC 7692 client inflates it, since a smaller window is always valid. */
#define LG_WS_DEFLATE_LEVEL 3
#define LG_WS_DEFLATE_WINDOW_BITS 11
#define LG_WS_DEFLATE_MEM_LEVEL 5
#define LG_WS_CHUNK_BYTES 16384

static const unsigned char lg_ws_tail[4] = {0x00, 0x00, 0xff, 0xff};

/* Smallest and largest LZ77 window of RFC 7692 section 7.1.2, as bits. */
#define LG_WS_MIN_WINDOW_BITS 8
#define LG_WS_MAX_WINDOW_BITS 15

/* Parameters of an offer that livegate supports. Each may appear once. */
enum {
    LG_WS_PARAM_SERVER_NO_TAKEOVER,
    LG_WS_PARAM_CLIENT_NO_TAKEOVER,
    LG_WS_PARAM_SERVER_WINDOW,
    LG_WS_PARAM_CLIENT_WINDOW,
    LG_WS_PARAM_COUNT,
};

static const char *const lg_ws_param_names[LG_WS_PARAM_COUNT] = {
    "server_no_context_takeover",
    "client_no_context_takeover",
    "server_max_window_bits",
    "client_max_window_bits",
};

static int lg_ws_param_index(const char *name, size_t len)
{
    for (int i = 0; i < LG_WS_PARAM_COUNT; i++) {
        if (strlen(lg_ws_param_names[i]) == len && strncasecmp(name, lg_ws_param_names[i], len) == 0)
            return i;
    }
    return -1;
}

/* Parse a window size: 8 to 15 in decimal without leading zeros, optionally
 * quoted (RFC 7692 section 7.1). Returns the bits, or -1 when invalid. */
static int lg_ws_window_bits(const char *value, size_t len)
{
    int bits = 0;

    if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
        value++;
        len -= 2;
    }
    if (len == 0 || len > 2 || value[0] == '0')
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (value[i] < '0' || value[i] > '9')
            return -1;
        bits = bits * 10 + (value[i] - '0');
    }
    return bits >= LG_WS_MIN_WINDOW_BITS && bits <= LG_WS_MAX_WINDOW_BITS ? bits : -1;
}

/* Check one parameter NAME[=VALUE] of an offer and record it in SEEN.
 * Returns 0, or -1 when the offer must be declined: an unknown or repeated
 * parameter, a value where none belongs, an invalid window size, or a
 * server window smaller than the one livegate compresses with. */
static int lg_ws_offer_param(const char *token, size_t len, int seen[LG_WS_PARAM_COUNT], int *server_window_bits)
{
    const char *equals = memchr(token, '=', len);
    size_t name_len = equals != NULL ? (size_t)(equals - token) : len;
    const char *value = equals != NULL ? equals + 1 : NULL;
    size_t value_len = equals != NULL ? len - name_len - 1 : 0;
    int index;
    int bits;

    while (name_len > 0 && (token[name_len - 1] == ' ' || token[name_len - 1] == '\t'))
        name_len--;
    while (value_len > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        value_len--;
    }

    index = lg_ws_param_index(token, name_len);
    if (index < 0 || seen[index])
        return -1;
    seen[index] = 1;

    switch (index) {
    case LG_WS_PARAM_SERVER_NO_TAKEOVER:
    case LG_WS_PARAM_CLIENT_NO_TAKEOVER:
        return value == NULL ? 0 : -1;
    case LG_WS_PARAM_CLIENT_WINDOW:
        /* Without a value, the parameter only signals that the client supports it. */
        return value == NULL || lg_ws_window_bits(value, value_len) > 0 ? 0 : -1;
    case LG_WS_PARAM_SERVER_WINDOW:
        bits = value != NULL ? lg_ws_window_bits(value, value_len) : -1;
        if (bits < LG_WS_DEFLATE_WINDOW_BITS)
            return -1;
        *server_window_bits = bits;
        return 0;
    }
    return -1;
}

/* Check one offer "permessage-deflate; p1; p2=v" from START to END. Returns
 * 1 when livegate can accept it, setting *SERVER_WINDOW_BITS to the
 * server_max_window_bits it carries (0 when absent), or 0 to decline it. */
static int lg_ws_offer_acceptable(const char *start, const char *end, int *server_window_bits)
{
    int seen[LG_WS_PARAM_COUNT] = {0};
    const char *p = start;
    int first = 1;

    *server_window_bits = 0;
    while (p < end) {
        const char *token;
        size_t len;

        while (p < end && (*p == ' ' || *p == '\t' || *p == ';'))
            p++;
        token = p;
        while (p < end && *p != ';')
            p++;
        len = (size_t)(p - token);
        while (len > 0 && (token[len - 1] == ' ' || token[len - 1] == '\t'))
            len--;
        if (len == 0)
            continue;

        if (first) {
            if (len != 18 || strncasecmp(token, "permessage-deflate", 18) != 0)
                return 0;
            first = 0;
        } else if (lg_ws_offer_param(token, len, seen, server_window_bits) < 0) {
            return 0;
        }
    }
    return !first;
}

int lg_ws_deflate_offered(const char *header, int *server_window_bits)
{
    const char *p = header;

    if (header == NULL)
        return 0;
    while (*p != '\0') {
        const char *start = p;

        while (*p != '\0' && *p != ',')
            p++;
        if (lg_ws_offer_acceptable(start, p, server_window_bits))
            return 1;
        if (*p == ',')
            p++;
    }
    return 0;
}

void lg_ws_deflate_response(int server_window_bits, lg_buf *out)
{
    lg_buf_append_str(out, "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
    if (server_window_bits > 0)
        lg_buf_printf(out, "; server_max_window_bits=%d", server_window_bits);
}

struct lg_ws_deflater {
    z_stream zs;
};

lg_ws_deflater *lg_ws_deflater_new(void)
{
    lg_ws_deflater *deflater = lg_calloc(1, sizeof(*deflater));

    if (deflateInit2(&deflater->zs, LG_WS_DEFLATE_LEVEL, Z_DEFLATED, -LG_WS_DEFLATE_WINDOW_BITS,
                     LG_WS_DEFLATE_MEM_LEVEL, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
        free(deflater);
        return NULL;
    }
    return deflater;
}

void lg_ws_deflater_free(lg_ws_deflater *deflater)
{
    if (deflater == NULL)
        return;
    deflateEnd(&deflater->zs);
    free(deflater);
}

int lg_ws_deflate_with(lg_ws_deflater *deflater, const void *in, size_t len, lg_buf *out)
{
    z_stream *zs = &deflater->zs;
    int rc;

    /* No context takeover: every message starts from an empty window. */
    deflateReset(zs);
    zs->next_in = (Bytef *)in;
    zs->avail_in = (uInt)len;
    do {
        lg_buf_reserve(out, LG_WS_CHUNK_BYTES);
        zs->next_out = (Bytef *)out->data + out->len;
        zs->avail_out = LG_WS_CHUNK_BYTES;
        rc = deflate(zs, Z_SYNC_FLUSH);
        out->len += LG_WS_CHUNK_BYTES - zs->avail_out;
    } while (rc == Z_OK && zs->avail_out == 0);
    if (rc != Z_OK && rc != Z_BUF_ERROR)
        return -1;

    /* A sync flush always ends with the empty stored block 00 00 ff ff. */
    if (out->len >= 4 && memcmp(out->data + out->len - 4, lg_ws_tail, 4) == 0)
        out->len -= 4;
    out->data[out->len] = '\0';
    return 0;
}

int lg_ws_deflate(const void *in, size_t len, lg_buf *out)
{
    lg_ws_deflater *deflater = lg_ws_deflater_new();
    int rc;

    if (deflater == NULL)
        return -1;
    rc = lg_ws_deflate_with(deflater, in, len, out);
    lg_ws_deflater_free(deflater);
    return rc;
}

int lg_ws_inflate(const void *in, size_t len, size_t max, lg_buf *out, lg_error *err)
{
    size_t start = out->len;
    z_stream zs;
    int rc = Z_OK;

    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, -LG_WS_WINDOW_BITS) != Z_OK)
        return lg_error_set(err, "inflateInit2 failed");

    /* The message, then the tail that the sender removed. */
    for (int part = 0; part < 2 && (rc == Z_OK || rc == Z_BUF_ERROR); part++) {
        zs.next_in = part == 0 ? (Bytef *)in : (Bytef *)lg_ws_tail;
        zs.avail_in = part == 0 ? (uInt)len : sizeof(lg_ws_tail);
        do {
            lg_buf_reserve(out, LG_WS_CHUNK_BYTES);
            zs.next_out = (Bytef *)out->data + out->len;
            zs.avail_out = LG_WS_CHUNK_BYTES;
            rc = inflate(&zs, Z_SYNC_FLUSH);
            out->len += LG_WS_CHUNK_BYTES - zs.avail_out;
            if (out->len - start > max) {
                inflateEnd(&zs);
                return lg_error_set(err, "message inflates to more than %zu bytes", max);
            }
        } while (rc == Z_OK && (zs.avail_in > 0 || zs.avail_out == 0));

        /* The tail may follow a final block, but nothing the client sent may. */
        if (part == 0 && rc == Z_STREAM_END && zs.avail_in > 0) {
            inflateEnd(&zs);
            return lg_error_set(err, "invalid compressed data: %u bytes after the final deflate block", zs.avail_in);
        }
    }
    inflateEnd(&zs);
    out->data[out->len] = '\0';
    if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END)
        return lg_error_set(err, "invalid compressed data: %s", zs.msg != NULL ? zs.msg : "inflate failed");
    return 0;
}
