/* SPDX-License-Identifier: Apache-2.0 */
/* Credential providers: Docker's config.json. */
#include "registry/credentials.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "registry/credential_helper.h"
#include "registry/docker_config.h"

void es_credentials_release(struct es_credentials *credentials)
{
        if (credentials == NULL)
                return;
        if (credentials->password)
                explicit_bzero(credentials->password, strlen(credentials->password));
        if (credentials->identity_token)
                explicit_bzero(credentials->identity_token, strlen(credentials->identity_token));
        free(credentials->username);
        free(credentials->password);
        free(credentials->identity_token);
        memset(credentials, 0, sizeof(*credentials));
}

static int docker_get(void *ctx, const char *registry, bool refresh, struct es_credentials *out,
                      bool *found, struct es_error *err)
{
        struct es_docker_config *config = ctx;
        struct es_docker_auth auth = {0};
        int r;

        *found = false;
        r = es_docker_config_lookup(config, registry, &auth, found, err);
        if (r < 0)
                return r;
        if (!*found)
                return 0;
        if (auth.helper != NULL) {
                /* Docker Hub's helper entries are keyed by its legacy index URL. */
                const char *server = strcmp(registry, "docker.io") == 0
                                             ? "https://index.docker.io/v1/"
                                             : registry;

                r = es_credential_helper_get(auth.helper, server, out, found, err);
                es_docker_auth_release(&auth);
                return r;
        }

        memset(out, 0, sizeof(*out));
        out->username = auth.username ? es_strdup(auth.username) : NULL;
        out->password = auth.password ? es_strdup(auth.password) : NULL;
        out->identity_token = auth.identity_token ? es_strdup(auth.identity_token) : NULL;
        es_docker_auth_release(&auth);
        return 0;
}

int es_docker_credentials_new(struct es_credential_provider *out, struct es_error *err)
{
        struct es_docker_config *config = NULL;
        int r;

        r = es_docker_config_load(&config, err);
        if (r < 0)
                return r;
        out->get = docker_get;
        out->ctx = config;
        return 0;
}

void es_docker_credentials_free(struct es_credential_provider *provider)
{
        if (provider == NULL)
                return;
        es_docker_config_free(provider->ctx);
        provider->ctx = NULL;
        provider->get = NULL;
}
