/* permessage-deflate (RFC 7692) without context takeover, so that one compressed frame serves every client. */
#ifndef LG_WS_DEFLATE_H
#define LG_WS_DEFLATE_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

/* Return 1 when the Sec-WebSocket-Extensions value HEADER has a
 * permessage-deflate offer that livegate accepts, and set *SERVER_WINDOW_BITS
 * to that offer's server_max_window_bits (0 when absent). Offers are tried
 * in order. RFC 7692 section 5 requires declining an offer with an unknown
 * or repeated parameter or an invalid value: a window size that is not 8 to
 * 15 in decimal, or a value on a parameter that takes none. livegate also
 * declines a server_max_window_bits below the 11-bit window it compresses with. */
int lg_ws_deflate_offered(const char *header, int *server_window_bits);

/* Append the Sec-WebSocket-Extensions value that accepts an offer: no context
 * takeover either way, and server_max_window_bits when SERVER_WINDOW_BITS is
 * not 0, since RFC 7692 section 7.1.2.1 makes accepting it mean echoing it. */
void lg_ws_deflate_response(int server_window_bits, lg_buf *out);

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
