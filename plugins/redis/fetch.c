/* Id-only notifications: fetch the payload an id refers to from Redis or over HTTP, with retries, then publish it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "redis_source.h"
#include "template.h"

typedef struct redis_fetch_job {
    redis_source *source;
    redis_rule *rule;
    char *channel;
    char *id;
    char *type;
    char *key;   /* from: redis */
    char *field; /* from: redis, HGET; NULL for GET */
    char *url;   /* from: http */
    char *origin; /* the id when a livegate node sent the notification, else NULL */
    unsigned attempt;
    struct event *retry_timer;
    struct redis_fetch_job *prev;
    struct redis_fetch_job *next;
} redis_fetch_job;

static struct timeval timeval_from_ms(int64_t ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000 * 1000)};

    return tv;
}

static void job_free(redis_fetch_job *job)
{
    redis_source *source = job->source;

    if (job->prev != NULL)
        job->prev->next = job->next;
    else
        source->jobs = job->next;
    if (job->next != NULL)
        job->next->prev = job->prev;
    source->job_count--;

    if (job->retry_timer != NULL)
        event_free(job->retry_timer);
    free(job->channel);
    free(job->id);
    free(job->type);
    free(job->key);
    free(job->field);
    free(job->url);
    free(job->origin);
    free(job);
}

/* Results */

static void job_attempt(redis_fetch_job *job);

static void on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
    job_attempt(arg);
}

/* Retry JOB after retry_delay, or give it up once attempts are spent. */
static void job_failed(redis_fetch_job *job, const char *reason)
{
    redis_source *source = job->source;
    const redis_fetch_config *fetch = &job->rule->config->fetch;
    struct timeval delay = timeval_from_ms(fetch->retry_delay_ms);

    if (source->stopping) {
        job_free(job);
        return;
    }
    if (job->attempt < (unsigned)fetch->attempts) {
        LG_LOG_DEBUG(source->scope, "fetching id %s for channel '%s' failed (attempt %u of %lld): %s; retrying",
                     job->id, job->channel, job->attempt, (long long)fetch->attempts, reason);
        redis_source_count(source, REDIS_COUNT_FETCH_RETRIES, 1);
        evtimer_add(job->retry_timer, &delay);
        return;
    }

    LG_LOG_ERROR(source->scope, "fetching id %s for channel '%s' failed after %u attempts: %s; no event is published",
                 job->id, job->channel, job->attempt, reason);
    redis_source_count(source, REDIS_COUNT_FETCH_FAILURES, 1);
    job_free(job);
}

/* Publish DATA, or the member named by extract, as JOB's event. */
static void job_succeeded(redis_fetch_job *job, const char *data, size_t len)
{
    const char *member_name = job->rule->config->fetch.extract;
    json_t *root;
    json_t *member;
    json_t *key;
    json_error_t error;
    char *text;

    if (len == 0) {
        job_failed(job, "the payload is empty");
        return;
    }
    if (member_name == NULL) {
        redis_source_publish(job->source, job->channel, NULL, job->type, NULL, job->origin, data, len);
        redis_source_count(job->source, REDIS_COUNT_FETCHES, 1);
        job_free(job);
        return;
    }

    root = json_loadb(data, len, JSON_DECODE_ANY, &error);
    member = json_is_object(root) ? json_object_get(root, member_name) : NULL;
    if (member == NULL) {
        char *reason = lg_sprintf("the payload is not a JSON object with a member \"%s\" (extract)", member_name);

        json_decref(root);
        job_failed(job, reason);
        free(reason);
        return;
    }
    /* An envelope from another node's admin API also carries the event's key. */
    key = json_object_get(root, "key");
    text = json_dumps(member, JSON_ENCODE_ANY | JSON_COMPACT);
    redis_source_publish(job->source, job->channel, NULL, job->type, json_is_string(key) ? json_string_value(key) : NULL,
                         job->origin, text, strlen(text));
    redis_source_count(job->source, REDIS_COUNT_FETCHES, 1);
    free(text);
    json_decref(root);
    job_free(job);
}

/* From Redis */

static void on_fetch_reply(redisAsyncContext *context, void *reply_ptr, void *privdata)
{
    redisReply *reply = reply_ptr;
    redis_fetch_job *job = privdata;
    char *reason;

    if (context->data != NULL)
        redis_link_received(&job->source->fetch_link);
    if (reply == NULL) {
        job_failed(job, "the fetch connection was lost");
        return;
    }
    if (reply->type == REDIS_REPLY_STRING) {
        job_succeeded(job, reply->str, reply->len);
        return;
    }
    if (reply->type == REDIS_REPLY_NIL)
        reason = lg_sprintf("key '%s'%s%s%s not found", job->key, job->field != NULL ? " field '" : "",
                            job->field != NULL ? job->field : "", job->field != NULL ? "'" : "");
    else if (reply->type == REDIS_REPLY_ERROR)
        reason = lg_sprintf("Redis error for key '%s': %s", job->key, reply->str);
    else
        reason = lg_sprintf("key '%s' holds no string", job->key);
    job_failed(job, reason);
    free(reason);
}

static void on_fetch_link_down(redis_link *link, const char *reason, void *arg)
{
    redis_source *source = arg;

    LG_LOG_WARN(source->scope, "fetch connection to %s: %s; it reopens with the next fetch", source->address.display,
                reason);
}

static int fetch_from_redis(redis_fetch_job *job, lg_error *err)
{
    redis_source *source = job->source;
    redis_link *link = &source->fetch_link;
    int rc;

    if (link->context == NULL && redis_link_open(link, err) < 0)
        return -1;
    if (job->field != NULL)
        rc = redisAsyncCommand(link->context, on_fetch_reply, job, "HGET %s %s", job->key, job->field);
    else
        rc = redisAsyncCommand(link->context, on_fetch_reply, job, "GET %s", job->key);
    if (rc != REDIS_OK)
        return lg_error_set(err, "queueing GET on the fetch connection failed");
    redis_link_expect(link);
    return 0;
}

/* Over HTTP */

static void on_http_done(void *arg, long status, const char *body, size_t len, const char *error)
{
    redis_fetch_job *job = arg;
    char *url;
    char *reason;

    if (error == NULL && status >= 200 && status < 300) {
        job_succeeded(job, body, len);
        return;
    }

    /* The user, password and query string of the URL may hold credentials. */
    url = lg_http_url_for_log(job->url);
    if (error != NULL)
        reason = lg_sprintf("GET %s failed: %s", url, error);
    else
        reason = lg_sprintf("GET %s returned HTTP %ld", url, status);
    job_failed(job, reason);
    free(reason);
    free(url);
}

static void job_attempt(redis_fetch_job *job)
{
    redis_source *source = job->source;
    const redis_fetch_config *fetch = &job->rule->config->fetch;
    lg_error err;
    int rc;

    job->attempt++;
    lg_error_clear(&err);
    if (fetch->from == REDIS_FETCH_REDIS)
        rc = fetch_from_redis(job, &err);
    else
        rc = redis_http_get(source->http, job->url, &fetch->headers, fetch->timeout_ms,
                            (size_t)source->config->max_message_size, on_http_done, job, &err);
    if (rc < 0)
        job_failed(job, err.message);
}

/* Notifications */

/* Read the id (a string or an integer) and the optional type of a
 * notification. Returns 0, -1 with ERR set for an invalid one, or 1 for a
 * notification this instance sent itself. *FROM_NODE is set when a livegate
 * node sent it (it has a "node"), so that its id names one event. */
static int parse_notification(redis_source *source, const char *data, size_t len, char **id, char **type,
                              int *from_node, lg_error *err)
{
    json_error_t error;
    json_t *root = json_loadb(data, len, 0, &error);
    json_t *value = json_object_get(root, "id");
    json_t *kind = json_object_get(root, "type");
    json_t *node = json_object_get(root, "node");
    int rc = 0;

    if (!json_is_object(root))
        rc = lg_error_set(err, "the notification is not a JSON object: %s", error.text);
    else if (json_is_string(node) && strcmp(json_string_value(node), source->node) == 0)
        rc = 1;
    else if (json_is_string(value) && json_string_length(value) > 0)
        *id = lg_strdup(json_string_value(value));
    else if (json_is_integer(value))
        *id = lg_sprintf("%lld", (long long)json_integer_value(value));
    else
        rc = lg_error_set(err, "the notification has no \"id\" (a non-empty string or an integer)");

    if (rc == 0 && json_is_string(kind))
        *type = lg_strdup(json_string_value(kind));
    *from_node = rc == 0 && json_is_string(node);
    json_decref(root);
    return rc;
}

static int expand_templates(redis_fetch_job *job, const char *redis_channel, lg_error *err)
{
    const redis_fetch_config *fetch = &job->rule->config->fetch;
    redis_captures captures;
    redis_template_values values = {.id = job->id, .channel = job->channel, .redis_channel = redis_channel};
    lg_buf text = LG_BUF_INIT;

    if (job->rule->is_pattern && redis_pattern_match(job->rule->name, redis_channel, &captures))
        values.captures = &captures;

    if (fetch->from == REDIS_FETCH_HTTP) {
        if (redis_template_expand(fetch->url, &values, 1, &text, err) < 0)
            goto fail;
        job->url = lg_buf_steal(&text, NULL);
        return 0;
    }
    if (redis_template_expand(fetch->key, &values, 0, &text, err) < 0)
        goto fail;
    job->key = lg_buf_steal(&text, NULL);
    if (fetch->hash_field != NULL) {
        if (redis_template_expand(fetch->hash_field, &values, 0, &text, err) < 0)
            goto fail;
        job->field = lg_buf_steal(&text, NULL);
    }
    return 0;

fail:
    lg_buf_free(&text);
    return -1;
}

void redis_fetch_start(redis_source *source, redis_rule *rule, const char *channel, const char *redis_channel,
                       const char *data, size_t len)
{
    redis_fetch_job *job;
    char *id = NULL;
    char *type = NULL;
    int from_node = 0;
    lg_error err;
    int rc;

    lg_error_clear(&err);
    rc = parse_notification(source, data, len, &id, &type, &from_node, &err);
    if (rc == 1)
        return;
    if (rc < 0) {
        LG_LOG_WARN(source->scope, "notification on Redis channel '%s' for channel '%s' dropped: %s", redis_channel,
                    channel, err.message);
        redis_source_count(source, REDIS_COUNT_FETCH_FAILURES, 1);
        return;
    }
    if (source->job_count >= source->config->max_pending_fetches) {
        LG_LOG_WARN(source->scope, "notification of id %s for channel '%s' dropped: %lld fetches are pending "
                    "(max_pending_fetches)", id, channel, (long long)source->job_count);
        redis_source_count(source, REDIS_COUNT_FETCH_FAILURES, 1);
        free(id);
        free(type);
        return;
    }

    job = lg_calloc(1, sizeof(*job));
    job->source = source;
    job->rule = rule;
    job->channel = lg_strdup(channel);
    job->id = id;
    job->type = type;
    /* A node's id (an event id or a Kafka origin) names one event, so a
     * channel that saw it drops the copy. Other ids, such as "42" for key
     * order:42, may name the same key again after it changed. */
    job->origin = from_node ? lg_strdup(id) : NULL;
    job->retry_timer = evtimer_new(lg_instance_base(source->instance), on_retry_timer, job);
    job->next = source->jobs;
    if (source->jobs != NULL)
        source->jobs->prev = job;
    source->jobs = job;
    source->job_count++;

    if (expand_templates(job, redis_channel, &err) < 0) {
        LG_LOG_ERROR(source->scope, "fetching id %s for channel '%s' failed: %s", job->id, channel, err.message);
        redis_source_count(source, REDIS_COUNT_FETCH_FAILURES, 1);
        job_free(job);
        return;
    }
    job_attempt(job);
}

void redis_fetch_stop(redis_source *source)
{
    /* Closing the connection calls the waiting Redis callbacks, which free
     * their jobs because the source is stopping. */
    source->stopping = 1;
    redis_link_close(&source->fetch_link);
    redis_http_free(source->http);
    source->http = NULL;
    while (source->jobs != NULL)
        job_free(source->jobs);
}

void redis_fetch_init(redis_source *source)
{
    redis_link *link = &source->fetch_link;

    link->address = &source->address;
    link->scope = source->scope;
    link->role = "fetch";
    link->base = lg_instance_base(source->instance);
    link->connect_timeout_ms = source->config->connect_timeout_ms;
    link->command_timeout_ms = source->config->command_timeout_ms;
    link->on_down = on_fetch_link_down;
    link->arg = source;
}
