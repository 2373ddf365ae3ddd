/* Wire format registry and the JSON envelope shared by sinks. */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "alloc.h"
#include "format.h"

typedef struct lg_format {
    const char *name;
    lg_format_encode_fn encode;
    void *ctx;
} lg_format;

/* Filled by sinks' init on the main thread before any worker starts, and
 * read-only afterwards, so workers read it without locks. */
static lg_format lg_formats[LG_FORMAT_MAX];
static int lg_format_used;

int lg_format_register(const char *name, lg_format_encode_fn encode, void *ctx, lg_error *err)
{
    for (int i = 0; i < lg_format_used; i++) {
        if (strcmp(lg_formats[i].name, name) == 0)
            return i;
    }
    if (lg_format_used == LG_FORMAT_MAX)
        return lg_error_set(err, "cannot register wire format '%s': all %d format slots are taken", name,
                            LG_FORMAT_MAX);

    lg_formats[lg_format_used].name = name;
    lg_formats[lg_format_used].encode = encode;
    lg_formats[lg_format_used].ctx = ctx;
    return lg_format_used++;
}

int lg_format_count(void)
{
    return lg_format_used;
}

const char *lg_format_name(int id)
{
    return id >= 0 && id < lg_format_used ? lg_formats[id].name : "unknown";
}

void lg_format_encode_all(lg_event *event)
{
    lg_buf out = LG_BUF_INIT;

    for (int i = 0; i < lg_format_used; i++) {
        lg_buf_reset(&out);
        lg_formats[i].encode(event, &out, lg_formats[i].ctx);
        event->encoded[i].data = lg_buf_steal(&out, &event->encoded[i].len);
    }
    lg_buf_free(&out);
}

void lg_format_reset(void)
{
    memset(lg_formats, 0, sizeof(lg_formats));
    lg_format_used = 0;
}

void lg_format_append_envelope(const lg_event *event, const char *extra, lg_buf *out)
{
    lg_buf_append_char(out, '{');
    if (extra != NULL && extra[0] != '\0') {
        lg_buf_append_str(out, extra);
        lg_buf_append_char(out, ',');
    }

    lg_buf_append_str(out, "\"channel\":");
    lg_buf_append_json_string(out, event->channel_name, strlen(event->channel_name));
    lg_buf_append_str(out, ",\"id\":");
    lg_buf_append_json_string(out, event->id, strlen(event->id));
    lg_buf_printf(out, ",\"time\":%" PRId64 ",\"key\":", event->time_ms);
    if (event->key != NULL)
        lg_buf_append_json_string(out, event->key, strlen(event->key));
    else
        lg_buf_append_str(out, "null");

    lg_buf_append_str(out, ",\"data\":");
    if (event->data_is_json)
        lg_buf_append(out, event->data, event->data_len);
    else
        lg_buf_append_json_string(out, event->data, event->data_len);
    lg_buf_append_char(out, '}');
}
