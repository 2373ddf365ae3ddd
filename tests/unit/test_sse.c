/* Unit tests of the Server-Sent Events encoding: fields, line splitting and injection safety. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sse_encode.h"

static lg_event *make_event(const char *id, const char *type, const char *key, const char *data)
{
    lg_event *event = lg_event_new(key, type, data, strlen(data), 1700000000123);

    event->id = strdup(id);
    event->channel_name = "prices.a";
    return event;
}

static char *encode(lg_event *event)
{
    lg_buf out = LG_BUF_INIT;

    lg_sse_encode_event(event, &out);
    return lg_buf_steal(&out, NULL);
}

/* Count the lines of FRAME that start with PREFIX. */
static int count_lines(const char *frame, const char *prefix)
{
    size_t len = strlen(prefix);
    int count = 0;
    const char *line = frame;

    while (*line != '\0') {
        const char *end = strchr(line, '\n');

        if (strncmp(line, prefix, len) == 0)
            count++;
        if (end == NULL)
            break;
        line = end + 1;
    }
    return count;
}

static void sse_plain_event_frame(void **state)
{
    lg_event *event = make_event("e1-7", NULL, NULL, "{\"p\":1}");
    char *frame = encode(event);

    assert_string_equal(frame, "id: e1-7\n"
                               "data: {\"channel\":\"prices.a\",\"id\":\"e1-7\",\"time\":1700000000123,"
                               "\"key\":null,\"data\":{\"p\":1}}\n\n");
    free(frame);
    lg_event_unref(event);
}

static void sse_typed_event_has_event_line(void **state)
{
    lg_event *event = make_event("e1-8", "tick", "AAPL", "\"x\"");
    char *frame = encode(event);

    assert_non_null(strstr(frame, "\nevent: tick\n"));
    assert_non_null(strstr(frame, "\"key\":\"AAPL\""));
    assert_int_equal(count_lines(frame, "event:"), 1);
    free(frame);
    lg_event_unref(event);
}

static void sse_non_json_data_is_string(void **state)
{
    lg_event *event = make_event("e1-9", NULL, NULL, "hello \"world\"");
    char *frame = encode(event);

    assert_non_null(strstr(frame, "\"data\":\"hello \\\"world\\\"\"}"));
    free(frame);
    lg_event_unref(event);
}

static void sse_type_with_newline_cannot_inject(void **state)
{
    lg_event *event = make_event("e1-10", "tick\ndata: spoofed", NULL, "1");
    char *frame = encode(event);

    assert_int_equal(count_lines(frame, "event:"), 1);
    assert_int_equal(count_lines(frame, "data:"), 1);
    assert_non_null(strstr(frame, "event: tickdata: spoofed\n"));
    free(frame);
    lg_event_unref(event);
}

static void sse_id_with_cr_cannot_inject(void **state)
{
    lg_event *event = make_event("e1\r\nevent: other\rdata: x", NULL, NULL, "1");
    char *frame = encode(event);

    assert_int_equal(count_lines(frame, "id:"), 1);
    assert_int_equal(count_lines(frame, "event:"), 0);
    assert_int_equal(count_lines(frame, "data:"), 1);
    assert_null(strchr(frame, '\r'));
    free(frame);
    lg_event_unref(event);
}

static void sse_lone_cr_in_payload_stays_data(void **state)
{
    lg_event *event = make_event("e1-11", NULL, NULL, "abc\revent: other");
    char *frame = encode(event);

    /* Not JSON, so the payload is a JSON string and the CR is escaped. */
    assert_int_equal(count_lines(frame, "data:"), 1);
    assert_int_equal(count_lines(frame, "event:"), 0);
    assert_non_null(strstr(frame, "abc\\revent: other"));
    free(frame);
    lg_event_unref(event);
}

static void sse_json_with_line_breaks_is_split(void **state)
{
    lg_event *event = make_event("e1-12", NULL, NULL, "{\"a\":\r\n1,\r\"b\":\n2}");
    char *frame = encode(event);

    assert_int_equal(count_lines(frame, "data:"), 4);
    assert_null(strchr(frame, '\r'));
    assert_non_null(strstr(frame, "data: {\"channel\":\"prices.a\""));
    assert_non_null(strstr(frame, "\ndata: 1,\n"));
    assert_non_null(strstr(frame, "\ndata: \"b\":\n"));
    assert_non_null(strstr(frame, "\ndata: 2}}\n\n"));
    free(frame);
    lg_event_unref(event);
}

static void sse_field_lines_split_each_ending(void **state)
{
    lg_buf out = LG_BUF_INIT;

    lg_sse_append_field_lines(&out, "data", "a\nb\r\nc\rd", 8);
    assert_string_equal(out.data, "data: a\ndata: b\ndata: c\ndata: d\n");
    lg_buf_reset(&out);

    lg_sse_append_field_lines(&out, "data", "", 0);
    assert_string_equal(out.data, "data: \n");
    lg_buf_reset(&out);

    lg_sse_append_field_lines(&out, "data", "end\n", 4);
    assert_string_equal(out.data, "data: end\ndata: \n");
    lg_buf_free(&out);
}

static void sse_notices_are_named_events(void **state)
{
    lg_notice reset = {.kind = LG_NOTICE_RESET, .channel = "a", .reason = "evicted"};
    lg_notice gap = {.kind = LG_NOTICE_GAP, .channel = "a", .dropped = 12};
    lg_notice subscribed = {.kind = LG_NOTICE_SUBSCRIBED, .channel = "a", .recovered = 1};
    lg_notice failed = {.kind = LG_NOTICE_ERROR, .channel = "a", .reason = "limit \"x\""};
    lg_buf out = LG_BUF_INIT;

    lg_sse_encode_notice(&reset, &out);
    assert_string_equal(out.data, "event: reset\ndata: {\"channel\":\"a\",\"reason\":\"evicted\"}\n\n");
    lg_buf_reset(&out);

    lg_sse_encode_notice(&gap, &out);
    assert_string_equal(out.data, "event: gap\ndata: {\"channel\":\"a\",\"dropped\":12}\n\n");
    lg_buf_reset(&out);

    lg_sse_encode_notice(&subscribed, &out);
    assert_string_equal(out.data, "event: subscribed\ndata: {\"channel\":\"a\",\"recovered\":true}\n\n");
    lg_buf_reset(&out);

    lg_sse_encode_notice(&failed, &out);
    assert_string_equal(out.data, "event: subscribe_error\ndata: {\"channel\":\"a\",\"message\":\"limit \\\"x\\\"\"}\n\n");
    lg_buf_free(&out);
}

static void sse_heartbeat_is_comment(void **state)
{
    lg_buf out = LG_BUF_INIT;

    lg_sse_encode_heartbeat(&out);
    assert_int_equal(out.data[0], ':');
    assert_string_equal(out.data + out.len - 2, "\n\n");
    lg_buf_free(&out);
}

static int json_ok(const char *text)
{
    return lg_json_is_valid(text, strlen(text));
}

static void json_validity_check(void **state)
{
    char deep[1300];

    assert_true(json_ok("{\"a\":[1,2,{}]}"));
    assert_true(json_ok("null"));
    assert_true(json_ok("\"s\""));
    assert_true(json_ok(" 12.5 "));
    assert_true(json_ok("18446744073709551616123"));
    assert_true(json_ok("[1e400,-0.5E-3,\"\\u00e9\\n\"]"));
    assert_true(json_ok("\"\xc3\xa9\""));
    assert_false(json_ok("{\"a\":"));
    assert_false(json_ok("hello"));
    assert_false(json_ok("1 2"));
    assert_false(json_ok(""));
    assert_false(json_ok("\"\xc3\""));
    assert_false(json_ok("\"\xed\xa0\x80\""));
    assert_false(json_ok("01"));
    assert_false(json_ok("[1,]"));
    assert_false(json_ok("{\"a\" 1}"));
    assert_false(json_ok("\"tab\there\""));
    assert_false(json_ok("tru"));
    assert_false(json_ok("[[[[[[[[[["));

    memset(deep, '[', 600);
    memset(deep + 600, ']', 600);
    deep[1200] = '\0';
    assert_false(json_ok(deep));
    assert_true(lg_json_is_valid(deep + 100, 1000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sse_plain_event_frame),
        cmocka_unit_test(sse_typed_event_has_event_line),
        cmocka_unit_test(sse_non_json_data_is_string),
        cmocka_unit_test(sse_type_with_newline_cannot_inject),
        cmocka_unit_test(sse_id_with_cr_cannot_inject),
        cmocka_unit_test(sse_lone_cr_in_payload_stays_data),
        cmocka_unit_test(sse_json_with_line_breaks_is_split),
        cmocka_unit_test(sse_field_lines_split_each_ending),
        cmocka_unit_test(sse_notices_are_named_events),
        cmocka_unit_test(sse_heartbeat_is_comment),
        cmocka_unit_test(json_validity_check),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
