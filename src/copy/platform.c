/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Platform specs, matching with containerd's defaults, and the filtered
 * index that lists only the selected children of a multi-arch index. The
 * filtered index is the one manifest that ecr-sync writes itself instead of
 * copying, so it is built with a fixed key order to give the same bytes,
 * and so the same digest, on every run.
 */
#include "copy/platform.h"

#include <assert.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/limits.h"
#include "registry/digest.h"

/* Maximum number of characters of a rejected spec quoted in an error message. */
#define MAX_QUOTED_TEXT 100

#define UNKNOWN "unknown"

/* Architecture names that mean the same as a canonical one, as containerd reads them. */
static const struct {
        const char *alias;
        const char *architecture;
} architecture_aliases[] = {
    {"aarch64", "arm64"},
    {"x86_64", "amd64"},
    {"x86-64", "amd64"},
    {"i386", "386"},
};

/* Return the canonical name of arch, compared without case, or arch itself when it is no alias. */
static const char *canonical_architecture(const char *arch)
{
        for (size_t i = 0; i < ES_ARRAY_SIZE(architecture_aliases); i++) {
                if (strcasecmp(arch, architecture_aliases[i].alias) == 0)
                        return architecture_aliases[i].architecture;
        }
        return arch;
}

/* The variant an image without one has: v8 on arm64, v7 on arm, v1 on amd64, else none. */
static const char *default_variant(const char *arch)
{
        if (strcasecmp(arch, "arm64") == 0)
                return "v8";
        if (strcasecmp(arch, "arm") == 0)
                return "v7";
        if (strcasecmp(arch, "amd64") == 0)
                return "v1";
        return NULL;
}

/*
 * Return the variant written the usual way for arch (already canonical), in
 * lowercase, or NULL when variant is NULL or empty. A bare version number on
 * arm and arm64 gains its "v", and arm64 drops a trailing ".0" ("v8.0" is "v8").
 */
static char *canonical_variant(const char *arch, const char *variant)
{
        bool arm64 = strcasecmp(arch, "arm64") == 0;
        bool arm = arm64 || strcasecmp(arch, "arm") == 0;
        size_t len;
        char *result;

        if (variant == NULL || variant[0] == '\0')
                return NULL;
        if (arm && variant[0] >= '0' && variant[0] <= '9')
                result = es_asprintf("v%s", variant);
        else
                result = es_strdup(variant);
        for (char *c = result; *c != '\0'; c++) {
                if (*c >= 'A' && *c <= 'Z')
                        *c = (char)(*c - 'A' + 'a');
        }

        len = strlen(result);
        if (arm64 && len > 3 && strcmp(result + len - 2, ".0") == 0)
                result[len - 2] = '\0';
        return result;
}

/* The variant used for comparison: the canonical one, else the default for arch. Caller frees. */
static char *effective_variant(const char *arch, const char *variant)
{
        char *canonical = canonical_variant(arch, variant);
        const char *fallback;

        if (canonical != NULL)
                return canonical;
        fallback = default_variant(arch);
        return fallback != NULL ? es_strdup(fallback) : NULL;
}

/* Quote user text for a message, cutting long text short. */
static char *quote_text(const char *text)
{
        size_t len = strlen(text);

        if (len <= MAX_QUOTED_TEXT)
                return es_asprintf("\"%s\"", text);
        return es_asprintf("\"%.*s...\" (%zu characters)", MAX_QUOTED_TEXT, text, len);
}

static bool is_part_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

int es_platform_spec_parse(const char *text, struct es_platform_spec *out, struct es_error *err)
{
        _cleanup_free_ char *quoted = NULL;
        _cleanup_free_ char *copy = NULL;
        char *parts[3] = {NULL, NULL, NULL};
        size_t n_parts = 0;
        char *cursor;
        const char *arch;

        assert(text != NULL);
        assert(out != NULL);
        quoted = quote_text(text);

        /* Split on '/' by hand, because strtok would merge the empty parts of "linux//amd64". */
        copy = es_strdup(text);
        cursor = copy;
        for (;;) {
                char *slash = strchr(cursor, '/');

                if (n_parts == ES_ARRAY_SIZE(parts) || cursor[0] == '\0' || cursor[0] == '/')
                        return es_error_set(err, ES_ERR_INVALID,
                                            "invalid platform %s: expected OS/ARCH or "
                                            "OS/ARCH/VARIANT, such as linux/arm64/v8",
                                            quoted);
                parts[n_parts++] = cursor;
                if (slash == NULL)
                        break;
                *slash = '\0';
                cursor = slash + 1;
        }
        if (n_parts < 2)
                return es_error_set(err, ES_ERR_INVALID,
                                    "invalid platform %s: expected OS/ARCH or OS/ARCH/VARIANT, "
                                    "such as linux/arm64/v8",
                                    quoted);

        for (size_t i = 0; i < n_parts; i++) {
                for (const char *c = parts[i]; *c != '\0'; c++) {
                        if (!is_part_char(*c)) {
                                _cleanup_free_ char *part = quote_text(parts[i]);

                                return es_error_set(err, ES_ERR_INVALID,
                                                    "invalid platform %s: %s may contain only "
                                                    "lowercase letters, digits, '_', '-' and '.'",
                                                    quoted, part);
                        }
                }
        }

        if (strcmp(parts[0], UNKNOWN) == 0 || strcmp(parts[1], UNKNOWN) == 0)
                return es_error_set(err, ES_ERR_INVALID,
                                    "invalid platform %s: \"unknown\" marks attestation "
                                    "manifests, which are copied with the image they describe; "
                                    "name the image's platform instead",
                                    quoted);

        arch = canonical_architecture(parts[1]);
        out->os = es_strdup(parts[0]);
        out->architecture = es_strdup(arch);
        out->variant = n_parts == 3 ? canonical_variant(arch, parts[2]) : NULL;
        return 0;
}

void es_platform_spec_release(struct es_platform_spec *spec)
{
        if (spec == NULL)
                return;
        free(spec->os);
        free(spec->architecture);
        free(spec->variant);
        memset(spec, 0, sizeof(*spec));
}

char *es_platform_spec_format(const struct es_platform_spec *spec)
{
        if (spec->variant != NULL)
                return es_asprintf("%s/%s/%s", spec->os, spec->architecture, spec->variant);
        return es_asprintf("%s/%s", spec->os, spec->architecture);
}

static int compare_strings(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

char *es_platform_specs_format(const struct es_platform_spec *specs, size_t n)
{
        struct es_buf joined = ES_BUF_INIT(0);
        char **texts = es_calloc(n > 0 ? n : 1, sizeof(*texts));
        size_t written = 0;

        for (size_t i = 0; i < n; i++)
                texts[i] = es_platform_spec_format(&specs[i]);
        qsort(texts, n, sizeof(*texts), compare_strings);

        for (size_t i = 0; i < n; i++) {
                if (i > 0 && strcmp(texts[i], texts[i - 1]) == 0)
                        continue;
                if (written++ > 0)
                        es_buf_puts(&joined, ",");
                es_buf_puts(&joined, texts[i]);
        }

        for (size_t i = 0; i < n; i++)
                free(texts[i]);
        free(texts);
        return es_buf_take(&joined);
}

bool es_platform_spec_matches(const struct es_platform_spec *spec,
                              const struct es_platform *platform)
{
        _cleanup_free_ char *requested = NULL, *actual = NULL;
        const char *arch;

        if (platform == NULL || platform->os == NULL || platform->architecture == NULL)
                return false;
        if (strcasecmp(platform->os, UNKNOWN) == 0 ||
            strcasecmp(platform->architecture, UNKNOWN) == 0)
                return false;

        arch = canonical_architecture(platform->architecture);
        if (strcasecmp(platform->os, spec->os) != 0 || strcasecmp(arch, spec->architecture) != 0)
                return false;
        if (spec->variant == NULL)
                return true;

        requested = effective_variant(spec->architecture, spec->variant);
        actual = effective_variant(spec->architecture, platform->variant);
        if (actual == NULL)
                return false;
        return strcmp(requested, actual) == 0;
}

bool es_platform_specs_match_any(const struct es_platform_spec *specs, size_t n,
                                 const struct es_platform *platform)
{
        for (size_t i = 0; i < n; i++) {
                if (es_platform_spec_matches(&specs[i], platform))
                        return true;
        }
        return false;
}

/* True for a child that platforms select: an image with a known OS and architecture. */
static bool has_selectable_platform(const struct es_descriptor *desc)
{
        return !desc->is_attestation && desc->has_platform && desc->platform.os != NULL &&
               desc->platform.architecture != NULL && strcasecmp(desc->platform.os, UNKNOWN) != 0 &&
               strcasecmp(desc->platform.architecture, UNKNOWN) != 0;
}

/* The no-match error: what was requested and the platforms the index lists, in index order. */
static int no_match_error(const struct es_manifest *index, const struct es_platform_spec *specs,
                          size_t n_specs, struct es_error *err)
{
        struct es_buf requested = ES_BUF_INIT(0), available = ES_BUF_INIT(0);
        _cleanup_free_ char *requested_text = NULL, *available_text = NULL;
        char **seen = es_calloc(index->n_manifests + 1, sizeof(*seen));
        size_t n_seen = 0;

        for (size_t i = 0; i < n_specs; i++) {
                _cleanup_free_ char *text = es_platform_spec_format(&specs[i]);

                if (i > 0)
                        es_buf_puts(&requested, " or ");
                es_buf_puts(&requested, text);
        }

        for (size_t i = 0; i < index->n_manifests; i++) {
                const struct es_platform *p = &index->manifests[i].platform;
                char *text;
                bool duplicate = false;

                if (!has_selectable_platform(&index->manifests[i]))
                        continue;
                if (p->variant != NULL && p->variant[0] != '\0')
                        text = es_asprintf("%s/%s/%s", p->os, p->architecture, p->variant);
                else
                        text = es_asprintf("%s/%s", p->os, p->architecture);
                for (size_t j = 0; j < n_seen && !duplicate; j++)
                        duplicate = strcmp(seen[j], text) == 0;
                if (duplicate) {
                        free(text);
                        continue;
                }
                if (n_seen > 0)
                        es_buf_puts(&available, ", ");
                es_buf_puts(&available, text);
                seen[n_seen++] = text;
        }

        for (size_t i = 0; i < n_seen; i++)
                free(seen[i]);
        free(seen);

        requested_text = es_buf_take(&requested);
        available_text = es_buf_take(&available);
        if (available_text[0] == '\0')
                return es_error_set(err, ES_ERR_NOT_FOUND,
                                    "no manifest for %s; the index lists no platforms",
                                    requested_text);
        return es_error_set(err, ES_ERR_NOT_FOUND, "no manifest for %s; the index has %s",
                            requested_text, available_text);
}

/* Check source_digest and, when it is sha256, that the bytes have it. */
static int check_source_digest(const char *bytes, size_t len, const char *digest,
                               struct es_error *err)
{
        char computed[ES_DIGEST_SHA256_LENGTH];
        int r;

        r = es_digest_validate(digest, err);
        if (r < 0)
                return es_error_prefix(err, "source index digest");

        /* NOTE: a sha512 digest is recorded unchecked, because only sha256 can be computed. */
        if (strncmp(digest, "sha256:", 7) != 0)
                return 0;
        es_digest_sha256(bytes, len, computed);
        if (strcmp(computed, digest) != 0)
                return es_error_set(err, ES_ERR_DIGEST,
                                    "source index: the bytes have digest %s, expected %s", computed,
                                    digest);
        return 0;
}

static int compare_keys(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Copy a JSON object of string values into a new object with its keys in
 * sorted order. field names the object in error messages.
 */
static int copy_string_map(json_t *source, const char *field, json_t **out, struct es_error *err)
{
        _cleanup_(json_decrefp) json_t *copy = json_object();
        _cleanup_free_ const char **keys = NULL;
        const char *key;
        json_t *value;
        size_t n = 0;

        if (!json_is_object(source))
                return es_error_set(err, ES_ERR_INVALID, "source index: %s: expected an object",
                                    field);

        keys = es_calloc(json_object_size(source) + 1, sizeof(*keys));
        json_object_foreach (source, key, value) {
                if (!json_is_string(value))
                        return es_error_set(err, ES_ERR_INVALID,
                                            "source index: %s[\"%s\"]: expected a string", field,
                                            key);
                keys[n++] = key;
        }
        qsort(keys, n, sizeof(*keys), compare_keys);

        for (size_t i = 0; i < n; i++)
                json_object_set_new(copy, keys[i], json_copy(json_object_get(source, keys[i])));
        *out = TAKE_PTR(copy);
        return 0;
}

/* Check that value is an array of strings. */
static bool is_string_array(json_t *value)
{
        size_t i;
        json_t *item;

        if (!json_is_array(value))
                return false;
        json_array_foreach (value, i, item) {
                if (!json_is_string(item))
                        return false;
        }
        return true;
}

/* Copy the platform members ecr-sync writes, in the OCI image index order. */
static int copy_platform(json_t *source, const char *path, json_t **out, struct es_error *err)
{
        static const struct {
                const char *key;
                bool is_array;
        } members[] = {
            {"architecture", false}, {"os", false},      {"os.version", false},
            {"os.features", true},   {"variant", false}, {"features", true},
        };
        _cleanup_(json_decrefp) json_t *copy = json_object();

        if (!json_is_object(source))
                return es_error_set(err, ES_ERR_INVALID,
                                    "source index: %s.platform: expected an object", path);

        for (size_t i = 0; i < ES_ARRAY_SIZE(members); i++) {
                json_t *value = json_object_get(source, members[i].key);

                if (value == NULL)
                        continue;
                if (members[i].is_array && !is_string_array(value))
                        return es_error_set(err, ES_ERR_INVALID,
                                            "source index: %s.platform.%s: expected an array of "
                                            "strings",
                                            path, members[i].key);
                if (!members[i].is_array && !json_is_string(value))
                        return es_error_set(err, ES_ERR_INVALID,
                                            "source index: %s.platform.%s: expected a string", path,
                                            members[i].key);
                json_object_set_new(copy, members[i].key, json_deep_copy(value));
        }
        *out = TAKE_PTR(copy);
        return 0;
}

/*
 * Write one kept descriptor. desc is the parsed descriptor and source the
 * same entry in the source JSON, read for what the parser does not keep.
 */
static int build_descriptor(const struct es_descriptor *desc, json_t *source, const char *path,
                            json_t **out, struct es_error *err)
{
        _cleanup_(json_decrefp) json_t *entry = json_object();
        json_t *source_digest = json_object_get(source, "digest");
        json_t *platform = json_object_get(source, "platform");
        json_t *annotations = json_object_get(source, "annotations");
        int r;

        if (!json_is_string(source_digest) ||
            strcmp(json_string_value(source_digest), desc->digest) != 0)
                return es_error_set(err, ES_ERR_INVALID,
                                    "source index: %s.digest: the bytes do not hold the parsed "
                                    "descriptor %s",
                                    path, desc->digest);

        json_object_set_new(entry, "mediaType", json_string(desc->media_type));
        json_object_set_new(entry, "digest", json_string(desc->digest));
        json_object_set_new(entry, "size", json_integer((json_int_t)desc->size));

        if (desc->has_platform && platform != NULL) {
                json_t *copy = NULL;

                r = copy_platform(platform, path, &copy, err);
                if (r < 0)
                        return r;
                json_object_set_new(entry, "platform", copy);
        }

        if (annotations != NULL) {
                _cleanup_free_ char *field = es_asprintf("%s.annotations", path);
                json_t *copy = NULL;

                r = copy_string_map(annotations, field, &copy, err);
                if (r < 0)
                        return r;
                json_object_set_new(entry, "annotations", copy);
        }

        if (desc->artifact_type != NULL)
                json_object_set_new(entry, "artifactType", json_string(desc->artifact_type));

        if (desc->n_urls > 0) {
                json_t *urls = json_array();

                for (size_t i = 0; i < desc->n_urls; i++)
                        json_array_append_new(urls, json_string(desc->urls[i]));
                json_object_set_new(entry, "urls", urls);
        }

        *out = TAKE_PTR(entry);
        return 0;
}

/* The index annotations: the source index's own, then ecr-sync's, all in sorted key order. */
static int build_index_annotations(json_t *source_root, const char *source_digest,
                                   const char *platforms, json_t **out, struct es_error *err)
{
        _cleanup_(json_decrefp) json_t *merged = NULL;
        json_t *source = json_object_get(source_root, "annotations");
        int r;

        if (source != NULL)
                merged = json_deep_copy(source);
        else
                merged = json_object();
        if (!json_is_object(merged))
                return es_error_set(err, ES_ERR_INVALID,
                                    "source index: annotations: expected an object");

        json_object_set_new(merged, ES_ANNOTATION_SOURCE_DIGEST, json_string(source_digest));
        json_object_set_new(merged, ES_ANNOTATION_PLATFORMS, json_string(platforms));
        r = copy_string_map(merged, "annotations", out, err);
        return r;
}

/* Serialise root compactly into a new NUL-terminated buffer. */
static int dump_index(json_t *root, char **out, size_t *out_len, struct es_error *err)
{
        size_t len = json_dumpb(root, NULL, 0, JSON_COMPACT);
        char *data;

        if (len == 0)
                return es_error_set(err, ES_ERR_INVALID, "filtered index: serialisation failed");
        if (len > ES_MAX_MANIFEST_SIZE)
                return es_error_set(err, ES_ERR_INVALID,
                                    "filtered index: %zu bytes, the maximum is %u bytes (4 MiB)",
                                    len, ES_MAX_MANIFEST_SIZE);

        data = es_malloc(len + 1);
        json_dumpb(root, data, len, JSON_COMPACT);
        data[len] = '\0';
        *out = data;
        *out_len = len;
        return 0;
}

/*
 * Mark the image children that specs select and the attestations of those
 * children. Returns the number of images marked and sets *n_attestations.
 */
static size_t mark_kept(const struct es_manifest *index, const struct es_platform_spec *specs,
                        size_t n_specs, bool *kept, size_t *n_attestations)
{
        size_t n_images = 0;

        *n_attestations = 0;
        for (size_t i = 0; i < index->n_manifests; i++) {
                const struct es_descriptor *desc = &index->manifests[i];

                if (has_selectable_platform(desc) &&
                    es_platform_specs_match_any(specs, n_specs, &desc->platform)) {
                        kept[i] = true;
                        n_images++;
                }
        }

        /* A second pass, because an attestation may be listed before the image it describes. */
        for (size_t i = 0; i < index->n_manifests; i++) {
                const struct es_descriptor *desc = &index->manifests[i];

                if (!desc->is_attestation || desc->attestation_of == NULL)
                        continue;
                for (size_t j = 0; j < index->n_manifests; j++) {
                        if (kept[j] && !index->manifests[j].is_attestation &&
                            strcmp(index->manifests[j].digest, desc->attestation_of) == 0) {
                                kept[i] = true;
                                (*n_attestations)++;
                                break;
                        }
                }
        }
        return n_images;
}

int es_platform_select(const char *source_bytes, size_t source_len,
                       const struct es_manifest *source_index, const char *source_digest,
                       const struct es_platform_spec *specs, size_t n_specs,
                       struct es_platform_selection *out, struct es_error *err)
{
        _cleanup_(json_decrefp) json_t *source_root = NULL, *root = NULL;
        _cleanup_free_ bool *kept = NULL;
        _cleanup_free_ char *platforms = NULL, *index = NULL;
        _cleanup_free_ const struct es_descriptor **kept_descriptors = NULL;
        json_t *source_manifests, *manifests, *annotations = NULL;
        size_t n_images, n_attestations, n_kept = 0, index_len = 0;
        json_error_t json_err;
        int r;

        assert(source_index != NULL);
        assert(source_index->kind == ES_MANIFEST_INDEX);
        assert(specs != NULL);
        assert(n_specs > 0);
        assert(out != NULL);

        r = check_source_digest(source_bytes, source_len, source_digest, err);
        if (r < 0)
                return r;

        kept = es_calloc(source_index->n_manifests + 1, sizeof(*kept));
        n_images = mark_kept(source_index, specs, n_specs, kept, &n_attestations);
        if (n_images == 0)
                return no_match_error(source_index, specs, n_specs, err);

        source_root = json_loadb(source_bytes, source_len, 0, &json_err);
        if (source_root == NULL)
                return es_error_set(err, ES_ERR_INVALID,
                                    "source index: invalid JSON at line %d, column %d: %s",
                                    json_err.line, json_err.column, json_err.text);
        source_manifests = json_object_get(source_root, "manifests");
        if (!json_is_array(source_manifests) ||
            json_array_size(source_manifests) != source_index->n_manifests)
                return es_error_set(err, ES_ERR_INVALID,
                                    "source index: the bytes do not hold the parsed index's %zu "
                                    "manifests",
                                    source_index->n_manifests);

        root = json_object();
        manifests = json_array();
        json_object_set_new(root, "schemaVersion", json_integer(2));
        json_object_set_new(root, "mediaType", json_string(ES_MEDIA_OCI_INDEX));
        json_object_set_new(root, "manifests", manifests);

        kept_descriptors = es_calloc(n_images + n_attestations, sizeof(*kept_descriptors));
        for (size_t i = 0; i < source_index->n_manifests; i++) {
                _cleanup_free_ char *path = NULL;
                json_t *entry = NULL;

                if (!kept[i])
                        continue;
                path = es_asprintf("manifests[%zu]", i);
                r = build_descriptor(&source_index->manifests[i],
                                     json_array_get(source_manifests, i), path, &entry, err);
                if (r < 0)
                        return r;
                json_array_append_new(manifests, entry);
                kept_descriptors[n_kept++] = &source_index->manifests[i];
        }

        platforms = es_platform_specs_format(specs, n_specs);
        r = build_index_annotations(source_root, source_digest, platforms, &annotations, err);
        if (r < 0)
                return r;
        json_object_set_new(root, "annotations", annotations);

        r = dump_index(root, &index, &index_len, err);
        if (r < 0)
                return r;

        *out = (struct es_platform_selection){
            .index = TAKE_PTR(index),
            .index_len = index_len,
            .media_type = es_strdup(ES_MEDIA_OCI_INDEX),
            .n_kept = n_images,
            .n_attestations = n_attestations,
            .kept = TAKE_PTR(kept_descriptors),
            .n_kept_descriptors = n_kept,
        };
        return 0;
}

void es_platform_selection_release(struct es_platform_selection *selection)
{
        if (selection == NULL)
                return;
        free(selection->index);
        free(selection->media_type);
        free(selection->kept);
        memset(selection, 0, sizeof(*selection));
}

/* Read one optional string annotation into a new string, or NULL when absent. */
static int get_annotation(json_t *annotations, const char *key, char **out, struct es_error *err)
{
        json_t *value = json_object_get(annotations, key);

        *out = NULL;
        if (value == NULL)
                return 0;
        if (!json_is_string(value))
                return es_error_set(err, ES_ERR_INVALID,
                                    "recorded index: annotations[\"%s\"]: expected a string", key);
        *out = es_strdup(json_string_value(value));
        return 0;
}

int es_platform_recorded_source(const char *bytes, size_t len, char **digest, char **platforms,
                                struct es_error *err)
{
        _cleanup_(json_decrefp) json_t *root = NULL;
        _cleanup_free_ char *recorded_digest = NULL, *recorded_platforms = NULL;
        json_t *annotations;
        json_error_t json_err;
        int r;

        assert(digest != NULL);

        if (len > ES_MAX_MANIFEST_SIZE)
                return es_error_set(err, ES_ERR_INVALID,
                                    "recorded index: %zu bytes, the maximum is %u bytes (4 MiB)",
                                    len, ES_MAX_MANIFEST_SIZE);
        root = json_loadb(bytes, len, 0, &json_err);
        if (root == NULL)
                return es_error_set(err, ES_ERR_INVALID,
                                    "recorded index: invalid JSON at line %d, column %d: %s",
                                    json_err.line, json_err.column, json_err.text);
        if (!json_is_object(root))
                return es_error_set(err, ES_ERR_INVALID,
                                    "recorded index: expected a JSON object at the top level");

        annotations = json_object_get(root, "annotations");
        if (annotations != NULL && !json_is_object(annotations))
                return es_error_set(err, ES_ERR_INVALID,
                                    "recorded index: annotations: expected an object");

        if (annotations != NULL) {
                r = get_annotation(annotations, ES_ANNOTATION_SOURCE_DIGEST, &recorded_digest, err);
                if (r < 0)
                        return r;
                r = get_annotation(annotations, ES_ANNOTATION_PLATFORMS, &recorded_platforms, err);
                if (r < 0)
                        return r;
        }

        if (recorded_digest != NULL) {
                r = es_digest_validate(recorded_digest, err);
                if (r < 0)
                        return es_error_prefix(err, "recorded index: annotations[\"%s\"]",
                                               ES_ANNOTATION_SOURCE_DIGEST);
        }

        *digest = TAKE_PTR(recorded_digest);
        if (platforms != NULL)
                *platforms = TAKE_PTR(recorded_platforms);
        return 0;
}
