/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IAM Identity Center (SSO) credentials: the access token that `aws sso
 * login` cached, exchanged for role credentials with GetRoleCredentials.
 *
 * The token is read from ~/.aws/sso/cache/SHA1.json, where SHA1 is the
 * lowercase hex SHA-1 of the sso-session name (profiles with `sso_session`)
 * or of the start URL (legacy profiles with `sso_start_url`). The file is
 * re-read on every fetch, so a new `aws sso login` takes effect at once.
 *
 * NOTE: an expired token is an error asking for `aws sso login`; the
 * refresh token that sso-session logins also cache is not used.
 */
#ifndef ES_AWS_SSO_H
#define ES_AWS_SSO_H

#include "aws/sigv4.h"
#include "base/error.h"
#include "http/http.h"

struct es_aws_sso_params {
        const char *session_name; /* the sso-session, or NULL for a legacy profile */
        const char *start_url;    /* sso_start_url */
        const char *region;       /* sso_region: where the portal endpoint is */
        const char *account_id;   /* sso_account_id */
        const char *role_name;    /* sso_role_name */
        const char *profile;      /* for the `aws sso login --profile` hint */
};

/* The token cache file for a session name or start URL. Caller frees; NULL without a home
 * directory. */
char *es_aws_sso_cache_path(const char *cache_key);

/*
 * Fetch role credentials. Returns 0 and *out (release with
 * es_aws_credentials_release), -ES_ERR_AUTH when the cached token is
 * missing, expired or rejected (the message suggests `aws sso login`),
 * -ES_ERR_TRANSIENT, or -ES_ERR_PROTOCOL for unreadable responses.
 */
int es_aws_sso_credentials(struct es_http *http, const struct es_aws_sso_params *params,
                           struct es_aws_credentials *out, struct es_error *err)
    __attribute__((warn_unused_result));

#endif
