/* Structures and helpers shared by the files of the HTTP server; not part of the public API. */
#ifndef LG_HTTP_INTERNAL_H
#define LG_HTTP_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <http_parser.h>

#include "buf.h"
#include "http.h"

/* Input kept while a request is handled, before reading from the socket pauses. */
#define LG_HTTP_INPUT_HIGH_WATERMARK_BYTES (256 * 1024)

/* How long a closing connection discards what the client still sends, so
 * that closing with unread input does not reset the connection before the
 * client has read the response. */
#define LG_HTTP_LINGER_MS 2000

/* "[IPv6]:PORT" fits with room to spare (INET6_ADDRSTRLEN is 46). */
#define LG_HTTP_PEER_BYTES 64

/* IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT", is 29 bytes; the rest is
 * room for the compiler, which cannot see that the year has four digits. */
#define LG_HTTP_DATE_BYTES 64

typedef struct lg_http_conn lg_http_conn;

typedef struct lg_http_header {
    char *name;
    char *value;
} lg_http_header;

typedef struct lg_http_route {
    char *method;
    char *path;
    size_t path_len;
    unsigned flags;
    lg_http_handler handler;
    void *arg;
} lg_http_route;

struct lg_http_routes {
    lg_http_route *items;
    size_t count;
};

/* Life of a connection. Reading is the only state in which input is parsed;
 * in every other state bytes wait in the input buffer. */
typedef enum lg_http_conn_state {
    LG_HTTP_CONN_READING,   /* between requests or receiving one */
    LG_HTTP_CONN_HANDLING,  /* a complete request waits for its handler's response */
    LG_HTTP_CONN_WRITING,   /* a response is queued; reading resumes once it is sent */
    LG_HTTP_CONN_CLOSING,   /* a response is queued; the connection closes once it is sent */
    LG_HTTP_CONN_LINGERING, /* write side shut down; input is discarded until EOF or a deadline */
} lg_http_conn_state;

struct lg_http_request {
    lg_http_conn *conn; /* NULL once the connection is gone */
    struct event_base *base;
    void *context;
    char peer[LG_HTTP_PEER_BYTES];
    int64_t start_ms;

    const char *method; /* static string from http-parser */
    int is_head;
    int http_1_0;       /* HTTP/1.0 or older: keep-alive only when asked for */
    lg_buf url;         /* request target as received */
    char *raw_path;     /* path as received, still percent-encoded */
    char *path;         /* percent-decoded */
    char *query;        /* raw, "" when absent */

    lg_http_header *headers;
    size_t header_count;
    size_t header_cap;
    size_t header_bytes; /* names and values together */
    lg_buf field;        /* header name being received */
    lg_buf value;        /* header value being received */
    int in_value;        /* the last header bytes received belong to a value */

    lg_buf body;
    int complete;   /* the whole message has been parsed */
    int keep_alive; /* the connection stays open after the response */

    lg_buf response_headers; /* "Name: value\r\n" lines added by the handler */
};

struct lg_http_conn {
    TAILQ_ENTRY(lg_http_conn) link;
    lg_http_server *server;
    struct bufferevent *bev;
    struct event *timer; /* idle, request or lingering deadline, by state */
    http_parser parser;
    lg_http_conn_state state;
    lg_http_request *req; /* request being received or handled, NULL between requests */

    int counted;         /* owns one unit of the open connection counter */
    int linger;          /* the client may still be sending when the connection closes */
    int reject_status;   /* status chosen by a parser callback that stopped the parser */
    char *reject_message;
    unsigned busy;       /* depth of calls that use the connection after a handler ran */
    int free_pending;    /* freeing waits until BUSY drops to zero */
    char peer[LG_HTTP_PEER_BYTES];
};

TAILQ_HEAD(lg_http_conn_list, lg_http_conn);

struct lg_http_server {
    struct event_base *base;
    struct evconnlistener *listener;
    struct event *accept_retry; /* re-enables accepting after EMFILE and similar errors */
    const lg_http_routes *routes;
    lg_http_limits limits;
    atomic_size_t *open_connections; /* shared counter, or &OWN_CONNECTIONS */
    atomic_size_t own_connections;
    char *name;
    char *scope; /* "http:NAME", the log scope */
    void *context;
    struct lg_http_conn_list conns;
    size_t conn_count;
};

/* Write SA as "HOST:PORT" ("[HOST]:PORT" for IPv6) into OUT. Returns 0 or -1. */
int lg_http_format_sockaddr(const struct sockaddr *sa, socklen_t len, char *out, size_t size);

/* Request parsing (http_request.c). */
const http_parser_settings *lg_http_parser_settings(void);
lg_http_request *lg_http_request_create(lg_http_conn *conn);
void lg_http_request_destroy(lg_http_request *req);

/* Decode %XX escapes of SRC (LEN bytes), and '+' as space when PLUS_IS_SPACE
 * is set. Returns a new NUL-terminated string and its length in OUT_LEN, or
 * NULL when an escape is malformed and STRICT is set (kept as is otherwise). */
char *lg_http_percent_decode(const char *src, size_t len, int plus_is_space, int strict, size_t *out_len);

/* Routing (http_routes.c): run the handler of REQ, or respond with 404 or 405. */
void lg_http_routes_dispatch(const lg_http_routes *routes, lg_http_request *req);

/* Connections (http_server.c). */
void lg_http_conn_response_queued(lg_http_conn *conn, int keep_alive);
void lg_http_conn_reject(lg_http_conn *conn, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void lg_http_conn_arm_timer(lg_http_conn *conn, int64_t timeout_ms);

/* Responses (http_response.c). */
void lg_http_format_date(time_t when, char out[LG_HTTP_DATE_BYTES]);
int lg_http_parse_date(const char *text, time_t *when);

/* Queue the status line and headers of a response to REQ. CONTENT_TYPE may be
 * NULL; Content-Length is sent only when SEND_LENGTH is set. Returns 1 when a
 * body should follow (not for HEAD, 1xx, 204 and 304), 0 otherwise. */
int lg_http_response_start(lg_http_request *req, int status, const char *content_type, uint64_t content_length,
                           int send_length);

/* Finish the response to REQ after its body was queued: log the access line,
 * hand the connection back and free REQ. */
void lg_http_response_finish(lg_http_request *req, int status, uint64_t body_bytes);

struct evbuffer *lg_http_response_output(lg_http_request *req);

#endif
