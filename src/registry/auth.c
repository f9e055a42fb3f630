/* SPDX-License-Identifier: Apache-2.0 */
/* Registry authentication: challenges, token requests, token cache. */
#include "registry/auth.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/limits.h"
#include "base/log.h"
#include "registry/challenge.h"
#include "registry/token.h"
#include "registry/url.h"

/* Tries of one token request after network failures, 5xx and 429. */
#define TOKEN_ATTEMPTS 3

enum auth_scheme {
        SCHEME_NONE = 0, /* no challenge seen: requests go anonymous */
        SCHEME_BASIC,
        SCHEME_BEARER,
};

struct cached_token {
        char *scope;
        char *header; /* "Authorization: Bearer ..." */
        time_t refresh_at;
};

struct es_auth {
        struct es_http *http;
        char *registry;
        const struct es_credential_provider *credentials;
        bool insecure_tls;
        char *ca_file;

        pthread_mutex_t lock; /* guards everything below; held during token requests */
        enum auth_scheme scheme;
        char *realm;
        char *service;
        struct cached_token *tokens;
        size_t n_tokens;
        bool refresh_credentials; /* the last credentials were refused */

        pthread_mutex_t secrets_lock; /* guards secrets; never held with lock waiting on it */
        char **secrets;               /* every secret seen, for es_auth_scrub() */
        size_t n_secrets;
};

/* Shortest secret scrubbed: shorter strings would match ordinary words. */
#define MIN_SCRUBBED_LENGTH 6

static void remember_secret(struct es_auth *auth, const char *secret)
{
        if (secret == NULL || strlen(secret) < MIN_SCRUBBED_LENGTH)
                return;
        pthread_mutex_lock(&auth->secrets_lock);
        for (size_t i = 0; i < auth->n_secrets; i++) {
                if (strcmp(auth->secrets[i], secret) == 0) {
                        pthread_mutex_unlock(&auth->secrets_lock);
                        return;
                }
        }
        auth->secrets = es_realloc(auth->secrets, (auth->n_secrets + 1) * sizeof(*auth->secrets));
        auth->secrets[auth->n_secrets++] = es_strdup(secret);
        pthread_mutex_unlock(&auth->secrets_lock);
}

void es_auth_scrub(struct es_auth *auth, char *text)
{
        static const char mask[] = "***";

        if (text == NULL)
                return;
        pthread_mutex_lock(&auth->secrets_lock);
        for (size_t i = 0; i < auth->n_secrets; i++) {
                size_t len = strlen(auth->secrets[i]);
                char *found;

                while ((found = strstr(text, auth->secrets[i])) != NULL) {
                        memcpy(found, mask, sizeof(mask) - 1);
                        memmove(found + sizeof(mask) - 1, found + len, strlen(found + len) + 1);
                }
        }
        pthread_mutex_unlock(&auth->secrets_lock);
}

struct es_auth *es_auth_new(struct es_http *http, const struct es_auth_options *options)
{
        struct es_auth *auth = es_calloc(1, sizeof(*auth));

        auth->http = http;
        auth->registry = es_strdup(options->registry);
        auth->credentials = options->credentials;
        auth->insecure_tls = options->insecure_tls;
        auth->ca_file = options->ca_file ? es_strdup(options->ca_file) : NULL;
        pthread_mutex_init(&auth->lock, NULL);
        pthread_mutex_init(&auth->secrets_lock, NULL);
        return auth;
}

static void token_release(struct cached_token *token)
{
        free(token->scope);
        if (token->header)
                explicit_bzero(token->header, strlen(token->header));
        free(token->header);
}

void es_auth_free(struct es_auth *auth)
{
        if (auth == NULL)
                return;
        for (size_t i = 0; i < auth->n_tokens; i++)
                token_release(&auth->tokens[i]);
        free(auth->tokens);
        for (size_t i = 0; i < auth->n_secrets; i++) {
                explicit_bzero(auth->secrets[i], strlen(auth->secrets[i]));
                free(auth->secrets[i]);
        }
        free(auth->secrets);
        pthread_mutex_destroy(&auth->secrets_lock);
        free(auth->registry);
        free(auth->ca_file);
        free(auth->realm);
        free(auth->service);
        pthread_mutex_destroy(&auth->lock);
        free(auth);
}

static time_t monotonic_now(void)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return now.tv_sec;
}

static char *base64_encode(const char *data, size_t len)
{
        char *out = es_malloc(4 * ((len + 2) / 3) + 1);

        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
        return out;
}

static int get_credentials(struct es_auth *auth, struct es_credentials *out, bool *found,
                           struct es_error *err)
{
        int r;

        *found = false;
        memset(out, 0, sizeof(*out));
        if (auth->credentials == NULL || auth->credentials->get == NULL)
                return 0;
        r = auth->credentials->get(auth->credentials->ctx, auth->registry,
                                   auth->refresh_credentials, out, found, err);
        if (r < 0)
                return es_error_prefix(err, "credentials for '%s'", auth->registry);
        if (*found) {
                remember_secret(auth, out->password);
                remember_secret(auth, out->identity_token);
        }
        auth->refresh_credentials = false;
        return 0;
}

static char *basic_header(const struct es_credentials *credentials)
{
        _cleanup_free_ char *pair =
            es_asprintf("%s:%s", credentials->username ? credentials->username : "",
                        credentials->password ? credentials->password : "");
        _cleanup_free_ char *encoded = base64_encode(pair, strlen(pair));

        explicit_bzero(pair, strlen(pair));
        return es_asprintf("Authorization: Basic %s", encoded);
}

/* The Basic header line for credentials, remembered for es_auth_scrub(). */
static char *basic_header_remembered(struct es_auth *auth, const struct es_credentials *credentials)
{
        char *header = basic_header(credentials);

        remember_secret(auth, header + strlen("Authorization: Basic "));
        return header;
}

/* Tokens go into a header line: reject anything that could split or corrupt it. */
static char *token_url(const struct es_auth *auth, const char *scope, const char *account)
{
        _cleanup_free_ char *scopes = es_strdup(scope);
        char *url = es_strdup(auth->realm), *next, *saveptr = NULL;

        if (auth->service) {
                next = es_url_append_query(url, "service", auth->service);
                free(url);
                url = next;
        }
        for (char *s = strtok_r(scopes, " ", &saveptr); s; s = strtok_r(NULL, " ", &saveptr)) {
                next = es_url_append_query(url, "scope", s);
                free(url);
                url = next;
        }
        if (account) {
                next = es_url_append_query(url, "account", account);
                free(url);
                url = next;
        }
        return url;
}

static int request_token(struct es_auth *auth, const char *scope, char **token, long *lifetime,
                         struct es_error *err)
{
        struct es_credentials credentials = {0};
        struct es_http_response response = {0};
        struct es_http_request request = {
            .method = "GET",
            .max_body = ES_MAX_TOKEN_RESPONSE,
            .insecure_tls = auth->insecure_tls,
            .ca_file = auth->ca_file,
        };
        _cleanup_free_ char *url = NULL, *header = NULL, *form = NULL;
        const char *headers[2];
        bool found;
        int r;

        r = get_credentials(auth, &credentials, &found, err);
        if (r < 0)
                return r;

        if (found && credentials.identity_token) {
                /* OAuth2 refresh-token grant, as Docker's identity tokens need. */
                _cleanup_free_ char *scopes = es_url_append_query("", "scope", scope);
                _cleanup_free_ char *grant =
                    es_url_append_query(scopes, "refresh_token", credentials.identity_token);
                _cleanup_free_ char *full = es_url_append_query(grant, "client_id", "ecr-sync");

                form = es_asprintf("grant_type=refresh_token&service=%s&%s",
                                   auth->service ? auth->service : "", full + 1);
                url = es_strdup(auth->realm);
                headers[0] = "Content-Type: application/x-www-form-urlencoded";
                request.method = "POST";
                request.body = form;
                request.body_len = strlen(form);
                request.headers = headers;
                request.n_headers = 1;
        } else {
                url = token_url(auth, scope, found ? credentials.username : NULL);
                if (found) {
                        header = basic_header_remembered(auth, &credentials);
                        headers[0] = header;
                        request.headers = headers;
                        request.n_headers = 1;
                }
        }
        request.url = url;

        r = es_http_perform(auth->http, &request, &response, err);
        if (form)
                explicit_bzero(form, strlen(form));
        if (header)
                explicit_bzero(header, strlen(header));
        es_credentials_release(&credentials);
        if (r < 0)
                return es_error_prefix(err, "request a token for '%s'", auth->registry);

        if (response.status == 401 || response.status == 403) {
                auth->refresh_credentials = true;
                r = es_error_set(err, ES_ERR_AUTH,
                                 "token request for '%s' (scope '%s') failed with HTTP %ld: %s",
                                 auth->registry, scope, response.status,
                                 found ? "the registry refused the credentials; check them in the "
                                         "Docker config"
                                       : "the registry needs credentials; add them to the Docker "
                                         "config");
                es_error_set_http(err, response.status, NULL);
        } else if (response.status != 200) {
                r = es_error_set(err,
                                 response.status >= 500 || response.status == 429 ? ES_ERR_TRANSIENT
                                                                                  : ES_ERR_PROTOCOL,
                                 "token request for '%s' failed with HTTP %ld", auth->registry,
                                 response.status);
                es_error_set_http(err, response.status, NULL);
        } else if (response.body_truncated) {
                r = es_error_set(err, ES_ERR_PROTOCOL,
                                 "token response for '%s' is larger than %u bytes", auth->registry,
                                 ES_MAX_TOKEN_RESPONSE);
        } else {
                r = es_token_response_parse(response.body.data, response.body.len, auth->realm,
                                            token, lifetime, err);
        }
        es_http_response_release(&response);
        return r;
}

static struct cached_token *find_token(struct es_auth *auth, const char *scope)
{
        for (size_t i = 0; i < auth->n_tokens; i++)
                if (strcmp(auth->tokens[i].scope, scope) == 0)
                        return &auth->tokens[i];
        return NULL;
}

static void drop_token(struct es_auth *auth, const char *scope)
{
        struct cached_token *token = find_token(auth, scope);

        if (token == NULL)
                return;
        token_release(token);
        *token = auth->tokens[--auth->n_tokens];
}

static int bearer_header(struct es_auth *auth, const char *scope, char **out, struct es_error *err)
{
        struct cached_token *cached = find_token(auth, scope);
        _cleanup_free_ char *token = NULL;
        long lifetime = 0, margin;
        int r;

        if (cached && monotonic_now() < cached->refresh_at) {
                *out = es_strdup(cached->header);
                return 0;
        }
        drop_token(auth, scope);

        /* Token servers fail transiently too; retry like other requests, briefly. */
        for (int attempt = 1;; attempt++) {
                r = request_token(auth, scope, &token, &lifetime, err);
                if (r != -ES_ERR_TRANSIENT || attempt == TOKEN_ATTEMPTS)
                        break;
                es_log_debug("auth: %s; retrying", es_error_message(err));
                es_error_release(err);
                nanosleep(&(struct timespec){.tv_nsec = 250000000L * attempt}, NULL);
        }
        if (r < 0)
                return r;

        remember_secret(auth, token);
        /* Refresh a little before expiry so a request never carries a dying token. */
        margin = lifetime / 6 > 1 ? lifetime / 6 : 1;
        auth->tokens = es_realloc(auth->tokens, (auth->n_tokens + 1) * sizeof(*auth->tokens));
        cached = &auth->tokens[auth->n_tokens++];
        cached->scope = es_strdup(scope);
        cached->header = es_asprintf("Authorization: Bearer %s", token);
        cached->refresh_at = monotonic_now() + lifetime - margin;
        explicit_bzero(token, strlen(token));
        es_log_debug("auth: new token for '%s' scope '%s', valid %ld s", auth->registry, scope,
                     lifetime);
        *out = es_strdup(cached->header);
        return 0;
}

int es_auth_header(struct es_auth *auth, const char *scope, char **out, struct es_error *err)
{
        struct es_credentials credentials = {0};
        bool found;
        int r = 0;

        *out = NULL;
        pthread_mutex_lock(&auth->lock);
        switch (auth->scheme) {
        case SCHEME_NONE:
                break;
        case SCHEME_BEARER:
                r = bearer_header(auth, scope, out, err);
                break;
        case SCHEME_BASIC:
                r = get_credentials(auth, &credentials, &found, err);
                if (r >= 0 && found)
                        *out = basic_header_remembered(auth, &credentials);
                es_credentials_release(&credentials);
                break;
        }
        pthread_mutex_unlock(&auth->lock);
        return r;
}

static void set_string(char **field, const char *value)
{
        free(*field);
        *field = value ? es_strdup(value) : NULL;
}

int es_auth_challenge(struct es_auth *auth, const char *www_authenticate, const char *scope,
                      bool sent_credentials, struct es_error *err)
{
        struct es_challenge_list list = {0};
        const struct es_challenge *bearer, *basic;
        int r = 0;

        if (www_authenticate == NULL)
                return es_error_set(err, ES_ERR_AUTH,
                                    "'%s' answered 401 without a WWW-Authenticate challenge",
                                    auth->registry);
        r = es_challenge_parse(www_authenticate, &list, err);
        if (r < 0)
                return es_error_prefix(err, "'%s' sent an unreadable WWW-Authenticate header",
                                       auth->registry);

        pthread_mutex_lock(&auth->lock);
        bearer = es_challenge_find(&list, "bearer");
        basic = es_challenge_find(&list, "basic");
        if (bearer && bearer->realm) {
                _cleanup_free_ char *checked = NULL;

                r = es_url_resolve(bearer->realm, bearer->realm, &checked, err);
                if (r < 0) {
                        r = es_error_prefix(err, "'%s' sent an invalid token realm",
                                            auth->registry);
                } else {
                        auth->scheme = SCHEME_BEARER;
                        set_string(&auth->realm, bearer->realm);
                        set_string(&auth->service, bearer->service);
                        drop_token(auth, scope);
                }
        } else if (basic) {
                if (sent_credentials && auth->scheme == SCHEME_BASIC) {
                        /* The password may have expired (ECR's last 12 hours): the next
                         * request asks the provider for new credentials. */
                        auth->refresh_credentials = true;
                } else {
                        struct es_credentials credentials = {0};
                        bool found = false;

                        auth->scheme = SCHEME_BASIC;
                        r = get_credentials(auth, &credentials, &found, err);
                        es_credentials_release(&credentials);
                        if (r >= 0 && !found)
                                r = es_error_set(err, ES_ERR_AUTH,
                                                 "'%s' requires credentials (HTTP 401); add them "
                                                 "to the Docker config with 'docker login'",
                                                 auth->registry);
                }
        } else if (bearer) {
                r = es_error_set(err, ES_ERR_AUTH,
                                 "'%s' answered 401 with a Bearer challenge that names no "
                                 "realm, so there is no token server to ask",
                                 auth->registry);
        } else {
                r = es_error_set(err, ES_ERR_AUTH,
                                 "'%s' answered 401 with no Bearer or Basic challenge",
                                 auth->registry);
        }
        pthread_mutex_unlock(&auth->lock);
        if (r < 0)
                es_error_set_http(err, 401, NULL);
        es_challenge_list_release(&list);
        return r;
}
