/* YAML configuration documents: a node tree with file, line and column on every node. */
#ifndef LG_CONF_H
#define LG_CONF_H

#include <stddef.h>

#include "error.h"

typedef enum lg_conf_kind {
    LG_CONF_SCALAR = 1,
    LG_CONF_MAP,
    LG_CONF_SEQ,
} lg_conf_kind;

typedef struct lg_conf_node lg_conf_node;

/* One key of a mapping, with the position of the key itself. */
typedef struct lg_conf_pair {
    char *key;
    unsigned line;
    unsigned column;
    lg_conf_node *value;
} lg_conf_pair;

/* A node of the document. Lines and columns are 1-based and point at the
 * node's first character in FILE. */
struct lg_conf_node {
    lg_conf_kind kind;
    const char *file;
    unsigned line;
    unsigned column;

    /* LG_CONF_SCALAR: the text after ${ENV} expansion. NULL for a YAML null
     * (an unquoted "null", "~" or an empty plain value). */
    char *value;
    int quoted;

    /* LG_CONF_MAP: pairs in document order, merge keys ("<<") already
     * applied, so PAIRS never contains "<<". */
    lg_conf_pair *pairs;

    /* LG_CONF_SEQ: items in document order. */
    lg_conf_node **items;

    /* Number of pairs or items. */
    size_t count;
};

typedef struct lg_conf_doc {
    char *file;
    lg_conf_node *root;
} lg_conf_doc;

/* Parse the YAML file at PATH. Returns a document whose root is a mapping,
 * or NULL with ERR set to "FILE:LINE:COLUMN: reason". Rejected: syntax
 * errors, duplicate keys (the message names both lines), several documents,
 * a root that is not a mapping, non-scalar keys, ${NAME} references to
 * unset variables without a ":-default", and malformed ${...} references.
 * Merge keys ("<<: *anchor" and "<<: [*a, *b]") are applied: keys written
 * in the mapping itself win, then earlier merged mappings win over later ones. */
lg_conf_doc *lg_conf_load_file(const char *path, lg_error *err);

/* Same as lg_conf_load_file, for TEXT of LEN bytes reported as file NAME. */
lg_conf_doc *lg_conf_load_string(const char *name, const char *text, size_t len, lg_error *err);

/* Parse TEXT of LEN bytes as one YAML value of any kind, reported as file
 * NAME, with the same rules as a file except that the root need not be a
 * mapping. Empty TEXT gives a null scalar at 1:1. Option defaults such as
 * "1s" or "[a, b]" are read this way. Returns a document, or NULL with ERR
 * set to "NAME:LINE:COLUMN: reason". */
lg_conf_doc *lg_conf_load_value(const char *name, const char *text, size_t len, lg_error *err);

void lg_conf_free(lg_conf_doc *doc);

/* Return the value stored under KEY in mapping MAP, or NULL when MAP is not
 * a mapping or has no such key. PAIR, when not NULL, receives the pair. */
const lg_conf_node *lg_conf_map_get(const lg_conf_node *map, const char *key, const lg_conf_pair **pair);

/* Return 1 when A and B hold the same values (kinds, scalars, keys in the
 * same order, items), wherever they were written; NULL equals only NULL. */
int lg_conf_equal(const lg_conf_node *a, const lg_conf_node *b);

/* Return a human-readable name of the node's kind: "a mapping", "a list",
 * "a string" or "null", for messages like "expected a list, got a mapping". */
const char *lg_conf_describe(const lg_conf_node *node);

/* Expand ${NAME} and ${NAME:-default} references in TEXT. "$$" gives a
 * literal "$". Returns a new string, or NULL with ERR set to the reason
 * (an unset variable without a default, an unterminated reference, or a
 * name that is not [A-Za-z_][A-Za-z0-9_]*). */
char *lg_conf_expand_env(const char *text, lg_error *err);

#endif
