/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `images` section: source repositories, their tag filters and
 * platforms, and the target repository each one maps to.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "sync/config_internal.h"
#include "sync/filter.h"
#include "sync/semver.h"

/*
 * PREFIX/PATH, where PATH is the source repository without Docker Hub's
 * "library/" (nginx is docker.io/library/nginx and maps to PREFIX/nginx).
 */
static char *map_target_repository(const char *prefix, const struct es_reference *source)
{
        const char *path = source->repository;

        if (strcmp(source->registry, "docker.io") == 0 && strncmp(path, "library/", 8) == 0)
                path += 8;
        return prefix ? es_asprintf("%s/%s", prefix, path) : es_strdup(path);
}

/* Check each regex on its own, so that a bad one is reported at its own line. */
static bool check_patterns(struct es_cfg_parser *parser, const struct es_cfg_node *list,
                           const char *path, char **patterns, size_t n, bool exclude)
{
        bool ok = true;

        for (size_t i = 0; i < n; i++) {
                const char *const one[] = {patterns[i]};
                struct es_tag_filter_spec spec = {0};
                struct es_tag_filter *filter = NULL;
                struct es_error err = ES_ERROR_INIT;

                if (exclude) {
                        spec.exclude = one;
                        spec.n_exclude = 1;
                } else {
                        spec.include = one;
                        spec.n_include = 1;
                }
                if (es_tag_filter_new(&spec, &filter, &err) < 0) {
                        _cleanup_free_ char *item_path = es_cfg_path_index(path, i);

                        es_cfg_report_at(&parser->diag, list->items[i], item_path, "%s",
                                         es_error_message(&err));
                        es_error_release(&err);
                        ok = false;
                }
                es_tag_filter_free(filter);
        }
        return ok;
}

/* Read `tags`; returns false when something in it is invalid. */
static bool parse_tags(struct es_cfg_parser *parser, const struct es_cfg_node *node,
                       const char *path, struct es_sync_image *image)
{
        static const char *const keys[] = {"include", "exclude", "semver", "latest", NULL};
        const struct es_cfg_node *values[ES_ARRAY_SIZE(keys)];
        _cleanup_free_ char *include_path = es_cfg_path_key(path, "include");
        _cleanup_free_ char *exclude_path = es_cfg_path_key(path, "exclude");
        _cleanup_free_ char *semver_path = es_cfg_path_key(path, "semver");
        _cleanup_free_ char *latest_path = es_cfg_path_key(path, "latest");
        struct es_cfg_diag *diag = &parser->diag;
        long long latest;
        bool ok = true;

        if (!es_cfg_read_mapping(diag, node, path,
                                 "a mapping with include, exclude, semver or latest", keys, values))
                return false;
        image->has_tags = true;

        if (values[0]) {
                if (es_cfg_read_string_list(diag, values[0], include_path, &image->include,
                                            &image->n_include))
                        ok &= check_patterns(parser, values[0], include_path, image->include,
                                             image->n_include, false);
                else
                        ok = false;
        }
        if (values[1]) {
                if (es_cfg_read_string_list(diag, values[1], exclude_path, &image->exclude,
                                            &image->n_exclude))
                        ok &= check_patterns(parser, values[1], exclude_path, image->exclude,
                                             image->n_exclude, true);
                else
                        ok = false;
        }
        if (values[2]) {
                struct es_semver_range *range = NULL;
                struct es_error err = ES_ERROR_INIT;

                if (!es_cfg_read_string(diag, values[2], semver_path, false, &image->semver)) {
                        ok = false;
                } else if (es_semver_range_parse(image->semver, &range, &err) < 0) {
                        es_cfg_report_at(diag, values[2], semver_path, "%s",
                                         es_error_message(&err));
                        es_error_release(&err);
                        ok = false;
                }
                es_semver_range_free(range);
        }
        if (values[3]) {
                if (es_cfg_read_integer(diag, values[3], latest_path, 1, UINT_MAX, &latest))
                        image->latest = (unsigned)latest;
                else
                        ok = false;
        }
        return ok;
}

static void parse_platforms(struct es_cfg_parser *parser, const struct es_cfg_node *node,
                            const char *path, struct es_sync_image *image)
{
        struct es_cfg_diag *diag = &parser->diag;

        if (node->type != ES_CFG_SEQUENCE || node->n_items == 0) {
                es_cfg_report_at(diag, node, path,
                                 "expected a non-empty list of platforms such as linux/amd64; "
                                 "leave 'platforms' out to copy every platform");
                return;
        }

        image->platforms = es_calloc(node->n_items, sizeof(*image->platforms));
        for (size_t i = 0; i < node->n_items; i++) {
                _cleanup_free_ char *item_path = es_cfg_path_index(path, i);
                _cleanup_free_ char *text = NULL;
                _cleanup_free_ char *formatted = NULL;
                struct es_platform_spec spec = {NULL, NULL, NULL};
                struct es_error err = ES_ERROR_INIT;
                bool repeated = false;

                if (!es_cfg_read_string(diag, node->items[i], item_path, false, &text))
                        continue;
                if (es_platform_spec_parse(text, &spec, &err) < 0) {
                        es_cfg_report_at(diag, node->items[i], item_path, "%s",
                                         es_error_message(&err));
                        es_error_release(&err);
                        continue;
                }

                formatted = es_platform_spec_format(&spec);
                for (size_t j = 0; j < image->n_platforms && !repeated; j++) {
                        _cleanup_free_ char *other = es_platform_spec_format(&image->platforms[j]);

                        repeated = strcmp(formatted, other) == 0;
                }
                if (repeated) {
                        es_cfg_report_at(diag, node->items[i], item_path,
                                         "the platform %s is listed twice", formatted);
                        es_platform_spec_release(&spec);
                        continue;
                }
                image->platforms[image->n_platforms++] = spec;
        }
}

static void parse_target_repository(struct es_cfg_parser *parser, const struct es_cfg_node *node,
                                    const char *path, struct es_sync_image *image)
{
        char *target = NULL;

        if (!es_cfg_read_string(&parser->diag, node, path, false, &target))
                return;
        if (!es_repository_path_is_valid(target)) {
                es_cfg_report_at(&parser->diag, node, path,
                                 "invalid repository path \"%s\"; expected lowercase parts of "
                                 "a-z and 0-9 joined by '.', '_' or '-' and separated by '/', "
                                 "such as tools/agent",
                                 target);
                free(target);
                return;
        }
        image->target_repository = target;
}

/* Returns the node that decided the target repository, for messages. */
static const struct es_cfg_node *parse_image(struct es_cfg_parser *parser,
                                             const struct es_cfg_node *node, const char *path,
                                             struct es_sync_image *image)
{
        static const char *const keys[] = {"source", "tags", "platforms", "target", NULL};
        const struct es_cfg_node *values[ES_ARRAY_SIZE(keys)];
        _cleanup_free_ char *source_path = es_cfg_path_key(path, "source");
        _cleanup_free_ char *tags_path = es_cfg_path_key(path, "tags");
        _cleanup_free_ char *platforms_path = es_cfg_path_key(path, "platforms");
        _cleanup_free_ char *target_path = es_cfg_path_key(path, "target");
        _cleanup_free_ char *source = NULL;
        struct es_cfg_diag *diag = &parser->diag;
        struct es_tag_filter_spec spec = {0};
        struct es_error err = ES_ERROR_INIT;
        bool tags_ok = true, source_ok = false;

        image->line = node->line;
        if (!es_cfg_read_mapping(diag, node, path,
                                 "a mapping with 'source', such as {source: nginx}", keys, values))
                return NULL;

        if (values[0] == NULL) {
                es_cfg_report_at(diag, node, source_path,
                                 "missing; expected a repository such as nginx or "
                                 "ghcr.io/org/tool");
        } else if (es_cfg_read_string(diag, values[0], source_path, false, &source)) {
                if (es_reference_parse_repository(source, &image->source, &err) < 0) {
                        es_cfg_report_at(diag, values[0], source_path, "%s",
                                         es_error_message(&err));
                        es_error_release(&err);
                } else {
                        source_ok = true;
                }
        }

        if (values[1])
                tags_ok = parse_tags(parser, values[1], tags_path, image);
        if (values[2])
                parse_platforms(parser, values[2], platforms_path, image);
        if (values[3])
                parse_target_repository(parser, values[3], target_path, image);

        /* Compile the whole filter only when each part was valid on its own. */
        if (tags_ok) {
                spec.include = (const char *const *)image->include;
                spec.n_include = image->n_include;
                spec.exclude = (const char *const *)image->exclude;
                spec.n_exclude = image->n_exclude;
                spec.semver = image->semver;
                spec.latest = image->latest;
                if (es_tag_filter_new(&spec, &image->filter, &err) < 0) {
                        es_cfg_report_at(diag, values[1] ? values[1] : node, tags_path, "%s",
                                         es_error_message(&err));
                        es_error_release(&err);
                }
        }

        if (!source_ok)
                return NULL;
        if (values[3])
                return image->target_repository ? values[3] : NULL;

        image->target_repository =
            map_target_repository(parser->config->repository_prefix, &image->source);
        if (!es_repository_path_is_valid(image->target_repository)) {
                es_cfg_report_at(diag, values[0], source_path,
                                 "maps to \"%s\", which is not a valid repository path (at most "
                                 "255 characters); set 'target' for this image",
                                 image->target_repository);
                free(image->target_repository);
                image->target_repository = NULL;
                return NULL;
        }
        return values[0];
}

void es_cfg_parse_images(struct es_cfg_parser *parser, const struct es_cfg_node *node)
{
        struct es_sync_config *config = parser->config;
        _cleanup_free_ const struct es_cfg_node **decided_by = NULL;

        if (node->type != ES_CFG_SEQUENCE || node->n_items == 0) {
                es_cfg_report_at(&parser->diag, node, "images",
                                 "expected a non-empty list of images, such as "
                                 "[{source: nginx}]");
                return;
        }

        config->images = es_calloc(node->n_items, sizeof(*config->images));
        decided_by = es_calloc(node->n_items, sizeof(*decided_by));
        for (size_t i = 0; i < node->n_items; i++) {
                _cleanup_free_ char *path = es_cfg_path_index("images", i);

                decided_by[i] = parse_image(parser, node->items[i], path, &config->images[i]);
                config->n_images++;
        }

        /* Two images writing to one repository would overwrite each other's tags. */
        for (size_t j = 0; j < config->n_images; j++) {
                const struct es_sync_image *later = &config->images[j];

                if (decided_by[j] == NULL)
                        continue;
                for (size_t i = 0; i < j; i++) {
                        const struct es_sync_image *earlier = &config->images[i];
                        _cleanup_free_ char *key = NULL;
                        const char *field;

                        if (decided_by[i] == NULL ||
                            strcmp(earlier->target_repository, later->target_repository) != 0)
                                continue;
                        field = decided_by[j] == es_cfg_mapping_get(node->items[j], "target")
                                    ? "target"
                                    : "source";
                        key = es_asprintf("images[%zu].%s", j, field);
                        es_cfg_report_at(
                            &parser->diag, decided_by[j], key,
                            "images[%zu] (line %d, \"%s\") and images[%zu] (line "
                            "%d, \"%s\") both map to the target repository \"%s\"; "
                            "give one of them its own 'target'",
                            i, earlier->line, es_cfg_mapping_get(node->items[i], "source")->text, j,
                            later->line, es_cfg_mapping_get(node->items[j], "source")->text,
                            later->target_repository);
                        break;
                }
        }
}
