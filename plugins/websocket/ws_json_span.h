/* Finding the raw text of a member of a JSON object, so that a reply can carry it byte for byte. */
#ifndef LG_WS_JSON_SPAN_H
#define LG_WS_JSON_SPAN_H

#include <stddef.h>

/* Find the member NAME of the top-level object in TEXT (LEN bytes), which
 * must already be known to be valid JSON (jansson parsed it). Member names
 * written with escapes are compared after decoding. Returns 0 and sets
 * *START and *VALUE_LEN to the span of the member's value exactly as the
 * client wrote it, or -1 when TEXT is not an object or has no such member. */
int lg_ws_json_member_span(const char *text, size_t len, const char *name, size_t *start, size_t *value_len);

#endif
