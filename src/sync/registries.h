/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Opening registries for a run: the shared HTTP client, Docker credentials,
 * and, for ECR registries, the AWS credential chain, the ECR API client
 * and registry tokens from GetAuthorizationToken, with registry traffic
 * routed to the token's proxyEndpoint.
 */
#ifndef ES_SYNC_REGISTRIES_H
#define ES_SYNC_REGISTRIES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "base/retry.h"
#include "http/http.h"
#include "registry/client.h"
#include "registry/credentials.h"
#include "registry/reference.h"

struct es_registries_options {
        const char *ca_file;         /* NULL: the system's CAs */
        const char *const *insecure; /* registries allowed plain HTTP and bad certificates */
        size_t n_insecure;
        /* CA bundles per registry: pairs of registry and file; NULL: none */
        const char *const *ca_files;
        size_t n_ca_files;
        const char *ecr_endpoint;     /* ECR API endpoint override, or NULL */
        struct es_retry_policy retry; /* for registry and API requests; zero: the defaults */
        /* Registry credentials; NULL: Docker's config.json. Must outlive the registries. */
        const struct es_credential_provider *credentials;
};

struct es_host_rate_limit; /* one registry host's shared rate-limit state */

struct es_ecr_binding; /* one ECR registry's API client and token provider */
struct es_ecr;

struct es_registries {
        struct es_http *http;
        struct es_credential_provider docker;
        struct es_aws_provider *aws; /* created on first use */
        struct es_ecr_binding **ecr;
        size_t n_ecr;
        struct es_host_rate_limit **rate_limits;
        size_t n_rate_limits;
        pthread_mutex_t lock; /* guards aws, ecr and rate_limits */
        const struct es_registries_options *options;
};

/* Set up the HTTP client and read Docker's config. Release with es_registries_release(). */
int es_registries_init(struct es_registries *registries,
                       const struct es_registries_options *options, struct es_error *err);

/*
 * Open a client for ref's registry; push asks for push access. For ECR this
 * fetches a registry token. Caller frees *out with es_registry_free(),
 * before releasing registries.
 */
int es_registries_open(struct es_registries *registries, const struct es_reference *ref, bool push,
                       struct es_registry **out, struct es_error *err);

/*
 * Make sure ref's repository exists when its registry is ECR: create it
 * when missing and create is true, else fail naming the repository. Other
 * registries create repositories on push: nothing to do. Sets *created.
 */
int es_registries_ensure_repository(struct es_registries *registries,
                                    const struct es_reference *ref, bool create, bool *created,
                                    struct es_error *err);

/*
 * The ECR registry host for an ECR target given by region and account
 * ("ACCOUNT.dkr.ecr.REGION.amazonaws.com"). region NULL: from the AWS
 * settings. account NULL: the caller's own, read from the proxyEndpoint of
 * GetAuthorizationToken. Caller frees *out.
 */
int es_registries_ecr_target(struct es_registries *registries, const char *region,
                             const char *account, char **out, struct es_error *err);

/*
 * Set *ecr and *account to the ECR API client and account for an ECR
 * registry host, or *ecr to NULL when registry is not ECR. Both stay valid
 * while registries lives.
 */
int es_registries_ecr_client(struct es_registries *registries, const char *registry,
                             struct es_ecr **ecr, const char **account, struct es_error *err);

/* The rate-limit state shared by every client of registry (created on first use). */
struct es_rate_limit *es_registries_rate_limit(struct es_registries *registries,
                                               const char *registry);

/*
 * Read a Secrets Manager secret's string with the run's AWS credentials.
 * Caller wipes and frees *out.
 */
int es_registries_read_secret(struct es_registries *registries, const char *region,
                              const char *secret_id, char **out, struct es_error *err);

void es_registries_release(struct es_registries *registries);

#endif
