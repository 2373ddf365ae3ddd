/* HTTP responses: status line and headers, bodies, JSON errors, HTTP dates and the access log line. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "alloc.h"
#include "buf.h"
#include "clock.h"
#include "http.h"
#include "http_internal.h"
#include "log.h"

static const char *const weekday_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

typedef struct status_entry {
    int status;
    const char *text;
} status_entry;

static const status_entry status_texts[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {422, "Unprocessable Content"},
    {426, "Upgrade Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

const char *lg_http_status_text(int status)
{
    for (size_t i = 0; i < sizeof(status_texts) / sizeof(status_texts[0]); i++) {
        if (status_texts[i].status == status)
            return status_texts[i].text;
    }
    return "Unknown";
}

void lg_http_format_date(time_t when, char out[LG_HTTP_DATE_BYTES])
{
    struct tm tm;

    gmtime_r(&when, &tm);
    snprintf(out, LG_HTTP_DATE_BYTES, "%s, %02d %s %04d %02d:%02d:%02d GMT", weekday_names[tm.tm_wday],
             tm.tm_mday, month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* NOTE: only IMF-fixdate is understood; the obsolete RFC 850 and asctime
 * forms that RFC 9110 requires recipients to accept are treated as invalid,
 * which only costs a full response instead of a 304. */
int lg_http_parse_date(const char *text, time_t *when)
{
    char weekday[4];
    char month[4];
    struct tm tm;
    int consumed = 0;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(text, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", weekday, &tm.tm_mday, month, &tm.tm_year,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 7 || consumed == 0)
        return -1;

    tm.tm_mon = -1;
    for (int i = 0; i < 12; i++) {
        if (strcmp(month, month_names[i]) == 0)
            tm.tm_mon = i;
    }
    if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;

    tm.tm_year -= 1900;
    *when = timegm(&tm);
    return 0;
}

/* Header names are RFC 9110 tokens; values must not contain CR, LF or NUL,
 * which would let a value inject headers of its own. */
static int header_is_valid(const char *name, const char *value)
{
    static const char token_chars[] = "!#$%&'*+-.^_`|~0123456789"
                                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    if (name[0] == '\0' || strspn(name, token_chars) != strlen(name))
        return 0;
    return strpbrk(value, "\r\n") == NULL;
}

void lg_http_add_header(lg_http_request *req, const char *name, const char *value)
{
    const char *scope = req->conn ? req->conn->server->scope : "http";

    if (!header_is_valid(name, value)) {
        LG_LOG_WARN(scope, "response header '%s' dropped: invalid name, or CR or LF in the value", name);
        return;
    }
    lg_buf_printf(&req->response_headers, "%s: %s\r\n", name, value);
}

struct evbuffer *lg_http_response_output(lg_http_request *req)
{
    return bufferevent_get_output(req->conn->bev);
}

static int status_has_body(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

int lg_http_response_start(lg_http_request *req, int status, const char *content_type, uint64_t content_length,
                           int send_length)
{
    struct evbuffer *out = lg_http_response_output(req);
    char date[LG_HTTP_DATE_BYTES];

    lg_http_format_date(time(NULL), date);
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: livegate\r\n", status,
                        lg_http_status_text(status), date);

    if (content_type != NULL)
        evbuffer_add_printf(out, "Content-Type: %s\r\n", content_type);
    if (send_length)
        evbuffer_add_printf(out, "Content-Length: %" PRIu64 "\r\n", content_length);
    if (req->response_headers.len > 0)
        evbuffer_add(out, req->response_headers.data, req->response_headers.len);

    if (!req->keep_alive)
        evbuffer_add_printf(out, "Connection: close\r\n");
    else if (req->http_1_0)
        evbuffer_add_printf(out, "Connection: keep-alive\r\n");
    evbuffer_add(out, "\r\n", 2);

    return !req->is_head && status_has_body(status);
}

void lg_http_response_finish(lg_http_request *req, int status, uint64_t body_bytes)
{
    lg_http_conn *conn = req->conn;
    int keep_alive = req->keep_alive;

    LG_LOG_DEBUG(conn->server->scope, "%s \"%s %s\" %d %" PRIu64 " bytes in %" PRId64 " ms", req->peer,
                 req->method ? req->method : "-", req->raw_path ? req->raw_path : "-", status, body_bytes,
                 lg_clock_monotonic_ms() - req->start_ms);

    conn->req = NULL;
    lg_http_request_destroy(req);
    lg_http_conn_response_queued(conn, keep_alive);
}

void lg_http_respond(lg_http_request *req, int status, const char *content_type, const void *body, size_t len)
{
    uint64_t sent = 0;

    if (req->conn == NULL) {
        lg_http_request_destroy(req);
        return;
    }

    if (lg_http_response_start(req, status, content_type, len, status_has_body(status)) && len > 0) {
        evbuffer_add(lg_http_response_output(req), body, len);
        sent = len;
    }
    lg_http_response_finish(req, status, sent);
}

void lg_http_respond_error(lg_http_request *req, int status, const char *fmt, ...)
{
    lg_buf json = LG_BUF_INIT;
    char *message;
    va_list args;

    va_start(args, fmt);
    message = lg_vsprintf(fmt, args);
    va_end(args);

    lg_buf_append_str(&json, "{\"error\":");
    lg_buf_append_json_string(&json, message, strlen(message));
    lg_buf_append_char(&json, '}');
    lg_http_respond(req, status, "application/json", json.data, json.len);

    lg_buf_free(&json);
    free(message);
}
