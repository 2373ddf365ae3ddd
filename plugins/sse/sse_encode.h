/* Server-Sent Events wire encoding: event frames, notices and heartbeats. */
#ifndef LG_SSE_ENCODE_H
#define LG_SSE_ENCODE_H

#include "buf.h"
#include "event.h"
#include "stream.h"

/* Encode EVENT as one SSE frame: "id:", "event:" when the event has a type,
 * one "data:" line per line of the JSON envelope, and a blank line. CR, LF
 * and NUL are removed from the id and type, so they can never start a new
 * field; the envelope is split at CR, LF and CRLF, the line ends of the
 * text/event-stream format. */
void lg_sse_encode_event(const lg_event *event, lg_buf *out);

/* The same frame with RESUME_ID in the id: line, for an event that leaves a
 * stream out of id order: EventSource resumes from the id: line, and the
 * envelope keeps the event's own id. */
void lg_sse_encode_event_resumed(const lg_event *event, const char *resume_id, lg_buf *out);

/* Encode a notice as a named event ("subscribed", "reset", "gap",
 * "subscribe_error") with a JSON body and no id, so the client's last id
 * stays where it was. */
void lg_sse_encode_notice(const lg_notice *notice, lg_buf *out);

/* Encode a comment line that keeps proxies from closing an idle stream. */
void lg_sse_encode_heartbeat(lg_buf *out);

/* Append FIELD ("data", "event") with VALUE split into one line per line of
 * VALUE. */
void lg_sse_append_field_lines(lg_buf *out, const char *field, const char *value, size_t len);

/* Append "FIELD: VALUE\n" with CR, LF and NUL removed from VALUE. */
void lg_sse_append_field_single(lg_buf *out, const char *field, const char *value);

#endif
