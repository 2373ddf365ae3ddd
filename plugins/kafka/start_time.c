/* The start_time option: an RFC 3339 time or Unix milliseconds. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "start_time.h"

static int parse_millis(const char *text, int64_t *ms)
{
    char *end;
    long long value;

    if (text[0] < '0' || text[0] > '9')
        return -1;
    value = strtoll(text, &end, 10);
    if (*end != '\0' || value < 0)
        return -1;
    *ms = value;
    return 0;
}

/* Parse ".123" into milliseconds at *TEXT, moving TEXT past the digits. */
static int64_t parse_fraction(const char **text)
{
    int64_t ms = 0;
    int digits = 0;

    if (**text != '.')
        return 0;
    for ((*text)++; isdigit((unsigned char)**text); (*text)++) {
        if (digits++ < 3)
            ms = ms * 10 + (**text - '0');
    }
    for (; digits < 3; digits++)
        ms *= 10;
    return ms;
}

/* Parse "Z", "+HH:MM" or "-HH:MM" into seconds east of UTC. */
static int parse_zone(const char *text, int64_t *seconds)
{
    int hours;
    int minutes;

    if (strcmp(text, "Z") == 0 || strcmp(text, "z") == 0) {
        *seconds = 0;
        return 0;
    }
    if ((text[0] != '+' && text[0] != '-') || strlen(text) != 6 || text[3] != ':' ||
        sscanf(text + 1, "%2d:%2d", &hours, &minutes) != 2 || hours > 23 || minutes > 59)
        return -1;
    *seconds = (int64_t)(hours * 3600 + minutes * 60) * (text[0] == '-' ? -1 : 1);
    return 0;
}

static int parse_rfc3339(const char *text, int64_t *ms)
{
    struct tm parts;
    const char *rest;
    int64_t fraction;
    int64_t zone;

    memset(&parts, 0, sizeof(parts));
    rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &parts);
    if (rest == NULL)
        return -1;
    fraction = parse_fraction(&rest);
    if (parse_zone(rest, &zone) < 0)
        return -1;
    *ms = ((int64_t)timegm(&parts) - zone) * 1000 + fraction;
    return *ms >= 0 ? 0 : -1;
}

int kafka_parse_start_time(const char *text, int64_t *ms, lg_error *err)
{
    if (text != NULL && (parse_millis(text, ms) == 0 || parse_rfc3339(text, ms) == 0))
        return 0;
    return lg_error_set(err, "invalid start_time \"%s\": write an RFC 3339 time with its zone, such as "
                        "\"2026-12-04T10:00:00Z\", or Unix milliseconds", text != NULL ? text : "");
}
