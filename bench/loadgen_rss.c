/* Load generator: resident memory of the server processes, from /proc/PID/status. */
#include <stdio.h>
#include <string.h>

#include "loadgen.h"

static long loadgen_rss_of(pid_t pid)
{
    char path[64];
    char line[256];
    long kib = -1;
    FILE *file;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    file = fopen(path, "r");
    if (file == NULL)
        return -1;

    while (fgets(line, sizeof(line), file) != NULL) {
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    }
    fclose(file);
    return kib;
}

long loadgen_rss_kib(const pid_t *pids, int count)
{
    long total = 0;

    for (int i = 0; i < count; i++) {
        long kib = loadgen_rss_of(pids[i]);

        if (kib < 0)
            return -1;
        total += kib;
    }
    return total;
}
