/* Taking Kafka records apart into the pieces of an event. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "rdkafka_glue.h"
#include "record.h"
#include "route.h"

/* Copy the last value of header NAME of MESSAGE into OUT; return 1, or 0 without one. */
static int header_value(rd_kafka_message_t *message, const char *name, lg_buf *out)
{
    rd_kafka_headers_t *headers = NULL;
    const void *value;
    size_t len;

    if (name == NULL || rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    if (rd_kafka_header_get_last(headers, name, &value, &len) != RD_KAFKA_RESP_ERR_NO_ERROR || value == NULL)
        return 0;
    lg_buf_reset(out);
    lg_buf_append(out, value, len);
    return 1;
}

int kafka_record_read(const kafka_record_rules *rules, rd_kafka_message_t *message, kafka_record *record,
                      lg_error *err)
{
    const char *topic = rd_kafka_topic_name(message->rkt);
    rd_kafka_timestamp_type_t time_type;
    kafka_record_view view;

    memset(record, 0, sizeof(*record));
    if (rules->use_key && message->key != NULL && message->key_len > 0)
        record->key = lg_strndup(message->key, message->key_len);
    record->value = message->payload != NULL ? message->payload : "";
    record->value_len = message->len;
    record->origin = kafka_origin(topic, message->partition, message->offset);
    record->time_ms = rd_kafka_message_timestamp(message, &time_type);
    if (record->time_ms < 0)
        record->time_ms = 0;
    record->has_type = header_value(message, rules->type_header, &record->type);

    /* Written by produce: back into the channel it was published to. */
    if (header_value(message, KAFKA_CHANNEL_HEADER, &record->channel))
        return 0;

    view = (kafka_record_view){
        .topic = topic,
        .partition = message->partition,
        .key = record->key,
        .value = record->value,
        .value_len = record->value_len,
    };
    return kafka_route_channel(rules->channel, rules->channel_field, &view, &record->channel, err);
}

void kafka_record_clear(kafka_record *record)
{
    free(record->key);
    free(record->origin);
    lg_buf_free(&record->channel);
    lg_buf_free(&record->type);
    memset(record, 0, sizeof(*record));
}

int kafka_log_parse(const char *log, const char **topic, size_t *topic_len, int32_t *partition)
{
    const char *colon;
    char *end = NULL;
    long value;

    if (strncmp(log, "kafka:", 6) != 0)
        return -1;
    colon = strrchr(log, ':');
    if (colon == log + 5 || colon[1] < '0' || colon[1] > '9')
        return -1;
    errno = 0;
    value = strtol(colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || value > INT32_MAX)
        return -1;

    *topic = log + 6;
    *topic_len = (size_t)(colon - *topic);
    *partition = (int32_t)value;
    return *topic_len > 0 ? 0 : -1;
}
