/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registry credentials for ECR from GetAuthorizationToken, as a registry
 * credential provider. Tokens are cached until 30 minutes before expiresAt
 * (12 hours after issue; half the lifetime for tokens shorter than an hour)
 * and fetched again when the registry refuses one.
 * The token's proxyEndpoint tells where registry traffic goes.
 */
#ifndef ES_AWS_ECR_AUTH_H
#define ES_AWS_ECR_AUTH_H

#include "aws/ecr.h"
#include "base/error.h"
#include "registry/credentials.h"

/* Seconds before expiresAt at which a cached token is replaced. */
#define ES_ECR_TOKEN_REFRESH_MARGIN (30 * 60)

struct es_ecr_auth;

/*
 * Create the provider for registry_id (an account; NULL for the caller's
 * own). ecr must outlive it. Free with es_ecr_auth_free().
 */
struct es_ecr_auth *es_ecr_auth_new(struct es_ecr *ecr, const char *registry_id);
void es_ecr_auth_free(struct es_ecr_auth *auth);

/* The provider interface; valid while auth lives. */
const struct es_credential_provider *es_ecr_auth_provider(struct es_ecr_auth *auth);

/*
 * Fetch (or reuse) a token and return in *out the host[:port] of its
 * proxyEndpoint, where registry requests must go, and in *plain_http
 * whether that endpoint is http://. Caller frees *out.
 */
int es_ecr_auth_endpoint(struct es_ecr_auth *auth, char **out, bool *plain_http,
                         struct es_error *err);

#endif
