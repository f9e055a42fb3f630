/* SPDX-License-Identifier: Apache-2.0 */
/* Creating ECR repositories and keeping their settings as configured. */
#include "sync/settings.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "aws/ecr.h"
#include "base/alloc.h"
#include "base/cleanup.h"

void es_repository_outcome_release(struct es_repository_outcome *outcome)
{
        free(outcome->warning);
        memset(outcome, 0, sizeof(*outcome));
}

static int create(struct es_ecr *ecr, const char *account, const struct es_sync_config *config,
                  const char *repository, struct es_repository_outcome *outcome,
                  struct es_error *err)
{
        const struct es_sync_repository_settings *settings = &config->settings;
        struct es_ecr_repository_settings create_settings = {.scan_on_push = -1};
        _cleanup_free_ struct es_ecr_tag *tags = NULL;
        bool existed = false;
        int r;

        if (config->has_repository_settings) {
                create_settings.image_tag_mutability = settings->image_tag_mutability;
                create_settings.scan_on_push = settings->scan_on_push;
                if (settings->encryption_type)
                        create_settings.encryption = strcmp(settings->encryption_type, "KMS") == 0
                                                         ? ES_ECR_ENCRYPTION_KMS
                                                         : ES_ECR_ENCRYPTION_AES256;
                create_settings.kms_key = settings->kms_key;
                tags = es_calloc(settings->n_resource_tags + 1, sizeof(*tags));
                for (size_t i = 0; i < settings->n_resource_tags; i++) {
                        tags[i].key = settings->resource_tags[i].key;
                        tags[i].value = settings->resource_tags[i].value;
                }
                create_settings.tags = tags;
                create_settings.n_tags = settings->n_resource_tags;
        }
        r = es_ecr_create_repository(ecr, account, repository, &create_settings, &existed, err);
        if (r < 0)
                return r;
        outcome->created = !existed;
        if (config->has_repository_settings && settings->lifecycle_policy)
                r = es_ecr_put_lifecycle_policy(ecr, account, repository,
                                                settings->lifecycle_policy, err);
        return r;
}

/* Lifecycle policies compare as JSON values: ECR may return them reformatted. */
static bool same_policy(const char *a, const char *b)
{
        json_t *left = a ? json_loads(a, 0, NULL) : NULL;
        json_t *right = b ? json_loads(b, 0, NULL) : NULL;
        bool same = left && right && json_equal(left, right);

        json_decref(left);
        json_decref(right);
        return same;
}

/* The configured resource tags, and which of them the repository has with the same value. */
struct tag_check {
        const struct es_sync_repository_settings *settings;
        bool *present; /* one per configured tag */
};

static int mark_present(const char *key, const char *value, void *ctx)
{
        struct tag_check *check = ctx;

        for (size_t i = 0; i < check->settings->n_resource_tags; i++)
                if (strcmp(check->settings->resource_tags[i].key, key) == 0 &&
                    strcmp(check->settings->resource_tags[i].value, value) == 0)
                        check->present[i] = true;
        return 0;
}

/* Add the configured resource tags that are missing or have another value, and keep other tags. */
static int reconcile_tags(struct es_ecr *ecr, const struct es_sync_repository_settings *settings,
                          const char *arn, unsigned *changed, struct es_error *err)
{
        _cleanup_free_ bool *present = es_calloc(settings->n_resource_tags + 1, sizeof(*present));
        _cleanup_free_ struct es_ecr_tag *missing =
            es_calloc(settings->n_resource_tags + 1, sizeof(*missing));
        struct tag_check check = {.settings = settings, .present = present};
        size_t n_missing = 0;
        int r;

        r = es_ecr_list_tags_for_resource(ecr, arn, mark_present, &check, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < settings->n_resource_tags; i++) {
                if (present[i])
                        continue;
                missing[n_missing].key = settings->resource_tags[i].key;
                missing[n_missing].value = settings->resource_tags[i].value;
                n_missing++;
        }
        if (n_missing == 0)
                return 0;
        r = es_ecr_tag_resource(ecr, arn, missing, n_missing, err);
        if (r >= 0)
                *changed += (unsigned)n_missing;
        return r;
}

static int reconcile(struct es_ecr *ecr, const char *account, const struct es_sync_config *config,
                     const char *repository, const struct es_ecr_repository *current,
                     struct es_repository_outcome *outcome, struct es_error *err)
{
        const struct es_sync_repository_settings *settings = &config->settings;
        _cleanup_free_ char *policy = NULL;
        int r;

        if (settings->image_tag_mutability &&
            (current->image_tag_mutability == NULL ||
             strcmp(current->image_tag_mutability, settings->image_tag_mutability) != 0)) {
                r = es_ecr_put_image_tag_mutability(ecr, account, repository,
                                                    settings->image_tag_mutability, err);
                if (r < 0)
                        return r;
                outcome->changed++;
        }
        if (settings->scan_on_push >= 0 && current->scan_on_push != (settings->scan_on_push == 1)) {
                r = es_ecr_put_image_scanning_configuration(ecr, account, repository,
                                                            settings->scan_on_push == 1, err);
                if (r < 0)
                        return r;
                outcome->changed++;
        }
        if (settings->encryption_type && current->encryption_type &&
            strcmp(settings->encryption_type, current->encryption_type) != 0)
                outcome->warning = es_asprintf(
                    "repository '%s' is encrypted with %s, not %s as configured; ECR cannot "
                    "change encryption after creation",
                    repository, current->encryption_type, settings->encryption_type);
        if (settings->lifecycle_policy) {
                r = es_ecr_get_lifecycle_policy(ecr, account, repository, &policy, err);
                if (r < 0)
                        return r;
                if (!same_policy(policy, settings->lifecycle_policy)) {
                        r = es_ecr_put_lifecycle_policy(ecr, account, repository,
                                                        settings->lifecycle_policy, err);
                        if (r < 0)
                                return r;
                        outcome->changed++;
                }
        }
        if (settings->n_resource_tags > 0 && current->arn)
                return reconcile_tags(ecr, settings, current->arn, &outcome->changed, err);
        return 0;
}

int es_repository_prepare(struct es_registries *registries, const struct es_sync_config *config,
                          const char *registry, const char *repository,
                          struct es_repository_outcome *outcome, struct es_error *err)
{
        struct es_ecr_repository current = {0};
        const char *account = NULL;
        struct es_ecr *ecr;
        bool found = false;
        int r;

        memset(outcome, 0, sizeof(*outcome));
        r = es_registries_ecr_client(registries, registry, &ecr, &account, err);
        if (r < 0 || ecr == NULL)
                return r;

        r = es_ecr_describe_repository(ecr, account, repository, &found, &current, err);
        if (r < 0)
                return es_error_prefix(err, "look up ECR repository '%s'", repository);
        if (!found && !config->create_repositories)
                r = es_error_set(err, ES_ERR_NOT_FOUND,
                                 "ECR repository '%s' does not exist and "
                                 "target.create_repositories is false; create it, or set "
                                 "target.create_repositories to true",
                                 repository);
        else if (!found)
                r = create(ecr, account, config, repository, outcome, err);
        else if (config->manage_settings && config->has_repository_settings)
                r = reconcile(ecr, account, config, repository, &current, outcome, err);
        es_ecr_repository_release(&current);
        if (r < 0)
                return es_error_prefix(err, "prepare ECR repository '%s'", repository);
        return 0;
}
