/* SPDX-License-Identifier: Apache-2.0 */
/* AWS JSON 1.1 calls with SigV4 and retries. */
#include "aws/json_rpc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/credentials.h"
#include "aws/sigv4.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/limits.h"
#include "base/log.h"

/* Tries per call by default, and the backoff, like the AWS SDKs' standard retry mode. */
#define DEFAULT_ATTEMPTS 5
#define BACKOFF_BASE_MS  200
#define BACKOFF_MAX_MS   20000
/* Largest API response accepted (a page of 1000 image details is well below). */
#define MAX_RESPONSE (16u * 1024 * 1024)

const char *es_aws_error_type(json_t *body)
{
        const char *type = json_string_value(json_object_get(body, "__type"));
        const char *hash;

        if (type == NULL)
                type = json_string_value(json_object_get(body, "code"));
        if (type == NULL)
                return NULL;
        hash = strrchr(type, '#');
        return hash ? hash + 1 : type;
}

static bool is_throttling(const char *type)
{
        static const char *const names[] = {
            "ThrottlingException",      "Throttling",
            "ThrottledException",       "RequestThrottledException",
            "TooManyRequestsException", "ProvisionedThroughputExceededException",
            "RequestLimitExceeded",
        };

        for (size_t i = 0; type && i < ES_ARRAY_SIZE(names); i++)
                if (strcmp(type, names[i]) == 0)
                        return true;
        return false;
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);

        return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The error for a non-200 answer, from the JSON error body when there is one. */
static int api_error(const struct es_aws_service *service, const char *operation, long status,
                     json_t *body, struct es_error *err)
{
        const char *type = es_aws_error_type(body);
        const char *message = json_string_value(json_object_get(body, "message"));
        enum es_error_code code;

        if (message == NULL)
                message = json_string_value(json_object_get(body, "Message"));
        if (message == NULL)
                message = "no message";

        if (type &&
            (strcmp(type, "AccessDeniedException") == 0 || strcmp(type, "AccessDenied") == 0)) {
                es_error_set(err, ES_ERR_AUTH,
                             "%s: access denied: the caller needs the IAM permission '%s:%s' "
                             "(%s)",
                             operation, service->iam_prefix, operation, message);
                es_error_set_http(err, status, type);
                return -ES_ERR_AUTH;
        }

        if (type == NULL)
                code = status >= 500 ? ES_ERR_TRANSIENT : ES_ERR_PROTOCOL;
        else if (ends_with(type, "NotFoundException"))
                code = ES_ERR_NOT_FOUND;
        else if (is_throttling(type) || status == 429)
                code = ES_ERR_RATE_LIMITED;
        else if (strcmp(type, "UnrecognizedClientException") == 0 ||
                 strcmp(type, "InvalidSignatureException") == 0 ||
                 strcmp(type, "ExpiredTokenException") == 0 ||
                 strcmp(type, "InvalidClientTokenId") == 0)
                code = ES_ERR_AUTH;
        else if (status >= 500)
                code = ES_ERR_TRANSIENT;
        else
                code = ES_ERR_INVALID;

        es_error_set(err, code, "%s: HTTP %ld %s: %s", operation, status,
                     type ? type : "(no error type)", message);
        es_error_set_http(err, status, type);
        return -(int)code;
}

static long backoff_ms(int attempt)
{
        long cap = BACKOFF_BASE_MS << attempt;

        if (cap > BACKOFF_MAX_MS)
                cap = BACKOFF_MAX_MS;
        /* Full jitter: anywhere from zero to the cap. */
        return (long)(random() % (cap + 1));
}

/* Sign and send one attempt. *response gets the parsed body (may be NULL). */
static int send_once(const struct es_aws_service *service, const char *operation, const char *body,
                     long *status, json_t **response, struct es_error *err)
{
        struct es_aws_credentials credentials = {0};
        struct es_sigv4_result signature = {0};
        struct es_http_response http_response = {0};
        _cleanup_free_ char *target =
            es_asprintf("X-Amz-Target: %s.%s", service->target_prefix, operation);
        _cleanup_free_ char *date = NULL, *authorization = NULL;
        const char *signed_headers[] = {"Content-Type: application/x-amz-json-1.1", target};
        const char *headers[5];
        size_t n = 0;
        int r;

        r = es_aws_provider_get(service->credentials, &credentials, err);
        if (r < 0)
                return es_error_prefix(err, "%s: AWS credentials", operation);

        r = es_sigv4_sign(
            &(struct es_sigv4_request){
                .method = "POST",
                .url = service->endpoint,
                .headers = signed_headers,
                .n_headers = ES_ARRAY_SIZE(signed_headers),
                .body = body,
                .body_len = strlen(body),
                .region = service->region,
                .service = service->signing_name,
                .timestamp = time(NULL),
                .normalize_path = true,
                .encode_path = true,
                .sign_session_token = true,
            },
            &credentials, &signature, err);
        es_aws_credentials_release(&credentials);
        if (r < 0)
                return es_error_prefix(err, "%s: sign the request", operation);

        date = es_asprintf("X-Amz-Date: %s", signature.amz_date);
        authorization = es_asprintf("Authorization: %s", signature.authorization);
        headers[n++] = signed_headers[0];
        headers[n++] = signed_headers[1];
        headers[n++] = date;
        headers[n++] = authorization;
        if (signature.security_token_header)
                headers[n++] = signature.security_token_header;

        r = es_http_perform(service->http,
                            &(struct es_http_request){
                                .method = "POST",
                                .url = service->endpoint,
                                .headers = headers,
                                .n_headers = n,
                                .body = body,
                                .body_len = strlen(body),
                                .max_body = MAX_RESPONSE,
                            },
                            &http_response, err);
        explicit_bzero(authorization, strlen(authorization));
        es_sigv4_result_release(&signature);
        if (r < 0)
                return es_error_prefix(err, "%s", operation);

        *status = http_response.status;
        *response = NULL;
        if (http_response.body_truncated)
                r = es_error_set(err, ES_ERR_PROTOCOL, "%s: response larger than %u bytes",
                                 operation, MAX_RESPONSE);
        else if (http_response.body.len > 0)
                *response = json_loadb(http_response.body.data, http_response.body.len, 0, NULL);
        es_http_response_release(&http_response);
        return r;
}

int es_aws_json_call(const struct es_aws_service *service, const char *operation, json_t *request,
                     json_t **response, struct es_error *err)
{
        _cleanup_free_ char *body = json_dumps(request, JSON_COMPACT);
        struct es_retry_policy policy = service->retry;
        struct timespec start, now;
        int r = 0;

        if (body == NULL)
                return es_error_set(err, ES_ERR_INVALID, "%s: cannot encode the request",
                                    operation);
        if (policy.attempts <= 0)
                policy.attempts = DEFAULT_ATTEMPTS;
        policy = es_retry_policy_or_default(&policy);
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (int attempt = 0; attempt < policy.attempts; attempt++) {
                json_t *answer = NULL;
                long status = 0;
                bool retry;

                if (attempt > 0) {
                        long wait = backoff_ms(attempt);

                        clock_gettime(CLOCK_MONOTONIC, &now);
                        if (!es_retry_allowed(&policy, attempt - 1,
                                              (double)(now.tv_sec - start.tv_sec), wait))
                                break;
                        es_log_debug("aws: %s: %s, retrying in %ld ms", operation,
                                     es_error_message(err), wait);
                        nanosleep(&(struct timespec){.tv_sec = wait / 1000,
                                                     .tv_nsec = (wait % 1000) * 1000000L},
                                  NULL);
                }

                r = send_once(service, operation, body, &status, &answer, err);
                if (r < 0) {
                        if (r == -ES_ERR_TRANSIENT)
                                continue;
                        return r;
                }
                if (status == 200 && json_is_object(answer)) {
                        *response = answer;
                        return 0;
                }
                if (status == 200) {
                        json_decref(answer);
                        return es_error_set(err, ES_ERR_PROTOCOL,
                                            "%s: the response is not a JSON object", operation);
                }

                r = api_error(service, operation, status, answer, err);
                retry = r == -ES_ERR_TRANSIENT || r == -ES_ERR_RATE_LIMITED;
                json_decref(answer);
                if (!retry)
                        return r;
        }
        return r;
}
