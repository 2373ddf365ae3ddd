/* fanout-ceiling: the hand-over of framed events from the publish thread to the fan-out thread. */
#ifndef FANOUT_CEILING_H
#define FANOUT_CEILING_H

#include <pthread.h>
#include <stddef.h>

#define CEILING_MAX_CHANNEL_BYTES 200

/* One encoded event: an SSE or WebSocket frame, built once for every subscriber of its channel. */
typedef struct ceiling_frame {
    char channel[CEILING_MAX_CHANNEL_BYTES + 1];
    char *bytes;
    size_t len;
} ceiling_frame;

/* Frames waiting for the fan-out thread; an eventfd wakes it when the queue stops being empty. */
typedef struct ceiling_queue {
    pthread_mutex_t lock;
    ceiling_frame *frames;
    size_t count;
    size_t cap;
    int wakeup_fd;
} ceiling_queue;

/* Grow ITEMS (COUNT used of *CAP, ITEM_SIZE bytes each) so that one more fits; aborts when out of memory. */
void *ceiling_grow(void *items, size_t *cap, size_t count, size_t item_size);

/* Append FRAME to QUEUE, which takes over its bytes. */
void ceiling_queue_push(ceiling_queue *queue, const ceiling_frame *frame);

/* Swap the queued frames with the empty array *FRAMES (of *CAP entries) and return how many were queued. */
size_t ceiling_queue_take(ceiling_queue *queue, ceiling_frame **frames, size_t *cap);

/* Start the publish thread: it accepts POST /pub?id=CHANNEL on 127.0.0.1:PORT,
 * frames each body once and pushes it to QUEUE. Returns 0, or -1 after
 * printing why the port could not be bound. */
int ceiling_intake_start(int port, ceiling_queue *queue);

/* Stop the publish thread and wait for it. */
void ceiling_intake_stop(void);

#endif
