/* Event lifetime: creation, atomic reference counting and release of encoded frames. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "error.h"
#include "event.h"

lg_event *lg_event_new(const char *key, const char *type, const void *data, size_t data_len, int64_t time_ms)
{
    lg_event *event = lg_calloc(1, sizeof(*event));

    atomic_init(&event->refs, 1);
    event->position = -1;
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

int lg_event_set_origin(lg_event *event, const char *origin, int positioned, lg_error *err)
{
    const char *colon = strrchr(origin, ':');
    char *end = NULL;
    long long offset = -1;

    if (positioned) {
        if (colon == NULL || colon == origin || colon[1] < '0' || colon[1] > '9')
            return lg_error_set(err, "invalid positioned origin '%s': expected LOG:OFFSET", origin);
        errno = 0;
        offset = strtoll(colon + 1, &end, 10);
        if (errno != 0 || *end != '\0')
            return lg_error_set(err, "invalid positioned origin '%s': the offset is not a number", origin);
    }

    free(event->origin);
    event->origin = lg_strdup(origin);
    event->position = offset;
    event->log_len = positioned ? (size_t)(colon - origin) : 0;
    return 0;
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
    free(event->origin);
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

void lg_event_list_take(lg_event_list *list, lg_event **events, size_t count)
{
    if (list->count + count > list->cap) {
        list->cap = (list->count + count) * 2;
        list->items = lg_realloc(list->items, list->cap * sizeof(*list->items));
    }
    if (count > 0)
        memcpy(list->items + list->count, events, count * sizeof(*events));
    list->count += count;
    free(events);
}

void lg_event_list_push(lg_event_list *events, lg_event *event)
{
    lg_event **one = lg_malloc(sizeof(*one));

    one[0] = event;
    lg_event_list_take(events, one, 1);
}

static int lg_event_compare_seq(const void *a, const void *b)
{
    const lg_event *x = *(lg_event *const *)a;
    const lg_event *y = *(lg_event *const *)b;

    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void lg_event_list_sort(lg_event_list *events)
{
    if (events->count > 1)
        qsort(events->items, events->count, sizeof(*events->items), lg_event_compare_seq);
}

void lg_event_list_clear(lg_event_list *events)
{
    for (size_t i = 0; i < events->count; i++)
        lg_event_unref(events->items[i]);
    free(events->items);
    events->items = NULL;
    events->count = 0;
    events->cap = 0;
}
