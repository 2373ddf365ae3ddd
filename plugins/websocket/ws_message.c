/* Encoding of frames and protocol messages sent by the WebSocket sink. */
#include "config.h"

#include <string.h>

#include "format.h"
#include "ws_deflate.h"
#include "ws_message.h"

/* Longest close reason: a control frame carries at most 125 bytes, two of
 * them the code. */
#define LG_WS_CLOSE_REASON_MAX_BYTES 123

void lg_ws_append_frame(lg_buf *out, uint8_t opcode, const void *payload, size_t len)
{
    lg_ws_append_frame_bits(out, 0, opcode, payload, len);
}

void lg_ws_append_frame_bits(lg_buf *out, uint8_t bits, uint8_t opcode, const void *payload, size_t len)
{
    uint8_t header[10];
    size_t header_len = 2;

    header[0] = (uint8_t)(0x80 | bits | opcode);
    if (len < 126) {
        header[1] = (uint8_t)len;
    } else if (len <= 0xFFFF) {
        header[1] = 126;
        header[2] = (uint8_t)(len >> 8);
        header[3] = (uint8_t)len;
        header_len = 4;
    } else {
        header[1] = 127;
        for (int i = 0; i < 8; i++)
            header[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
        header_len = 10;
    }
    lg_buf_append(out, header, header_len);
    lg_buf_append(out, payload, len);
}

/* Cut REASON to at most MAX bytes without splitting a UTF-8 character. */
static size_t lg_ws_reason_length(const char *reason, size_t max)
{
    size_t len = strlen(reason);

    if (len <= max)
        return len;
    len = max;
    while (len > 0 && ((unsigned char)reason[len] & 0xC0) == 0x80)
        len--;
    return len;
}

void lg_ws_append_close(lg_buf *out, uint16_t code, const char *reason)
{
    uint8_t payload[2 + LG_WS_CLOSE_REASON_MAX_BYTES];
    size_t reason_len = reason != NULL ? lg_ws_reason_length(reason, LG_WS_CLOSE_REASON_MAX_BYTES) : 0;

    payload[0] = (uint8_t)(code >> 8);
    payload[1] = (uint8_t)code;
    if (reason_len > 0)
        memcpy(payload + 2, reason, reason_len);
    lg_ws_append_frame(out, LG_WS_OPCODE_CLOSE, payload, 2 + reason_len);
}

static void lg_ws_append_text_frame(lg_buf *out, const lg_buf *json)
{
    lg_ws_append_frame(out, LG_WS_OPCODE_TEXT, json->data, json->len);
}

/* The JSON of EVENT's message; RESUME_ID, when not NULL, adds a "resume" member. */
static void lg_ws_event_json(const lg_event *event, const char *resume_id, lg_buf *json)
{
    lg_buf extra = LG_BUF_INIT;

    lg_buf_append_str(&extra, "\"type\":\"event\"");
    if (resume_id != NULL) {
        lg_buf_append_str(&extra, ",\"resume\":");
        lg_buf_append_json_string(&extra, resume_id, strlen(resume_id));
    }
    if (event->type != NULL) {
        lg_buf_append_str(&extra, ",\"event\":");
        lg_buf_append_json_string(&extra, event->type, strlen(event->type));
    }
    lg_format_append_envelope(event, extra.data, json);
    lg_buf_free(&extra);
}

void lg_ws_encode_event(const lg_event *event, lg_buf *out)
{
    lg_buf json = LG_BUF_INIT;

    lg_ws_event_json(event, NULL, &json);
    lg_ws_append_text_frame(out, &json);
    lg_buf_free(&json);
}

void lg_ws_encode_event_resumed(const lg_event *event, const char *resume_id, lg_buf *out)
{
    lg_buf json = LG_BUF_INIT;

    lg_ws_event_json(event, resume_id, &json);
    lg_ws_append_text_frame(out, &json);
    lg_buf_free(&json);
}

void lg_ws_encode_event_deflate(const lg_event *event, lg_ws_deflater *deflater, size_t threshold, lg_buf *out)
{
    lg_buf json = LG_BUF_INIT;
    lg_buf packed = LG_BUF_INIT;

    lg_ws_event_json(event, NULL, &json);
    if (json.len >= threshold && lg_ws_deflate_with(deflater, json.data, json.len, &packed) == 0)
        lg_ws_append_frame_bits(out, LG_WS_RSV1, LG_WS_OPCODE_TEXT, packed.data, packed.len);
    else
        lg_ws_append_text_frame(out, &json);
    lg_buf_free(&packed);
    lg_buf_free(&json);
}

void lg_ws_encode_notice(const lg_notice *notice, lg_buf *out)
{
    lg_buf json = LG_BUF_INIT;

    switch (notice->kind) {
    case LG_NOTICE_SUBSCRIBED:
        lg_buf_append_str(&json, "{\"type\":\"subscribed\",\"channel\":");
        lg_buf_append_json_string(&json, notice->channel, strlen(notice->channel));
        lg_buf_printf(&json, ",\"recovered\":%s}", notice->recovered ? "true" : "false");
        break;
    case LG_NOTICE_RESET:
        lg_buf_append_str(&json, "{\"type\":\"reset\",\"channel\":");
        lg_buf_append_json_string(&json, notice->channel, strlen(notice->channel));
        lg_buf_append_str(&json, ",\"reason\":");
        lg_buf_append_json_string(&json, notice->reason, strlen(notice->reason));
        lg_buf_append_char(&json, '}');
        break;
    case LG_NOTICE_GAP:
        lg_buf_append_str(&json, "{\"type\":\"gap\",\"channel\":");
        lg_buf_append_json_string(&json, notice->channel, strlen(notice->channel));
        if (notice->reason != NULL) {
            lg_buf_append_str(&json, ",\"reason\":");
            lg_buf_append_json_string(&json, notice->reason, strlen(notice->reason));
            lg_buf_append_char(&json, '}');
        } else {
            lg_buf_printf(&json, ",\"dropped\":%llu}", (unsigned long long)notice->dropped);
        }
        break;
    case LG_NOTICE_ERROR:
        lg_ws_encode_error(notice->channel, notice->reason, out);
        lg_buf_free(&json);
        return;
    }
    lg_ws_append_text_frame(out, &json);
    lg_buf_free(&json);
}

void lg_ws_encode_error(const char *channel, const char *message, lg_buf *out)
{
    lg_buf json = LG_BUF_INIT;

    lg_buf_append_str(&json, "{\"type\":\"error\"");
    if (channel != NULL) {
        lg_buf_append_str(&json, ",\"channel\":");
        lg_buf_append_json_string(&json, channel, strlen(channel));
    }
    lg_buf_append_str(&json, ",\"message\":");
    lg_buf_append_json_string(&json, message, strlen(message));
    lg_buf_append_char(&json, '}');
    lg_ws_append_text_frame(out, &json);
    lg_buf_free(&json);
}
