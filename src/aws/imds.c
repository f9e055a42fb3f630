/* SPDX-License-Identifier: Apache-2.0 */
/* EC2 instance metadata (IMDSv2) credentials. */
#include "aws/imds.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/source.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/log.h"

#define TOKEN_PATH       "/latest/api/token"
#define CREDENTIALS_PATH "/latest/meta-data/iam/security-credentials/"
/* Maximum size of a metadata session token, in bytes: a generous bound, not a documented one. */
#define MAX_TOKEN 4096

static const char *env_value(const char *name)
{
        const char *value = getenv(name);

        return value != NULL && value[0] != '\0' ? value : NULL;
}

bool es_aws_imds_disabled(void)
{
        const char *value = getenv("AWS_EC2_METADATA_DISABLED");

        return value != NULL && strcasecmp(value, "true") == 0;
}

int es_aws_imds_endpoint(const char *profile_endpoint, const char *profile_mode, char **out,
                         struct es_error *err)
{
        const char *endpoint = env_value("AWS_EC2_METADATA_SERVICE_ENDPOINT");
        const char *mode = env_value("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
        size_t len;

        if (endpoint == NULL && profile_endpoint != NULL && profile_endpoint[0] != '\0')
                endpoint = profile_endpoint;
        if (mode == NULL && profile_mode != NULL && profile_mode[0] != '\0')
                mode = profile_mode;

        if (endpoint == NULL) {
                if (mode == NULL || strcasecmp(mode, "IPv4") == 0)
                        endpoint = ES_AWS_IMDS_DEFAULT_ENDPOINT;
                else if (strcasecmp(mode, "IPv6") == 0)
                        endpoint = ES_AWS_IMDS_DEFAULT_IPV6_ENDPOINT;
                else
                        return es_error_set(err, ES_ERR_INVALID,
                                            "invalid EC2 metadata endpoint mode \"%s\"; expected "
                                            "IPv4 or IPv6",
                                            mode);
        }
        len = strlen(endpoint);
        while (len > 0 && endpoint[len - 1] == '/')
                len--;
        *out = es_strndup(endpoint, len);
        return 0;
}

static enum es_error_code status_code(long status)
{
        if (status == 404)
                return ES_ERR_NOT_FOUND;
        if (status == 401 || status == 403)
                return ES_ERR_AUTH;
        if (status == 429)
                return ES_ERR_RATE_LIMITED;
        if (status >= 500)
                return ES_ERR_TRANSIENT;
        return ES_ERR_PROTOCOL;
}

/* Perform one request and return its 200 body (a secret for the token and the credentials). */
static int request_body(struct es_http *http, const char *method, const char *url,
                        const char *header, const char *what, char **out, struct es_error *err)
{
        const char *headers[] = {header};
        struct es_http_request request = {
            .method = method,
            .url = url,
            .headers = headers,
            .n_headers = 1,
            .max_body = ES_AWS_MAX_CREDENTIALS_RESPONSE,
            /* Off EC2 nothing answers: give up as fast as botocore does. */
            .connect_timeout_ms = ES_AWS_IMDS_TIMEOUT_MS,
            .timeout_ms = ES_AWS_IMDS_TIMEOUT_MS,
        };
        struct es_http_response response = {0};
        int r;

        r = es_http_perform(http, &request, &response, err);
        if (r < 0)
                return es_error_prefix(err, "%s", what);
        if (response.body_truncated)
                r = es_error_set(err, ES_ERR_PROTOCOL, "%s: the response is larger than %u bytes",
                                 what, ES_AWS_MAX_CREDENTIALS_RESPONSE);
        else if (response.status != 200)
                r = es_error_set(err, status_code(response.status), "%s: HTTP %ld", what,
                                 response.status);
        else if (es_buf_has_nul(&response.body))
                r = es_error_set(err, ES_ERR_PROTOCOL, "%s: the response contains a NUL byte",
                                 what);
        if (r == 0) {
                *out = es_strndup(response.body.data ? response.body.data : "", response.body.len);
        } else {
                es_error_set_http(err, response.status, NULL);
        }
        if (response.body.data)
                explicit_bzero(response.body.data, response.body.alloc);
        es_http_response_release(&response);
        return r;
}

/* The first line of text, trimmed, or NULL when empty. Caller frees. */
static char *first_line(const char *text)
{
        size_t start = strspn(text, " \t\r\n");
        size_t len = strcspn(text + start, "\r\n");

        while (len > 0 && (text[start + len - 1] == ' ' || text[start + len - 1] == '\t'))
                len--;
        return len ? es_strndup(text + start, len) : NULL;
}

static bool role_name_is_valid(const char *name)
{
        for (const char *p = name; *p; p++)
                if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '/' ||
                    *p == '?' || *p == '#' || *p == '%')
                        return false;
        return name[0] != '\0' && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

int es_aws_imds_credentials(struct es_http *http, const char *endpoint,
                            struct es_aws_credentials *out, struct es_error *err)
{
        static const struct es_aws_json_names names = {
            .access_key_id = "AccessKeyId",
            .secret_access_key = "SecretAccessKey",
            .session_token = "Token",
            .expiration = "Expiration",
        };
        _cleanup_free_ char *token_url = es_asprintf("%s%s", endpoint, TOKEN_PATH);
        _cleanup_free_ char *list_url = es_asprintf("%s%s", endpoint, CREDENTIALS_PATH);
        _cleanup_free_ char *ttl_header =
            es_asprintf("X-aws-ec2-metadata-token-ttl-seconds: %d", ES_AWS_IMDS_TOKEN_TTL);
        _cleanup_free_ char *roles = NULL, *role = NULL, *role_url = NULL;
        char *token = NULL, *token_header = NULL, *document = NULL;
        json_t *root = NULL, *code;
        int r;

        es_log_debug("aws: EC2 instance metadata at %s", endpoint);
        r = request_body(http, "PUT", token_url, ttl_header, "get an IMDSv2 session token", &token,
                         err);
        if (r < 0)
                goto done;
        if (token[0] == '\0' || strlen(token) > MAX_TOKEN || strpbrk(token, "\r\n") != NULL) {
                r = es_error_set(err, ES_ERR_PROTOCOL, "the IMDSv2 session token is invalid");
                goto done;
        }
        token_header = es_asprintf("X-aws-ec2-metadata-token: %s", token);

        r = request_body(http, "GET", list_url, token_header, "list the instance's IAM role",
                         &roles, err);
        if (r == -ES_ERR_NOT_FOUND) {
                r = es_error_set(err, ES_ERR_NOT_FOUND, "the instance has no IAM role attached");
                goto done;
        }
        if (r < 0)
                goto done;
        role = first_line(roles);
        if (role == NULL || !role_name_is_valid(role)) {
                r = es_error_set(err, ES_ERR_PROTOCOL, "the instance's IAM role name is %s",
                                 role ? "invalid" : "empty");
                goto done;
        }

        role_url = es_asprintf("%s%s%s", endpoint, CREDENTIALS_PATH, role);
        r = request_body(http, "GET", role_url, token_header, "get the role's credentials",
                         &document, err);
        if (r < 0)
                goto done;
        r = es_aws_json_parse(document, strlen(document), "the role's credentials", &root, err);
        if (r < 0)
                goto done;
        code = json_object_get(root, "Code");
        if (code != NULL &&
            (!json_is_string(code) || strcmp(json_string_value(code), "Success") != 0)) {
                r = es_error_set(err, ES_ERR_PROTOCOL, "the role's credentials have Code \"%.40s\"",
                                 json_is_string(code) ? json_string_value(code) : "?");
                goto done;
        }
        r = es_aws_json_credentials(root, &names, "the role's credentials", out, err);

done:
        json_decref(root);
        es_aws_secret_free(document);
        es_aws_secret_free(token_header);
        es_aws_secret_free(token);
        if (r < 0)
                return es_error_prefix(err, "EC2 instance metadata at %s", endpoint);
        es_log_debug("aws: credentials of instance role \"%s\"", role);
        return 0;
}
