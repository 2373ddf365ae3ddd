/* Name checks shared by the admin API, the sinks and the sources. */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "names.h"

static int lg_channel_name_byte_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._:-@/", c) != NULL;
}

int lg_channel_name_check(const char *name, lg_error *err)
{
    size_t len = strlen(name);

    if (len == 0)
        return lg_error_set(err, "channel name is empty");
    if (len > LG_CHANNEL_NAME_MAX_BYTES)
        return lg_error_set(err, "channel name is %zu bytes long, the maximum is %d", len, LG_CHANNEL_NAME_MAX_BYTES);

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];

        if (c == '\0' || !lg_channel_name_byte_ok(c))
            return lg_error_set(err,
                                "invalid channel name: byte 0x%02x at offset %zu is not allowed "
                                "(use letters, digits and . _ : - @ /)",
                                c, i);
    }
    return 0;
}

/* Reject CR and LF in a type or key. In a type they would end the SSE
 * "event:" line early, so a publisher could add fields of its own. LABEL
 * names the value in the message. */
static int lg_event_line_check(const char *label, const char *value, lg_error *err)
{
    size_t at = strcspn(value, "\r\n");

    if (value[at] == '\0')
        return 0;
    return lg_error_set(err, "%s contains a %s at byte %zu: remove line breaks", label,
                        value[at] == '\r' ? "carriage return (CR)" : "line feed (LF)", at);
}

int lg_event_type_check(const char *type, lg_error *err)
{
    static const char *const reserved[] = {"reset", "gap", "subscribed", "subscribe_error", "error", NULL};
    size_t len = strlen(type);

    if (len == 0)
        return lg_error_set(err, "event type is empty: omit it for a plain message");
    if (len > LG_EVENT_TYPE_MAX_BYTES)
        return lg_error_set(err, "event type is %zu bytes long, the maximum is %d", len, LG_EVENT_TYPE_MAX_BYTES);
    if (!lg_utf8_is_valid(type, len))
        return lg_error_set(err, "event type is not valid UTF-8");
    if (lg_event_line_check("event type", type, err) < 0)
        return -1;

    for (int i = 0; reserved[i] != NULL; i++) {
        if (strcmp(type, reserved[i]) == 0)
            return lg_error_set(err, "event type '%s' is reserved for notices from livegate; choose another name",
                                type);
    }
    return 0;
}

int lg_event_key_check(const char *key, lg_error *err)
{
    size_t len = strlen(key);

    if (len > LG_EVENT_KEY_MAX_BYTES)
        return lg_error_set(err, "event key is %zu bytes long, the maximum is %d", len, LG_EVENT_KEY_MAX_BYTES);
    if (!lg_utf8_is_valid(key, len))
        return lg_error_set(err, "event key is not valid UTF-8");
    if (lg_event_line_check("event key", key, err) < 0)
        return -1;
    return 0;
}
