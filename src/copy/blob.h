/* SPDX-License-Identifier: Apache-2.0 */
/* Transferring one blob: existence check, mount, or verified streaming copy. */
#ifndef ES_COPY_BLOB_H
#define ES_COPY_BLOB_H

#include <stdint.h>

#include "base/error.h"
#include "copy/copy.h"
#include "registry/client.h"
#include "registry/manifest.h"

enum es_blob_outcome {
        ES_BLOB_EXISTS,
        ES_BLOB_MOUNTED,
        ES_BLOB_COPIED,
};

struct es_blob_job {
        struct es_registry *src;
        const char *src_repository;
        struct es_registry *dst;
        const char *dst_repository;
        const char *mount_from; /* repository of dst to mount from, or NULL */
        const struct es_descriptor *descriptor;
        const struct es_copy_options *options; /* for retry events */
};

/*
 * Make the blob present at the target: skip it when a HEAD finds it, mount
 * it when mount_from is set and the registry agrees, otherwise stream it
 * from the source, verify its size and sha256, and commit the upload only
 * when both match (the session is cancelled otherwise). Transient failures
 * and digest mismatches are retried a few times from the start.
 */
int es_blob_transfer(const struct es_blob_job *job, enum es_blob_outcome *outcome,
                     struct es_error *err);

#endif
