/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Opening registries for a run: the shared HTTP client, Docker credentials,
 * and, for ECR registries, the AWS credential chain, the ECR API client
 * and registry tokens from GetAuthorizationToken, with registry traffic
 * routed to the token's proxyEndpoint.
 */
#ifndef ES_CLI_REGISTRIES_H
#define ES_CLI_REGISTRIES_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "http/http.h"
#include "registry/client.h"
#include "registry/credentials.h"
#include "registry/reference.h"

struct es_cli_registries_options {
        const char *ca_file;            /* NULL: the system's CAs */
        const char *const *insecure;    /* registries allowed plain HTTP and bad certificates */
        size_t n_insecure;
        const char *ecr_endpoint;       /* ECR API endpoint override, or NULL */
};

struct es_ecr_binding; /* one ECR registry's API client and token provider */

struct es_cli_registries {
        struct es_http *http;
        struct es_credential_provider docker;
        struct es_aws_provider *aws; /* created on first use */
        struct es_ecr_binding **ecr;
        size_t n_ecr;
        const struct es_cli_registries_options *options;
};

/* Set up the HTTP client and read Docker's config. Release with es_cli_registries_release(). */
int es_cli_registries_init(struct es_cli_registries *registries,
                           const struct es_cli_registries_options *options,
                           struct es_error *err);

/*
 * Open a client for ref's registry; push asks for push access. For ECR this
 * fetches a registry token. Caller frees *out with es_registry_free(),
 * before releasing registries.
 */
int es_cli_registries_open(struct es_cli_registries *registries, const struct es_reference *ref,
                           bool push, struct es_registry **out, struct es_error *err);

/*
 * Make sure ref's repository exists when its registry is ECR: create it
 * when missing and create is true, else fail naming the repository. Other
 * registries create repositories on push: nothing to do. Sets *created.
 */
int es_cli_registries_ensure_repository(struct es_cli_registries *registries,
                                        const struct es_reference *ref, bool create,
                                        bool *created, struct es_error *err);

void es_cli_registries_release(struct es_cli_registries *registries);

#endif
