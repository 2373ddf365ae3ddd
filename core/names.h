/* Validation of channel names, event types and keys that arrive from clients and publishers. */
#ifndef LG_NAMES_H
#define LG_NAMES_H

#include <stddef.h>

#include "error.h"

#define LG_CHANNEL_NAME_MAX_BYTES 200
#define LG_EVENT_TYPE_MAX_BYTES 100
#define LG_EVENT_KEY_MAX_BYTES 500

/* Check a channel name: 1 to LG_CHANNEL_NAME_MAX_BYTES bytes of letters,
 * digits and "._:-@/". Returns 0, or -1 with ERR naming the bad byte. */
int lg_channel_name_check(const char *name, lg_error *err);

/* Check an event type: 1 to LG_EVENT_TYPE_MAX_BYTES bytes of UTF-8 without CR or
 * LF, not one of the names the sinks reserve for notices ("reset", "gap",
 * "subscribed", "subscribe_error", "error"). Other control bytes are allowed and
 * made harmless by each wire format: the SSE encoder drops NUL from the "event:"
 * field. A NUL cannot reach this check, since TYPE is a C string: the HTTP layer
 * rejects %00 in a query. Returns 0, or -1 with ERR set. */
int lg_event_type_check(const char *type, lg_error *err);

/* Check an event key: up to LG_EVENT_KEY_MAX_BYTES bytes of UTF-8 without CR or LF.
 * Returns 0, or -1 with ERR set. */
int lg_event_key_check(const char *key, lg_error *err);

#endif
