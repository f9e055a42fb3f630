/* SPDX-License-Identifier: Apache-2.0 */
/* Running a sync plan on a bounded worker pool. */
#include "sync/execute.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/limits.h"
#include "base/log.h"
#include "copy/blob_index.h"

/* Share of the advertised limit kept unspent when no reserve is configured. */
#define DEFAULT_RESERVE_PERCENT 10

struct run {
        const struct es_sync_config *config;
        struct es_registries *registries;
        struct es_plan *plan;
        const struct es_execute_options *options;
        struct es_blob_index *blobs;
        struct timespec start;

        pthread_mutex_t lock; /* guards next and claimed */
        size_t next;
        bool *claimed; /* per item: a worker has taken it */
};

long es_execute_reserve(const struct es_sync_config *config, const char *registry, long limit)
{
        for (size_t i = 0; i < config->n_registries; i++)
                if (strcasecmp(config->registries[i].host, registry) == 0 &&
                    config->registries[i].rate_limit_reserve >= 0)
                        return config->registries[i].rate_limit_reserve;
        return limit * DEFAULT_RESERVE_PERCENT / 100;
}

static double elapsed(const struct timespec *start)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Why an item must wait for another run, or NULL when it may start. Caller frees. */
static char *deferral(struct run *run, const struct es_plan_image *image)
{
        const char *registry = image->config->source.registry;
        long limit, remaining, window;

        if (run->options->stop && *run->options->stop)
                return es_strdup("the run was interrupted");
        if (run->options->deadline > 0 && elapsed(&run->start) >= run->options->deadline)
                return es_strdup("the deadline was reached");
        if (es_rate_limit_get(es_registries_rate_limit(run->registries, registry), &limit,
                              &remaining, &window)) {
                long reserve = es_execute_reserve(run->config, registry, limit);

                if (remaining <= reserve)
                        return es_asprintf("rate-limit reserve of '%s' reached: %ld of %ld pulls "
                                           "left, %ld kept unspent",
                                           registry, remaining, limit, reserve);
        }
        return NULL;
}

static void run_item(struct run *run, struct es_plan_item *item)
{
        struct es_plan_image *image = &run->plan->images[item->image];
        const struct es_sync_image *spec = image->config;
        struct es_copy_options copy_options = {
            .jobs = run->options->blob_jobs,
            .on_event = run->options->on_event,
            .event_ctx = run->options->ctx,
            .blob_index = run->blobs,
            .platforms = spec->platforms,
            .n_platforms = spec->n_platforms,
        };
        struct es_reference source = spec->source, target = image->target;
        struct es_error err = ES_ERROR_INIT;
        struct timespec start;
        char *why;
        int r;

        why = deferral(run, image);
        if (why) {
                item->action = ES_SYNC_DEFERRED;
                free(item->reason);
                item->reason = why;
                return;
        }

        clock_gettime(CLOCK_MONOTONIC, &start);
        source.tag = target.tag = item->tag;
        source.digest = target.digest = NULL;
        r = es_copy_image(image->src, &source, image->dst, &target, &copy_options, &item->stats,
                          &err);
        item->seconds = elapsed(&start);
        if (r == -ES_ERR_RATE_LIMITED) {
                item->action = ES_SYNC_DEFERRED;
                free(item->reason);
                item->reason =
                    es_asprintf("the source is rate limited: %s", es_error_message(&err));
        } else if (r < 0) {
                item->action = r == -ES_ERR_UNSUPPORTED ? ES_SYNC_UNSUPPORTED : ES_SYNC_FAILED;
                item->error = es_strdup(es_error_message(&err));
        }
        es_error_release(&err);
}

static bool wants_copy(const struct es_plan_item *item)
{
        return item->action == ES_SYNC_COPY || item->action == ES_SYNC_UPDATE;
}

/*
 * Take the next item and every later item of the same image with the same
 * source digest (tags such as 1, 1.27 and 1.27.3 often name one image). One
 * worker runs them in order, so the first copies the image and the others
 * become tag pushes from the target's own copy, with no pull at the source.
 */
static size_t claim(struct run *run, size_t *items, size_t max)
{
        size_t n = 0;

        pthread_mutex_lock(&run->lock);
        while (run->next < run->plan->n_items && n == 0) {
                size_t first = run->next++;
                const struct es_plan_item *lead = &run->plan->items[first];

                if (run->claimed[first] || !wants_copy(lead))
                        continue;
                run->claimed[first] = true;
                items[n++] = first;
                for (size_t i = first + 1; i < run->plan->n_items && n < max; i++) {
                        const struct es_plan_item *other = &run->plan->items[i];

                        if (run->claimed[i] || !wants_copy(other) || other->image != lead->image ||
                            lead->source_digest[0] == '\0' ||
                            strcmp(other->source_digest, lead->source_digest) != 0)
                                continue;
                        run->claimed[i] = true;
                        items[n++] = i;
                }
        }
        pthread_mutex_unlock(&run->lock);
        return n;
}

static void *worker(void *ctx)
{
        struct run *run = ctx;
        size_t *batch = es_calloc(run->plan->n_items + 1, sizeof(*batch));
        size_t n;

        while ((n = claim(run, batch, run->plan->n_items)) > 0) {
                for (size_t i = 0; i < n; i++) {
                        struct es_plan_item *item = &run->plan->items[batch[i]];

                        run_item(run, item);
                        if (run->options->on_item)
                                run->options->on_item(item, run->options->ctx);
                }
        }
        free(batch);
        return NULL;
}

int es_execute_plan(const struct es_sync_config *config, struct es_registries *registries,
                    struct es_plan *plan, const struct es_execute_options *options,
                    struct es_error *err)
{
        struct run run = {
            .config = config,
            .registries = registries,
            .plan = plan,
            .options = options,
        };
        pthread_t threads[ES_MAX_JOBS];
        int n_threads = 0;

        clock_gettime(CLOCK_MONOTONIC, &run.start);
        pthread_mutex_init(&run.lock, NULL);
        run.blobs = es_blob_index_new();
        run.claimed = es_calloc(plan->n_items + 1, sizeof(*run.claimed));

        for (int i = 0; i < options->jobs && i < ES_MAX_JOBS; i++) {
                if (pthread_create(&threads[n_threads], NULL, worker, &run) != 0)
                        break;
                n_threads++;
        }
        if (n_threads == 0)
                worker(&run);
        for (int i = 0; i < n_threads; i++)
                pthread_join(threads[i], NULL);

        es_blob_index_free(run.blobs);
        free(run.claimed);
        pthread_mutex_destroy(&run.lock);
        return 0;
}
