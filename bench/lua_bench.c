/* lua-bench: the cost of channel scripts per event, measured on lg_script_run
 * directly (the Lua call, the lazy JSON decode and the re-encode), without the
 * hub or any client.
 *
 *   lua-bench [--events N]                       built-in scripts on a 200-byte event
 *   lua-bench [--events N] --script FILE [--config YAML] [--rate R]
 *                                                FILE on trade events at R per second
 *                                                of event time (default 100000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "conf.h"
#include "event.h"
#include "log.h"
#include "lua_script.h"

typedef struct bench_case {
    const char *name;
    const char *script;
} bench_case;

/* A 200-byte market-data event, the size of a typical tick. */
static const char bench_payload[] =
    "{\"symbol\":\"BTC-USD\",\"venue\":\"coinbase\",\"price\":43250.17,\"size\":0.0375,"
    "\"side\":\"buy\",\"bid\":43250.11,\"ask\":43250.23,\"seq\":18446744073,"
    "\"flags\":[\"regular\",\"lit\"],\"ts\":1796416246572,\"trade_id\":\"a1b2c3d4\"}";

static const bench_case bench_cases[] = {
    {"pass-through", "function on_event(event) return event end\n"},
    {"read one field, keep", "function on_event(event)\n"
                             "  if event.data.price > 0 then return event end\n"
                             "end\n"},
    {"read one field, drop", "function on_event(event)\n"
                             "  if event.data.price < 0 then return event end\n"
                             "end\n"},
    {"rewrite two fields", "function on_event(event)\n"
                           "  event.data.price = event.data.price * 100\n"
                           "  event.data.source = 'bench'\n"
                           "  return event\n"
                           "end\n"},
    {"select three fields", "function on_event(event)\n"
                            "  local d = event.data\n"
                            "  event.data = {symbol = d.symbol, price = d.price, size = d.size}\n"
                            "  return event\n"
                            "end\n"},
};

static int64_t bench_clock_ms;

static int64_t bench_now(void *arg)
{
    (void)arg;
    return bench_clock_ms;
}

static unsigned long bench_emitted;

static void bench_emit(void *arg, const char *channel, lg_event *event, unsigned hops)
{
    (void)arg;
    (void)channel;
    (void)hops;
    bench_emitted++;
    lg_event_unref(event);
}

static void bench_flush(void *arg)
{
    (void)arg;
}

static double bench_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static lg_script *bench_load(const char *path, const lg_conf_node *config)
{
    static const lg_script_limits limits = {
        .instruction_budget = 1000000, .memory_bytes = 64 << 20, .disable_after = 0};
    lg_script_host host = {.now = bench_now, .emit = bench_emit, .flush = bench_flush};
    lg_error err;
    lg_script *script = lg_script_load(path, config, &limits, &host, &err);

    if (script == NULL) {
        fprintf(stderr, "lua-bench: %s\n", err.message);
        exit(1);
    }
    return script;
}

static lg_event *bench_event(const char *key, const char *data, size_t len, int64_t time_ms, unsigned long n)
{
    lg_event *event = lg_event_new(key, NULL, data, len, time_ms);
    char id[32];

    snprintf(id, sizeof(id), "1-%lu", n + 1);
    event->id = lg_strdup(id);
    return event;
}

/* Run EVENTS events through SCRIPT; returns the events it let through. A NULL
 * SCRIPT only creates the events, the baseline that the other rows include. */
static unsigned long bench_run(lg_script *script, unsigned long events,
                               const char *(*payload)(unsigned long, const char **, size_t *), double rate)
{
    unsigned long passed = 0;
    lg_event_list out = {0};
    lg_error err;

    for (unsigned long i = 0; i < events; i++) {
        size_t len;
        const char *key;
        const char *data = payload(i, &key, &len);
        int64_t time_ms = 1796416246000 + (int64_t)((double)i * 1000.0 / rate);
        lg_event *event = bench_event(key, data, len, time_ms, i);

        if (script == NULL) {
            lg_event_unref(event);
            continue;
        }
        if (time_ms != bench_clock_ms) {
            bench_clock_ms = time_ms;
            lg_script_fire_timers(script, bench_clock_ms);
        }
        if (lg_script_run(script, "bench", event, 0, &out, &err) < 0) {
            fprintf(stderr, "lua-bench: event %lu: %s\n", i, err.message);
            exit(1);
        }
        passed += out.count;
        lg_event_list_clear(&out);
        lg_event_unref(event);
    }
    free(out.items);
    return passed;
}

static const char *bench_fixed_payload(unsigned long i, const char **key, size_t *len)
{
    (void)i;
    *key = "BTC-USD";
    *len = sizeof(bench_payload) - 1;
    return bench_payload;
}

static const char *const bench_symbols[] = {"BTC-USD", "ETH-USD", "SOL-USD", "ADA-USD"};

/* Trades over four symbols (the event keys) with a price walk, the input of a candle script. */
static const char *bench_trade_payload(unsigned long i, const char **key, size_t *len)
{
    static char text[160];
    double price = 100.0 + (double)((i * 7919) % 1000) / 100.0;
    int n = snprintf(text, sizeof(text), "{\"symbol\":\"%s\",\"price\":%.2f,\"size\":%lu}", bench_symbols[i % 4],
                     price, 1 + i % 9);

    *key = bench_symbols[i % 4];
    *len = (size_t)n;
    return text;
}

static void bench_report(const char *name, unsigned long events, unsigned long passed, double seconds)
{
    printf("| %-22s | %9.0f | %8.2f | %9lu | %7lu |\n", name, (double)events / seconds, seconds * 1e6 / (double)events,
           passed, bench_emitted);
}

static void bench_header(void)
{
    printf("| script                 |  events/s | us/event |    passed | emitted |\n");
    printf("|---|---|---|---|---|\n");
}

static void bench_builtin(unsigned long events)
{
    char path[] = "/tmp/lua-bench-XXXXXX";
    int fd = mkstemp(path);
    FILE *file;

    if (fd < 0 || (file = fdopen(fd, "w")) == NULL) {
        perror("lua-bench: temporary script");
        exit(1);
    }
    fclose(file);
    printf("payload: %zu bytes, %lu events per script\n\n", sizeof(bench_payload) - 1, events);
    bench_header();

    double baseline = bench_seconds();
    bench_run(NULL, events, bench_fixed_payload, 1e6);
    bench_report("(no script: baseline)", events, 0, bench_seconds() - baseline);
    for (size_t c = 0; c < sizeof(bench_cases) / sizeof(bench_cases[0]); c++) {
        lg_script *script;
        double start;
        unsigned long passed;

        file = fopen(path, "w");
        fputs(bench_cases[c].script, file);
        fclose(file);
        script = bench_load(path, NULL);

        bench_run(script, events / 10, bench_fixed_payload, 1e6); /* warm up */
        bench_emitted = 0;
        start = bench_seconds();
        passed = bench_run(script, events, bench_fixed_payload, 1e6);
        bench_report(bench_cases[c].name, events, passed, bench_seconds() - start);
        lg_script_free(script);
    }
    remove(path);
}

static void bench_file(const char *path, const char *config_text, unsigned long events, double rate)
{
    lg_conf_doc *config = NULL;
    lg_script *script;
    unsigned long passed;
    double start;
    lg_error err;

    if (config_text != NULL && (config = lg_conf_load_value("--config", config_text, strlen(config_text), &err)) == NULL) {
        fprintf(stderr, "lua-bench: %s\n", err.message);
        exit(1);
    }
    script = bench_load(path, config != NULL ? config->root : NULL);
    printf("script: %s, config: %s, %lu trade events at %.0f per second of event time\n\n", path,
           config_text != NULL ? config_text : "(none)", events, rate);
    bench_header();
    start = bench_seconds();
    passed = bench_run(script, events, bench_trade_payload, rate);
    bench_report("trades", events, passed, bench_seconds() - start);
    lg_script_free(script);
    lg_conf_free(config);
}

static void bench_usage(void)
{
    fprintf(stderr, "usage: lua-bench [--events N] [--script FILE [--config YAML] [--rate EVENTS_PER_SECOND]]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned long events = 1000000;
    const char *script = NULL;
    const char *config = NULL;
    double rate = 100000;

    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            bench_usage();
        if (strcmp(argv[i], "--events") == 0)
            events = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--script") == 0)
            script = argv[++i];
        else if (strcmp(argv[i], "--config") == 0)
            config = argv[++i];
        else if (strcmp(argv[i], "--rate") == 0)
            rate = strtod(argv[++i], NULL);
        else
            bench_usage();
    }
    if (events == 0 || rate <= 0)
        bench_usage();

    lg_log_set_level(LG_LOG_ERROR);
    if (script != NULL)
        bench_file(script, config, events, rate);
    else
        bench_builtin(events);
    return 0;
}
