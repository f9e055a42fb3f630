/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for semantic versions and node-semver ranges (sync/semver.c)
 * and the tag filter built on them (sync/filter.c). Input: a range on the
 * first line, then up to MAX_TAGS tags, one per line.
 *
 * Checked properties: es_semver_compare() treats a version as equal to
 * itself and is antisymmetric and transitive, which sorting needs, and the
 * filter's "latest" keeps at most that many tags.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "sync/filter.h"
#include "sync/semver.h"

#define MAX_TAGS 16
#define LATEST   3

static int sign(int value)
{
        return (value > 0) - (value < 0);
}

static void filter_tags(const char *range, const char *const *tags, size_t n)
{
        struct es_tag_filter_spec spec = {.semver = range, .latest = LATEST};
        struct es_tag_filter *filter = NULL;
        struct es_tag_decision *decisions = NULL;
        struct es_error err = ES_ERROR_INIT;
        const char *sorted[MAX_TAGS];
        size_t n_kept = 0;

        if (es_tag_filter_new(&spec, &filter, &err) < 0) {
                es_error_release(&err);
                return;
        }
        if (es_tag_filter_apply(filter, tags, n, &decisions, &err) == 0) {
                for (size_t i = 0; i < n; i++)
                        n_kept += decisions[i].kept;
                if (n_kept > LATEST)
                        abort();
                es_tag_decisions_free(decisions, n);
        }

        for (size_t i = 0; i < n; i++)
                sorted[i] = tags[i];
        es_tags_sort_oldest_first(sorted, n);

        es_tag_filter_free(filter);
        es_error_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_text(data, size);
        char *tags[MAX_TAGS];
        struct es_semver versions[MAX_TAGS];
        bool is_version[MAX_TAGS];
        struct es_semver_range *range = NULL;
        struct es_error err = ES_ERROR_INIT;
        char *range_text = NULL;
        const char *rest;
        size_t n = 0;

        rest = fuzz_split_line(text, &range_text);
        while (n < MAX_TAGS && *rest != '\0')
                rest = fuzz_split_line(rest, &tags[n++]);

        if (es_semver_range_parse(range_text, &range, &err) < 0) {
                if (err.message == NULL || range != NULL)
                        abort();
        }
        es_error_release(&err);

        for (size_t i = 0; i < n; i++) {
                is_version[i] = es_semver_parse_tag(tags[i], &versions[i]);
                if (!is_version[i])
                        continue;
                if (es_semver_compare(&versions[i], &versions[i]) != 0)
                        abort();
                if (range != NULL)
                        (void)es_semver_range_matches(range, &versions[i]);
        }

        for (size_t i = 0; i < n; i++) {
                for (size_t j = 0; j < n; j++) {
                        if (!is_version[i] || !is_version[j])
                                continue;
                        if (sign(es_semver_compare(&versions[i], &versions[j])) !=
                            -sign(es_semver_compare(&versions[j], &versions[i])))
                                abort();
                        for (size_t k = 0; k < n; k++) {
                                if (is_version[k] &&
                                    es_semver_compare(&versions[i], &versions[j]) <= 0 &&
                                    es_semver_compare(&versions[j], &versions[k]) <= 0 &&
                                    es_semver_compare(&versions[i], &versions[k]) > 0)
                                        abort();
                        }
                }
        }

        filter_tags(range_text, (const char *const *)tags, n);

        for (size_t i = 0; i < n; i++) {
                if (is_version[i])
                        es_semver_release(&versions[i]);
                free(tags[i]);
        }
        es_semver_range_free(range);
        free(range_text);
        free(text);
        return 0;
}
