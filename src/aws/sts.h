/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AWS STS through its query API: AssumeRole (SigV4-signed with the source
 * credentials, service "sts") and AssumeRoleWithWebIdentity (unsigned). Both
 * are POSTed as form bodies to the STS endpoint of es_aws_endpoint_url(), so
 * the web identity token never appears in a URL. Throttling, 5xx and
 * network failures are tried 3 times in all.
 */
#ifndef ES_AWS_STS_H
#define ES_AWS_STS_H

#include <stddef.h>

#include "aws/sigv4.h"
#include "base/error.h"
#include "http/http.h"

struct es_aws_assume_role {
        const char *role_arn;
        const char *role_session_name;
        const char *external_id; /* NULL: none */
        int duration_seconds;    /* 0: the role's default (STS uses 3600) */
};

/*
 * Call AssumeRole in region with source as the caller's credentials.
 * Returns 0 and *out (release with es_aws_credentials_release), or an
 * error naming the role and STS's error code and message: -ES_ERR_AUTH for
 * denied or invalid credentials, -ES_ERR_RATE_LIMITED, -ES_ERR_TRANSIENT,
 * -ES_ERR_PROTOCOL for an unreadable response, -ES_ERR_INVALID otherwise.
 */
int es_aws_sts_assume_role(struct es_http *http, const char *region,
                           const struct es_aws_credentials *source,
                           const struct es_aws_assume_role *params, struct es_aws_credentials *out,
                           struct es_error *err) __attribute__((warn_unused_result));

/* Call AssumeRoleWithWebIdentity with token (a secret). Errors as for es_aws_sts_assume_role(). */
int es_aws_sts_assume_role_with_web_identity(struct es_http *http, const char *region,
                                             const struct es_aws_assume_role *params,
                                             const char *token, struct es_aws_credentials *out,
                                             struct es_error *err)
    __attribute__((warn_unused_result));

/*
 * Read an STS response to action ("AssumeRole" or
 * "AssumeRoleWithWebIdentity") with HTTP status: the Credentials of
 * <ACTIONResponse><ACTIONResult> for a 2xx, else the Code and Message of an
 * <ErrorResponse><Error> (or a bare <Error>), mapped to an error code as
 * above with the STS code as the error's registry_code. Exposed for tests.
 */
int es_aws_sts_parse_response(const char *action, long status, const char *body, size_t len,
                              struct es_aws_credentials *out, struct es_error *err)
    __attribute__((warn_unused_result));

#endif
