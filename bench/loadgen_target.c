/* Load generator: URL templates and loopback targets, so that no run can aim at another host. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "loadgen.h"

char *loadgen_expand(const char *template_text, const char *channel)
{
    static const char placeholder[] = "{channel}";
    size_t count = 0;
    size_t channel_len = strlen(channel);
    char *out;
    char *cursor;

    for (const char *p = strstr(template_text, placeholder); p != NULL; p = strstr(p + 1, placeholder))
        count++;

    out = malloc(strlen(template_text) + count * channel_len + 1);
    if (out == NULL)
        abort();

    cursor = out;
    while (*template_text != '\0') {
        if (strncmp(template_text, placeholder, sizeof(placeholder) - 1) == 0) {
            memcpy(cursor, channel, channel_len);
            cursor += channel_len;
            template_text += sizeof(placeholder) - 1;
        } else {
            *cursor++ = *template_text++;
        }
    }
    *cursor = '\0';
    return out;
}

/* Accept 127.0.0.0/8 and "localhost" only: the benchmark never leaves this machine. */
static int loadgen_loopback_address(const char *host, struct in_addr *address)
{
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, address) != 1)
        return -1;
    return (ntohl(address->s_addr) >> 24) == 127 ? 0 : -1;
}

static int loadgen_default_port(const char *scheme)
{
    if (strcmp(scheme, "http") == 0 || strcmp(scheme, "ws") == 0)
        return 80;
    return -1;
}

int loadgen_target_parse(const char *url, loadgen_target *target, char *error, size_t error_size)
{
    struct evhttp_uri *uri = evhttp_uri_parse(url);
    const char *scheme;
    const char *host;
    const char *path;
    const char *query;
    int port;
    size_t target_len;

    memset(target, 0, sizeof(*target));
    if (uri == NULL) {
        snprintf(error, error_size, "invalid URL '%s'", url);
        return -1;
    }

    scheme = evhttp_uri_get_scheme(uri);
    host = evhttp_uri_get_host(uri);
    if (scheme == NULL || host == NULL || loadgen_default_port(scheme) < 0) {
        snprintf(error, error_size, "invalid URL '%s': expected http://HOST:PORT/PATH or ws://HOST:PORT/PATH", url);
        evhttp_uri_free(uri);
        return -1;
    }
    if (loadgen_loopback_address(host, &target->address.sin_addr) < 0) {
        snprintf(error, error_size, "host '%s' of URL '%s' is not a loopback address (127.0.0.0/8)", host, url);
        evhttp_uri_free(uri);
        return -1;
    }

    port = evhttp_uri_get_port(uri);
    if (port < 0)
        port = loadgen_default_port(scheme);
    target->address.sin_family = AF_INET;
    target->address.sin_port = htons((uint16_t)port);

    path = evhttp_uri_get_path(uri);
    query = evhttp_uri_get_query(uri);
    if (path == NULL || *path == '\0')
        path = "/";
    target_len = strlen(path) + (query != NULL ? strlen(query) + 1 : 0) + 1;
    target->path = malloc(target_len);
    target->host_header = malloc(strlen(host) + 8);
    if (target->path == NULL || target->host_header == NULL)
        abort();
    snprintf(target->path, target_len, "%s%s%s", path, query != NULL ? "?" : "", query != NULL ? query : "");
    snprintf(target->host_header, strlen(host) + 8, "%s:%d", host, port);

    evhttp_uri_free(uri);
    return 0;
}

void loadgen_target_free(loadgen_target *target)
{
    free(target->path);
    free(target->host_header);
}
