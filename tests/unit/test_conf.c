/* Unit tests of the YAML configuration loader: positions, merge keys, nulls, ${ENV} and errors. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"

#define TEST_FILE "test.yaml"

static lg_conf_doc *load(const char *text, lg_error *err)
{
    lg_error_clear(err);
    return lg_conf_load_string(TEST_FILE, text, strlen(text), err);
}

/* Load TEXT, which must fail, and return the error message. */
static const char *load_error(const char *text, lg_error *err)
{
    lg_conf_doc *doc = load(text, err);

    if (doc != NULL) {
        lg_conf_free(doc);
        fail_msg("loading succeeded, expected an error for:\n%s", text);
    }
    return err->message;
}

static void assert_contains(const char *text, const char *part)
{
    if (strstr(text, part) == NULL)
        fail_msg("'%s' does not contain '%s'", text, part);
}

static const lg_conf_node *get(const lg_conf_node *map, const char *key)
{
    const lg_conf_node *value = lg_conf_map_get(map, key, NULL);

    if (value == NULL)
        fail_msg("key '%s' not found", key);
    return value;
}

static const char *get_value(const lg_conf_node *map, const char *key)
{
    const lg_conf_node *value = get(map, key);

    assert_int_equal(value->kind, LG_CONF_SCALAR);
    return value->value;
}

static void conf_positions_nested(void **state)
{
    const char *text = "server:\n"
                       "  listen: 127.0.0.1:8080\n"
                       "sources:\n"
                       "  - name: host\n"
                       "    type: sysmetrics\n"
                       "  - [a, b]\n";
    lg_error err;
    lg_conf_doc *doc = load(text, &err);
    const lg_conf_pair *pair;
    const lg_conf_node *server;
    const lg_conf_node *sources;
    const lg_conf_node *first;
    const lg_conf_node *flow;

    (void)state;
    assert_non_null(doc);
    assert_string_equal(doc->file, TEST_FILE);
    assert_int_equal(doc->root->kind, LG_CONF_MAP);
    assert_int_equal(doc->root->line, 1);
    assert_int_equal(doc->root->column, 1);
    assert_string_equal(doc->root->file, TEST_FILE);

    server = lg_conf_map_get(doc->root, "server", &pair);
    assert_non_null(server);
    assert_int_equal(pair->line, 1);
    assert_int_equal(pair->column, 1);
    assert_int_equal(server->kind, LG_CONF_MAP);
    assert_int_equal(server->line, 2);
    assert_int_equal(server->column, 3);

    assert_non_null(lg_conf_map_get(server, "listen", &pair));
    assert_int_equal(pair->line, 2);
    assert_int_equal(pair->column, 3);
    assert_string_equal(get_value(server, "listen"), "127.0.0.1:8080");
    assert_int_equal(get(server, "listen")->line, 2);
    assert_int_equal(get(server, "listen")->column, 11);

    sources = get(doc->root, "sources");
    assert_int_equal(sources->kind, LG_CONF_SEQ);
    assert_int_equal(sources->count, 2);
    assert_int_equal(sources->line, 4);
    assert_int_equal(sources->column, 3);

    first = sources->items[0];
    assert_int_equal(first->kind, LG_CONF_MAP);
    assert_int_equal(first->line, 4);
    assert_int_equal(first->column, 5);
    assert_int_equal(first->count, 2);
    assert_string_equal(first->pairs[1].key, "type");
    assert_int_equal(first->pairs[1].line, 5);
    assert_int_equal(first->pairs[1].column, 5);
    assert_string_equal(first->pairs[1].value->value, "sysmetrics");
    assert_int_equal(first->pairs[1].value->column, 11);

    flow = sources->items[1];
    assert_int_equal(flow->kind, LG_CONF_SEQ);
    assert_int_equal(flow->count, 2);
    assert_int_equal(flow->line, 6);
    assert_int_equal(flow->column, 5);
    assert_string_equal(flow->items[1]->value, "b");
    assert_int_equal(flow->items[1]->column, 9);
    lg_conf_free(doc);
}

static void conf_pairs_in_order(void **state)
{
    lg_error err;
    lg_conf_doc *doc = load("zeta: 1\nalpha: 2\nmid: 3\n", &err);

    (void)state;
    assert_non_null(doc);
    assert_int_equal(doc->root->count, 3);
    assert_string_equal(doc->root->pairs[0].key, "zeta");
    assert_string_equal(doc->root->pairs[1].key, "alpha");
    assert_string_equal(doc->root->pairs[2].key, "mid");
    lg_conf_free(doc);
}

static void conf_map_get_missing(void **state)
{
    static const lg_conf_pair unset;
    lg_error err;
    lg_conf_doc *doc = load("a: [1]\n", &err);
    const lg_conf_pair *pair = &unset;

    (void)state;
    assert_non_null(doc);
    assert_null(lg_conf_map_get(doc->root, "b", &pair));
    assert_null(pair);
    assert_null(lg_conf_map_get(get(doc->root, "a"), "a", NULL));
    assert_null(lg_conf_map_get(NULL, "a", NULL));
    lg_conf_free(doc);
}

static void conf_duplicate_key(void **state)
{
    lg_error err;

    (void)state;
    assert_string_equal(load_error("listen: a\nworkers: 2\nlisten: b\n", &err),
                        TEST_FILE ":3:1: duplicate key 'listen' (first defined at line 1)");
}

static void conf_duplicate_nested_key(void **state)
{
    lg_error err;

    (void)state;
    assert_string_equal(load_error("server:\n  port: 1\n\n  port: 2\n", &err),
                        TEST_FILE ":4:3: duplicate key 'port' (first defined at line 2)");
}

static void conf_merge_local_wins(void **state)
{
    const char *text = "base: &base\n"
                       "  host: localhost\n"
                       "  port: 80\n"
                       "before:\n"
                       "  <<: *base\n"
                       "  port: 8080\n"
                       "after:\n"
                       "  port: 9090\n"
                       "  <<: *base\n";
    lg_error err;
    lg_conf_doc *doc = load(text, &err);
    const lg_conf_node *before;
    const lg_conf_node *after;
    const lg_conf_pair *pair;

    (void)state;
    assert_non_null(doc);
    before = get(doc->root, "before");
    assert_int_equal(before->count, 2);
    assert_null(lg_conf_map_get(before, "<<", NULL));
    assert_string_equal(get_value(before, "host"), "localhost");
    assert_string_equal(get_value(before, "port"), "8080");

    after = get(doc->root, "after");
    assert_int_equal(after->count, 2);
    assert_null(lg_conf_map_get(after, "<<", NULL));
    assert_string_equal(get_value(after, "host"), "localhost");
    assert_string_equal(get_value(after, "port"), "9090");

    assert_non_null(lg_conf_map_get(after, "host", &pair));
    assert_int_equal(pair->line, 2);
    assert_int_equal(pair->column, 3);
    assert_int_equal(pair->value->line, 2);
    assert_int_equal(pair->value->column, 9);
    lg_conf_free(doc);
}

static void conf_merge_list_earlier_wins(void **state)
{
    const char *text = "a: &a {x: a, y: a}\n"
                       "b: &b {y: b, z: b}\n"
                       "c:\n"
                       "  <<: [*a, *b]\n"
                       "  w: c\n";
    lg_error err;
    lg_conf_doc *doc = load(text, &err);
    const lg_conf_node *c;

    (void)state;
    assert_non_null(doc);
    c = get(doc->root, "c");
    assert_int_equal(c->count, 4);
    assert_null(lg_conf_map_get(c, "<<", NULL));
    assert_string_equal(get_value(c, "x"), "a");
    assert_string_equal(get_value(c, "y"), "a");
    assert_string_equal(get_value(c, "z"), "b");
    assert_string_equal(get_value(c, "w"), "c");
    lg_conf_free(doc);
}

static void conf_merge_scalar_rejected(void **state)
{
    lg_error err;

    (void)state;
    assert_string_equal(load_error("text: &t hello\nsection:\n  a: 1\n  <<: *t\n", &err),
                        TEST_FILE ":4:3: merge key '<<' expects a mapping or a list of mappings, got a string");
}

static void conf_merge_list_of_scalar_rejected(void **state)
{
    lg_error err;

    (void)state;
    assert_string_equal(load_error("a: &a {x: 1}\nb:\n  <<: [*a, 5]\n", &err),
                        TEST_FILE ":3:3: merge key '<<' expects a mapping or a list of mappings, "
                                  "got a list containing a string");
}

static void conf_merge_local_duplicate(void **state)
{
    lg_error err;

    (void)state;
    assert_string_equal(load_error("a: &a {x: 1}\nb:\n  <<: *a\n  y: 1\n  y: 2\n", &err),
                        TEST_FILE ":5:3: duplicate key 'y' (first defined at line 4)");
}

static void conf_alias_copied(void **state)
{
    lg_error err;
    lg_conf_doc *doc = load("one: &v [x, y]\ntwo: *v\n", &err);
    const lg_conf_node *one;
    const lg_conf_node *two;

    (void)state;
    assert_non_null(doc);
    one = get(doc->root, "one");
    two = get(doc->root, "two");
    assert_ptr_not_equal(one, two);
    assert_int_equal(two->kind, LG_CONF_SEQ);
    assert_int_equal(two->count, 2);
    assert_string_equal(two->items[1]->value, "y");
    assert_int_equal(two->line, 1);
    lg_conf_free(doc);
}

static void conf_alias_recursive_rejected(void **state)
{
    lg_error err;

    (void)state;
    assert_contains(load_error("a: &x\n  b: *x\n", &err), TEST_FILE ":1:4: invalid alias");
}

static void conf_alias_expansion_limited(void **state)
{
    const char *text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
    lg_error err;

    (void)state;
    assert_contains(load_error(text, &err), "too many nodes after expanding aliases");
}

static void conf_deep_nesting_rejected(void **state)
{
    char text[2048];
    size_t depth = 500;
    lg_error err;
    size_t i;

    (void)state;
    memcpy(text, "a: ", 3);
    for (i = 0; i < depth; i++) {
        text[3 + i] = '[';
        text[3 + depth + i] = ']';
    }
    text[3 + 2 * depth] = '\0';
    assert_contains(load_error(text, &err), "nesting is too deep");
}

static void conf_null_plain_and_quoted(void **state)
{
    const char *text = "a: null\n"
                       "b: \"null\"\n"
                       "c: ~\n"
                       "d:\n"
                       "e: NULL\n"
                       "f: Null\n"
                       "g: 'null'\n"
                       "h: |\n"
                       "  text\n"
                       "i: \"\"\n"
                       "j: nil\n";
    lg_error err;
    lg_conf_doc *doc = load(text, &err);

    (void)state;
    assert_non_null(doc);
    assert_null(get_value(doc->root, "a"));
    assert_false(get(doc->root, "a")->quoted);
    assert_string_equal(lg_conf_describe(get(doc->root, "a")), "null");
    assert_string_equal(get_value(doc->root, "b"), "null");
    assert_true(get(doc->root, "b")->quoted);
    assert_string_equal(lg_conf_describe(get(doc->root, "b")), "a string");
    assert_null(get_value(doc->root, "c"));
    assert_null(get_value(doc->root, "d"));
    assert_null(get_value(doc->root, "e"));
    assert_null(get_value(doc->root, "f"));
    assert_string_equal(get_value(doc->root, "g"), "null");
    assert_true(get(doc->root, "g")->quoted);
    assert_string_equal(get_value(doc->root, "h"), "text\n");
    assert_true(get(doc->root, "h")->quoted);
    assert_string_equal(get_value(doc->root, "i"), "");
    assert_string_equal(get_value(doc->root, "j"), "nil");
    lg_conf_free(doc);
}

static void conf_describe_kinds(void **state)
{
    lg_error err;
    lg_conf_doc *doc = load("m: {a: 1}\ns: [1]\nv: x\n", &err);

    (void)state;
    assert_non_null(doc);
    assert_string_equal(lg_conf_describe(get(doc->root, "m")), "a mapping");
    assert_string_equal(lg_conf_describe(get(doc->root, "s")), "a list");
    assert_string_equal(lg_conf_describe(get(doc->root, "v")), "a string");
    assert_string_equal(lg_conf_describe(NULL), "null");
    lg_conf_free(doc);
}

static void conf_env_set(void **state)
{
    lg_error err;
    lg_conf_doc *doc;

    (void)state;
    setenv("LG_TEST_CONF_HOST", "example.org", 1);
    doc = load("url: http://${LG_TEST_CONF_HOST}:80/\nlist: [\"${LG_TEST_CONF_HOST}\"]\n", &err);
    assert_non_null(doc);
    assert_string_equal(get_value(doc->root, "url"), "http://example.org:80/");
    assert_string_equal(get(doc->root, "list")->items[0]->value, "example.org");
    lg_conf_free(doc);
    unsetenv("LG_TEST_CONF_HOST");
}

static void conf_env_unset_default(void **state)
{
    lg_error err;
    lg_conf_doc *doc;

    (void)state;
    unsetenv("LG_TEST_CONF_UNSET");
    doc = load("host: ${LG_TEST_CONF_UNSET:-localhost}\n", &err);
    assert_non_null(doc);
    assert_string_equal(get_value(doc->root, "host"), "localhost");
    lg_conf_free(doc);
}

static void conf_env_empty_default(void **state)
{
    lg_error err;
    lg_conf_doc *doc;

    (void)state;
    setenv("LG_TEST_CONF_EMPTY", "", 1);
    doc = load("host: ${LG_TEST_CONF_EMPTY:-localhost}\nraw: x${LG_TEST_CONF_EMPTY}y\n", &err);
    assert_non_null(doc);
    assert_string_equal(get_value(doc->root, "host"), "localhost");
    assert_string_equal(get_value(doc->root, "raw"), "xy");
    lg_conf_free(doc);
    unsetenv("LG_TEST_CONF_EMPTY");
}

static void conf_env_empty_result(void **state)
{
    lg_error err;
    lg_conf_doc *doc;

    (void)state;
    unsetenv("LG_TEST_CONF_UNSET");
    doc = load("token: ${LG_TEST_CONF_UNSET:-}\n", &err);
    assert_non_null(doc);
    assert_non_null(get_value(doc->root, "token"));
    assert_string_equal(get_value(doc->root, "token"), "");
    assert_false(get(doc->root, "token")->quoted);
    lg_conf_free(doc);
}

static void conf_env_unset_error(void **state)
{
    lg_error err;
    const char *message;

    (void)state;
    unsetenv("LG_TEST_CONF_MISSING");
    message = load_error("a: 1\nserver:\n  token: \"Bearer ${LG_TEST_CONF_MISSING}\"\n", &err);
    assert_contains(message, TEST_FILE ":3:10: ");
    assert_contains(message, "'LG_TEST_CONF_MISSING' is not set");
    assert_contains(message, "${LG_TEST_CONF_MISSING:-default}");
}

static void conf_env_dollar_escape(void **state)
{
    lg_error err;
    lg_conf_doc *doc;

    (void)state;
    setenv("LG_TEST_CONF_HOST", "example.org", 1);
    doc = load("price: $$5 for $${LG_TEST_CONF_HOST} $HOME $\nhost: $$${LG_TEST_CONF_HOST}\n", &err);
    assert_non_null(doc);
    assert_string_equal(get_value(doc->root, "price"), "$5 for ${LG_TEST_CONF_HOST} $HOME $");
    assert_string_equal(get_value(doc->root, "host"), "$example.org");
    lg_conf_free(doc);
    unsetenv("LG_TEST_CONF_HOST");
}

static void conf_env_unterminated(void **state)
{
    lg_error err;
    const char *message;

    (void)state;
    message = load_error("a: 1\nb: x${LG_TEST_CONF_HOST\n", &err);
    assert_contains(message, TEST_FILE ":2:4: ");
    assert_contains(message, "unterminated reference '${LG_TEST_CONF_HOST'");
}

static void conf_env_invalid_name(void **state)
{
    lg_error err;
    const char *message;

    (void)state;
    message = load_error("a: ${1ABC}\n", &err);
    assert_contains(message, TEST_FILE ":1:4: ");
    assert_contains(message, "invalid reference '${1ABC}'");
}

static void conf_env_nested_default(void **state)
{
    lg_error err;
    char *value;

    (void)state;
    unsetenv("LG_TEST_CONF_UNSET");
    setenv("LG_TEST_CONF_HOST", "example.org", 1);
    value = lg_conf_expand_env("${LG_TEST_CONF_UNSET:-${LG_TEST_CONF_HOST}}/x", &err);
    assert_non_null(value);
    assert_string_equal(value, "example.org/x");
    free(value);
    unsetenv("LG_TEST_CONF_HOST");
}

static void conf_env_not_reparsed(void **state)
{
    lg_error err;
    lg_conf_doc *doc;

    (void)state;
    setenv("LG_TEST_CONF_YAML", "[1, {a: b}]", 1);
    doc = load("value: ${LG_TEST_CONF_YAML}\n", &err);
    assert_non_null(doc);
    assert_int_equal(get(doc->root, "value")->kind, LG_CONF_SCALAR);
    assert_string_equal(get_value(doc->root, "value"), "[1, {a: b}]");
    lg_conf_free(doc);
    unsetenv("LG_TEST_CONF_YAML");
}

static void conf_env_keys_not_expanded(void **state)
{
    lg_error err;
    lg_conf_doc *doc;

    (void)state;
    unsetenv("LG_TEST_CONF_UNSET");
    doc = load("${LG_TEST_CONF_UNSET}: 1\n", &err);
    assert_non_null(doc);
    assert_string_equal(doc->root->pairs[0].key, "${LG_TEST_CONF_UNSET}");
    lg_conf_free(doc);
}

static void conf_syntax_error(void **state)
{
    lg_error err;
    const char *message;

    (void)state;
    message = load_error("a: 1\nb: [1, 2\nc: 3\n", &err);
    assert_contains(message, TEST_FILE ":3:2: invalid YAML: ");
    assert_contains(message, "did not find expected ',' or ']'");
    assert_contains(message, "line 2, column 4");
}

static void conf_bad_indentation(void **state)
{
    lg_error err;

    (void)state;
    assert_string_equal(load_error("a: 1\n  b: 2\n", &err),
                        TEST_FILE ":2:4: invalid YAML: mapping values are not allowed in this context");
}

static void conf_invalid_utf8(void **state)
{
    lg_error err;

    (void)state;
    assert_contains(load_error("a: 1\nb: \xff\n", &err), TEST_FILE ":2:4: invalid YAML: ");
}

static void conf_missing_file(void **state)
{
    const char *path = "/nonexistent-livegate-dir/livegate.yaml";
    lg_error err;

    (void)state;
    assert_null(lg_conf_load_file(path, &err));
    assert_contains(err.message, path);
    assert_contains(err.message, strerror(ENOENT));
}

static void conf_load_file(void **state)
{
    char path[] = "/tmp/lg-test-conf-XXXXXX";
    const char *text = "# comment\nserver:\n  port: 8080\n";
    lg_error err;
    lg_conf_doc *doc;
    int fd;

    (void)state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);

    doc = lg_conf_load_file(path, &err);
    unlink(path);
    assert_non_null(doc);
    assert_string_equal(doc->file, path);
    assert_string_equal(get(doc->root, "server")->file, path);
    assert_string_equal(get_value(get(doc->root, "server"), "port"), "8080");
    assert_int_equal(get(get(doc->root, "server"), "port")->line, 3);
    lg_conf_free(doc);
}

static void conf_root_list_rejected(void **state)
{
    lg_error err;

    (void)state;
    assert_string_equal(load_error("- a\n- b\n", &err),
                        TEST_FILE ":1:1: the top level must be a mapping, got a list");
}

static void conf_root_scalar_rejected(void **state)
{
    lg_error err;

    (void)state;
    assert_string_equal(load_error("just text\n", &err),
                        TEST_FILE ":1:1: the top level must be a mapping, got a string");
}

static void conf_empty_rejected(void **state)
{
    lg_error err;

    (void)state;
    assert_contains(load_error("", &err), TEST_FILE ":1:1: no YAML document found");
    assert_contains(load_error("# only a comment\n", &err), TEST_FILE ":1:1: no YAML document found");
}

static void conf_two_documents_rejected(void **state)
{
    lg_error err;

    (void)state;
    assert_contains(load_error("a: 1\n---\nb: 2\n", &err), TEST_FILE ":2:1: more than one YAML document");
}

static void conf_list_key_rejected(void **state)
{
    lg_error err;

    (void)state;
    assert_string_equal(load_error("ok: 1\n? [a, b]\n: 1\n", &err),
                        TEST_FILE ":2:3: a mapping key must be a string, got a list");
}

static void conf_nul_byte_rejected(void **state)
{
    lg_error err;

    (void)state;
    assert_contains(load_error("a: \"x\\0y\"\n", &err), TEST_FILE ":1:4: a NUL character");
}

static void conf_value_any_root(void **state)
{
    lg_error err;
    lg_conf_doc *list = lg_conf_load_value("(default)", "[a, b]", 6, &err);
    lg_conf_doc *empty = lg_conf_load_value("(default)", "", 0, &err);

    (void)state;
    assert_non_null(list);
    assert_int_equal(list->root->kind, LG_CONF_SEQ);
    assert_int_equal(list->root->count, 2);
    assert_non_null(empty);
    assert_int_equal(empty->root->kind, LG_CONF_SCALAR);
    assert_null(empty->root->value);
    lg_conf_free(list);
    lg_conf_free(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conf_positions_nested),
        cmocka_unit_test(conf_pairs_in_order),
        cmocka_unit_test(conf_map_get_missing),
        cmocka_unit_test(conf_duplicate_key),
        cmocka_unit_test(conf_duplicate_nested_key),
        cmocka_unit_test(conf_merge_local_wins),
        cmocka_unit_test(conf_merge_list_earlier_wins),
        cmocka_unit_test(conf_merge_scalar_rejected),
        cmocka_unit_test(conf_merge_list_of_scalar_rejected),
        cmocka_unit_test(conf_merge_local_duplicate),
        cmocka_unit_test(conf_alias_copied),
        cmocka_unit_test(conf_alias_recursive_rejected),
        cmocka_unit_test(conf_alias_expansion_limited),
        cmocka_unit_test(conf_deep_nesting_rejected),
        cmocka_unit_test(conf_null_plain_and_quoted),
        cmocka_unit_test(conf_describe_kinds),
        cmocka_unit_test(conf_env_set),
        cmocka_unit_test(conf_env_unset_default),
        cmocka_unit_test(conf_env_empty_default),
        cmocka_unit_test(conf_env_empty_result),
        cmocka_unit_test(conf_env_unset_error),
        cmocka_unit_test(conf_env_dollar_escape),
        cmocka_unit_test(conf_env_unterminated),
        cmocka_unit_test(conf_env_invalid_name),
        cmocka_unit_test(conf_env_nested_default),
        cmocka_unit_test(conf_env_not_reparsed),
        cmocka_unit_test(conf_env_keys_not_expanded),
        cmocka_unit_test(conf_syntax_error),
        cmocka_unit_test(conf_bad_indentation),
        cmocka_unit_test(conf_invalid_utf8),
        cmocka_unit_test(conf_missing_file),
        cmocka_unit_test(conf_load_file),
        cmocka_unit_test(conf_root_list_rejected),
        cmocka_unit_test(conf_root_scalar_rejected),
        cmocka_unit_test(conf_empty_rejected),
        cmocka_unit_test(conf_two_documents_rejected),
        cmocka_unit_test(conf_list_key_rejected),
        cmocka_unit_test(conf_nul_byte_rejected),
        cmocka_unit_test(conf_value_any_root),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
