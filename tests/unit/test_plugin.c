/* Unit tests of the plugin loader: every broken module is rejected with the file and the reason.
 * Loading the real plugins needs the livegate executable's symbols, so the integration tests cover it. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "plugin.h"

static const lg_plugin *load(const char *dir, const char *type, lg_plugin_kind kind, lg_error *err)
{
    static lg_module_set modules;

    lg_module_set_clear(&modules);
    lg_module_set_init(&modules, dir);
    return lg_module_load(&modules, type, kind, err);
}

static void loader_rejects_other_abi(void **state)
{
    lg_error err;
    char expected[64];

    assert_null(load(LG_TEST_MODULE_DIR, "bad_abi", LG_PLUGIN_SOURCE, &err));
    assert_non_null(strstr(err.message, "bad_abi.so"));
    snprintf(expected, sizeof expected, "plugin ABI version %d", LG_PLUGIN_ABI_VERSION + 1);
    assert_non_null(strstr(err.message, expected));
    assert_non_null(strstr(err.message, "rebuild"));
}

static void loader_rejects_missing_symbol(void **state)
{
    lg_error err;

    assert_null(load(LG_TEST_MODULE_DIR, "no_symbol", LG_PLUGIN_SOURCE, &err));
    assert_non_null(strstr(err.message, "no_symbol.so"));
    assert_non_null(strstr(err.message, "livegate_plugin"));
}

static void loader_rejects_wrong_name(void **state)
{
    lg_error err;

    assert_null(load(LG_TEST_MODULE_DIR, "misnamed", LG_PLUGIN_SOURCE, &err));
    assert_non_null(strstr(err.message, "misnamed.so"));
    assert_non_null(strstr(err.message, "'another_name'"));
}

static void loader_rejects_unresolved_symbol(void **state)
{
    lg_error err;

    assert_null(load(LG_TEST_MODULE_DIR, "unresolved", LG_PLUGIN_SOURCE, &err));
    assert_non_null(strstr(err.message, "unresolved.so"));
    assert_non_null(strstr(err.message, "lg_test_function_that_does_not_exist"));
}

static void loader_rejects_missing_file(void **state)
{
    lg_error err;

    assert_null(load(LG_TEST_MODULE_DIR, "nothing_here", LG_PLUGIN_SOURCE, &err));
    assert_non_null(strstr(err.message, "nothing_here.so"));
    assert_non_null(strstr(err.message, "--plugin-dir"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loader_rejects_other_abi),
        cmocka_unit_test(loader_rejects_missing_symbol),
        cmocka_unit_test(loader_rejects_wrong_name),
        cmocka_unit_test(loader_rejects_unresolved_symbol),
        cmocka_unit_test(loader_rejects_missing_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
