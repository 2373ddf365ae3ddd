/* Server-to-client WebSocket frames and the JSON messages of the livegate protocol. */
#ifndef LG_WS_MESSAGE_H
#define LG_WS_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"
#include "stream.h"

/* Opcodes of RFC 6455 section 5.2. */
#define LG_WS_OPCODE_TEXT 0x1
#define LG_WS_OPCODE_CLOSE 0x8

/* The RSV1 bit, set on messages compressed with permessage-deflate. */
#define LG_WS_RSV1 0x40

/* Append one unmasked, final frame with OPCODE and PAYLOAD of LEN bytes. */
void lg_ws_append_frame(lg_buf *out, uint8_t opcode, const void *payload, size_t len);

/* Same, with extra bits of the first byte (LG_WS_RSV1). */
void lg_ws_append_frame_bits(lg_buf *out, uint8_t bits, uint8_t opcode, const void *payload, size_t len);

/* Append a close frame with CODE and REASON (cut to fit 123 bytes). */
void lg_ws_append_close(lg_buf *out, uint16_t code, const char *reason);

/* Encode EVENT as a text frame {"type":"event","event":TYPE,...envelope}:
 * the same bytes go to every subscriber. */
void lg_ws_encode_event(const lg_event *event, lg_buf *out);

/* Encode EVENT like lg_ws_encode_event, with a "resume" member set to
 * RESUME_ID, for an event that leaves a stream out of id order. The frame is
 * never compressed: it is made for one client, on the worker thread. */
void lg_ws_encode_event_resumed(const lg_event *event, const char *resume_id, lg_buf *out);

struct lg_ws_deflater;

/* Encode EVENT like lg_ws_encode_event, compressed with permessage-deflate
 * by DEFLATER (RSV1 set) when the message is at least THRESHOLD bytes. */
void lg_ws_encode_event_deflate(const lg_event *event, struct lg_ws_deflater *deflater, size_t threshold,
                                lg_buf *out);

/* Encode a notice as a text frame: {"type":"subscribed","channel","recovered"},
 * {"type":"reset","channel","reason"}, {"type":"gap","channel","dropped"}
 * or {"type":"error","channel","message"}. */
void lg_ws_encode_notice(const lg_notice *notice, lg_buf *out);

/* Encode {"type":"error","message":MESSAGE} (with "channel" when not NULL). */
void lg_ws_encode_error(const char *channel, const char *message, lg_buf *out);

#endif
