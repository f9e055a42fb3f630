/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for manifests and indexes (registry/manifest.c) and for the
 * platform filter that rewrites indexes (copy/platform.c).
 *
 * Input: the manifest bytes, optionally preceded by one line
 * "Content-Type: TYPE" that is passed as the response's Content-Type. When
 * the bytes parse as an index, es_platform_select() runs with a few fixed
 * platform lists, and the index it writes must parse again as an index
 * with the kept children and must record the source digest.
 */
#include <stdbool.h>
#include <string.h>

#include "base/limits.h"
#include "copy/platform.h"
#include "fuzz.h"
#include "registry/digest.h"
#include "registry/manifest.h"

#define CONTENT_TYPE_PREFIX "Content-Type:"

/* Platform lists as a sync configuration would give them. */
static const char *const platform_lists[][3] = {
    {"linux/amd64", NULL, NULL},
    {"linux/arm64/v8", "linux/arm/v7", NULL},
    {"windows/amd64", "linux/s390x", "linux/ppc64le"},
};

static void check_descriptor(const struct es_descriptor *desc)
{
        if (desc->media_type == NULL || desc->digest == NULL)
                abort();
        if (es_digest_validate(desc->digest, NULL) < 0)
                abort();
        if (desc->size < 0)
                abort();
        if (desc->n_urls > 0 && desc->urls == NULL)
                abort();
        if (desc->n_urls > 0 && !es_descriptor_is_foreign(desc))
                abort();
}

static void check_manifest(const struct es_manifest *m)
{
        if (m->media_type == NULL)
                abort();
        if (m->kind != ES_MANIFEST_SCHEMA1 && es_media_type_is_index(m->media_type) &&
            m->kind != ES_MANIFEST_INDEX)
                abort();
        if (m->n_layers > ES_MAX_DESCRIPTORS || m->n_manifests > ES_MAX_DESCRIPTORS)
                abort();
        if (m->has_config)
                check_descriptor(&m->config);
        if (m->has_subject)
                check_descriptor(&m->subject);
        for (size_t i = 0; i < m->n_layers; i++)
                check_descriptor(&m->layers[i]);
        for (size_t i = 0; i < m->n_manifests; i++)
                check_descriptor(&m->manifests[i]);
}

/* Check what es_platform_select() wrote: a valid index that records its source. */
static void check_selection(const struct es_platform_selection *selection,
                            const char *source_digest)
{
        struct es_manifest written = {0};
        struct es_error err = ES_ERROR_INIT;
        char *recorded_digest = NULL, *recorded_platforms = NULL;

        if (selection->n_kept == 0 ||
            selection->n_kept + selection->n_attestations != selection->n_kept_descriptors)
                abort();
        if (es_manifest_parse(selection->index, selection->index_len, selection->media_type,
                              &written, &err) < 0)
                abort();
        if (written.kind != ES_MANIFEST_INDEX ||
            written.n_manifests != selection->n_kept_descriptors)
                abort();
        for (size_t i = 0; i < written.n_manifests; i++) {
                if (strcmp(written.manifests[i].digest, selection->kept[i]->digest) != 0)
                        abort();
        }

        if (es_platform_recorded_source(selection->index, selection->index_len, &recorded_digest,
                                        &recorded_platforms, &err) < 0)
                abort();
        if (recorded_digest == NULL || strcmp(recorded_digest, source_digest) != 0 ||
            recorded_platforms == NULL)
                abort();

        free(recorded_digest);
        free(recorded_platforms);
        es_manifest_release(&written);
        es_error_release(&err);
}

static void select_platforms(const char *bytes, size_t len, const struct es_manifest *index)
{
        char digest[ES_DIGEST_SHA256_LENGTH];

        es_digest_sha256(bytes, len, digest);

        for (size_t i = 0; i < ES_ARRAY_SIZE(platform_lists); i++) {
                struct es_platform_spec specs[3] = {{0}};
                struct es_platform_selection selection = {0}, again = {0};
                struct es_error err = ES_ERROR_INIT;
                size_t n = 0;
                int r;

                while (n < 3 && platform_lists[i][n] != NULL) {
                        if (es_platform_spec_parse(platform_lists[i][n], &specs[n], &err) < 0)
                                abort();
                        n++;
                }

                r = es_platform_select(bytes, len, index, digest, specs, n, &selection, &err);
                if (r == 0) {
                        check_selection(&selection, digest);

                        /* The same input must give the same bytes, as the header promises. */
                        if (es_platform_select(bytes, len, index, digest, specs, n, &again, &err) <
                            0)
                                abort();
                        if (again.index_len != selection.index_len ||
                            memcmp(again.index, selection.index, again.index_len) != 0)
                                abort();
                } else if (err.message == NULL || selection.index != NULL) {
                        abort();
                }

                es_platform_selection_release(&again);
                es_platform_selection_release(&selection);
                es_error_release(&err);
                for (size_t j = 0; j < n; j++)
                        es_platform_spec_release(&specs[j]);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *bytes = (const char *)data;
        size_t len = size;
        char *content_type = NULL;
        char *recorded_digest = NULL, *recorded_platforms = NULL;
        struct es_manifest manifest = {0};
        struct es_error err = ES_ERROR_INIT;

        if (len >= strlen(CONTENT_TYPE_PREFIX) &&
            memcmp(bytes, CONTENT_TYPE_PREFIX, strlen(CONTENT_TYPE_PREFIX)) == 0) {
                const char *newline = memchr(bytes, '\n', len);
                size_t line_len = newline ? (size_t)(newline - bytes) : len;
                size_t prefix_len = strlen(CONTENT_TYPE_PREFIX);

                content_type = es_strndup(bytes + prefix_len, line_len - prefix_len);
                bytes += newline ? line_len + 1 : line_len;
                len -= newline ? line_len + 1 : line_len;
        }

        if (es_manifest_parse(bytes, len, content_type, &manifest, &err) == 0) {
                check_manifest(&manifest);
                if (manifest.kind == ES_MANIFEST_INDEX)
                        select_platforms(bytes, len, &manifest);
                es_manifest_release(&manifest);
        } else if (err.message == NULL || manifest.media_type != NULL) {
                abort();
        }
        es_error_release(&err);

        if (es_platform_recorded_source(bytes, len, &recorded_digest, &recorded_platforms, &err) ==
            0) {
                if (recorded_digest != NULL && es_digest_validate(recorded_digest, NULL) < 0)
                        abort();
        }
        free(recorded_digest);
        free(recorded_platforms);
        es_error_release(&err);

        free(content_type);
        return 0;
}
