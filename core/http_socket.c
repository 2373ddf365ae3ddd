/* Listening sockets and address strings ("HOST:PORT", IPv6 in brackets) for the HTTP server. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc.h"
#include "http.h"
#include "http_internal.h"

/* The kernel caps the backlog at net.core.somaxconn anyway. */
#define LG_HTTP_LISTEN_BACKLOG (SOMAXCONN > 1024 ? SOMAXCONN : 1024)

static int port_is_valid(const char *port)
{
    size_t len = strlen(port);

    if (len == 0 || len > 5 || strspn(port, "0123456789") != len)
        return 0;
    return atoi(port) <= 65535;
}

/* Split ADDRESS into a host (NULL for "" or "*", meaning every interface)
 * and a port. Returns 0, or -1 with ERR set. */
static int split_address(const char *address, char **host, char **port, lg_error *err)
{
    const char *colon;
    const char *host_start = address;
    size_t host_len;

    if (address[0] == '[') {
        const char *close = strchr(address, ']');

        if (close == NULL || close[1] != ':')
            return lg_error_set(err, "invalid listen address '%s': expected [IPV6]:PORT", address);
        host_start = address + 1;
        host_len = (size_t)(close - host_start);
        colon = close + 1;
    } else {
        colon = strrchr(address, ':');
        if (colon == NULL)
            return lg_error_set(err, "invalid listen address '%s': expected HOST:PORT", address);
        host_len = (size_t)(colon - address);
    }

    if (!port_is_valid(colon + 1))
        return lg_error_set(err, "invalid port in listen address '%s': expected a number from 0 to 65535", address);

    *port = lg_strdup(colon + 1);
    *host = NULL;
    if (host_len > 0 && !(host_len == 1 && host_start[0] == '*'))
        *host = lg_strndup(host_start, host_len);
    return 0;
}

/* Create, configure, bind and listen one socket for AI. Returns the socket,
 * or -1 with ERR naming the failed call. */
static int open_listener(const struct addrinfo *ai, const char *address, int reuseport, lg_error *err)
{
    int one = 1;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);

    if (fd < 0)
        return lg_error_set(err, "cannot listen on %s: socket() failed: %s", address, strerror(errno));

    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
        lg_error_set(err, "cannot listen on %s: setsockopt(SO_REUSEADDR) failed: %s", address, strerror(errno));
        goto fail;
    }

    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
        lg_error_set(err, "cannot listen on %s: setsockopt(SO_REUSEPORT) failed: %s", address, strerror(errno));
        goto fail;
    }

    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        int bind_errno = errno;

        lg_error_set(err, "cannot listen on %s: bind() failed: %s%s", address, strerror(bind_errno),
                     bind_errno == EADDRINUSE ? " (another process has the port: stop it, or choose another "
                                                "address; the default config reads LIVEGATE_LISTEN and "
                                                "LIVEGATE_ADMIN_LISTEN)"
                                              : "");
        goto fail;
    }

    if (listen(fd, LG_HTTP_LISTEN_BACKLOG) < 0) {
        lg_error_set(err, "cannot listen on %s: listen() failed: %s", address, strerror(errno));
        goto fail;
    }
    return fd;

fail:
    close(fd);
    return -1;
}

evutil_socket_t lg_http_listen(const char *address, int reuseport, lg_error *err)
{
    struct addrinfo hints;
    struct addrinfo *list = NULL;
    char *host = NULL;
    char *port = NULL;
    int fd = -1;
    int rc;

    if (split_address(address, &host, &port, err) < 0)
        return -1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0) {
        lg_error_set(err, "cannot listen on %s: getaddrinfo() failed: %s", address, gai_strerror(rc));
        goto done;
    }

    /* The first address that binds wins; the error of the last one is kept. */
    for (const struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next)
        fd = open_listener(ai, address, reuseport, err);

done:
    if (list != NULL)
        freeaddrinfo(list);
    free(host);
    free(port);
    return fd;
}

int lg_http_format_sockaddr(const struct sockaddr *sa, socklen_t len, char *out, size_t size)
{
    char host[NI_MAXHOST];
    char port[NI_MAXSERV];
    int written;

    if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return -1;

    if (sa->sa_family == AF_INET6)
        written = snprintf(out, size, "[%s]:%s", host, port);
    else
        written = snprintf(out, size, "%s:%s", host, port);
    return written < 0 || (size_t)written >= size ? -1 : 0;
}

int lg_http_socket_address(evutil_socket_t fd, char *out, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    return lg_http_format_sockaddr((struct sockaddr *)&ss, len, out, size);
}

static int ipv4_is_loopback(const struct in_addr *addr)
{
    return (ntohl(addr->s_addr) >> 24) == 127;
}

int lg_http_address_is_loopback(const char *address)
{
    char *host = NULL;
    char *port = NULL;
    struct in_addr v4;
    struct in6_addr v6;
    int loopback = 0;

    if (split_address(address, &host, &port, NULL) < 0)
        return 0;

    if (host == NULL)
        loopback = 0;
    else if (strcasecmp(host, "localhost") == 0)
        loopback = 1;
    else if (inet_pton(AF_INET, host, &v4) == 1)
        loopback = ipv4_is_loopback(&v4);
    else if (inet_pton(AF_INET6, host, &v6) == 1)
        loopback = IN6_IS_ADDR_LOOPBACK(&v6) ||
                   (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);

    free(host);
    free(port);
    return loopback;
}
