/* The start_time option: an RFC 3339 time or Unix milliseconds. */
#ifndef LG_KAFKA_START_TIME_H
#define LG_KAFKA_START_TIME_H

#include <stdint.h>

#include "error.h"

/* Parse TEXT ("2026-12-04T10:00:00Z", "2026-12-04T10:00:00.250+01:00" or
 * "1796428800000") into milliseconds since the Unix epoch. Returns 0, or -1
 * with ERR naming the value and the accepted forms. */
int kafka_parse_start_time(const char *text, int64_t *ms, lg_error *err);

#endif
