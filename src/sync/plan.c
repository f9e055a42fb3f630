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
#include "base/parallel.h"
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

/* A tag at the target and the digest it names. */
struct tag_digest {
        char *tag;
        char *digest;
};

/* The target's tags, sorted by tag once listed. */
struct target_tags {
        struct tag_digest *entries;
        size_t n, alloc;
};

static void target_add(struct target_tags *target, const char *tag, const char *digest)
{
        if (target->n == target->alloc) {
                target->alloc = target->alloc ? target->alloc * 2 : 64;
                target->entries =
                    es_realloc(target->entries, target->alloc * sizeof(*target->entries));
        }
        target->entries[target->n].tag = es_strdup(tag);
        target->entries[target->n].digest = es_strdup(digest);
        target->n++;
}

static int by_tag(const void *a, const void *b)
{
        return strcmp(((const struct tag_digest *)a)->tag, ((const struct tag_digest *)b)->tag);
}

static void target_sort(struct target_tags *target)
{
        if (target->n > 1)
                qsort(target->entries, target->n, sizeof(*target->entries), by_tag);
}

static const char *target_digest_of(const struct target_tags *target, const char *tag)
{
        struct tag_digest key = {.tag = (char *)tag};
        const struct tag_digest *found;

        if (target->n == 0)
                return NULL;
        found = bsearch(&key, target->entries, target->n, sizeof(*target->entries), by_tag);
        return found ? found->digest : NULL;
}

static void target_release(struct target_tags *target)
{
        for (size_t i = 0; i < target->n; i++) {
                free(target->entries[i].tag);
                free(target->entries[i].digest);
        }
        free(target->entries);
        memset(target, 0, sizeof(*target));
}

static int collect_ecr_image(const struct es_ecr_image *image, void *ctx)
{
        if (image->tag != NULL)
                target_add(ctx, image->tag, image->digest);
        return 0;
}

static int by_string(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether tag is in sorted, a list sorted with by_string. */
static bool sorted_contains(const struct string_list *sorted, const char *tag)
{
        return sorted->n > 0 &&
               bsearch(&tag, sorted->items, sorted->n, sizeof(*sorted->items), by_string) != NULL;
}

/* Per-image planning state, gathered before any per-tag request. */
struct image_state {
        struct string_list source_tags;
        struct es_tag_decision *decisions; /* one per source tag, or NULL without a filter */
        struct target_tags target;
        struct string_list to_head; /* tags the target lists and the plan wants: HEAD each */
        int r;
        struct es_error err;
        double seconds; /* requests made for this image, summed over workers */
};

/*
 * Read the target's tags: ListImages for ECR (1000 per page, digests
 * included), else tags/list, keeping the wanted tags for a HEAD each.
 */
static int list_target(struct es_registries *registries, struct es_plan_image *image,
                       struct string_list *wanted, struct image_state *state, struct es_error *err)
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
                                       &state->target, err);
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
        if (wanted->n > 1)
                qsort(wanted->items, wanted->n, sizeof(*wanted->items), by_string);
        for (size_t i = 0; r >= 0 && i < tags.n; i++)
                if (sorted_contains(wanted, tags.items[i]))
                        string_list_add(&state->to_head, tags.items[i]);
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

static double seconds_since(const struct timespec *start)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* A target tag to HEAD, or a plan item to decide: one request (or two) per task. */
struct tag_task {
        size_t index; /* the image for a HEAD, the item for a decision */
        const char *tag;
        char *digest; /* HEAD: the digest found, NULL when the tag is gone */
        int r;
        struct es_error err;
        double seconds;
};

struct task_list {
        struct tag_task *tasks;
        size_t n, alloc;
};

static struct tag_task *task_add(struct task_list *list, size_t index, const char *tag)
{
        struct tag_task *task;

        if (list->n == list->alloc) {
                list->alloc = list->alloc ? list->alloc * 2 : 64;
                list->tasks = es_realloc(list->tasks, list->alloc * sizeof(*list->tasks));
        }
        task = &list->tasks[list->n++];
        memset(task, 0, sizeof(*task));
        task->index = index;
        task->tag = tag;
        return task;
}

static void task_list_release(struct task_list *list)
{
        for (size_t i = 0; i < list->n; i++) {
                free(list->tasks[i].digest);
                es_error_release(&list->tasks[i].err);
        }
        free(list->tasks);
        memset(list, 0, sizeof(*list));
}

/* Everything es_plan_build's phases share. */
struct planner {
        const struct es_sync_config *config;
        struct es_registries *registries;
        const char *target_registry;
        struct es_plan *plan;
        int jobs;
        struct image_state *states; /* one per image */
        struct item_list items;
        struct task_list tasks; /* the phase running now */
};

static int open_image(struct planner *planner, size_t index, struct es_error *err)
{
        const struct es_sync_image *spec = &planner->config->images[index];
        struct es_plan_image *image = &planner->plan->images[index];
        int r;

        image->config = spec;
        image->target.registry = es_strdup(planner->target_registry);
        image->target.repository = es_strdup(spec->target_repository);
        r = es_registries_open(planner->registries, &spec->source, false, &image->src, err);
        if (r >= 0)
                r = es_registries_open(planner->registries, &image->target, true, &image->dst, err);
        return r;
}

/* Phase 1, one task per image: open its clients, list and filter its tags, list the target. */
static void list_image(size_t index, void *ctx)
{
        struct planner *planner = ctx;
        const struct es_sync_image *spec = &planner->config->images[index];
        struct es_plan_image *image = &planner->plan->images[index];
        struct image_state *state = &planner->states[index];
        struct string_list kept = {0};
        struct timespec start;
        int r;

        clock_gettime(CLOCK_MONOTONIC, &start);
        r = open_image(planner, index, &state->err);
        if (r >= 0)
                r = es_registry_list_tags(image->src, spec->source.repository, collect_tag,
                                          &state->source_tags, &state->err);
        if (r >= 0) {
                image->n_source_tags = state->source_tags.n;
                if (spec->has_tags)
                        r = es_tag_filter_apply(
                            spec->filter, (const char *const *)state->source_tags.items,
                            state->source_tags.n, &state->decisions, &state->err);
                else if (state->source_tags.n > ES_PLAN_MANY_TAGS)
                        image->warn_many_tags = true;
        }
        if (r >= 0) {
                for (size_t i = 0; i < state->source_tags.n; i++)
                        if (state->decisions == NULL || state->decisions[i].kept)
                                string_list_add(&kept, state->source_tags.items[i]);
                r = list_target(planner->registries, image, &kept, state, &state->err);
        }
        string_list_release(&kept);
        state->r = r;
        state->seconds = seconds_since(&start);
}

/* Phase 2, one task per listed target tag (not for ECR): read its digest. */
static void head_target_tag(size_t index, void *ctx)
{
        struct planner *planner = ctx;
        struct tag_task *task = &planner->tasks.tasks[index];
        const struct es_plan_image *image = &planner->plan->images[task->index];
        struct es_manifest_info info = {0};
        struct timespec start;
        bool found = false;

        clock_gettime(CLOCK_MONOTONIC, &start);
        task->r = es_registry_manifest_head(image->dst, image->target.repository, task->tag, &found,
                                            &info, &task->err);
        if (task->r >= 0 && found && info.digest)
                task->digest = es_strdup(info.digest);
        es_manifest_info_release(&info);
        task->seconds = seconds_since(&start);
}

static void head_target_tags(struct planner *planner)
{
        for (size_t i = 0; i < planner->plan->n_images; i++)
                for (size_t j = 0; planner->states[i].r >= 0 && j < planner->states[i].to_head.n;
                     j++)
                        task_add(&planner->tasks, i, planner->states[i].to_head.items[j]);

        es_parallel_for(planner->tasks.n, planner->jobs, head_target_tag, planner);

        /* The first failed HEAD fails its image, as a failed listing would. */
        for (size_t i = 0; i < planner->tasks.n; i++) {
                struct tag_task *task = &planner->tasks.tasks[i];
                struct image_state *state = &planner->states[task->index];

                state->seconds += task->seconds;
                if (task->r < 0 && state->r >= 0) {
                        state->r = task->r;
                        es_error_move(&state->err, &task->err);
                } else if (task->digest) {
                        target_add(&state->target, task->tag, task->digest);
                }
        }
        for (size_t i = 0; i < planner->plan->n_images; i++)
                target_sort(&planner->states[i].target);
        task_list_release(&planner->tasks);
}

/* Add an image's items, oldest tag first, and a decision task for each kept tag. */
static void add_items(struct planner *planner, size_t index)
{
        struct image_state *state = &planner->states[index];
        const struct es_plan_image *image = &planner->plan->images[index];
        size_t n = state->source_tags.n;
        _cleanup_free_ const char **order = es_calloc(n + 1, sizeof(*order));

        if (state->decisions)
                qsort(state->decisions, n, sizeof(*state->decisions), by_tag_address);
        /* Oldest first, so count-based lifecycle rules expire the right images. */
        for (size_t i = 0; i < n; i++)
                order[i] = state->source_tags.items[i];
        es_tags_sort_oldest_first(order, n);

        for (size_t i = 0; i < n; i++) {
                const struct es_tag_decision *decision =
                    find_decision(state->decisions, n, order[i]);
                struct es_plan_item *item = item_add(&planner->items, index, order[i], image);

                if (decision && !decision->kept) {
                        item->action = ES_SYNC_EXCLUDED;
                        item->reason = es_strdup(decision->reason ? decision->reason : "excluded");
                        continue;
                }
                task_add(&planner->tasks, planner->items.n - 1, item->tag);
        }
}

/* Phase 3, one task per kept tag: read the source digest and decide. */
static void decide_item(size_t index, void *ctx)
{
        struct planner *planner = ctx;
        struct tag_task *task = &planner->tasks.tasks[index];
        struct es_plan_item *item = &planner->items.items[task->index];
        struct es_plan_image *image = &planner->plan->images[item->image];
        struct timespec start;

        clock_gettime(CLOCK_MONOTONIC, &start);
        if (decide(image, item, &planner->states[item->image].target, &task->err) < 0) {
                item->action = ES_SYNC_FAILED;
                item->error = es_strdup(es_error_message(&task->err));
                free(item->reason);
                item->reason = es_strdup("could not read the source digest");
        }
        task->seconds = seconds_since(&start);
}

static void decide_items(struct planner *planner)
{
        for (size_t i = 0; i < planner->plan->n_images; i++)
                if (planner->states[i].r >= 0)
                        add_items(planner, i);

        es_parallel_for(planner->tasks.n, planner->jobs, decide_item, planner);

        for (size_t i = 0; i < planner->tasks.n; i++) {
                const struct tag_task *task = &planner->tasks.tasks[i];

                planner->states[planner->items.items[task->index].image].seconds += task->seconds;
        }
        task_list_release(&planner->tasks);
}

/* Move each image's outcome into the plan and free what planning kept. */
static void finish_images(struct planner *planner)
{
        for (size_t i = 0; i < planner->plan->n_images; i++) {
                struct image_state *state = &planner->states[i];
                struct es_plan_image *image = &planner->plan->images[i];

                if (state->r < 0) {
                        image->error = es_strdup(es_error_message(&state->err));
                        es_log_debug("plan: image '%s': %s",
                                     planner->config->images[i].target_repository, image->error);
                }
                image->seconds = state->seconds;
                if (state->decisions)
                        es_tag_decisions_free(state->decisions, state->source_tags.n);
                string_list_release(&state->source_tags);
                string_list_release(&state->to_head);
                target_release(&state->target);
                es_error_release(&state->err);
        }
}

int es_plan_build(const struct es_sync_config *config, struct es_registries *registries, int jobs,
                  struct es_plan *plan, struct es_error *err)
{
        _cleanup_free_ char *target_registry = NULL;
        struct planner planner = {
            .config = config,
            .registries = registries,
            .plan = plan,
            .jobs = jobs,
        };
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
        planner.target_registry = target_registry;

        plan->images = es_calloc(config->n_images + 1, sizeof(*plan->images));
        plan->n_images = config->n_images;
        planner.states = es_calloc(config->n_images + 1, sizeof(*planner.states));

        es_parallel_for(config->n_images, jobs, list_image, &planner);
        head_target_tags(&planner);
        decide_items(&planner);
        finish_images(&planner);

        free(planner.states);
        plan->items = planner.items.items;
        plan->n_items = planner.items.n;
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
