/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration file as a tree of YAML nodes with their positions, built
 * from libyaml's parser events. Building the tree ourselves, instead of with
 * yaml_parser_load(), lets us report aliases, duplicate keys and a second
 * document at their own positions.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "sync/config_internal.h"

/* Deepest nesting of sequences and mappings accepted. */
#define MAX_DEPTH 64

struct builder {
        yaml_parser_t parser;
        struct es_cfg_diag *diag;
        const char *text;
        size_t len;
};

void es_cfg_node_free(struct es_cfg_node *node)
{
        if (node == NULL)
                return;
        free(node->text);
        for (size_t i = 0; i < node->n_items; i++)
                es_cfg_node_free(node->items[i]);
        free(node->items);
        for (size_t i = 0; i < node->n_pairs; i++) {
                es_cfg_node_free(node->pairs[i].key);
                es_cfg_node_free(node->pairs[i].value);
        }
        free(node->pairs);
        free(node);
}

ES_DEFINE_CLEANUP(struct es_cfg_node *, es_cfg_node_free)

const struct es_cfg_pair *es_cfg_mapping_pair(const struct es_cfg_node *mapping, const char *key)
{
        if (mapping == NULL || mapping->type != ES_CFG_MAPPING)
                return NULL;
        for (size_t i = 0; i < mapping->n_pairs; i++)
                if (strcmp(mapping->pairs[i].key->text, key) == 0)
                        return &mapping->pairs[i];
        return NULL;
}

const struct es_cfg_node *es_cfg_mapping_get(const struct es_cfg_node *mapping, const char *key)
{
        const struct es_cfg_pair *pair = es_cfg_mapping_pair(mapping, key);

        return pair ? pair->value : NULL;
}

static struct es_cfg_node *node_new(enum es_cfg_node_type type, yaml_mark_t mark)
{
        struct es_cfg_node *node = es_calloc(1, sizeof(*node));

        node->type = type;
        node->line = (int)mark.line + 1;
        node->column = (int)mark.column + 1;
        return node;
}

/* libyaml reports reader errors by byte offset: turn it into a line and column. */
static void offset_position(const struct builder *b, size_t offset, int *line, int *column)
{
        *line = 1;
        *column = 1;
        for (size_t i = 0; i < offset && i < b->len; i++) {
                if (b->text[i] == '\n') {
                        (*line)++;
                        *column = 1;
                } else {
                        (*column)++;
                }
        }
}

static void report_parser_error(struct builder *b)
{
        const yaml_parser_t *p = &b->parser;
        const char *problem = p->problem ? p->problem : "unknown error";
        int line, column;

        switch (p->error) {
        case YAML_MEMORY_ERROR:
                es_cfg_report(b->diag, 1, 1, NULL, "out of memory while parsing YAML");
                return;
        case YAML_READER_ERROR:
                offset_position(b, p->problem_offset, &line, &column);
                es_cfg_report(b->diag, line, column, NULL, "invalid YAML: %s", problem);
                return;
        default:
                break;
        }

        line = (int)p->problem_mark.line + 1;
        column = (int)p->problem_mark.column + 1;
        if (p->context)
                es_cfg_report(b->diag, line, column, NULL, "invalid YAML: %s (%s at %d:%d)",
                              problem, p->context, (int)p->context_mark.line + 1,
                              (int)p->context_mark.column + 1);
        else
                es_cfg_report(b->diag, line, column, NULL, "invalid YAML: %s", problem);
}

static int next_event(struct builder *b, yaml_event_t *event)
{
        if (!yaml_parser_parse(&b->parser, event)) {
                report_parser_error(b);
                return -1;
        }
        return 0;
}

/*
 * Decide how a tagged scalar reads: !!str makes it a string even when
 * unquoted; the other core tags leave plain scalars typed by their text.
 * Returns false for tags this loader does not support.
 */
static bool scalar_tag_is_supported(const char *tag, bool *plain)
{
        if (tag == NULL)
                return true;
        if (strcmp(tag, YAML_STR_TAG) == 0 || strcmp(tag, "!") == 0) {
                *plain = false;
                return true;
        }
        return strcmp(tag, YAML_NULL_TAG) == 0 || strcmp(tag, YAML_BOOL_TAG) == 0 ||
               strcmp(tag, YAML_INT_TAG) == 0 || strcmp(tag, YAML_FLOAT_TAG) == 0;
}

static int parse_node(struct builder *b, yaml_event_t *event, const char *path, int depth,
                      struct es_cfg_node **out);

static int parse_scalar(struct builder *b, yaml_event_t *event, const char *path,
                        struct es_cfg_node **out)
{
        _cleanup_(es_cfg_node_freep) struct es_cfg_node *node = NULL;
        const char *tag = (const char *)event->data.scalar.tag;
        size_t length = event->data.scalar.length;

        node = node_new(ES_CFG_SCALAR, event->start_mark);
        node->plain = event->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (!scalar_tag_is_supported(tag, &node->plain)) {
                es_cfg_report_at(b->diag, node, path,
                                 "unsupported tag '%s'; only YAML's core tags such as !!str "
                                 "are accepted",
                                 tag);
                return -1;
        }

        node->text = es_strndup((const char *)event->data.scalar.value, length);
        if (strlen(node->text) != length) {
                es_cfg_report_at(b->diag, node, path, "the value contains a NUL character");
                return -1;
        }
        *out = TAKE_PTR(node);
        return 0;
}

static bool collection_tag_is_supported(const char *tag, const char *expected)
{
        return tag == NULL || strcmp(tag, expected) == 0 || strcmp(tag, "!") == 0;
}

static int parse_sequence(struct builder *b, yaml_event_t *start, const char *path, int depth,
                          struct es_cfg_node **out)
{
        _cleanup_(es_cfg_node_freep) struct es_cfg_node *node = NULL;
        const char *tag = (const char *)start->data.sequence_start.tag;

        node = node_new(ES_CFG_SEQUENCE, start->start_mark);
        if (!collection_tag_is_supported(tag, YAML_SEQ_TAG)) {
                es_cfg_report_at(b->diag, node, path, "unsupported tag '%s' on a list", tag);
                return -1;
        }

        for (;;) {
                _cleanup_free_ char *item_path = NULL;
                struct es_cfg_node *item = NULL;
                yaml_event_t event;

                if (next_event(b, &event) < 0)
                        return -1;
                if (event.type == YAML_SEQUENCE_END_EVENT) {
                        yaml_event_delete(&event);
                        break;
                }
                item_path = es_cfg_path_index(path, node->n_items);
                if (parse_node(b, &event, item_path, depth + 1, &item) < 0)
                        return -1;
                node->items = es_realloc(node->items, (node->n_items + 1) * sizeof(*node->items));
                node->items[node->n_items++] = item;
        }
        *out = TAKE_PTR(node);
        return 0;
}

static int parse_mapping(struct builder *b, yaml_event_t *start, const char *path, int depth,
                         struct es_cfg_node **out)
{
        _cleanup_(es_cfg_node_freep) struct es_cfg_node *node = NULL;
        const char *tag = (const char *)start->data.mapping_start.tag;

        node = node_new(ES_CFG_MAPPING, start->start_mark);
        if (!collection_tag_is_supported(tag, YAML_MAP_TAG)) {
                es_cfg_report_at(b->diag, node, path, "unsupported tag '%s' on a mapping", tag);
                return -1;
        }

        for (;;) {
                _cleanup_(es_cfg_node_freep) struct es_cfg_node *key = NULL;
                _cleanup_(es_cfg_node_freep) struct es_cfg_node *value = NULL;
                _cleanup_free_ char *value_path = NULL;
                const struct es_cfg_pair *first;
                yaml_event_t event;

                if (next_event(b, &event) < 0)
                        return -1;
                if (event.type == YAML_MAPPING_END_EVENT) {
                        yaml_event_delete(&event);
                        break;
                }
                if (parse_node(b, &event, path, depth + 1, &key) < 0)
                        return -1;
                if (key->type != ES_CFG_SCALAR) {
                        es_cfg_report_at(b->diag, key, path,
                                         "expected a plain key, not a list or mapping");
                        return -1;
                }

                value_path = es_cfg_path_key(path, key->text);
                if (next_event(b, &event) < 0)
                        return -1;
                if (parse_node(b, &event, value_path, depth + 1, &value) < 0)
                        return -1;

                first = es_cfg_mapping_pair(node, key->text);
                if (first) {
                        es_cfg_report_at(b->diag, key, value_path,
                                         "duplicate key; it is already given at line %d, "
                                         "column %d",
                                         first->key->line, first->key->column);
                        continue;
                }
                node->pairs = es_realloc(node->pairs, (node->n_pairs + 1) * sizeof(*node->pairs));
                node->pairs[node->n_pairs].key = TAKE_PTR(key);
                node->pairs[node->n_pairs].value = TAKE_PTR(value);
                node->n_pairs++;
        }
        *out = TAKE_PTR(node);
        return 0;
}

/* Build the node that starts with event, which this function deletes. */
static int parse_node(struct builder *b, yaml_event_t *event, const char *path, int depth,
                      struct es_cfg_node **out)
{
        int r = -1;

        if (depth > MAX_DEPTH) {
                es_cfg_report(b->diag, (int)event->start_mark.line + 1,
                              (int)event->start_mark.column + 1, path,
                              "nesting deeper than %d levels", MAX_DEPTH);
                yaml_event_delete(event);
                return -1;
        }

        switch (event->type) {
        case YAML_SCALAR_EVENT:
                r = parse_scalar(b, event, path, out);
                break;
        case YAML_SEQUENCE_START_EVENT:
                r = parse_sequence(b, event, path, depth, out);
                break;
        case YAML_MAPPING_START_EVENT:
                r = parse_mapping(b, event, path, depth, out);
                break;
        case YAML_ALIAS_EVENT:
                es_cfg_report(b->diag, (int)event->start_mark.line + 1,
                              (int)event->start_mark.column + 1, path,
                              "alias '*%s': anchors and aliases are not supported; write the "
                              "value out in full",
                              (const char *)event->data.alias.anchor);
                break;
        default:
                es_cfg_report(b->diag, (int)event->start_mark.line + 1,
                              (int)event->start_mark.column + 1, path,
                              "invalid YAML: unexpected parser event %d", (int)event->type);
                break;
        }
        yaml_event_delete(event);
        return r;
}

static int expect_event(struct builder *b, yaml_event_type_t type)
{
        yaml_event_t event;
        bool ok;

        if (next_event(b, &event) < 0)
                return -1;
        ok = event.type == type;
        if (!ok)
                es_cfg_report(b->diag, (int)event.start_mark.line + 1,
                              (int)event.start_mark.column + 1, NULL,
                              "invalid YAML: unexpected parser event %d", (int)event.type);
        yaml_event_delete(&event);
        return ok ? 0 : -1;
}

static int load_stream(struct builder *b, struct es_cfg_node **root)
{
        _cleanup_(es_cfg_node_freep) struct es_cfg_node *node = NULL;
        yaml_event_t event;

        if (expect_event(b, YAML_STREAM_START_EVENT) < 0)
                return -1;
        if (next_event(b, &event) < 0)
                return -1;
        if (event.type == YAML_STREAM_END_EVENT) {
                yaml_event_delete(&event);
                *root = NULL;
                return 0;
        }
        if (event.type != YAML_DOCUMENT_START_EVENT) {
                es_cfg_report(b->diag, (int)event.start_mark.line + 1,
                              (int)event.start_mark.column + 1, NULL,
                              "invalid YAML: unexpected parser event %d", (int)event.type);
                yaml_event_delete(&event);
                return -1;
        }
        yaml_event_delete(&event);

        if (next_event(b, &event) < 0 || parse_node(b, &event, "", 0, &node) < 0)
                return -1;
        if (expect_event(b, YAML_DOCUMENT_END_EVENT) < 0)
                return -1;

        if (next_event(b, &event) < 0)
                return -1;
        if (event.type == YAML_DOCUMENT_START_EVENT) {
                es_cfg_report(b->diag, (int)event.start_mark.line + 1,
                              (int)event.start_mark.column + 1, NULL,
                              "a second YAML document; a configuration file holds one document, "
                              "so remove the '---' line that starts the second");
                yaml_event_delete(&event);
                return -1;
        }
        yaml_event_delete(&event);
        *root = TAKE_PTR(node);
        return 0;
}

int es_cfg_yaml_load(const char *text, size_t len, struct es_cfg_diag *diag,
                     struct es_cfg_node **root)
{
        struct builder b = {.diag = diag, .text = text, .len = len};
        int r;

        if (!yaml_parser_initialize(&b.parser))
                abort();
        yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);
        r = load_stream(&b, root);
        yaml_parser_delete(&b.parser);
        return r;
}
