/* YAML configuration loader: libyaml documents turned into lg_conf_node trees with positions and merge keys. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "alloc.h"
#include "buf.h"
#include "conf.h"

/* Aliases are copied into the tree, so a few nested aliases can multiply
 * into millions of nodes ("billion laughs"). A configuration typically has
 * hundreds of nodes, so a tree past this size is rejected. */
#define CONF_MAX_NODES 100000

/* The conversion below is recursive, so nesting is bounded to keep the
 * stack small.
 * NOTE: libyaml's own composer (yaml_parser_load, 0.2.5) is recursive too
 * and has no limit, so a file with tens of thousands of nested brackets
 * can exhaust the stack before this check runs. Checking the depth over
 * parser events before loading would close that gap. */
#define CONF_MAX_DEPTH 200

#define CONF_READ_CHUNK_BYTES 8192

/* State of one libyaml document being converted into a node tree. */
typedef struct conf_builder {
    const char *file;
    yaml_document_t *yaml;
    /* One flag per libyaml node, set while the node is being converted, so
     * an alias inside its own anchored node is reported, not followed. */
    unsigned char *visiting;
    size_t node_count;
    unsigned depth;
    lg_error *err;
} conf_builder;

static lg_conf_node *convert_node(conf_builder *b, int index);

static void free_node(lg_conf_node *node)
{
    size_t i;

    if (node == NULL)
        return;

    if (node->kind == LG_CONF_MAP) {
        for (i = 0; i < node->count; i++) {
            free(node->pairs[i].key);
            free_node(node->pairs[i].value);
        }
    } else if (node->kind == LG_CONF_SEQ) {
        for (i = 0; i < node->count; i++)
            free_node(node->items[i]);
    }

    free(node->pairs);
    free(node->items);
    free(node->value);
    free(node);
}

static void free_pairs(lg_conf_pair *pairs, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++) {
        free(pairs[i].key);
        free_node(pairs[i].value);
    }
    free(pairs);
}

static int set_position_error(conf_builder *b, yaml_mark_t mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int set_position_error(conf_builder *b, yaml_mark_t mark, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    lg_error_vset(b->err, fmt, args);
    va_end(args);
    return lg_error_prefix(b->err, "%s:%zu:%zu", b->file, mark.line + 1, mark.column + 1);
}

static lg_conf_node *new_node(conf_builder *b, lg_conf_kind kind, yaml_mark_t mark)
{
    lg_conf_node *node = lg_calloc(1, sizeof(*node));

    node->kind = kind;
    node->file = b->file;
    node->line = (unsigned)mark.line + 1;
    node->column = (unsigned)mark.column + 1;
    return node;
}

static const char *describe_yaml_node(const yaml_node_t *yn)
{
    if (yn->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (yn->type == YAML_SEQUENCE_NODE)
        return "a list";
    return "a string";
}

/* An unquoted null, Null, NULL, ~ or empty value, as in the YAML 1.2 core schema. */
static int is_plain_null(const yaml_node_t *yn)
{
    const char *text = (const char *)yn->data.scalar.value;

    if (yn->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    return strcmp(text, "") == 0 || strcmp(text, "~") == 0 || strcmp(text, "null") == 0 ||
           strcmp(text, "Null") == 0 || strcmp(text, "NULL") == 0;
}

static int has_nul_byte(const yaml_node_t *yn)
{
    return strlen((const char *)yn->data.scalar.value) != yn->data.scalar.length;
}

static lg_conf_node *convert_scalar(conf_builder *b, yaml_node_t *yn)
{
    lg_conf_node *node;

    if (has_nul_byte(yn)) {
        set_position_error(b, yn->start_mark, "a NUL character (\\0) is not allowed in a configuration value");
        return NULL;
    }

    node = new_node(b, LG_CONF_SCALAR, yn->start_mark);
    node->quoted = yn->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    if (is_plain_null(yn))
        return node;

    node->value = lg_conf_expand_env((const char *)yn->data.scalar.value, b->err);
    if (node->value == NULL) {
        lg_error_prefix(b->err, "%s:%u:%u", b->file, node->line, node->column);
        free_node(node);
        return NULL;
    }
    return node;
}

static lg_conf_node *convert_sequence(conf_builder *b, yaml_node_t *yn)
{
    size_t total = (size_t)(yn->data.sequence.items.top - yn->data.sequence.items.start);
    lg_conf_node *node = new_node(b, LG_CONF_SEQ, yn->start_mark);
    size_t i;

    node->items = lg_calloc(total, sizeof(*node->items));
    for (i = 0; i < total; i++) {
        node->items[i] = convert_node(b, yn->data.sequence.items.start[i]);
        if (node->items[i] == NULL) {
            free_node(node);
            return NULL;
        }
        node->count++;
    }
    return node;
}

/* NOTE: a linear search, so checking a mapping for duplicate and merged keys
 * costs O(n^2) in its key count. That is fine for configuration sections of
 * tens of keys, but mappings of many thousands of keys would need a hash set. */
static const lg_conf_pair *find_pair(const lg_conf_pair *pairs, size_t count, const char *key)
{
    size_t i;

    for (i = 0; i < count; i++) {
        if (strcmp(pairs[i].key, key) == 0)
            return &pairs[i];
    }
    return NULL;
}

/* A merge key is a plain "<<", while a quoted "<<" is an ordinary key. */
static int is_merge_key(const yaml_node_t *key)
{
    return key->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           strcmp((const char *)key->data.scalar.value, "<<") == 0;
}

/* Move the pairs of the converted mapping SOURCE that are neither in LOCAL
 * nor already in MERGED to the end of MERGED, and free SOURCE. */
static void take_merged_pairs(lg_conf_node *source, const lg_conf_node *local, lg_conf_pair **merged,
                              size_t *merged_count)
{
    size_t i;

    *merged = lg_realloc(*merged, (*merged_count + source->count) * sizeof(**merged));
    for (i = 0; i < source->count; i++) {
        lg_conf_pair *pair = &source->pairs[i];

        if (find_pair(local->pairs, local->count, pair->key) != NULL ||
            find_pair(*merged, *merged_count, pair->key) != NULL) {
            free(pair->key);
            free_node(pair->value);
            continue;
        }
        (*merged)[(*merged_count)++] = *pair;
    }

    source->count = 0;
    free_node(source);
}

/* Convert the value of merge key MERGE_KEY: one mapping or a list of
 * mappings. Their pairs missing from LOCAL are appended to MERGED, earlier
 * mappings first, so an earlier mapping wins over a later one. */
static int collect_merged_pairs(conf_builder *b, const yaml_node_t *merge_key, int value_index,
                                const lg_conf_node *local, lg_conf_pair **merged, size_t *merged_count)
{
    yaml_node_t *value = yaml_document_get_node(b->yaml, value_index);
    yaml_node_item_t *sources = &value_index;
    size_t total = 1;
    size_t i;

    if (value->type == YAML_SEQUENCE_NODE) {
        sources = value->data.sequence.items.start;
        total = (size_t)(value->data.sequence.items.top - value->data.sequence.items.start);
    }

    for (i = 0; i < total; i++) {
        yaml_node_t *source = yaml_document_get_node(b->yaml, sources[i]);
        lg_conf_node *converted;

        if (source->type != YAML_MAPPING_NODE) {
            return set_position_error(b, merge_key->start_mark,
                                      "merge key '<<' expects a mapping or a list of mappings, got %s%s",
                                      value->type == YAML_SEQUENCE_NODE ? "a list containing " : "",
                                      describe_yaml_node(source));
        }
        converted = convert_node(b, sources[i]);
        if (converted == NULL)
            return -1;
        take_merged_pairs(converted, local, merged, merged_count);
    }
    return 0;
}

/* Build the final pair array: the local pairs with the merged ones inserted
 * where the "<<" key was written. */
static void splice_merged_pairs(lg_conf_node *node, size_t merge_at, lg_conf_pair *merged, size_t merged_count)
{
    lg_conf_pair *pairs = lg_calloc(node->count + merged_count, sizeof(*pairs));
    size_t tail = node->count - merge_at;

    memcpy(pairs, node->pairs, merge_at * sizeof(*pairs));
    if (merged_count > 0)
        memcpy(pairs + merge_at, merged, merged_count * sizeof(*pairs));
    if (tail > 0)
        memcpy(pairs + merge_at + merged_count, node->pairs + merge_at, tail * sizeof(*pairs));

    free(node->pairs);
    node->pairs = pairs;
    node->count += merged_count;
}

/* Convert one pair written in the mapping into NODE's pair array. */
static int convert_local_pair(conf_builder *b, lg_conf_node *node, yaml_node_t *key, int value_index)
{
    const char *text = (const char *)key->data.scalar.value;
    const lg_conf_pair *first = find_pair(node->pairs, node->count, text);
    lg_conf_pair *pair;

    if (has_nul_byte(key))
        return set_position_error(b, key->start_mark, "a NUL character (\\0) is not allowed in a mapping key");
    if (first != NULL)
        return set_position_error(b, key->start_mark, "duplicate key '%s' (first defined at line %u)", text,
                                  first->line);

    pair = &node->pairs[node->count];
    pair->key = lg_strdup(text);
    pair->line = (unsigned)key->start_mark.line + 1;
    pair->column = (unsigned)key->start_mark.column + 1;
    pair->value = convert_node(b, value_index);
    if (pair->value == NULL) {
        free(pair->key);
        return -1;
    }
    node->count++;
    return 0;
}

static lg_conf_node *convert_mapping(conf_builder *b, yaml_node_t *yn)
{
    yaml_node_pair_t *start = yn->data.mapping.pairs.start;
    size_t total = (size_t)(yn->data.mapping.pairs.top - start);
    lg_conf_node *node = new_node(b, LG_CONF_MAP, yn->start_mark);
    yaml_node_t *merge_key = NULL;
    lg_conf_pair *merged = NULL;
    size_t merged_count = 0;
    size_t merge_at = 0;
    int merge_value = 0;
    size_t i;

    /* Pass 1: the keys written in the mapping, which always win. */
    node->pairs = lg_calloc(total, sizeof(*node->pairs));
    for (i = 0; i < total; i++) {
        yaml_node_t *key = yaml_document_get_node(b->yaml, start[i].key);

        if (key->type != YAML_SCALAR_NODE) {
            set_position_error(b, key->start_mark, "a mapping key must be a string, got %s",
                               describe_yaml_node(key));
            goto fail;
        }
        if (is_merge_key(key) && merge_key != NULL) {
            set_position_error(b, key->start_mark, "duplicate key '<<' (first defined at line %zu)",
                               merge_key->start_mark.line + 1);
            goto fail;
        }
        if (is_merge_key(key)) {
            merge_key = key;
            merge_value = start[i].value;
            merge_at = node->count;
            continue;
        }
        if (convert_local_pair(b, node, key, start[i].value) < 0)
            goto fail;
    }

    /* Pass 2: merged keys that the mapping does not set itself. */
    if (merge_key == NULL)
        return node;
    if (collect_merged_pairs(b, merge_key, merge_value, node, &merged, &merged_count) < 0)
        goto fail;
    splice_merged_pairs(node, merge_at, merged, merged_count);
    free(merged);
    return node;

fail:
    free_pairs(merged, merged_count);
    free_node(node);
    return NULL;
}

static lg_conf_node *convert_node(conf_builder *b, int index)
{
    yaml_node_t *yn = yaml_document_get_node(b->yaml, index);
    lg_conf_node *node = NULL;

    if (b->visiting[index - 1]) {
        set_position_error(b, yn->start_mark, "invalid alias: this node contains an alias of itself");
        return NULL;
    }
    if (b->depth >= CONF_MAX_DEPTH) {
        set_position_error(b, yn->start_mark, "nesting is too deep (more than %d levels)", CONF_MAX_DEPTH);
        return NULL;
    }
    if (++b->node_count > CONF_MAX_NODES) {
        set_position_error(b, yn->start_mark, "too many nodes after expanding aliases (more than %d)",
                           CONF_MAX_NODES);
        return NULL;
    }

    b->visiting[index - 1] = 1;
    b->depth++;
    if (yn->type == YAML_SCALAR_NODE)
        node = convert_scalar(b, yn);
    else if (yn->type == YAML_SEQUENCE_NODE)
        node = convert_sequence(b, yn);
    else if (yn->type == YAML_MAPPING_NODE)
        node = convert_mapping(b, yn);
    else
        set_position_error(b, yn->start_mark, "unsupported YAML node");
    b->depth--;
    b->visiting[index - 1] = 0;
    return node;
}

/* Find the 1-based line and column of byte OFFSET in TEXT, counting UTF-8
 * characters, for reader errors where libyaml gives only an offset. */
static void locate_offset(const char *text, size_t len, size_t offset, size_t *line, size_t *column)
{
    size_t i;

    *line = 1;
    *column = 1;
    for (i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *column = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            (*column)++;
        }
    }
}

static int set_syntax_error(const yaml_parser_t *parser, const char *name, const char *text, size_t len,
                            lg_error *err)
{
    const char *problem = parser->problem ? parser->problem : "unknown error";
    size_t line;
    size_t column;

    if (parser->error == YAML_MEMORY_ERROR)
        return lg_error_set(err, "%s: failed to parse YAML: libyaml ran out of memory", name);

    if (parser->error == YAML_READER_ERROR) {
        locate_offset(text, len, parser->problem_offset, &line, &column);
        if (parser->problem_value == -1)
            return lg_error_set(err, "%s:%zu:%zu: invalid YAML: %s", name, line, column, problem);
        return lg_error_set(err, "%s:%zu:%zu: invalid YAML: %s (byte 0x%02X)", name, line, column, problem,
                            (unsigned)parser->problem_value);
    }

    line = parser->problem_mark.line + 1;
    column = parser->problem_mark.column + 1;
    if (parser->context == NULL)
        return lg_error_set(err, "%s:%zu:%zu: invalid YAML: %s", name, line, column, problem);
    return lg_error_set(err, "%s:%zu:%zu: invalid YAML: %s (%s at line %zu, column %zu)", name, line, column,
                        problem, parser->context, parser->context_mark.line + 1, parser->context_mark.column + 1);
}

/* Convert the root of YAML into DOC->root. With ANY_ROOT unset the root
 * must be a mapping. */
static int build_tree(lg_conf_doc *doc, yaml_document_t *yaml, int any_root, lg_error *err)
{
    yaml_node_t *root = yaml_document_get_root_node(yaml);
    conf_builder b = {.file = doc->file, .yaml = yaml, .err = err};
    yaml_mark_t start = {0, 0, 0};

    if (root == NULL && any_root) {
        doc->root = new_node(&b, LG_CONF_SCALAR, start);
        return 0;
    }
    if (root == NULL)
        return lg_error_set(err, "%s:1:1: no YAML document found, expected a mapping at the top level", doc->file);
    if (root->type != YAML_MAPPING_NODE && !any_root) {
        return set_position_error(&b, root->start_mark, "the top level must be a mapping, got %s",
                                  root->type == YAML_SCALAR_NODE && is_plain_null(root) ? "null"
                                                                                          : describe_yaml_node(root));
    }

    b.visiting = lg_calloc((size_t)(yaml->nodes.top - yaml->nodes.start), 1);
    doc->root = convert_node(&b, 1);
    free(b.visiting);
    return doc->root == NULL ? -1 : 0;
}

static lg_conf_doc *load_text(const char *name, const char *text, size_t len, int any_root, lg_error *err)
{
    lg_conf_doc *doc = lg_calloc(1, sizeof(*doc));
    yaml_parser_t parser;
    yaml_document_t first;
    yaml_document_t second;
    int parser_ready = 0;

    memset(&first, 0, sizeof(first));
    memset(&second, 0, sizeof(second));
    doc->file = lg_strdup(name);

    if (!yaml_parser_initialize(&parser)) {
        lg_error_set(err, "%s: failed to initialize the YAML parser", name);
        goto fail;
    }
    parser_ready = 1;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

    if (!yaml_parser_load(&parser, &first) || !yaml_parser_load(&parser, &second)) {
        set_syntax_error(&parser, name, text, len, err);
        goto fail;
    }
    if (yaml_document_get_root_node(&second) != NULL) {
        lg_error_set(err, "%s:%zu:%zu: more than one YAML document, a configuration must contain exactly one",
                     name, second.start_mark.line + 1, second.start_mark.column + 1);
        goto fail;
    }
    if (build_tree(doc, &first, any_root, err) < 0)
        goto fail;

    yaml_document_delete(&first);
    yaml_document_delete(&second);
    yaml_parser_delete(&parser);
    return doc;

fail:
    yaml_document_delete(&first);
    yaml_document_delete(&second);
    if (parser_ready)
        yaml_parser_delete(&parser);
    lg_conf_free(doc);
    return NULL;
}

lg_conf_doc *lg_conf_load_string(const char *name, const char *text, size_t len, lg_error *err)
{
    return load_text(name, text, len, 0, err);
}

lg_conf_doc *lg_conf_load_value(const char *name, const char *text, size_t len, lg_error *err)
{
    return load_text(name, text, len, 1, err);
}

lg_conf_doc *lg_conf_load_file(const char *path, lg_error *err)
{
    lg_buf text = LG_BUF_INIT;
    lg_conf_doc *doc = NULL;
    char chunk[CONF_READ_CHUNK_BYTES];
    FILE *fp = fopen(path, "rb");
    size_t n;

    if (fp == NULL) {
        lg_error_set(err, "failed to open %s: %s", path, strerror(errno));
        return NULL;
    }

    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        lg_buf_append(&text, chunk, n);
    if (ferror(fp))
        lg_error_set(err, "failed to read %s: %s", path, strerror(errno));
    else
        doc = lg_conf_load_string(path, text.data ? text.data : "", text.len, err);

    fclose(fp);
    lg_buf_free(&text);
    return doc;
}

void lg_conf_free(lg_conf_doc *doc)
{
    if (doc == NULL)
        return;
    free_node(doc->root);
    free(doc->file);
    free(doc);
}

const lg_conf_node *lg_conf_map_get(const lg_conf_node *map, const char *key, const lg_conf_pair **pair)
{
    const lg_conf_pair *found;

    if (pair != NULL)
        *pair = NULL;
    if (map == NULL || map->kind != LG_CONF_MAP)
        return NULL;

    found = find_pair(map->pairs, map->count, key);
    if (found == NULL)
        return NULL;
    if (pair != NULL)
        *pair = found;
    return found->value;
}

const char *lg_conf_describe(const lg_conf_node *node)
{
    if (node == NULL)
        return "null";
    if (node->kind == LG_CONF_MAP)
        return "a mapping";
    if (node->kind == LG_CONF_SEQ)
        return "a list";
    return node->value == NULL ? "null" : "a string";
}

int lg_conf_equal(const lg_conf_node *a, const lg_conf_node *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (a->kind != b->kind || a->count != b->count)
        return 0;

    switch (a->kind) {
    case LG_CONF_SCALAR:
        if (a->value == NULL || b->value == NULL)
            return a->value == b->value;
        return strcmp(a->value, b->value) == 0;
    case LG_CONF_MAP:
        for (size_t i = 0; i < a->count; i++) {
            if (strcmp(a->pairs[i].key, b->pairs[i].key) != 0 || !lg_conf_equal(a->pairs[i].value, b->pairs[i].value))
                return 0;
        }
        return 1;
    case LG_CONF_SEQ:
        for (size_t i = 0; i < a->count; i++) {
            if (!lg_conf_equal(a->items[i], b->items[i]))
                return 0;
        }
        return 1;
    }
    return 0;
}
