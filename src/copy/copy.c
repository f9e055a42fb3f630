/* SPDX-License-Identifier: Apache-2.0 */
/* Copying one image graph: plan the blobs, transfer them in parallel, push manifests. */
#include "copy/copy.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/limits.h"
#include "base/log.h"
#include "copy/blob.h"
#include "copy/graph.h"
#include "copy/platform.h"

/* Blob work shared by the worker threads. */
struct blob_queue {
        pthread_mutex_t lock;
        struct es_blob_job *jobs;
        size_t n_jobs;
        size_t next;         /* index of the next job to hand out */
        bool failed;         /* stop handing out jobs after a failure */
        struct es_error err; /* the first failure */
        int result;
        struct es_copy_stats *stats;
        const struct es_copy_options *options;
};

static void emit(const struct es_copy_options *options, enum es_copy_event_type type,
                 const struct es_descriptor *descriptor, const char *reference)
{
        struct es_copy_event event = {
            .type = type,
            .digest = descriptor->digest,
            .media_type = descriptor->media_type,
            .size = descriptor->size,
            .reference = reference,
        };

        if (options->on_event)
                options->on_event(&event, options->event_ctx);
}

static void record_outcome(struct blob_queue *queue, const struct es_blob_job *job,
                           enum es_blob_outcome outcome)
{
        static const enum es_copy_event_type events[] = {
            [ES_BLOB_EXISTS] = ES_COPY_BLOB_EXISTS,
            [ES_BLOB_MOUNTED] = ES_COPY_BLOB_MOUNTED,
            [ES_BLOB_COPIED] = ES_COPY_BLOB_COPIED,
        };

        pthread_mutex_lock(&queue->lock);
        switch (outcome) {
        case ES_BLOB_EXISTS:
                queue->stats->blobs_skipped++;
                break;
        case ES_BLOB_MOUNTED:
                queue->stats->blobs_mounted++;
                break;
        case ES_BLOB_COPIED:
                queue->stats->blobs_copied++;
                queue->stats->bytes += (uint64_t)job->descriptor->size;
                break;
        }
        pthread_mutex_unlock(&queue->lock);
        emit(queue->options, events[outcome], job->descriptor, NULL);
}

static void *blob_worker(void *ctx)
{
        struct blob_queue *queue = ctx;

        for (;;) {
                struct es_error err = ES_ERROR_INIT;
                enum es_blob_outcome outcome;
                struct es_blob_job *job;
                int r;

                pthread_mutex_lock(&queue->lock);
                if (queue->failed || queue->next == queue->n_jobs) {
                        pthread_mutex_unlock(&queue->lock);
                        return NULL;
                }
                job = &queue->jobs[queue->next++];
                pthread_mutex_unlock(&queue->lock);

                r = es_blob_transfer(job, &outcome, &err);
                if (r >= 0) {
                        record_outcome(queue, job, outcome);
                        es_error_release(&err);
                        continue;
                }

                pthread_mutex_lock(&queue->lock);
                if (!queue->failed) {
                        queue->failed = true;
                        queue->result = r;
                        es_error_move(&queue->err, &err);
                }
                pthread_mutex_unlock(&queue->lock);
                es_error_release(&err);
        }
}

static const struct es_blob_job *find_job(const struct es_blob_job *jobs, size_t n,
                                          const char *digest)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(jobs[i].descriptor->digest, digest) == 0)
                        return &jobs[i];
        return NULL;
}

static int add_blob(struct blob_queue *queue, const struct es_blob_job *model,
                    const struct es_descriptor *descriptor, const char **foreign_seen,
                    size_t *n_foreign, struct es_error *err)
{
        const struct es_blob_job *known = find_job(queue->jobs, queue->n_jobs, descriptor->digest);

        if (known) {
                /* One digest names one content: descriptors that disagree are corrupt. */
                if (known->descriptor->size != descriptor->size)
                        return es_error_set(err, ES_ERR_INVALID,
                                            "blob '%s' is listed with sizes %lld and %lld",
                                            descriptor->digest, (long long)known->descriptor->size,
                                            (long long)descriptor->size);
                return 0;
        }
        if (es_descriptor_is_foreign(descriptor) && !queue->options->include_foreign_layers) {
                for (size_t i = 0; i < *n_foreign; i++)
                        if (strcmp(foreign_seen[i], descriptor->digest) == 0)
                                return 0;
                foreign_seen[(*n_foreign)++] = descriptor->digest;
                queue->stats->blobs_foreign++;
                emit(queue->options, ES_COPY_BLOB_FOREIGN, descriptor, NULL);
                return 0;
        }
        queue->jobs[queue->n_jobs] = *model;
        queue->jobs[queue->n_jobs].descriptor = descriptor;
        queue->n_jobs++;
        return 0;
}

/* Collect each distinct blob of the graph once, leaving foreign layers out unless asked. */
static int plan_blobs(struct blob_queue *queue, const struct es_graph *graph,
                      const struct es_blob_job *model, struct es_error *err)
{
        size_t total = 0, n_foreign = 0;
        const char **foreign_seen;
        int r = 0;

        for (size_t i = 0; i < graph->n_nodes; i++)
                total += graph->nodes[i].manifest.n_layers + 1;
        queue->jobs = es_calloc(total, sizeof(*queue->jobs));
        foreign_seen = es_calloc(total, sizeof(*foreign_seen));

        for (size_t i = 0; r >= 0 && i < graph->n_nodes; i++) {
                const struct es_manifest *manifest = &graph->nodes[i].manifest;

                if (manifest->kind != ES_MANIFEST_IMAGE)
                        continue;
                if (manifest->has_config)
                        r = add_blob(queue, model, &manifest->config, foreign_seen, &n_foreign,
                                     err);
                for (size_t j = 0; r >= 0 && j < manifest->n_layers; j++)
                        r = add_blob(queue, model, &manifest->layers[j], foreign_seen, &n_foreign,
                                     err);
        }
        free(foreign_seen);
        return r;
}

static int transfer_blobs(const struct es_graph *graph, const struct es_blob_job *model,
                          const struct es_copy_options *options, struct es_copy_stats *stats,
                          struct es_error *err)
{
        struct blob_queue queue = {.options = options, .stats = stats, .err = ES_ERROR_INIT};
        pthread_t threads[ES_MAX_JOBS];
        int n_threads = 0, r = 0;

        pthread_mutex_init(&queue.lock, NULL);
        r = plan_blobs(&queue, graph, model, err);
        if (r < 0)
                goto done;

        for (int i = 0; i < options->jobs && (size_t)i < queue.n_jobs; i++) {
                if (pthread_create(&threads[n_threads], NULL, blob_worker, &queue) != 0)
                        break;
                n_threads++;
        }
        if (n_threads == 0 && queue.n_jobs > 0)
                blob_worker(&queue);
        for (int i = 0; i < n_threads; i++)
                pthread_join(threads[i], NULL);

        if (queue.failed) {
                es_error_move(err, &queue.err);
                r = queue.result;
        }
done:
        es_error_release(&queue.err);
        pthread_mutex_destroy(&queue.lock);
        free(queue.jobs);
        return r;
}

static int push_manifest(struct es_registry *dst, const char *repository,
                         const struct es_graph_node *node, const char *reference,
                         const struct es_copy_options *options, struct es_copy_stats *stats,
                         struct es_error *err)
{
        const struct es_descriptor described = {
            .digest = (char *)node->digest,
            .media_type = node->manifest.media_type,
            .size = (int64_t)node->bytes.len,
        };
        int r;

        r = es_registry_manifest_put(dst, repository, reference, node->manifest.media_type,
                                     node->bytes.data, node->bytes.len, err);
        if (r < 0)
                return r;
        stats->manifests_pushed++;
        emit(options, ES_COPY_MANIFEST_PUSHED, &described, reference);
        return 0;
}

/* Push every child manifest by digest, skipping those the target has. */
static int push_children(struct es_registry *dst, const char *repository,
                         const struct es_graph *graph, const struct es_copy_options *options,
                         struct es_copy_stats *stats, struct es_error *err)
{
        for (size_t i = 0; i + 1 < graph->n_nodes; i++) {
                const struct es_graph_node *node = &graph->nodes[i];
                struct es_manifest_info info = {0};
                bool found = false;
                int r;

                r = es_registry_manifest_head(dst, repository, node->digest, &found, &info, err);
                es_manifest_info_release(&info);
                if (r < 0)
                        return r;
                if (found) {
                        const struct es_descriptor described = {
                            .digest = (char *)node->digest,
                            .media_type = node->manifest.media_type,
                            .size = (int64_t)node->bytes.len,
                        };

                        stats->manifests_skipped++;
                        emit(options, ES_COPY_MANIFEST_EXISTS, &described, node->digest);
                        continue;
                }
                r = push_manifest(dst, repository, node, node->digest, options, stats, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* What HEAD requests (not counted as pulls by Docker Hub) tell before any GET. */
struct precheck {
        char digest[ES_DIGEST_SHA256_LENGTH]; /* the source's, or "" when unknown */
        bool up_to_date;     /* the target reference already has the source digest */
        bool dst_has_digest; /* the target repository holds the manifest under another tag */
};

/* A platform-filtered index at the target records the upstream digest it was made from. */
static int filtered_from(struct es_registry *dst, const struct es_reference *target,
                         const char *source_digest, const struct es_copy_options *options,
                         bool *same, struct es_error *err)
{
        _cleanup_free_ char *wanted =
            es_platform_specs_format(options->platforms, options->n_platforms);
        struct es_buf body = ES_BUF_INIT(ES_MAX_MANIFEST_SIZE);
        struct es_manifest_info info = {0};
        _cleanup_free_ char *recorded = NULL, *platforms = NULL;
        int r;

        *same = false;
        r = es_registry_manifest_get(dst, target->repository, es_reference_manifest_ref(target),
                                     &body, &info, err);
        es_manifest_info_release(&info);
        if (r >= 0)
                r = es_platform_recorded_source(body.data ? body.data : "", body.len, &recorded,
                                                &platforms, err);
        /* Anything unreadable is simply not a match: the copy then runs. */
        if (r < 0) {
                es_error_release(err);
                r = 0;
        }
        /* The same upstream digest filtered for other platforms is not the same image. */
        if (recorded && platforms)
                *same = strcmp(recorded, source_digest) == 0 && strcmp(platforms, wanted) == 0;
        es_buf_release(&body);
        return r;
}

static int precheck(struct es_registry *src, const struct es_reference *source,
                    struct es_registry *dst, const struct es_reference *target,
                    const struct es_copy_options *options, struct precheck *out,
                    struct es_error *err)
{
        struct es_manifest_info src_info = {0}, dst_info = {0};
        bool src_found = false, dst_found = false;
        int r;

        memset(out, 0, sizeof(*out));
        r = es_registry_manifest_head(src, source->repository, es_reference_manifest_ref(source),
                                      &src_found, &src_info, err);
        if (r < 0 || !src_found || src_info.digest == NULL ||
            es_digest_validate_supported(src_info.digest, NULL) < 0)
                goto done;
        if (source->digest && strcmp(source->digest, src_info.digest) != 0)
                goto done;
        snprintf(out->digest, sizeof(out->digest), "%s", src_info.digest);

        r = es_registry_manifest_head(dst, target->repository, es_reference_manifest_ref(target),
                                      &dst_found, &dst_info, err);
        if (r < 0)
                goto done;
        if (dst_found && dst_info.digest && strcmp(dst_info.digest, out->digest) == 0) {
                out->up_to_date = true;
                goto done;
        }
        if (dst_found && options->n_platforms > 0) {
                r = filtered_from(dst, target, out->digest, options, &out->up_to_date, err);
                goto done;
        }
        if (target->digest == NULL) {
                es_manifest_info_release(&dst_info);
                r = es_registry_manifest_head(dst, target->repository, out->digest,
                                              &out->dst_has_digest, &dst_info, err);
        }
done:
        es_manifest_info_release(&src_info);
        es_manifest_info_release(&dst_info);
        return r;
}

/*
 * The target already holds the manifest and, as registries check on push,
 * everything it lists: read it there and push it under the tag, so the
 * source sees no GET.
 */
static int retag(struct es_registry *dst, const struct es_reference *target, const char *digest,
                 const struct es_copy_options *options, struct es_copy_stats *stats,
                 struct es_error *err)
{
        struct es_graph graph = {0};
        int r;

        r = es_graph_fetch_one(dst, target->repository, digest, &graph, err);
        if (r < 0)
                return r;
        r = push_manifest(dst, target->repository, es_graph_root(&graph),
                          es_reference_manifest_ref(target), options, stats, err);
        es_graph_release(&graph);
        return r;
}

int es_copy_image(struct es_registry *src, const struct es_reference *source,
                  struct es_registry *dst, const struct es_reference *target,
                  const struct es_copy_options *options, struct es_copy_stats *stats,
                  struct es_error *err)
{
        struct es_graph graph = {0};
        const struct es_graph_node *root;
        struct precheck known;
        bool same_registry;
        struct es_blob_job model;
        int r;

        memset(stats, 0, sizeof(*stats));
        r = precheck(src, source, dst, target, options, &known, err);
        if (r < 0)
                return r;
        snprintf(stats->digest, sizeof(stats->digest), "%s", known.digest);
        if (known.up_to_date) {
                stats->up_to_date = true;
                stats->manifests_skipped = 1;
                return 0;
        }
        if (known.dst_has_digest && options->n_platforms == 0)
                return retag(dst, target, known.digest, options, stats, err);

        r = es_graph_fetch_platforms(src, source->repository, es_reference_manifest_ref(source),
                                     options->platforms, options->n_platforms, &graph, err);
        if (r < 0)
                return r;
        root = es_graph_root(&graph);
        snprintf(stats->digest, sizeof(stats->digest), "%s", root->digest);
        if (graph.filtered)
                snprintf(stats->source_digest, sizeof(stats->source_digest), "%s",
                         graph.source_digest);
        if (target->digest && strcmp(target->digest, root->digest) != 0) {
                r = es_error_set(err, ES_ERR_INVALID,
                                 "the target digest '%s' differs from the source's '%s'",
                                 target->digest, root->digest);
                goto done;
        }

        same_registry = strcmp(es_registry_name(src), es_registry_name(dst)) == 0;
        model = (struct es_blob_job){
            .src = src,
            .src_repository = source->repository,
            .dst = dst,
            .dst_repository = target->repository,
            .mount_from = same_registry && strcmp(source->repository, target->repository) != 0
                              ? source->repository
                              : NULL,
            .options = options,
        };
        r = transfer_blobs(&graph, &model, options, stats, err);
        if (r < 0)
                goto done;

        r = push_children(dst, target->repository, &graph, options, stats, err);
        if (r < 0)
                goto done;

        /* The tag moves last, once everything it points to is in place. */
        r = push_manifest(dst, target->repository, root, es_reference_manifest_ref(target), options,
                          stats, err);
done:
        es_graph_release(&graph);
        return r;
}
