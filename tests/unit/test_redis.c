/* Unit tests of the redis source's address parsing, pattern captures, templates and reconnect backoff. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "address.h"
#include "template.h"

/* Address parsing */

static void address_host_port(void **state)
{
    redis_address address = {0};
    lg_error err;

    assert_int_equal(redis_address_parse("10.1.2.3:7000", &address, &err), 0);
    assert_string_equal(address.host, "10.1.2.3");
    assert_int_equal(address.port, 7000);
    assert_null(address.password);
    assert_int_equal(address.db, 0);
    assert_string_equal(address.display, "10.1.2.3:7000 db 0");
    redis_address_free(&address);

    assert_int_equal(redis_address_parse("localhost", &address, &err), 0);
    assert_string_equal(address.host, "localhost");
    assert_int_equal(address.port, REDIS_DEFAULT_PORT);
    redis_address_free(&address);
}

static void address_url_with_password(void **state)
{
    redis_address address = {0};
    lg_error err;

    assert_int_equal(redis_address_parse("redis://:s%40cret@127.0.0.1:6380/3", &address, &err), 0);
    assert_string_equal(address.host, "127.0.0.1");
    assert_int_equal(address.port, 6380);
    assert_null(address.username);
    assert_string_equal(address.password, "s@cret");
    assert_int_equal(address.db, 3);
    assert_null(strstr(address.display, "cret"));
    redis_address_free(&address);

    assert_int_equal(redis_address_parse("redis://app:pw@[::1]/1", &address, &err), 0);
    assert_string_equal(address.host, "::1");
    assert_int_equal(address.port, REDIS_DEFAULT_PORT);
    assert_string_equal(address.username, "app");
    assert_string_equal(address.password, "pw");
    assert_int_equal(address.db, 1);
    assert_string_equal(address.display, "[::1]:6379 db 1");
    redis_address_free(&address);

    assert_int_equal(redis_address_parse("redis://127.0.0.1", &address, &err), 0);
    assert_int_equal(address.port, REDIS_DEFAULT_PORT);
    assert_int_equal(address.db, 0);
    redis_address_free(&address);
}

static void address_unix_socket(void **state)
{
    redis_address address = {0};
    lg_error err;

    assert_int_equal(redis_address_parse("/run/redis/redis.sock", &address, &err), 0);
    assert_string_equal(address.socket_path, "/run/redis/redis.sock");
    assert_null(address.host);
    redis_address_free(&address);

    assert_int_equal(redis_address_parse("unix:///tmp/r.sock", &address, &err), 0);
    assert_string_equal(address.socket_path, "/tmp/r.sock");
    redis_address_free(&address);
}

static void address_errors(void **state)
{
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"", "address is empty"},
        {"127.0.0.1:0", "invalid port \"0\""},
        {"127.0.0.1:99999", "invalid port"},
        {"127.0.0.1:http", "invalid port \"http\""},
        {"redis://127.0.0.1/16", "invalid database \"16\""},
        {"redis://:pw@:6379", "missing host"},
        {"rediss://127.0.0.1", "unsupported scheme"},
        {"redis://[::1", "missing ']'"},
        {"redis://:p%4@127.0.0.1", "invalid percent escape in the password"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        redis_address address = {0};
        lg_error err;

        lg_error_clear(&err);
        assert_int_equal(redis_address_parse(cases[i].text, &address, &err), -1);
        if (strstr(err.message, cases[i].message) == NULL)
            fail_msg("address \"%s\": message \"%s\" lacks \"%s\"", cases[i].text, err.message, cases[i].message);
        assert_null(address.host);
    }
}

static void address_error_hides_password(void **state)
{
    redis_address address = {0};
    lg_error err;

    assert_int_equal(redis_address_parse("redis://:topsecret@127.0.0.1:0", &address, &err), -1);
    assert_null(strstr(err.message, "topsecret"));
    assert_non_null(strstr(err.message, "redis://:***@127.0.0.1:0"));
}

/* Credentials in an address that is invalid for another reason stay hidden too. */
static void address_error_hides_credentials(void **state)
{
    static const struct {
        const char *text;
        const char *shown;
    } cases[] = {
        {"rediss://app:topsecret@127.0.0.1", "rediss://app:***@127.0.0.1"},
        {"http://:topsecret@127.0.0.1", "http://:***@127.0.0.1"},
        {"redis://topsecret@127.0.0.1", "redis://***@127.0.0.1"},
        {"app:topsecret@127.0.0.1:6379", "***@127.0.0.1:6379"},
        {"topsecret@127.0.0.1", "***@127.0.0.1"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        redis_address address = {0};
        lg_error err;

        lg_error_clear(&err);
        assert_int_equal(redis_address_parse(cases[i].text, &address, &err), -1);
        if (strstr(err.message, "topsecret") != NULL)
            fail_msg("address \"%s\": message \"%s\" shows the secret", cases[i].text, err.message);
        if (strstr(err.message, cases[i].shown) == NULL)
            fail_msg("address \"%s\": message \"%s\" lacks \"%s\"", cases[i].text, err.message, cases[i].shown);
    }
}

/* A password before '@' needs the redis:// form, because a host name has no '@'. */
static void address_credentials_need_url(void **state)
{
    redis_address address = {0};
    lg_error err;

    lg_error_clear(&err);
    assert_int_equal(redis_address_parse("pw@127.0.0.1:6379", &address, &err), -1);
    assert_non_null(strstr(err.message, "redis://"));
    assert_null(address.host);
}

/* Patterns */

static void pattern_captures(void **state)
{
    redis_captures captures;

    assert_int_equal(redis_pattern_wildcards("prices.*"), 1);
    assert_int_equal(redis_pattern_wildcards("a?.[xy]*\\*"), 3);

    assert_true(redis_pattern_match("prices.*", "prices.AAPL", &captures));
    assert_int_equal(captures.set, 1);
    assert_int_equal(captures.len[0], 4);
    assert_memory_equal(captures.start[0], "AAPL", 4);

    assert_true(redis_pattern_match("t.*.*", "t.a.b.c", &captures));
    assert_memory_equal(captures.start[0], "a", captures.len[0]);
    assert_int_equal(captures.len[1], 3);
    assert_memory_equal(captures.start[1], "b.c", 3);

    assert_true(redis_pattern_match("h?llo.[a-c]", "hello.b", &captures));
    assert_memory_equal(captures.start[0], "e", 1);
    assert_memory_equal(captures.start[1], "b", 1);

    assert_false(redis_pattern_match("prices.*", "quotes.AAPL", &captures));
    assert_false(redis_pattern_match("h[^e]llo", "hello", &captures));
    assert_true(redis_pattern_match("a\\*b", "a*b", &captures));
    assert_false(redis_pattern_match("a\\*b", "axb", &captures));
}

static void pattern_narrow(void **state)
{
    redis_captures captures;
    lg_buf pattern = LG_BUF_INIT;
    lg_buf name = LG_BUF_INIT;

    assert_true(redis_template_invert("prices.{1}", "prices.AAPL", &captures));
    assert_int_equal(redis_pattern_narrow("prices.*", &captures, &pattern, &name), 0);
    assert_string_equal(name.data, "prices.AAPL");
    lg_buf_reset(&pattern);
    lg_buf_reset(&name);

    /* A template that leaves out wildcard 2 keeps it in a narrowed pattern. */
    assert_true(redis_template_invert("t.{1}", "t.a*", &captures));
    assert_int_equal(redis_pattern_narrow("t.*.*", &captures, &pattern, &name), 1);
    assert_string_equal(pattern.data, "t.a\\*.*");
    lg_buf_free(&pattern);
    lg_buf_free(&name);
}

/* Templates */

static void template_expand_values(void **state)
{
    redis_captures captures;
    redis_template_values values = {.captures = &captures, .id = "e1-42", .channel = "prices.AAPL",
                                    .redis_channel = "px.AAPL"};
    lg_buf out = LG_BUF_INIT;
    lg_error err;

    assert_true(redis_pattern_match("px.*", "px.AAPL", &captures));
    assert_int_equal(redis_template_expand("price:{1}:{id}", &values, 0, &out, &err), 0);
    assert_string_equal(out.data, "price:AAPL:e1-42");
    lg_buf_reset(&out);

    assert_int_equal(redis_template_expand("{{{redis_channel}}} {channel}", &values, 0, &out, &err), 0);
    assert_string_equal(out.data, "{px.AAPL} prices.AAPL");
    lg_buf_reset(&out);

    values.id = "a b/c";
    assert_int_equal(redis_template_expand("http://h/x/{id}", &values, 1, &out, &err), 0);
    assert_string_equal(out.data, "http://h/x/a%20b%2Fc");
    lg_buf_reset(&out);

    values.id = NULL;
    assert_int_equal(redis_template_expand("k:{id}", &values, 0, &out, &err), -1);
    assert_non_null(strstr(err.message, "{id}"));
    lg_buf_free(&out);
}

static void template_check_errors(void **state)
{
    static const struct {
        const char *text;
        unsigned allowed;
        int max_capture;
        const char *message;
    } cases[] = {
        {"prices.{2}", REDIS_TEMPLATE_CAPTURES, 1, "refers to a wildcard the pattern lacks"},
        {"prices.{id}", REDIS_TEMPLATE_CAPTURES, 1, "invalid placeholder {id}"},
        {"prices.{name}", REDIS_TEMPLATE_CAPTURES, 1, "invalid placeholder {name}"},
        {"prices.{1", REDIS_TEMPLATE_CAPTURES, 1, "unclosed '{'"},
        {"prices.1}", REDIS_TEMPLATE_CAPTURES, 1, "unmatched '}'"},
    };
    lg_error err;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lg_error_clear(&err);
        assert_int_equal(redis_template_check(cases[i].text, cases[i].allowed, cases[i].max_capture, &err), -1);
        if (strstr(err.message, cases[i].message) == NULL)
            fail_msg("template \"%s\": message \"%s\" lacks \"%s\"", cases[i].text, err.message, cases[i].message);
    }
    assert_int_equal(redis_template_check("a.{1}.{{x}}", REDIS_TEMPLATE_CAPTURES, 1, &err), 0);
    assert_int_equal(redis_template_check("price:{id}", REDIS_TEMPLATE_ID, 0, &err), 0);
}

static void template_invert_names(void **state)
{
    redis_captures captures;

    assert_true(redis_template_invert("prices.{1}", "prices.AAPL", &captures));
    assert_int_equal(captures.set, 1);
    assert_memory_equal(captures.start[0], "AAPL", captures.len[0]);

    assert_true(redis_template_invert("{2}.{1}", "x.y", &captures));
    assert_memory_equal(captures.start[0], "y", captures.len[0]);
    assert_memory_equal(captures.start[1], "x", captures.len[1]);

    assert_true(redis_template_invert("{1}-{1}", "ab-ab", &captures));
    assert_false(redis_template_invert("{1}-{1}", "ab-ac", &captures));
    assert_false(redis_template_invert("prices.{1}", "prices.", &captures));
    assert_false(redis_template_invert("prices.{1}", "quotes.AAPL", &captures));
    assert_true(redis_template_invert("fixed", "fixed", &captures));
    assert_int_equal(captures.set, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(address_host_port),
        cmocka_unit_test(address_url_with_password),
        cmocka_unit_test(address_unix_socket),
        cmocka_unit_test(address_errors),
        cmocka_unit_test(address_error_hides_password),
        cmocka_unit_test(address_error_hides_credentials),
        cmocka_unit_test(address_credentials_need_url),
        cmocka_unit_test(pattern_captures),
        cmocka_unit_test(pattern_narrow),
        cmocka_unit_test(template_expand_values),
        cmocka_unit_test(template_check_errors),
        cmocka_unit_test(template_invert_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
