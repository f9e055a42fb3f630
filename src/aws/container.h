/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container credentials: the ECS task role endpoint and EKS Pod Identity.
 *
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is a path on the ECS agent at
 * http://169.254.170.2. Otherwise AWS_CONTAINER_CREDENTIALS_FULL_URI is a
 * whole URL, accepted like botocore accepts it: any https URL, or http to a
 * loopback address (127.0.0.0/8, ::1, localhost) or to the ECS and EKS
 * agents (169.254.170.2, 169.254.170.23, fd00:ec2::23). A FULL_URI request
 * carries an Authorization header from the file named by
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, re-read on each fetch because the
 * agent rotates it, or else from AWS_CONTAINER_AUTHORIZATION_TOKEN.
 *
 * The response is JSON: AccessKeyId, SecretAccessKey, Token, Expiration.
 */
#ifndef ES_AWS_CONTAINER_H
#define ES_AWS_CONTAINER_H

#include <stdbool.h>

#include "aws/sigv4.h"
#include "base/error.h"
#include "http/http.h"

#define ES_AWS_ECS_AGENT_URL "http://169.254.170.2"

/* Endpoint and authorization of the container source, from the environment. */
struct es_aws_container_config {
        char *url;            /* owned */
        const char *variable; /* the variable that set url; a static string */
        char *token;          /* owned, a secret; from AWS_CONTAINER_AUTHORIZATION_TOKEN, or NULL */
        char *token_file;     /* owned; AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, or NULL */
};

/*
 * Read the container variables. Sets *found to false when neither URI
 * variable is set. Returns 0, or -ES_ERR_INVALID for a relative URI not
 * starting with '/', a FULL_URI that is not a valid URL or not allowed (the
 * host is never contacted), or a token with a line break. Release *out with
 * es_aws_container_config_release() when found.
 */
int es_aws_container_config_from_env(struct es_aws_container_config *out, bool *found,
                                     struct es_error *err) __attribute__((warn_unused_result));

void es_aws_container_config_release(struct es_aws_container_config *config);

/* Check a FULL_URI against the rules above. Returns 0 or -ES_ERR_INVALID. */
int es_aws_container_check_url(const char *url, struct es_error *err)
    __attribute__((warn_unused_result));

/*
 * Fetch credentials (one retry after a network failure or a 5xx). Returns
 * 0 and *out, -ES_ERR_AUTH when the endpoint rejects the token,
 * -ES_ERR_TRANSIENT, or -ES_ERR_PROTOCOL for an unreadable response.
 */
int es_aws_container_credentials(struct es_http *http, const struct es_aws_container_config *config,
                                 struct es_aws_credentials *out, struct es_error *err)
    __attribute__((warn_unused_result));

#endif
