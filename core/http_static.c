/* Static files for the HTTP server: path checks, content types, validators and conditional requests. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "alloc.h"
#include "http.h"
#include "http_internal.h"
#include "log.h"

/* Larger files are refused with 500: the dashboard has no file near this
 * size, and serving one would tie a connection up for a long time. */
#define LG_HTTP_STATIC_MAX_FILE_BYTES (64 * 1024 * 1024)

typedef struct content_type_entry {
    const char *extension;
    const char *content_type;
} content_type_entry;

static const content_type_entry content_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/x-icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"txt", "text/plain; charset=utf-8"},
    {"wasm", "application/wasm"},
};

static const char *content_type_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');

    if (dot == NULL || (slash != NULL && dot < slash))
        return "application/octet-stream";

    for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++) {
        if (strcasecmp(dot + 1, content_types[i].extension) == 0)
            return content_types[i].content_type;
    }
    return "application/octet-stream";
}

/* Reject backslashes and ".." segments before touching the file system.
 * NUL bytes never get here: the request parser rejects them with 400. */
static int path_is_safe(const char *path)
{
    const char *segment = path;

    if (path[0] != '/' || strchr(path, '\\') != NULL)
        return 0;

    while (segment != NULL) {
        size_t len;

        segment++;
        len = strcspn(segment, "/");
        if (len == 2 && segment[0] == '.' && segment[1] == '.')
            return 0;
        segment = strchr(segment, '/');
    }
    return 1;
}

static int path_is_inside(const char *path, const char *root)
{
    size_t root_len = strlen(root);

    if (strcmp(root, "/") == 0)
        return path[0] == '/';
    return strncmp(path, root, root_len) == 0 && (path[root_len] == '/' || path[root_len] == '\0');
}

/* Resolve PATH with realpath and check that it stays inside ROOT_REAL.
 * Returns a new string, or NULL when the file is missing or outside. */
static char *resolve_inside(const char *path, const char *root_real)
{
    char *resolved = realpath(path, NULL);

    if (resolved != NULL && !path_is_inside(resolved, root_real)) {
        free(resolved);
        return NULL;
    }
    return resolved;
}

/* Weak comparison (RFC 9110, section 13.1.2): "W/" prefixes are ignored. */
static int etag_list_matches(const char *list, const char *etag)
{
    const char *opaque = strncmp(etag, "W/", 2) == 0 ? etag + 2 : etag;
    size_t opaque_len = strlen(opaque);
    const char *cursor = list;

    while (*cursor != '\0') {
        size_t len;

        cursor += strspn(cursor, " \t,");
        if (*cursor == '*')
            return 1;
        if (strncmp(cursor, "W/", 2) == 0)
            cursor += 2;

        len = strcspn(cursor, ",");
        while (len > 0 && (cursor[len - 1] == ' ' || cursor[len - 1] == '\t'))
            len--;
        if (len == opaque_len && memcmp(cursor, opaque, len) == 0)
            return 1;
        cursor += strcspn(cursor, ",");
    }
    return 0;
}

/* If-None-Match takes precedence: If-Modified-Since counts only without it. */
static int not_modified(const lg_http_request *req, const char *etag, time_t mtime)
{
    const char *if_none_match = lg_http_request_header(req, "If-None-Match");
    const char *if_modified_since = lg_http_request_header(req, "If-Modified-Since");
    time_t since;

    if (if_none_match != NULL)
        return etag_list_matches(if_none_match, etag);
    if (if_modified_since != NULL && lg_http_parse_date(if_modified_since, &since) == 0)
        return mtime <= since;
    return 0;
}

/* Redirect to the path with a trailing slash. Leading slashes are collapsed
 * into one, because "//host/" in a Location header names another host. */
static void redirect_to_directory(lg_http_request *req)
{
    const char *query = lg_http_request_query(req);
    const char *path = req->raw_path;
    char *location;

    while (path[0] == '/' && path[1] == '/')
        path++;
    location = lg_sprintf("%s/%s%s", path, query[0] ? "?" : "", query);
    static const char body[] = "moved permanently\n";

    lg_http_add_header(req, "Location", location);
    lg_http_respond(req, 301, "text/plain; charset=utf-8", body, sizeof(body) - 1);
    free(location);
}

static void add_validators(lg_http_request *req, const char *content_type, const struct stat *st, char *etag,
                           size_t etag_size)
{
    char date[LG_HTTP_DATE_BYTES];
    uint64_t mtime_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;

    snprintf(etag, etag_size, "W/\"%" PRIx64 "-%" PRIx64 "\"", (uint64_t)st->st_size, mtime_ns);
    lg_http_format_date(st->st_mtim.tv_sec, date);

    lg_http_add_header(req, "ETag", etag);
    lg_http_add_header(req, "Last-Modified", date);
    if (strncmp(content_type, "text/html", 9) == 0)
        lg_http_add_header(req, "Cache-Control", "no-cache");
    else
        lg_http_add_header(req, "Cache-Control", "public, max-age=3600");
}

/* Send the regular file FILE_PATH, already resolved inside the root. */
static void send_file(lg_http_request *req, const char *file_path)
{
    const char *scope = req->conn->server->scope;
    const char *content_type = content_type_of(file_path);
    struct stat st;
    char etag[64];
    int fd = open(file_path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd < 0 && errno != ENOENT)
            LG_LOG_WARN(scope, "%s: cannot open %s: %s", req->peer, file_path, strerror(errno));
        lg_http_respond_error(req, 404, "not found");
        goto done;
    }

    if (st.st_size > LG_HTTP_STATIC_MAX_FILE_BYTES) {
        LG_LOG_ERROR(scope, "%s: %s is %jd bytes, larger than the %d bytes that static files may have", req->peer,
                     file_path, (intmax_t)st.st_size, LG_HTTP_STATIC_MAX_FILE_BYTES);
        lg_http_respond_error(req, 500, "file too large to serve");
        goto done;
    }

    add_validators(req, content_type, &st, etag, sizeof(etag));
    if (not_modified(req, etag, st.st_mtim.tv_sec)) {
        lg_http_response_start(req, 304, NULL, 0, 0);
        lg_http_response_finish(req, 304, 0);
        goto done;
    }

    if (lg_http_response_start(req, 200, content_type, (uint64_t)st.st_size, 1) && st.st_size > 0) {
        /* evbuffer_add_file takes the descriptor over, also when it fails. */
        if (evbuffer_add_file(lg_http_response_output(req), fd, 0, st.st_size) < 0) {
            LG_LOG_ERROR(scope, "%s: evbuffer_add_file() failed for %s, closing the connection", req->peer,
                         file_path);
            req->keep_alive = 0;
        }
        fd = -1;
    }
    lg_http_response_finish(req, 200, fd < 0 ? (uint64_t)st.st_size : 0);

done:
    if (fd >= 0)
        close(fd);
}

static char *directory_index(const char *directory, const char *root_real)
{
    char *index = lg_sprintf("%s/index.html", directory);
    char *resolved = resolve_inside(index, root_real);

    free(index);
    return resolved;
}

/* Resolve the request path under ROOT_REAL to a file path, or send the
 * response itself (404, 301) and return NULL. */
static char *find_file(lg_http_request *req, const char *root_real)
{
    char *joined = lg_sprintf("%s%s", root_real, req->path);
    char *resolved = resolve_inside(joined, root_real);
    char *index;
    struct stat st;

    free(joined);
    if (resolved == NULL) {
        lg_http_respond_error(req, 404, "not found");
        return NULL;
    }

    /* send_file responds with 404 to anything that is not a regular file. */
    if (stat(resolved, &st) < 0 || !S_ISDIR(st.st_mode))
        return resolved;

    if (req->path[strlen(req->path) - 1] != '/') {
        free(resolved);
        redirect_to_directory(req);
        return NULL;
    }

    index = directory_index(resolved, root_real);
    free(resolved);
    if (index == NULL)
        lg_http_respond_error(req, 404, "not found");
    return index;
}

void lg_http_serve_file(lg_http_request *req, const char *root)
{
    char *root_real = NULL;
    char *file_path = NULL;

    if (req->conn == NULL) {
        lg_http_request_destroy(req);
        return;
    }

    lg_http_add_header(req, "X-Content-Type-Options", "nosniff");
    if (strcmp(lg_http_request_method(req), "GET") != 0 && strcmp(lg_http_request_method(req), "HEAD") != 0) {
        lg_http_add_header(req, "Allow", "GET, HEAD");
        lg_http_respond_error(req, 405, "method %s is not allowed for static files; allowed: GET, HEAD",
                              lg_http_request_method(req));
        return;
    }

    if (!path_is_safe(lg_http_request_path(req))) {
        lg_http_respond_error(req, 404, "not found");
        return;
    }

    root_real = realpath(root, NULL);
    if (root_real == NULL) {
        LG_LOG_ERROR(req->conn->server->scope, "static root %s cannot be resolved: %s; check the web root setting",
                     root, strerror(errno));
        lg_http_respond_error(req, 404, "not found");
        return;
    }

    file_path = find_file(req, root_real);
    if (file_path != NULL)
        send_file(req, file_path);

    free(file_path);
    free(root_real);
}
