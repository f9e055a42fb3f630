/* SPDX-License-Identifier: Apache-2.0 */
/* IAM Identity Center credentials from the cached `aws sso login` token. */
#include "aws/sso.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/config.h"
#include "aws/endpoint.h"
#include "aws/source.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/log.h"

/* Maximum length of a service error message kept, in bytes. */
#define MAX_MESSAGE 400

char *es_aws_sso_cache_path(const char *cache_key)
{
        unsigned char digest[EVP_MAX_MD_SIZE];
        char hex[2 * EVP_MAX_MD_SIZE + 1];
        unsigned int digest_len = 0;
        _cleanup_free_ char *home = es_aws_home_dir();

        if (home == NULL)
                return NULL;
        if (EVP_Digest(cache_key, strlen(cache_key), digest, &digest_len, EVP_sha1(), NULL) != 1)
                return NULL;
        for (unsigned int i = 0; i < digest_len; i++)
                snprintf(hex + 2 * i, 3, "%02x", digest[i]);
        return es_asprintf("%s/.aws/sso/cache/%s.json", home, hex);
}

/* The `aws sso login` command that renews the token, for messages. */
static char *login_hint(const struct es_aws_sso_params *params)
{
        if (params->profile != NULL && strcmp(params->profile, "default") != 0)
                return es_asprintf("run `aws sso login --profile %s`", params->profile);
        if (params->session_name != NULL)
                return es_asprintf("run `aws sso login --sso-session %s`", params->session_name);
        return es_strdup("run `aws sso login`");
}

/* Read the cached access token and check that it has not expired. */
static int read_token(const struct es_aws_sso_params *params, char **out, struct es_error *err)
{
        const char *key = params->session_name ? params->session_name : params->start_url;
        _cleanup_free_ char *path = es_aws_sso_cache_path(key), *hint = login_hint(params);
        char *data = NULL;
        json_t *root = NULL, *token, *expires_at;
        time_t expiry;
        int r;

        if (path == NULL)
                return es_error_set(err, ES_ERR_IO,
                                    "cannot find the home directory for the SSO token cache");
        r = es_aws_read_secret_file(path, "SSO token cache", ES_AWS_MAX_TOKEN_FILE, &data, err);
        if (r == -ES_ERR_NOT_FOUND)
                return es_error_set(err, ES_ERR_AUTH, "no cached SSO token at \"%s\"; %s", path,
                                    hint);
        if (r < 0)
                return r;
        r = es_aws_json_parse(data, strlen(data), path, &root, err);
        es_aws_secret_free(data);
        if (r < 0)
                return r;

        token = json_object_get(root, "accessToken");
        expires_at = json_object_get(root, "expiresAt");
        if (!json_is_string(token) || json_string_length(token) == 0) {
                r = es_error_set(err, ES_ERR_AUTH, "\"%s\" has no accessToken; %s", path, hint);
                goto done;
        }
        if (!json_is_string(expires_at) ||
            es_aws_time_parse(json_string_value(expires_at), &expiry) < 0) {
                r = es_error_set(err, ES_ERR_AUTH, "\"%s\" has no valid expiresAt; %s", path, hint);
                goto done;
        }
        if (expiry <= time(NULL)) {
                char when[32];

                es_aws_time_format(expiry, when, sizeof(when));
                r = es_error_set(err, ES_ERR_AUTH, "the cached SSO token expired at %s; %s", when,
                                 hint);
                goto done;
        }
        *out = es_strdup(json_string_value(token));

done:
        json_decref(root);
        return r;
}

/* Error type and message of a failed GetRoleCredentials. */
static int response_error(const struct es_http_response *response,
                          const struct es_aws_sso_params *params, struct es_error *err)
{
        _cleanup_free_ char *type = NULL, *message = NULL, *hint = login_hint(params);
        const char *header = es_http_response_header(response, "x-amzn-ErrorType");
        enum es_error_code code;
        json_t *root;
        int r;

        root =
            json_loadb(response->body.data ? response->body.data : "", response->body.len, 0, NULL);
        if (json_is_object(root)) {
                const char *value = json_string_value(json_object_get(root, "__type"));
                const char *text = json_string_value(json_object_get(root, "message"));

                if (text == NULL)
                        text = json_string_value(json_object_get(root, "Message"));
                if (value != NULL)
                        type = es_strdup(strrchr(value, '#') ? strrchr(value, '#') + 1 : value);
                if (text != NULL)
                        message = es_strndup(text, MAX_MESSAGE);
        }
        json_decref(root);
        if (type == NULL && header != NULL)
                type = es_strndup(header, strcspn(header, ":"));
        for (char *p = message; p && *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = ' ';

        if (response->status == 401 || response->status == 403)
                code = ES_ERR_AUTH;
        else if (response->status == 429)
                code = ES_ERR_RATE_LIMITED;
        else if (response->status >= 500)
                code = ES_ERR_TRANSIENT;
        else
                code = ES_ERR_INVALID;
        r = es_error_set(err, code, "%ld %s%s%s%s%s", response->status, type ? type : "error",
                         message ? ": " : "", message ? message : "",
                         code == ES_ERR_AUTH ? "; " : "", code == ES_ERR_AUTH ? hint : "");
        es_error_set_http(err, response->status, type);
        return r;
}

int es_aws_sso_credentials(struct es_http *http, const struct es_aws_sso_params *params,
                           struct es_aws_credentials *out, struct es_error *err)
{
        static const struct es_aws_json_names names = {
            .access_key_id = "accessKeyId",
            .secret_access_key = "secretAccessKey",
            .session_token = "sessionToken",
            .expiration = "expiration",
        };
        _cleanup_free_ char *endpoint = NULL, *url = NULL, *role = NULL, *account = NULL;
        struct es_http_response response = {0};
        char *token = NULL, *token_header = NULL;
        json_t *root = NULL, *role_credentials;
        int r;

        endpoint = es_aws_endpoint_url("sso", params->region);
        if (endpoint == NULL)
                return es_error_set(err, ES_ERR_INVALID, "invalid sso_region \"%s\"",
                                    params->region);
        r = read_token(params, &token, err);
        if (r < 0)
                return r;

        role = es_aws_url_encode(params->role_name);
        account = es_aws_url_encode(params->account_id);
        url = es_asprintf("%s/federation/credentials?role_name=%s&account_id=%s", endpoint, role,
                          account);
        token_header = es_asprintf("x-amz-sso_bearer_token: %s", token);
        es_aws_secret_free(token);

        const char *headers[] = {token_header};
        struct es_http_request request = {
            .method = "GET",
            .url = url,
            .headers = headers,
            .n_headers = ES_ARRAY_SIZE(headers),
            .max_body = ES_AWS_MAX_CREDENTIALS_RESPONSE,
        };
        es_log_debug("aws: SSO GetRoleCredentials for role \"%s\" in account %s", params->role_name,
                     params->account_id);
        r = es_http_perform(http, &request, &response, err);
        es_aws_secret_free(token_header);
        if (r < 0)
                goto done;
        if (response.body_truncated) {
                r = es_error_set(err, ES_ERR_PROTOCOL, "the response is larger than %u bytes",
                                 ES_AWS_MAX_CREDENTIALS_RESPONSE);
                goto done;
        }
        if (response.status != 200) {
                r = response_error(&response, params, err);
                goto done;
        }
        r = es_aws_json_parse(response.body.data, response.body.len, "the response", &root, err);
        if (r < 0)
                goto done;
        role_credentials = json_object_get(root, "roleCredentials");
        if (!json_is_object(role_credentials)) {
                r = es_error_set(err, ES_ERR_PROTOCOL,
                                 "the response has no roleCredentials object");
                goto done;
        }
        r = es_aws_json_credentials(role_credentials, &names, "roleCredentials", out, err);

done:
        json_decref(root);
        if (response.body.data)
                explicit_bzero(response.body.data, response.body.alloc);
        es_http_response_release(&response);
        if (r < 0)
                es_error_prefix(err, "SSO GetRoleCredentials for role \"%s\" in account %s",
                                params->role_name, params->account_id);
        return r;
}
