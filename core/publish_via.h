/* Publishing through a source: admin-published events written upstream first (publish_via). */
#ifndef LG_PUBLISH_VIA_H
#define LG_PUBLISH_VIA_H

#include "gateway.h"
#include "http.h"
#include "settings.h"

/* Check that the publish_via of every rule in SETTINGS names a source of
 * GATEWAY whose plugin can produce. Returns 0, or -1 with ERR set. */
int lg_publish_via_check(const lg_gateway *gateway, const lg_settings *settings, lg_error *err);

/* Answer REQ for EVENT (the caller's reference is taken over), published
 * into channel NAME through the source named by RULE's publish_via: 201
 * once the source's upstream acknowledged it, after which the other
 * sources' published hooks run; 503 when it could not. */
void lg_publish_via(lg_http_request *req, lg_gateway *gateway, const lg_rule *rule, const char *name, lg_event *event);

#endif
