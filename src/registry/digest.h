/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Content digests: "sha256:" followed by 64 lowercase hex digits, or
 * "sha512:" with 128. Only sha256 can be computed, so only sha256 content can
 * be verified; a sha512 digest is valid syntax but rejected by
 * es_digest_validate_supported().
 */
#ifndef ES_REGISTRY_DIGEST_H
#define ES_REGISTRY_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

/* "sha256:" + 64 hex + NUL. */
#define ES_DIGEST_SHA256_LENGTH 72

/* Check the syntax: known algorithm, exact length, lowercase hex. */
int es_digest_validate(const char *digest, struct es_error *err);

/* As es_digest_validate(), and the algorithm must be sha256. */
int es_digest_validate_supported(const char *digest, struct es_error *err);

/* Write the sha256 digest of data as "sha256:<hex>" into out. */
void es_digest_sha256(const void *data, size_t len, char out[ES_DIGEST_SHA256_LENGTH]);

/* Incremental sha256 over a stream. Not thread-safe; one per stream. */
struct es_sha256;

/* Returns a new context; free with es_sha256_free(). */
struct es_sha256 *es_sha256_new(void);
void es_sha256_update(struct es_sha256 *ctx, const void *data, size_t len);
/* Finish and write "sha256:<hex>" into out. The context cannot be updated afterwards. */
void es_sha256_final(struct es_sha256 *ctx, char out[ES_DIGEST_SHA256_LENGTH]);
void es_sha256_free(struct es_sha256 *ctx);

#endif
