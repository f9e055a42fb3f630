/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Manifest and index parsing. The bytes are only read, never re-serialised:
 * the copy engine pushes exactly what it fetched so digests stay equal.
 *
 * Kinds: Docker schema 2 manifests and manifest lists, OCI image manifests
 * and indexes (with artifactType, subject and any config or layer media
 * type), the withdrawn OCI artifact manifest (its "blobs" are read as
 * layers), and Docker schema 1, which is recognised only to be refused.
 */
#ifndef ES_REGISTRY_MANIFEST_H
#define ES_REGISTRY_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define ES_MEDIA_DOCKER_MANIFEST       "application/vnd.docker.distribution.manifest.v2+json"
#define ES_MEDIA_DOCKER_LIST           "application/vnd.docker.distribution.manifest.list.v2+json"
#define ES_MEDIA_DOCKER_SCHEMA1        "application/vnd.docker.distribution.manifest.v1+json"
#define ES_MEDIA_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define ES_MEDIA_DOCKER_FOREIGN_LAYER  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define ES_MEDIA_OCI_MANIFEST          "application/vnd.oci.image.manifest.v1+json"
#define ES_MEDIA_OCI_INDEX             "application/vnd.oci.image.index.v1+json"
#define ES_MEDIA_OCI_ARTIFACT          "application/vnd.oci.artifact.manifest.v1+json"

/* Accept header value listing every manifest media type ecr-sync reads. */
extern const char ES_MANIFEST_ACCEPT[];

enum es_manifest_kind {
        ES_MANIFEST_IMAGE = 0,   /* config and layers (or artifact blobs) */
        ES_MANIFEST_INDEX = 1,   /* a list of manifests */
        ES_MANIFEST_SCHEMA1 = 2, /* Docker schema 1: not copied */
};

struct es_platform {
        char *os;           /* owned; NULL when absent */
        char *architecture; /* owned; NULL when absent */
        char *variant;      /* owned; NULL when absent */
};

struct es_descriptor {
        char *media_type; /* owned */
        char *digest;     /* owned, validated */
        int64_t size;     /* >= 0 */
        char **urls;      /* owned array of owned strings; NULL when none */
        size_t n_urls;
        char *artifact_type; /* owned; NULL when absent */
        bool has_platform;
        struct es_platform platform;
        bool is_attestation;  /* annotation vnd.docker.reference.type = attestation-manifest */
        char *attestation_of; /* vnd.docker.reference.digest annotation, owned; or NULL */
};

struct es_manifest {
        enum es_manifest_kind kind;
        /*
         * Owned media type: the document's mediaType, else the Content-Type
         * (without parameters) when it names a manifest type, else the OCI
         * type of the inferred kind. Schema 1 without either gets v1+prettyjws
         * when "signatures" is present and v1+json otherwise.
         */
        char *media_type;
        char *artifact_type; /* owned; NULL when absent */
        bool has_config;
        struct es_descriptor config;
        struct es_descriptor *layers; /* owned; image manifests only */
        size_t n_layers;
        struct es_descriptor *manifests; /* owned; indexes only */
        size_t n_manifests;
        bool has_subject;
        struct es_descriptor subject;
};

/*
 * Parse data (len bytes, not NUL-terminated) fetched with the given
 * Content-Type (may be NULL). Validates at the boundary: size at most
 * ES_MAX_MANIFEST_SIZE, no NUL bytes, nesting at most ES_MAX_JSON_DEPTH,
 * schemaVersion, media types of the form type/subtype, digests, sizes from 0
 * to 2^53, at most ES_MAX_DESCRIPTORS descriptors per list. Schema 1 is
 * detected by media type or schemaVersion 1 and returned as
 * ES_MANIFEST_SCHEMA1 without further checks.
 *
 * The kind comes from the document's mediaType when it names a manifest
 * type, else from the Content-Type, else from the members: "manifests" for
 * an index, "layers" or "blobs" for an image. Duplicate JSON keys are
 * accepted and the last value wins. Errors are ES_ERR_INVALID and name the
 * field, e.g. `manifest: layers[2].digest: invalid digest "sha256:xyz": ...`.
 * On failure *out is untouched; on success release it with
 * es_manifest_release().
 */
int es_manifest_parse(const char *data, size_t len, const char *content_type,
                      struct es_manifest *out, struct es_error *err);

void es_manifest_release(struct es_manifest *manifest);

/* True for Docker manifest lists and OCI indexes. */
bool es_media_type_is_index(const char *media_type);

/* True for both Docker schema 1 media types. */
bool es_media_type_is_schema1(const char *media_type);

/*
 * True for a layer that is not meant to be redistributed: one with urls, or
 * with a Docker foreign or OCI non-distributable media type.
 */
bool es_descriptor_is_foreign(const struct es_descriptor *desc);

#endif
