/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test driver for aws/sigv4.c, used by test_sigv4_botocore.py. Reads one JSON
 * request per line on stdin and writes one JSON line per request on stdout:
 * the canonical request, string to sign, signature and headers, or
 * {"error": MESSAGE, "code": N} when signing fails.
 *
 * Input fields: method, url, headers (array of "Name: value" lines),
 * body_hex, payload_hash (string or null), region, service, timestamp
 * (seconds since the epoch), normalize_path, encode_path,
 * sign_session_token, add_content_sha256, access_key_id,
 * secret_access_key, session_token (string or null).
 *
 * It prints canonical requests, which contain the session token: feed it test
 * credentials only.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"
#include "base/alloc.h"
#include "base/cleanup.h"

static const char *get_string(json_t *object, const char *key)
{
        return json_string_value(json_object_get(object, key));
}

static int hex_digit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Decode hex into a new buffer. Returns NULL when the text is not hex. */
static unsigned char *decode_hex(const char *hex, size_t *len)
{
        size_t n = strlen(hex);
        unsigned char *out;

        if (n % 2 != 0)
                return NULL;
        out = es_malloc(n / 2 + 1);
        for (size_t i = 0; i < n / 2; i++) {
                int high = hex_digit(hex[2 * i]), low = hex_digit(hex[2 * i + 1]);

                if (high < 0 || low < 0) {
                        free(out);
                        return NULL;
                }
                out[i] = (unsigned char)(high << 4 | low);
        }
        *len = n / 2;
        return out;
}

static void set_optional_string(json_t *object, const char *key, const char *value)
{
        json_object_set_new(object, key, value ? json_string(value) : json_null());
}

/* Sign one request described by a JSON object and return the JSON reply. */
static json_t *sign_one(json_t *input)
{
        struct es_aws_credentials cred = {
            .access_key_id = (char *)get_string(input, "access_key_id"),
            .secret_access_key = (char *)get_string(input, "secret_access_key"),
            .session_token = (char *)get_string(input, "session_token"),
        };
        struct es_sigv4_request req = {
            .method = get_string(input, "method"),
            .url = get_string(input, "url"),
            .payload_hash = get_string(input, "payload_hash"),
            .region = get_string(input, "region"),
            .service = get_string(input, "service"),
            .timestamp = (time_t)json_integer_value(json_object_get(input, "timestamp")),
            .normalize_path = json_is_true(json_object_get(input, "normalize_path")),
            .encode_path = json_is_true(json_object_get(input, "encode_path")),
            .sign_session_token = json_is_true(json_object_get(input, "sign_session_token")),
            .add_content_sha256 = json_is_true(json_object_get(input, "add_content_sha256")),
        };
        json_t *headers = json_object_get(input, "headers");
        const char *body_hex = get_string(input, "body_hex");
        _cleanup_free_ const char **lines = NULL;
        _cleanup_free_ unsigned char *body = NULL;
        struct es_sigv4_result result = {0};
        struct es_error err = ES_ERROR_INIT;
        json_t *reply;
        size_t body_len = 0;
        int r;

        if (body_hex != NULL && body_hex[0] != '\0') {
                body = decode_hex(body_hex, &body_len);
                if (body == NULL)
                        return json_pack("{s:s, s:i}", "error", "body_hex is not hex", "code", -1);
                req.body = body;
                req.body_len = body_len;
        }

        req.n_headers = json_array_size(headers);
        lines = es_calloc(req.n_headers + 1, sizeof(*lines));
        for (size_t i = 0; i < req.n_headers; i++)
                lines[i] = json_string_value(json_array_get(headers, i));
        req.headers = lines;

        r = es_sigv4_sign(&req, &cred, &result, &err);
        if (r < 0) {
                reply = json_pack("{s:s, s:i}", "error", es_error_message(&err), "code", -r);
                es_error_release(&err);
                return reply;
        }

        reply = json_object();
        json_object_set_new(reply, "canonical_request", json_string(result.canonical_request));
        json_object_set_new(reply, "string_to_sign", json_string(result.string_to_sign));
        json_object_set_new(reply, "signature", json_string(result.signature));
        json_object_set_new(reply, "amz_date", json_string(result.amz_date));
        json_object_set_new(reply, "authorization", json_string(result.authorization));
        set_optional_string(reply, "security_token_header", result.security_token_header);
        set_optional_string(reply, "content_sha256_header", result.content_sha256_header);
        es_sigv4_result_release(&result);
        return reply;
}

int main(void)
{
        char *line = NULL;
        size_t size = 0;
        ssize_t len;
        int status = 0;

        while ((len = getline(&line, &size, stdin)) > 0) {
                json_error_t json_err;
                json_t *input = json_loadb(line, (size_t)len, 0, &json_err);
                json_t *reply;
                char *text;

                if (input == NULL || !json_is_object(input)) {
                        fprintf(stderr, "sigv4-tool: invalid JSON request: %s\n", json_err.text);
                        json_decref(input);
                        status = 2;
                        break;
                }
                reply = sign_one(input);
                text = json_dumps(reply, JSON_COMPACT | JSON_ENSURE_ASCII);
                puts(text);
                free(text);
                json_decref(reply);
                json_decref(input);
        }
        free(line);
        if (fflush(stdout) != 0)
                status = 2;
        return status;
}
