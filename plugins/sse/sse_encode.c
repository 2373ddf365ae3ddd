/* Encoding of events and notices into the text/event-stream format. */
#include "config.h"

#include <string.h>

#include "format.h"
#include "sse_encode.h"

void lg_sse_append_field_single(lg_buf *out, const char *field, const char *value)
{
    lg_buf_append_str(out, field);
    lg_buf_append(out, ": ", 2);
    for (const char *p = value; *p != '\0'; p++) {
        if (*p != '\r' && *p != '\n')
            lg_buf_append_char(out, *p);
    }
    lg_buf_append_char(out, '\n');
}

void lg_sse_append_field_lines(lg_buf *out, const char *field, const char *value, size_t len)
{
    size_t start = 0;
    size_t i = 0;

    while (i <= len) {
        if (i < len && value[i] != '\r' && value[i] != '\n' && value[i] != '\0') {
            i++;
            continue;
        }

        lg_buf_append_str(out, field);
        lg_buf_append(out, ": ", 2);
        lg_buf_append(out, value + start, i - start);
        lg_buf_append_char(out, '\n');
        if (i == len)
            break;

        /* CRLF is one line end; a lone CR or LF is one too. A NUL cannot
         * be carried by the format, so it ends the line like LF does. */
        if (value[i] == '\r' && i + 1 < len && value[i + 1] == '\n')
            i++;
        i++;
        start = i;
    }
}

void lg_sse_encode_event(const lg_event *event, lg_buf *out)
{
    lg_sse_encode_event_resumed(event, event->id, out);
}

void lg_sse_encode_event_resumed(const lg_event *event, const char *resume_id, lg_buf *out)
{
    lg_buf envelope = LG_BUF_INIT;

    lg_sse_append_field_single(out, "id", resume_id);
    if (event->type != NULL)
        lg_sse_append_field_single(out, "event", event->type);

    lg_format_append_envelope(event, NULL, &envelope);
    lg_sse_append_field_lines(out, "data", envelope.data, envelope.len);
    lg_buf_append_char(out, '\n');
    lg_buf_free(&envelope);
}

static const char *lg_sse_notice_name(lg_notice_kind kind)
{
    switch (kind) {
    case LG_NOTICE_SUBSCRIBED:
        return "subscribed";
    case LG_NOTICE_RESET:
        return "reset";
    case LG_NOTICE_GAP:
        return "gap";
    case LG_NOTICE_ERROR:
    default:
        return "subscribe_error";
    }
}

void lg_sse_encode_notice(const lg_notice *notice, lg_buf *out)
{
    lg_buf body = LG_BUF_INIT;

    lg_buf_append_str(&body, "{\"channel\":");
    lg_buf_append_json_string(&body, notice->channel, strlen(notice->channel));
    switch (notice->kind) {
    case LG_NOTICE_SUBSCRIBED:
        lg_buf_printf(&body, ",\"recovered\":%s", notice->recovered ? "true" : "false");
        break;
    case LG_NOTICE_RESET:
        lg_buf_append_str(&body, ",\"reason\":");
        lg_buf_append_json_string(&body, notice->reason, strlen(notice->reason));
        break;
    case LG_NOTICE_GAP:
        if (notice->reason != NULL) {
            lg_buf_append_str(&body, ",\"reason\":");
            lg_buf_append_json_string(&body, notice->reason, strlen(notice->reason));
        } else {
            lg_buf_printf(&body, ",\"dropped\":%llu", (unsigned long long)notice->dropped);
        }
        break;
    case LG_NOTICE_ERROR:
        lg_buf_append_str(&body, ",\"message\":");
        lg_buf_append_json_string(&body, notice->reason, strlen(notice->reason));
        break;
    }
    lg_buf_append_char(&body, '}');

    lg_sse_append_field_single(out, "event", lg_sse_notice_name(notice->kind));
    lg_sse_append_field_lines(out, "data", body.data, body.len);
    lg_buf_append_char(out, '\n');
    lg_buf_free(&body);
}

void lg_sse_encode_heartbeat(lg_buf *out)
{
    lg_buf_append_str(out, ": heartbeat\n\n");
}
