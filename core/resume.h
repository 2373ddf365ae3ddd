/* Resume of new subscriptions: history by local or position id, read-backs from sources, resets. */
#ifndef LG_RESUME_H
#define LG_RESUME_H

#include "hub.h"
#include "messages.h"

/* Handle REQUEST on the hub thread: look up or create its channels, work
 * out where each resumes, and reply to the worker with LG_MSG_SUBSCRIBED,
 * after the read-backs the resume needs have finished. Takes over the
 * request's items (the caller still frees LAST_EVENT_ID and the message). */
void lg_resume_subscribe(lg_hub *hub, lg_msg_subscribe *request);

/* Drop the requests still waiting for read-backs, at shutdown. */
void lg_resume_free_parked(lg_hub *hub);

#endif
