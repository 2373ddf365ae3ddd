/* Positions: how far a channel is in each ordered log (Kafka partition) that feeds it, and the resume ids built from them. */
#ifndef LG_POSITIONS_H
#define LG_POSITIONS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* A position id longer than this is not used: the event keeps its local id. */
#define LG_POSITIONS_ID_MAX 1024

/* One log, such as "kafka:orders:0", in a channel or a resume id. */
typedef struct lg_position {
    char *log;
    int64_t first;   /* offset of the first record of LOG that entered the channel */
    int64_t offset;  /* highest offset of LOG that entered the channel (or that the client has) */
    int64_t evicted; /* history holds every record of LOG in the channel above this offset; below FIRST
                      * while none was evicted */
} lg_position;

/* A vector of positions, at most one per log, in the order logs first appeared. */
typedef struct lg_positions {
    lg_position *items;
    size_t count;
    size_t cap;
} lg_positions;

void lg_positions_clear(lg_positions *positions);

/* Return the entry of LOG (LEN bytes), or NULL. */
lg_position *lg_positions_find(const lg_positions *positions, const char *log, size_t len);

/* Record that offset OFFSET of LOG entered the channel. The first record of
 * a log also sets its evicted mark just below it, because history cannot
 * hold what came before. */
void lg_positions_advance(lg_positions *positions, const char *log, size_t len, int64_t offset);

/* Record that the history dropped offset OFFSET of LOG. */
void lg_positions_evict(lg_positions *positions, const char *log, size_t len, int64_t offset);

/* Write the resume id of POSITIONS to OUT: "LOG:OFFSET" entries joined by
 * ',', such as "kafka:orders:0:1234,kafka:orders:1:77". Returns 0, or -1
 * (OUT unchanged) when the id would be longer than LG_POSITIONS_ID_MAX. */
int lg_positions_format(const lg_positions *positions, lg_buf *out);

/* Return the resume id of POSITIONS as a new string, or NULL when it would
 * be longer than LG_POSITIONS_ID_MAX. */
char *lg_positions_id(const lg_positions *positions);

/* Return 1 when ID has the form of a position id rather than a local
 * "EPOCH-SEQ" id: local ids never contain ':'. */
int lg_positions_is_id(const char *id);

/* Parse position id ID into OUT (cleared first). Returns 0, or -1 for a
 * malformed id (an entry without ":OFFSET", an offset that is not a
 * non-negative integer, a log named twice, or more than 256 entries). */
int lg_positions_parse(const char *id, lg_positions *out);

/* Set every entry of INTO to the higher of its offset and OTHER's for the
 * same log, adding the logs only OTHER has. */
void lg_positions_merge(lg_positions *into, const lg_positions *other);

/* Copy SOURCE into OUT (cleared first). */
void lg_positions_copy(lg_positions *out, const lg_positions *source);

#endif
