/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plans and reports for people and machines.
 *
 * Plan JSON (version 1):
 *   {"version": 1,
 *    "items": [{"source": REF, "target": REF, "tag": TAG,
 *               "source_digest": DIGEST|null, "target_digest": DIGEST|null,
 *               "action": "copy"|"update"|"skip"|"excluded"|"unsupported"|"failed",
 *               "reason": TEXT}, ...],
 *    "images": [{"source": REPO, "target": REPO, "error": TEXT|null, "tags": N}],
 *    "summary": {"copy": N, "update": N, "skip": N, "excluded": N,
 *                "unsupported": N, "failed": N, "images_failed": N}}
 * The report adds per image the tags by outcome, bytes, requests, source
 * manifest GETs and seconds, and totals; docs/sync.md describes it.
 */
#ifndef ES_SYNC_REPORT_H
#define ES_SYNC_REPORT_H

#include <stdio.h>

#include "base/error.h"
#include "sync/plan.h"

/* Counts of items by action, and images that could not be planned. */
struct es_plan_counts {
        unsigned actions[ES_SYNC_DEFERRED + 1];
        unsigned images_failed;
};

void es_plan_count(const struct es_plan *plan, struct es_plan_counts *out);

/* Write the plan as a table for people. */
void es_report_plan_text(FILE *out, const struct es_plan *plan);

/* Write the plan as JSON (the schema above) followed by a newline. */
void es_report_plan_json(FILE *out, const struct es_plan *plan);

/*
 * Check that a report can be created at path (its directory is writable, or
 * path is a writable special file such as /dev/stdout), before a run
 * starts. Returns ES_ERR_INVALID naming the path otherwise.
 */
int es_report_check_path(const char *path, struct es_error *err);

/*
 * Write the run report as JSON to path, through a temporary file in the same
 * directory that is renamed over path (special files are written in place). Returns ES_ERR_IO
 * naming the path on failure.
 */
int es_report_write(const char *path, const struct es_plan *plan, double seconds,
                    struct es_error *err);

/* The one-line summary of a run, for stdout. */
void es_report_summary(FILE *out, const struct es_plan *plan, double seconds, bool dry_run);

#endif
