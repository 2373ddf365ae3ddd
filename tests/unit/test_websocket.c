/* Unit tests of the WebSocket sink's handshake checks, frame encoding and command parsing. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ws_deflate.h"
#include "ws_handshake.h"
#include "ws_message.h"
#include "ws_protocol.h"

static lg_ws_request good_request(void)
{
    return (lg_ws_request){
        .method = "GET",
        .upgrade = "websocket",
        .connection = "keep-alive, Upgrade",
        .version = "13",
        .key = "dGhlIHNhbXBsZSBub25jZQ==",
    };
}

static void handshake_accept_key_matches_rfc(void **state)
{
    char accept[LG_WS_ACCEPT_BYTES];

    lg_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", accept);
    assert_string_equal(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void handshake_accepts_valid_request(void **state)
{
    lg_ws_request req = good_request();
    lg_error err;

    assert_int_equal(lg_ws_check_request(&req, &err), 0);
    req.upgrade = "WebSocket";
    req.connection = "upgrade";
    assert_int_equal(lg_ws_check_request(&req, &err), 0);
}

static void handshake_rejects_bad_requests(void **state)
{
    lg_ws_request req;
    lg_error err;

    req = good_request();
    req.method = "POST";
    assert_int_equal(lg_ws_check_request(&req, &err), 405);

    req = good_request();
    req.upgrade = NULL;
    assert_int_equal(lg_ws_check_request(&req, &err), 426);

    req = good_request();
    req.upgrade = "h2c";
    assert_int_equal(lg_ws_check_request(&req, &err), 426);

    req = good_request();
    req.version = "8";
    assert_int_equal(lg_ws_check_request(&req, &err), 426);
    assert_non_null(strstr(err.message, "only 13"));

    req = good_request();
    req.connection = "keep-alive";
    assert_int_equal(lg_ws_check_request(&req, &err), 400);

    req = good_request();
    req.http_1_0 = 1;
    assert_int_equal(lg_ws_check_request(&req, &err), 400);
}

static void handshake_rejects_bad_keys(void **state)
{
    const char *const keys[] = {NULL, "", "short==", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ=!",
                                "dGhlIHNhbXBsZSBub2 jZQ==", "dGhlIHNhbXBsZSBub25jZQ==="};
    lg_error err;

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        lg_ws_request req = good_request();

        req.key = keys[i];
        assert_int_equal(lg_ws_check_request(&req, &err), 400);
    }
}

static void handshake_header_tokens(void **state)
{
    assert_true(lg_ws_header_has_token("keep-alive, Upgrade", "upgrade"));
    assert_true(lg_ws_header_has_token(" upgrade ", "upgrade"));
    assert_false(lg_ws_header_has_token("upgrades", "upgrade"));
    assert_false(lg_ws_header_has_token("", "upgrade"));
    assert_false(lg_ws_header_has_token(NULL, "upgrade"));
}

static void handshake_chooses_subprotocol(void **state)
{
    char *items[] = {"livegate.v1", "json"};
    lg_string_list supported = {2, items};

    assert_string_equal(lg_ws_choose_subprotocol("x, livegate.v1", &supported), "livegate.v1");
    assert_string_equal(lg_ws_choose_subprotocol("json,livegate.v1", &supported), "json");
    assert_null(lg_ws_choose_subprotocol("x, y", &supported));
    assert_null(lg_ws_choose_subprotocol(NULL, &supported));
    assert_null(lg_ws_choose_subprotocol("livegate", &supported));
}

static void frame_length_encodings(void **state)
{
    const size_t lengths[] = {0, 125, 126, 65535, 65536};
    const size_t headers[] = {2, 2, 4, 4, 10};
    char *payload = calloc(1, 65536);

    for (size_t i = 0; i < 5; i++) {
        lg_buf out = LG_BUF_INIT;

        lg_ws_append_frame(&out, LG_WS_OPCODE_TEXT, payload, lengths[i]);
        assert_int_equal(out.len, headers[i] + lengths[i]);
        assert_int_equal((uint8_t)out.data[0], 0x81);
        if (headers[i] == 2)
            assert_int_equal((uint8_t)out.data[1], lengths[i]);
        else if (headers[i] == 4)
            assert_int_equal((uint8_t)out.data[1], 126);
        else
            assert_int_equal((uint8_t)out.data[1], 127);
        lg_buf_free(&out);
    }

    lg_buf out = LG_BUF_INIT;
    lg_ws_append_frame(&out, LG_WS_OPCODE_TEXT, payload, 65536);
    assert_int_equal((uint8_t)out.data[7], 1);
    assert_int_equal((uint8_t)out.data[8], 0);
    lg_buf_free(&out);
    free(payload);
}

static void frame_close_cuts_reason(void **state)
{
    char reason[200];
    lg_buf out = LG_BUF_INIT;

    memset(reason, 'r', sizeof(reason) - 1);
    reason[sizeof(reason) - 1] = '\0';
    /* A two-byte character straddles the 123-byte limit. */
    reason[122] = (char)0xC3;
    reason[123] = (char)0xA9;
    lg_ws_append_close(&out, 1008, reason);

    assert_int_equal((uint8_t)out.data[0], 0x88);
    assert_int_equal((uint8_t)out.data[1], 2 + 122);
    assert_int_equal((uint8_t)out.data[2], 0x03);
    assert_int_equal((uint8_t)out.data[3], 0xF0);
    lg_buf_free(&out);
}

static void message_event_frame(void **state)
{
    lg_event *event = lg_event_new("AAPL", "tick", "{\"p\":1}", 7, 1700000000000);
    lg_buf out = LG_BUF_INIT;

    event->id = strdup("e-1");
    event->channel_name = "prices.a";
    lg_ws_encode_event(event, &out);
    assert_int_equal((uint8_t)out.data[0], 0x81);
    assert_memory_equal(out.data + 2,
                        "{\"type\":\"event\",\"event\":\"tick\",\"channel\":\"prices.a\",\"id\":\"e-1\","
                        "\"time\":1700000000000,\"key\":\"AAPL\",\"data\":{\"p\":1}}",
                        (size_t)(uint8_t)out.data[1]);
    lg_buf_free(&out);
    lg_event_unref(event);
}

static void message_notices(void **state)
{
    lg_notice reset = {.kind = LG_NOTICE_RESET, .channel = "a", .reason = "evicted"};
    lg_notice failed = {.kind = LG_NOTICE_ERROR, .channel = "a", .reason = "no"};
    lg_buf out = LG_BUF_INIT;

    lg_ws_encode_notice(&reset, &out);
    assert_memory_equal(out.data + 2, "{\"type\":\"reset\",\"channel\":\"a\",\"reason\":\"evicted\"}", out.len - 2);
    lg_buf_reset(&out);
    lg_ws_encode_notice(&failed, &out);
    assert_memory_equal(out.data + 2, "{\"type\":\"error\",\"channel\":\"a\",\"message\":\"no\"}", out.len - 2);
    lg_buf_free(&out);
}

static int parse(const char *text, lg_ws_command *cmd, lg_error *err)
{
    return lg_ws_parse_command(text, strlen(text), 3, cmd, err);
}

static void protocol_parses_subscribe(void **state)
{
    lg_ws_command cmd;
    lg_error err;

    assert_int_equal(parse("{\"op\":\"subscribe\",\"channel\":\"a\",\"last_event_id\":\"e-4\",\"max_rate\":2.5}",
                           &cmd, &err),
                     0);
    assert_int_equal(cmd.op, LG_WS_OP_SUBSCRIBE);
    assert_int_equal(cmd.channel_count, 1);
    assert_string_equal(cmd.channels[0], "a");
    assert_string_equal(cmd.last_event_id, "e-4");
    assert_true(cmd.max_rate == 2.5);
    lg_ws_command_free(&cmd);

    assert_int_equal(parse("{\"op\":\"subscribe\",\"channels\":[\"a\",\"b\"],\"future\":1}", &cmd, &err), 0);
    assert_int_equal(cmd.channel_count, 2);
    assert_string_equal(cmd.channels[1], "b");
    assert_null(cmd.last_event_id);
    lg_ws_command_free(&cmd);
}

static void protocol_parses_ping_and_unsubscribe(void **state)
{
    lg_ws_command cmd;
    lg_error err;

    assert_int_equal(parse("{\"op\":\"ping\",\"data\":{\"x\":[1,null]}}", &cmd, &err), 0);
    assert_int_equal(cmd.op, LG_WS_OP_PING);
    assert_string_equal(cmd.ping_data, "{\"x\":[1,null]}");
    lg_ws_command_free(&cmd);

    assert_int_equal(parse("{\"op\":\"unsubscribe\",\"channel\":\"a\"}", &cmd, &err), 0);
    assert_int_equal(cmd.op, LG_WS_OP_UNSUBSCRIBE);
    lg_ws_command_free(&cmd);
}

static void protocol_keeps_ping_data_bytes(void **state)
{
    const char *const cases[][2] = {
        {"{\"op\":\"ping\",\"data\":0.1}", "0.1"},
        {"{\"op\":\"ping\",\"data\":123456789012345678901234567890}", "123456789012345678901234567890"},
        {"{\"data\" : [ 1.50, {\"d\":\"}\\\"]\"} ] ,\"op\":\"ping\"}", "[ 1.50, {\"d\":\"}\\\"]\"} ]"},
        {"{\"op\":\"ping\",\"x\":{\"data\":1},\"data\":\"a\\u0000b\"}", "\"a\\u0000b\""},
        {"{\"op\":\"ping\",\"d\\u0061ta\":-0e5}", "-0e5"},
        {"{\"op\":\"ping\",\"data\":null}", "null"},
    };
    lg_ws_command cmd;
    lg_error err;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(parse(cases[i][0], &cmd, &err), 0);
        assert_string_equal(cmd.ping_data, cases[i][1]);
        lg_ws_command_free(&cmd);
    }

    assert_int_equal(parse("{\"op\":\"ping\"}", &cmd, &err), 0);
    assert_null(cmd.ping_data);
    lg_ws_command_free(&cmd);
}

static void protocol_rejects_bad_commands(void **state)
{
    const char *const cases[][2] = {
        {"not json", "invalid JSON at line 1"},
        {"[1]", "must be a JSON object"},
        {"{}", "missing \"op\""},
        {"{\"op\":3}", "must be a string"},
        {"{\"op\":\"dance\"}", "unknown op 'dance'"},
        {"{\"op\":\"subscribe\"}", "missing \"channel\""},
        {"{\"op\":\"subscribe\",\"channel\":1}", "\"channel\" must be a string"},
        {"{\"op\":\"subscribe\",\"channel\":\"a\",\"channels\":[\"b\"]}", "not both"},
        {"{\"op\":\"subscribe\",\"channels\":[]}", "non-empty list"},
        {"{\"op\":\"subscribe\",\"channels\":[\"a\",2]}", "\"channels\"[1] must be a string"},
        {"{\"op\":\"subscribe\",\"channels\":[\"a\",\"b\",\"c\",\"d\"]}", "the limit is 3"},
        {"{\"op\":\"subscribe\",\"channel\":\"a\",\"max_rate\":-1}", "\"max_rate\" must be"},
        {"{\"op\":\"subscribe\",\"channel\":\"a\",\"last_event_id\":5}", "\"last_event_id\" must be a string"},
        {"{\"op\":\"ping\",\"op\":\"ping\"}", "invalid JSON"},
        {"{\"op\":\"ping\\u0000x\"}", "\"op\" contains a NUL character"},
        {"{\"op\":\"subscribe\",\"channel\":\"a\\u0000b\"}", "\"channel\" contains a NUL character"},
        {"{\"op\":\"subscribe\",\"channels\":[\"a\",\"\\u0000\"]}", "\"channels\" contains a NUL character"},
        {"{\"op\":\"subscribe\",\"channel\":\"a\",\"last_event_id\":\"x\\u0000\"}",
         "\"last_event_id\" contains a NUL character"},
    };
    lg_ws_command cmd;
    lg_error err;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(parse(cases[i][0], &cmd, &err), -1);
        assert_non_null(strstr(err.message, cases[i][1]));
        assert_int_equal(cmd.channel_count, 0);
    }
}

static void deflate_round_trip(void **state)
{
    const char *text = "{\"type\":\"event\",\"channel\":\"prices.AAPL\",\"data\":{\"bid\":101.25,\"ask\":101.27}}"
                       "{\"type\":\"event\",\"channel\":\"prices.AAPL\",\"data\":{\"bid\":101.25,\"ask\":101.27}}";
    lg_buf packed = LG_BUF_INIT;
    lg_buf plain = LG_BUF_INIT;
    lg_error err;

    assert_int_equal(lg_ws_deflate(text, strlen(text), &packed), 0);
    assert_true(packed.len < strlen(text));
    /* The sync-flush tail is removed, as RFC 7692 requires. */
    assert_false(packed.len >= 4 && memcmp(packed.data + packed.len - 4, "\x00\x00\xff\xff", 4) == 0);
    assert_int_equal(lg_ws_inflate(packed.data, packed.len, 4096, &plain, &err), 0);
    assert_int_equal(plain.len, strlen(text));
    assert_memory_equal(plain.data, text, plain.len);
    lg_buf_free(&packed);
    lg_buf_free(&plain);
}

static void deflate_inflate_stops_at_limit(void **state)
{
    char *zeros = calloc(1, 1 << 20);
    lg_buf packed = LG_BUF_INIT;
    lg_buf plain = LG_BUF_INIT;
    lg_error err;

    assert_int_equal(lg_ws_deflate(zeros, 1 << 20, &packed), 0);
    assert_true(packed.len < (1 << 20) / 64);
    assert_int_equal(lg_ws_inflate(packed.data, packed.len, 65536, &plain, &err), -1);
    assert_non_null(strstr(err.message, "more than 65536 bytes"));
    assert_true(plain.len <= 65536 + 16384);
    lg_buf_free(&packed);
    lg_buf_free(&plain);
    free(zeros);
}

static void deflate_rejects_garbage(void **state)
{
    lg_buf plain = LG_BUF_INIT;
    lg_error err;

    assert_int_equal(lg_ws_inflate("\xff\xff\xff\xff", 4, 4096, &plain, &err), -1);
    assert_non_null(strstr(err.message, "invalid compressed data"));
    lg_buf_free(&plain);
}

/* 03 00 is a final fixed-Huffman block holding nothing: a whole raw deflate stream. */
static void deflate_inflate_rejects_data_after_final_block(void **state)
{
    lg_buf plain = LG_BUF_INIT;
    lg_error err;

    assert_int_equal(lg_ws_inflate("\x03\x00", 2, 4096, &plain, &err), 0);
    assert_int_equal(plain.len, 0);
    lg_buf_free(&plain);

    assert_int_equal(lg_ws_inflate("\x03\x00junk", 6, 4096, &plain, &err), -1);
    assert_non_null(strstr(err.message, "4 bytes after the final deflate block"));
    lg_buf_free(&plain);
}

static void deflate_offer_parsing(void **state)
{
    static const struct {
        const char *header;
        int accepted;
        int server_window_bits;
    } cases[] = {
        {"permessage-deflate", 1, 0},
        {"permessage-deflate; client_max_window_bits", 1, 0},
        {"permessage-deflate; client_max_window_bits=8", 1, 0},
        {"permessage-deflate; client_max_window_bits=\"10\"", 1, 0},
        {"x-webkit-deflate-frame, permessage-deflate; server_no_context_takeover", 1, 0},
        {"permessage-deflate; server_max_window_bits=15", 1, 15},
        {"permessage-deflate; server_max_window_bits = 12", 1, 12},
        {"permessage-deflate; server_max_window_bits=10", 0, 0},
        {"permessage-deflate; server_max_window_bits=XYZ", 0, 0},
        {"permessage-deflate; server_max_window_bits", 0, 0},
        {"permessage-deflate; client_max_window_bits=7", 0, 0},
        {"permessage-deflate; client_max_window_bits=16", 0, 0},
        {"permessage-deflate; client_max_window_bits=abc", 0, 0},
        {"permessage-deflate; client_max_window_bits=09", 0, 0},
        {"permessage-deflate; client_max_window_bits=", 0, 0},
        {"permessage-deflate; client_max_window_bits; client_max_window_bits", 0, 0},
        {"permessage-deflate; server_no_context_takeover; server_no_context_takeover", 0, 0},
        {"permessage-deflate; server_no_context_takeover=1", 0, 0},
        {"permessage-deflate; client_max_window_bits=7, permessage-deflate", 1, 0},
        {"permessage-deflate; server_max_window_bits=9, permessage-deflate; server_max_window_bits=13", 1, 13},
        {"permessage-deflate; unknown_param", 0, 0},
        {"x-webkit-deflate-frame", 0, 0},
    };
    int bits;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bits = -1;
        if (lg_ws_deflate_offered(cases[i].header, &bits) != cases[i].accepted)
            fail_msg("offer '%s': expected %s", cases[i].header, cases[i].accepted ? "accepted" : "declined");
        if (cases[i].accepted)
            assert_int_equal(bits, cases[i].server_window_bits);
    }
    assert_false(lg_ws_deflate_offered(NULL, &bits));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake_accept_key_matches_rfc),
        cmocka_unit_test(handshake_accepts_valid_request),
        cmocka_unit_test(handshake_rejects_bad_requests),
        cmocka_unit_test(handshake_rejects_bad_keys),
        cmocka_unit_test(handshake_header_tokens),
        cmocka_unit_test(handshake_chooses_subprotocol),
        cmocka_unit_test(frame_length_encodings),
        cmocka_unit_test(frame_close_cuts_reason),
        cmocka_unit_test(message_event_frame),
        cmocka_unit_test(message_notices),
        cmocka_unit_test(protocol_parses_subscribe),
        cmocka_unit_test(protocol_parses_ping_and_unsubscribe),
        cmocka_unit_test(protocol_keeps_ping_data_bytes),
        cmocka_unit_test(protocol_rejects_bad_commands),
        cmocka_unit_test(deflate_round_trip),
        cmocka_unit_test(deflate_inflate_stops_at_limit),
        cmocka_unit_test(deflate_inflate_rejects_data_after_final_block),
        cmocka_unit_test(deflate_rejects_garbage),
        cmocka_unit_test(deflate_offer_parsing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
