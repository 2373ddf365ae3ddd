/* Test module whose descriptor name differs from its file name. */
#include "plugin_api.h"

static const lg_option misnamed_options[] = {{0}};

static int misnamed_init(lg_instance *instance, void *config, lg_error *err)
{
    return 0;
}

const lg_plugin livegate_plugin = {
    .abi_version = LG_PLUGIN_ABI_VERSION,
    .name = "another_name",
    .kind = LG_PLUGIN_SOURCE,
    .options = misnamed_options,
    .init = misnamed_init,
};
