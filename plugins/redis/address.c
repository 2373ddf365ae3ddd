/* Parsing of Redis server addresses into host, port, socket path, credentials and database. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "alloc.h"
#include "buf.h"

#define URL_SCHEME "redis://"
#define UNIX_SCHEME "unix://"

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

/* Decode LEN bytes of TEXT with %XX escapes. Returns NULL for a bad escape. */
static char *percent_decode(const char *text, size_t len)
{
    lg_buf out = LG_BUF_INIT;

    for (size_t i = 0; i < len; i++) {
        int high;
        int low;

        if (text[i] != '%') {
            lg_buf_append_char(&out, text[i]);
            continue;
        }
        high = i + 2 < len ? hex_value(text[i + 1]) : -1;
        low = i + 2 < len ? hex_value(text[i + 2]) : -1;
        if (high < 0 || low < 0) {
            lg_buf_free(&out);
            return NULL;
        }
        lg_buf_append_char(&out, (char)(high * 16 + low));
        i += 2;
    }
    if (out.data == NULL)
        lg_buf_append_str(&out, "");
    return lg_buf_steal(&out, NULL);
}

/* Parse the decimal number in TEXT of LEN bytes within MIN..MAX into VALUE. */
static int parse_number(const char *text, size_t len, long min, long max, int *value)
{
    long n = 0;

    if (len == 0 || len > 9)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)text[i]))
            return -1;
        n = n * 10 + (text[i] - '0');
    }
    if (n < min || n > max)
        return -1;
    *value = (int)n;
    return 0;
}

/* Parse "HOST", "HOST:PORT", "[V6]" or "[V6]:PORT" of LEN bytes. */
static int parse_host_port(const char *text, size_t len, redis_address *address, lg_error *err)
{
    const char *end = text + len;
    const char *host_end;
    const char *port = NULL;

    if (len > 0 && text[0] == '[') {
        host_end = memchr(text, ']', len);
        if (host_end == NULL)
            return lg_error_set(err, "missing ']' after the IPv6 host");
        address->host = lg_strndup(text + 1, (size_t)(host_end - text - 1));
        if (host_end + 1 < end && host_end[1] != ':')
            return lg_error_set(err, "unexpected text after ']': write [HOST]:PORT");
        if (host_end + 1 < end)
            port = host_end + 2;
    } else {
        const char *colon = memchr(text, ':', len);

        host_end = colon != NULL ? colon : end;
        address->host = lg_strndup(text, (size_t)(host_end - text));
        if (colon != NULL)
            port = colon + 1;
    }

    if (address->host[0] == '\0')
        return lg_error_set(err, "missing host");
    address->port = REDIS_DEFAULT_PORT;
    if (port != NULL && parse_number(port, (size_t)(end - port), 1, 65535, &address->port) < 0)
        return lg_error_set(err, "invalid port \"%.*s\": use a number from 1 to 65535", (int)(end - port), port);
    return 0;
}

/* Parse "[USER]:PASSWORD" of LEN bytes (the part of a URL before '@'). */
static int parse_credentials(const char *text, size_t len, redis_address *address, lg_error *err)
{
    const char *colon = memchr(text, ':', len);

    if (colon == NULL)
        return lg_error_set(err, "missing ':' before the password: write redis://:PASSWORD@HOST:PORT");
    if (colon > text) {
        address->username = percent_decode(text, (size_t)(colon - text));
        if (address->username == NULL)
            return lg_error_set(err, "invalid percent escape in the user name");
    }
    address->password = percent_decode(colon + 1, (size_t)(text + len - colon - 1));
    if (address->password == NULL)
        return lg_error_set(err, "invalid percent escape in the password");
    return 0;
}

static int parse_url(const char *url, redis_address *address, lg_error *err)
{
    const char *rest = url + strlen(URL_SCHEME);
    const char *slash = strchr(rest, '/');
    const char *authority_end = slash != NULL ? slash : rest + strlen(rest);
    const char *at = memrchr(rest, '@', (size_t)(authority_end - rest));
    const char *host = at != NULL ? at + 1 : rest;

    if (at != NULL && parse_credentials(rest, (size_t)(at - rest), address, err) < 0)
        return -1;
    if (parse_host_port(host, (size_t)(authority_end - host), address, err) < 0)
        return -1;
    if (slash != NULL && slash[1] != '\0' &&
        parse_number(slash + 1, strlen(slash + 1), 0, REDIS_MAX_DB, &address->db) < 0)
        return lg_error_set(err, "invalid database \"%s\": use a number from 0 to %d", slash + 1, REDIS_MAX_DB);
    return 0;
}

static void set_display(redis_address *address)
{
    if (address->socket_path != NULL)
        address->display = lg_sprintf("unix:%s db %d", address->socket_path, address->db);
    else if (strchr(address->host, ':') != NULL)
        address->display = lg_sprintf("[%s]:%d db %d", address->host, address->port, address->db);
    else
        address->display = lg_sprintf("%s:%d db %d", address->host, address->port, address->db);
}

/* Return TEXT with its credentials replaced by "***", for messages. In
 * "SCHEME://USER:PASSWORD@HOST" only the password is hidden. Without a ':'
 * or a scheme, the whole part before '@' is hidden, because it may be a
 * password written in the wrong place. */
static char *redact(const char *text)
{
    const char *scheme_end = strstr(text, "://");
    const char *rest = scheme_end != NULL ? scheme_end + 3 : text;
    const char *end = strchr(rest, '/');
    const char *at;
    const char *colon;

    if (end == NULL)
        end = rest + strlen(rest);
    at = memrchr(rest, '@', (size_t)(end - rest));
    if (at == NULL)
        return lg_strdup(text);
    colon = scheme_end != NULL ? memchr(rest, ':', (size_t)(at - rest)) : NULL;
    if (colon == NULL)
        return lg_sprintf("%.*s***%s", (int)(rest - text), text, at);
    return lg_sprintf("%.*s***%s", (int)(colon + 1 - text), text, at);
}

int redis_address_parse(const char *text, redis_address *address, lg_error *err)
{
    char *shown;
    int rc;

    if (text == NULL || text[0] == '\0')
        return lg_error_set(err, "address is empty: set it to HOST:PORT, redis://HOST:PORT/DB or a Unix socket path");

    if (text[0] == '/') {
        address->socket_path = lg_strdup(text);
        rc = 0;
    } else if (strncmp(text, UNIX_SCHEME, strlen(UNIX_SCHEME)) == 0 && text[strlen(UNIX_SCHEME)] == '/') {
        address->socket_path = lg_strdup(text + strlen(UNIX_SCHEME));
        rc = 0;
    } else if (strncmp(text, URL_SCHEME, strlen(URL_SCHEME)) == 0) {
        rc = parse_url(text, address, err);
    } else if (strstr(text, "://") != NULL) {
        rc = lg_error_set(err, "unsupported scheme: use redis://, unix:// or HOST:PORT");
    } else if (strchr(text, '@') != NULL) {
        rc = lg_error_set(err, "a password needs the URL form: write redis://:PASSWORD@HOST:PORT, or set password");
    } else {
        rc = parse_host_port(text, strlen(text), address, err);
    }

    if (rc < 0) {
        shown = redact(text);
        lg_error_prefix(err, "invalid address \"%s\"", shown);
        free(shown);
        redis_address_free(address);
        return -1;
    }
    set_display(address);
    return 0;
}

void redis_address_free(redis_address *address)
{
    free(address->host);
    free(address->socket_path);
    free(address->username);
    free(address->password);
    free(address->display);
    memset(address, 0, sizeof(*address));
}
