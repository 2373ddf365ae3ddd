/* WebSocket opening handshake (RFC 6455 section 4.2): request checks, accept key, subprotocol choice. */
#ifndef LG_WS_HANDSHAKE_H
#define LG_WS_HANDSHAKE_H

#include <stddef.h>

#include "error.h"
#include "options.h"

/* Characters of a Sec-WebSocket-Accept value plus its NUL. */
#define LG_WS_ACCEPT_BYTES 29

/* The headers of an upgrade request that the checks look at; NULL when absent. */
typedef struct lg_ws_request {
    const char *method;
    int http_1_0;
    const char *upgrade;
    const char *connection;
    const char *version;
    const char *key;
} lg_ws_request;

/* Check REQ. Returns 0, or the HTTP status to answer (400, 405 or 426)
 * with ERR saying why. A request without "Upgrade: websocket" gets 426, a
 * version other than 13 gets 426 (the caller adds Sec-WebSocket-Version:
 * 13), a missing or malformed key or Connection header gets 400. */
int lg_ws_check_request(const lg_ws_request *req, lg_error *err);

/* Compute the Sec-WebSocket-Accept value of KEY into OUT. */
void lg_ws_accept_key(const char *key, char out[LG_WS_ACCEPT_BYTES]);

/* Return 1 when the comma-separated header value LIST contains TOKEN,
 * compared without case. */
int lg_ws_header_has_token(const char *list, const char *token);

/* Choose the first protocol of the client's Sec-WebSocket-Protocol list
 * OFFERED that SUPPORTED contains. Returns it (a string of SUPPORTED), or
 * NULL when the client offered none or none matches. */
const char *lg_ws_choose_subprotocol(const char *offered, const lg_string_list *supported);

#endif
