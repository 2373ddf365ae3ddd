/* WebSocket framing for the benchmark programs: just what a subscriber and a fan-out server need. */
#include "ws_frame.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#define WS_FRAME_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

int ws_frame_parse_header(const uint8_t *data, size_t len, ws_frame_header *header)
{
    size_t need = 2;
    uint64_t payload_len;

    if (len < need)
        return 0;

    header->fin = (data[0] & 0x80) != 0;
    header->opcode = data[0] & 0x0F;
    header->masked = (data[1] & 0x80) != 0;
    payload_len = data[1] & 0x7F;
    if (payload_len == 126)
        need += 2;
    else if (payload_len == 127)
        need += 8;
    if (header->masked)
        need += 4;
    if (len < need)
        return 0;

    if (payload_len == 126) {
        payload_len = (uint64_t)data[2] << 8 | data[3];
    } else if (payload_len == 127) {
        payload_len = 0;
        for (int i = 0; i < 8; i++)
            payload_len = payload_len << 8 | data[2 + i];
    }
    if (header->masked)
        memcpy(header->mask, data + need - 4, 4);
    header->header_len = need;
    header->payload_len = payload_len;
    return 1;
}

static size_t ws_frame_write_length(uint8_t *out, int opcode, uint64_t len, uint8_t mask_bit)
{
    out[0] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        out[1] = (uint8_t)(mask_bit | len);
        return 2;
    }
    if (len <= 0xFFFF) {
        out[1] = (uint8_t)(mask_bit | 126);
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        return 4;
    }
    out[1] = (uint8_t)(mask_bit | 127);
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    return 10;
}

size_t ws_frame_write_server_header(uint8_t out[WS_FRAME_HEADER_MAX_BYTES], int opcode, uint64_t payload_len)
{
    return ws_frame_write_length(out, opcode, payload_len, 0);
}

size_t ws_frame_write_client_frame(uint8_t *out, int opcode, const void *payload, size_t len, uint32_t mask_seed)
{
    const uint8_t *bytes = payload;
    size_t header_len = ws_frame_write_length(out, opcode, len, 0x80);
    uint8_t *mask = out + header_len;

    memcpy(mask, &mask_seed, 4);
    header_len += 4;
    for (size_t i = 0; i < len; i++)
        out[header_len + i] = bytes[i] ^ mask[i % 4];
    return header_len + len;
}

void ws_frame_make_key(uint32_t seed, char out[WS_FRAME_KEY_BYTES])
{
    uint8_t nonce[16];

    for (int i = 0; i < 16; i++) {
        seed = seed * 1664525u + 1013904223u;
        nonce[i] = (uint8_t)(seed >> 24);
    }
    EVP_EncodeBlock((unsigned char *)out, nonce, sizeof(nonce));
}

void ws_frame_accept_key(const char *key, char out[WS_FRAME_ACCEPT_BYTES])
{
    unsigned char digest[SHA_DIGEST_LENGTH];
    char joined[WS_FRAME_KEY_BYTES + sizeof(WS_FRAME_GUID)];
    size_t key_len = strnlen(key, WS_FRAME_KEY_BYTES - 1);

    memcpy(joined, key, key_len);
    memcpy(joined + key_len, WS_FRAME_GUID, sizeof(WS_FRAME_GUID));
    SHA1((const unsigned char *)joined, key_len + sizeof(WS_FRAME_GUID) - 1, digest);
    EVP_EncodeBlock((unsigned char *)out, digest, SHA_DIGEST_LENGTH);
}
