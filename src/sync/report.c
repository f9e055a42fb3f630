/* SPDX-License-Identifier: Apache-2.0 */
/* Plans and reports as text and JSON. */
#include "sync/report.h"

#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/cleanup.h"

void es_plan_count(const struct es_plan *plan, struct es_plan_counts *out)
{
        memset(out, 0, sizeof(*out));
        for (size_t i = 0; i < plan->n_items; i++)
                out->actions[plan->items[i].action]++;
        for (size_t i = 0; i < plan->n_images; i++)
                if (plan->images[i].error)
                        out->images_failed++;
}

static json_t *string_or_null(const char *text)
{
        return text && *text ? json_string(text) : json_null();
}

static json_t *item_json(const struct es_plan_item *item)
{
        json_t *object = json_object();

        json_object_set_new(object, "source", json_string(item->source));
        json_object_set_new(object, "target", json_string(item->target));
        json_object_set_new(object, "tag", json_string(item->tag));
        json_object_set_new(object, "source_digest", string_or_null(item->source_digest));
        json_object_set_new(object, "target_digest", string_or_null(item->target_digest));
        json_object_set_new(object, "action", json_string(es_sync_action_name(item->action)));
        json_object_set_new(object, "reason", string_or_null(item->reason));
        if (item->error)
                json_object_set_new(object, "error", json_string(item->error));
        if (item->stats.source_digest[0])
                json_object_set_new(object, "pushed_digest", json_string(item->stats.digest));
        return object;
}

static char *repository_text(const struct es_reference *reference)
{
        struct es_reference bare = *reference;

        bare.tag = NULL;
        bare.digest = NULL;
        return es_reference_format(&bare);
}

static json_t *counts_json(const struct es_plan_counts *counts)
{
        json_t *object = json_object();

        for (int action = 0; action <= ES_SYNC_DEFERRED; action++)
                json_object_set_new(object, es_sync_action_name((enum es_sync_action)action),
                                    json_integer(counts->actions[action]));
        json_object_set_new(object, "images_failed", json_integer(counts->images_failed));
        return object;
}

void es_report_plan_json(FILE *out, const struct es_plan *plan)
{
        json_t *root = json_object(), *items = json_array(), *images = json_array();
        struct es_plan_counts counts;
        char *text;

        for (size_t i = 0; i < plan->n_items; i++)
                json_array_append_new(items, item_json(&plan->items[i]));
        for (size_t i = 0; i < plan->n_images; i++) {
                const struct es_plan_image *image = &plan->images[i];
                _cleanup_free_ char *source = repository_text(&image->config->source);
                _cleanup_free_ char *target = repository_text(&image->target);

                json_array_append_new(images,
                                      json_pack("{s:s, s:s, s:o, s:I}", "source", source, "target",
                                                target, "error", string_or_null(image->error),
                                                "tags", (json_int_t)image->n_source_tags));
        }
        es_plan_count(plan, &counts);
        json_object_set_new(root, "version", json_integer(1));
        json_object_set_new(root, "items", items);
        json_object_set_new(root, "images", images);
        json_object_set_new(root, "summary", counts_json(&counts));
        text = json_dumps(root, JSON_INDENT(2));
        fprintf(out, "%s\n", text);
        free(text);
        json_decref(root);
}

static const char *short_digest(const char *digest, char *buffer, size_t size)
{
        if (digest == NULL || *digest == '\0')
                return "-";
        snprintf(buffer, size, "%.19s", digest);
        return buffer;
}

void es_report_plan_text(FILE *out, const struct es_plan *plan)
{
        struct es_plan_counts counts;

        for (size_t i = 0; i < plan->n_images; i++) {
                const struct es_plan_image *image = &plan->images[i];
                _cleanup_free_ char *source = repository_text(&image->config->source);
                _cleanup_free_ char *target = repository_text(&image->target);

                fprintf(out, "%s -> %s\n", source, target);
                if (image->error)
                        fprintf(out, "  error: %s\n", image->error);
                if (image->warn_many_tags)
                        fprintf(out,
                                "  warning: no tag filter selects all %zu tags; add "
                                "tags.include, tags.semver or tags.latest\n",
                                image->n_source_tags);
                for (size_t j = 0; j < plan->n_items; j++) {
                        const struct es_plan_item *item = &plan->items[j];
                        char source_short[32], target_short[32];

                        if (item->image != i)
                                continue;
                        fprintf(
                            out, "  %-11s %-24s %-19s %-19s %s\n",
                            es_sync_action_name(item->action), item->tag,
                            short_digest(item->source_digest, source_short, sizeof(source_short)),
                            short_digest(item->target_digest, target_short, sizeof(target_short)),
                            item->error    ? item->error
                            : item->reason ? item->reason
                                           : "");
                }
        }
        es_plan_count(plan, &counts);
        fprintf(out,
                "plan: %u to copy, %u to update, %u up to date, %u excluded, %u unsupported, %u "
                "failed; %u image%s could not be planned\n",
                counts.actions[ES_SYNC_COPY], counts.actions[ES_SYNC_UPDATE],
                counts.actions[ES_SYNC_SKIP], counts.actions[ES_SYNC_EXCLUDED],
                counts.actions[ES_SYNC_UNSUPPORTED], counts.actions[ES_SYNC_FAILED],
                counts.images_failed, counts.images_failed == 1 ? "" : "s");
}

static json_t *image_report(const struct es_plan *plan, size_t index)
{
        const struct es_plan_image *image = &plan->images[index];
        _cleanup_free_ char *source = repository_text(&image->config->source);
        _cleanup_free_ char *target = repository_text(&image->target);
        struct es_registry_counters src = {0}, dst = {0};
        json_t *object = json_object(), *tags = json_object(), *failed = json_array();
        json_int_t bytes = 0;
        double seconds = image->seconds;

        for (int action = 0; action <= ES_SYNC_DEFERRED; action++)
                if (action != ES_SYNC_FAILED)
                        json_object_set_new(tags, es_sync_action_name((enum es_sync_action)action),
                                            json_array());
        for (size_t i = 0; i < plan->n_items; i++) {
                const struct es_plan_item *item = &plan->items[i];

                if (item->image != index)
                        continue;
                bytes += (json_int_t)item->stats.bytes;
                seconds += item->seconds;
                if (item->action == ES_SYNC_FAILED)
                        json_array_append_new(failed,
                                              json_pack("{s:s, s:s}", "tag", item->tag, "error",
                                                        item->error ? item->error : "failed"));
                else
                        json_array_append_new(
                            json_object_get(tags, es_sync_action_name(item->action)),
                            json_string(item->tag));
        }
        if (image->src)
                es_registry_counters(image->src, &src);
        if (image->dst)
                es_registry_counters(image->dst, &dst);

        json_object_set_new(object, "source", json_string(source));
        json_object_set_new(object, "target", json_string(target));
        json_object_set_new(object, "error", string_or_null(image->error));
        json_object_set_new(object, "tags", tags);
        json_object_set_new(object, "failed", failed);
        json_object_set_new(object, "bytes", json_integer(bytes));
        json_object_set_new(object, "requests",
                            json_integer((json_int_t)(src.requests + dst.requests)));
        json_object_set_new(object, "source_manifest_gets",
                            json_integer((json_int_t)src.manifest_gets));
        json_object_set_new(object, "seconds", json_real(seconds));
        return object;
}

/*
 * Whether path exists as something other than a regular file: a symbolic
 * link (/dev/stdout is one), a FIFO or a device. Such a path is written in
 * place, never replaced.
 */
static bool is_special(const char *path)
{
        struct stat st;

        return lstat(path, &st) == 0 && !S_ISREG(st.st_mode);
}

/*
 * Write JSON to a temporary file beside path, then rename it, so readers
 * never see half a report. Special paths such as /dev/stdout are written
 * in place.
 */
static int write_report(json_t *root, const char *path, struct es_error *err)
{
        _cleanup_free_ char *temporary = NULL;
        int saved;

        if (is_special(path)) {
                if (json_dump_file(root, path, JSON_INDENT(2)) == 0)
                        return 0;
                return es_error_set(err, ES_ERR_IO, "cannot write the report to '%s': %s", path,
                                    strerror(errno));
        }
        temporary = es_asprintf("%s.tmp-%ld", path, (long)getpid());
        if (json_dump_file(root, temporary, JSON_INDENT(2)) == 0 && rename(temporary, path) == 0)
                return 0;
        saved = errno;
        unlink(temporary);
        return es_error_set(err, ES_ERR_IO, "cannot write the report to '%s': %s", path,
                            strerror(saved));
}

int es_report_check_path(const char *path, struct es_error *err)
{
        _cleanup_free_ char *copy = es_strdup(path);
        const char *directory = dirname(copy);

        if (is_special(path)) {
                if (access(path, W_OK) != 0)
                        return es_error_set(err, ES_ERR_INVALID,
                                            "cannot write the report to '%s': %s", path,
                                            strerror(errno));
                return 0;
        }
        if (access(directory, W_OK | X_OK) != 0)
                return es_error_set(err, ES_ERR_INVALID,
                                    "cannot write the report to '%s': directory '%s': %s. Choose "
                                    "another --report path",
                                    path, directory, strerror(errno));
        return 0;
}

int es_report_write(const char *path, const struct es_plan *plan, double seconds,
                    struct es_error *err)
{
        json_t *root = json_object(), *images = json_array(), *totals;
        json_int_t bytes = 0, requests = 0, gets = 0;
        struct es_plan_counts counts;
        int r = 0;

        for (size_t i = 0; i < plan->n_images; i++) {
                json_t *image = image_report(plan, i);

                bytes += json_integer_value(json_object_get(image, "bytes"));
                requests += json_integer_value(json_object_get(image, "requests"));
                gets += json_integer_value(json_object_get(image, "source_manifest_gets"));
                json_array_append_new(images, image);
        }
        es_plan_count(plan, &counts);
        totals = counts_json(&counts);
        json_object_set_new(totals, "bytes", json_integer(bytes));
        json_object_set_new(totals, "requests", json_integer(requests));
        json_object_set_new(totals, "source_manifest_gets", json_integer(gets));
        json_object_set_new(totals, "seconds", json_real(seconds));
        json_object_set_new(root, "version", json_integer(1));
        json_object_set_new(root, "images", images);
        json_object_set_new(root, "items", json_array());
        for (size_t i = 0; i < plan->n_items; i++)
                json_array_append_new(json_object_get(root, "items"), item_json(&plan->items[i]));
        json_object_set_new(root, "totals", totals);

        r = write_report(root, path, err);
        json_decref(root);
        return r;
}

void es_report_summary(FILE *out, const struct es_plan *plan, double seconds, bool dry_run)
{
        struct es_plan_counts counts;
        unsigned long long bytes = 0, gets = 0;

        for (size_t i = 0; i < plan->n_items; i++)
                bytes += plan->items[i].stats.bytes;
        for (size_t i = 0; i < plan->n_images; i++) {
                struct es_registry_counters src = {0};

                if (plan->images[i].src)
                        es_registry_counters(plan->images[i].src, &src);
                gets += src.manifest_gets;
        }
        es_plan_count(plan, &counts);
        if (dry_run) {
                fprintf(out,
                        "planned images=%zu copy=%u update=%u skip=%u excluded=%u "
                        "unsupported=%u failed=%u images_failed=%u source_manifest_gets=%llu "
                        "seconds=%.2f\n",
                        plan->n_images, counts.actions[ES_SYNC_COPY],
                        counts.actions[ES_SYNC_UPDATE], counts.actions[ES_SYNC_SKIP],
                        counts.actions[ES_SYNC_EXCLUDED], counts.actions[ES_SYNC_UNSUPPORTED],
                        counts.actions[ES_SYNC_FAILED], counts.images_failed, gets, seconds);
                return;
        }
        fprintf(out,
                "synced images=%zu copied=%u updated=%u skipped=%u excluded=%u unsupported=%u "
                "failed=%u deferred=%u images_failed=%u bytes=%llu source_manifest_gets=%llu "
                "seconds=%.2f\n",
                plan->n_images, counts.actions[ES_SYNC_COPY], counts.actions[ES_SYNC_UPDATE],
                counts.actions[ES_SYNC_SKIP], counts.actions[ES_SYNC_EXCLUDED],
                counts.actions[ES_SYNC_UNSUPPORTED], counts.actions[ES_SYNC_FAILED],
                counts.actions[ES_SYNC_DEFERRED], counts.images_failed, bytes, gets, seconds);
}
