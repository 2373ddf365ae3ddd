/* Unit tests of the HTTP server: real loopback sockets against servers whose event loop runs in a second thread. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <ftw.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <http_parser.h>
#include <jansson.h>

#include "alloc.h"
#include "buf.h"
#include "clock.h"
#include "http.h"
#include "http_internal.h"
#include "log.h"

#define CLIENT_TIMEOUT_MS 5000
#define WAIT_STEP_MS 1
#define ASYNC_DELAY_MS 10
#define MAX_RESPONSE_HEADERS 64

/* Limits of the main server; the tests below exceed each one. */
#define MAIN_MAX_REQUEST_LINE_BYTES 1024
#define MAIN_MAX_HEADER_COUNT 20
#define MAIN_MAX_HEADER_BYTES 2048
#define MAIN_MAX_BODY_BYTES 4096

/* Timeouts of the short-timeout server. */
#define SHORT_IDLE_TIMEOUT_MS 200
#define SHORT_REQUEST_TIMEOUT_MS 300

#define LIMITED_MAX_CONNECTIONS 2

static const char app_js[] = "console.log('app');\n";
static const char www_index[] = "<h1>www</h1>\n";
static const char sub_index[] = "<h1>sub</h1>\n";
static const char secret_txt[] = "secret\n";

typedef struct fixture {
    struct event_base *base;
    pthread_t loop_thread;
    lg_http_routes *routes;
    lg_http_server *main_server;    /* generous timeouts, small size limits, shared counter */
    lg_http_server *short_server;   /* short idle and request timeouts, no shared counter */
    lg_http_server *limited_server; /* max_connections = 2 */
    atomic_size_t main_connections;
    atomic_size_t limited_connections;
    char main_address[LG_HTTP_PEER_BYTES];
    char short_address[LG_HTTP_PEER_BYTES];
    char limited_address[LG_HTTP_PEER_BYTES];
    char tmp_dir[64];
    char *static_root;
    char *log_path;

    /* The held request of /hold, touched only on the loop thread. */
    lg_http_request *held_req;
    struct event *release_event;
    atomic_int hold_started;
    atomic_int hold_answered;
    atomic_int held_was_gone;
} fixture;

typedef struct response {
    int status;
    size_t header_count;
    char *names[MAX_RESPONSE_HEADERS];
    char *values[MAX_RESPONSE_HEADERS];
    lg_buf field;
    lg_buf value;
    int in_value;
    lg_buf body;
    int skip_body;
    int complete;
} response;

typedef struct client {
    int fd;
    http_parser parser;
    lg_buf pending;
} client;

static fixture fx;

/* Handlers, run on the loop thread. */

static void echo_handler(lg_http_request *req, void *arg)
{
    size_t body_len;
    const char *body = lg_http_request_body(req, &body_len);
    json_t *json = json_pack("{s:s, s:s, s:s, s:s%}", "method", lg_http_request_method(req), "path",
                             lg_http_request_path(req), "query", lg_http_request_query(req), "body", body, body_len);
    char *text = json_dumps(json, JSON_COMPACT);

    lg_http_respond(req, 200, "application/json", text, strlen(text));
    free(text);
    json_decref(json);
}

typedef struct delayed_answer {
    struct event *timer;
    lg_http_request *req;
} delayed_answer;

static void delayed_answer_cb(evutil_socket_t fd, short events, void *arg)
{
    delayed_answer *answer = arg;
    char *body = lg_sprintf("async:%s", lg_http_request_query(answer->req));

    lg_http_respond(answer->req, 200, "text/plain", body, strlen(body));
    free(body);
    event_free(answer->timer);
    free(answer);
}

static void async_handler(lg_http_request *req, void *arg)
{
    delayed_answer *answer = lg_calloc(1, sizeof(*answer));
    struct timeval delay = {0, ASYNC_DELAY_MS * 1000};

    answer->req = req;
    answer->timer = evtimer_new(lg_http_request_base(req), delayed_answer_cb, answer);
    evtimer_add(answer->timer, &delay);
}

static void hold_handler(lg_http_request *req, void *arg)
{
    fx.held_req = req;
    atomic_store(&fx.hold_started, 1);
}

static void release_cb(evutil_socket_t fd, short events, void *arg)
{
    atomic_store(&fx.held_was_gone, fx.held_req->conn == NULL);
    lg_http_respond(fx.held_req, 200, "text/plain", "late", 4);
    fx.held_req = NULL;
    atomic_store(&fx.hold_answered, 1);
}

typedef struct detached_conn {
    atomic_size_t *open_connections;
} detached_conn;

static void detached_read_cb(struct bufferevent *bev, void *arg)
{
    bufferevent_write_buffer(bev, bufferevent_get_input(bev));
}

static void detached_event_cb(struct bufferevent *bev, short events, void *arg)
{
    detached_conn *detached = arg;

    lg_http_release_connection(detached->open_connections);
    bufferevent_free(bev);
    free(detached);
}

/* Writes a raw response head, then echoes the bytes that followed the
 * request and everything the client sends after them. */
static void detach_handler(lg_http_request *req, void *arg)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nleftover:";
    detached_conn *detached = lg_calloc(1, sizeof(*detached));
    struct bufferevent *bev = lg_http_detach(req, &detached->open_connections);

    if (bev == NULL) {
        free(detached);
        return;
    }
    bufferevent_setcb(bev, detached_read_cb, NULL, detached_event_cb, detached);
    bufferevent_write(bev, head, sizeof(head) - 1);
    bufferevent_write_buffer(bev, bufferevent_get_input(bev));
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void add_query_value(json_t *json, lg_http_request *req, const char *key, const char *name, size_t index)
{
    char *value = lg_http_query_param(req, name, index);

    json_object_set_new(json, key, value ? json_string(value) : json_null());
    free(value);
}

static void query_handler(lg_http_request *req, void *arg)
{
    json_t *json = json_object();
    char *text;

    add_query_value(json, req, "a0", "a", 0);
    add_query_value(json, req, "a1", "a", 1);
    add_query_value(json, req, "a2", "a", 2);
    add_query_value(json, req, "b", "b", 0);
    add_query_value(json, req, "c", "c", 0);
    add_query_value(json, req, "d", "d", 0);
    add_query_value(json, req, "e", "e", 0);
    add_query_value(json, req, "space name", "space name", 0);
    add_query_value(json, req, "missing", "missing", 0);
    text = json_dumps(json, JSON_COMPACT);

    lg_http_respond(req, 200, "application/json", text, strlen(text));
    free(text);
    json_decref(json);
}

static void static_handler(lg_http_request *req, void *arg)
{
    lg_http_serve_file(req, fx.static_root);
}

/* Fixture. */

static void write_file(const char *dir, const char *name, const char *content)
{
    char *path = lg_sprintf("%s/%s", dir, name);
    FILE *file = fopen(path, "w");

    assert_non_null(file);
    fputs(content, file);
    fclose(file);
    free(path);
}

static void make_static_tree(void)
{
    char *www;
    char *sub;
    char *secret;
    char *link;
    char *inside_link;

    snprintf(fx.tmp_dir, sizeof(fx.tmp_dir), "/tmp/lg-test-http-XXXXXX");
    assert_non_null(mkdtemp(fx.tmp_dir));
    fx.static_root = lg_sprintf("%s/root", fx.tmp_dir);
    www = lg_sprintf("%s/www", fx.static_root);
    sub = lg_sprintf("%s/sub", www);
    secret = lg_sprintf("%s/secret.txt", fx.tmp_dir);
    link = lg_sprintf("%s/link.txt", www);
    inside_link = lg_sprintf("%s/inside.js", www);

    assert_int_equal(mkdir(fx.static_root, 0755), 0);
    assert_int_equal(mkdir(www, 0755), 0);
    assert_int_equal(mkdir(sub, 0755), 0);
    write_file(fx.tmp_dir, "secret.txt", secret_txt);
    write_file(www, "app.js", app_js);
    write_file(www, "index.html", www_index);
    write_file(sub, "index.html", sub_index);
    assert_int_equal(symlink(secret, link), 0);
    assert_int_equal(symlink("app.js", inside_link), 0);

    free(www);
    free(sub);
    free(secret);
    free(link);
    free(inside_link);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    return remove(path);
}

static lg_http_server *start_server(const lg_http_limits *limits, atomic_size_t *counter, const char *name,
                                    char *address)
{
    lg_error err;
    evutil_socket_t fd = lg_http_listen("127.0.0.1:0", 0, &err);
    lg_http_server *server;

    assert_true(fd >= 0);
    assert_int_equal(lg_http_socket_address(fd, address, LG_HTTP_PEER_BYTES), 0);
    server = lg_http_server_new(fx.base, fd, fx.routes, limits, counter, name, &err);
    assert_non_null(server);
    return server;
}

static void *loop_main(void *arg)
{
    event_base_dispatch(fx.base);
    return NULL;
}

static int setup_servers(void **state)
{
    lg_http_limits main_limits = {
        .max_request_line_bytes = MAIN_MAX_REQUEST_LINE_BYTES,
        .max_header_count = MAIN_MAX_HEADER_COUNT,
        .max_header_bytes = MAIN_MAX_HEADER_BYTES,
        .max_body_bytes = MAIN_MAX_BODY_BYTES,
        .max_connections = 0,
        .idle_timeout_ms = 30000,
        .request_timeout_ms = 30000,
    };
    lg_http_limits short_limits = main_limits;
    lg_http_limits limited_limits = main_limits;

    signal(SIGPIPE, SIG_IGN);
    evthread_use_pthreads();
    make_static_tree();

    fx.log_path = lg_sprintf("%s/test.log", fx.tmp_dir);
    assert_int_equal(lg_log_open(fx.log_path), 0);
    lg_log_set_level(LG_LOG_DEBUG);
    lg_log_set_rate_limit(1000000, 1000);

    fx.base = event_base_new();
    fx.routes = lg_http_routes_new();
    lg_http_routes_add(fx.routes, "GET", "/echo", 0, echo_handler, NULL);
    lg_http_routes_add(fx.routes, "POST", "/echo", 0, echo_handler, NULL);
    lg_http_routes_add(fx.routes, "GET", "/async", 0, async_handler, NULL);
    lg_http_routes_add(fx.routes, "GET", "/hold", 0, hold_handler, NULL);
    lg_http_routes_add(fx.routes, "GET", "/detach", 0, detach_handler, NULL);
    lg_http_routes_add(fx.routes, "GET", "/query", 0, query_handler, NULL);
    lg_http_routes_add(fx.routes, "GET", "/www", LG_HTTP_ROUTE_PREFIX, static_handler, NULL);
    fx.release_event = event_new(fx.base, -1, 0, release_cb, NULL);

    short_limits.idle_timeout_ms = SHORT_IDLE_TIMEOUT_MS;
    short_limits.request_timeout_ms = SHORT_REQUEST_TIMEOUT_MS;
    limited_limits.max_connections = LIMITED_MAX_CONNECTIONS;

    atomic_init(&fx.main_connections, 0);
    atomic_init(&fx.limited_connections, 0);
    fx.main_server = start_server(&main_limits, &fx.main_connections, "main", fx.main_address);
    fx.short_server = start_server(&short_limits, NULL, "short", fx.short_address);
    fx.limited_server = start_server(&limited_limits, &fx.limited_connections, "limited", fx.limited_address);

    assert_int_equal(pthread_create(&fx.loop_thread, NULL, loop_main, NULL), 0);
    *state = &fx;
    return 0;
}

static int teardown_servers(void **state)
{
    event_base_loopexit(fx.base, NULL);
    pthread_join(fx.loop_thread, NULL);

    lg_http_server_free(fx.main_server);
    lg_http_server_free(fx.short_server);
    lg_http_server_free(fx.limited_server);
    lg_http_routes_free(fx.routes);
    event_free(fx.release_event);
    event_base_free(fx.base);

    lg_log_close();
    nftw(fx.tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(fx.static_root);
    free(fx.log_path);
    return 0;
}

/* Client side: blocking sockets with a receive timeout, and http-parser in
 * response mode to find where each response ends. */

static int response_on_status(http_parser *parser, const char *at, size_t len)
{
    response *resp = parser->data;

    resp->status = parser->status_code;
    return 0;
}

static void response_push_header(response *resp)
{
    if (resp->header_count < MAX_RESPONSE_HEADERS) {
        resp->names[resp->header_count] = lg_buf_steal(&resp->field, NULL);
        resp->values[resp->header_count] = lg_buf_steal(&resp->value, NULL);
        resp->header_count++;
    }
    lg_buf_free(&resp->field);
    lg_buf_free(&resp->value);
    resp->in_value = 0;
}

static int response_on_header_field(http_parser *parser, const char *at, size_t len)
{
    response *resp = parser->data;

    if (resp->in_value)
        response_push_header(resp);
    lg_buf_append(&resp->field, at, len);
    return 0;
}

static int response_on_header_value(http_parser *parser, const char *at, size_t len)
{
    response *resp = parser->data;

    resp->in_value = 1;
    lg_buf_append(&resp->value, at, len);
    return 0;
}

static int response_on_headers_complete(http_parser *parser)
{
    response *resp = parser->data;

    resp->status = parser->status_code;
    if (resp->in_value || resp->field.len > 0)
        response_push_header(resp);
    return resp->skip_body ? 1 : 0;
}

static int response_on_body(http_parser *parser, const char *at, size_t len)
{
    response *resp = parser->data;

    lg_buf_append(&resp->body, at, len);
    return 0;
}

static int response_on_message_complete(http_parser *parser)
{
    response *resp = parser->data;

    resp->complete = 1;
    http_parser_pause(parser, 1);
    return 0;
}

static const http_parser_settings response_settings = {
    .on_status = response_on_status,
    .on_header_field = response_on_header_field,
    .on_header_value = response_on_header_value,
    .on_headers_complete = response_on_headers_complete,
    .on_body = response_on_body,
    .on_message_complete = response_on_message_complete,
};

static void response_free(response *resp)
{
    for (size_t i = 0; i < resp->header_count; i++) {
        free(resp->names[i]);
        free(resp->values[i]);
    }
    lg_buf_free(&resp->field);
    lg_buf_free(&resp->value);
    lg_buf_free(&resp->body);
    memset(resp, 0, sizeof(*resp));
}

static const char *response_header(const response *resp, const char *name)
{
    for (size_t i = 0; i < resp->header_count; i++) {
        if (strcasecmp(resp->names[i], name) == 0)
            return resp->values[i];
    }
    return NULL;
}

static const char *response_body(const response *resp)
{
    return resp->body.data ? resp->body.data : "";
}

static void client_connect(client *c, const char *address)
{
    struct sockaddr_in sin;
    struct timeval timeout = {CLIENT_TIMEOUT_MS / 1000, 0};
    const char *colon = strrchr(address, ':');

    memset(c, 0, sizeof(*c));
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)atoi(colon + 1));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(c->fd >= 0);
    assert_int_equal(setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)), 0);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    http_parser_init(&c->parser, HTTP_RESPONSE);
}

static void client_close(client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    lg_buf_free(&c->pending);
}

static void client_send(client *c, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t sent = send(c->fd, data, len, MSG_NOSIGNAL);

        assert_true(sent > 0);
        data += sent;
        len -= (size_t)sent;
    }
}

static void client_send_str(client *c, const char *text)
{
    client_send(c, text, strlen(text));
}

static void client_consume(client *c, size_t len)
{
    memmove(c->pending.data, c->pending.data + len, c->pending.len - len);
    c->pending.len -= len;
}

/* Read one response into RESP (HEAD: expect no body). Returns 0 when it is
 * complete, -1 on EOF, timeout or a malformed response. */
static int client_read_response(client *c, response *resp, int head)
{
    char chunk[4096];

    memset(resp, 0, sizeof(*resp));
    resp->skip_body = head;
    c->parser.data = resp;
    if (HTTP_PARSER_ERRNO(&c->parser) == HPE_PAUSED)
        http_parser_pause(&c->parser, 0);

    for (;;) {
        ssize_t received;

        if (c->pending.len > 0) {
            size_t parsed = http_parser_execute(&c->parser, &response_settings, c->pending.data, c->pending.len);
            enum http_errno error = HTTP_PARSER_ERRNO(&c->parser);

            client_consume(c, parsed);
            if (resp->complete)
                return 0;
            if (error != HPE_OK)
                return -1;
        }

        received = recv(c->fd, chunk, sizeof(chunk), 0);
        if (received <= 0) {
            if (received == 0)
                http_parser_execute(&c->parser, &response_settings, NULL, 0);
            return resp->complete ? 0 : -1;
        }
        lg_buf_append(&c->pending, chunk, (size_t)received);
    }
}

/* Read exactly LEN raw bytes into OUT. Returns 0, or -1 on EOF or timeout. */
static int client_read_raw(client *c, lg_buf *out, size_t len)
{
    char chunk[4096];

    while (c->pending.len < len) {
        ssize_t received = recv(c->fd, chunk, sizeof(chunk), 0);

        if (received <= 0)
            return -1;
        lg_buf_append(&c->pending, chunk, (size_t)received);
    }
    lg_buf_append(out, c->pending.data, len);
    client_consume(c, len);
    return 0;
}

/* Return 1 when the server closes the connection (EOF or reset) within the
 * client timeout without sending anything more. */
static int client_closed_by_server(client *c)
{
    char byte;
    ssize_t received;

    if (c->pending.len > 0)
        return 0;
    received = recv(c->fd, &byte, 1, 0);
    return received == 0 || (received < 0 && errno == ECONNRESET);
}

/* Send REQUEST on a new connection to ADDRESS and read one response. */
static void exchange(const char *address, const char *request, response *resp, int head, int *closed)
{
    client c;

    client_connect(&c, address);
    client_send_str(&c, request);
    assert_int_equal(client_read_response(&c, resp, head), 0);
    if (closed != NULL)
        *closed = client_closed_by_server(&c);
    client_close(&c);
}

static void get(const char *path, response *resp)
{
    char *request = lg_sprintf("GET %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", path);

    exchange(fx.main_address, request, resp, 0, NULL);
    free(request);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Wait until COUNTER equals EXPECTED: the server updates it on its own
 * thread after noticing a close. Returns 1, or 0 after the client timeout. */
static int wait_for_counter(atomic_size_t *counter, size_t expected)
{
    int64_t deadline = lg_clock_monotonic_ms() + CLIENT_TIMEOUT_MS;

    while (atomic_load(counter) != expected) {
        if (lg_clock_monotonic_ms() > deadline)
            return 0;
        sleep_ms(WAIT_STEP_MS);
    }
    return 1;
}

static int wait_for_flag(atomic_int *flag)
{
    int64_t deadline = lg_clock_monotonic_ms() + CLIENT_TIMEOUT_MS;

    while (!atomic_load(flag)) {
        if (lg_clock_monotonic_ms() > deadline)
            return 0;
        sleep_ms(WAIT_STEP_MS);
    }
    return 1;
}

static json_t *body_json(const response *resp)
{
    json_t *json = json_loadb(response_body(resp), resp->body.len, 0, NULL);

    assert_non_null(json);
    return json;
}

static const char *json_field(json_t *json, const char *key)
{
    json_t *value = json_object_get(json, key);

    return json_is_string(value) ? json_string_value(value) : NULL;
}

static void assert_error_response(const response *resp, int status, const char *fragment)
{
    json_t *json = body_json(resp);
    const char *error = json_field(json, "error");

    assert_int_equal(resp->status, status);
    assert_non_null(strstr(response_header(resp, "Content-Type"), "application/json"));
    assert_non_null(error);
    assert_non_null(strstr(error, fragment));
    json_decref(json);
}

static int file_contains(const char *path, const char *needle)
{
    FILE *file = fopen(path, "r");
    char line[4096];
    int found = 0;

    if (file == NULL)
        return 0;
    while (!found && fgets(line, sizeof(line), file) != NULL)
        found = strstr(line, needle) != NULL;
    fclose(file);
    return found;
}

/* Routing, methods and bodies. */

static void test_get_echo(void **state)
{
    response resp;
    json_t *json;
    char length[32];

    get("/echo?x=1&y=two", &resp);
    json = body_json(&resp);
    snprintf(length, sizeof(length), "%zu", resp.body.len);

    assert_int_equal(resp.status, 200);
    assert_string_equal(response_header(&resp, "Content-Length"), length);
    assert_string_equal(response_header(&resp, "Content-Type"), "application/json");
    assert_string_equal(response_header(&resp, "Server"), "livegate");
    assert_non_null(response_header(&resp, "Date"));
    assert_string_equal(json_field(json, "method"), "GET");
    assert_string_equal(json_field(json, "path"), "/echo");
    assert_string_equal(json_field(json, "query"), "x=1&y=two");
    assert_string_equal(json_field(json, "body"), "");
    json_decref(json);
    response_free(&resp);
}

static void test_get_decodes_path(void **state)
{
    response resp;

    get("/%65cho", &resp);

    assert_int_equal(resp.status, 200);
    response_free(&resp);
}

static void test_head_no_body(void **state)
{
    client c;
    response head;
    response after;

    client_connect(&c, fx.main_address);
    client_send_str(&c, "HEAD /echo HTTP/1.1\r\nHost: test\r\n\r\nGET /echo?second=1 HTTP/1.1\r\nHost: test\r\n\r\n");
    assert_int_equal(client_read_response(&c, &head, 1), 0);
    assert_int_equal(client_read_response(&c, &after, 0), 0);

    assert_int_equal(head.status, 200);
    assert_true(atoi(response_header(&head, "Content-Length")) > 0);
    assert_int_equal(head.body.len, 0);
    assert_int_equal(after.status, 200);
    assert_non_null(strstr(response_body(&after), "second=1"));
    response_free(&head);
    response_free(&after);
    client_close(&c);
}

static void test_unknown_path_404(void **state)
{
    response missing;
    response next;

    get("/no/such/path", &missing);
    get("/echo", &next);

    assert_error_response(&missing, 404, "/no/such/path");
    assert_int_equal(next.status, 200);
    response_free(&missing);
    response_free(&next);
}

static void test_method_405(void **state)
{
    response resp;

    exchange(fx.main_address, "DELETE /echo HTTP/1.1\r\nHost: test\r\n\r\n", &resp, 0, NULL);

    assert_error_response(&resp, 405, "DELETE");
    assert_string_equal(response_header(&resp, "Allow"), "GET, HEAD, POST");
    response_free(&resp);
}

static void test_post_echo(void **state)
{
    response resp;
    json_t *json;

    exchange(fx.main_address, "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 11\r\n\r\nhello world", &resp, 0,
             NULL);
    json = body_json(&resp);

    assert_int_equal(resp.status, 200);
    assert_string_equal(json_field(json, "method"), "POST");
    assert_string_equal(json_field(json, "body"), "hello world");
    json_decref(json);
    response_free(&resp);
}

static void test_post_chunked_echo(void **state)
{
    response resp;
    json_t *json;

    exchange(fx.main_address,
             "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
             &resp, 0, NULL);
    json = body_json(&resp);

    assert_int_equal(resp.status, 200);
    assert_string_equal(json_field(json, "body"), "hello world");
    json_decref(json);
    response_free(&resp);
}

static void test_expect_continue(void **state)
{
    client c;
    response interim;
    response final;
    json_t *json;

    client_connect(&c, fx.main_address);
    client_send_str(&c, "POST /echo HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    assert_int_equal(client_read_response(&c, &interim, 0), 0);
    client_send_str(&c, "ping");
    assert_int_equal(client_read_response(&c, &final, 0), 0);
    json = body_json(&final);

    assert_int_equal(interim.status, 100);
    assert_int_equal(final.status, 200);
    assert_string_equal(json_field(json, "body"), "ping");
    json_decref(json);
    response_free(&interim);
    response_free(&final);
    client_close(&c);
}

/* Limits. */

static void test_body_limit_by_length(void **state)
{
    response resp;
    int closed;

    exchange(fx.main_address, "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5000\r\n\r\n", &resp, 0, &closed);

    assert_error_response(&resp, 413, "limit of 4096 bytes (server.limits.max_body_size)");
    assert_string_equal(response_header(&resp, "Connection"), "close");
    assert_true(closed);
    response_free(&resp);
}

static void test_body_limit_chunked(void **state)
{
    lg_buf request = LG_BUF_INIT;
    response resp;
    int closed;
    char chunk[1001];

    memset(chunk, 'x', sizeof(chunk) - 1);
    chunk[sizeof(chunk) - 1] = '\0';
    lg_buf_append_str(&request, "POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 5; i++)
        lg_buf_printf(&request, "3e8\r\n%s\r\n", chunk);
    lg_buf_append_str(&request, "0\r\n\r\n");

    exchange(fx.main_address, request.data, &resp, 0, &closed);

    assert_error_response(&resp, 413, "limit of 4096 bytes (server.limits.max_body_size)");
    assert_true(closed);
    response_free(&resp);
    lg_buf_free(&request);
}

static void test_url_too_long_414(void **state)
{
    lg_buf request = LG_BUF_INIT;
    response resp;
    int closed;

    lg_buf_append_str(&request, "GET /echo?x=");
    for (int i = 0; i < 2 * MAIN_MAX_REQUEST_LINE_BYTES; i++)
        lg_buf_append_char(&request, 'a');
    lg_buf_append_str(&request, " HTTP/1.1\r\nHost: test\r\n\r\n");

    exchange(fx.main_address, request.data, &resp, 0, &closed);

    assert_error_response(&resp, 414, "limit of 1024 bytes (server.limits.max_request_line)");
    assert_true(closed);
    response_free(&resp);
    lg_buf_free(&request);
}

static void test_missing_host_400(void **state)
{
    response resp;
    int closed;

    exchange(fx.main_address, "GET /echo HTTP/1.1\r\n\r\n", &resp, 0, &closed);
    assert_error_response(&resp, 400, "missing Host header");
    response_free(&resp);
}

static void test_unknown_version_505(void **state)
{
    response resp;
    int closed;

    exchange(fx.main_address, "GET /echo HTTP/9.9\r\nHost: test\r\n\r\n", &resp, 0, &closed);
    assert_error_response(&resp, 505, "HTTP version 9.9");
    response_free(&resp);
}

static void test_query_nul_400(void **state)
{
    response resp;
    int closed;

    exchange(fx.main_address, "GET /echo?channel=a%00b HTTP/1.1\r\nHost: test\r\n\r\n", &resp, 0, &closed);
    assert_error_response(&resp, 400, "NUL byte");
    response_free(&resp);
}

static void test_header_count_431(void **state)
{
    lg_buf request = LG_BUF_INIT;
    response resp;
    int closed;

    lg_buf_append_str(&request, "GET /echo HTTP/1.1\r\nHost: test\r\n");
    for (int i = 0; i < MAIN_MAX_HEADER_COUNT + 5; i++)
        lg_buf_printf(&request, "X-Header-%d: %d\r\n", i, i);
    lg_buf_append_str(&request, "\r\n");

    exchange(fx.main_address, request.data, &resp, 0, &closed);

    assert_error_response(&resp, 431, "more than 20 header fields (server.limits.max_header_count)");
    assert_true(closed);
    response_free(&resp);
    lg_buf_free(&request);
}

static void test_header_bytes_431(void **state)
{
    lg_buf request = LG_BUF_INIT;
    response resp;
    int closed;

    lg_buf_append_str(&request, "GET /echo HTTP/1.1\r\nHost: test\r\nX-Large: ");
    for (int i = 0; i < MAIN_MAX_HEADER_BYTES + 100; i++)
        lg_buf_append_char(&request, 'v');
    lg_buf_append_str(&request, "\r\n\r\n");

    exchange(fx.main_address, request.data, &resp, 0, &closed);

    assert_error_response(&resp, 431, "limit of 2048 bytes (server.limits.max_header_size)");
    assert_true(closed);
    response_free(&resp);
    lg_buf_free(&request);
}

static void test_malformed_400(void **state)
{
    response bad_method;
    response bad_header;
    int closed;

    exchange(fx.main_address, "G3T / HTTP/1.1\r\n\r\n", &bad_method, 0, &closed);
    exchange(fx.main_address, "GET /echo HTTP/1.1\r\nBad Header\r\n\r\n", &bad_header, 0, NULL);

    assert_error_response(&bad_method, 400, "HPE_INVALID_METHOD");
    assert_true(closed);
    assert_error_response(&bad_header, 400, "HPE_INVALID_HEADER_TOKEN");
    response_free(&bad_method);
    response_free(&bad_header);
}

static void test_nul_in_path_400(void **state)
{
    response resp;

    get("/echo%00.js", &resp);

    assert_error_response(&resp, 400, "NUL");
    response_free(&resp);
}

/* Connections. */

static void test_keep_alive_sequential(void **state)
{
    client c;
    response first;
    response second;

    client_connect(&c, fx.main_address);
    client_send_str(&c, "GET /echo?n=1 HTTP/1.1\r\nHost: test\r\n\r\n");
    assert_int_equal(client_read_response(&c, &first, 0), 0);
    client_send_str(&c, "GET /echo?n=2 HTTP/1.1\r\nHost: test\r\n\r\n");
    assert_int_equal(client_read_response(&c, &second, 0), 0);

    assert_int_equal(first.status, 200);
    assert_null(response_header(&first, "Connection"));
    assert_int_equal(second.status, 200);
    assert_non_null(strstr(response_body(&second), "n=2"));
    response_free(&first);
    response_free(&second);
    client_close(&c);
}

static void test_pipelined_in_order(void **state)
{
    client c;
    response first;
    response second;

    client_connect(&c, fx.main_address);
    client_send_str(&c, "GET /async?n=1 HTTP/1.1\r\nHost: test\r\n\r\nGET /echo?n=2 HTTP/1.1\r\nHost: test\r\n\r\n");
    assert_int_equal(client_read_response(&c, &first, 0), 0);
    assert_int_equal(client_read_response(&c, &second, 0), 0);

    assert_int_equal(first.status, 200);
    assert_string_equal(response_body(&first), "async:n=1");
    assert_int_equal(second.status, 200);
    assert_non_null(strstr(response_body(&second), "\"query\":\"n=2\""));
    response_free(&first);
    response_free(&second);
    client_close(&c);
}

static void test_connection_close(void **state)
{
    response resp;
    int closed;

    exchange(fx.main_address, "GET /echo HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", &resp, 0, &closed);

    assert_int_equal(resp.status, 200);
    assert_string_equal(response_header(&resp, "Connection"), "close");
    assert_true(closed);
    response_free(&resp);
}

static void test_http10_closes(void **state)
{
    response resp;
    int closed;

    exchange(fx.main_address, "GET /echo HTTP/1.0\r\n\r\n", &resp, 0, &closed);

    assert_int_equal(resp.status, 200);
    assert_string_equal(response_header(&resp, "Connection"), "close");
    assert_true(closed);
    response_free(&resp);
}

static void test_http10_keep_alive(void **state)
{
    client c;
    response first;
    response second;

    client_connect(&c, fx.main_address);
    client_send_str(&c, "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_int_equal(client_read_response(&c, &first, 0), 0);
    client_send_str(&c, "GET /echo HTTP/1.0\r\n\r\n");
    assert_int_equal(client_read_response(&c, &second, 0), 0);

    assert_string_equal(response_header(&first, "Connection"), "keep-alive");
    assert_int_equal(second.status, 200);
    assert_string_equal(response_header(&second, "Connection"), "close");
    assert_true(client_closed_by_server(&c));
    response_free(&first);
    response_free(&second);
    client_close(&c);
}

static void test_async_answer(void **state)
{
    response resp;

    get("/async?id=7", &resp);

    assert_int_equal(resp.status, 200);
    assert_string_equal(response_body(&resp), "async:id=7");
    response_free(&resp);
}

static void test_client_gone_while_pending(void **state)
{
    client c;
    response after;

    assert_true(wait_for_counter(&fx.main_connections, 0));
    atomic_store(&fx.hold_started, 0);
    atomic_store(&fx.hold_answered, 0);

    client_connect(&c, fx.main_address);
    client_send_str(&c, "GET /hold HTTP/1.1\r\nHost: test\r\n\r\n");
    assert_true(wait_for_flag(&fx.hold_started));
    client_close(&c);
    assert_true(wait_for_counter(&fx.main_connections, 0));
    event_active(fx.release_event, 0, 0);
    assert_true(wait_for_flag(&fx.hold_answered));
    get("/echo", &after);

    assert_true(atomic_load(&fx.held_was_gone));
    assert_int_equal(after.status, 200);
    response_free(&after);
}

static void test_idle_timeout(void **state)
{
    client c;
    int64_t start = lg_clock_monotonic_ms();
    int64_t elapsed;

    client_connect(&c, fx.short_address);
    assert_true(client_closed_by_server(&c));
    elapsed = lg_clock_monotonic_ms() - start;

    assert_true(elapsed >= SHORT_IDLE_TIMEOUT_MS - 50);
    assert_true(elapsed < CLIENT_TIMEOUT_MS);
    client_close(&c);
}

static void test_request_timeout_408(void **state)
{
    client c;
    response resp;

    client_connect(&c, fx.short_address);
    client_send_str(&c, "GET /echo HTTP/1.1\r\nHost: te");
    assert_int_equal(client_read_response(&c, &resp, 0), 0);

    assert_error_response(&resp, 408, "within 300 ms (server.limits.request_timeout)");
    assert_true(client_closed_by_server(&c));
    response_free(&resp);
    client_close(&c);
}

static void test_max_connections_503(void **state)
{
    client first;
    client second;
    client over;
    client again;
    response resp;

    assert_true(wait_for_counter(&fx.limited_connections, 0));
    client_connect(&first, fx.limited_address);
    client_send_str(&first, "GET /echo HTTP/1.1\r\nHost: test\r\n\r\n");
    assert_int_equal(client_read_response(&first, &resp, 0), 0);
    response_free(&resp);
    client_connect(&second, fx.limited_address);
    client_send_str(&second, "GET /echo HTTP/1.1\r\nHost: test\r\n\r\n");
    assert_int_equal(client_read_response(&second, &resp, 0), 0);
    response_free(&resp);
    assert_int_equal(atomic_load(&fx.limited_connections), LIMITED_MAX_CONNECTIONS);

    client_connect(&over, fx.limited_address);
    client_send_str(&over, "GET /echo HTTP/1.1\r\nHost: test\r\n\r\n");
    assert_int_equal(client_read_response(&over, &resp, 0), 0);
    assert_error_response(&resp, 503, "max_connections (2)");
    assert_true(client_closed_by_server(&over));
    response_free(&resp);
    client_close(&over);

    client_close(&first);
    assert_true(wait_for_counter(&fx.limited_connections, LIMITED_MAX_CONNECTIONS - 1));
    client_connect(&again, fx.limited_address);
    client_send_str(&again, "GET /echo HTTP/1.1\r\nHost: test\r\n\r\n");
    assert_int_equal(client_read_response(&again, &resp, 0), 0);
    assert_int_equal(resp.status, 200);
    response_free(&resp);
    client_close(&again);
    client_close(&second);
}

static void test_detach_leftover(void **state)
{
    static const char expected[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nleftover:RAW-BYTES";
    client c;
    lg_buf received = LG_BUF_INIT;
    lg_buf echoed = LG_BUF_INIT;

    assert_true(wait_for_counter(&fx.main_connections, 0));
    client_connect(&c, fx.main_address);
    client_send_str(&c, "GET /detach HTTP/1.1\r\nHost: test\r\n\r\nRAW-BYTES");
    assert_int_equal(client_read_raw(&c, &received, strlen(expected)), 0);
    client_send_str(&c, "more");
    assert_int_equal(client_read_raw(&c, &echoed, 4), 0);

    assert_memory_equal(received.data, expected, strlen(expected));
    assert_memory_equal(echoed.data, "more", 4);
    assert_int_equal(atomic_load(&fx.main_connections), 1);
    client_close(&c);
    assert_true(wait_for_counter(&fx.main_connections, 0));
    lg_buf_free(&received);
    lg_buf_free(&echoed);
}

static void test_query_params(void **state)
{
    response resp;
    json_t *json;

    get("/query?a=1&b=hello+world&a=%41%42&c=&d&e=%zz&space+name=%2B", &resp);
    json = body_json(&resp);

    assert_int_equal(resp.status, 200);
    assert_string_equal(json_field(json, "a0"), "1");
    assert_string_equal(json_field(json, "a1"), "AB");
    assert_true(json_is_null(json_object_get(json, "a2")));
    assert_string_equal(json_field(json, "b"), "hello world");
    assert_string_equal(json_field(json, "c"), "");
    assert_string_equal(json_field(json, "d"), "");
    assert_string_equal(json_field(json, "e"), "%zz");
    assert_string_equal(json_field(json, "space name"), "+");
    assert_true(json_is_null(json_object_get(json, "missing")));
    json_decref(json);
    response_free(&resp);
}

static void test_access_log_line(void **state)
{
    response resp;

    get("/access-log-check", &resp);

    assert_int_equal(resp.status, 404);
    assert_true(file_contains(fx.log_path, "\"GET /access-log-check\" 404"));
    response_free(&resp);
}

/* Static files. */

static void test_static_file(void **state)
{
    response resp;
    char length[32];

    get("/www/app.js", &resp);
    snprintf(length, sizeof(length), "%zu", strlen(app_js));

    assert_int_equal(resp.status, 200);
    assert_string_equal(response_body(&resp), app_js);
    assert_string_equal(response_header(&resp, "Content-Type"), "text/javascript; charset=utf-8");
    assert_string_equal(response_header(&resp, "Content-Length"), length);
    assert_string_equal(response_header(&resp, "Cache-Control"), "public, max-age=3600");
    assert_string_equal(response_header(&resp, "X-Content-Type-Options"), "nosniff");
    assert_non_null(response_header(&resp, "ETag"));
    assert_non_null(response_header(&resp, "Last-Modified"));
    response_free(&resp);
}

static void test_static_head(void **state)
{
    response resp;
    char length[32];

    exchange(fx.main_address, "HEAD /www/app.js HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", &resp, 1, NULL);
    snprintf(length, sizeof(length), "%zu", strlen(app_js));

    assert_int_equal(resp.status, 200);
    assert_string_equal(response_header(&resp, "Content-Length"), length);
    assert_int_equal(resp.body.len, 0);
    response_free(&resp);
}

static void test_static_etag_304(void **state)
{
    response first;
    response cached;
    response changed;
    char *request;

    get("/www/app.js", &first);
    request = lg_sprintf("GET /www/app.js HTTP/1.1\r\nHost: test\r\nIf-None-Match: \"other\", %s\r\n\r\n",
                         response_header(&first, "ETag"));
    exchange(fx.main_address, request, &cached, 0, NULL);
    free(request);

    /* If-None-Match wins over an If-Modified-Since that alone would give 304. */
    request = lg_sprintf("GET /www/app.js HTTP/1.1\r\nHost: test\r\nIf-None-Match: \"other\"\r\n"
                         "If-Modified-Since: %s\r\n\r\n",
                         response_header(&first, "Last-Modified"));
    exchange(fx.main_address, request, &changed, 0, NULL);
    free(request);

    assert_int_equal(cached.status, 304);
    assert_int_equal(cached.body.len, 0);
    assert_string_equal(response_header(&cached, "ETag"), response_header(&first, "ETag"));
    assert_string_equal(response_header(&cached, "X-Content-Type-Options"), "nosniff");
    assert_int_equal(changed.status, 200);
    assert_string_equal(response_body(&changed), app_js);
    response_free(&first);
    response_free(&cached);
    response_free(&changed);
}

static void test_static_if_modified_since(void **state)
{
    response first;
    response cached;
    response stale;
    char *request;

    get("/www/app.js", &first);
    request = lg_sprintf("GET /www/app.js HTTP/1.1\r\nHost: test\r\nIf-Modified-Since: %s\r\n\r\n",
                         response_header(&first, "Last-Modified"));
    exchange(fx.main_address, request, &cached, 0, NULL);
    free(request);
    exchange(fx.main_address,
             "GET /www/app.js HTTP/1.1\r\nHost: test\r\nIf-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT\r\n\r\n",
             &stale, 0, NULL);

    assert_int_equal(cached.status, 304);
    assert_int_equal(cached.body.len, 0);
    assert_int_equal(stale.status, 200);
    assert_string_equal(response_body(&stale), app_js);
    response_free(&first);
    response_free(&cached);
    response_free(&stale);
}

static void test_static_directory_index(void **state)
{
    response top;
    response sub;

    get("/www/", &top);
    get("/www/sub/", &sub);

    assert_int_equal(top.status, 200);
    assert_string_equal(response_body(&top), www_index);
    assert_string_equal(response_header(&top, "Content-Type"), "text/html; charset=utf-8");
    assert_string_equal(response_header(&top, "Cache-Control"), "no-cache");
    assert_int_equal(sub.status, 200);
    assert_string_equal(response_body(&sub), sub_index);
    response_free(&top);
    response_free(&sub);
}

static void test_static_directory_redirect(void **state)
{
    response resp;

    get("/www/sub?tab=2", &resp);

    assert_int_equal(resp.status, 301);
    assert_string_equal(response_header(&resp, "Location"), "/www/sub/?tab=2");
    response_free(&resp);
}

static void test_static_traversal_404(void **state)
{
    static const char *const paths[] = {
        "/www/../www/app.js",
        "/www/%2e%2e/www/app.js",
        "/www/..%2fwww%2fapp.js",
        "/www/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/www/../../secret.txt",
        "/www/sub/%5c..%5capp.js",
    };

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        response resp;

        get(paths[i], &resp);
        assert_error_response(&resp, 404, "not found");
        assert_null(strstr(response_body(&resp), "secret"));
        response_free(&resp);
    }
}

static void test_static_symlinks(void **state)
{
    response outside;
    response inside;

    get("/www/link.txt", &outside);
    get("/www/inside.js", &inside);

    assert_error_response(&outside, 404, "not found");
    assert_int_equal(inside.status, 200);
    assert_string_equal(response_body(&inside), app_js);
    response_free(&outside);
    response_free(&inside);
}

static void test_static_missing_404(void **state)
{
    response resp;

    get("/www/missing.txt", &resp);

    assert_error_response(&resp, 404, "not found");
    assert_string_equal(response_header(&resp, "X-Content-Type-Options"), "nosniff");
    response_free(&resp);
}

/* Helpers without a server. */

static void test_listen_address_errors(void **state)
{
    lg_error err;

    assert_int_equal(lg_http_listen("127.0.0.1", 0, &err), -1);
    assert_non_null(strstr(err.message, "127.0.0.1"));
    assert_int_equal(lg_http_listen("127.0.0.1:99999", 0, &err), -1);
    assert_non_null(strstr(err.message, "port"));
    assert_int_equal(lg_http_listen("[::1:80", 0, &err), -1);
    assert_non_null(strstr(err.message, "[::1:80"));
    assert_int_equal(lg_http_listen("127.0.0.1:http", 0, &err), -1);
    assert_non_null(strstr(err.message, "port"));
}

static void test_listen_port_in_use(void **state)
{
    lg_error err;
    char address[LG_HTTP_PEER_BYTES];
    evutil_socket_t fd = lg_http_listen("127.0.0.1:0", 0, &err);

    assert_true(fd >= 0);
    assert_int_equal(lg_http_socket_address(fd, address, sizeof(address)), 0);
    assert_int_equal(lg_http_listen(address, 0, &err), -1);
    assert_non_null(strstr(err.message, address));
    assert_non_null(strstr(err.message, "bind()"));
    close(fd);
}

static void test_listen_ipv6_port_zero(void **state)
{
    lg_error err;
    char address[LG_HTTP_PEER_BYTES];
    evutil_socket_t fd = lg_http_listen("[::1]:0", 1, &err);

    if (fd < 0) {
        skip(); /* no IPv6 loopback on this machine */
        return;
    }
    assert_int_equal(lg_http_socket_address(fd, address, sizeof(address)), 0);
    assert_memory_equal(address, "[::1]:", 6);
    assert_true(atoi(address + 6) > 0);
    close(fd);
}

static void test_address_is_loopback(void **state)
{
    assert_true(lg_http_address_is_loopback("127.0.0.1:8080"));
    assert_true(lg_http_address_is_loopback("127.1.2.3:80"));
    assert_true(lg_http_address_is_loopback("[::1]:8081"));
    assert_true(lg_http_address_is_loopback("localhost:80"));
    assert_false(lg_http_address_is_loopback("0.0.0.0:8080"));
    assert_false(lg_http_address_is_loopback("[::]:8080"));
    assert_false(lg_http_address_is_loopback("192.168.1.1:80"));
    assert_false(lg_http_address_is_loopback(":8080"));
}

static void test_status_text(void **state)
{
    assert_string_equal(lg_http_status_text(404), "Not Found");
    assert_string_equal(lg_http_status_text(431), "Request Header Fields Too Large");
    assert_string_equal(lg_http_status_text(299), "Unknown");
}

int main(void)
{
    const struct CMUnitTest server_tests[] = {
        cmocka_unit_test(test_get_echo),
        cmocka_unit_test(test_get_decodes_path),
        cmocka_unit_test(test_head_no_body),
        cmocka_unit_test(test_unknown_path_404),
        cmocka_unit_test(test_method_405),
        cmocka_unit_test(test_missing_host_400),
        cmocka_unit_test(test_unknown_version_505),
        cmocka_unit_test(test_query_nul_400),
        cmocka_unit_test(test_post_echo),
        cmocka_unit_test(test_post_chunked_echo),
        cmocka_unit_test(test_expect_continue),
        cmocka_unit_test(test_body_limit_by_length),
        cmocka_unit_test(test_body_limit_chunked),
        cmocka_unit_test(test_url_too_long_414),
        cmocka_unit_test(test_header_count_431),
        cmocka_unit_test(test_header_bytes_431),
        cmocka_unit_test(test_malformed_400),
        cmocka_unit_test(test_nul_in_path_400),
        cmocka_unit_test(test_keep_alive_sequential),
        cmocka_unit_test(test_pipelined_in_order),
        cmocka_unit_test(test_connection_close),
        cmocka_unit_test(test_http10_closes),
        cmocka_unit_test(test_http10_keep_alive),
        cmocka_unit_test(test_async_answer),
        cmocka_unit_test(test_client_gone_while_pending),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_request_timeout_408),
        cmocka_unit_test(test_max_connections_503),
        cmocka_unit_test(test_detach_leftover),
        cmocka_unit_test(test_query_params),
        cmocka_unit_test(test_access_log_line),
        cmocka_unit_test(test_static_file),
        cmocka_unit_test(test_static_head),
        cmocka_unit_test(test_static_etag_304),
        cmocka_unit_test(test_static_if_modified_since),
        cmocka_unit_test(test_static_directory_index),
        cmocka_unit_test(test_static_directory_redirect),
        cmocka_unit_test(test_static_traversal_404),
        cmocka_unit_test(test_static_symlinks),
        cmocka_unit_test(test_static_missing_404),
    };
    const struct CMUnitTest helper_tests[] = {
        cmocka_unit_test(test_listen_address_errors),
        cmocka_unit_test(test_listen_port_in_use),
        cmocka_unit_test(test_listen_ipv6_port_zero),
        cmocka_unit_test(test_address_is_loopback),
        cmocka_unit_test(test_status_text),
    };
    int failed = 0;

    failed += cmocka_run_group_tests_name("http_server", server_tests, setup_servers, teardown_servers);
    failed += cmocka_run_group_tests_name("http_helpers", helper_tests, NULL, NULL);
    return failed;
}
