/* HTTP/1.1 server on bufferevents and http-parser: listeners, routing, limits, responses. */
#ifndef LG_HTTP_H
#define LG_HTTP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "error.h"

typedef struct lg_http_server lg_http_server;
typedef struct lg_http_request lg_http_request;
typedef struct lg_http_routes lg_http_routes;

/* Limits of one listener. Each one, when passed, gets its own status:
 * request line (method and URL) too long: 414; too many header fields or
 * header bytes: 431; body too large: 413 (checked against Content-Length
 * before reading the body, and while reading a chunked body); connections
 * over MAX_CONNECTIONS: 503 and close. A size of 0 and a timeout of 0 or
 * less mean no limit. */
typedef struct lg_http_limits {
    size_t max_request_line_bytes;
    size_t max_header_count;
    size_t max_header_bytes; /* all header names and values together */
    size_t max_body_bytes;
    size_t max_connections; /* 0: unlimited; shared by every server that shares OPEN_CONNECTIONS */
    int64_t idle_timeout_ms;    /* keep-alive connection without a request in progress */
    int64_t request_timeout_ms; /* from the first byte of a request to its last */
} lg_http_limits;

/* Handler of one route. It runs on the thread of the server that received
 * the request, and must answer exactly once: with lg_http_respond*, or by
 * taking the connection with lg_http_detach. It may answer later, from a
 * callback on the same thread. */
typedef void (*lg_http_handler)(lg_http_request *req, void *arg);

#define LG_HTTP_ROUTE_PREFIX 0x1  /* PATH matches itself and every path below it */
#define LG_HTTP_ROUTE_NO_HEAD 0x2 /* a GET route that does not answer HEAD (streams, upgrades) */

/* Route tables are built before threads start and never change after, so
 * servers on several threads can share one. */
lg_http_routes *lg_http_routes_new(void);
void lg_http_routes_free(lg_http_routes *routes);

/* Add a route. METHOD is "GET", "POST" and so on; a GET route also answers
 * HEAD (without body) unless FLAGS has LG_HTTP_ROUTE_NO_HEAD. An exact path wins over a prefix; the longest prefix
 * wins among prefixes. A path with routes for other methods only gets 405
 * with an Allow header; a path with no route gets 404. */
void lg_http_routes_add(lg_http_routes *routes, const char *method, const char *path, unsigned flags,
                        lg_http_handler handler, void *arg);

/* Open a listening TCP socket on ADDRESS ("127.0.0.1:8080", "[::1]:8080",
 * "0.0.0.0:0"), non-blocking and close-on-exec, with SO_REUSEADDR, and
 * SO_REUSEPORT when REUSEPORT is set. Returns the socket, or -1 with ERR
 * naming the address and the failed call. */
evutil_socket_t lg_http_listen(const char *address, int reuseport, lg_error *err);

/* Write the socket's bound address as "HOST:PORT" into OUT. Returns 0 or -1. */
int lg_http_socket_address(evutil_socket_t fd, char *out, size_t size);

/* Return 1 when ADDRESS ("host:port") names a loopback host. */
int lg_http_address_is_loopback(const char *address);

/* Create a server that accepts on LISTEN_FD (it takes ownership of the
 * socket, and closes it on failure) using BASE. OPEN_CONNECTIONS is a
 * counter shared by the servers of one listener across threads (may be
 * NULL: the server then counts its own connections, detached ones
 * excluded). NAME labels logs ("public", "admin"). Returns NULL with ERR set
 * on failure. The process must ignore SIGPIPE, because libevent writes to
 * sockets without MSG_NOSIGNAL. */
lg_http_server *lg_http_server_new(struct event_base *base, evutil_socket_t listen_fd, const lg_http_routes *routes,
                                   const lg_http_limits *limits, atomic_size_t *open_connections, const char *name,
                                   lg_error *err);

/* Stop accepting connections and close the listening socket. Connections
 * stay open. */
void lg_http_server_stop_accepting(lg_http_server *server);

/* Close every connection, stop accepting and free the server. Requests whose
 * handlers have not responded yet lose their connection: the handler's
 * later response only frees them. Must not be called from a handler of SERVER. */
void lg_http_server_free(lg_http_server *server);

size_t lg_http_server_connection_count(const lg_http_server *server);

/* Request accessors. Strings stay valid until the request is answered. */
const char *lg_http_request_method(const lg_http_request *req);
const char *lg_http_request_path(const lg_http_request *req);  /* percent-decoded, no query */
const char *lg_http_request_query(const lg_http_request *req); /* raw, without '?'; "" when absent */
const char *lg_http_request_header(const lg_http_request *req, const char *name); /* case-insensitive, first one */
const char *lg_http_request_peer(const lg_http_request *req);  /* "HOST:PORT" of the client */
const void *lg_http_request_body(const lg_http_request *req, size_t *len);
struct event_base *lg_http_request_base(const lg_http_request *req);
int lg_http_request_is_http_1_0(const lg_http_request *req); /* 1 for HTTP/1.0 requests */

/* The server's private data of the thread (set with lg_http_server_set_context). */
void *lg_http_request_context(const lg_http_request *req);
void lg_http_server_set_context(lg_http_server *server, void *context);

/* Return the INDEX-th value (0-based) of query parameter NAME, percent-decoded
 * with '+' as space, as a new string the caller frees; NULL when absent. */
char *lg_http_query_param(const lg_http_request *req, const char *name, size_t index);

/* Add a response header before answering. */
void lg_http_add_header(lg_http_request *req, const char *name, const char *value);

/* Answer with STATUS and BODY of LEN bytes (copied), and free REQ. Keeps
 * the connection alive when the client asked for it. When the client has
 * already closed the connection, only frees REQ. */
void lg_http_respond(lg_http_request *req, int status, const char *content_type, const void *body, size_t len);

/* Answer with {"error": MESSAGE} as application/json. */
void lg_http_respond_error(lg_http_request *req, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Serve the file under ROOT named by the request path (index.html for a
 * directory), with Content-Type from the extension, ETag and Last-Modified,
 * 304 for a matching If-None-Match or If-Modified-Since, and 404 for paths
 * that leave ROOT (.., backslashes, symlinks out of ROOT) or do not exist.
 * Paths with a NUL byte never get here: the server answers them with 400. */
void lg_http_serve_file(lg_http_request *req, const char *root);

/* Take over the connection for a streaming response (SSE) or a protocol
 * upgrade (WebSocket). Writes nothing. Returns the connection's
 * bufferevent with any bytes the client sent after the request still in its
 * input buffer, and frees the request; callbacks, timeouts and watermarks of
 * the bufferevent are cleared and the caller owns it. The server forgets the
 * connection but the shared counter stored in *OPEN_CONNECTIONS still counts
 * it until the caller passes that counter to lg_http_release_connection
 * (*OPEN_CONNECTIONS is NULL when there is nothing to release). Returns NULL,
 * after freeing the request, when the client has already closed the
 * connection. */
struct bufferevent *lg_http_detach(lg_http_request *req, atomic_size_t **open_connections);

/* Decrement the shared counter returned by lg_http_detach; NULL is ignored. */
void lg_http_release_connection(atomic_size_t *open_connections);

/* Reason phrase of STATUS ("Not Found"), "Unknown" when not known. */
const char *lg_http_status_text(int status);

#endif
