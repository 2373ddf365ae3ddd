/* Benchmark of permessage-deflate for livegate events: CPU per event and bytes saved, per payload kind. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "ws_deflate.h"

/* Events compressed per payload kind; enough for a stable rate on one core. */
#define LG_BENCH_EVENTS 200000

typedef struct lg_bench_payload {
    const char *name;
    char *text;
} lg_bench_payload;

static double lg_bench_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *lg_bench_price_tick(void)
{
    return strdup("{\"type\":\"event\",\"channel\":\"prices.AAPL\",\"id\":\"mx9fugu7-85\",\"time\":1796416246572,"
                  "\"key\":\"AAPL\",\"data\":{\"bid\":187.42,\"ask\":187.44,\"last\":187.43,\"volume\":48211}}");
}

static char *lg_bench_cpu_sample(void)
{
    return strdup("{\"type\":\"event\",\"channel\":\"system.cpu\",\"id\":\"mx9fugu7-13\",\"time\":1796416240022,"
                  "\"key\":null,\"data\":{\"usage_percent\":12.5,\"user_percent\":8.1,\"system_percent\":3.4,"
                  "\"iowait_percent\":0.5,\"steal_percent\":0,\"core_count\":8,\"cores\":[10.2,14.8,9.1,22.5,"
                  "3.3,7.7,12.0,18.4]}}");
}

/* An order book of 100 levels, the kind of larger message that compresses well. */
static char *lg_bench_order_book(void)
{
    lg_buf out = LG_BUF_INIT;

    lg_buf_append_str(&out, "{\"type\":\"event\",\"channel\":\"book.AAPL\",\"id\":\"mx9fugu7-99\",\"time\":1796416246572,"
                            "\"key\":\"AAPL\",\"data\":{\"bids\":[");
    for (int i = 0; i < 100; i++)
        lg_buf_printf(&out, "%s[%.2f,%d]", i ? "," : "", 187.42 - i * 0.01, 100 + (i * 37) % 900);
    lg_buf_append_str(&out, "]}}");
    return lg_buf_steal(&out, NULL);
}

static void lg_bench_run(const lg_bench_payload *payload)
{
    size_t len = strlen(payload->text);
    lg_ws_deflater *deflater = lg_ws_deflater_new();
    lg_buf packed = LG_BUF_INIT;
    size_t packed_len = 0;
    double start;
    double elapsed;

    start = lg_bench_seconds();
    for (int i = 0; i < LG_BENCH_EVENTS; i++) {
        lg_buf_reset(&packed);
        if (lg_ws_deflate_with(deflater, payload->text, len, &packed) < 0) {
            fprintf(stderr, "deflate failed\n");
            exit(1);
        }
    }
    elapsed = lg_bench_seconds() - start;
    packed_len = packed.len;

    printf("| %-11s | %6zu | %6zu | %5.1f%% | %9.0f | %6.2f |\n", payload->name, len, packed_len,
           100.0 * (double)packed_len / (double)len, LG_BENCH_EVENTS / elapsed, elapsed * 1e6 / LG_BENCH_EVENTS);
    lg_buf_free(&packed);
    lg_ws_deflater_free(deflater);
}

int main(void)
{
    lg_bench_payload payloads[] = {
        {"price tick", lg_bench_price_tick()},
        {"cpu sample", lg_bench_cpu_sample()},
        {"order book", lg_bench_order_book()},
    };

    printf("| payload     |  bytes | packed |  ratio |  events/s | us/event |\n");
    printf("|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        lg_bench_run(&payloads[i]);
        free(payloads[i].text);
    }
    return 0;
}
