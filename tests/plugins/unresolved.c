/* Test module that calls a function nothing defines, so dlopen with RTLD_NOW fails. */
#include "plugin_api.h"

void lg_test_function_that_does_not_exist(void);

static const lg_option unresolved_options[] = {{0}};

static int unresolved_init(lg_instance *instance, void *config, lg_error *err)
{
    lg_test_function_that_does_not_exist();
    return 0;
}

const lg_plugin livegate_plugin = {
    .abi_version = LG_PLUGIN_ABI_VERSION,
    .name = "unresolved",
    .kind = LG_PLUGIN_SOURCE,
    .options = unresolved_options,
    .init = unresolved_init,
};
