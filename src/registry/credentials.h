/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credential providers: where the registry client gets a username and
 * password for a registry. The client knows no cloud; ECR credentials reach
 * it through a provider that the AWS layer implements, Docker's config.json
 * through another.
 */
#ifndef ES_REGISTRY_CREDENTIALS_H
#define ES_REGISTRY_CREDENTIALS_H

#include <stdbool.h>

#include "base/error.h"

struct es_credentials {
        char *username;       /* owned; NULL when absent */
        char *password;       /* owned; a secret */
        char *identity_token; /* owned; an OAuth2 refresh token, a secret; NULL when absent */
};

/*
 * Look up credentials for registry ("docker.io", "127.0.0.1:5000"). Sets
 * *found to false when the provider has none, which is not an error. When
 * refresh is true the caller's last credentials were rejected, and the
 * provider should fetch new ones rather than return cached ones. Must be
 * thread-safe.
 */
typedef int (*es_credentials_get_fn)(void *ctx, const char *registry, bool refresh,
                                     struct es_credentials *out, bool *found, struct es_error *err);

struct es_credential_provider {
        es_credentials_get_fn get;
        void *ctx;
};

void es_credentials_release(struct es_credentials *credentials);

/*
 * A provider reading Docker's config.json once, at creation. Credential
 * helpers are asked once per registry, and again only with refresh set. The
 * returned provider's ctx is owned; free it with es_docker_credentials_free().
 */
int es_docker_credentials_new(struct es_credential_provider *out, struct es_error *err);
void es_docker_credentials_free(struct es_credential_provider *provider);

#endif
