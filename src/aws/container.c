/* SPDX-License-Identifier: Apache-2.0 */
/* Container credentials: ECS task roles and EKS Pod Identity. */
#include "aws/container.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aws/source.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/log.h"

#define RELATIVE_VARIABLE   "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
#define FULL_VARIABLE       "AWS_CONTAINER_CREDENTIALS_FULL_URI"
#define TOKEN_VARIABLE      "AWS_CONTAINER_AUTHORIZATION_TOKEN"
#define TOKEN_FILE_VARIABLE "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
#define MAX_ATTEMPTS        2

/* Hosts botocore lets FULL_URI reach over plain http besides loopback: the ECS and EKS agents. */
static const char *const agent_hosts[] = {"169.254.170.2", "169.254.170.23", "fd00:ec2::23"};

static const char *env_value(const char *name)
{
        const char *value = getenv(name);

        return value != NULL && value[0] != '\0' ? value : NULL;
}

void es_aws_container_config_release(struct es_aws_container_config *config)
{
        free(config->url);
        es_aws_secret_free(config->token);
        free(config->token_file);
        memset(config, 0, sizeof(*config));
}

/* True for loopback addresses and the agent hosts; host has no IPv6 brackets. */
static bool http_host_allowed(const char *host)
{
        unsigned char address[16];

        if (strcasecmp(host, "localhost") == 0)
                return true;
        for (size_t i = 0; i < ES_ARRAY_SIZE(agent_hosts); i++) {
                unsigned char agent[16];
                int family = strchr(agent_hosts[i], ':') ? AF_INET6 : AF_INET;

                if (inet_pton(family, agent_hosts[i], agent) == 1 &&
                    inet_pton(family, host, address) == 1 &&
                    memcmp(agent, address, family == AF_INET ? 4 : 16) == 0)
                        return true;
        }
        if (inet_pton(AF_INET, host, address) == 1)
                return address[0] == 127;
        if (inet_pton(AF_INET6, host, address) == 1) {
                static const unsigned char loopback[16] = {[15] = 1};
                static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};

                if (memcmp(address, loopback, 16) == 0)
                        return true;
                return memcmp(address, mapped, 12) == 0 && address[12] == 127;
        }
        return false;
}

int es_aws_container_check_url(const char *url, struct es_error *err)
{
        CURLU *parsed = curl_url();
        char *scheme = NULL, *host = NULL;
        int r = 0;

        if (parsed == NULL)
                abort();
        if (curl_url_set(parsed, CURLUPART_URL, url, 0) != CURLUE_OK ||
            curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
            curl_url_get(parsed, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
                r = es_error_set(err, ES_ERR_INVALID, "%s is not a valid URL", FULL_VARIABLE);
                goto done;
        }
        if (strcasecmp(scheme, "https") == 0)
                goto done;
        if (strcasecmp(scheme, "http") != 0) {
                r = es_error_set(err, ES_ERR_INVALID, "%s must be an http or https URL, not \"%s\"",
                                 FULL_VARIABLE, scheme);
                goto done;
        }
        /* libcurl returns IPv6 hosts in brackets. */
        if (host[0] == '[') {
                size_t len = strlen(host);

                memmove(host, host + 1, len - 1);
                host[len - 2] = '\0';
                host[strcspn(host, "%")] = '\0';
        }
        if (!http_host_allowed(host))
                r = es_error_set(err, ES_ERR_INVALID,
                                 "%s: plain http is only allowed to a loopback address or the "
                                 "ECS or EKS agent, not to \"%s\"; use https",
                                 FULL_VARIABLE, host);

done:
        curl_free(scheme);
        curl_free(host);
        curl_url_cleanup(parsed);
        return r;
}

static int check_token(const char *token, const char *source, struct es_error *err)
{
        if (strpbrk(token, "\r\n") != NULL)
                return es_error_set(err, ES_ERR_INVALID,
                                    "the container authorization token from %s contains a line "
                                    "break",
                                    source);
        return 0;
}

int es_aws_container_config_from_env(struct es_aws_container_config *out, bool *found,
                                     struct es_error *err)
{
        const char *relative = env_value(RELATIVE_VARIABLE);
        const char *full = env_value(FULL_VARIABLE);
        const char *token = env_value(TOKEN_VARIABLE);
        const char *token_file = env_value(TOKEN_FILE_VARIABLE);
        struct es_aws_container_config config = {0};
        int r;

        *found = false;
        if (relative != NULL) {
                if (relative[0] != '/')
                        return es_error_set(err, ES_ERR_INVALID,
                                            "%s must be a path starting with '/'",
                                            RELATIVE_VARIABLE);
                config.url = es_asprintf("%s%s", ES_AWS_ECS_AGENT_URL, relative);
                config.variable = RELATIVE_VARIABLE;
        } else if (full != NULL) {
                r = es_aws_container_check_url(full, err);
                if (r < 0)
                        return r;
                config.url = es_strdup(full);
                config.variable = FULL_VARIABLE;
                /* The token file wins over the token, as in botocore. */
                if (token_file != NULL) {
                        config.token_file = es_strdup(token_file);
                } else if (token != NULL) {
                        r = check_token(token, TOKEN_VARIABLE, err);
                        if (r < 0) {
                                es_aws_container_config_release(&config);
                                return r;
                        }
                        config.token = es_strdup(token);
                }
        } else {
                return 0;
        }
        *out = config;
        *found = true;
        return 0;
}

static int response_error(const struct es_http_response *response, struct es_error *err)
{
        _cleanup_free_ char *message = NULL;
        enum es_error_code code;
        json_t *root;
        int r;

        root =
            json_loadb(response->body.data ? response->body.data : "", response->body.len, 0, NULL);
        if (json_is_string(json_object_get(root, "message")))
                message = es_strndup(json_string_value(json_object_get(root, "message")), 300);
        json_decref(root);
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
                code = ES_ERR_PROTOCOL;
        r = es_error_set(err, code, "HTTP %ld%s%s", response->status, message ? ": " : "",
                         message ? message : "");
        es_error_set_http(err, response->status, NULL);
        return r;
}

static int fetch_once(struct es_http *http, const struct es_aws_container_config *config,
                      struct es_aws_credentials *out, struct es_error *err)
{
        static const struct es_aws_json_names names = {
            .access_key_id = "AccessKeyId",
            .secret_access_key = "SecretAccessKey",
            .session_token = "Token",
            .expiration = "Expiration",
        };
        struct es_http_response response = {0};
        char *token = NULL, *authorization = NULL;
        const char *headers[2] = {"Accept: application/json"};
        json_t *root = NULL;
        int r;

        if (config->token_file != NULL) {
                r = es_aws_read_secret_file(config->token_file, "container authorization token",
                                            ES_AWS_MAX_TOKEN_FILE, &token, err);
                if (r == 0)
                        r = check_token(token, TOKEN_FILE_VARIABLE, err);
                if (r < 0) {
                        es_aws_secret_free(token);
                        return r;
                }
        }
        if (token != NULL || config->token != NULL)
                authorization = es_asprintf("Authorization: %s", token ? token : config->token);
        es_aws_secret_free(token);
        if (authorization != NULL)
                headers[1] = authorization;

        struct es_http_request request = {
            .method = "GET",
            .url = config->url,
            .headers = headers,
            .n_headers = authorization ? 2 : 1,
            .max_body = ES_AWS_MAX_CREDENTIALS_RESPONSE,
        };
        r = es_http_perform(http, &request, &response, err);
        es_aws_secret_free(authorization);
        if (r < 0)
                return r;
        if (response.body_truncated)
                r = es_error_set(err, ES_ERR_PROTOCOL, "the response is larger than %u bytes",
                                 ES_AWS_MAX_CREDENTIALS_RESPONSE);
        else if (response.status != 200)
                r = response_error(&response, err);
        else if ((r = es_aws_json_parse(response.body.data, response.body.len, "the response",
                                        &root, err)) == 0)
                r = es_aws_json_credentials(root, &names, "the response", out, err);
        json_decref(root);
        if (response.body.data)
                explicit_bzero(response.body.data, response.body.alloc);
        es_http_response_release(&response);
        return r;
}

int es_aws_container_credentials(struct es_http *http, const struct es_aws_container_config *config,
                                 struct es_aws_credentials *out, struct es_error *err)
{
        int r = 0;

        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
                es_log_debug("aws: container credentials from %s (attempt %d)", config->variable,
                             attempt);
                r = fetch_once(http, config, out, err);
                if (r != -ES_ERR_TRANSIENT || attempt == MAX_ATTEMPTS)
                        break;
                es_log_debug("aws: container credentials failed, retrying: %s",
                             es_error_message(err));
                nanosleep(&(struct timespec){.tv_nsec = 200L * 1000 * 1000}, NULL);
        }
        if (r < 0)
                return es_error_prefix(err, "container credentials from %s", config->variable);
        return 0;
}
