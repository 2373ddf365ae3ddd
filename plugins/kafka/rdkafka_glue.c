/* Pieces the Kafka consumer and producer share: the record header, origins, logs and wake-up pipes. */
#include "config.h"

#include <unistd.h>

#include "alloc.h"
#include "log.h"
#include "rdkafka_glue.h"

char *kafka_origin(const char *topic, int32_t partition, int64_t offset)
{
    return lg_sprintf("kafka:%s:%d:%lld", topic, (int)partition, (long long)offset);
}

void kafka_log_line(const char *scope, const char *prefix, int level, const char *facility, const char *message)
{
    if (level <= 3)
        LG_LOG_ERROR(scope, "%s %s: %s", prefix, facility, message);
    else if (level <= 5)
        LG_LOG_WARN(scope, "%s %s: %s", prefix, facility, message);
    else
        LG_LOG_INFO(scope, "%s %s: %s", prefix, facility, message);
}

void kafka_drain_pipe(int fd)
{
    char bytes[64];

    while (read(fd, bytes, sizeof(bytes)) > 0)
        continue;
}
