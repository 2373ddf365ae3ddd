/* Unit tests of the log writer's rate limit: bursts, suppressed counts and turning the limit off. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

typedef struct fixture {
    char path[64];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    int fd;

    snprintf(fx->path, sizeof(fx->path), "/tmp/livegate-test-log-XXXXXX");
    fd = mkstemp(fx->path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(lg_log_open(fx->path), 0);
    lg_log_set_level(LG_LOG_DEBUG);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;

    lg_log_close();
    unlink(fx->path);
    free(fx);
    return 0;
}

/* Return the log file's text (at most 64 KiB). The caller frees it. */
static char *read_log(const fixture *fx)
{
    FILE *file = fopen(fx->path, "r");
    char *text = calloc(1, 65536);
    size_t len;

    assert_non_null(file);
    len = fread(text, 1, 65535, file);
    text[len] = '\0';
    fclose(file);
    return text;
}

static unsigned count_lines(const char *text, const char *needle)
{
    unsigned count = 0;

    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
        count++;
    return count;
}

static void write_repeats(lg_log_limit *limit, int count)
{
    for (int i = 0; i < count; i++)
        lg_log_write(limit, LG_LOG_WARN, "test", "repeat %d", i);
}

static void test_burst_then_suppressed(void **state)
{
    lg_log_limit limit = {0};
    char *text;

    lg_log_set_rate_limit(2, 60000);
    write_repeats(&limit, 5);
    text = read_log(*state);

    assert_int_equal(count_lines(text, "repeat "), 2);
    assert_null(strstr(text, "suppressed"));
    free(text);
}

static void test_count_after_window(void **state)
{
    lg_log_limit limit = {0};
    char *text;

    lg_log_set_rate_limit(2, 50);
    write_repeats(&limit, 5);
    usleep(100 * 1000);
    lg_log_write(&limit, LG_LOG_WARN, "test", "after the window");
    text = read_log(*state);

    assert_int_equal(count_lines(text, "repeat "), 2);
    assert_non_null(strstr(text, "[warn] [test] 3 similar messages were suppressed\n"));
    assert_non_null(strstr(text, "after the window"));
    assert_true(strstr(text, "suppressed") < strstr(text, "after the window"));
    free(text);
}

/* A reload may turn rate limiting off (burst 0) while a site has a count
 * that its window has not reported yet. */
static void test_count_when_limit_turned_off(void **state)
{
    lg_log_limit limit = {0};
    char *text;

    lg_log_set_rate_limit(2, 60000);
    write_repeats(&limit, 5);
    lg_log_set_rate_limit(0, 60000);
    lg_log_write(&limit, LG_LOG_WARN, "test", "limit off");
    lg_log_write(&limit, LG_LOG_WARN, "test", "limit still off");
    text = read_log(*state);

    assert_non_null(strstr(text, "3 similar messages were suppressed\n"));
    assert_int_equal(count_lines(text, "suppressed"), 1);
    assert_non_null(strstr(text, "limit off"));
    assert_non_null(strstr(text, "limit still off"));
    free(text);
}

/* One scope's repeats must not use up the burst of another scope at the same call site. */
static void test_scopes_limited_separately(void **state)
{
    lg_log_limit limit = {0};
    char *text;

    lg_log_set_rate_limit(2, 50);
    for (int i = 0; i < 5; i++)
        lg_log_write(&limit, LG_LOG_WARN, "source:a", "repeat %d", i);
    lg_log_write(&limit, LG_LOG_WARN, "source:b", "first of b");
    usleep(100 * 1000);
    lg_log_write(&limit, LG_LOG_WARN, "source:b", "second of b");
    lg_log_write(&limit, LG_LOG_WARN, "source:a", "a after the window");
    text = read_log(*state);

    assert_int_equal(count_lines(text, "repeat "), 2);
    assert_non_null(strstr(text, "[source:b] first of b\n"));
    assert_non_null(strstr(text, "[source:b] second of b\n"));
    assert_int_equal(count_lines(text, "suppressed"), 1);
    assert_non_null(strstr(text, "[source:a] 3 similar messages were suppressed\n"));
    free(text);
}

static void test_no_limit_never_suppresses(void **state)
{
    char *text;

    lg_log_set_rate_limit(1, 60000);
    for (int i = 0; i < 4; i++)
        lg_log_write(NULL, LG_LOG_INFO, "test", "unlimited %d", i);
    text = read_log(*state);

    assert_int_equal(count_lines(text, "unlimited "), 4);
    assert_null(strstr(text, "suppressed"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_burst_then_suppressed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_after_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_when_limit_turned_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scopes_limited_separately, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_limit_never_suppresses, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
