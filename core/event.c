/* Event lifetime: creation, atomic reference counting and release of encoded frames. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "event.h"

lg_event *lg_event_new(const char *key, const char *type, const void *data, size_t data_len, int64_t time_ms)
{
    lg_event *event = lg_calloc(1, sizeof(*event));

    atomic_init(&event->refs, 1);
    event->time_ms = time_ms > 0 ? time_ms : lg_clock_wall_ms();
    event->key = key != NULL ? lg_strdup(key) : NULL;
    event->type = type != NULL ? lg_strdup(type) : NULL;
    event->data = lg_malloc(data_len + 1);
    if (data_len > 0)
        memcpy(event->data, data, data_len);
    event->data[data_len] = '\0';
    event->data_len = data_len;
    event->data_is_json = lg_json_is_valid(event->data, data_len);
    return event;
}

lg_event *lg_event_ref(lg_event *event)
{
    atomic_fetch_add_explicit(&event->refs, 1, memory_order_relaxed);
    return event;
}

static void lg_event_free(lg_event *event)
{
    for (int i = 0; i < LG_FORMAT_MAX; i++)
        free(event->encoded[i].data);
    free(event->id);
    free(event->key);
    free(event->type);
    free(event->data);
    free(event);
}

void lg_event_unref(lg_event *event)
{
    if (event == NULL)
        return;
    if (atomic_fetch_sub_explicit(&event->refs, 1, memory_order_acq_rel) == 1)
        lg_event_free(event);
}

void lg_event_unref_cleanup(const void *data, size_t len, void *event)
{
    (void)data;
    (void)len;
    lg_event_unref(event);
}
