/* SPDX-License-Identifier: Apache-2.0 */
/* The ECR API: typed wrappers over JSON 1.1 calls. */
#include "aws/ecr.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "aws/endpoint.h"
#include "aws/json_rpc.h"
#include "aws/lifecycle.h"
#include "base/alloc.h"
#include "base/cleanup.h"

/* Largest page ECR accepts for ListImages and DescribeImages. */
#define ECR_PAGE_SIZE 1000
/* Pages followed before giving up on a nextToken that never ends. */
#define MAX_PAGES 100000

struct es_ecr {
        struct es_aws_service service;
};

int es_ecr_new(struct es_http *http, struct es_aws_provider *credentials, const char *region,
               const char *endpoint, struct es_ecr **out, struct es_error *err)
{
        struct es_ecr *ecr;

        if (region == NULL || *region == '\0')
                return es_error_set(err, ES_ERR_INVALID,
                                    "no AWS region for ECR: set target.ecr.region, AWS_REGION "
                                    "or the profile's region");
        if (!es_aws_region_is_valid(region))
                return es_error_set(err, ES_ERR_INVALID,
                                    "invalid AWS region '%s': expected a name such as eu-west-1",
                                    region);
        ecr = es_calloc(1, sizeof(*ecr));
        ecr->service = (struct es_aws_service){
            .http = http,
            .credentials = credentials,
            .endpoint = endpoint ? es_strdup(endpoint) : es_aws_endpoint_url("ecr", region),
            .region = es_strdup(region),
            .signing_name = "ecr",
            .target_prefix = "AmazonEC2ContainerRegistry_V20150921",
            .iam_prefix = "ecr",
        };
        *out = ecr;
        return 0;
}

void es_ecr_free(struct es_ecr *ecr)
{
        if (ecr == NULL)
                return;
        free(ecr->service.endpoint);
        free(ecr->service.region);
        free(ecr);
}

void es_ecr_set_retry(struct es_ecr *ecr, const struct es_retry_policy *policy)
{
        ecr->service.retry = *policy;
}

const char *es_ecr_region(const struct es_ecr *ecr)
{
        return ecr->service.region;
}

/* A request object with registryId set when one is given. */
static json_t *request_new(const char *registry_id, const char *name)
{
        json_t *request = json_object();

        if (registry_id)
                json_object_set_new(request, "registryId", json_string(registry_id));
        if (name)
                json_object_set_new(request, "repositoryName", json_string(name));
        return request;
}

static int call(struct es_ecr *ecr, const char *operation, json_t *request, json_t **response,
                struct es_error *err)
{
        json_t *ignored = NULL;
        int r;

        r = es_aws_json_call(&ecr->service, operation, request, response ? response : &ignored,
                             err);
        json_decref(request);
        json_decref(ignored);
        return r;
}

static char *dup_string(json_t *value)
{
        return json_is_string(value) ? es_strdup(json_string_value(value)) : NULL;
}

/* Resource tags as ECR's [{"Key": ..., "Value": ...}] array. */
static json_t *tag_array(const struct es_ecr_tag *tags, size_t n_tags)
{
        json_t *array = json_array();

        for (size_t i = 0; i < n_tags; i++)
                json_array_append_new(
                    array, json_pack("{s:s, s:s}", "Key", tags[i].key, "Value", tags[i].value));
        return array;
}

void es_ecr_token_release(struct es_ecr_token *token)
{
        if (token == NULL)
                return;
        if (token->password)
                explicit_bzero(token->password, strlen(token->password));
        free(token->username);
        free(token->password);
        free(token->proxy_endpoint);
        memset(token, 0, sizeof(*token));
}

/* Decode base64 "user:password" into its parts. */
static int decode_token(const char *encoded, struct es_ecr_token *out, struct es_error *err)
{
        size_t len = strlen(encoded);
        unsigned char *decoded;
        char *colon;
        int n;

        if (len == 0 || len % 4 != 0)
                return es_error_set(err, ES_ERR_PROTOCOL,
                                    "GetAuthorizationToken: the token is not valid base64");
        decoded = es_malloc(len / 4 * 3 + 1);
        n = EVP_DecodeBlock(decoded, (const unsigned char *)encoded, (int)len);
        if (n < 0) {
                free(decoded);
                return es_error_set(err, ES_ERR_PROTOCOL,
                                    "GetAuthorizationToken: the token is not valid base64");
        }
        /* EVP_DecodeBlock counts padding as zero bytes: drop them. */
        for (size_t i = len; i > 0 && encoded[i - 1] == '='; i--)
                n--;
        decoded[n] = '\0';
        colon = strchr((char *)decoded, ':');
        if (colon == NULL || memchr(decoded, 0, (size_t)n) != NULL) {
                explicit_bzero(decoded, (size_t)n);
                free(decoded);
                return es_error_set(err, ES_ERR_PROTOCOL,
                                    "GetAuthorizationToken: the token is not 'user:password'");
        }
        out->username = es_strndup((char *)decoded, (size_t)(colon - (char *)decoded));
        out->password = es_strdup(colon + 1);
        explicit_bzero(decoded, (size_t)n);
        free(decoded);
        return 0;
}

int es_ecr_get_authorization_token(struct es_ecr *ecr, const char *registry_id,
                                   struct es_ecr_token *out, struct es_error *err)
{
        json_t *request = json_object(), *response = NULL, *data;
        struct es_ecr_token token = {0};
        int r;

        if (registry_id) {
                json_t *ids = json_pack("[s]", registry_id);

                /* Without the id, the token would be for the caller's own registry. */
                if (ids == NULL) {
                        json_decref(request);
                        return es_error_set(err, ES_ERR_INVALID,
                                            "invalid registry id: not valid UTF-8");
                }
                json_object_set_new(request, "registryIds", ids);
        }
        r = call(ecr, "GetAuthorizationToken", request, &response, err);
        if (r < 0)
                return r;

        data = json_array_get(json_object_get(response, "authorizationData"), 0);
        if (!json_is_string(json_object_get(data, "authorizationToken")) ||
            !json_is_string(json_object_get(data, "proxyEndpoint"))) {
                json_decref(response);
                return es_error_set(err, ES_ERR_PROTOCOL,
                                    "GetAuthorizationToken: the response has no "
                                    "authorizationData with a token and a proxyEndpoint");
        }
        r = decode_token(json_string_value(json_object_get(data, "authorizationToken")), &token,
                         err);
        if (r >= 0) {
                json_t *expires = json_object_get(data, "expiresAt");

                token.proxy_endpoint = dup_string(json_object_get(data, "proxyEndpoint"));
                token.expires_at = json_is_number(expires) ? (time_t)json_number_value(expires)
                                                           : time(NULL) + 3600;
                *out = token;
        }
        json_decref(response);
        return r;
}

void es_ecr_repository_release(struct es_ecr_repository *repository)
{
        if (repository == NULL)
                return;
        free(repository->name);
        free(repository->arn);
        free(repository->uri);
        free(repository->image_tag_mutability);
        free(repository->encryption_type);
        free(repository->kms_key);
        memset(repository, 0, sizeof(*repository));
}

int es_ecr_describe_repository(struct es_ecr *ecr, const char *registry_id, const char *name,
                               bool *found, struct es_ecr_repository *out, struct es_error *err)
{
        json_t *names = json_pack("[s]", name), *request, *response = NULL, *repo;
        int r;

        *found = false;
        /* Without the name, DescribeRepositories would list every repository. */
        if (names == NULL)
                return es_error_set(err, ES_ERR_INVALID,
                                    "invalid ECR repository name: not valid UTF-8");
        request = request_new(registry_id, NULL);
        json_object_set_new(request, "repositoryNames", names);
        r = call(ecr, "DescribeRepositories", request, &response, err);
        if (r == -ES_ERR_NOT_FOUND) {
                es_error_release(err);
                return 0;
        }
        if (r < 0)
                return r;

        repo = json_array_get(json_object_get(response, "repositories"), 0);
        if (json_is_object(repo) && json_is_string(json_object_get(repo, "repositoryName")) &&
            strcmp(json_string_value(json_object_get(repo, "repositoryName")), name) == 0) {
                json_t *scanning = json_object_get(repo, "imageScanningConfiguration");
                json_t *encryption = json_object_get(repo, "encryptionConfiguration");

                memset(out, 0, sizeof(*out));
                out->name = dup_string(json_object_get(repo, "repositoryName"));
                out->arn = dup_string(json_object_get(repo, "repositoryArn"));
                out->uri = dup_string(json_object_get(repo, "repositoryUri"));
                out->image_tag_mutability = dup_string(json_object_get(repo, "imageTagMutability"));
                out->scan_on_push = json_is_true(json_object_get(scanning, "scanOnPush"));
                out->encryption_type = dup_string(json_object_get(encryption, "encryptionType"));
                out->kms_key = dup_string(json_object_get(encryption, "kmsKey"));
                *found = true;
        }
        json_decref(response);
        return 0;
}

int es_ecr_create_repository(struct es_ecr *ecr, const char *registry_id, const char *name,
                             const struct es_ecr_repository_settings *settings, bool *existed,
                             struct es_error *err)
{
        json_t *request = request_new(registry_id, name);
        int r;

        *existed = false;
        if (settings && settings->image_tag_mutability)
                json_object_set_new(request, "imageTagMutability",
                                    json_string(settings->image_tag_mutability));
        if (settings && settings->scan_on_push >= 0)
                json_object_set_new(request, "imageScanningConfiguration",
                                    json_pack("{s:b}", "scanOnPush", settings->scan_on_push));
        if (settings && settings->encryption != ES_ECR_ENCRYPTION_DEFAULT) {
                json_t *encryption =
                    json_pack("{s:s}", "encryptionType",
                              settings->encryption == ES_ECR_ENCRYPTION_KMS ? "KMS" : "AES256");

                if (settings->encryption == ES_ECR_ENCRYPTION_KMS && settings->kms_key)
                        json_object_set_new(encryption, "kmsKey", json_string(settings->kms_key));
                json_object_set_new(request, "encryptionConfiguration", encryption);
        }
        if (settings && settings->n_tags > 0)
                json_object_set_new(request, "tags", tag_array(settings->tags, settings->n_tags));

        r = call(ecr, "CreateRepository", request, NULL, err);
        if (r < 0 && err && err->registry_code &&
            strcmp(err->registry_code, "RepositoryAlreadyExistsException") == 0) {
                es_error_release(err);
                *existed = true;
                return 0;
        }
        if (r < 0)
                return es_error_prefix(err, "create ECR repository '%s'", name);
        return 0;
}

int es_ecr_put_lifecycle_policy(struct es_ecr *ecr, const char *registry_id, const char *name,
                                const char *policy_text, struct es_error *err)
{
        json_t *request;
        int r;

        r = es_lifecycle_policy_validate(policy_text, err);
        if (r < 0)
                return es_error_prefix(err, "lifecycle policy for '%s'", name);
        request = request_new(registry_id, name);
        json_object_set_new(request, "lifecyclePolicyText", json_string(policy_text));
        r = call(ecr, "PutLifecyclePolicy", request, NULL, err);
        if (r < 0)
                return es_error_prefix(err, "set the lifecycle policy of '%s'", name);
        return 0;
}

int es_ecr_get_lifecycle_policy(struct es_ecr *ecr, const char *registry_id, const char *name,
                                char **out, struct es_error *err)
{
        json_t *response = NULL;
        int r;

        *out = NULL;
        r = call(ecr, "GetLifecyclePolicy", request_new(registry_id, name), &response, err);
        if (r == -ES_ERR_NOT_FOUND && err && err->registry_code &&
            strcmp(err->registry_code, "LifecyclePolicyNotFoundException") == 0) {
                es_error_release(err);
                return 0;
        }
        if (r < 0)
                return r;
        *out = dup_string(json_object_get(response, "lifecyclePolicyText"));
        json_decref(response);
        return 0;
}

int es_ecr_put_image_tag_mutability(struct es_ecr *ecr, const char *registry_id, const char *name,
                                    const char *mutability, struct es_error *err)
{
        json_t *request = request_new(registry_id, name);

        json_object_set_new(request, "imageTagMutability", json_string(mutability));
        return call(ecr, "PutImageTagMutability", request, NULL, err);
}

int es_ecr_put_image_scanning_configuration(struct es_ecr *ecr, const char *registry_id,
                                            const char *name, bool scan_on_push,
                                            struct es_error *err)
{
        json_t *request = request_new(registry_id, name);

        json_object_set_new(request, "imageScanningConfiguration",
                            json_pack("{s:b}", "scanOnPush", scan_on_push));
        return call(ecr, "PutImageScanningConfiguration", request, NULL, err);
}

int es_ecr_list_tags_for_resource(struct es_ecr *ecr, const char *arn, es_ecr_tag_fn callback,
                                  void *ctx, struct es_error *err)
{
        json_t *response = NULL, *tag;
        size_t i;
        int r;

        r = call(ecr, "ListTagsForResource", json_pack("{s:s}", "resourceArn", arn), &response,
                 err);
        if (r < 0)
                return es_error_prefix(err, "list the resource tags of '%s'", arn);
        json_array_foreach (json_object_get(response, "tags"), i, tag) {
                json_t *key = json_object_get(tag, "Key"), *value = json_object_get(tag, "Value");

                if (!json_is_string(key) || !json_is_string(value))
                        continue;
                r = callback(json_string_value(key), json_string_value(value), ctx);
                if (r < 0)
                        break;
        }
        json_decref(response);
        return r;
}

int es_ecr_tag_resource(struct es_ecr *ecr, const char *arn, const struct es_ecr_tag *tags,
                        size_t n_tags, struct es_error *err)
{
        json_t *request = json_pack("{s:s}", "resourceArn", arn);
        int r;

        json_object_set_new(request, "tags", tag_array(tags, n_tags));
        r = call(ecr, "TagResource", request, NULL, err);
        if (r < 0)
                return es_error_prefix(err, "tag '%s'", arn);
        return 0;
}

static int report_list_page(json_t *response, es_ecr_image_fn callback, void *ctx)
{
        size_t i;
        json_t *id;
        int r;

        json_array_foreach (json_object_get(response, "imageIds"), i, id) {
                struct es_ecr_image image = {
                    .digest = json_string_value(json_object_get(id, "imageDigest")),
                    .tag = json_string_value(json_object_get(id, "imageTag")),
                };

                if (image.digest == NULL)
                        continue;
                if ((r = callback(&image, ctx)) < 0)
                        return r;
        }
        return 0;
}

static int report_describe_page(json_t *response, es_ecr_image_fn callback, void *ctx)
{
        size_t i, j;
        json_t *detail, *tag;
        int r;

        json_array_foreach (json_object_get(response, "imageDetails"), i, detail) {
                json_t *tags = json_object_get(detail, "imageTags");
                size_t n = json_array_size(tags), n_tags = 0;
                _cleanup_free_ const char **names = es_calloc(n + 1, sizeof(*names));
                struct es_ecr_image image = {
                    .digest = json_string_value(json_object_get(detail, "imageDigest")),
                    .media_type =
                        json_string_value(json_object_get(detail, "imageManifestMediaType")),
                };

                if (image.digest == NULL)
                        continue;
                json_array_foreach (tags, j, tag) {
                        if (json_is_string(tag))
                                names[n_tags++] = json_string_value(tag);
                }
                image.tags = names;
                image.n_tags = n_tags;
                image.tag = n_tags ? names[0] : NULL;
                if ((r = callback(&image, ctx)) < 0)
                        return r;
        }
        return 0;
}

/* Follow nextToken through every page of a listing operation. */
static int paginate(struct es_ecr *ecr, const char *operation, const char *registry_id,
                    const char *name, int (*report)(json_t *, es_ecr_image_fn, void *),
                    es_ecr_image_fn callback, void *ctx, struct es_error *err)
{
        _cleanup_free_ char *token = NULL;
        int r;

        for (int page = 0; page < MAX_PAGES; page++) {
                json_t *request = request_new(registry_id, name), *response = NULL, *next;

                json_object_set_new(request, "maxResults", json_integer(ECR_PAGE_SIZE));
                if (token)
                        json_object_set_new(request, "nextToken", json_string(token));
                r = call(ecr, operation, request, &response, err);
                if (r < 0)
                        return es_error_prefix(err, "list images of '%s'", name);

                r = report(response, callback, ctx);
                next = json_object_get(response, "nextToken");
                free(token);
                token =
                    json_is_string(next) && json_string_length(next) > 0 ? dup_string(next) : NULL;
                json_decref(response);
                if (r < 0)
                        return r;
                if (token == NULL)
                        return 0;
        }
        return es_error_set(err, ES_ERR_PROTOCOL, "%s for '%s' returned more than %d pages",
                            operation, name, MAX_PAGES);
}

int es_ecr_list_images(struct es_ecr *ecr, const char *registry_id, const char *name,
                       es_ecr_image_fn callback, void *ctx, struct es_error *err)
{
        return paginate(ecr, "ListImages", registry_id, name, report_list_page, callback, ctx, err);
}

int es_ecr_describe_images(struct es_ecr *ecr, const char *registry_id, const char *name,
                           es_ecr_image_fn callback, void *ctx, struct es_error *err)
{
        return paginate(ecr, "DescribeImages", registry_id, name, report_describe_page, callback,
                        ctx, err);
}

int es_ecr_batch_delete_image(struct es_ecr *ecr, const char *registry_id, const char *name,
                              const char *const *digests, size_t n_digests, struct es_error *err)
{
        json_t *request = request_new(registry_id, name), *ids = json_array(), *response = NULL;
        json_t *failure;
        int r;

        for (size_t i = 0; i < n_digests; i++)
                json_array_append_new(ids, json_pack("{s:s}", "imageDigest", digests[i]));
        json_object_set_new(request, "imageIds", ids);
        r = call(ecr, "BatchDeleteImage", request, &response, err);
        if (r < 0)
                return r;

        failure = json_array_get(json_object_get(response, "failures"), 0);
        if (failure) {
                const char *code = json_string_value(json_object_get(failure, "failureCode"));
                const char *reason = json_string_value(json_object_get(failure, "failureReason"));

                r = es_error_set(err, ES_ERR_INVALID, "BatchDeleteImage in '%s': %s: %s", name,
                                 code ? code : "failure", reason ? reason : "no reason given");
        }
        json_decref(response);
        return r;
}
