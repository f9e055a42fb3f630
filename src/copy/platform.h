/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Platform filters for multi-arch images. A list of platforms such as
 * "linux/amd64" and "linux/arm64" selects children of a source index, and
 * es_platform_select() writes a new OCI index that lists only them and the
 * attestation manifests that describe them. The new index records the
 * source index digest, so a later run can find the tag unchanged by
 * comparing that digest with the source's current one.
 *
 * A source that is a single image manifest has no platforms in its
 * descriptor. The caller reads os, architecture and variant from the
 * image's config blob, builds a struct es_platform from them and calls
 * es_platform_specs_match_any() to decide whether to copy it.
 *
 * All functions are thread-safe: they touch only their arguments.
 */
#ifndef ES_COPY_PLATFORM_H
#define ES_COPY_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "registry/manifest.h"

/*
 * Annotation keys that ecr-sync writes into the indexes it builds. They are
 * ecr-sync's own keys, not OCI or Docker ones, and share the prefix
 * "dev.ecr-sync.".
 *
 * ES_ANNOTATION_SOURCE_DIGEST is the digest of the upstream index that the
 * filtered index was built from. ES_ANNOTATION_PLATFORMS is the list of
 * requested platforms as es_platform_specs_format() writes it, for example
 * "linux/amd64,linux/arm64".
 */
#define ES_ANNOTATION_SOURCE_DIGEST "dev.ecr-sync.source.digest"
#define ES_ANNOTATION_PLATFORMS     "dev.ecr-sync.platforms"

/* A requested platform: "OS/ARCH" or "OS/ARCH/VARIANT". */
struct es_platform_spec {
        char *os;           /* owned */
        char *architecture; /* owned, with aliases replaced: "amd64", never "x86_64" */
        char *variant;      /* owned; NULL when the text had none */
};

/*
 * Parse "OS/ARCH" or "OS/ARCH/VARIANT". Each part is non-empty and made of
 * lowercase letters, digits, '_', '-' and '.'. Architecture aliases are
 * replaced as normalizeArch() in github.com/containerd/platforms does:
 * aarch64 becomes arm64, x86_64 and x86-64 become amd64, i386 becomes 386.
 * A variant that is only a version number on arm or arm64 gains its "v"
 * ("linux/arm/7" is linux/arm/v7), and arm64 drops a trailing ".0" ("v8.0"
 * is "v8"). The os or architecture "unknown" is rejected, because
 * BuildKit writes unknown/unknown on attestation manifests, which are kept
 * with the image they describe instead of being selected by platform.
 *
 * Errors are ES_ERR_INVALID and quote the text, e.g. `invalid platform
 * "linux": expected OS/ARCH or OS/ARCH/VARIANT, such as linux/arm64/v8`. On
 * failure *out is untouched. On success release it with
 * es_platform_spec_release().
 */
int es_platform_spec_parse(const char *text, struct es_platform_spec *out, struct es_error *err);

/* Free the strings and zero the struct. Accepts NULL. */
void es_platform_spec_release(struct es_platform_spec *spec);

/*
 * Format the spec as "os/arch" or "os/arch/variant". The result is what the
 * user wrote with the aliases above replaced: a variant is kept when given
 * ("linux/arm64/v8" stays so) and never added. The caller frees the result.
 */
char *es_platform_spec_format(const struct es_platform_spec *spec);

/*
 * Format a list of specs as the value of ES_ANNOTATION_PLATFORMS: each
 * spec formatted as above, sorted, duplicates removed, joined by commas
 * without spaces. The order of the list does not change the value, so a
 * reordered configuration still compares equal. The caller frees the result.
 */
char *es_platform_specs_format(const struct es_platform_spec *specs, size_t n);

/*
 * Return true when platform (from an index descriptor or an image config)
 * matches spec. The OS and architecture must be equal, ignoring case and
 * after replacing the aliases above on both sides. A spec without a variant
 * matches every variant, so linux/arm64 matches linux/arm64 and
 * linux/arm64/v8. A spec with a variant matches only that variant, where a
 * missing variant counts as v8 on arm64, v7 on arm and v1 on amd64. So
 * linux/arm64/v8 matches linux/arm64, and linux/arm/v6 does not match
 * linux/arm. A platform whose OS or architecture is missing or "unknown"
 * never matches. os.version is not compared.
 */
bool es_platform_spec_matches(const struct es_platform_spec *spec,
                              const struct es_platform *platform);

/* Return true when platform matches at least one of the n specs. */
bool es_platform_specs_match_any(const struct es_platform_spec *specs, size_t n,
                                 const struct es_platform *platform);

/* The filtered index that es_platform_select() builds. */
struct es_platform_selection {
        char *index;           /* owned: the new index JSON, the exact bytes to push */
        size_t index_len;      /* bytes in index, excluding its NUL terminator */
        char *media_type;      /* owned: always ES_MEDIA_OCI_INDEX */
        size_t n_kept;         /* image manifests kept, attestations not counted */
        size_t n_attestations; /* attestation manifests kept */
        /*
         * Owned array of borrowed pointers into the source index's
         * descriptors: every kept image and attestation, in source order.
         * The pointers are valid while the source index is.
         */
        const struct es_descriptor **kept;
        size_t n_kept_descriptors; /* n_kept + n_attestations */
};

/*
 * Build a new index from the source index source_index, parsed from
 * source_bytes (source_len bytes) whose digest is source_digest. The new
 * index keeps each child whose platform matches one of the n_specs specs and
 * each attestation manifest whose vnd.docker.reference.digest names a kept
 * child. It drops every other child, including attestations of dropped
 * children and children without a platform.
 *
 * The new index is compact JSON with a fixed key order, so the same input
 * always gives the same bytes:
 *   {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
 *    "manifests":[...],"annotations":{...}}
 * It is an OCI index even when the source is a Docker manifest list and when
 * one child is kept. Each kept descriptor is written as mediaType, digest,
 * size, platform, annotations, artifactType, urls, with the members absent
 * from the source left out. The platform members are architecture, os,
 * os.version, os.features, variant and features. Descriptor annotations,
 * os.version and os.features are read from source_bytes because
 * es_manifest_parse() does not keep them. Other members of a descriptor,
 * such as "data", are dropped. Annotation keys are written in sorted order.
 * The index's annotations are those of the source index plus
 * ES_ANNOTATION_SOURCE_DIGEST (source_digest) and ES_ANNOTATION_PLATFORMS
 * (es_platform_specs_format() of specs), which replace any source values
 * under those keys. The source index's subject and artifactType are dropped.
 *
 * Errors:
 *   ES_ERR_NOT_FOUND when no image child matches, with a message that lists
 *     the platforms the index has: `no manifest for linux/s390x; the index
 *     has linux/amd64, linux/arm64/v8`.
 *   ES_ERR_DIGEST when source_digest is a sha256 digest that does not
 *     match source_bytes. A sha512 digest cannot be checked.
 *   ES_ERR_INVALID when source_digest is not a digest, when source_bytes
 *     do not hold the descriptors of source_index, when a member re-read from
 *     the bytes has the wrong JSON type, or when the new index would exceed
 *     ES_MAX_MANIFEST_SIZE.
 * source_index must be an ES_MANIFEST_INDEX and n_specs at least 1. On
 * failure *out is untouched. On success release it with
 * es_platform_selection_release().
 */
int es_platform_select(const char *source_bytes, size_t source_len,
                       const struct es_manifest *source_index, const char *source_digest,
                       const struct es_platform_spec *specs, size_t n_specs,
                       struct es_platform_selection *out, struct es_error *err);

/* Free what the selection owns (not the borrowed descriptors) and zero it. Accepts NULL. */
void es_platform_selection_release(struct es_platform_selection *selection);

/*
 * Read the annotations ES_ANNOTATION_SOURCE_DIGEST and ES_ANNOTATION_PLATFORMS
 * from the top level of an index that ecr-sync wrote (len bytes, not
 * NUL-terminated). Sets *digest and *platforms to new strings that the caller
 * frees, or to NULL when the bytes do not carry that annotation, as in an
 * index that ecr-sync did not write. platforms may be NULL when the caller
 * does not need it.
 *
 * Errors are ES_ERR_INVALID: bytes that are not a JSON object or exceed
 * ES_MAX_MANIFEST_SIZE, "annotations" that is not an object, an annotation
 * value that is not a string, or a recorded digest that is not a valid
 * digest. On failure the outputs are untouched.
 */
int es_platform_recorded_source(const char *bytes, size_t len, char **digest, char **platforms,
                                struct es_error *err);

#endif
