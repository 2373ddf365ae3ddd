/* Unit tests of option tables: every type, defaults, errors with positions, freeing and help output. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"

#define TEST_FILE "test.yaml"
#define KIB INT64_C(1024)
#define GIB (KIB * KIB * KIB)
#define HOUR_MS INT64_C(3600000)

typedef struct admin_conf {
    char *token;
    int64_t port;
} admin_conf;

typedef struct channel_conf {
    char *match;
    int64_t history;
} channel_conf;

typedef struct server_conf {
    char *name;
    int64_t workers;
    int verbose;
    double ratio;
    int64_t interval_ms;
    int64_t max_bytes;
    int overflow;
    lg_string_list hosts;
    admin_conf admin;
    lg_table_list channels;
    char *password;
} server_conf;

typedef struct pin_conf {
    int64_t pin;
} pin_conf;

static const char *const overflow_choices[] = {"conflate", "drop", "disconnect", NULL};

static const lg_option admin_options[] = {
    {.name = "token", .type = LG_OPT_STRING, .offset = LG_OPT_FIELD(admin_conf, token), .flags = LG_OPT_SECRET,
     .description = "Bearer token of admin requests."},
    {.name = "port", .type = LG_OPT_INT, .offset = LG_OPT_FIELD(admin_conf, port), .default_value = "8081",
     .min = 1, .max = 65535, .description = "TCP port of the admin listener."},
    {0},
};

static const lg_option channel_options[] = {
    {.name = "match", .type = LG_OPT_STRING, .offset = LG_OPT_FIELD(channel_conf, match), .flags = LG_OPT_REQUIRED,
     .description = "Channel name or glob."},
    {.name = "history", .type = LG_OPT_INT, .offset = LG_OPT_FIELD(channel_conf, history), .default_value = "100",
     .min = 0, .max = 10000, .description = "Events kept for resume."},
    {0},
};

static const lg_option server_options[] = {
    {.name = "name", .type = LG_OPT_STRING, .offset = LG_OPT_FIELD(server_conf, name), .default_value = "gateway",
     .description = "Name of this node."},
    {.name = "workers", .type = LG_OPT_INT, .offset = LG_OPT_FIELD(server_conf, workers), .default_value = "4",
     .min = 1, .max = 64, .description = "Worker threads."},
    {.name = "verbose", .type = LG_OPT_BOOL, .offset = LG_OPT_FIELD(server_conf, verbose), .default_value = "false",
     .description = "Log every request."},
    {.name = "ratio", .type = LG_OPT_DOUBLE, .offset = LG_OPT_FIELD(server_conf, ratio), .default_value = "0.5",
     .description = "Sampling ratio."},
    {.name = "interval", .type = LG_OPT_DURATION, .offset = LG_OPT_FIELD(server_conf, interval_ms),
     .default_value = "1s", .min = 100, .max = HOUR_MS, .description = "Time between two reads of /proc."},
    {.name = "max_bytes", .type = LG_OPT_SIZE, .offset = LG_OPT_FIELD(server_conf, max_bytes),
     .default_value = "64KiB", .min = KIB, .max = GIB, .description = "Queue limit per client."},
    {.name = "overflow", .type = LG_OPT_ENUM, .offset = LG_OPT_FIELD(server_conf, overflow),
     .default_value = "conflate", .choices = overflow_choices, .description = "Policy when a queue is full."},
    {.name = "hosts", .type = LG_OPT_STRING_LIST, .offset = LG_OPT_FIELD(server_conf, hosts),
     .default_value = "[a.example, b.example]", .description = "Upstream hosts."},
    {.name = "admin", .type = LG_OPT_TABLE, .offset = LG_OPT_FIELD(server_conf, admin), .table = admin_options,
     .description = "Admin listener."},
    {.name = "channels", .type = LG_OPT_TABLE_LIST, .offset = LG_OPT_FIELD(server_conf, channels),
     .table = channel_options, .table_size = sizeof(channel_conf), .description = "Channel rules."},
    {.name = "password", .type = LG_OPT_STRING, .offset = LG_OPT_FIELD(server_conf, password),
     .default_value = "hunter2", .flags = LG_OPT_SECRET, .description = "Upstream password."},
    {0},
};

typedef struct tls_conf {
    char *cert;
} tls_conf;

typedef struct listener_conf {
    char *name;
    tls_conf tls;
} listener_conf;

static const lg_option tls_options[] = {
    {.name = "cert", .type = LG_OPT_STRING, .offset = LG_OPT_FIELD(tls_conf, cert), .flags = LG_OPT_REQUIRED,
     .description = "Certificate file."},
    {0},
};

static const lg_option listener_options[] = {
    {.name = "name", .type = LG_OPT_STRING, .offset = LG_OPT_FIELD(listener_conf, name), .description = "Name."},
    {.name = "tls", .type = LG_OPT_TABLE, .offset = LG_OPT_FIELD(listener_conf, tls), .table = tls_options,
     .description = "TLS settings."},
    {0},
};

static const lg_option pin_options[] = {
    {.name = "pin", .type = LG_OPT_INT, .offset = LG_OPT_FIELD(pin_conf, pin), .flags = LG_OPT_SECRET, .min = 1000,
     .max = 9999, .description = "Secret PIN."},
    {0},
};

static void assert_contains(const char *text, const char *part)
{
    if (strstr(text, part) == NULL)
        fail_msg("'%s' does not contain '%s'", text, part);
}

static lg_conf_doc *load(const char *text)
{
    lg_error err;
    lg_conf_doc *doc = lg_conf_load_string(TEST_FILE, text, strlen(text), &err);

    if (doc == NULL)
        fail_msg("test YAML is invalid: %s", err.message);
    return doc;
}

/* Parse TEXT with TABLE into TARGET under context "server". Returns the
 * result of lg_options_parse, with ERR filled on failure. */
static int parse(const lg_option *table, const char *text, void *target, lg_error *err)
{
    lg_conf_doc *doc = load(text);
    int rc;

    lg_error_clear(err);
    rc = lg_options_parse(table, doc->root, target, NULL, "server", err);
    lg_conf_free(doc);
    return rc;
}

/* Parse TEXT, which must fail, free what was stored and return the message. */
static const char *parse_error(const lg_option *table, const char *text, void *target, lg_error *err)
{
    if (parse(table, text, target, err) == 0)
        fail_msg("parsing succeeded, expected an error for:\n%s", text);
    lg_options_free(table, target);
    return err->message;
}

static void options_all_types(void **state)
{
    const char *text = "name: edge-1\n"
                       "workers: 8\n"
                       "verbose: true\n"
                       "ratio: 0.25\n"
                       "interval: 1.5s\n"
                       "max_bytes: 2MiB\n"
                       "overflow: disconnect\n"
                       "hosts: [x.example, y.example, z.example]\n"
                       "admin:\n"
                       "  token: s3cret\n"
                       "  port: 9000\n"
                       "channels:\n"
                       "  - match: prices.*\n"
                       "    history: 500\n"
                       "password: pw\n";
    server_conf conf = {0};
    channel_conf *channel;
    lg_error err;

    (void)state;
    assert_int_equal(parse(server_options, text, &conf, &err), 0);
    assert_string_equal(conf.name, "edge-1");
    assert_int_equal(conf.workers, 8);
    assert_int_equal(conf.verbose, 1);
    assert_true(conf.ratio == 0.25);
    assert_int_equal(conf.interval_ms, 1500);
    assert_int_equal(conf.max_bytes, 2 * KIB * KIB);
    assert_int_equal(conf.overflow, 2);
    assert_int_equal(conf.hosts.count, 3);
    assert_string_equal(conf.hosts.items[2], "z.example");
    assert_string_equal(conf.admin.token, "s3cret");
    assert_int_equal(conf.admin.port, 9000);
    assert_int_equal(conf.channels.count, 1);
    channel = conf.channels.items;
    assert_string_equal(channel->match, "prices.*");
    assert_int_equal(channel->history, 500);
    assert_string_equal(conf.password, "pw");
    lg_options_free(server_options, &conf);
}

static void options_defaults(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_int_equal(lg_options_parse(server_options, NULL, &conf, NULL, "server", &err), 0);
    assert_string_equal(conf.name, "gateway");
    assert_int_equal(conf.workers, 4);
    assert_int_equal(conf.verbose, 0);
    assert_true(conf.ratio == 0.5);
    assert_int_equal(conf.interval_ms, 1000);
    assert_int_equal(conf.max_bytes, 64 * KIB);
    assert_int_equal(conf.overflow, 0);
    assert_int_equal(conf.hosts.count, 2);
    assert_string_equal(conf.hosts.items[0], "a.example");
    assert_string_equal(conf.hosts.items[1], "b.example");
    assert_null(conf.admin.token);
    assert_int_equal(conf.admin.port, 8081);
    assert_int_equal(conf.channels.count, 0);
    assert_null(conf.channels.items);
    assert_string_equal(conf.password, "hunter2");
    lg_options_free(server_options, &conf);
}

static void options_null_keeps_default(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_int_equal(parse(server_options, "workers: ~\nname:\nadmin:\n", &conf, &err), 0);
    assert_int_equal(conf.workers, 4);
    assert_string_equal(conf.name, "gateway");
    assert_int_equal(conf.admin.port, 8081);
    lg_options_free(server_options, &conf);
}

static void options_nested_default_kept(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_int_equal(parse(server_options, "admin:\n  token: t\n", &conf, &err), 0);
    assert_string_equal(conf.admin.token, "t");
    assert_int_equal(conf.admin.port, 8081);
    lg_options_free(server_options, &conf);
}

static void options_string_accepts_scalars(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_int_equal(parse(server_options, "name: 42\npassword: true\n", &conf, &err), 0);
    assert_string_equal(conf.name, "42");
    assert_string_equal(conf.password, "true");
    lg_options_free(server_options, &conf);
}

static void options_empty_string_kept(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_int_equal(parse(server_options, "name: ''\n", &conf, &err), 0);
    assert_non_null(conf.name);
    assert_string_equal(conf.name, "");
    lg_options_free(server_options, &conf);
}

static void options_string_list_scalar(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_int_equal(parse(server_options, "hosts: only.example\n", &conf, &err), 0);
    assert_int_equal(conf.hosts.count, 1);
    assert_string_equal(conf.hosts.items[0], "only.example");
    lg_options_free(server_options, &conf);
}

static void options_string_list_empty(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_int_equal(parse(server_options, "hosts: []\n", &conf, &err), 0);
    assert_int_equal(conf.hosts.count, 0);
    lg_options_free(server_options, &conf);
}

static void options_ignored_keys(void **state)
{
    static const char *const ignored[] = {"name", "type", NULL};
    lg_conf_doc *doc = load("name: host\ntype: sysmetrics\nmatch: a\n");
    channel_conf conf = {0};
    lg_error err;

    (void)state;
    assert_int_equal(lg_options_parse(channel_options, doc->root, &conf, ignored, "source 'host'", &err), 0);
    assert_string_equal(conf.match, "a");
    lg_options_free(channel_options, &conf);
    lg_conf_free(doc);
}

static void options_unknown_key(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(server_options, "workers: 2\nwrokers: 3\n", &conf, &err),
                        TEST_FILE ":2:1: server: unknown option 'wrokers', valid options are: name, workers, "
                                  "verbose, ratio, interval, max_bytes, overflow, hosts, admin, channels, password");
}

static void options_unknown_key_lists_ignored(void **state)
{
    static const char *const ignored[] = {"type", NULL};
    lg_conf_doc *doc = load("typo: 1\n");
    channel_conf conf = {0};
    lg_error err;

    (void)state;
    assert_int_equal(lg_options_parse(channel_options, doc->root, &conf, ignored, "channel", &err), -1);
    assert_string_equal(err.message,
                        TEST_FILE ":1:1: channel: unknown option 'typo', valid options are: match, history, type");
    lg_options_free(channel_options, &conf);
    lg_conf_free(doc);
}

static void options_string_given_map(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(server_options, "name: {a: 1}\n", &conf, &err),
                        TEST_FILE ":1:7: server: option 'name' expects a string, got a mapping");
}

static void options_int_given_text(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(server_options, "workers: abc\n", &conf, &err),
                        TEST_FILE ":1:10: server: option 'workers' expects an integer, got 'abc'");
}

static void options_int_trailing_junk(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_contains(parse_error(server_options, "workers: 4x\n", &conf, &err), "expects an integer, got '4x'");
    assert_contains(parse_error(server_options, "workers: \" 4\"\n", &conf, &err), "expects an integer");
    assert_contains(parse_error(server_options, "workers: 4.0\n", &conf, &err), "expects an integer");
}

static void options_int_overflow(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_contains(parse_error(server_options, "workers: 99999999999999999999\n", &conf, &err),
                    "expects an integer, got '99999999999999999999' (out of the 64-bit range)");
    assert_contains(parse_error(server_options, "workers: -99999999999999999999\n", &conf, &err),
                    "expects an integer, got '-99999999999999999999' (out of the 64-bit range)");
}

static void options_bool_given_yes(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(server_options, "verbose: yes\n", &conf, &err),
                        TEST_FILE ":1:10: server: option 'verbose' expects true or false, got 'yes'");
}

static void options_double_invalid(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_contains(parse_error(server_options, "ratio: half\n", &conf, &err),
                    "option 'ratio' expects a finite number, got 'half'");
    assert_contains(parse_error(server_options, "ratio: 1e999\n", &conf, &err),
                    "option 'ratio' expects a finite number, got '1e999'");
}

static void options_duration_without_unit(void **state)
{
    server_conf conf = {0};
    lg_error err;
    const char *message;

    (void)state;
    message = parse_error(server_options, "interval: 5\n", &conf, &err);
    assert_contains(message, TEST_FILE ":1:11: server: option 'interval' expects a duration with a unit "
                             "such as 500ms, 2s or 5m, got '5'");
    assert_contains(message, "add a unit");
}

static void options_duration_invalid(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(server_options, "interval: abc\n", &conf, &err),
                        TEST_FILE ":1:11: server: option 'interval' expects a duration with a unit "
                                  "such as 500ms, 2s or 5m, got 'abc'");
}

static void options_size_bad_unit(void **state)
{
    server_conf conf = {0};
    lg_error err;
    const char *message;

    (void)state;
    message = parse_error(server_options, "max_bytes: 10kb\n", &conf, &err);
    assert_contains(message, TEST_FILE ":1:12: server: option 'max_bytes' expects a size");
    assert_contains(message, "KiB");
    assert_contains(message, "got '10kb'");
}

static void options_size_overflow(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_contains(parse_error(server_options, "max_bytes: 99999999999GiB\n", &conf, &err),
                    "got '99999999999GiB' (too large)");
}

static void options_enum_bad_choice(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(server_options, "overflow: queue\n", &conf, &err),
                        TEST_FILE ":1:11: server: option 'overflow' expects one of: conflate, drop, disconnect, "
                                  "got 'queue'");
}

static void options_list_given_map(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(server_options, "hosts: {a: 1}\n", &conf, &err),
                        TEST_FILE ":1:8: server: option 'hosts' expects a list of strings, got a mapping");
}

static void options_list_item_not_string(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(server_options, "hosts:\n  - a\n  - [b]\n", &conf, &err),
                        TEST_FILE ":3:5: server: option 'hosts' expects a list of strings, got a list in the list");
}

static void options_table_given_list(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(server_options, "admin: [1]\n", &conf, &err),
                        TEST_FILE ":1:8: server: option 'admin' expects a mapping, got a list");
}

static void options_table_list_given_map(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(server_options, "channels: {match: a}\n", &conf, &err),
                        TEST_FILE ":1:11: server: option 'channels' expects a list of mappings, got a mapping");
}

static void options_bounds_int(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(server_options, "workers: 100\n", &conf, &err),
                        TEST_FILE ":1:10: server: option 'workers' must be between 1 and 64, got '100'");
    assert_contains(parse_error(server_options, "workers: 0\n", &conf, &err), "must be between 1 and 64, got '0'");
}

static void options_bounds_inclusive(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_int_equal(parse(server_options, "workers: 64\ninterval: 100ms\nmax_bytes: 1GiB\n", &conf, &err), 0);
    assert_int_equal(conf.workers, 64);
    assert_int_equal(conf.interval_ms, 100);
    assert_int_equal(conf.max_bytes, GIB);
    lg_options_free(server_options, &conf);
}

static void options_bounds_duration(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(server_options, "interval: 2h\n", &conf, &err),
                        TEST_FILE ":1:11: server: option 'interval' must be between 100ms and 1h, got '2h'");
}

static void options_bounds_size(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(server_options, "max_bytes: 512\n", &conf, &err),
                        TEST_FILE ":1:12: server: option 'max_bytes' must be between 1KiB and 1GiB, got '512'");
}

static void options_required_missing(void **state)
{
    channel_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(channel_options, "history: 5\n", &conf, &err),
                        TEST_FILE ":1:1: server: missing required option 'match'");
}

static void options_required_null(void **state)
{
    channel_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(channel_options, "history: 5\nmatch: ~\n", &conf, &err),
                        TEST_FILE ":2:1: server: missing required option 'match' (its value is null)");
}

static void options_required_no_section(void **state)
{
    channel_conf conf = {0};
    lg_error err;

    (void)state;
    assert_int_equal(lg_options_parse(channel_options, NULL, &conf, NULL, "channel", &err), -1);
    assert_string_equal(err.message, "channel: missing required option 'match'");
    lg_options_free(channel_options, &conf);
}

static void options_required_in_absent_table(void **state)
{
    listener_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(listener_options, "name: public\n", &conf, &err),
                        TEST_FILE ":1:1: server.tls: missing required option 'cert'");
}

static void options_required_in_table(void **state)
{
    listener_conf conf = {0};
    lg_error err;

    (void)state;
    assert_int_equal(parse(listener_options, "tls:\n  cert: a.pem\n", &conf, &err), 0);
    assert_string_equal(conf.tls.cert, "a.pem");
    lg_options_free(listener_options, &conf);
}

static void options_secret_not_echoed(void **state)
{
    pin_conf conf = {0};
    lg_error err;
    const char *message;

    (void)state;
    message = parse_error(pin_options, "pin: abcd-secret\n", &conf, &err);
    assert_string_equal(message, TEST_FILE ":1:6: server: option 'pin' expects an integer, got an invalid value");
    assert_null(strstr(message, "abcd-secret"));
}

static void options_secret_bounds_not_echoed(void **state)
{
    pin_conf conf = {0};
    lg_error err;
    const char *message;

    (void)state;
    message = parse_error(pin_options, "pin: 12345\n", &conf, &err);
    assert_string_equal(message, TEST_FILE ":1:6: server: option 'pin' must be between 1000 and 9999");
    assert_null(strstr(message, "12345"));
}

static void options_table_context(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(server_options, "admin:\n  port: abc\n", &conf, &err),
                        TEST_FILE ":2:9: server.admin: option 'port' expects an integer, got 'abc'");
}

static void options_table_unknown_key(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(server_options, "admin:\n  prot: 1\n", &conf, &err),
                        TEST_FILE ":2:3: server.admin: unknown option 'prot', valid options are: token, port");
}

static void options_table_list_two(void **state)
{
    const char *text = "channels:\n"
                       "  - match: prices.*\n"
                       "    history: 10\n"
                       "  - match: system.cpu\n";
    server_conf conf = {0};
    channel_conf *channels;
    lg_error err;

    (void)state;
    assert_int_equal(parse(server_options, text, &conf, &err), 0);
    assert_int_equal(conf.channels.count, 2);
    channels = conf.channels.items;
    assert_string_equal(channels[0].match, "prices.*");
    assert_int_equal(channels[0].history, 10);
    assert_string_equal(channels[1].match, "system.cpu");
    assert_int_equal(channels[1].history, 100);
    lg_options_free(server_options, &conf);
}

static void options_table_list_error_index(void **state)
{
    const char *text = "channels:\n"
                       "  - match: prices.*\n"
                       "  - match: system.cpu\n"
                       "    history: -5\n";
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(server_options, text, &conf, &err),
                        TEST_FILE ":4:14: server.channels[1]: option 'history' must be between 0 and 10000, got '-5'");
}

static void options_table_list_missing_required(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(server_options, "channels:\n  - match: a\n  - history: 1\n", &conf, &err),
                        TEST_FILE ":3:5: server.channels[1]: missing required option 'match'");
}

static void options_table_list_item_not_map(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_string_equal(parse_error(server_options, "channels: [prices]\n", &conf, &err),
                        TEST_FILE ":1:12: server.channels[0]: expected a mapping, got a string");
}

static void options_section_not_map(void **state)
{
    lg_conf_doc *doc = load("server: [1, 2]\n");
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_int_equal(lg_options_parse(server_options, lg_conf_map_get(doc->root, "server", NULL), &conf, NULL,
                                      "server", &err),
                     -1);
    assert_string_equal(err.message, TEST_FILE ":1:9: server: expected a mapping, got a list");
    lg_options_free(server_options, &conf);
    lg_conf_free(doc);
}

static void options_free_zeroes(void **state)
{
    const char *text = "hosts: [a, b]\n"
                       "admin: {token: t}\n"
                       "channels: [{match: a}, {match: b}]\n";
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_int_equal(parse(server_options, text, &conf, &err), 0);
    lg_options_free(server_options, &conf);
    assert_null(conf.name);
    assert_null(conf.password);
    assert_int_equal(conf.hosts.count, 0);
    assert_null(conf.hosts.items);
    assert_null(conf.admin.token);
    assert_int_equal(conf.channels.count, 0);
    assert_null(conf.channels.items);
}

static void options_parse_twice_replaces(void **state)
{
    server_conf conf = {0};
    lg_error err;

    (void)state;
    assert_int_equal(parse(server_options, "name: first\nchannels: [{match: a}]\n", &conf, &err), 0);
    assert_int_equal(parse(server_options, "hosts: [c]\n", &conf, &err), 0);
    assert_string_equal(conf.name, "gateway");
    assert_int_equal(conf.hosts.count, 1);
    assert_int_equal(conf.channels.count, 0);
    lg_options_free(server_options, &conf);
}

static void options_parse_duration(void **state)
{
    static const struct {
        const char *text;
        int64_t ms;
    } valid[] = {
        {"250ms", 250}, {"2s", 2000}, {"1.5s", 1500}, {"5m", 300000}, {"1h", HOUR_MS}, {"0", 0}, {"0.25m", 15000},
    };
    static const char *const invalid[] = {"5", "abc", "", "-1s", "5 s", "5S", "1.5ms", "s", "1.s", "10d", "0.5"};
    int64_t ms;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        ms = -1;
        assert_int_equal(lg_parse_duration_ms(valid[i].text, &ms), 0);
        assert_int_equal(ms, valid[i].ms);
    }
    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        if (lg_parse_duration_ms(invalid[i], &ms) != -1)
            fail_msg("duration '%s' was accepted", invalid[i]);
    }
}

static void options_parse_size(void **state)
{
    static const struct {
        const char *text;
        int64_t bytes;
    } valid[] = {
        {"512", 512},          {"0", 0},           {"64KiB", 64 * KIB}, {"1MiB", KIB * KIB},
        {"2GiB", 2 * GIB},     {"10KB", 10000},    {"5MB", 5000000},    {"1GB", 1000000000},
        {"1.5KiB", 1536},      {"7B", 7},
    };
    static const char *const invalid[] = {"10kb", "1.5", "GiB", "", "-1", "1 KiB", "1KIB", "0.1B"};
    int64_t bytes;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        bytes = -1;
        assert_int_equal(lg_parse_size_bytes(valid[i].text, &bytes), 0);
        assert_int_equal(bytes, valid[i].bytes);
    }
    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        if (lg_parse_size_bytes(invalid[i], &bytes) != -1)
            fail_msg("size '%s' was accepted", invalid[i]);
        assert_int_equal(errno, EINVAL);
    }
}

static void options_parse_size_overflow(void **state)
{
    int64_t bytes;

    (void)state;
    assert_int_equal(lg_parse_size_bytes("9223372036854775807", &bytes), 0);
    assert_int_equal(bytes, INT64_MAX);
    assert_int_equal(lg_parse_size_bytes("9223372036854775808", &bytes), -1);
    assert_int_equal(errno, ERANGE);
    assert_int_equal(lg_parse_size_bytes("9999999999GiB", &bytes), -1);
    assert_int_equal(errno, ERANGE);
    assert_int_equal(lg_parse_size_bytes("99999999999999999999999999999", &bytes), -1);
    assert_int_equal(errno, ERANGE);
}

static void options_format_units(void **state)
{
    char text[32];

    (void)state;
    lg_options_format_duration(90000, text, sizeof(text));
    assert_string_equal(text, "90s");
    lg_options_format_duration(2 * HOUR_MS, text, sizeof(text));
    assert_string_equal(text, "2h");
    lg_options_format_duration(1500, text, sizeof(text));
    assert_string_equal(text, "1500ms");
    lg_options_format_duration(0, text, sizeof(text));
    assert_string_equal(text, "0");
    lg_options_format_size(64 * KIB, text, sizeof(text));
    assert_string_equal(text, "64KiB");
    lg_options_format_size(10000000, text, sizeof(text));
    assert_string_equal(text, "10MB");
    lg_options_format_size(513, text, sizeof(text));
    assert_string_equal(text, "513B");
}

/* Print the server table as help text, or as Markdown when MARKDOWN is set,
 * and return the output (the caller frees it). */
static char *capture_help(int markdown)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    assert_non_null(out);
    if (markdown)
        lg_options_print_markdown(out, server_options, "server");
    else
        lg_options_print_help(out, server_options, 2);
    fclose(out);
    return text;
}

static void options_help_lists_options(void **state)
{
    char *text = capture_help(0);
    const lg_option *opt;

    (void)state;
    for (opt = server_options; opt->name != NULL; opt++) {
        assert_contains(text, opt->name);
        assert_contains(text, opt->description);
        if (opt->default_value != NULL && !(opt->flags & LG_OPT_SECRET))
            assert_contains(text, opt->default_value);
    }
    for (opt = admin_options; opt->name != NULL; opt++)
        assert_contains(text, opt->name);
    for (opt = channel_options; opt->name != NULL; opt++)
        assert_contains(text, opt->name);
    free(text);
}

static void options_help_layout(void **state)
{
    char *text = capture_help(0);

    (void)state;
    assert_contains(text, "  interval           duration  default 1s       Time between two reads of /proc. "
                          "(100ms to 1h)\n");
    assert_contains(text, "  workers            integer   default 4        Worker threads. (1 to 64)\n");
    assert_contains(text, "(one of: conflate, drop, disconnect)");
    assert_contains(text, "(1KiB to 1GiB)");
    assert_contains(text, "\n    port             integer   default 8081     TCP port of the admin listener.");
    assert_contains(text, "\n    match            string    required         Channel name or glob.\n");
    free(text);
}

static void options_help_hides_secret(void **state)
{
    char *text = capture_help(0);

    (void)state;
    assert_contains(text, "default (secret)");
    assert_null(strstr(text, "hunter2"));
    free(text);
}

static void options_markdown_table(void **state)
{
    char *text = capture_help(1);

    (void)state;
    assert_contains(text, "| option | type | default | description |\n|---|---|---|---|\n");
    assert_contains(text, "| `server.interval` | duration | `1s` | Time between two reads of /proc. (100ms to 1h) |\n");
    assert_contains(text, "| `server.admin.port` | integer | `8081` |");
    assert_contains(text, "| `server.channels[].match` | string | required |");
    assert_contains(text, "| `server.password` | string | (secret) |");
    assert_null(strstr(text, "hunter2"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(options_all_types),
        cmocka_unit_test(options_defaults),
        cmocka_unit_test(options_null_keeps_default),
        cmocka_unit_test(options_nested_default_kept),
        cmocka_unit_test(options_string_accepts_scalars),
        cmocka_unit_test(options_empty_string_kept),
        cmocka_unit_test(options_string_list_scalar),
        cmocka_unit_test(options_string_list_empty),
        cmocka_unit_test(options_ignored_keys),
        cmocka_unit_test(options_unknown_key),
        cmocka_unit_test(options_unknown_key_lists_ignored),
        cmocka_unit_test(options_string_given_map),
        cmocka_unit_test(options_int_given_text),
        cmocka_unit_test(options_int_trailing_junk),
        cmocka_unit_test(options_int_overflow),
        cmocka_unit_test(options_bool_given_yes),
        cmocka_unit_test(options_double_invalid),
        cmocka_unit_test(options_duration_without_unit),
        cmocka_unit_test(options_duration_invalid),
        cmocka_unit_test(options_size_bad_unit),
        cmocka_unit_test(options_size_overflow),
        cmocka_unit_test(options_enum_bad_choice),
        cmocka_unit_test(options_list_given_map),
        cmocka_unit_test(options_list_item_not_string),
        cmocka_unit_test(options_table_given_list),
        cmocka_unit_test(options_table_list_given_map),
        cmocka_unit_test(options_bounds_int),
        cmocka_unit_test(options_bounds_inclusive),
        cmocka_unit_test(options_bounds_duration),
        cmocka_unit_test(options_bounds_size),
        cmocka_unit_test(options_required_missing),
        cmocka_unit_test(options_required_null),
        cmocka_unit_test(options_required_no_section),
        cmocka_unit_test(options_required_in_absent_table),
        cmocka_unit_test(options_required_in_table),
        cmocka_unit_test(options_secret_not_echoed),
        cmocka_unit_test(options_secret_bounds_not_echoed),
        cmocka_unit_test(options_table_context),
        cmocka_unit_test(options_table_unknown_key),
        cmocka_unit_test(options_table_list_two),
        cmocka_unit_test(options_table_list_error_index),
        cmocka_unit_test(options_table_list_missing_required),
        cmocka_unit_test(options_table_list_item_not_map),
        cmocka_unit_test(options_section_not_map),
        cmocka_unit_test(options_free_zeroes),
        cmocka_unit_test(options_parse_twice_replaces),
        cmocka_unit_test(options_parse_duration),
        cmocka_unit_test(options_parse_size),
        cmocka_unit_test(options_parse_size_overflow),
        cmocka_unit_test(options_format_units),
        cmocka_unit_test(options_help_lists_options),
        cmocka_unit_test(options_help_layout),
        cmocka_unit_test(options_help_hides_secret),
        cmocka_unit_test(options_markdown_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
