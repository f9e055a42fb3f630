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
        /* With platforms: the upstream root's digest, which the pushed root differs from. */
        char source_digest[ES_DIGEST_SHA256_LENGTH];
        bool filtered; /* the root is a new index listing the selected platforms only */
};

struct es_platform_spec;

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
 * As es_graph_fetch(), keeping only the platforms in specs: when the root is
 * an index, only matching children (and the attestations that refer to
 * them) are fetched, and the root becomes a new OCI index listing just them,
 * recording the upstream digest (see copy/platform.h). A root that is a
 * single image is kept when its config's platform matches, and is
 * ES_ERR_NOT_FOUND otherwise. With n_specs 0 this is es_graph_fetch().
 */
int es_graph_fetch_platforms(struct es_registry *src, const char *repository, const char *reference,
                             const struct es_platform_spec *specs, size_t n_specs,
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
