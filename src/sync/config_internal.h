/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the configuration loader, shared by the config_*.c files and
 * by nothing else: the YAML node tree with positions (config_yaml.c), the
 * error list and typed readers (config_node.c), cron checks (config_cron.c)
 * and lifecycle policies written as YAML (config_lifecycle.c).
 */
#ifndef ES_SYNC_CONFIG_INTERNAL_H
#define ES_SYNC_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "sync/config.h"

enum es_cfg_node_type {
        ES_CFG_SCALAR,
        ES_CFG_SEQUENCE,
        ES_CFG_MAPPING,
};

struct es_cfg_pair;

/* One YAML node. Every pointer is owned by the node. */
struct es_cfg_node {
        enum es_cfg_node_type type;
        int line;   /* 1-based position of the node's first character */
        int column; /* 1-based */

        /* Scalars. */
        char *text; /* the value, NUL-terminated (NUL inside is rejected) */
        bool plain; /* unquoted without a !!str tag: null, true, 5 are typed */

        /* Sequences. */
        struct es_cfg_node **items;
        size_t n_items;

        /* Mappings, in file order, with unique scalar keys. */
        struct es_cfg_pair *pairs;
        size_t n_pairs;
};

struct es_cfg_pair {
        struct es_cfg_node *key; /* always a scalar */
        struct es_cfg_node *value;
};

/*
 * Problems found in one file, kept with their positions so they can be
 * listed in file order.
 */
struct es_cfg_problem {
        int line, column;
        size_t sequence; /* report order, to keep equal positions stable */
        char *message;   /* "KEY: what is expected", owned */
};

struct es_cfg_diag {
        const char *file; /* borrowed name used in messages */
        struct es_cfg_problem *problems;
        size_t n_problems;
};

/* Record a problem at line:column. key may be NULL or "" when none applies. */
void es_cfg_report(struct es_cfg_diag *diag, int line, int column, const char *key, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));

/* Record a problem at node's position. */
void es_cfg_report_at(struct es_cfg_diag *diag, const struct es_cfg_node *node, const char *key,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Sort the problems by position and join the first ES_SYNC_CONFIG_MAX_ERRORS
 * as "FILE:LINE:COLUMN: MESSAGE" lines. Caller frees. NULL when there are none.
 */
char *es_cfg_diag_format(const struct es_cfg_diag *diag);

void es_cfg_diag_release(struct es_cfg_diag *diag);

/*
 * Build the node tree of a YAML stream of one document. Sets *root to the
 * document's root, or to NULL for a stream without a document. Duplicate
 * keys are reported and the first value kept. Returns 0, or -1 after
 * reporting a problem that stops parsing. Such problems are a syntax error,
 * a second document, an alias, a tag other than YAML's core ones, a key that
 * is not a scalar, a NUL character in a scalar, and nesting deeper than 64
 * levels.
 */
int es_cfg_yaml_load(const char *text, size_t len, struct es_cfg_diag *diag,
                     struct es_cfg_node **root);

void es_cfg_node_free(struct es_cfg_node *node);

/* The value of key in mapping, or NULL when the key is absent. */
const struct es_cfg_node *es_cfg_mapping_get(const struct es_cfg_node *mapping, const char *key);

/* The pair of key in mapping, or NULL when the key is absent. */
const struct es_cfg_pair *es_cfg_mapping_pair(const struct es_cfg_node *mapping, const char *key);

/*
 * Key paths for messages. A key made of letters, digits, '_' and '-' is
 * appended as ".key" (just "key" at the top), any other as ."key" with '"'
 * and '\' escaped, so registries."docker.io".insecure reads unambiguously.
 * Callers free the results.
 */
char *es_cfg_path_key(const char *parent, const char *key);
char *es_cfg_path_index(const char *parent, size_t index);

/* Plain scalars that YAML's core schema reads as null, booleans or integers. */
bool es_cfg_is_null(const struct es_cfg_node *node);
bool es_cfg_is_bool(const struct es_cfg_node *node, bool *value);
bool es_cfg_is_integer(const struct es_cfg_node *node, long long *value);

/*
 * Check that node is a mapping whose keys are all in names (a NULL-terminated
 * list) and set values[i] to the value of names[i], or NULL when absent. An
 * unknown key is reported at the key with the closest valid name when one is
 * close ("did you mean 'x'?"), and the other keys are still read. Reports
 * "expected EXPECTED" and returns false when node is not a mapping.
 */
bool es_cfg_read_mapping(struct es_cfg_diag *diag, const struct es_cfg_node *node, const char *path,
                         const char *expected, const char *const *names,
                         const struct es_cfg_node **values);

/*
 * Typed readers. Each returns true and sets *out on success, or reports at
 * node under path and returns false, leaving *out untouched.
 * es_cfg_read_string accepts any scalar except null and plain true or
 * false, so `semver: 7` reads as "7"; allow_empty admits "".
 */
bool es_cfg_read_string(struct es_cfg_diag *diag, const struct es_cfg_node *node, const char *path,
                        bool allow_empty, char **out);
bool es_cfg_read_bool(struct es_cfg_diag *diag, const struct es_cfg_node *node, const char *path,
                      bool *out);
bool es_cfg_read_integer(struct es_cfg_diag *diag, const struct es_cfg_node *node, const char *path,
                         long long min, long long max, long long *out);

/* A sequence of non-empty strings; *n may be 0 for []. Free with es_cfg_strings_free(). */
bool es_cfg_read_string_list(struct es_cfg_diag *diag, const struct es_cfg_node *node,
                             const char *path, char ***out, size_t *n);
void es_cfg_strings_free(char **strings, size_t n);

/* The Levenshtein distance between a and b. */
size_t es_cfg_edit_distance(const char *a, const char *b);

/*
 * Check a five-field cron expression. Returns true, or false with *problem
 * set to a message naming the field and what it accepts (caller frees).
 */
bool es_cfg_cron_check(const char *expression, char **problem);

/*
 * Convert the YAML lifecycle policy at node to compact JSON text and check
 * it with es_lifecycle_policy_validate(). Problems are reported at the YAML
 * node they concern, under path. Returns true and sets *json (caller frees).
 */
bool es_cfg_lifecycle_from_yaml(struct es_cfg_diag *diag, const struct es_cfg_node *node,
                                const char *path, char **json);

/*
 * Read and check the JSON lifecycle policy in file (already resolved against
 * the configuration's directory). Problems are reported at node, the YAML
 * value that named the file. Returns true and sets *json (caller frees).
 */
bool es_cfg_lifecycle_from_file(struct es_cfg_diag *diag, const struct es_cfg_node *node,
                                const char *path, const char *file, char **json);

/* State of one parse: the problems found and the configuration being filled. */
struct es_cfg_parser {
        struct es_cfg_diag diag;
        char *dir; /* directory of the config file, owned; NULL for the current one */
        struct es_sync_config *config;
};

/* file as given, when absolute or when dir is NULL, else dir/file. Caller frees. */
char *es_cfg_resolve_path(const struct es_cfg_parser *parser, const char *file);

/*
 * Normalise a registry host as references write it ("Docker.IO" is
 * "docker.io", index.docker.io is docker.io). Returns NULL when text is not
 * a host, such as "nginx" or "ghcr.io/org". Caller frees.
 */
char *es_cfg_normalize_host(const char *text);

/* Read the `target`, `registries` and `images` sections into parser->config. */
void es_cfg_parse_target(struct es_cfg_parser *parser, const struct es_cfg_node *node);
void es_cfg_parse_registries(struct es_cfg_parser *parser, const struct es_cfg_node *node);
void es_cfg_parse_images(struct es_cfg_parser *parser, const struct es_cfg_node *node);

#endif
