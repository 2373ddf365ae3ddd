/* Unit tests of the HTTP poll bridge's body handling: JSON checks, array splitting, keys, changes. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "extract.h"

static int extract(const char *body, const char *array, const char *key, poll_items *items, lg_error *err)
{
    lg_error_clear(err);
    return poll_extract_json(body, strlen(body), array, key, items, err);
}

static void whole_body_keeps_its_bytes(void **state)
{
    const char *body = "{ \"a\": 1,\n \"b\": [1, 2] }";
    poll_items items;
    lg_error err;

    assert_int_equal(extract(body, NULL, NULL, &items, &err), 0);
    assert_int_equal(items.count, 1);
    assert_null(items.items[0].key);
    assert_string_equal(items.items[0].data, body);
    assert_int_equal(items.items[0].len, strlen(body));
    poll_items_free(&items);
}

static void html_is_not_json(void **state)
{
    poll_items items;
    lg_error err;

    assert_int_equal(extract("<html><body>Bad gateway</body></html>", NULL, NULL, &items, &err), -1);
    assert_non_null(strstr(err.message, "not JSON"));
    assert_non_null(strstr(err.message, "line 1"));
    assert_int_equal(items.count, 0);
}

static void empty_body_is_not_json(void **state)
{
    poll_items items;
    lg_error err;

    assert_int_equal(extract("", NULL, NULL, &items, &err), -1);
    assert_non_null(strstr(err.message, "not JSON"));
}

static void array_splits_with_keys(void **state)
{
    const char *body = "{\"data\": {\"prices\": [{\"s\": \"AAPL\", \"p\": 1.5}, {\"s\": \"MSFT\", \"p\": 2}]}}";
    poll_items items;
    lg_error err;

    assert_int_equal(extract(body, "data.prices", "s", &items, &err), 0);
    assert_int_equal(items.count, 2);
    assert_string_equal(items.items[0].key, "AAPL");
    assert_string_equal(items.items[0].data, "{\"s\":\"AAPL\",\"p\":1.5}");
    assert_string_equal(items.items[1].key, "MSFT");
    assert_string_equal(items.items[1].data, "{\"s\":\"MSFT\",\"p\":2}");
    assert_int_equal(items.skipped, 0);
    poll_items_free(&items);
}

static void root_array_and_numeric_keys(void **state)
{
    poll_items items;
    lg_error err;

    assert_int_equal(extract("[{\"id\": 7, \"n\": {\"k\": 2.5}}, {\"id\": 8, \"n\": {\"k\": \"x\"}}]", ".", "n.k",
                             &items, &err), 0);
    assert_int_equal(items.count, 2);
    assert_string_equal(items.items[0].key, "2.5");
    assert_string_equal(items.items[1].key, "x");
    poll_items_free(&items);

    assert_int_equal(extract("[{\"id\": 7}, {\"id\": -3}]", ".", "id", &items, &err), 0);
    assert_string_equal(items.items[0].key, "7");
    assert_string_equal(items.items[1].key, "-3");
    poll_items_free(&items);
}

static void elements_without_key_are_skipped(void **state)
{
    poll_items items;
    lg_error err;

    assert_int_equal(extract("[{\"id\": \"a\"}, {\"x\": 1}, {\"id\": null}, 5, {\"id\": \"b\"}]", ".", "id", &items,
                             &err), 0);
    assert_int_equal(items.count, 2);
    assert_string_equal(items.items[0].key, "a");
    assert_string_equal(items.items[1].key, "b");
    assert_int_equal(items.skipped, 3);
    assert_non_null(strstr(items.skip_reason, "element 1"));
    assert_non_null(strstr(items.skip_reason, "no key field"));
    poll_items_free(&items);
}

static void array_path_errors_name_the_path(void **state)
{
    poll_items items;
    lg_error err;

    assert_int_equal(extract("{\"data\": {}}", "data.items", NULL, &items, &err), -1);
    assert_non_null(strstr(err.message, "\"data.items\""));
    assert_int_equal(extract("{\"data\": {\"items\": 3}}", "data.items", NULL, &items, &err), -1);
    assert_non_null(strstr(err.message, "not an array"));
    assert_int_equal(items.count, 0);
}

static void array_index_in_path(void **state)
{
    poll_items items;
    lg_error err;

    assert_int_equal(extract("{\"pages\": [{\"rows\": [1, 2, 3]}]}", "pages.0.rows", NULL, &items, &err), 0);
    assert_int_equal(items.count, 3);
    assert_string_equal(items.items[2].data, "3");
    poll_items_free(&items);
}

static void whole_body_key_must_exist(void **state)
{
    poll_items items;
    lg_error err;

    assert_int_equal(extract("{\"symbol\": \"X\"}", NULL, "symbol", &items, &err), 0);
    assert_string_equal(items.items[0].key, "X");
    poll_items_free(&items);

    assert_int_equal(extract("{\"other\": \"X\"}", NULL, "symbol", &items, &err), -1);
    assert_non_null(strstr(err.message, "no key field"));
}

static void changes_detect_new_and_equal_data(void **state)
{
    poll_changes *changes = poll_changes_new();

    assert_int_equal(poll_changes_update(changes, NULL, "{\"a\":1}", 7), 1);
    assert_int_equal(poll_changes_update(changes, NULL, "{\"a\":1}", 7), 0);
    assert_int_equal(poll_changes_update(changes, NULL, "{\"a\":2}", 7), 1);
    assert_int_equal(poll_changes_update(changes, "k1", "{\"a\":2}", 7), 1);
    assert_int_equal(poll_changes_update(changes, "k2", "{\"a\":2}", 7), 1);
    assert_int_equal(poll_changes_update(changes, "k1", "{\"a\":2}", 7), 0);
    assert_int_equal(poll_changes_update(changes, "k1", "{\"a\":2} ", 8), 1);
    poll_changes_free(changes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_body_keeps_its_bytes),
        cmocka_unit_test(html_is_not_json),
        cmocka_unit_test(empty_body_is_not_json),
        cmocka_unit_test(array_splits_with_keys),
        cmocka_unit_test(root_array_and_numeric_keys),
        cmocka_unit_test(elements_without_key_are_skipped),
        cmocka_unit_test(array_path_errors_name_the_path),
        cmocka_unit_test(array_index_in_path),
        cmocka_unit_test(whole_body_key_must_exist),
        cmocka_unit_test(changes_detect_new_and_equal_data),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
