/* Durations and sizes with units ("250ms", "5m", "64KiB", "10MB"): parsing and printing. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "options.h"

typedef struct unit_factor {
    const char *name;
    int64_t factor;
} unit_factor;

#define MS_PER_SECOND INT64_C(1000)
#define MS_PER_MINUTE (60 * MS_PER_SECOND)
#define MS_PER_HOUR (60 * MS_PER_MINUTE)

static const unit_factor duration_units[] = {
    {"ms", 1}, {"s", MS_PER_SECOND}, {"m", MS_PER_MINUTE}, {"h", MS_PER_HOUR}, {NULL, 0},
};

static const unit_factor size_units[] = {
    {"B", 1},
    {"KB", INT64_C(1000)},
    {"MB", INT64_C(1000) * 1000},
    {"GB", INT64_C(1000) * 1000 * 1000},
    {"TB", INT64_C(1000) * 1000 * 1000 * 1000},
    {"KiB", INT64_C(1) << 10},
    {"MiB", INT64_C(1) << 20},
    {"GiB", INT64_C(1) << 30},
    {"TiB", INT64_C(1) << 40},
    {NULL, 0},
};

/* Longest fraction accepted. It keeps FRACTION * FACTOR within 128 bits,
 * and no real duration or size needs more digits. */
#define MAX_FRACTION_DIGITS 18

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int64_t find_factor(const unit_factor *units, const char *name)
{
    size_t i;

    for (i = 0; units[i].name != NULL; i++) {
        if (strcmp(units[i].name, name) == 0)
            return units[i].factor;
    }
    return 0;
}

static int fail_with(int code)
{
    errno = code;
    return -1;
}

/* Parse "<digits>[.<digits>]<unit>" into a whole number of the base unit.
 * BARE_FACTOR is the factor of a number written without a unit, or 0 when
 * such a number is rejected unless it is a plain 0. */
static int parse_scaled(const char *text, const unit_factor *units, int64_t bare_factor, int64_t *out)
{
    unsigned __int128 whole = 0;
    unsigned __int128 fraction = 0;
    unsigned __int128 scale = 1;
    unsigned __int128 total;
    const char *p = text;
    int64_t factor;
    int fraction_digits = 0;

    if (!is_digit(*p))
        return fail_with(EINVAL);

    /* Saturate just past INT64_MAX so that long digit strings report
     * ERANGE instead of wrapping. */
    for (; is_digit(*p); p++) {
        whole = whole * 10 + (unsigned)(*p - '0');
        if (whole > (unsigned __int128)INT64_MAX)
            whole = (unsigned __int128)INT64_MAX + 1;
    }

    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return fail_with(EINVAL);
        for (; is_digit(*p); p++) {
            if (++fraction_digits > MAX_FRACTION_DIGITS)
                return fail_with(EINVAL);
            fraction = fraction * 10 + (unsigned)(*p - '0');
            scale *= 10;
        }
    }

    if (*p == '\0' && bare_factor == 0 && (whole != 0 || fraction_digits > 0))
        return fail_with(EINVAL);
    if (*p != '\0')
        factor = find_factor(units, p);
    else
        factor = bare_factor != 0 ? bare_factor : 1;
    if (factor == 0)
        return fail_with(EINVAL);

    /* "1.5s" is 1500ms, but "1.5ms" is not a whole number of milliseconds. */
    if ((fraction * (unsigned)factor) % scale != 0)
        return fail_with(EINVAL);
    total = whole * (unsigned)factor + fraction * (unsigned)factor / scale;
    if (total > (unsigned __int128)INT64_MAX)
        return fail_with(ERANGE);

    *out = (int64_t)total;
    return 0;
}

int lg_parse_duration_ms(const char *text, int64_t *ms)
{
    return parse_scaled(text, duration_units, 0, ms);
}

int lg_parse_size_bytes(const char *text, int64_t *bytes)
{
    return parse_scaled(text, size_units, 1, bytes);
}

/* Print VALUE with the largest unit of UNITS that divides it exactly. */
static void format_scaled(int64_t value, const unit_factor *units, char *buf, size_t size)
{
    const unit_factor *best = &units[0];
    size_t i;

    if (value == 0) {
        snprintf(buf, size, "0");
        return;
    }

    for (i = 0; units[i].name != NULL; i++) {
        if (value % units[i].factor == 0 && units[i].factor > best->factor)
            best = &units[i];
    }
    snprintf(buf, size, "%lld%s", (long long)(value / best->factor), best->name);
}

void lg_options_format_duration(int64_t ms, char *buf, size_t size)
{
    format_scaled(ms, duration_units, buf, size);
}

void lg_options_format_size(int64_t bytes, char *buf, size_t size)
{
    format_scaled(bytes, size_units, buf, size);
}
