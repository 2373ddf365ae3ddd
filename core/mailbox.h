/* Mailboxes: message queues between threads, woken through an eventfd on the receiver's event loop. */
#ifndef LG_MAILBOX_H
#define LG_MAILBOX_H

#include <pthread.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "error.h"

typedef struct lg_message lg_message;

/* Messages are allocated by the sender and freed by the receiver. A message
 * type embeds this header as its first member. */
struct lg_message {
    int type;
    STAILQ_ENTRY(lg_message) next;
};

STAILQ_HEAD(lg_message_list, lg_message);

/* Called on the receiver's thread with every message that arrived, in the
 * order they were posted. The handler owns the messages. */
typedef void (*lg_mailbox_handler)(struct lg_message_list *messages, void *arg);

typedef struct lg_mailbox {
    pthread_mutex_t lock;
    struct lg_message_list queue;
    int wake_fd;
    struct event *wake_event;
    lg_mailbox_handler handler;
    void *arg;
} lg_mailbox;

/* Set up MAILBOX delivering to HANDLER on BASE. Returns 0, or -1 with ERR set. */
int lg_mailbox_init(lg_mailbox *mailbox, struct event_base *base, lg_mailbox_handler handler, void *arg,
                    lg_error *err);

/* Free the eventfd and event; undelivered messages are returned through
 * HANDLER first so it can release them. */
void lg_mailbox_destroy(lg_mailbox *mailbox);

/* Post MESSAGE from any thread. The receiver is woken only when the queue
 * was empty, so a burst costs one wake-up. */
void lg_mailbox_post(lg_mailbox *mailbox, lg_message *message);

/* Deliver everything queued now, on the receiver's thread (used at shutdown). */
void lg_mailbox_drain(lg_mailbox *mailbox);

#endif
