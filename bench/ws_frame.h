/* WebSocket framing for the benchmark programs (RFC 6455 section 5): frame headers, client masking, accept keys. */
#ifndef BENCH_WS_FRAME_H
#define BENCH_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define WS_FRAME_OPCODE_CONTINUATION 0x0
#define WS_FRAME_OPCODE_TEXT 0x1
#define WS_FRAME_OPCODE_BINARY 0x2
#define WS_FRAME_OPCODE_CLOSE 0x8
#define WS_FRAME_OPCODE_PING 0x9
#define WS_FRAME_OPCODE_PONG 0xA

/* Longest frame header: 2 bytes, an 8-byte length and a 4-byte mask. */
#define WS_FRAME_HEADER_MAX_BYTES 14

/* Characters of a Sec-WebSocket-Key or Sec-WebSocket-Accept value plus its NUL. */
#define WS_FRAME_KEY_BYTES 25
#define WS_FRAME_ACCEPT_BYTES 29

/* A parsed frame header; the payload starts header_len bytes into the frame. */
typedef struct ws_frame_header {
    int fin;
    int opcode;
    int masked;
    uint8_t mask[4];
    size_t header_len;
    uint64_t payload_len;
} ws_frame_header;

/* Parse the frame header at the start of DATA (LEN bytes). Returns 1 with
 * HEADER filled, 0 when more bytes are needed. */
int ws_frame_parse_header(const uint8_t *data, size_t len, ws_frame_header *header);

/* Write the header of an unmasked final frame (what a server sends) into
 * OUT. Returns its length. */
size_t ws_frame_write_server_header(uint8_t out[WS_FRAME_HEADER_MAX_BYTES], int opcode, uint64_t payload_len);

/* Encode PAYLOAD as a masked final frame (what a client must send) into OUT,
 * which has room for WS_FRAME_HEADER_MAX_BYTES + LEN bytes. MASK_SEED picks
 * the masking key. Returns the frame length. */
size_t ws_frame_write_client_frame(uint8_t *out, int opcode, const void *payload, size_t len, uint32_t mask_seed);

/* Make a Sec-WebSocket-Key from SEED (16 bytes in base64). */
void ws_frame_make_key(uint32_t seed, char out[WS_FRAME_KEY_BYTES]);

/* Compute the Sec-WebSocket-Accept value that answers KEY. */
void ws_frame_accept_key(const char *key, char out[WS_FRAME_ACCEPT_BYTES]);

#endif
