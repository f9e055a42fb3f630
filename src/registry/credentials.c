/* SPDX-License-Identifier: Apache-2.0 */
/* Credential providers: Docker's config.json. */
#include "registry/credentials.h"

#include <pthread.h>
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

/* What a credential helper returned for one registry, kept for the run. */
struct helper_answer {
        char *registry;
        bool found;
        struct es_credentials credentials;
};

struct docker_provider {
        struct es_docker_config *config;
        pthread_mutex_t lock; /* guards answers; held while a helper runs */
        struct helper_answer *answers;
        size_t n_answers;
};

static void credentials_copy(struct es_credentials *dst, const struct es_credentials *src)
{
        memset(dst, 0, sizeof(*dst));
        dst->username = src->username ? es_strdup(src->username) : NULL;
        dst->password = src->password ? es_strdup(src->password) : NULL;
        dst->identity_token = src->identity_token ? es_strdup(src->identity_token) : NULL;
}

/* Ask the helper once per registry; again only when the last answer was refused. */
static int helper_get(struct docker_provider *provider, const char *helper, const char *registry,
                      bool refresh, struct es_credentials *out, bool *found, struct es_error *err)
{
        /* Docker Hub's helper entries are keyed by its legacy index URL. */
        const char *server =
            strcmp(registry, "docker.io") == 0 ? "https://index.docker.io/v1/" : registry;
        struct helper_answer *answer = NULL;
        int r = 0;

        pthread_mutex_lock(&provider->lock);
        for (size_t i = 0; i < provider->n_answers; i++)
                if (strcmp(provider->answers[i].registry, registry) == 0)
                        answer = &provider->answers[i];
        if (answer && refresh) {
                es_credentials_release(&answer->credentials);
                answer->found = false;
        }
        if (answer == NULL) {
                provider->answers =
                    es_realloc(provider->answers, (provider->n_answers + 1) * sizeof(*answer));
                answer = &provider->answers[provider->n_answers++];
                memset(answer, 0, sizeof(*answer));
                answer->registry = es_strdup(registry);
                refresh = true;
        }
        if (refresh)
                r = es_credential_helper_get(helper, server, &answer->credentials, &answer->found,
                                             err);
        if (r >= 0) {
                *found = answer->found;
                if (answer->found)
                        credentials_copy(out, &answer->credentials);
        }
        pthread_mutex_unlock(&provider->lock);
        return r;
}

static int docker_get(void *ctx, const char *registry, bool refresh, struct es_credentials *out,
                      bool *found, struct es_error *err)
{
        struct docker_provider *provider = ctx;
        struct es_docker_auth auth = {0};
        int r;

        *found = false;
        r = es_docker_config_lookup(provider->config, registry, &auth, found, err);
        if (r < 0)
                return r;
        if (!*found)
                return 0;
        if (auth.helper != NULL) {
                r = helper_get(provider, auth.helper, registry, refresh, out, found, err);
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
        struct docker_provider *provider;
        struct es_docker_config *config = NULL;
        int r;

        r = es_docker_config_load(&config, err);
        if (r < 0)
                return r;
        provider = es_calloc(1, sizeof(*provider));
        provider->config = config;
        pthread_mutex_init(&provider->lock, NULL);
        out->get = docker_get;
        out->ctx = provider;
        return 0;
}

void es_docker_credentials_free(struct es_credential_provider *provider)
{
        struct docker_provider *docker;

        if (provider == NULL || provider->ctx == NULL)
                return;
        docker = provider->ctx;
        for (size_t i = 0; i < docker->n_answers; i++) {
                es_credentials_release(&docker->answers[i].credentials);
                free(docker->answers[i].registry);
        }
        free(docker->answers);
        pthread_mutex_destroy(&docker->lock);
        es_docker_config_free(docker->config);
        free(docker);
        provider->ctx = NULL;
        provider->get = NULL;
}
