/* SPDX-License-Identifier: Apache-2.0 */
/* Registry credentials for ECR from GetAuthorizationToken. */
#include "aws/ecr_auth.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/log.h"

struct es_ecr_auth {
        struct es_ecr *ecr;
        char *registry_id;
        struct es_credential_provider provider;

        pthread_mutex_t lock; /* guards token; held during GetAuthorizationToken */
        struct es_ecr_token token;
        bool have_token;
        time_t refresh_at; /* when the cached token is replaced */
};

/* Return a usable token under the lock, fetching one when needed. */
static int ensure_token(struct es_ecr_auth *auth, bool refresh, struct es_error *err)
{
        int r;

        time_t now = time(NULL), margin;

        if (auth->have_token && !refresh && now < auth->refresh_at)
                return 0;

        es_ecr_token_release(&auth->token);
        auth->have_token = false;
        r = es_ecr_get_authorization_token(auth->ecr, auth->registry_id, &auth->token, err);
        if (r < 0)
                return es_error_prefix(err, "get ECR registry credentials");
        auth->have_token = true;
        /* Half the lifetime for tokens shorter than an hour, so they are reused at all. */
        margin = (auth->token.expires_at - now) / 2;
        if (margin > ES_ECR_TOKEN_REFRESH_MARGIN)
                margin = ES_ECR_TOKEN_REFRESH_MARGIN;
        auth->refresh_at = auth->token.expires_at - margin;
        es_log_debug("ecr: new registry token for '%s', expires at %lld",
                     auth->registry_id ? auth->registry_id : "(own account)",
                     (long long)auth->token.expires_at);
        return 0;
}

static int provider_get(void *ctx, const char *registry, bool refresh, struct es_credentials *out,
                        bool *found, struct es_error *err)
{
        struct es_ecr_auth *auth = ctx;
        int r;

        *found = false;
        pthread_mutex_lock(&auth->lock);
        r = ensure_token(auth, refresh, err);
        if (r >= 0) {
                memset(out, 0, sizeof(*out));
                out->username = es_strdup(auth->token.username);
                out->password = es_strdup(auth->token.password);
                *found = true;
        }
        pthread_mutex_unlock(&auth->lock);
        return r;
}

struct es_ecr_auth *es_ecr_auth_new(struct es_ecr *ecr, const char *registry_id)
{
        struct es_ecr_auth *auth = es_calloc(1, sizeof(*auth));

        auth->ecr = ecr;
        auth->registry_id = registry_id ? es_strdup(registry_id) : NULL;
        auth->provider.get = provider_get;
        auth->provider.ctx = auth;
        pthread_mutex_init(&auth->lock, NULL);
        return auth;
}

void es_ecr_auth_free(struct es_ecr_auth *auth)
{
        if (auth == NULL)
                return;
        es_ecr_token_release(&auth->token);
        pthread_mutex_destroy(&auth->lock);
        free(auth->registry_id);
        free(auth);
}

const struct es_credential_provider *es_ecr_auth_provider(struct es_ecr_auth *auth)
{
        return &auth->provider;
}

/* Split "scheme://host[:port][/...]" into host[:port] and whether the scheme is http. */
static int parse_endpoint(const char *endpoint, char **out, bool *plain_http, struct es_error *err)
{
        CURLU *url = curl_url();
        char *scheme = NULL, *host = NULL, *port = NULL;
        int r = 0;

        if (curl_url_set(url, CURLUPART_URL, endpoint, 0) != CURLUE_OK ||
            curl_url_get(url, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
            curl_url_get(url, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
            (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)) {
                r = es_error_set(err, ES_ERR_PROTOCOL,
                                 "GetAuthorizationToken returned an invalid proxyEndpoint '%s'",
                                 endpoint);
        } else {
                curl_url_get(url, CURLUPART_PORT, &port, 0);
                *out = port ? es_asprintf("%s:%s", host, port) : es_strdup(host);
                *plain_http = strcmp(scheme, "http") == 0;
        }
        curl_free(scheme);
        curl_free(host);
        curl_free(port);
        curl_url_cleanup(url);
        return r;
}

int es_ecr_auth_endpoint(struct es_ecr_auth *auth, char **out, bool *plain_http,
                         struct es_error *err)
{
        int r;

        pthread_mutex_lock(&auth->lock);
        r = ensure_token(auth, false, err);
        if (r >= 0)
                r = parse_endpoint(auth->token.proxy_endpoint, out, plain_http, err);
        pthread_mutex_unlock(&auth->lock);
        return r;
}
