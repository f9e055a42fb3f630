/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running a sync plan: the copy and update items run on a bounded pool of
 * worker threads, across images and tags, with blobs shared across the
 * whole run. One failing item does not stop the others. Work is deferred,
 * not started, once a source's rate-limit reserve is reached or the
 * deadline has passed.
 */
#ifndef ES_SYNC_EXECUTE_H
#define ES_SYNC_EXECUTE_H

#include <signal.h>

#include "base/error.h"
#include "copy/copy.h"
#include "sync/plan.h"

struct es_execute_options {
        int jobs;                          /* items copied in parallel, >= 1 */
        int blob_jobs;                     /* blobs in parallel within one item, >= 1 */
        double deadline;                   /* seconds from the start; 0: none */
        const volatile sig_atomic_t *stop; /* set by a signal handler: start nothing more */
        es_copy_event_fn on_event;         /* copy events; may be NULL */
        void (*on_item)(const struct es_plan_item *item, void *ctx); /* after each item */
        void *ctx;
};

/*
 * Run every copy and update item of plan, filling each item's stats,
 * error and final action (failed, deferred). Returns 0; per-item failures
 * are in the items.
 */
int es_execute_plan(const struct es_sync_config *config, struct es_registries *registries,
                    struct es_plan *plan, const struct es_execute_options *options,
                    struct es_error *err);

/* Pulls to keep unspent for a registry: its configured reserve, else 10% of the limit. */
long es_execute_reserve(const struct es_sync_config *config, const char *registry, long limit);

#endif
