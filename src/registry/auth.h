/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registry authentication: Basic and Bearer challenges, token requests and
 * a token cache per scope. One es_auth serves one registry for the whole
 * run and is shared by every thread.
 *
 * A scope is a space-separated list of OAuth2 scopes, e.g.
 * "repository:team/app:pull,push repository:base/os:pull"; each becomes a
 * repeated scope= parameter of the token request.
 */
#ifndef ES_REGISTRY_AUTH_H
#define ES_REGISTRY_AUTH_H

#include <stdbool.h>

#include "base/error.h"
#include "http/http.h"
#include "registry/credentials.h"

struct es_auth;

struct es_auth_options {
        const char *registry; /* name used to look up credentials, e.g. "docker.io" */
        const struct es_credential_provider *credentials; /* may be NULL */
        bool insecure_tls;   /* the token realm may present an unverifiable certificate */
        const char *ca_file; /* CA bundle for the token realm; NULL: the HTTP client's */
};

/* Create the state for one registry. http must outlive it. Free with es_auth_free(). */
struct es_auth *es_auth_new(struct es_http *http, const struct es_auth_options *options);
void es_auth_free(struct es_auth *auth);

/*
 * Return in *out the header line "Authorization: ..." to send with a request
 * that needs scope, fetching or refreshing a token when needed, or NULL when
 * no challenge has been seen (send the request anonymously). The line holds
 * a secret: send it, never log it. Caller frees.
 */
int es_auth_header(struct es_auth *auth, const char *scope, char **out, struct es_error *err);

/*
 * Learn from a 401 response: www_authenticate is its joined WWW-Authenticate
 * value (NULL when absent), scope what the request needed, sent_credentials
 * whether the request carried an Authorization header. Drops the cached
 * token for scope; after refused Basic credentials, the provider is asked
 * for new ones. Returns 0 when the caller should retry once with a new
 * es_auth_header(), or ES_ERR_AUTH when retrying cannot help: no usable
 * challenge, or Basic auth without credentials.
 */
int es_auth_challenge(struct es_auth *auth, const char *www_authenticate, const char *scope,
                      bool sent_credentials, struct es_error *err);

/*
 * Replace in text (in place) every secret this es_auth has sent or
 * received: passwords, identity tokens, Basic values and tokens. For
 * messages built from what a registry answered, which may echo them.
 * Thread-safe.
 */
void es_auth_scrub(struct es_auth *auth, char *text);

#endif
