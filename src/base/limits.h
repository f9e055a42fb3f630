/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Named limits for everything read from the network or from disk. Changing a
 * limit here changes it everywhere.
 */
#ifndef ES_BASE_LIMITS_H
#define ES_BASE_LIMITS_H

/* Manifests and indexes: the distribution spec lets registries reject
 * manifests over 4 MiB, and distribution's own limit is 4 MiB. */
#define ES_MAX_MANIFEST_SIZE (4u * 1024 * 1024)

/* Token endpoint responses (JWTs are a few KiB). */
#define ES_MAX_TOKEN_RESPONSE (256u * 1024)

/* Error bodies and other small responses kept for messages. */
#define ES_MAX_ERROR_BODY (64u * 1024)

/* One page of tags/list. */
#define ES_MAX_TAG_PAGE (8u * 1024 * 1024)

/* ~/.docker/config.json. */
#define ES_MAX_DOCKER_CONFIG (4u * 1024 * 1024)

/* Deepest JSON nesting accepted in a manifest. */
#define ES_MAX_JSON_DEPTH 64

/* Children of one index, descriptors of one manifest. */
#define ES_MAX_DESCRIPTORS 10000

/* Depth of nested indexes (an index of indexes of ...). */
#define ES_MAX_INDEX_DEPTH 4

/* Bytes buffered between a blob download and its upload. */
#define ES_STREAM_BUFFER_SIZE (256u * 1024)

/* The smallest stream buffer, for blobs smaller than that. */
#define ES_STREAM_BUFFER_MIN (16u * 1024)

/* Allocations from this size up get their own mapping, returned when freed. */
#define ES_MMAP_THRESHOLD (128u * 1024)

/* malloc arenas shared by all threads. */
#define ES_MALLOC_ARENAS 2

/* Redirects followed for one request. */
#define ES_MAX_REDIRECTS 10

/* Parallel blob transfers allowed by --jobs. */
#define ES_MAX_JOBS 64

#endif
