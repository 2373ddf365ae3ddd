/* HTTP requests: http-parser callbacks that fill a request and enforce the limits, and request accessors. */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "alloc.h"
#include "clock.h"
#include "http.h"
#include "http_internal.h"

static const char continue_response[] = "HTTP/1.1 100 Continue\r\n\r\n";

/* Stop the parser with STATUS: the callback returns -1, and the connection
 * sends the error response once http_parser_execute has returned. */
static int __attribute__((format(printf, 3, 4))) reject(http_parser *parser, int status, const char *fmt, ...)
{
    lg_http_conn *conn = parser->data;
    va_list args;

    free(conn->reject_message);
    va_start(args, fmt);
    conn->reject_message = lg_vsprintf(fmt, args);
    va_end(args);
    conn->reject_status = status;
    return -1;
}

static const lg_http_limits *conn_limits(http_parser *parser)
{
    lg_http_conn *conn = parser->data;

    return &conn->server->limits;
}

static lg_http_request *conn_request(http_parser *parser)
{
    lg_http_conn *conn = parser->data;

    if (conn->req == NULL)
        conn->req = lg_http_request_create(conn);
    return conn->req;
}

static void push_header(lg_http_request *req)
{
    lg_http_header *header;

    if (req->header_count == req->header_cap) {
        req->header_cap = req->header_cap ? 2 * req->header_cap : 8;
        req->headers = lg_realloc(req->headers, req->header_cap * sizeof(*req->headers));
    }

    /* A field value has no trailing spaces or tabs (RFC 9110, section 5.5);
     * the parser drops the leading ones. */
    while (req->value.len > 0 && (req->value.data[req->value.len - 1] == ' ' ||
                                  req->value.data[req->value.len - 1] == '\t'))
        req->value.data[--req->value.len] = '\0';

    header = &req->headers[req->header_count++];
    header->name = lg_buf_steal(&req->field, NULL);
    header->value = lg_buf_steal(&req->value, NULL);
    req->in_value = 0;
}

static int add_header_bytes(http_parser *parser, lg_http_request *req, size_t len)
{
    size_t limit = conn_limits(parser)->max_header_bytes;

    req->header_bytes += len;
    if (limit > 0 && req->header_bytes > limit)
        return reject(parser, 431, "request headers exceed the limit of %zu bytes (server.limits.max_header_size)", limit);
    return 0;
}

static int on_message_begin(http_parser *parser)
{
    lg_http_conn *conn = parser->data;

    conn_request(parser);
    lg_http_conn_arm_timer(conn, conn->server->limits.request_timeout_ms);
    return 0;
}

static int on_url(http_parser *parser, const char *at, size_t len)
{
    lg_http_request *req = conn_request(parser);
    size_t limit = conn_limits(parser)->max_request_line_bytes;

    req->method = http_method_str(parser->method);
    if (limit > 0 && strlen(req->method) + req->url.len + len > limit)
        return reject(parser, 414, "request line exceeds the limit of %zu bytes (server.limits.max_request_line)", limit);

    lg_buf_append(&req->url, at, len);
    return 0;
}

static int on_header_field(http_parser *parser, const char *at, size_t len)
{
    lg_http_request *req = conn_request(parser);
    size_t limit = conn_limits(parser)->max_header_count;

    if (req->in_value)
        push_header(req);

    if (req->field.len == 0 && limit > 0 && req->header_count + 1 > limit)
        return reject(parser, 431, "request has more than %zu header fields (server.limits.max_header_count)", limit);

    if (add_header_bytes(parser, req, len) < 0)
        return -1;

    lg_buf_append(&req->field, at, len);
    return 0;
}

static int on_header_value(http_parser *parser, const char *at, size_t len)
{
    lg_http_request *req = conn_request(parser);

    req->in_value = 1;
    if (add_header_bytes(parser, req, len) < 0)
        return -1;

    lg_buf_append(&req->value, at, len);
    return 0;
}

/* Split the request target into path and query and decode the path.
 * Returns 0, or -1 after rejecting the request with 400. */
static int split_url(http_parser *parser, lg_http_request *req)
{
    struct http_parser_url url;
    const char *text = req->url.data ? req->url.data : "";
    size_t decoded_len;

    http_parser_url_init(&url);
    if (http_parser_parse_url(text, req->url.len, parser->method == HTTP_CONNECT, &url) != 0)
        return reject(parser, 400, "invalid request target");

    if (url.field_set & (1 << UF_PATH))
        req->raw_path = lg_strndup(text + url.field_data[UF_PATH].off, url.field_data[UF_PATH].len);
    else
        req->raw_path = lg_strdup("/");

    if (url.field_set & (1 << UF_QUERY))
        req->query = lg_strndup(text + url.field_data[UF_QUERY].off, url.field_data[UF_QUERY].len);
    else
        req->query = lg_strdup("");

    req->path = lg_http_percent_decode(req->raw_path, strlen(req->raw_path), 0, 1, &decoded_len);
    if (req->path == NULL)
        return reject(parser, 400, "invalid percent-encoding in path");
    if (strlen(req->path) != decoded_len)
        return reject(parser, 400, "invalid path: it contains a NUL byte");
    return 0;
}

static int body_expected(const http_parser *parser)
{
    return (parser->flags & F_CHUNKED) || (parser->content_length > 0 && parser->content_length != ULLONG_MAX);
}

static void send_continue(http_parser *parser, lg_http_request *req)
{
    lg_http_conn *conn = parser->data;
    const char *expect = lg_http_request_header(req, "Expect");

    if (expect == NULL || strcasecmp(expect, "100-continue") != 0)
        return;
    if (parser->http_major < 1 || (parser->http_major == 1 && parser->http_minor < 1) || !body_expected(parser))
        return;
    bufferevent_write(conn->bev, continue_response, sizeof(continue_response) - 1);
}

static int on_headers_complete(http_parser *parser)
{
    lg_http_request *req = conn_request(parser);
    size_t limit = conn_limits(parser)->max_body_bytes;

    if (req->in_value || req->field.len > 0)
        push_header(req);

    req->method = http_method_str(parser->method);
    req->is_head = parser->method == HTTP_HEAD;
    req->http_1_0 = parser->http_major < 1 || (parser->http_major == 1 && parser->http_minor == 0);
    if (parser->http_major != 1)
        return reject(parser, 505, "HTTP version %u.%u is not supported: use HTTP/1.1", parser->http_major,
                      parser->http_minor);
    if (!req->http_1_0 && lg_http_request_header(req, "Host") == NULL)
        return reject(parser, 400, "missing Host header (required by HTTP/1.1)");
    if (split_url(parser, req) < 0)
        return -1;
    if (strstr(req->query, "%00") != NULL)
        return reject(parser, 400, "invalid query: it contains an encoded NUL byte (%%00)");

    if (limit > 0 && parser->content_length != ULLONG_MAX && parser->content_length > limit)
        return reject(parser, 413, "request body exceeds the limit of %zu bytes (server.limits.max_body_size)", limit);

    /* After an upgrade request the bytes that follow belong to another
     * protocol, so unless a handler detaches, the connection closes. */
    req->keep_alive = http_should_keep_alive(parser) && !parser->upgrade;

    send_continue(parser, req);
    return 0;
}

static int on_chunk_header(http_parser *parser)
{
    lg_http_request *req = conn_request(parser);
    size_t limit = conn_limits(parser)->max_body_bytes;

    if (limit > 0 && parser->content_length > limit - req->body.len)
        return reject(parser, 413, "request body exceeds the limit of %zu bytes (server.limits.max_body_size)", limit);
    return 0;
}

static int on_body(http_parser *parser, const char *at, size_t len)
{
    lg_http_request *req = conn_request(parser);
    size_t limit = conn_limits(parser)->max_body_bytes;

    if (limit > 0 && len > limit - req->body.len)
        return reject(parser, 413, "request body exceeds the limit of %zu bytes (server.limits.max_body_size)", limit);

    lg_buf_append(&req->body, at, len);
    return 0;
}

/* Pause so that http_parser_execute returns right after this message and
 * pipelined requests wait until this one has its response. */
static int on_message_complete(http_parser *parser)
{
    lg_http_request *req = conn_request(parser);

    req->complete = 1;
    http_parser_pause(parser, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
    .on_chunk_header = on_chunk_header,
};

const http_parser_settings *lg_http_parser_settings(void)
{
    return &parser_settings;
}

lg_http_request *lg_http_request_create(lg_http_conn *conn)
{
    lg_http_request *req = lg_calloc(1, sizeof(*req));

    req->conn = conn;
    req->base = conn->server->base;
    req->context = conn->server->context;
    memcpy(req->peer, conn->peer, sizeof(req->peer));
    req->start_ms = lg_clock_monotonic_ms();
    return req;
}

void lg_http_request_destroy(lg_http_request *req)
{
    if (req == NULL)
        return;

    for (size_t i = 0; i < req->header_count; i++) {
        free(req->headers[i].name);
        free(req->headers[i].value);
    }
    free(req->headers);
    lg_buf_free(&req->field);
    lg_buf_free(&req->value);
    lg_buf_free(&req->url);
    lg_buf_free(&req->body);
    lg_buf_free(&req->response_headers);
    free(req->raw_path);
    free(req->path);
    free(req->query);
    free(req);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *lg_http_percent_decode(const char *src, size_t len, int plus_is_space, int strict, size_t *out_len)
{
    char *out = lg_malloc(len + 1);
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        int high = i + 2 < len ? hex_value(src[i + 1]) : -1;
        int low = i + 2 < len ? hex_value(src[i + 2]) : -1;

        if (src[i] == '+' && plus_is_space) {
            out[n++] = ' ';
        } else if (src[i] != '%') {
            out[n++] = src[i];
        } else if (high >= 0 && low >= 0) {
            out[n++] = (char)(high * 16 + low);
            i += 2;
        } else if (strict) {
            free(out);
            return NULL;
        } else {
            out[n++] = src[i];
        }
    }

    out[n] = '\0';
    if (out_len != NULL)
        *out_len = n;
    return out;
}

const char *lg_http_request_method(const lg_http_request *req)
{
    return req->method ? req->method : "";
}

const char *lg_http_request_path(const lg_http_request *req)
{
    return req->path ? req->path : "";
}

int lg_http_request_is_http_1_0(const lg_http_request *req)
{
    return req->http_1_0;
}

const char *lg_http_request_query(const lg_http_request *req)
{
    return req->query ? req->query : "";
}

const char *lg_http_request_header(const lg_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    }
    return NULL;
}

const char *lg_http_request_peer(const lg_http_request *req)
{
    return req->peer;
}

const void *lg_http_request_body(const lg_http_request *req, size_t *len)
{
    if (len != NULL)
        *len = req->body.len;
    return req->body.data ? req->body.data : "";
}

struct event_base *lg_http_request_base(const lg_http_request *req)
{
    return req->base;
}

void *lg_http_request_context(const lg_http_request *req)
{
    return req->context;
}

char *lg_http_query_param(const lg_http_request *req, const char *name, size_t index)
{
    const char *cursor = lg_http_request_query(req);
    size_t seen = 0;

    while (*cursor != '\0') {
        size_t pair_len = strcspn(cursor, "&");
        const char *equals = memchr(cursor, '=', pair_len);
        size_t name_len = equals ? (size_t)(equals - cursor) : pair_len;
        char *decoded_name = lg_http_percent_decode(cursor, name_len, 1, 0, NULL);
        int match = strcmp(decoded_name, name) == 0;

        free(decoded_name);
        if (match && seen++ == index) {
            if (equals == NULL)
                return lg_strdup("");
            return lg_http_percent_decode(equals + 1, pair_len - name_len - 1, 1, 0, NULL);
        }

        cursor += pair_len;
        if (*cursor == '&')
            cursor++;
    }
    return NULL;
}
