/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for SigV4 signing (aws/sigv4.c): URL splitting, path and query
 * canonicalisation, header parsing and folding. Input, line by line:
 *
 *   METHOD
 *   URL
 *   Name: value            (zero or more header lines; a line starting
 *    folded continuation    with a space or tab continues the header above)
 *                          (an empty line)
 *   BODY                   (the rest of the input, bytes as they are)
 *
 * Each request is signed twice with fixed credentials and a fixed time: as
 * for ECR, and as for S3 (no path normalisation or extra encoding, an
 * unsigned payload and X-Amz-Content-SHA256). Signing the same request again
 * must give the same signature.
 */
#include <stdbool.h>
#include <string.h>

#include "aws/sigv4.h"
#include "fuzz.h"

#define MAX_HEADERS 32

/* AWS's published example credentials, which its SigV4 test suite also uses. */
#define ACCESS_KEY_ID "AKIDEXAMPLE"
#define SECRET_KEY    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SESSION_TOKEN "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW"

/* 2015-08-30T12:36:00Z, the time of every case in AWS's SigV4 test suite. */
#define TIMESTAMP 1440938160
#define AMZ_DATE  "20150830T123600Z"

static bool is_lower_hex(const char *text, size_t len)
{
        if (strlen(text) != len)
                return false;
        for (size_t i = 0; i < len; i++) {
                if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
                        return false;
        }
        return true;
}

static bool has_prefix(const char *text, const char *prefix)
{
        return strncmp(text, prefix, strlen(prefix)) == 0;
}

static void check_result(const struct es_sigv4_request *req, const struct es_sigv4_result *result,
                         bool input_has_secret)
{
        if (!is_lower_hex(result->signature, 64))
                abort();
        if (strcmp(result->amz_date, AMZ_DATE) != 0)
                abort();
        if (!has_prefix(result->canonical_request, req->method) ||
            result->canonical_request[strlen(req->method)] != '\n')
                abort();
        if (!has_prefix(result->string_to_sign, "AWS4-HMAC-SHA256\n" AMZ_DATE "\n"))
                abort();
        if (!has_prefix(result->authorization, "AWS4-HMAC-SHA256 Credential=" ACCESS_KEY_ID "/"))
                abort();
        if (!input_has_secret && (strstr(result->authorization, SECRET_KEY) != NULL ||
                                  strstr(result->string_to_sign, SECRET_KEY) != NULL))
                abort();
        if (result->security_token_header == NULL)
                abort();
        if (req->add_content_sha256 != (result->content_sha256_header != NULL))
                abort();
}

/*
 * Sign req and check the result. input_has_secret is true when the input itself
 * contains a secret, which messages and headers may then quote legitimately.
 */
static void sign(struct es_sigv4_request *req, const struct es_aws_credentials *cred,
                 bool input_has_secret)
{
        struct es_sigv4_result result = {0}, again = {0};
        struct es_error err = ES_ERROR_INIT;

        if (es_sigv4_sign(req, cred, &result, &err) < 0) {
                if (err.message == NULL || result.signature != NULL)
                        abort();
                if (!input_has_secret && (strstr(err.message, SECRET_KEY) != NULL ||
                                          strstr(err.message, SESSION_TOKEN) != NULL))
                        abort();
                es_error_release(&err);
                return;
        }

        check_result(req, &result, input_has_secret);
        if (es_sigv4_sign(req, cred, &again, &err) < 0 ||
            strcmp(again.signature, result.signature) != 0)
                abort();

        es_sigv4_result_release(&again);
        es_sigv4_result_release(&result);
        es_error_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *input = (const char *)data;
        const char *end = input + size;
        const char *p = input;
        char *method = NULL, *url = NULL;
        char *headers[MAX_HEADERS];
        size_t n_headers = 0;
        struct es_aws_credentials cred = {
            .access_key_id = (char *)ACCESS_KEY_ID,
            .secret_access_key = (char *)SECRET_KEY,
            .session_token = (char *)SESSION_TOKEN,
        };
        struct es_sigv4_request req = {
            .region = "us-east-1",
            .service = "ecr",
            .timestamp = TIMESTAMP,
        };
        char **lines[2] = {&method, &url};
        bool input_has_secret = memmem(data, size, SECRET_KEY, strlen(SECRET_KEY)) != NULL ||
                                memmem(data, size, SESSION_TOKEN, strlen(SESSION_TOKEN)) != NULL;

        /* The method and URL lines. An embedded NUL ends a line's string early. */
        for (size_t i = 0; i < 2; i++) {
                const char *newline = memchr(p, '\n', (size_t)(end - p));
                const char *line_end = newline ? newline : end;

                *lines[i] = es_strndup(p, (size_t)(line_end - p));
                p = newline ? newline + 1 : end;
        }

        /* Header lines up to an empty line. A line starting with blanks continues the last one. */
        while (p < end && *p != '\n') {
                const char *newline = memchr(p, '\n', (size_t)(end - p));
                const char *line_end = newline ? newline : end;
                char *line = es_strndup(p, (size_t)(line_end - p));

                if ((*p == ' ' || *p == '\t') && n_headers > 0) {
                        char *joined = es_asprintf("%s\n%s", headers[n_headers - 1], line);

                        free(headers[n_headers - 1]);
                        headers[n_headers - 1] = joined;
                        free(line);
                } else if (n_headers < MAX_HEADERS) {
                        headers[n_headers++] = line;
                } else {
                        free(line);
                }
                p = newline ? newline + 1 : end;
        }
        if (p < end)
                p++;

        req.method = method;
        req.url = url;
        req.headers = (const char *const *)headers;
        req.n_headers = n_headers;
        req.body = p;
        req.body_len = (size_t)(end - p);

        req.normalize_path = true;
        req.encode_path = true;
        req.sign_session_token = true;
        sign(&req, &cred, input_has_secret);

        req.normalize_path = false;
        req.encode_path = false;
        req.sign_session_token = false;
        req.add_content_sha256 = true;
        req.payload_hash = "UNSIGNED-PAYLOAD";
        sign(&req, &cred, input_has_secret);

        for (size_t i = 0; i < n_headers; i++)
                free(headers[i]);
        free(method);
        free(url);
        return 0;
}
