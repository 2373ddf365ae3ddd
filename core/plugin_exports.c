/* Core services that only plugins call. The executable links the core as a
 * static archive, which keeps only the objects something refers to, so these
 * are listed here and the list is referred to by the plugin loader. */
#include "config.h"

#include "plugin.h"
#include "plugin_api.h"

const void *const lg_plugin_exports[] = {
    (const void *)lg_backoff_ms,
    (const void *)lg_backoff_cap_ms,
    (const void *)lg_backoff_jitter_ms,
    (const void *)lg_random_below,
    (const void *)lg_random_between,
    (const void *)lg_http_client_new,
    (const void *)lg_http_client_free,
    (const void *)lg_http_client_fetch,
    (const void *)lg_http_fetch_cancel,
    (const void *)lg_http_url_check,
    (const void *)lg_http_url_for_log,
    (const void *)lg_instance_is_produce_target,
    (const void *)lg_event_set_origin,
    NULL,
};
