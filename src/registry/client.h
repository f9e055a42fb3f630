/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The distribution API client for one registry. Thread-safe: the copy
 * engine shares one es_registry between its workers.
 *
 * Every operation names a repository ("library/nginx") and authenticates
 * with the scope "repository:NAME:pull" or ":pull,push" as the registry's
 * role needs. A 401 is answered once by a new token; 5xx, 429 and network
 * failures of requests that can be replayed are retried with backoff.
 * Errors name the operation, the HTTP status and the registry's error code
 * and message.
 */
#ifndef ES_REGISTRY_CLIENT_H
#define ES_REGISTRY_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/retry.h"
#include "http/http.h"
#include "registry/credentials.h"
#include "registry/ratelimit.h"

struct es_registry;

struct es_registry_options {
        const char *registry; /* "docker.io", "127.0.0.1:5000": names credentials */
        const char *api_host; /* where requests go: "registry-1.docker.io"; NULL: registry */
        bool push;            /* ask for push as well as pull */
        bool insecure;        /* accept plain HTTP and unverifiable certificates */
        const char *ca_file;  /* CA bundle for this registry; NULL: the HTTP client's */
        const struct es_credential_provider *credentials; /* may be NULL; must outlive */
        struct es_rate_limit *rate_limit; /* shared limit state to update; may be NULL */
        struct es_retry_policy retry;     /* zero: the defaults */
        /* What to check when credentials are refused; NULL: the Docker config. */
        const char *credentials_hint;
};

/* Requests this client sent, for reports. */
struct es_registry_counters {
        unsigned long requests;       /* every HTTP request, retries and token requests excluded */
        unsigned long manifest_gets;  /* counted as pulls by Docker Hub */
        unsigned long manifest_heads; /* not counted as pulls */
        unsigned long blob_gets;
};

/*
 * Create a client. No request is sent until the first operation. http must
 * outlive the client. Free with es_registry_free().
 */
struct es_registry *es_registry_new(struct es_http *http,
                                    const struct es_registry_options *options);
void es_registry_free(struct es_registry *registry);

/* The registry name given at creation. */
const char *es_registry_name(const struct es_registry *registry);

/* A snapshot of the request counters. Thread-safe. */
void es_registry_counters(struct es_registry *registry, struct es_registry_counters *out);

/*
 * Call fn once per tag of repository, following Link headers page by page
 * (asking for up to 1000 tags a page). A missing repository is
 * ES_ERR_NOT_FOUND. A Link to another origin, a page over ES_MAX_TAG_PAGE
 * bytes, or a list that never ends is an error. fn
 * returns 0 to go on or a negative error to stop with.
 */
typedef int (*es_registry_tag_fn)(const char *tag, void *ctx);
int es_registry_list_tags(struct es_registry *registry, const char *repository,
                          es_registry_tag_fn fn, void *ctx, struct es_error *err);

/*
 * Check that the registry speaks the API (GET /v2/) and choose the scheme:
 * https, or http for loopback and insecure registries whose server does not
 * speak TLS. Operations call it themselves; calling it first gives an early,
 * clear error.
 */
int es_registry_ping(struct es_registry *registry, struct es_error *err);

struct es_manifest_info {
        char *digest;     /* owned: Docker-Content-Digest, or NULL */
        char *media_type; /* owned: Content-Type, or NULL */
        int64_t size;     /* Content-Length, or -1 */
};

void es_manifest_info_release(struct es_manifest_info *info);

/*
 * HEAD a manifest by tag or digest. Sets *found; on success fills *info.
 * Not counted as a pull by Docker Hub.
 */
int es_registry_manifest_head(struct es_registry *registry, const char *repository,
                              const char *reference, bool *found, struct es_manifest_info *info,
                              struct es_error *err);

/*
 * GET a manifest into body (at most ES_MAX_MANIFEST_SIZE; a larger one is
 * ES_ERR_INVALID) and its headers into *info. A missing manifest is
 * ES_ERR_NOT_FOUND.
 */
int es_registry_manifest_get(struct es_registry *registry, const char *repository,
                             const char *reference, struct es_buf *body,
                             struct es_manifest_info *info, struct es_error *err);

/* PUT manifest bytes exactly as given, under a tag or a digest. */
int es_registry_manifest_put(struct es_registry *registry, const char *repository,
                             const char *reference, const char *media_type, const char *data,
                             size_t len, struct es_error *err);

/* HEAD a blob. Sets *found. */
int es_registry_blob_head(struct es_registry *registry, const char *repository, const char *digest,
                          bool *found, struct es_error *err);

/*
 * GET a blob, following redirects (the Authorization header is not sent to
 * other hosts), and stream its body to write. Replayed on failure only while
 * no byte has reached write.
 */
int es_registry_blob_get(struct es_registry *registry, const char *repository, const char *digest,
                         es_http_write_fn write, void *write_ctx, struct es_error *err);

/*
 * Start a blob upload. With from_repository set, first ask the registry to
 * mount the blob from that repository of the same registry: *mounted is then
 * true when it did, and no upload session is open. Otherwise *location is
 * the new session's absolute URL (caller frees).
 */
int es_registry_upload_start(struct es_registry *registry, const char *repository,
                             const char *digest, const char *from_repository, bool *mounted,
                             char **location, struct es_error *err);

/*
 * Send the whole blob to an upload session in one PATCH, streaming size
 * bytes from read. On success *location is replaced by the session URL the
 * registry returned. Never replayed: a failure leaves the session to be
 * cancelled.
 */
int es_registry_upload_patch(struct es_registry *registry, const char *repository, char **location,
                             es_http_read_fn read, void *read_ctx, int64_t size,
                             struct es_error *err);

/* Complete an upload session with PUT ?digest=. */
int es_registry_upload_finish(struct es_registry *registry, const char *repository,
                              const char *location, const char *digest, struct es_error *err);

/* Abandon an upload session (DELETE); failures are ignored. */
void es_registry_upload_cancel(struct es_registry *registry, const char *repository,
                               const char *location);

#endif
