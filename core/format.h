/* Wire formats: sinks register an encoder, and the channel thread encodes each event once per format. */
#ifndef LG_FORMAT_H
#define LG_FORMAT_H

#include "buf.h"
#include "error.h"
#include "event.h"

/* Encode EVENT into OUT (empty on entry). Runs on the channel thread, once
 * per event; the bytes are then shared by every subscriber. CTX is the
 * pointer given at registration. */
typedef void (*lg_format_encode_fn)(const lg_event *event, lg_buf *out, void *ctx);

/* Register format NAME. Call from a sink's init, before threads start.
 * Registering the same name again returns the existing id. Returns the
 * format id (0 <= id < LG_FORMAT_MAX), or -1 with ERR set when the table is
 * full. */
int lg_format_register(const char *name, lg_format_encode_fn encode, void *ctx, lg_error *err);

/* Number of registered formats. */
int lg_format_count(void);

/* Name of format ID, as registered ("sse"). */
const char *lg_format_name(int id);

/* Encode EVENT in every registered format, filling EVENT->ENCODED. */
void lg_format_encode_all(lg_event *event);

/* Forget every format; for tests and shutdown. */
void lg_format_reset(void);

/* Append the JSON envelope of EVENT, shared by the SSE and WebSocket sinks:
 * {"channel":...,"id":...,"time":<ms>,"key":<string or null>,"data":<payload>}.
 * The payload is embedded as is when it is valid JSON, otherwise as a JSON
 * string. EXTRA, when not NULL, is raw JSON members put first, such as
 * "\"type\":\"event\"". */
void lg_format_append_envelope(const lg_event *event, const char *extra, lg_buf *out);

#endif
