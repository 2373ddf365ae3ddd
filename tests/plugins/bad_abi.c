/* Test module whose descriptor claims a plugin ABI version that livegate does not have. */
#include "plugin_api.h"

static const lg_option bad_abi_options[] = {{0}};

static int bad_abi_init(lg_instance *instance, void *config, lg_error *err)
{
    return 0;
}

const lg_plugin livegate_plugin = {
    .abi_version = LG_PLUGIN_ABI_VERSION + 1,
    .name = "bad_abi",
    .kind = LG_PLUGIN_SOURCE,
    .options = bad_abi_options,
    .init = bad_abi_init,
};
