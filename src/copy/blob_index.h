/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Blobs known to be at the target during a run, shared by every copy of the
 * run, so a blob is transferred once and then mounted into other
 * repositories of the same registry (or skipped where it already is).
 * Thread-safe.
 */
#ifndef ES_COPY_BLOB_INDEX_H
#define ES_COPY_BLOB_INDEX_H

#include <stdbool.h>

struct es_blob_index;

struct es_blob_index *es_blob_index_new(void);
void es_blob_index_free(struct es_blob_index *index);

enum es_blob_claim {
        ES_BLOB_CLAIM_TRANSFER, /* nobody has it: the caller transfers it, then calls _done */
        ES_BLOB_CLAIM_MOUNT,    /* it is in *from (a repository of the same registry) */
};

/*
 * Claim digest for repository of registry. When another copy is
 * transferring it right now, wait for that to finish. Returns MOUNT with
 * *from set (caller frees) when a repository of the registry holds it,
 * else TRANSFER: the caller must call es_blob_index_done() afterwards.
 */
enum es_blob_claim es_blob_index_claim(struct es_blob_index *index, const char *registry,
                                       const char *digest, char **from);

/*
 * Record the outcome of a transfer the caller claimed: on success digest is
 * in repository of registry; either way, waiting claims go on.
 */
void es_blob_index_done(struct es_blob_index *index, const char *registry, const char *digest,
                        const char *repository, bool success);

/* Record that repository of registry holds digest (seen by a HEAD). */
void es_blob_index_add(struct es_blob_index *index, const char *registry, const char *digest,
                       const char *repository);

#endif
