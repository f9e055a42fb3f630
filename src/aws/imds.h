/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EC2 instance metadata (IMDSv2) credentials: PUT /latest/api/token with
 * X-aws-ec2-metadata-token-ttl-seconds, then with X-aws-ec2-metadata-token
 * GET /latest/meta-data/iam/security-credentials/ for the role name and
 * GET .../ROLE for its JSON (Code, AccessKeyId, SecretAccessKey, Token,
 * Expiration). One attempt, as botocore makes by default.
 *
 * The endpoint is AWS_EC2_METADATA_SERVICE_ENDPOINT (with or without a
 * trailing slash), else the profile's ec2_metadata_service_endpoint, else
 * http://[fd00:ec2::254] when the endpoint mode (AWS_EC2_METADATA_SERVICE_
 * ENDPOINT_MODE or ec2_metadata_service_endpoint_mode) is IPv6, else
 * http://169.254.169.254. AWS_EC2_METADATA_DISABLED=true turns the source
 * off.
 *
 * Each request times out after ES_AWS_IMDS_TIMEOUT_MS, as botocore's 1 s
 * default does. NOTE: there is no IMDSv1 fallback.
 */
#ifndef ES_AWS_IMDS_H
#define ES_AWS_IMDS_H

/* Milliseconds for one metadata request, connection included. */
#define ES_AWS_IMDS_TIMEOUT_MS 1000

#include <stdbool.h>

#include "aws/sigv4.h"
#include "base/error.h"
#include "http/http.h"

#define ES_AWS_IMDS_DEFAULT_ENDPOINT      "http://169.254.169.254"
#define ES_AWS_IMDS_DEFAULT_IPV6_ENDPOINT "http://[fd00:ec2::254]"

/* Requested session token lifetime, in seconds (botocore also requests 6 hours). */
#define ES_AWS_IMDS_TOKEN_TTL 21600

/* True when AWS_EC2_METADATA_DISABLED is "true" in any case. */
bool es_aws_imds_disabled(void);

/*
 * The endpoint base URL without a trailing slash, from the environment or
 * the profile values passed (either may be NULL). Returns 0 and *out
 * (caller frees), or -ES_ERR_INVALID for an unknown endpoint mode.
 */
int es_aws_imds_endpoint(const char *profile_endpoint, const char *profile_mode, char **out,
                         struct es_error *err) __attribute__((warn_unused_result));

/*
 * Fetch the instance role's credentials from endpoint. Returns 0 and *out,
 * -ES_ERR_NOT_FOUND when the instance has no role, -ES_ERR_TRANSIENT for
 * network failures and 5xx, -ES_ERR_PROTOCOL for unexpected responses.
 */
int es_aws_imds_credentials(struct es_http *http, const char *endpoint,
                            struct es_aws_credentials *out, struct es_error *err)
    __attribute__((warn_unused_result));

#endif
