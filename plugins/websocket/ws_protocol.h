/* Client messages of the livegate WebSocket protocol: JSON commands parsed and checked. */
#ifndef LG_WS_PROTOCOL_H
#define LG_WS_PROTOCOL_H

#include <stddef.h>

#include "error.h"

typedef enum lg_ws_op {
    LG_WS_OP_SUBSCRIBE = 1,
    LG_WS_OP_UNSUBSCRIBE,
    LG_WS_OP_PING,
} lg_ws_op;

/* One client command. */
typedef struct lg_ws_command {
    lg_ws_op op;
    char **channels; /* "channel" or "channels" */
    size_t channel_count;
    char *last_event_id; /* subscribe: resume point, NULL when absent */
    double max_rate;     /* subscribe: updates per second per key, 0 when absent */
    char *ping_data;     /* ping: the "data" member as the client wrote it, NULL when absent */
} lg_ws_command;

/* Parse the text message TEXT of LEN bytes into CMD. Accepted:
 *   {"op":"subscribe","channel":"A"} or {"op":"subscribe","channels":["A","B"]},
 *     optionally with "last_event_id":"ID" and "max_rate":N;
 *   {"op":"unsubscribe","channel":"A"} (or "channels");
 *   {"op":"ping"} optionally with "data":ANY, kept byte for byte.
 * Other members are ignored. Returns 0, or -1 with ERR set for invalid JSON
 * (with line and column), a missing or unknown op, members of the wrong
 * type, or a NUL character in a string member other than "data"; CMD is then empty. At most MAX_CHANNELS channels per command. */
int lg_ws_parse_command(const char *text, size_t len, size_t max_channels, lg_ws_command *cmd, lg_error *err);

void lg_ws_command_free(lg_ws_command *cmd);

#endif
