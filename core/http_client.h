/* HTTP client for sources: libcurl's multi interface driven by one libevent base. */
#ifndef LG_HTTP_CLIENT_H
#define LG_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "error.h"
#include "options.h"

typedef struct lg_http_client lg_http_client;
typedef struct lg_http_fetch lg_http_fetch;

typedef struct lg_http_request {
    const char *url;               /* http:// or https:// */
    const char *method;            /* NULL: GET */
    const lg_string_list *headers; /* "Name: value" lines, may be NULL */
    const char *body;              /* request body, may be NULL */
    size_t body_len;
    int64_t timeout_ms;            /* whole transfer; 0: no limit */
    int64_t connect_timeout_ms;    /* 0: libcurl's default */
    int64_t max_body_bytes;        /* 0: no limit */
    long max_redirects;            /* 0: a redirect is returned, not followed */
    const char *if_none_match;     /* ETag of the last response, may be NULL */
    const char *if_modified_since; /* Last-Modified of the last response, may be NULL */
    const char *ca_file;           /* PEM certificates to verify https servers with; NULL: the system's */
} lg_http_request;

typedef enum lg_http_failure {
    LG_HTTP_OK = 0,        /* an answer arrived; see STATUS */
    LG_HTTP_TIMEOUT,       /* connect or transfer took longer than allowed */
    LG_HTTP_CONNECT,       /* name resolution, connection or TLS failed */
    LG_HTTP_TOO_LARGE,     /* the body passed MAX_BODY_BYTES */
    LG_HTTP_OTHER,         /* any other transfer error */
} lg_http_failure;

typedef struct lg_http_response {
    lg_http_failure failure;
    const char *error;         /* what went wrong when FAILURE is set */
    long status;               /* HTTP status of the last answer, 0 without one */
    const char *content_type;  /* may be NULL */
    const char *etag;          /* may be NULL */
    const char *last_modified; /* may be NULL */
    const char *body;          /* NUL-terminated, BODY_LEN bytes before the NUL */
    size_t body_len;
    int64_t duration_ms;
} lg_http_response;

/* Called once per fetch on the client's event base, unless the fetch was
 * cancelled. RESPONSE and its strings live until the callback returns. */
typedef void (*lg_http_done)(const lg_http_response *response, void *arg);

/* Call once in main, before any thread starts. */
int lg_http_client_global_init(lg_error *err);

lg_http_client *lg_http_client_new(struct event_base *base, lg_error *err);

/* Cancel every fetch still running, without calling their callbacks. */
void lg_http_client_free(lg_http_client *client);

/* Start REQUEST; DONE runs with ARG when it ends. The request's strings are
 * copied. Returns the fetch, or NULL with ERR set when REQUEST is invalid. */
lg_http_fetch *lg_http_client_fetch(lg_http_client *client, const lg_http_request *request, lg_http_done done,
                                    void *arg, lg_error *err);

/* Stop FETCH without calling its callback. Not from inside that callback. */
void lg_http_fetch_cancel(lg_http_fetch *fetch);

/* Check that URL is an absolute http or https URL. Returns 0, or -1 with
 * ERR naming the problem (the URL is not repeated: it may hold a secret). */
int lg_http_url_check(const char *url, lg_error *err);

/* Return URL without user, password, query and fragment, for logs; free it. */
char *lg_http_url_for_log(const char *url);

#endif
