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

/* Check one offer "permessage-deflate; p1; p2=v" from START to END. */
static int lg_ws_offer_acceptable(const char *start, const char *end)
{
    const char *p = start;
    int first = 1;

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
        } else if (!((len == 26 && strncasecmp(token, "server_no_context_takeover", 26) == 0) ||
                     (len == 26 && strncasecmp(token, "client_no_context_takeover", 26) == 0) ||
                     (len >= 22 && strncasecmp(token, "client_max_window_bits", 22) == 0) ||
                     (len == 25 && strncasecmp(token, "server_max_window_bits=15", 25) == 0))) {
            return 0;
        }
    }
    return !first;
}

int lg_ws_deflate_offered(const char *header)
{
    const char *p = header;

    if (header == NULL)
        return 0;
    while (*p != '\0') {
        const char *start = p;

        while (*p != '\0' && *p != ',')
            p++;
        if (lg_ws_offer_acceptable(start, p))
            return 1;
        if (*p == ',')
            p++;
    }
    return 0;
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
    }
    inflateEnd(&zs);
    out->data[out->len] = '\0';
    if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END)
        return lg_error_set(err, "invalid compressed data: %s", zs.msg != NULL ? zs.msg : "inflate failed");
    return 0;
}
