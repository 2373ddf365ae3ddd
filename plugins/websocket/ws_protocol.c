/* Parsing of client commands with jansson. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alloc.h"
#include "ws_json_span.h"
#include "ws_protocol.h"

/* Commands are parsed with every integer as a double, so that a ping's data
 * may hold integers beyond 64 bits, and with \u0000 allowed, so that a NUL
 * in a string gets a clear message instead of jansson's. */
#define LG_WS_PARSE_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL)

void lg_ws_command_free(lg_ws_command *cmd)
{
    for (size_t i = 0; i < cmd->channel_count; i++)
        free(cmd->channels[i]);
    free(cmd->channels);
    free(cmd->last_event_id);
    free(cmd->ping_data);
    memset(cmd, 0, sizeof(*cmd));
}

/* Return 1 when the JSON string VALUE contains a NUL character. */
static int lg_ws_has_nul(json_t *value)
{
    return strlen(json_string_value(value)) != json_string_length(value);
}

static int lg_ws_nul_error(const char *member, lg_error *err)
{
    return lg_error_set(err, "\"%s\" contains a NUL character (\\u0000), which livegate does not accept in names",
                        member);
}

static int lg_ws_parse_op(json_t *root, lg_ws_command *cmd, lg_error *err)
{
    json_t *op = json_object_get(root, "op");
    const char *name;

    if (op == NULL)
        return lg_error_set(err, "missing \"op\": use subscribe, unsubscribe or ping");
    if (!json_is_string(op))
        return lg_error_set(err, "\"op\" must be a string: use subscribe, unsubscribe or ping");
    if (lg_ws_has_nul(op))
        return lg_ws_nul_error("op", err);

    name = json_string_value(op);
    if (strcmp(name, "subscribe") == 0)
        cmd->op = LG_WS_OP_SUBSCRIBE;
    else if (strcmp(name, "unsubscribe") == 0)
        cmd->op = LG_WS_OP_UNSUBSCRIBE;
    else if (strcmp(name, "ping") == 0)
        cmd->op = LG_WS_OP_PING;
    else
        return lg_error_set(err, "unknown op '%.64s': use subscribe, unsubscribe or ping", name);
    return 0;
}

static void lg_ws_add_channel(lg_ws_command *cmd, const char *name)
{
    cmd->channels[cmd->channel_count++] = lg_strdup(name);
}

/* Read "channel" (a string) or "channels" (a list of strings), not both. */
static int lg_ws_parse_channels(json_t *root, size_t max_channels, lg_ws_command *cmd, lg_error *err)
{
    json_t *one = json_object_get(root, "channel");
    json_t *many = json_object_get(root, "channels");
    json_t *item;
    size_t index;

    if (one != NULL && many != NULL)
        return lg_error_set(err, "use either \"channel\" or \"channels\", not both");
    if (one == NULL && many == NULL)
        return lg_error_set(err, "missing \"channel\" (or \"channels\", a list)");

    if (one != NULL) {
        if (!json_is_string(one))
            return lg_error_set(err, "\"channel\" must be a string");
        if (lg_ws_has_nul(one))
            return lg_ws_nul_error("channel", err);
        cmd->channels = lg_calloc(1, sizeof(*cmd->channels));
        lg_ws_add_channel(cmd, json_string_value(one));
        return 0;
    }

    if (!json_is_array(many) || json_array_size(many) == 0)
        return lg_error_set(err, "\"channels\" must be a non-empty list of strings");
    if (json_array_size(many) > max_channels)
        return lg_error_set(err, "\"channels\" lists %zu channels, the limit is %zu", json_array_size(many),
                            max_channels);

    cmd->channels = lg_calloc(json_array_size(many), sizeof(*cmd->channels));
    json_array_foreach(many, index, item)
    {
        if (!json_is_string(item))
            return lg_error_set(err, "\"channels\"[%zu] must be a string", index);
        if (lg_ws_has_nul(item))
            return lg_ws_nul_error("channels", err);
        lg_ws_add_channel(cmd, json_string_value(item));
    }
    return 0;
}

static int lg_ws_parse_subscribe(json_t *root, lg_ws_command *cmd, lg_error *err)
{
    json_t *last_id = json_object_get(root, "last_event_id");
    json_t *rate = json_object_get(root, "max_rate");

    if (last_id != NULL && !json_is_null(last_id)) {
        if (!json_is_string(last_id))
            return lg_error_set(err, "\"last_event_id\" must be a string");
        if (lg_ws_has_nul(last_id))
            return lg_ws_nul_error("last_event_id", err);
        cmd->last_event_id = lg_strdup(json_string_value(last_id));
    }
    if (rate != NULL && !json_is_null(rate)) {
        if (!json_is_number(rate) || !isfinite(json_number_value(rate)) || json_number_value(rate) < 0)
            return lg_error_set(err, "\"max_rate\" must be a number of updates per second, 0 or more");
        cmd->max_rate = json_number_value(rate);
    }
    return 0;
}

/* Copy the "data" member of a ping exactly as the client wrote it: a round
 * trip through jansson would print 0.1 as 0.10000000000000001 and turn
 * integers into doubles. */
static void lg_ws_parse_ping(const char *text, size_t len, lg_ws_command *cmd)
{
    size_t start;
    size_t value_len;

    if (lg_ws_json_member_span(text, len, "data", &start, &value_len) == 0)
        cmd->ping_data = lg_strndup(text + start, value_len);
}

static int lg_ws_parse_fields(json_t *root, const char *text, size_t len, size_t max_channels, lg_ws_command *cmd,
                              lg_error *err)
{
    if (lg_ws_parse_op(root, cmd, err) < 0)
        return -1;

    switch (cmd->op) {
    case LG_WS_OP_SUBSCRIBE:
        if (lg_ws_parse_channels(root, max_channels, cmd, err) < 0)
            return -1;
        return lg_ws_parse_subscribe(root, cmd, err);
    case LG_WS_OP_UNSUBSCRIBE:
        return lg_ws_parse_channels(root, max_channels, cmd, err);
    case LG_WS_OP_PING:
        lg_ws_parse_ping(text, len, cmd);
        return 0;
    }
    return 0;
}

int lg_ws_parse_command(const char *text, size_t len, size_t max_channels, lg_ws_command *cmd, lg_error *err)
{
    json_error_t parse_error;
    json_t *root;
    int rc;

    memset(cmd, 0, sizeof(*cmd));
    root = json_loadb(text, len, LG_WS_PARSE_FLAGS, &parse_error);
    if (root == NULL)
        return lg_error_set(err, "invalid JSON at line %d column %d: %s", parse_error.line, parse_error.column,
                            parse_error.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return lg_error_set(err, "a command must be a JSON object such as {\"op\":\"subscribe\",\"channel\":\"A\"}");
    }

    rc = lg_ws_parse_fields(root, text, len, max_channels, cmd, err);
    json_decref(root);
    if (rc < 0)
        lg_ws_command_free(cmd);
    return rc;
}
