/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The manifest graph of one image at the source: the top manifest or index
 * and every child manifest, each kept as the exact bytes fetched and
 * verified against the digest that names it.
 */
#ifndef ES_COPY_GRAPH_H
#define ES_COPY_GRAPH_H

#include <stddef.h>

#include "base/buf.h"
#include "base/error.h"
#include "registry/client.h"
#include "registry/digest.h"
#include "registry/manifest.h"

struct es_graph_node {
        char digest[ES_DIGEST_SHA256_LENGTH];
        struct es_buf bytes; /* exactly as fetched */
        struct es_manifest manifest;
};

struct es_graph {
        struct es_graph_node *nodes; /* children before their index; the root is last */
        size_t n_nodes;
};

/*
 * Fetch reference (a tag or digest) of repository and every manifest it
 * lists, recursively, at most ES_MAX_INDEX_DEPTH deep. Each child must
 * match its descriptor's digest and size; a root fetched by digest must
 * match it. A manifest listed twice is fetched once. Schema 1 anywhere is
 * ES_ERR_UNSUPPORTED. Release with es_graph_release().
 */
int es_graph_fetch(struct es_registry *src, const char *repository, const char *reference,
                   struct es_graph *graph, struct es_error *err);

/*
 * Fetch only the manifest digest names, verified against it, as a graph of
 * one node (its children are not fetched). Release with es_graph_release().
 */
int es_graph_fetch_one(struct es_registry *registry, const char *repository, const char *digest,
                       struct es_graph *graph, struct es_error *err);

/* The root: the manifest or index that reference named. */
const struct es_graph_node *es_graph_root(const struct es_graph *graph);

void es_graph_release(struct es_graph *graph);

#endif
