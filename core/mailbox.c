/* Cross-thread message queues: a mutex-guarded list plus an eventfd wake-up. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "mailbox.h"

static void lg_mailbox_take(lg_mailbox *mailbox, struct lg_message_list *out)
{
    STAILQ_INIT(out);
    pthread_mutex_lock(&mailbox->lock);
    STAILQ_CONCAT(out, &mailbox->queue);
    pthread_mutex_unlock(&mailbox->lock);
}

void lg_mailbox_drain(lg_mailbox *mailbox)
{
    struct lg_message_list messages;

    lg_mailbox_take(mailbox, &messages);
    if (!STAILQ_EMPTY(&messages))
        mailbox->handler(&messages, mailbox->arg);
}

static void lg_mailbox_on_wake(evutil_socket_t fd, short what, void *arg)
{
    lg_mailbox *mailbox = arg;
    uint64_t count;

    if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
        LG_LOG_ERROR("mailbox", "read from eventfd %d failed: %s", fd, strerror(errno));
    lg_mailbox_drain(mailbox);
}

int lg_mailbox_init(lg_mailbox *mailbox, struct event_base *base, lg_mailbox_handler handler, void *arg,
                    lg_error *err)
{
    memset(mailbox, 0, sizeof(*mailbox));
    pthread_mutex_init(&mailbox->lock, NULL);
    STAILQ_INIT(&mailbox->queue);
    mailbox->handler = handler;
    mailbox->arg = arg;

    mailbox->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (mailbox->wake_fd < 0) {
        pthread_mutex_destroy(&mailbox->lock);
        return lg_error_set(err, "eventfd failed: %s", strerror(errno));
    }

    mailbox->wake_event = event_new(base, mailbox->wake_fd, EV_READ | EV_PERSIST, lg_mailbox_on_wake, mailbox);
    event_add(mailbox->wake_event, NULL);
    return 0;
}

void lg_mailbox_destroy(lg_mailbox *mailbox)
{
    if (mailbox->wake_event == NULL)
        return;
    lg_mailbox_drain(mailbox);
    event_free(mailbox->wake_event);
    close(mailbox->wake_fd);
    pthread_mutex_destroy(&mailbox->lock);
    mailbox->wake_event = NULL;
}

void lg_mailbox_post(lg_mailbox *mailbox, lg_message *message)
{
    uint64_t one = 1;
    int was_empty;

    pthread_mutex_lock(&mailbox->lock);
    was_empty = STAILQ_EMPTY(&mailbox->queue);
    STAILQ_INSERT_TAIL(&mailbox->queue, message, next);
    pthread_mutex_unlock(&mailbox->lock);

    if (was_empty && write(mailbox->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        LG_LOG_ERROR("mailbox", "write to eventfd %d failed: %s", mailbox->wake_fd, strerror(errno));
}
