/* loadgen: opens many SSE or WebSocket subscribers, publishes timestamped events over HTTP and
 * reports delivered events per second, publish-to-receive latency and the server's resident memory.
 *
 * The run goes through phases, each bounded in time: connect every subscriber,
 * let the server settle, publish, then drain until every event arrived or
 * none arrived for --drain seconds. It ends by printing one line of
 * key=value pairs. It connects only to loopback addresses. */
#include <getopt.h>
#include <stddef.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "loadgen.h"

/* Period of the timer that moves the run through its phases and samples memory. */
#define LOADGEN_MONITOR_US 100000

/* File descriptors kept free beyond one per subscriber (publishers, libevent, stdio). */
#define LOADGEN_SPARE_FDS 64

/* Smallest payload that still contains the send time, a sequence number and the JSON around them. */
#define LOADGEN_MIN_SIZE 64

typedef enum loadgen_phase {
    LOADGEN_PHASE_CONNECT,
    LOADGEN_PHASE_SETTLE,
    LOADGEN_PHASE_HOLD,
    LOADGEN_PHASE_PUBLISH,
    LOADGEN_PHASE_DRAIN,
    LOADGEN_PHASE_DONE,
} loadgen_phase;

typedef struct loadgen_state {
    loadgen_run run;
    loadgen_phase phase;
    int64_t start_us;
    int64_t phase_start_us;
    int64_t deadline_us;
    int opening;
    int exit_code;
} loadgen_state;

static const char loadgen_usage[] =
    "Usage: loadgen [OPTION]...\n"
    "Open SSE or WebSocket subscribers, publish events with HTTP POST and report\n"
    "delivered events per second, latency percentiles and the server's memory.\n"
    "Every URL must be on a loopback address; {channel} in a URL or message is\n"
    "replaced by the channel name.\n"
    "\n"
    "  --transport sse|ws          subscriber protocol (default sse)\n"
    "  --subscribe-url URL         where subscribers connect\n"
    "                              (default http://127.0.0.1:8080/sse?channel={channel})\n"
    "  --publish-url URL           where events are posted\n"
    "                              (default http://127.0.0.1:8081/api/channels/{channel}/events)\n"
    "  --ws-subscribe-message TEXT text message a WebSocket subscriber sends after the handshake\n"
    "  --ready-text TEXT           a subscriber is ready once a message contains TEXT\n"
    "                              (default: once the response head arrives)\n"
    "  --channel-prefix NAME       channels are NAME0, NAME1, ... (default bench.)\n"
    "  --subscribers N             subscribers, spread over the channels in turn (default 100)\n"
    "  --channels N                channels (default 1)\n"
    "  --events N                  events to publish, to the channels in turn; 0 only\n"
    "                              connects and measures memory (default 1000)\n"
    "  --rate N                    events per second; 0 publishes as fast as acknowledged (default 0)\n"
    "  --size BYTES                payload size, at least 64 (default 100)\n"
    "  --publishers N              publish requests in flight, one connection each (default 1)\n"
    "  --connect-concurrency N     connections being opened at once (default 256)\n"
    "  --duration SECONDS          bound on connecting and publishing (default 30)\n"
    "  --settle SECONDS            wait after every subscriber is ready (default 0.5)\n"
    "  --drain SECONDS             stop when no event arrived for this long (default 2)\n"
    "  --hold SECONDS              with --events 0, keep the connections open this long (default 2)\n"
    "  --server-pid PID            server process whose memory is measured; repeat to sum several\n"
    "  -h, --help                  show this help\n"
    "\n"
    "Output: one line 'loadgen: key=value ...'. Exit status 0 when every subscriber\n"
    "connected and every publish succeeded, 1 otherwise, 2 for invalid options.\n";

int64_t loadgen_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void loadgen_run_fail(loadgen_run *run, const char *format, ...)
{
    va_list args;

    if (run->first_error[0] != '\0')
        return;
    va_start(args, format);
    vsnprintf(run->first_error, sizeof(run->first_error), format, args);
    va_end(args);
    fprintf(stderr, "loadgen: %s\n", run->first_error);
}

static loadgen_state *loadgen_state_of(loadgen_run *run)
{
    return (loadgen_state *)run;
}

void loadgen_run_open_more(loadgen_run *run)
{
    loadgen_state *state = loadgen_state_of(run);
    const loadgen_options *options = run->options;

    /* A connection that fails at once calls back here: open the rest in this loop only. */
    if (state->opening)
        return;
    state->opening = 1;
    while (run->started < options->subscribers &&
           run->started - run->connected - run->failed < options->connect_concurrency) {
        int index = run->started;
        loadgen_channel *channel = &run->channels[index % options->channels];

        run->subscribers[index] = loadgen_subscriber_open(run, index, channel);
    }
    state->opening = 0;
}

static void loadgen_sample_rss(loadgen_run *run)
{
    long kib = loadgen_rss_kib(run->options->server_pids, run->options->server_pid_count);

    if (kib > run->rss_peak_kib)
        run->rss_peak_kib = kib;
}

static void loadgen_enter(loadgen_state *state, loadgen_phase phase, int64_t now_us)
{
    state->phase = phase;
    state->phase_start_us = now_us;
}

static int loadgen_seconds_passed(const loadgen_state *state, double seconds, int64_t now_us)
{
    return now_us - state->phase_start_us >= (int64_t)(seconds * 1e6);
}

static void loadgen_step_connect(loadgen_state *state, int64_t now_us)
{
    loadgen_run *run = &state->run;

    if (run->failed > 0 || now_us > state->deadline_us) {
        if (run->failed == 0)
            loadgen_run_fail(run, "timed out: %d of %d subscribers ready after %.1f s", run->ready,
                             run->options->subscribers, run->options->duration_s);
        state->exit_code = 1;
        loadgen_enter(state, LOADGEN_PHASE_DONE, now_us);
        return;
    }
    if (run->ready == run->options->subscribers)
        loadgen_enter(state, LOADGEN_PHASE_SETTLE, now_us);
}

static void loadgen_step_settle(loadgen_state *state, int64_t now_us)
{
    loadgen_run *run = &state->run;

    if (!loadgen_seconds_passed(state, run->options->settle_s, now_us))
        return;

    run->rss_connected_kib = loadgen_rss_kib(run->options->server_pids, run->options->server_pid_count);
    if (run->options->events == 0) {
        loadgen_enter(state, LOADGEN_PHASE_HOLD, now_us);
        return;
    }
    loadgen_publisher_start(run->publisher);
    loadgen_enter(state, LOADGEN_PHASE_PUBLISH, now_us);
}

static void loadgen_step_publish(loadgen_state *state, int64_t now_us)
{
    loadgen_publisher *publisher = state->run.publisher;

    if (now_us > state->deadline_us)
        loadgen_publisher_stop(publisher);
    if (loadgen_publisher_done(publisher))
        loadgen_enter(state, LOADGEN_PHASE_DRAIN, now_us);
}

static void loadgen_step_drain(loadgen_state *state, int64_t now_us)
{
    loadgen_run *run = &state->run;
    int64_t quiet_since = run->last_receive_us > state->phase_start_us ? run->last_receive_us : state->phase_start_us;
    int64_t drain_us = (int64_t)(run->options->drain_s * 1e6);

    if (run->delivered >= run->expected || now_us - quiet_since >= drain_us ||
        now_us > state->deadline_us + drain_us)
        loadgen_enter(state, LOADGEN_PHASE_DONE, now_us);
}

static void loadgen_on_monitor(evutil_socket_t fd, short what, void *arg)
{
    loadgen_state *state = arg;
    int64_t now_us = loadgen_now_us();

    loadgen_sample_rss(&state->run);
    switch (state->phase) {
    case LOADGEN_PHASE_CONNECT:
        loadgen_step_connect(state, now_us);
        break;
    case LOADGEN_PHASE_SETTLE:
        loadgen_step_settle(state, now_us);
        break;
    case LOADGEN_PHASE_HOLD:
        if (loadgen_seconds_passed(state, state->run.options->hold_s, now_us))
            loadgen_enter(state, LOADGEN_PHASE_DONE, now_us);
        break;
    case LOADGEN_PHASE_PUBLISH:
        loadgen_step_publish(state, now_us);
        break;
    case LOADGEN_PHASE_DRAIN:
        loadgen_step_drain(state, now_us);
        break;
    case LOADGEN_PHASE_DONE:
        break;
    }

    if (state->phase == LOADGEN_PHASE_DONE)
        event_base_loopbreak(state->run.base);
}

static void loadgen_report(const loadgen_state *state)
{
    const loadgen_run *run = &state->run;
    const loadgen_options *options = run->options;
    const loadgen_publisher *publisher = run->publisher;
    double seconds = run->last_receive_us > run->first_publish_us
                         ? (double)(run->last_receive_us - run->first_publish_us) / 1e6
                         : 0;
    double publish_seconds = loadgen_publisher_seconds(publisher);
    long published = loadgen_publisher_published(publisher);
    long per_connection = -1;

    if (run->rss_connected_kib > 0 && run->rss_start_kib > 0 && run->connected > 0)
        per_connection = (run->rss_connected_kib - run->rss_start_kib) * 1024 / run->connected;

    printf("loadgen: transport=%s subscribers=%d connected=%d disconnected=%d channels=%d size=%d rate=%g "
           "published=%ld publish_errors=%ld publish_per_s=%.0f expected=%llu delivered=%llu lost=%lld "
           "seconds=%.3f events_per_s=%.0f p50_us=%llu p99_us=%llu p999_us=%llu max_us=%llu "
           "rss_start_kib=%ld rss_connected_kib=%ld rss_peak_kib=%ld rss_per_connection_bytes=%ld\n",
           options->transport == LOADGEN_WEBSOCKET ? "ws" : "sse", options->subscribers, run->connected,
           run->disconnected, options->channels, options->size, options->rate, published,
           loadgen_publisher_errors(publisher), publish_seconds > 0 ? (double)published / publish_seconds : 0,
           (unsigned long long)run->expected, (unsigned long long)run->delivered,
           (long long)run->expected - (long long)run->delivered, seconds,
           seconds > 0 ? (double)run->delivered / seconds : 0,
           (unsigned long long)loadgen_histogram_percentile(&run->latency, 0.50),
           (unsigned long long)loadgen_histogram_percentile(&run->latency, 0.99),
           (unsigned long long)loadgen_histogram_percentile(&run->latency, 0.999),
           (unsigned long long)run->latency.max, run->rss_start_kib, run->rss_connected_kib, run->rss_peak_kib,
           per_connection);
    fflush(stdout);
}

typedef enum loadgen_number_kind {
    LOADGEN_INT,
    LOADGEN_LONG,
    LOADGEN_DOUBLE,
} loadgen_number_kind;

/* A numeric option: its name, bounds and the field it sets. */
typedef struct loadgen_number_option {
    const char *name;
    double min;
    double max;
    loadgen_number_kind kind;
    size_t offset;
} loadgen_number_option;

#define LOADGEN_FIELD(field) offsetof(loadgen_options, field)

static const loadgen_number_option loadgen_number_options[] = {
    {"subscribers", 1, 1000000, LOADGEN_INT, LOADGEN_FIELD(subscribers)},
    {"channels", 1, 100000, LOADGEN_INT, LOADGEN_FIELD(channels)},
    {"events", 0, 1e12, LOADGEN_LONG, LOADGEN_FIELD(events)},
    {"rate", 0, 1e9, LOADGEN_DOUBLE, LOADGEN_FIELD(rate)},
    {"size", LOADGEN_MIN_SIZE, 1 << 20, LOADGEN_INT, LOADGEN_FIELD(size)},
    {"publishers", 1, 1000, LOADGEN_INT, LOADGEN_FIELD(publishers)},
    {"connect-concurrency", 1, 100000, LOADGEN_INT, LOADGEN_FIELD(connect_concurrency)},
    {"duration", 0.1, 3600, LOADGEN_DOUBLE, LOADGEN_FIELD(duration_s)},
    {"settle", 0, 600, LOADGEN_DOUBLE, LOADGEN_FIELD(settle_s)},
    {"drain", 0.1, 600, LOADGEN_DOUBLE, LOADGEN_FIELD(drain_s)},
    {"hold", 0, 3600, LOADGEN_DOUBLE, LOADGEN_FIELD(hold_s)},
};

static int loadgen_set_number(loadgen_options *options, const loadgen_number_option *option, const char *text)
{
    char *end;
    double value = strtod(text, &end);
    char *field = (char *)options + option->offset;

    if (end == text || *end != '\0' || value < option->min || value > option->max) {
        fprintf(stderr, "loadgen: invalid --%s '%s': expected a number from %g to %g\n", option->name, text,
                option->min, option->max);
        return -1;
    }

    if (option->kind == LOADGEN_INT)
        *(int *)field = (int)value;
    else if (option->kind == LOADGEN_LONG)
        *(long *)field = (long)value;
    else
        *(double *)field = value;
    return 0;
}

static int loadgen_add_server_pid(loadgen_options *options, const char *text)
{
    char *end;
    long pid = strtol(text, &end, 10);

    if (end == text || *end != '\0' || pid <= 0) {
        fprintf(stderr, "loadgen: invalid --server-pid '%s': expected a process id\n", text);
        return -1;
    }
    if (options->server_pid_count == LOADGEN_MAX_PIDS) {
        fprintf(stderr, "loadgen: too many --server-pid options: at most %d\n", LOADGEN_MAX_PIDS);
        return -1;
    }
    options->server_pids[options->server_pid_count++] = (pid_t)pid;
    return 0;
}

static int loadgen_set_transport(loadgen_options *options, const char *text)
{
    if (strcmp(text, "sse") == 0) {
        options->transport = LOADGEN_SSE;
        return 0;
    }
    if (strcmp(text, "ws") == 0) {
        options->transport = LOADGEN_WEBSOCKET;
        return 0;
    }
    fprintf(stderr, "loadgen: invalid --transport '%s': expected sse or ws\n", text);
    return -1;
}

static int loadgen_parse_option(loadgen_options *options, const char *name, const char *value)
{
    const struct {
        const char *name;
        const char **field;
    } text_options[] = {
        {"subscribe-url", &options->subscribe_url},
        {"publish-url", &options->publish_url},
        {"ws-subscribe-message", &options->ws_subscribe_message},
        {"ready-text", &options->ready_text},
        {"channel-prefix", &options->channel_prefix},
    };

    if (strcmp(name, "transport") == 0)
        return loadgen_set_transport(options, value);
    if (strcmp(name, "server-pid") == 0)
        return loadgen_add_server_pid(options, value);

    for (size_t i = 0; i < sizeof(text_options) / sizeof(text_options[0]); i++) {
        if (strcmp(name, text_options[i].name) == 0) {
            *text_options[i].field = value;
            return 0;
        }
    }
    for (size_t i = 0; i < sizeof(loadgen_number_options) / sizeof(loadgen_number_options[0]); i++) {
        if (strcmp(name, loadgen_number_options[i].name) == 0)
            return loadgen_set_number(options, &loadgen_number_options[i], value);
    }
    return -1;
}

static int loadgen_parse_options(int argc, char **argv, loadgen_options *options)
{
    static const struct option long_options[] = {
        {"transport", required_argument, NULL, 0},   {"subscribe-url", required_argument, NULL, 0},
        {"publish-url", required_argument, NULL, 0}, {"ws-subscribe-message", required_argument, NULL, 0},
        {"ready-text", required_argument, NULL, 0},  {"channel-prefix", required_argument, NULL, 0},
        {"subscribers", required_argument, NULL, 0}, {"channels", required_argument, NULL, 0},
        {"events", required_argument, NULL, 0},      {"rate", required_argument, NULL, 0},
        {"size", required_argument, NULL, 0},        {"publishers", required_argument, NULL, 0},
        {"connect-concurrency", required_argument, NULL, 0},
        {"duration", required_argument, NULL, 0},    {"settle", required_argument, NULL, 0},
        {"drain", required_argument, NULL, 0},       {"hold", required_argument, NULL, 0},
        {"server-pid", required_argument, NULL, 0},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int index;
    int c;

    while ((c = getopt_long(argc, argv, "h", long_options, &index)) != -1) {
        if (c == 'h') {
            fputs(loadgen_usage, stdout);
            exit(0);
        }
        if (c != 0 || loadgen_parse_option(options, long_options[index].name, optarg) < 0) {
            fprintf(stderr, "Try 'loadgen --help'.\n");
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "loadgen: unexpected argument '%s'\nTry 'loadgen --help'.\n", argv[optind]);
        return -1;
    }
    return 0;
}

/* Resolve every channel's URLs; returns 0, or -1 after printing the error. */
static int loadgen_make_channels(loadgen_run *run)
{
    const loadgen_options *options = run->options;
    char error[512];

    run->channels = calloc((size_t)options->channels, sizeof(*run->channels));
    if (run->channels == NULL)
        abort();

    for (int i = 0; i < options->channels; i++) {
        loadgen_channel *channel = &run->channels[i];
        char name[256];
        char *url;
        int status;

        snprintf(name, sizeof(name), "%s%d", options->channel_prefix, i);
        channel->name = strdup(name);
        channel->subscribers = options->subscribers / options->channels + (i < options->subscribers % options->channels);
        if (options->ws_subscribe_message != NULL)
            channel->ws_subscribe_message = loadgen_expand(options->ws_subscribe_message, name);

        url = loadgen_expand(options->subscribe_url, name);
        status = loadgen_target_parse(url, &channel->subscribe, error, sizeof(error));
        free(url);
        if (status == 0) {
            url = loadgen_expand(options->publish_url, name);
            status = loadgen_target_parse(url, &channel->publish, error, sizeof(error));
            free(url);
        }
        if (status < 0) {
            fprintf(stderr, "loadgen: %s\n", error);
            return -1;
        }
    }
    return 0;
}

/* Raise the soft limit of open files up to the hard limit when the subscribers need it. */
static void loadgen_raise_fd_limit(int subscribers)
{
    struct rlimit limit;
    rlim_t needed = (rlim_t)subscribers + LOADGEN_SPARE_FDS;

    if (getrlimit(RLIMIT_NOFILE, &limit) < 0 || limit.rlim_cur >= needed)
        return;
    limit.rlim_cur = needed < limit.rlim_max ? needed : limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < needed)
        fprintf(stderr, "loadgen: warning: the open-file limit %llu is below the %llu that %d subscribers need\n",
                (unsigned long long)limit.rlim_cur, (unsigned long long)needed, subscribers);
}

static void loadgen_free(loadgen_state *state)
{
    loadgen_run *run = &state->run;

    for (int i = 0; i < run->started; i++)
        loadgen_subscriber_free(run->subscribers[i]);
    loadgen_publisher_free(run->publisher);
    for (int i = 0; i < run->options->channels; i++) {
        free(run->channels[i].name);
        free(run->channels[i].ws_subscribe_message);
        loadgen_target_free(&run->channels[i].subscribe);
        loadgen_target_free(&run->channels[i].publish);
    }
    free(run->channels);
    free(run->subscribers);
    event_base_free(run->base);
}

int main(int argc, char **argv)
{
    loadgen_options options = {
        .transport = LOADGEN_SSE,
        .subscribe_url = "http://127.0.0.1:8080/sse?channel={channel}",
        .publish_url = "http://127.0.0.1:8081/api/channels/{channel}/events",
        .channel_prefix = "bench.",
        .subscribers = 100,
        .channels = 1,
        .events = 1000,
        .size = 100,
        .publishers = 1,
        .connect_concurrency = 256,
        .duration_s = 30,
        .settle_s = 0.5,
        .drain_s = 2,
        .hold_s = 2,
    };
    static loadgen_state state;
    loadgen_run *run = &state.run;
    struct timeval period = {0, LOADGEN_MONITOR_US};
    struct event *monitor;

    if (loadgen_parse_options(argc, argv, &options) < 0)
        return 2;

    signal(SIGPIPE, SIG_IGN);
    loadgen_raise_fd_limit(options.subscribers);
    run->options = &options;
    run->base = event_base_new();
    run->subscribers = calloc((size_t)options.subscribers, sizeof(*run->subscribers));
    if (run->base == NULL || run->subscribers == NULL)
        abort();
    if (loadgen_make_channels(run) < 0)
        return 2;
    run->publisher = loadgen_publisher_new(run);

    run->rss_start_kib = loadgen_rss_kib(options.server_pids, options.server_pid_count);
    run->rss_peak_kib = run->rss_start_kib;
    state.start_us = loadgen_now_us();
    state.deadline_us = state.start_us + (int64_t)(options.duration_s * 1e6);
    loadgen_enter(&state, LOADGEN_PHASE_CONNECT, state.start_us);
    loadgen_run_open_more(run);

    monitor = event_new(run->base, -1, EV_PERSIST, loadgen_on_monitor, &state);
    event_add(monitor, &period);
    event_base_dispatch(run->base);
    event_free(monitor);

    loadgen_report(&state);
    if (run->failed > 0 || loadgen_publisher_errors(run->publisher) > 0)
        state.exit_code = 1;
    loadgen_free(&state);
    return state.exit_code;
}
