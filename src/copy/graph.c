/* SPDX-License-Identifier: Apache-2.0 */
/* Fetching and verifying the manifest graph of one image. */
#include "copy/graph.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/limits.h"
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
static int fetch_one(struct es_registry *src, const char *repository, const char *reference,
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
        } else if (expected && (int64_t)node->bytes.len != expected->size) {
                r = es_error_set(err, ES_ERR_DIGEST,
                                 "manifest '%s@%s' has %zu bytes, its descriptor says %lld",
                                 repository, reference, node->bytes.len,
                                 (long long)expected->size);
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
