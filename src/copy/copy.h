/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Copying one image graph between registries: a manifest or an index with
 * its child manifests, their configs and layers.
 *
 * Manifests are pushed byte for byte as fetched, children before their
 * index and the tag last, so the target's digest equals the source's.
 * Blobs are streamed from the source into the target's upload with bounded
 * memory, verified against their digest while streaming, and committed only
 * after the digest matched. Blobs present at the target are skipped, and a
 * blob shared by several manifests is transferred once.
 */
#ifndef ES_COPY_COPY_H
#define ES_COPY_COPY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "registry/client.h"
#include "registry/digest.h"
#include "registry/reference.h"

struct es_blob_index;
struct es_platform_spec;

enum es_copy_event_type {
        ES_COPY_BLOB_COPIED,     /* streamed and committed */
        ES_COPY_BLOB_MOUNTED,    /* mounted from another repository of the target */
        ES_COPY_BLOB_EXISTS,     /* already at the target */
        ES_COPY_BLOB_FOREIGN,    /* foreign or non-distributable layer, not copied */
        ES_COPY_MANIFEST_PUSHED, /* pushed */
        ES_COPY_MANIFEST_EXISTS, /* already at the target */
        ES_COPY_RETRY,           /* a blob transfer failed and is tried again */
};

struct es_copy_event {
        enum es_copy_event_type type;
        const char *digest;
        const char *media_type; /* may be NULL */
        int64_t size;
        const char *reference; /* tag or digest a manifest was pushed under; may be NULL */
        const char *message;   /* for ES_COPY_RETRY: why; else NULL */
};

/* Called from worker threads; must be thread-safe. */
typedef void (*es_copy_event_fn)(const struct es_copy_event *event, void *ctx);

struct es_copy_options {
        int jobs;                    /* parallel blob transfers, >= 1 */
        bool include_foreign_layers; /* copy foreign and non-distributable layers too */
        es_copy_event_fn on_event;   /* may be NULL */
        void *event_ctx;
        struct es_blob_index *blob_index;         /* blobs known across a run; may be NULL */
        const struct es_platform_spec *platforms; /* copy only these; NULL: the whole index */
        size_t n_platforms;
};

struct es_copy_stats {
        char digest[ES_DIGEST_SHA256_LENGTH]; /* the top-level manifest pushed (or found) */
        /* With platforms: the upstream index the pushed one was made from; else "". */
        char source_digest[ES_DIGEST_SHA256_LENGTH];
        unsigned manifests_pushed;
        unsigned manifests_skipped;
        unsigned blobs_copied;
        unsigned blobs_mounted;
        unsigned blobs_skipped;
        unsigned blobs_foreign;
        uint64_t bytes;  /* blob bytes streamed to the target */
        bool up_to_date; /* the target tag already had the source digest */
};

/*
 * Copy source (a tag or digest of src) to target (a tag or digest of dst;
 * a target digest must equal the source's). src needs pull, dst pull and
 * push. Fills *stats (also on failure, with what was done). Errors: schema 1
 * manifests are ES_ERR_UNSUPPORTED; digest mismatches ES_ERR_DIGEST; the
 * rest as the registry client reports them.
 */
int es_copy_image(struct es_registry *src, const struct es_reference *source,
                  struct es_registry *dst, const struct es_reference *target,
                  const struct es_copy_options *options, struct es_copy_stats *stats,
                  struct es_error *err);

#endif
