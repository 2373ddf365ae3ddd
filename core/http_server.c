/* HTTP server: accepting connections, their bufferevent callbacks, timeouts, keep-alive and detaching. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "alloc.h"
#include "http.h"
#include "http_internal.h"
#include "log.h"

/* Pause after accept() fails (EMFILE and the like), so that a listener
 * without free descriptors does not spin. */
#define ACCEPT_RETRY_MS 100

static struct timeval timeval_from_ms(int64_t ms)
{
    struct timeval tv;

    tv.tv_sec = (time_t)(ms / 1000);
    tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
    return tv;
}

void lg_http_conn_arm_timer(lg_http_conn *conn, int64_t timeout_ms)
{
    struct timeval tv = timeval_from_ms(timeout_ms);

    if (timeout_ms <= 0) {
        event_del(conn->timer);
        return;
    }
    evtimer_add(conn->timer, &tv);
}

/* Free CONN now: close its socket (unless detached), release its counter
 * unit, and leave a request still waiting for its handler in the
 * "connection gone" state, to be freed when the handler responds. */
static void conn_free(lg_http_conn *conn)
{
    lg_http_server *server = conn->server;

    TAILQ_REMOVE(&server->conns, conn, link);
    server->conn_count--;
    if (conn->counted)
        atomic_fetch_sub(server->open_connections, 1);

    if (conn->req != NULL && conn->state == LG_HTTP_CONN_HANDLING)
        conn->req->conn = NULL;
    else
        lg_http_request_destroy(conn->req);

    event_free(conn->timer);
    if (conn->bev != NULL)
        bufferevent_free(conn->bev);
    free(conn->reject_message);
    free(conn);
}

/* Free CONN, or mark it when a caller up the stack still uses it: a handler
 * run from conn_process_input may detach or close the connection. */
static void conn_close(lg_http_conn *conn)
{
    if (conn->busy > 0) {
        conn->free_pending = 1;
        return;
    }
    conn_free(conn);
}

void lg_http_conn_reject(lg_http_conn *conn, int status, const char *fmt, ...)
{
    char *message;
    va_list args;

    va_start(args, fmt);
    message = lg_vsprintf(fmt, args);
    va_end(args);

    if (conn->req == NULL)
        conn->req = lg_http_request_create(conn);
    conn->req->keep_alive = 0;
    conn->linger = 1;

    LG_LOG_INFO(conn->server->scope, "%s: request rejected with %d: %s", conn->peer, status, message);
    lg_http_respond_error(conn->req, status, "%s", message);
    free(message);
}

void lg_http_conn_response_queued(lg_http_conn *conn, int keep_alive)
{
    struct evbuffer *input = bufferevent_get_input(conn->bev);

    event_del(conn->timer);
    if (keep_alive) {
        conn->state = LG_HTTP_CONN_WRITING;
        return;
    }

    conn->state = LG_HTTP_CONN_CLOSING;
    if (evbuffer_get_length(input) > 0)
        conn->linger = 1;
}

static void conn_start_lingering(lg_http_conn *conn)
{
    struct evbuffer *input = bufferevent_get_input(conn->bev);

    conn->state = LG_HTTP_CONN_LINGERING;
    shutdown(bufferevent_getfd(conn->bev), SHUT_WR);
    evbuffer_drain(input, evbuffer_get_length(input));
    lg_http_conn_arm_timer(conn, LG_HTTP_LINGER_MS);
}

static void conn_dispatch(lg_http_conn *conn)
{
    conn->state = LG_HTTP_CONN_HANDLING;
    event_del(conn->timer);
    lg_http_routes_dispatch(conn->server->routes, conn->req);
}

static void conn_parse_failed(lg_http_conn *conn, enum http_errno error)
{
    char *message = conn->reject_message;

    conn->reject_message = NULL;
    if (conn->reject_status != 0)
        lg_http_conn_reject(conn, conn->reject_status, "%s", message);
    else if (error == HPE_HEADER_OVERFLOW)
        lg_http_conn_reject(conn, 431, "request headers exceed %d bytes, the limit of the HTTP parser",
                            HTTP_MAX_HEADER_SIZE);
    else
        lg_http_conn_reject(conn, 400, "malformed request: %s (%s)", http_errno_name(error),
                            http_errno_description(error));
    free(message);
}

/* Feed the parser one chunk of input at a time until a request is complete
 * (the parser pauses there), the input runs out, or the request is rejected.
 * Parsed bytes are drained, so a detaching handler finds exactly the bytes
 * that follow its request. */
static void conn_process_input(lg_http_conn *conn)
{
    struct evbuffer *input = bufferevent_get_input(conn->bev);

    conn->busy++;
    while (conn->state == LG_HTTP_CONN_READING && !conn->free_pending) {
        struct evbuffer_iovec chunk;
        size_t parsed;
        enum http_errno error;

        if (evbuffer_peek(input, -1, NULL, &chunk, 1) < 1 || chunk.iov_len == 0)
            break;

        if (HTTP_PARSER_ERRNO(&conn->parser) == HPE_PAUSED)
            http_parser_pause(&conn->parser, 0);
        parsed = http_parser_execute(&conn->parser, lg_http_parser_settings(), chunk.iov_base, chunk.iov_len);
        evbuffer_drain(input, parsed);

        error = HTTP_PARSER_ERRNO(&conn->parser);
        if (error != HPE_OK && error != HPE_PAUSED) {
            conn_parse_failed(conn, error);
            break;
        }

        if (conn->req != NULL && conn->req->complete)
            conn_dispatch(conn);
    }
    conn->busy--;

    if (conn->free_pending && conn->busy == 0)
        conn_free(conn);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
    lg_http_conn *conn = arg;
    struct evbuffer *input = bufferevent_get_input(bev);

    if (conn->state == LG_HTTP_CONN_READING)
        conn_process_input(conn);
    else if (conn->state == LG_HTTP_CONN_LINGERING)
        evbuffer_drain(input, evbuffer_get_length(input));
}

/* Runs when the output buffer has been sent completely. */
static void conn_write_cb(struct bufferevent *bev, void *arg)
{
    lg_http_conn *conn = arg;

    if (conn->state == LG_HTTP_CONN_WRITING) {
        conn->state = LG_HTTP_CONN_READING;
        lg_http_conn_arm_timer(conn, conn->server->limits.idle_timeout_ms);
        conn_process_input(conn);
        return;
    }

    if (conn->state != LG_HTTP_CONN_CLOSING)
        return;
    if (conn->linger)
        conn_start_lingering(conn);
    else
        conn_close(conn);
}

static void conn_event_cb(struct bufferevent *bev, short events, void *arg)
{
    lg_http_conn *conn = arg;
    int error = EVUTIL_SOCKET_ERROR();

    if (events & BEV_EVENT_TIMEOUT) {
        LG_LOG_INFO(conn->server->scope, "%s: sending the response timed out, closing the connection", conn->peer);
        conn_close(conn);
        return;
    }

    if (events & BEV_EVENT_ERROR) {
        if (error == ECONNRESET || error == EPIPE)
            LG_LOG_DEBUG(conn->server->scope, "%s: connection reset by the client", conn->peer);
        else
            LG_LOG_WARN(conn->server->scope, "%s: connection failed: %s", conn->peer,
                        evutil_socket_error_to_string(error));
        conn_close(conn);
        return;
    }

    /* EOF. A client that shut down its side after a request still gets
     * the response that is already queued. */
    if (conn->state == LG_HTTP_CONN_WRITING || conn->state == LG_HTTP_CONN_CLOSING) {
        conn->state = LG_HTTP_CONN_CLOSING;
        conn->linger = 0;
        return;
    }

    if (conn->state == LG_HTTP_CONN_HANDLING)
        LG_LOG_DEBUG(conn->server->scope, "%s: client closed the connection before the response", conn->peer);
    else if (conn->state == LG_HTTP_CONN_READING && conn->req != NULL)
        LG_LOG_DEBUG(conn->server->scope, "%s: client closed the connection in the middle of a request", conn->peer);
    conn_close(conn);
}

static void conn_timer_cb(evutil_socket_t fd, short events, void *arg)
{
    lg_http_conn *conn = arg;
    const lg_http_limits *limits = &conn->server->limits;

    if (conn->state == LG_HTTP_CONN_LINGERING) {
        conn_close(conn);
        return;
    }

    if (conn->state != LG_HTTP_CONN_READING)
        return;

    if (conn->req != NULL) {
        lg_http_conn_reject(conn, 408, "request not received within %" PRId64 " ms (server.limits.request_timeout)",
                            limits->request_timeout_ms);
        return;
    }

    LG_LOG_DEBUG(conn->server->scope, "%s: idle for %" PRId64 " ms (server.limits.idle_timeout), closing the connection",
                 conn->peer, limits->idle_timeout_ms);
    conn_close(conn);
}

static void set_no_delay(lg_http_server *server, evutil_socket_t fd, const char *peer)
{
    int one = 1;

    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
        LG_LOG_WARN(server->scope, "%s: setsockopt(TCP_NODELAY) failed: %s", peer, strerror(errno));
}

static lg_http_conn *conn_create(lg_http_server *server, evutil_socket_t fd, const struct sockaddr *sa,
                                 int socklen, int counted)
{
    lg_http_conn *conn = lg_calloc(1, sizeof(*conn));
    struct timeval write_timeout = timeval_from_ms(server->limits.request_timeout_ms);

    conn->server = server;
    conn->counted = counted;
    conn->state = LG_HTTP_CONN_READING;
    if (lg_http_format_sockaddr(sa, (socklen_t)socklen, conn->peer, sizeof(conn->peer)) < 0)
        snprintf(conn->peer, sizeof(conn->peer), "unknown");

    conn->bev = bufferevent_socket_new(server->base, fd, BEV_OPT_CLOSE_ON_FREE);
    conn->timer = evtimer_new(server->base, conn_timer_cb, conn);
    if (conn->bev == NULL || conn->timer == NULL) {
        LG_LOG_ERROR(server->scope, "%s: bufferevent_socket_new() or evtimer_new() failed, closing the connection",
                     conn->peer);
        goto fail;
    }
    TAILQ_INSERT_TAIL(&server->conns, conn, link);
    server->conn_count++;

    http_parser_init(&conn->parser, HTTP_REQUEST);
    conn->parser.data = conn;
    set_no_delay(server, fd, conn->peer);

    bufferevent_setcb(conn->bev, conn_read_cb, conn_write_cb, conn_event_cb, conn);
    bufferevent_setwatermark(conn->bev, EV_READ, 0, LG_HTTP_INPUT_HIGH_WATERMARK_BYTES);
    if (server->limits.request_timeout_ms > 0)
        bufferevent_set_timeouts(conn->bev, NULL, &write_timeout);
    bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
    return conn;

fail:
    if (conn->bev != NULL)
        bufferevent_free(conn->bev);
    else
        evutil_closesocket(fd);
    if (conn->timer != NULL)
        event_free(conn->timer);
    if (counted)
        atomic_fetch_sub(server->open_connections, 1);
    free(conn);
    return NULL;
}

/* Take one unit of the open connection counter. Returns 0 when the server
 * is at max_connections (the counter is left unchanged). */
static int reserve_connection(lg_http_server *server)
{
    size_t max = server->limits.max_connections;
    size_t before = atomic_fetch_add(server->open_connections, 1);

    if (max == 0 || before < max)
        return 1;
    atomic_fetch_sub(server->open_connections, 1);
    return 0;
}

static void accept_cb(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa, int socklen,
                      void *arg)
{
    lg_http_server *server = arg;
    int counted = reserve_connection(server);
    lg_http_conn *conn = conn_create(server, fd, sa, socklen, counted);

    if (conn == NULL)
        return;

    if (!counted) {
        lg_http_conn_reject(conn, 503, "server is at max_connections (%zu); retry later",
                            server->limits.max_connections);
        return;
    }
    lg_http_conn_arm_timer(conn, server->limits.idle_timeout_ms);
}

static void accept_error_cb(struct evconnlistener *listener, void *arg)
{
    lg_http_server *server = arg;
    int error = EVUTIL_SOCKET_ERROR();
    struct timeval retry = timeval_from_ms(ACCEPT_RETRY_MS);

    LG_LOG_ERROR(server->scope, "accept() failed: %s; accepting again in %d ms", evutil_socket_error_to_string(error),
                 ACCEPT_RETRY_MS);
    evconnlistener_disable(listener);
    evtimer_add(server->accept_retry, &retry);
}

static void accept_retry_cb(evutil_socket_t fd, short events, void *arg)
{
    lg_http_server *server = arg;

    if (server->listener != NULL)
        evconnlistener_enable(server->listener);
}

lg_http_server *lg_http_server_new(struct event_base *base, evutil_socket_t listen_fd, const lg_http_routes *routes,
                                   const lg_http_limits *limits, atomic_size_t *open_connections, const char *name,
                                   lg_error *err)
{
    lg_http_server *server = lg_calloc(1, sizeof(*server));

    server->base = base;
    server->routes = routes;
    server->limits = *limits;
    atomic_init(&server->own_connections, 0);
    server->open_connections = open_connections ? open_connections : &server->own_connections;
    server->name = lg_strdup(name);
    server->scope = lg_sprintf("http:%s", name);
    TAILQ_INIT(&server->conns);

    server->accept_retry = evtimer_new(base, accept_retry_cb, server);
    server->listener = evconnlistener_new(base, accept_cb, server, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0,
                                          listen_fd);
    if (server->listener == NULL || server->accept_retry == NULL) {
        lg_error_set(err, "cannot start the %s HTTP server: evconnlistener_new() or evtimer_new() failed", name);
        if (server->listener == NULL)
            evutil_closesocket(listen_fd);
        lg_http_server_free(server);
        return NULL;
    }
    evconnlistener_set_error_cb(server->listener, accept_error_cb);
    return server;
}

void lg_http_server_stop_accepting(lg_http_server *server)
{
    if (server->listener != NULL)
        evconnlistener_free(server->listener);
    server->listener = NULL;
    if (server->accept_retry != NULL)
        event_del(server->accept_retry);
}

void lg_http_server_free(lg_http_server *server)
{
    if (server == NULL)
        return;

    lg_http_server_stop_accepting(server);
    while (!TAILQ_EMPTY(&server->conns))
        conn_free(TAILQ_FIRST(&server->conns));

    if (server->accept_retry != NULL)
        event_free(server->accept_retry);
    free(server->name);
    free(server->scope);
    free(server);
}

size_t lg_http_server_connection_count(const lg_http_server *server)
{
    return server->conn_count;
}

void lg_http_server_set_context(lg_http_server *server, void *context)
{
    server->context = context;
}

struct bufferevent *lg_http_detach(lg_http_request *req, atomic_size_t **open_connections)
{
    lg_http_conn *conn = req->conn;
    lg_http_server *server;
    struct bufferevent *bev;

    if (open_connections != NULL)
        *open_connections = NULL;
    if (conn == NULL) {
        lg_http_request_destroy(req);
        return NULL;
    }

    server = conn->server;
    bev = conn->bev;
    bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
    bufferevent_set_timeouts(bev, NULL, NULL);
    bufferevent_setwatermark(bev, EV_READ, 0, 0);
    LG_LOG_DEBUG(server->scope, "%s \"%s %s\" detached", req->peer, lg_http_request_method(req), req->raw_path);

    /* The caller takes the counter unit over, unless it cannot release it
     * or the counter is the server's own. */
    if (conn->counted && open_connections != NULL && server->open_connections != &server->own_connections)
        *open_connections = server->open_connections;
    else if (conn->counted)
        atomic_fetch_sub(server->open_connections, 1);
    conn->counted = 0;

    conn->req = NULL;
    lg_http_request_destroy(req);
    conn->bev = NULL;
    conn_close(conn);
    return bev;
}

void lg_http_release_connection(atomic_size_t *open_connections)
{
    if (open_connections != NULL)
        atomic_fetch_sub(open_connections, 1);
}
