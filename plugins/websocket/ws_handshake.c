/* Checks of the WebSocket upgrade request and the accept key computation. */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "ws_handshake.h"

/* The GUID that RFC 6455 appends to the client's key. */
#define LG_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* Length of a Sec-WebSocket-Key: 16 random bytes in base64. */
#define LG_WS_KEY_CHARS 24
#define LG_WS_KEY_BYTES 16

int lg_ws_header_has_token(const char *list, const char *token)
{
    size_t token_len = strlen(token);
    const char *p = list;

    if (list == NULL)
        return 0;
    while (*p != '\0') {
        const char *start;
        const char *end;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        start = p;
        while (*p != '\0' && *p != ',')
            p++;
        end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if ((size_t)(end - start) == token_len && strncasecmp(start, token, token_len) == 0)
            return 1;
    }
    return 0;
}

/* A key must be base64 of exactly 16 bytes. */
static int lg_ws_key_valid(const char *key)
{
    unsigned char decoded[LG_WS_KEY_BYTES + 2];

    if (key == NULL || strlen(key) != LG_WS_KEY_CHARS)
        return 0;
    for (int i = 0; i < LG_WS_KEY_CHARS - 2; i++) {
        if (!isalnum((unsigned char)key[i]) && key[i] != '+' && key[i] != '/')
            return 0;
    }
    if (key[LG_WS_KEY_CHARS - 2] != '=' || key[LG_WS_KEY_CHARS - 1] != '=')
        return 0;
    return EVP_DecodeBlock(decoded, (const unsigned char *)key, LG_WS_KEY_CHARS) == LG_WS_KEY_BYTES + 2;
}

int lg_ws_check_request(const lg_ws_request *req, lg_error *err)
{
    if (strcmp(req->method, "GET") != 0) {
        lg_error_set(err, "a WebSocket handshake uses GET, not %s", req->method);
        return 405;
    }
    if (!lg_ws_header_has_token(req->upgrade, "websocket")) {
        lg_error_set(err, "this endpoint speaks WebSocket only: send Upgrade: websocket");
        return 426;
    }
    if (req->http_1_0) {
        lg_error_set(err, "a WebSocket handshake needs HTTP/1.1");
        return 400;
    }
    if (!lg_ws_header_has_token(req->connection, "upgrade")) {
        lg_error_set(err, "missing Upgrade in the Connection header");
        return 400;
    }
    if (req->version == NULL || strcmp(req->version, "13") != 0) {
        lg_error_set(err, "unsupported Sec-WebSocket-Version '%s': only 13 is supported",
                     req->version != NULL ? req->version : "");
        return 426;
    }
    if (!lg_ws_key_valid(req->key)) {
        lg_error_set(err, "invalid Sec-WebSocket-Key: expected 16 bytes in base64");
        return 400;
    }
    return 0;
}

void lg_ws_accept_key(const char *key, char out[LG_WS_ACCEPT_BYTES])
{
    unsigned char digest[SHA_DIGEST_LENGTH];
    char joined[LG_WS_KEY_CHARS + sizeof(LG_WS_GUID)];
    size_t key_len = strnlen(key, LG_WS_KEY_CHARS);

    memcpy(joined, key, key_len);
    memcpy(joined + key_len, LG_WS_GUID, sizeof(LG_WS_GUID));
    SHA1((const unsigned char *)joined, key_len + sizeof(LG_WS_GUID) - 1, digest);
    EVP_EncodeBlock((unsigned char *)out, digest, SHA_DIGEST_LENGTH);
}

const char *lg_ws_choose_subprotocol(const char *offered, const lg_string_list *supported)
{
    const char *p = offered;

    if (offered == NULL)
        return NULL;
    while (*p != '\0') {
        const char *start;
        size_t len;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        start = p;
        while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        len = (size_t)(p - start);
        for (size_t i = 0; i < supported->count && len > 0; i++) {
            if (strlen(supported->items[i]) == len && strncmp(supported->items[i], start, len) == 0)
                return supported->items[i];
        }
        while (*p != '\0' && *p != ',')
            p++;
    }
    return NULL;
}
