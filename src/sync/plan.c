/* SPDX-License-Identifier: Apache-2.0 */
/* Building the sync plan: list, filter and compare tags per image. */
#include "sync/plan.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/ecr.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/limits.h"
#include "base/log.h"
#include "copy/platform.h"
#include "registry/manifest.h"
#include "sync/filter.h"

const char *es_sync_action_name(enum es_sync_action action)
{
        switch (action) {
        case ES_SYNC_COPY:
                return "copy";
        case ES_SYNC_UPDATE:
                return "update";
        case ES_SYNC_SKIP:
                return "skip";
        case ES_SYNC_EXCLUDED:
                return "excluded";
        case ES_SYNC_UNSUPPORTED:
                return "unsupported";
        case ES_SYNC_FAILED:
                return "failed";
        case ES_SYNC_DEFERRED:
                return "deferred";
        }
        return "unknown";
}

/* A growable list of strings. */
struct string_list {
        char **items;
        size_t n, alloc;
};

static void string_list_add(struct string_list *list, const char *item)
{
        if (list->n == list->alloc) {
                list->alloc = list->alloc ? list->alloc * 2 : 64;
                list->items = es_realloc(list->items, list->alloc * sizeof(*list->items));
        }
        list->items[list->n++] = es_strdup(item);
}

static void string_list_release(struct string_list *list)
{
        for (size_t i = 0; i < list->n; i++)
                free(list->items[i]);
        free(list->items);
        memset(list, 0, sizeof(*list));
}

static int collect_tag(const char *tag, void *ctx)
{
        string_list_add(ctx, tag);
        return 0;
}

/* Tags and digests at the target, as pairs in one list: tag, digest, tag, digest, ... */
struct target_tags {
        struct string_list pairs;
};

static const char *target_digest_of(const struct target_tags *target, const char *tag)
{
        for (size_t i = 0; i + 1 < target->pairs.n; i += 2)
                if (strcmp(target->pairs.items[i], tag) == 0)
                        return target->pairs.items[i + 1];
        return NULL;
}

static int collect_ecr_image(const struct es_ecr_image *image, void *ctx)
{
        struct target_tags *target = ctx;

        if (image->tag == NULL)
                return 0;
        string_list_add(&target->pairs, image->tag);
        string_list_add(&target->pairs, image->digest);
        return 0;
}

/*
 * Read the target's tags and digests: ListImages for ECR (1000 per page,
 * digests included), else tags/list and a HEAD for each wanted tag.
 */
static int list_target(struct es_registries *registries, struct es_plan_image *image,
                       const struct string_list *wanted, struct target_tags *out,
                       struct es_error *err)
{
        const char *account = NULL;
        struct string_list tags = {0};
        struct es_ecr *ecr;
        int r = 0;

        r = es_registries_ecr_client(registries, image->target.registry, &ecr, &account, err);
        if (r < 0)
                return r;
        if (ecr) {
                r = es_ecr_list_images(ecr, account, image->target.repository, collect_ecr_image,
                                       out, err);
                /* A repository not created yet holds nothing. */
                if (r == -ES_ERR_NOT_FOUND) {
                        es_error_release(err);
                        r = 0;
                }
                return r;
        }

        r = es_registry_list_tags(image->dst, image->target.repository, collect_tag, &tags, err);
        if (r == -ES_ERR_NOT_FOUND) {
                /* A repository the first push will create holds nothing yet. */
                es_error_release(err);
                r = 0;
        }
        for (size_t i = 0; r >= 0 && i < tags.n; i++) {
                struct es_manifest_info info = {0};
                bool is_wanted = false, found = false;

                for (size_t j = 0; j < wanted->n && !is_wanted; j++)
                        is_wanted = strcmp(wanted->items[j], tags.items[i]) == 0;
                if (!is_wanted)
                        continue;
                r = es_registry_manifest_head(image->dst, image->target.repository, tags.items[i],
                                              &found, &info, err);
                if (r >= 0 && found && info.digest) {
                        string_list_add(&out->pairs, tags.items[i]);
                        string_list_add(&out->pairs, info.digest);
                }
                es_manifest_info_release(&info);
        }
        string_list_release(&tags);
        return r;
}

/* Items of one image, appended under the plan's lock. */
struct item_list {
        struct es_plan_item *items;
        size_t n, alloc;
};

static struct es_plan_item *item_add(struct item_list *list, size_t image, const char *tag,
                                     const struct es_plan_image *plan_image)
{
        struct es_plan_item *item;
        struct es_reference source = plan_image->config->source;
        struct es_reference target = plan_image->target;

        if (list->n == list->alloc) {
                list->alloc = list->alloc ? list->alloc * 2 : 64;
                list->items = es_realloc(list->items, list->alloc * sizeof(*list->items));
        }
        item = &list->items[list->n++];
        memset(item, 0, sizeof(*item));
        item->image = image;
        item->tag = es_strdup(tag);
        source.tag = (char *)tag;
        source.digest = NULL;
        target.tag = (char *)tag;
        target.digest = NULL;
        item->source = es_reference_format(&source);
        item->target = es_reference_format(&target);
        return item;
}

/*
 * A platform-filtered index at the target differs from upstream by design:
 * compare the source digest it records instead.
 */
static int recorded_source_matches(struct es_plan_image *image, const char *tag,
                                   const char *source_digest, bool *same, struct es_error *err)
{
        struct es_buf body = ES_BUF_INIT(ES_MAX_MANIFEST_SIZE);
        struct es_manifest_info info = {0};
        _cleanup_free_ char *recorded = NULL, *platforms = NULL;
        _cleanup_free_ char *wanted =
            es_platform_specs_format(image->config->platforms, image->config->n_platforms);
        int r;

        *same = false;
        r = es_registry_manifest_get(image->dst, image->target.repository, tag, &body, &info, err);
        es_manifest_info_release(&info);
        if (r < 0) {
                es_buf_release(&body);
                return r;
        }
        /* An index ecr-sync cannot read back is replaced, not an error. */
        if (es_platform_recorded_source(body.data ? body.data : "", body.len, &recorded, &platforms,
                                        err) < 0)
                es_error_release(err);
        if (recorded && platforms)
                *same = strcmp(recorded, source_digest) == 0 && strcmp(platforms, wanted) == 0;
        es_buf_release(&body);
        return 0;
}

static int decide(struct es_plan_image *image, struct es_plan_item *item,
                  const struct target_tags *target, struct es_error *err)
{
        struct es_manifest_info info = {0};
        const char *target_digest = target_digest_of(target, item->tag);
        bool found = false, same = false;
        int r;

        r = es_registry_manifest_head(image->src, image->config->source.repository, item->tag,
                                      &found, &info, err);
        if (r < 0)
                return r;
        if (!found || info.digest == NULL) {
                es_manifest_info_release(&info);
                return es_error_set(err, ES_ERR_NOT_FOUND,
                                    "tag '%s' is listed but its manifest is not found", item->tag);
        }
        snprintf(item->source_digest, sizeof(item->source_digest), "%s", info.digest);
        if (target_digest)
                snprintf(item->target_digest, sizeof(item->target_digest), "%s", target_digest);

        if (info.media_type && es_media_type_is_schema1(info.media_type)) {
                item->action = ES_SYNC_UNSUPPORTED;
                item->reason = es_strdup("Docker schema 1 manifest: registries no longer accept "
                                         "it and it cannot be copied byte for byte");
        } else if (target_digest == NULL) {
                item->action = ES_SYNC_COPY;
                item->reason =
                    es_strdup(image->config->n_platforms > 0 && info.media_type &&
                                      es_media_type_is_index(info.media_type)
                                  ? "missing at the target; a new index of the selected platforms "
                                    "is pushed, so its digest will differ from upstream"
                                  : "missing at the target");
        } else if (strcmp(target_digest, info.digest) == 0) {
                item->action = ES_SYNC_SKIP;
                item->reason = es_strdup("same digest");
        } else if (image->config->n_platforms > 0) {
                r = recorded_source_matches(image, item->tag, info.digest, &same, err);
                item->action = same ? ES_SYNC_SKIP : ES_SYNC_UPDATE;
                item->reason = es_strdup(
                    same ? "platform-filtered index made from the same source digest (its "
                           "own digest differs from upstream by design)"
                         : "the source digest or the platforms changed since the filtered "
                           "index was made");
        } else {
                item->action = ES_SYNC_UPDATE;
                item->reason = es_strdup("the target has another digest");
        }
        es_manifest_info_release(&info);
        return r;
}

/* Decisions sorted by the address of their tag string, to find one by pointer. */
static int by_tag_address(const void *a, const void *b)
{
        uintptr_t left = (uintptr_t)((const struct es_tag_decision *)a)->tag;
        uintptr_t right = (uintptr_t)((const struct es_tag_decision *)b)->tag;

        return left < right ? -1 : left > right;
}

/* The filter's decision for tag (the same string the filter saw), or NULL without a filter. */
static const struct es_tag_decision *find_decision(const struct es_tag_decision *sorted, size_t n,
                                                   const char *tag)
{
        struct es_tag_decision key = {.tag = tag};

        if (sorted == NULL)
                return NULL;
        return bsearch(&key, sorted, n, sizeof(*sorted), by_tag_address);
}

static int plan_image(const struct es_sync_config *config, struct es_registries *registries,
                      size_t index, struct es_plan_image *image, struct item_list *items,
                      struct es_error *err)
{
        const struct es_sync_image *spec = &config->images[index];
        struct string_list source_tags = {0}, kept = {0};
        struct es_tag_decision *decisions = NULL;
        struct target_tags target = {0};
        const char **order = NULL;
        int r;

        r = es_registry_list_tags(image->src, spec->source.repository, collect_tag, &source_tags,
                                  err);
        if (r < 0)
                goto done;
        image->n_source_tags = source_tags.n;

        if (spec->has_tags) {
                r = es_tag_filter_apply(spec->filter, (const char *const *)source_tags.items,
                                        source_tags.n, &decisions, err);
                if (r < 0)
                        goto done;
        } else if (source_tags.n > ES_PLAN_MANY_TAGS) {
                image->warn_many_tags = true;
        }

        for (size_t i = 0; i < source_tags.n; i++)
                if (decisions == NULL || decisions[i].kept)
                        string_list_add(&kept, source_tags.items[i]);

        r = list_target(registries, image, &kept, &target, err);
        if (r < 0)
                goto done;
        if (decisions)
                qsort(decisions, source_tags.n, sizeof(*decisions), by_tag_address);

        /* Oldest first, so count-based lifecycle rules expire the right images. */
        order = es_calloc(source_tags.n + 1, sizeof(*order));
        for (size_t i = 0; i < source_tags.n; i++)
                order[i] = source_tags.items[i];
        es_tags_sort_oldest_first(order, source_tags.n);
        for (size_t i = 0; i < source_tags.n && r >= 0; i++) {
                const struct es_tag_decision *decision =
                    find_decision(decisions, source_tags.n, order[i]);
                struct es_plan_item *item = item_add(items, index, order[i], image);

                if (decision && !decision->kept) {
                        item->action = ES_SYNC_EXCLUDED;
                        item->reason = es_strdup(decision->reason ? decision->reason : "excluded");
                        continue;
                }
                r = decide(image, item, &target, err);
                if (r < 0) {
                        item->action = ES_SYNC_FAILED;
                        item->error = es_strdup(es_error_message(err));
                        item->reason = es_strdup("could not read the source digest");
                        es_error_release(err);
                        r = 0;
                }
        }
done:
        free(order);
        if (decisions)
                es_tag_decisions_free(decisions, source_tags.n);
        string_list_release(&source_tags);
        string_list_release(&kept);
        string_list_release(&target.pairs);
        return r;
}

static double seconds_since(const struct timespec *start)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static int open_image(const struct es_sync_config *config, struct es_registries *registries,
                      const char *target_registry, size_t index, struct es_plan_image *image,
                      struct es_error *err)
{
        const struct es_sync_image *spec = &config->images[index];
        int r;

        image->config = spec;
        image->target.registry = es_strdup(target_registry);
        image->target.repository = es_strdup(spec->target_repository);
        r = es_registries_open(registries, &spec->source, false, &image->src, err);
        if (r >= 0)
                r = es_registries_open(registries, &image->target, true, &image->dst, err);
        return r;
}

int es_plan_build(const struct es_sync_config *config, struct es_registries *registries,
                  struct es_plan *plan, struct es_error *err)
{
        _cleanup_free_ char *target_registry = NULL;
        struct item_list items = {0};
        int r;

        memset(plan, 0, sizeof(*plan));
        if (config->target_is_ecr) {
                r = es_registries_ecr_target(registries, config->ecr_region, config->ecr_account,
                                             &target_registry, err);
                if (r < 0)
                        return r;
        } else {
                target_registry = es_strdup(config->target_registry);
        }

        plan->images = es_calloc(config->n_images, sizeof(*plan->images));
        plan->n_images = config->n_images;
        for (size_t i = 0; i < config->n_images; i++) {
                struct es_plan_image *image = &plan->images[i];
                struct es_error image_err = ES_ERROR_INIT;
                struct timespec start;

                clock_gettime(CLOCK_MONOTONIC, &start);
                r = open_image(config, registries, target_registry, i, image, &image_err);
                if (r >= 0)
                        r = plan_image(config, registries, i, image, &items, &image_err);
                if (r < 0) {
                        image->error = es_strdup(es_error_message(&image_err));
                        es_log_debug("plan: image '%s': %s", config->images[i].target_repository,
                                     image->error);
                }
                image->seconds = seconds_since(&start);
                es_error_release(&image_err);
        }
        plan->items = items.items;
        plan->n_items = items.n;
        return 0;
}

void es_plan_release(struct es_plan *plan)
{
        for (size_t i = 0; i < plan->n_items; i++) {
                free(plan->items[i].tag);
                free(plan->items[i].source);
                free(plan->items[i].target);
                free(plan->items[i].reason);
                free(plan->items[i].error);
        }
        free(plan->items);
        for (size_t i = 0; i < plan->n_images; i++) {
                es_registry_free(plan->images[i].src);
                es_registry_free(plan->images[i].dst);
                es_reference_release(&plan->images[i].target);
                free(plan->images[i].error);
        }
        free(plan->images);
        memset(plan, 0, sizeof(*plan));
}
