/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ECR API (JSON 1.1, service "ecr"): repositories, their settings,
 * images, and registry credentials. One es_ecr serves one region; calls
 * name the registry (account) they act on, NULL meaning the caller's own.
 * Thread-safe.
 */
#ifndef ES_AWS_ECR_H
#define ES_AWS_ECR_H

#include <stdbool.h>
#include <time.h>

#include "base/error.h"
#include "base/retry.h"
#include "http/http.h"

struct es_aws_provider;
struct es_ecr;

/*
 * Create a client for region, sending to endpoint (NULL: AWS_ENDPOINT_URL_ECR,
 * AWS_ENDPOINT_URL, else api.ecr.REGION.amazonaws.com). http and credentials
 * must outlive it. Free with es_ecr_free().
 */
int es_ecr_new(struct es_http *http, struct es_aws_provider *credentials, const char *region,
               const char *endpoint, struct es_ecr **out, struct es_error *err);
void es_ecr_free(struct es_ecr *ecr);

/* Use policy for the client's calls instead of the defaults. */
void es_ecr_set_retry(struct es_ecr *ecr, const struct es_retry_policy *policy);

const char *es_ecr_region(const struct es_ecr *ecr);

/* Registry credentials from GetAuthorizationToken. */
struct es_ecr_token {
        char *username;       /* "AWS", owned */
        char *password;       /* owned; a secret */
        char *proxy_endpoint; /* "https://ACCOUNT.dkr.ecr.REGION.amazonaws.com", owned */
        time_t expires_at;
};

void es_ecr_token_release(struct es_ecr_token *token);

int es_ecr_get_authorization_token(struct es_ecr *ecr, const char *registry_id,
                                   struct es_ecr_token *out, struct es_error *err);

enum es_ecr_encryption {
        ES_ECR_ENCRYPTION_DEFAULT = 0, /* leave it to ECR: AES256 */
        ES_ECR_ENCRYPTION_AES256,
        ES_ECR_ENCRYPTION_KMS,
};

struct es_ecr_tag {
        const char *key;
        const char *value;
};

/* Settings applied when a repository is created. Borrowed strings. */
struct es_ecr_repository_settings {
        const char *image_tag_mutability; /* "MUTABLE", "IMMUTABLE", or NULL for ECR's default */
        int scan_on_push;                 /* -1: ECR's default, else 0 or 1 */
        enum es_ecr_encryption encryption;
        const char *kms_key; /* with ES_ECR_ENCRYPTION_KMS; NULL: the AWS managed key */
        const struct es_ecr_tag *tags;
        size_t n_tags;
};

struct es_ecr_repository {
        char *name;                 /* owned */
        char *arn;                  /* owned */
        char *uri;                  /* owned */
        char *image_tag_mutability; /* owned; NULL when absent */
        bool scan_on_push;
        char *encryption_type; /* owned; NULL when absent */
        char *kms_key;         /* owned; NULL when absent */
};

void es_ecr_repository_release(struct es_ecr_repository *repository);

/* DescribeRepositories for one name. Sets *found; fills *out when found. */
int es_ecr_describe_repository(struct es_ecr *ecr, const char *registry_id, const char *name,
                               bool *found, struct es_ecr_repository *out, struct es_error *err);

/*
 * CreateRepository. An existing repository counts as success and sets
 * *existed (its settings are not changed). settings may be NULL.
 */
int es_ecr_create_repository(struct es_ecr *ecr, const char *registry_id, const char *name,
                             const struct es_ecr_repository_settings *settings, bool *existed,
                             struct es_error *err);

/* PutLifecyclePolicy with the policy's JSON text, validated locally first. */
int es_ecr_put_lifecycle_policy(struct es_ecr *ecr, const char *registry_id, const char *name,
                                const char *policy_text, struct es_error *err);

/* GetLifecyclePolicy: *out is the policy text, or NULL when there is none. Caller frees. */
int es_ecr_get_lifecycle_policy(struct es_ecr *ecr, const char *registry_id, const char *name,
                                char **out, struct es_error *err);

/* PutImageTagMutability: "MUTABLE" or "IMMUTABLE". */
int es_ecr_put_image_tag_mutability(struct es_ecr *ecr, const char *registry_id, const char *name,
                                    const char *mutability, struct es_error *err);

/* PutImageScanningConfiguration. */
int es_ecr_put_image_scanning_configuration(struct es_ecr *ecr, const char *registry_id,
                                            const char *name, bool scan_on_push,
                                            struct es_error *err);

/* Called once per resource tag. Return 0 to go on, or a negative error to stop with it. */
typedef int (*es_ecr_tag_fn)(const char *key, const char *value, void *ctx);

/* ListTagsForResource on a repository's ARN. */
int es_ecr_list_tags_for_resource(struct es_ecr *ecr, const char *arn, es_ecr_tag_fn callback,
                                  void *ctx, struct es_error *err);

/* TagResource: add the tags or change their values. Tags not named stay as they are. */
int es_ecr_tag_resource(struct es_ecr *ecr, const char *arn, const struct es_ecr_tag *tags,
                        size_t n_tags, struct es_error *err);

/* One image of a repository, as ListImages and DescribeImages report it. */
struct es_ecr_image {
        const char *digest;
        const char *tag;         /* NULL for untagged images (ListImages) */
        const char *const *tags; /* DescribeImages: every tag; NULL for ListImages */
        size_t n_tags;
        const char *media_type; /* DescribeImages only; may be NULL */
};

/* Called once per image; return 0 to go on, negative to stop with that error. */
typedef int (*es_ecr_image_fn)(const struct es_ecr_image *image, void *ctx);

/* ListImages, every page (1000 per page): one call per tag, and per untagged digest. */
int es_ecr_list_images(struct es_ecr *ecr, const char *registry_id, const char *name,
                       es_ecr_image_fn callback, void *ctx, struct es_error *err);

/* DescribeImages, every page (1000 per page): one call per image with all its tags. */
int es_ecr_describe_images(struct es_ecr *ecr, const char *registry_id, const char *name,
                           es_ecr_image_fn callback, void *ctx, struct es_error *err);

/* BatchDeleteImage by digest. Failures for single images are reported in err. */
int es_ecr_batch_delete_image(struct es_ecr *ecr, const char *registry_id, const char *name,
                              const char *const *digests, size_t n_digests, struct es_error *err);

#endif
