/* SPDX-License-Identifier: Apache-2.0 */
/* Fetching and verifying the manifest graph of one image. */
#include "copy/graph.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <stdio.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/limits.h"
#include "base/log.h"
#include "copy/platform.h"
#include "registry/digest.h"

static bool graph_contains(const struct es_graph *graph, const char *digest)
{
        for (size_t i = 0; i < graph->n_nodes; i++)
                if (strcmp(graph->nodes[i].digest, digest) == 0)
                        return true;
        return false;
}

static int schema1_error(const char *repository, const char *reference, struct es_error *err)
{
        return es_error_set(err, ES_ERR_UNSUPPORTED,
                            "'%s:%s' is a Docker schema 1 manifest, which registries no longer "
                            "accept and which cannot be copied byte for byte; rebuild or re-push "
                            "the image with a current client to get a schema 2 or OCI manifest",
                            repository, reference);
}

/*
 * Fetch one manifest and verify it. expected is the descriptor naming it,
 * or NULL for the root, which is checked against a digest reference only.
 */
static int fetch_once(struct es_registry *src, const char *repository, const char *reference,
                      const struct es_descriptor *expected, struct es_graph_node *node,
                      struct es_error *err)
{
        struct es_manifest_info info = {0};
        int r;

        memset(node, 0, sizeof(*node));
        es_buf_init(&node->bytes, ES_MAX_MANIFEST_SIZE);
        r = es_registry_manifest_get(src, repository, reference, &node->bytes, &info, err);
        if (r < 0)
                return r;

        es_digest_sha256(node->bytes.data ? node->bytes.data : "", node->bytes.len, node->digest);
        if (strncmp(reference, "sha256:", 7) == 0 && strcmp(node->digest, reference) != 0) {
                r = es_error_set(err, ES_ERR_DIGEST,
                                 "manifest '%s@%s' from the source has digest '%s'", repository,
                                 reference, node->digest);
        } else if (info.digest && strncmp(info.digest, "sha256:", 7) == 0 &&
                   strcmp(info.digest, node->digest) != 0) {
                /* By tag, the registry's Docker-Content-Digest is what the bytes must match. */
                r = es_error_set(err, ES_ERR_DIGEST,
                                 "manifest '%s:%s' arrived with digest '%s', the registry says "
                                 "'%s'",
                                 repository, reference, node->digest, info.digest);
        } else if (expected && (int64_t)node->bytes.len != expected->size) {
                r = es_error_set(err, ES_ERR_DIGEST,
                                 "manifest '%s@%s' has %zu bytes, its descriptor says %lld",
                                 repository, reference, node->bytes.len, (long long)expected->size);
        } else {
                r = es_manifest_parse(node->bytes.data ? node->bytes.data : "", node->bytes.len,
                                      info.media_type, &node->manifest, err);
                if (r < 0)
                        es_error_prefix(err, "manifest '%s:%s'", repository, reference);
                else if (node->manifest.kind == ES_MANIFEST_SCHEMA1)
                        r = schema1_error(repository, reference, err);
        }
        es_manifest_info_release(&info);
        if (r < 0) {
                es_manifest_release(&node->manifest);
                es_buf_release(&node->bytes);
        }
        return r;
}

/* Tries of one manifest whose bytes did not match their digest: a network fault, not a lie. */
#define MANIFEST_ATTEMPTS 3

static int fetch_one(struct es_registry *src, const char *repository, const char *reference,
                     const struct es_descriptor *expected, struct es_graph_node *node,
                     struct es_error *err)
{
        int r = 0;

        for (int attempt = 1; attempt <= MANIFEST_ATTEMPTS; attempt++) {
                r = fetch_once(src, repository, reference, expected, node, err);
                if (r != -ES_ERR_DIGEST || attempt == MANIFEST_ATTEMPTS)
                        break;
                es_log_debug("copy: %s; fetching it again", es_error_message(err));
                es_error_release(err);
        }
        return r;
}

static int fetch_tree(struct es_registry *src, const char *repository, const char *reference,
                      const struct es_descriptor *expected, int depth, struct es_graph *graph,
                      struct es_error *err)
{
        struct es_graph_node node;
        int r;

        if (expected && es_media_type_is_schema1(expected->media_type))
                return schema1_error(repository, reference, err);

        r = fetch_one(src, repository, reference, expected, &node, err);
        if (r < 0)
                return r;

        if (node.manifest.kind == ES_MANIFEST_INDEX) {
                if (depth >= ES_MAX_INDEX_DEPTH) {
                        r = es_error_set(err, ES_ERR_INVALID,
                                         "index '%s@%s' nests indexes deeper than %d levels",
                                         repository, node.digest, ES_MAX_INDEX_DEPTH);
                }
                for (size_t i = 0; r >= 0 && i < node.manifest.n_manifests; i++) {
                        const struct es_descriptor *child = &node.manifest.manifests[i];

                        if (strcmp(child->digest, node.digest) == 0)
                                r = es_error_set(err, ES_ERR_INVALID, "index '%s@%s' lists itself",
                                                 repository, node.digest);
                        else if (!graph_contains(graph, child->digest))
                                r = fetch_tree(src, repository, child->digest, child, depth + 1,
                                               graph, err);
                }
        }
        if (r < 0) {
                es_manifest_release(&node.manifest);
                es_buf_release(&node.bytes);
                return r;
        }

        /* Children were appended first, so the node follows everything it lists. */
        graph->nodes = es_realloc(graph->nodes, (graph->n_nodes + 1) * sizeof(*graph->nodes));
        graph->nodes[graph->n_nodes++] = node;
        return 0;
}

static void graph_append(struct es_graph *graph, const struct es_graph_node *node)
{
        graph->nodes = es_realloc(graph->nodes, (graph->n_nodes + 1) * sizeof(*graph->nodes));
        graph->nodes[graph->n_nodes++] = *node;
}

static void node_release(struct es_graph_node *node)
{
        es_manifest_release(&node->manifest);
        es_buf_release(&node->bytes);
}

/* Largest image config read to learn a single image's platform. */
#define MAX_CONFIG_SIZE (1024u * 1024)

static int collect_config(const char *data, size_t len, void *ctx)
{
        return es_buf_append(ctx, data, len);
}

/* Read the os, architecture and variant of a single image from its config blob. */
static int image_platform_matches(struct es_registry *src, const char *repository,
                                  const struct es_manifest *manifest,
                                  const struct es_platform_spec *specs, size_t n_specs,
                                  struct es_error *err)
{
        struct es_buf config = ES_BUF_INIT(MAX_CONFIG_SIZE);
        struct es_platform platform = {0};
        _cleanup_free_ char *wanted = es_platform_specs_format(specs, n_specs);
        json_t *root = NULL;
        int r;

        if (!manifest->has_config)
                return es_error_set(err, ES_ERR_NOT_FOUND,
                                    "'%s' has no image config to read its platform from",
                                    repository);
        r = es_registry_blob_get(src, repository, manifest->config.digest, collect_config, &config,
                                 err);
        if (r >= 0)
                root = json_loadb(config.data ? config.data : "", config.len, 0, NULL);
        if (r >= 0) {
                platform.os = (char *)json_string_value(json_object_get(root, "os"));
                platform.architecture =
                    (char *)json_string_value(json_object_get(root, "architecture"));
                platform.variant = (char *)json_string_value(json_object_get(root, "variant"));
                if (platform.os == NULL || platform.architecture == NULL)
                        r = es_error_set(err, ES_ERR_NOT_FOUND,
                                         "the image config of '%s' names no platform", repository);
                else if (!es_platform_specs_match_any(specs, n_specs, &platform))
                        r = es_error_set(err, ES_ERR_NOT_FOUND,
                                         "'%s' is a single %s/%s%s%s image, not one of %s",
                                         repository, platform.os, platform.architecture,
                                         platform.variant ? "/" : "",
                                         platform.variant ? platform.variant : "", wanted);
        }
        json_decref(root);
        es_buf_release(&config);
        return r;
}

/* Fetch the selected children, then make the new index the root. */
static int fetch_selection(struct es_registry *src, const char *repository,
                           struct es_graph_node *root, const struct es_platform_spec *specs,
                           size_t n_specs, struct es_graph *graph, struct es_error *err)
{
        struct es_platform_selection selection = {0};
        struct es_graph_node node = {0};
        int r;

        r = es_platform_select(root->bytes.data, root->bytes.len, &root->manifest, root->digest,
                               specs, n_specs, &selection, err);
        if (r < 0)
                return es_error_prefix(err, "'%s'", repository);
        for (size_t i = 0; r >= 0 && i < selection.n_kept_descriptors; i++) {
                const struct es_descriptor *child = selection.kept[i];

                if (!graph_contains(graph, child->digest))
                        r = fetch_tree(src, repository, child->digest, child, 1, graph, err);
        }
        if (r < 0)
                goto done;

        es_buf_init(&node.bytes, ES_MAX_MANIFEST_SIZE);
        if (es_buf_append(&node.bytes, selection.index, selection.index_len) < 0) {
                r = es_error_set(err, ES_ERR_INVALID, "the filtered index of '%s' is too large",
                                 repository);
                goto done;
        }
        es_digest_sha256(node.bytes.data, node.bytes.len, node.digest);
        r = es_manifest_parse(node.bytes.data, node.bytes.len, selection.media_type, &node.manifest,
                              err);
        if (r < 0) {
                es_buf_release(&node.bytes);
                goto done;
        }
        snprintf(graph->source_digest, sizeof(graph->source_digest), "%s", root->digest);
        graph->filtered = true;
        graph_append(graph, &node);
done:
        es_platform_selection_release(&selection);
        return r;
}

int es_graph_fetch_platforms(struct es_registry *src, const char *repository, const char *reference,
                             const struct es_platform_spec *specs, size_t n_specs,
                             struct es_graph *graph, struct es_error *err)
{
        struct es_graph_node root;
        int r;

        if (n_specs == 0)
                return es_graph_fetch(src, repository, reference, graph, err);

        memset(graph, 0, sizeof(*graph));
        r = fetch_one(src, repository, reference, NULL, &root, err);
        if (r < 0)
                return r;
        if (root.manifest.kind == ES_MANIFEST_INDEX) {
                r = fetch_selection(src, repository, &root, specs, n_specs, graph, err);
                node_release(&root);
        } else {
                r = image_platform_matches(src, repository, &root.manifest, specs, n_specs, err);
                if (r >= 0)
                        graph_append(graph, &root);
                else
                        node_release(&root);
        }
        if (r < 0)
                es_graph_release(graph);
        return r;
}

int es_graph_fetch(struct es_registry *src, const char *repository, const char *reference,
                   struct es_graph *graph, struct es_error *err)
{
        int r;

        memset(graph, 0, sizeof(*graph));
        r = fetch_tree(src, repository, reference, NULL, 0, graph, err);
        if (r < 0)
                es_graph_release(graph);
        return r;
}

int es_graph_fetch_one(struct es_registry *registry, const char *repository, const char *digest,
                       struct es_graph *graph, struct es_error *err)
{
        struct es_graph_node node;
        int r;

        memset(graph, 0, sizeof(*graph));
        r = fetch_one(registry, repository, digest, NULL, &node, err);
        if (r < 0)
                return r;
        graph->nodes = es_malloc(sizeof(*graph->nodes));
        graph->nodes[0] = node;
        graph->n_nodes = 1;
        return 0;
}

const struct es_graph_node *es_graph_root(const struct es_graph *graph)
{
        return graph->n_nodes ? &graph->nodes[graph->n_nodes - 1] : NULL;
}

void es_graph_release(struct es_graph *graph)
{
        for (size_t i = 0; i < graph->n_nodes; i++) {
                es_manifest_release(&graph->nodes[i].manifest);
                es_buf_release(&graph->nodes[i].bytes);
        }
        free(graph->nodes);
        memset(graph, 0, sizeof(*graph));
}
