/* Redis server addresses: "host:port", "redis://[[user]:password@]host[:port][/db]" or a Unix socket path. */
#ifndef LG_REDIS_ADDRESS_H
#define LG_REDIS_ADDRESS_H

#include "error.h"

#define REDIS_DEFAULT_PORT 6379
#define REDIS_MAX_DB 15

typedef struct redis_address {
    char *host;     /* NULL for a Unix socket */
    int port;
    char *socket_path; /* NULL for TCP */
    char *username; /* NULL unless the URL names one (Redis 6 ACL users) */
    char *password; /* NULL without AUTH */
    int db;
    char *display;  /* for logs and messages, with the password left out */
} redis_address;

/* Parse TEXT into ADDRESS, which must be zeroed. A text that starts with
 * '/' is a Unix socket path, "unix:///PATH" too; "redis://" starts a URL;
 * anything else is "HOST:PORT" or "HOST" (port 6379). IPv6 hosts are
 * written in brackets. Percent escapes in the user and password are
 * decoded. Returns 0, or -1 with ERR set (never showing the password) and
 * ADDRESS freed. */
int redis_address_parse(const char *text, redis_address *address, lg_error *err);

void redis_address_free(redis_address *address);

#endif
