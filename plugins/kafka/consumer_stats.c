/* Reading librdkafka's statistics JSON: broker states and per-partition consumer lag. */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "consumer_stats.h"

static int count_brokers_up(json_t *brokers)
{
    const char *name;
    json_t *broker;
    int up = 0;

    json_object_foreach(brokers, name, broker) {
        json_t *node = json_object_get(broker, "nodeid");
        json_t *state = json_object_get(broker, "state");

        if (json_integer_value(node) >= 0 && json_is_string(state) && strcmp(json_string_value(state), "UP") == 0)
            up++;
    }
    return up;
}

static int64_t offset_field(json_t *partition, const char *name)
{
    json_t *value = json_object_get(partition, name);

    return json_is_integer(value) ? json_integer_value(value) : -1;
}

/* Records between the end of the partition (the last stable offset, or the
 * high watermark) and the next record this consumer hands to livegate. The
 * consumer_lag field of the statistics needs committed offsets, which this
 * consumer never makes. */
static int64_t lag_of(json_t *partition)
{
    int64_t end = offset_field(partition, "ls_offset");
    int64_t next = offset_field(partition, "app_offset");

    if (end < 0)
        end = offset_field(partition, "hi_offset");
    if (next < 0)
        next = offset_field(partition, "next_offset");
    if (end < 0 || next < 0)
        return -1;
    return end > next ? end - next : 0;
}

static void visit_topic(const char *topic, json_t *partitions, kafka_partition_visit visit, void *arg)
{
    const char *name;
    json_t *partition;

    json_object_foreach(partitions, name, partition) {
        json_t *desired = json_object_get(partition, "desired");
        json_t *state = json_object_get(partition, "fetch_state");
        kafka_partition_stats stats = {
            .topic = topic,
            .partition = (int32_t)json_integer_value(json_object_get(partition, "partition")),
            .lag = lag_of(partition),
            .fetch_state = json_is_string(state) ? json_string_value(state) : "",
        };

        /* Partition -1 is librdkafka's own bookkeeping, not a real one. */
        if (stats.partition < 0 || !json_is_true(desired))
            continue;
        visit(&stats, arg);
    }
}

int kafka_stats_parse(const char *json, size_t len, kafka_partition_visit visit, void *arg, int *brokers_up)
{
    json_t *root = json_loadb(json, len, 0, NULL);
    json_t *topics;
    const char *topic;
    json_t *value;

    if (!json_is_object(root) || !json_is_object(json_object_get(root, "brokers"))) {
        json_decref(root);
        return -1;
    }

    *brokers_up = count_brokers_up(json_object_get(root, "brokers"));
    topics = json_object_get(root, "topics");
    json_object_foreach(topics, topic, value)
        visit_topic(topic, json_object_get(value, "partitions"), visit, arg);
    json_decref(root);
    return 0;
}
