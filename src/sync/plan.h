/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sync plan: for every configured image, every source tag with the
 * action that brings the target in line and the reason for it.
 *
 * Building a plan lists tags on both sides and compares digests using HEAD
 * requests at the source, which Docker Hub does not count as pulls: a run
 * that finds nothing to do sends no manifest GET to the source. Target
 * manifests may be read with GET (for platform-filtered indexes, to compare
 * the source digest they record).
 */
#ifndef ES_SYNC_PLAN_H
#define ES_SYNC_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "copy/copy.h"
#include "registry/client.h"
#include "registry/digest.h"
#include "sync/config.h"
#include "sync/registries.h"

enum es_sync_action {
        ES_SYNC_COPY,        /* missing at the target */
        ES_SYNC_UPDATE,      /* the target has another digest */
        ES_SYNC_SKIP,        /* same digest, or same recorded source digest */
        ES_SYNC_EXCLUDED,    /* a tag filter left it out */
        ES_SYNC_UNSUPPORTED, /* schema 1 */
        ES_SYNC_FAILED,      /* set by the executor */
        ES_SYNC_DEFERRED,    /* set by the executor: rate-limit reserve or deadline */
};

/* "copy", "update", ... as in plans and reports. */
const char *es_sync_action_name(enum es_sync_action action);

struct es_plan_item {
        size_t image; /* index into the configuration's images */
        char *tag;
        char *source;                                /* full reference with tag */
        char *target;                                /* full reference with tag */
        char source_digest[ES_DIGEST_SHA256_LENGTH]; /* "" when unknown */
        char target_digest[ES_DIGEST_SHA256_LENGTH]; /* "" when the tag is missing */
        enum es_sync_action action;
        char *reason; /* why, for people */

        /* Filled by the executor. */
        struct es_copy_stats stats;
        char *error;
        double seconds;
};

/* Per image: its clients and what listing it cost. */
struct es_plan_image {
        const struct es_sync_image *config;
        struct es_reference target; /* target repository, without tag */
        struct es_registry *src;    /* owned */
        struct es_registry *dst;    /* owned */
        char *error;                /* set when the image could not be planned; owned */
        size_t n_source_tags;
        bool warn_many_tags; /* no tag filter and more than 100 tags */
        double seconds;      /* planning requests for this image, summed over workers */
};

struct es_plan {
        struct es_plan_image *images;
        size_t n_images;
        struct es_plan_item *items; /* grouped by image, oldest tag first within an image */
        size_t n_items;
};

/*
 * Plan every image of config, sending up to jobs requests at a time: the
 * images' listings, then a HEAD per listed target tag (not for ECR, whose
 * listing has the digests), then a HEAD per kept source tag. Images whose
 * listing fails get their error in images[i].error and no items; the plan
 * still succeeds. Returns an error only for failures that affect every
 * image (such as the target registry's credentials). Release with
 * es_plan_release().
 */
int es_plan_build(const struct es_sync_config *config, struct es_registries *registries, int jobs,
                  struct es_plan *plan, struct es_error *err);

void es_plan_release(struct es_plan *plan);

/* Tags a plan warns about: without a tag filter, more than this many tags. */
#define ES_PLAN_MANY_TAGS 100

#endif
