/* permessage-deflate (RFC 7692) without context takeover, so that one compressed frame serves every client. */
#ifndef LG_WS_DEFLATE_H
#define LG_WS_DEFLATE_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

/* The extension response livegate sends when it accepts an offer. */
#define LG_WS_DEFLATE_RESPONSE "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

/* Return 1 when the Sec-WebSocket-Extensions value HEADER offers
 * permessage-deflate with parameters livegate can honour: any of
 * server_no_context_takeover, client_no_context_takeover,
 * client_max_window_bits, and server_max_window_bits=15. */
int lg_ws_deflate_offered(const char *header);

/* A reusable compressor: its zlib state is reset between messages, which
 * saves setting up the state (about 256 KiB) for every event. */
typedef struct lg_ws_deflater lg_ws_deflater;

/* Create a compressor. Returns NULL when zlib cannot set up its state. */
lg_ws_deflater *lg_ws_deflater_new(void);
void lg_ws_deflater_free(lg_ws_deflater *deflater);

/* Compress IN as one message: raw deflate, sync flush, and the trailing
 * 0x00 0x00 0xff 0xff removed (RFC 7692 section 7.2.1). Appends to OUT.
 * Returns 0, or -1 when zlib fails. DEFLATER may be NULL for a one-off. */
int lg_ws_deflate_with(lg_ws_deflater *deflater, const void *in, size_t len, lg_buf *out);

/* Same as lg_ws_deflate_with without a reusable compressor. */
int lg_ws_deflate(const void *in, size_t len, lg_buf *out);

/* Decompress one message IN received with RSV1 set, appending to OUT.
 * Returns 0, or -1 with ERR set when the data is not valid deflate or
 * inflates to more than MAX bytes (a compression bomb stops there). */
int lg_ws_inflate(const void *in, size_t len, size_t max, lg_buf *out, lg_error *err);

#endif
