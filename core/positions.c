/* Position vectors of channels and the position resume ids. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "positions.h"

#define LG_POSITIONS_PARSE_MAX 256

void lg_positions_clear(lg_positions *positions)
{
    for (size_t i = 0; i < positions->count; i++)
        free(positions->items[i].log);
    free(positions->items);
    positions->items = NULL;
    positions->count = 0;
    positions->cap = 0;
}

lg_position *lg_positions_find(const lg_positions *positions, const char *log, size_t len)
{
    for (size_t i = 0; i < positions->count; i++) {
        lg_position *position = &positions->items[i];

        if (strncmp(position->log, log, len) == 0 && position->log[len] == '\0')
            return position;
    }
    return NULL;
}

static lg_position *lg_positions_add(lg_positions *positions, const char *log, size_t len, int64_t offset,
                                     int64_t evicted)
{
    lg_position *position;

    if (positions->count == positions->cap) {
        positions->cap = positions->cap > 0 ? positions->cap * 2 : 4;
        positions->items = lg_realloc(positions->items, positions->cap * sizeof(*positions->items));
    }
    position = &positions->items[positions->count++];
    position->log = lg_strndup(log, len);
    position->first = offset;
    position->offset = offset;
    position->evicted = evicted;
    return position;
}

void lg_positions_advance(lg_positions *positions, const char *log, size_t len, int64_t offset)
{
    lg_position *position = lg_positions_find(positions, log, len);

    if (position == NULL) {
        lg_positions_add(positions, log, len, offset, offset - 1);
        return;
    }
    if (offset > position->offset)
        position->offset = offset;
}

void lg_positions_evict(lg_positions *positions, const char *log, size_t len, int64_t offset)
{
    lg_position *position = lg_positions_find(positions, log, len);

    if (position != NULL && offset > position->evicted)
        position->evicted = offset;
}

int lg_positions_format(const lg_positions *positions, lg_buf *out)
{
    size_t start = out->len;

    for (size_t i = 0; i < positions->count; i++) {
        lg_buf_printf(out, "%s%s:%" PRId64, i > 0 ? "," : "", positions->items[i].log, positions->items[i].offset);
        if (out->len - start > LG_POSITIONS_ID_MAX) {
            out->len = start;
            if (out->data != NULL)
                out->data[start] = '\0';
            return -1;
        }
    }
    return 0;
}

char *lg_positions_id(const lg_positions *positions)
{
    lg_buf id = LG_BUF_INIT;

    if (lg_positions_format(positions, &id) < 0) {
        lg_buf_free(&id);
        return NULL;
    }
    return lg_buf_steal(&id, NULL);
}

int lg_positions_is_id(const char *id)
{
    return strchr(id, ':') != NULL;
}

/* Parse one "LOG:OFFSET" entry of LEN bytes into OUT. */
static int lg_positions_parse_entry(const char *entry, size_t len, lg_positions *out)
{
    const char *colon = NULL;
    char digits[24];
    char *end = NULL;
    long long offset;
    size_t digits_len;

    for (size_t i = 0; i < len; i++) {
        if (entry[i] == ':')
            colon = entry + i;
    }
    if (colon == NULL || colon == entry)
        return -1;

    digits_len = len - (size_t)(colon + 1 - entry);
    if (digits_len == 0 || digits_len >= sizeof(digits) || colon[1] < '0' || colon[1] > '9')
        return -1;
    memcpy(digits, colon + 1, digits_len);
    digits[digits_len] = '\0';
    errno = 0;
    offset = strtoll(digits, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;

    if (lg_positions_find(out, entry, (size_t)(colon - entry)) != NULL)
        return -1;
    lg_positions_add(out, entry, (size_t)(colon - entry), offset, -1);
    return 0;
}

int lg_positions_parse(const char *id, lg_positions *out)
{
    const char *entry = id;

    lg_positions_clear(out);
    while (*entry != '\0') {
        const char *comma = strchr(entry, ',');
        size_t len = comma != NULL ? (size_t)(comma - entry) : strlen(entry);

        if (out->count == LG_POSITIONS_PARSE_MAX || lg_positions_parse_entry(entry, len, out) < 0) {
            lg_positions_clear(out);
            return -1;
        }
        if (comma == NULL)
            break;
        entry = comma + 1;
        if (*entry == '\0') {
            lg_positions_clear(out);
            return -1;
        }
    }
    return out->count > 0 ? 0 : -1;
}

void lg_positions_merge(lg_positions *into, const lg_positions *other)
{
    for (size_t i = 0; i < other->count; i++) {
        const lg_position *theirs = &other->items[i];
        lg_position *ours = lg_positions_find(into, theirs->log, strlen(theirs->log));

        if (ours == NULL)
            lg_positions_add(into, theirs->log, strlen(theirs->log), theirs->offset, theirs->evicted);
        else if (theirs->offset > ours->offset)
            ours->offset = theirs->offset;
    }
}

void lg_positions_copy(lg_positions *out, const lg_positions *source)
{
    lg_positions_clear(out);
    lg_positions_merge(out, source);
}
