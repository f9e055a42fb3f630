/* SPDX-License-Identifier: Apache-2.0 */
/* STS AssumeRole and AssumeRoleWithWebIdentity over the query API. */
#include "aws/sts.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/endpoint.h"
#include "aws/source.h"
#include "aws/xml.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/log.h"

#define STS_VERSION  "2011-06-15"
#define CONTENT_TYPE "Content-Type: application/x-www-form-urlencoded; charset=utf-8"
#define MAX_ATTEMPTS 3
/* Maximum length of an STS error message kept, in bytes. */
#define MAX_MESSAGE 400

/* STS error codes that mean the credentials or the token were not accepted. */
static const char *const auth_codes[] = {
    "AccessDenied",
    "ExpiredToken",
    "ExpiredTokenException",
    "IncompleteSignature",
    "InvalidClientTokenId",
    "InvalidIdentityToken",
    "IDPRejectedClaim",
    "MissingAuthenticationToken",
    "RegionDisabledException",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
};

static const char *const throttling_codes[] = {
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
};

static bool code_in(const char *code, const char *const *list, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(code, list[i]) == 0)
                        return true;
        return false;
}

static enum es_error_code classify(long status, const char *code)
{
        if (code != NULL && code_in(code, auth_codes, ES_ARRAY_SIZE(auth_codes)))
                return ES_ERR_AUTH;
        if (code != NULL && code_in(code, throttling_codes, ES_ARRAY_SIZE(throttling_codes)))
                return ES_ERR_RATE_LIMITED;
        if ((code != NULL && strcmp(code, "IDPCommunicationError") == 0) || status >= 500)
                return ES_ERR_TRANSIENT;
        if (status == 401 || status == 403)
                return ES_ERR_AUTH;
        if (status == 429)
                return ES_ERR_RATE_LIMITED;
        return ES_ERR_INVALID;
}

/* Shorten a service message and replace control characters. */
static char *clean_message(const char *message)
{
        size_t len = strlen(message);
        char *copy = es_strndup(message, len > MAX_MESSAGE ? MAX_MESSAGE : len);

        for (char *p = copy; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = ' ';
        return copy;
}

static int parse_error(long status, const char *body, size_t len, struct es_error *err)
{
        struct es_aws_xml_field fields[] = {
            {"/ErrorResponse/Error/Code", NULL},
            {"/ErrorResponse/Error/Message", NULL},
            {"/Error/Code", NULL},
            {"/Error/Message", NULL},
        };
        _cleanup_free_ char *message = NULL;
        const char *code;
        int r;

        if (len == 0 || es_aws_xml_extract(body, len, fields, ES_ARRAY_SIZE(fields), NULL) < 0) {
                r = es_error_set(err, classify(status, NULL), "HTTP %ld without a readable error",
                                 status);
                es_error_set_http(err, status, NULL);
                return r;
        }
        code = fields[0].value ? fields[0].value : fields[2].value;
        message = clean_message(fields[1].value   ? fields[1].value
                                : fields[3].value ? fields[3].value
                                                  : "");
        if (code != NULL && code[0] != '\0')
                r = es_error_set(err, classify(status, code), "%ld %s%s%s", status, code,
                                 message[0] ? ": " : "", message);
        else
                r = es_error_set(err, classify(status, NULL), "HTTP %ld%s%s", status,
                                 message[0] ? ": " : "", message);
        es_error_set_http(err, status, code && code[0] ? code : NULL);
        es_aws_xml_fields_release(fields, ES_ARRAY_SIZE(fields));
        return r;
}

int es_aws_sts_parse_response(const char *action, long status, const char *body, size_t len,
                              struct es_aws_credentials *out, struct es_error *err)
{
        _cleanup_free_ char *prefix = NULL;
        struct es_aws_xml_field fields[4];
        struct es_aws_credentials credentials = {0};
        const char *names[] = {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"};
        int r;

        if (status < 200 || status > 299)
                return parse_error(status, body, len, err);

        prefix = es_asprintf("/%sResponse/%sResult/Credentials/", action, action);
        for (size_t i = 0; i < ES_ARRAY_SIZE(fields); i++) {
                fields[i].path = es_asprintf("%s%s", prefix, names[i]);
                fields[i].value = NULL;
        }
        r = es_aws_xml_extract(body, len, fields, ES_ARRAY_SIZE(fields), err);
        if (r < 0)
                goto done;
        for (size_t i = 0; i < ES_ARRAY_SIZE(fields); i++) {
                if (fields[i].value == NULL || fields[i].value[0] == '\0') {
                        r = es_error_set(err, ES_ERR_PROTOCOL,
                                         "the response has no %sResult/Credentials/%s", action,
                                         names[i]);
                        goto done;
                }
        }
        if (es_aws_time_parse(fields[3].value, &credentials.expiration) < 0) {
                r = es_error_set(err, ES_ERR_PROTOCOL,
                                 "the response's Expiration \"%.40s\" is not an ISO 8601 time",
                                 fields[3].value);
                goto done;
        }
        credentials.access_key_id = fields[0].value;
        credentials.secret_access_key = fields[1].value;
        credentials.session_token = fields[2].value;
        fields[0].value = fields[1].value = fields[2].value = NULL;
        r = es_aws_credentials_check(&credentials, "the STS response", err);
        if (r < 0) {
                es_aws_credentials_release(&credentials);
                goto done;
        }
        *out = credentials;

done:
        es_aws_xml_fields_release(fields, ES_ARRAY_SIZE(fields));
        for (size_t i = 0; i < ES_ARRAY_SIZE(fields); i++)
                free((char *)fields[i].path);
        return r;
}

/* The form body shared by both actions; the token (if any) is appended by the caller. */
static void build_body(struct es_buf *body, const char *action,
                       const struct es_aws_assume_role *params)
{
        _cleanup_free_ char *role = es_aws_url_encode(params->role_arn);
        _cleanup_free_ char *session = es_aws_url_encode(params->role_session_name);

        es_buf_printf(body, "Action=%s&Version=%s&RoleArn=%s&RoleSessionName=%s", action,
                      STS_VERSION, role, session);
        if (params->duration_seconds > 0)
                es_buf_printf(body, "&DurationSeconds=%d", params->duration_seconds);
        if (params->external_id != NULL) {
                _cleanup_free_ char *external_id = es_aws_url_encode(params->external_id);

                es_buf_printf(body, "&ExternalId=%s", external_id);
        }
}

/* POST one attempt; source is NULL for the unsigned AssumeRoleWithWebIdentity. */
static int post_once(struct es_http *http, const char *url, const char *region,
                     const struct es_aws_credentials *source, const struct es_buf *body,
                     const char *action, struct es_aws_credentials *out, struct es_error *err)
{
        const char *signed_headers[] = {CONTENT_TYPE};
        struct es_sigv4_result signature = {0};
        struct es_http_response response = {0};
        _cleanup_free_ char *date = NULL, *authorization = NULL;
        const char *headers[4] = {CONTENT_TYPE};
        size_t n_headers = 1;
        int r;

        if (source != NULL) {
                struct es_sigv4_request request = {
                    .method = "POST",
                    .url = url,
                    .headers = signed_headers,
                    .n_headers = ES_ARRAY_SIZE(signed_headers),
                    .body = body->data,
                    .body_len = body->len,
                    .region = region,
                    .service = "sts",
                    .timestamp = time(NULL),
                    .normalize_path = true,
                    .encode_path = true,
                    .sign_session_token = true,
                };

                r = es_sigv4_sign(&request, source, &signature, err);
                if (r < 0)
                        return es_error_prefix(err, "sign the request");
                date = es_asprintf("X-Amz-Date: %s", signature.amz_date);
                authorization = es_asprintf("Authorization: %s", signature.authorization);
                headers[n_headers++] = date;
                headers[n_headers++] = authorization;
                if (signature.security_token_header)
                        headers[n_headers++] = signature.security_token_header;
        }

        struct es_http_request request = {
            .method = "POST",
            .url = url,
            .headers = headers,
            .n_headers = n_headers,
            .body = body->data,
            .body_len = body->len,
            .max_body = ES_AWS_MAX_CREDENTIALS_RESPONSE,
        };
        r = es_http_perform(http, &request, &response, err);
        if (authorization)
                explicit_bzero(authorization, strlen(authorization));
        es_sigv4_result_release(&signature);
        if (r < 0)
                return r;
        if (response.body_truncated)
                r = es_error_set(err, ES_ERR_PROTOCOL, "the response is larger than %u bytes",
                                 ES_AWS_MAX_CREDENTIALS_RESPONSE);
        else
                r = es_aws_sts_parse_response(action, response.status, response.body.data,
                                              response.body.len, out, err);
        if (response.body.data)
                explicit_bzero(response.body.data, response.body.alloc);
        es_http_response_release(&response);
        return r;
}

static int post_with_retries(struct es_http *http, const char *region,
                             const struct es_aws_credentials *source, const struct es_buf *body,
                             const char *action, const struct es_aws_assume_role *params,
                             struct es_aws_credentials *out, struct es_error *err)
{
        _cleanup_free_ char *endpoint = es_aws_endpoint_url("sts", region);
        _cleanup_free_ char *url = NULL;
        int r = 0;

        if (endpoint == NULL)
                return es_error_set(err, ES_ERR_INVALID, "invalid region \"%s\"", region);
        url = es_asprintf("%s/", endpoint);

        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
                es_log_debug("aws: STS %s for \"%s\" in %s (attempt %d)", action, params->role_arn,
                             region, attempt);
                r = post_once(http, url, region, source, body, action, out, err);
                if (r == 0)
                        return 0;
                if ((r != -ES_ERR_TRANSIENT && r != -ES_ERR_RATE_LIMITED) ||
                    attempt == MAX_ATTEMPTS)
                        break;
                es_log_debug("aws: STS %s failed, retrying: %s", action, es_error_message(err));
                nanosleep(&(struct timespec){.tv_nsec = 250L * 1000 * 1000 * attempt}, NULL);
        }
        return es_error_prefix(err, "STS %s for \"%s\"", action, params->role_arn);
}

int es_aws_sts_assume_role(struct es_http *http, const char *region,
                           const struct es_aws_credentials *source,
                           const struct es_aws_assume_role *params, struct es_aws_credentials *out,
                           struct es_error *err)
{
        struct es_buf body = ES_BUF_INIT(0);
        int r;

        build_body(&body, "AssumeRole", params);
        r = post_with_retries(http, region, source, &body, "AssumeRole", params, out, err);
        es_buf_release(&body);
        return r;
}

int es_aws_sts_assume_role_with_web_identity(struct es_http *http, const char *region,
                                             const struct es_aws_assume_role *params,
                                             const char *token, struct es_aws_credentials *out,
                                             struct es_error *err)
{
        struct es_buf body = ES_BUF_INIT(0);
        char *encoded = es_aws_url_encode(token);
        int r;

        build_body(&body, "AssumeRoleWithWebIdentity", params);
        es_buf_puts(&body, "&WebIdentityToken=");
        es_buf_puts(&body, encoded);
        es_aws_secret_free(encoded);
        r = post_with_retries(http, region, NULL, &body, "AssumeRoleWithWebIdentity", params, out,
                              err);
        explicit_bzero(body.data, body.alloc);
        es_buf_release(&body);
        return r;
}
