/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AWS JSON 1.1 calls: POST / with X-Amz-Target: PREFIX.Operation, a JSON
 * body, SigV4-signed. ECR and Secrets Manager speak this protocol.
 *
 * Throttling errors, 5xx and network failures are retried with exponential
 * backoff and full jitter, within the service's retry policy; other errors are returned with the
 * service's error type (the part of "__type" after any '#') as the error's registry_code.
 */
#ifndef ES_AWS_JSON_RPC_H
#define ES_AWS_JSON_RPC_H

#include <jansson.h>

#include "base/error.h"
#include "base/retry.h"
#include "http/http.h"

struct es_aws_provider;

struct es_aws_service {
        struct es_http *http;
        struct es_aws_provider *credentials;
        char *endpoint;               /* "https://api.ecr.eu-west-1.amazonaws.com", owned */
        char *region;                 /* owned */
        const char *signing_name;     /* "ecr", "secretsmanager" */
        const char *target_prefix;    /* "AmazonEC2ContainerRegistry_V20150921" */
        const char *iam_prefix;       /* "ecr": names IAM actions in messages */
        struct es_retry_policy retry; /* zero: 5 tries within 120 s */
};

/*
 * Call operation with the JSON object request (borrowed). On success *response
 * is the parsed JSON object (caller decrefs). Errors:
 * ES_ERR_NOT_FOUND for *NotFoundException, ES_ERR_AUTH for access denied or
 * bad credentials (the message names the IAM action), ES_ERR_RATE_LIMITED
 * when throttling outlasted the retries, ES_ERR_INVALID for
 * InvalidParameterException and other client errors, ES_ERR_TRANSIENT for
 * 5xx and network failures after the retries. Thread-safe.
 */
int es_aws_json_call(const struct es_aws_service *service, const char *operation, json_t *request,
                     json_t **response, struct es_error *err);

/* The error type of a JSON error body: "__type" after any '#', or "code". NULL when absent. */
const char *es_aws_error_type(json_t *body);

#endif
