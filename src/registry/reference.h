/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image references in Docker's conventions:
 *   nginx                        -> docker.io/library/nginx:latest
 *   datadog/agent:7              -> docker.io/datadog/agent:7
 *   127.0.0.1:5000/team/app@sha256:...
 *   [::1]:5000/app:1, ghcr.io/org/tool:v1@sha256:...
 * The first path component is a registry host when it contains '.' or ':',
 * is "localhost", or starts with '['. index.docker.io is read as docker.io.
 * Repository paths follow the distribution spec: lowercase components of
 * [a-z0-9] joined by '.', '_', '__' or runs of '-', separated by '/', at most
 * 255 characters in all. Tags are [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
 */
#ifndef ES_REGISTRY_REFERENCE_H
#define ES_REGISTRY_REFERENCE_H

#include <stdbool.h>

#include "base/error.h"

struct es_reference {
        char *registry;   /* "docker.io", "127.0.0.1:5000", "[::1]:5000"; owned */
        char *repository; /* "library/nginx"; owned */
        char *tag;        /* owned; NULL when only a digest was given */
        char *digest;     /* "sha256:<hex>", owned; NULL when not given */
};

/*
 * Parse and normalise a reference. Without tag and digest, the tag is
 * "latest"; with both, both are kept and the digest decides what is fetched.
 * The registry is lowercased, and a Docker Hub repository without '/' gets
 * "library/" in front, which counts towards the 255 characters. On success
 * release *out with es_reference_release(). On failure *out is untouched and
 * err names the value and what is wrong (ES_ERR_INVALID).
 */
int es_reference_parse(const char *text, struct es_reference *out, struct es_error *err);

/*
 * Parse a reference that must not carry a tag or digest (a repository, such
 * as a sync source). Tag and digest of *out are NULL.
 */
int es_reference_parse_repository(const char *text, struct es_reference *out, struct es_error *err);

void es_reference_release(struct es_reference *ref);

/* Deep copy into *dst. */
void es_reference_copy(struct es_reference *dst, const struct es_reference *src);

/*
 * The full normalised form "REGISTRY/REPOSITORY[:TAG][@DIGEST]". Caller frees.
 */
char *es_reference_format(const struct es_reference *ref);

/*
 * Host and port to send API requests to: "registry-1.docker.io" for
 * docker.io, else the registry itself. Points into ref or a static string.
 */
const char *es_reference_api_host(const struct es_reference *ref);

/*
 * The tag or digest to address the manifest with: the digest when there is
 * one, else the tag. Points into ref.
 */
const char *es_reference_manifest_ref(const struct es_reference *ref);

/* True for localhost, 127.0.0.0/8 and [::1] registries, with or without port. */
bool es_registry_is_loopback(const char *registry);

/* True when text is a valid repository path (no host), e.g. "library/nginx". */
bool es_repository_path_is_valid(const char *path);

/* True when text is a valid tag. */
bool es_tag_is_valid(const char *tag);

#endif
