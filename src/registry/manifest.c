/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Manifest and index reader. The bytes are checked before jansson parses them
 * (size, NUL bytes, nesting depth), then the parsed document is validated
 * field by field and copied into plain structs. Nothing is re-serialised.
 */
#include "registry/manifest.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/limits.h"
#include "registry/digest.h"

/* Largest size accepted: 2^53, the largest integer that JSON readers using doubles keep exact. */
#define MAX_DESCRIPTOR_SIZE (INT64_C(1) << 53)

/* Maximum number of characters of a rejected value quoted in an error message. */
#define MAX_QUOTED_VALUE 100

/* Maximum length of a type or subtype name in a media type (RFC 6838 section 4.2). */
#define MAX_MEDIA_TYPE_NAME 127

#define ANNOTATION_REFERENCE_TYPE   "vnd.docker.reference.type"
#define ANNOTATION_REFERENCE_DIGEST "vnd.docker.reference.digest"
#define ATTESTATION_MANIFEST        "attestation-manifest"

const char ES_MANIFEST_ACCEPT[] = ES_MEDIA_OCI_INDEX
    ", " ES_MEDIA_OCI_MANIFEST ", " ES_MEDIA_DOCKER_LIST ", " ES_MEDIA_DOCKER_MANIFEST
    ", " ES_MEDIA_OCI_ARTIFACT ", " ES_MEDIA_DOCKER_SCHEMA1_SIGNED ", " ES_MEDIA_DOCKER_SCHEMA1;

/* The document types that a media type can name. */
enum document_type {
        DOCUMENT_UNKNOWN,
        DOCUMENT_IMAGE,    /* Docker schema 2 or OCI image manifest */
        DOCUMENT_ARTIFACT, /* withdrawn OCI artifact manifest */
        DOCUMENT_INDEX,
        DOCUMENT_SCHEMA1,
};

static int field_error(struct es_error *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set "manifest: FIELD: REASON". */
static int field_error(struct es_error *err, const char *field, const char *fmt, ...)
{
        _cleanup_free_ char *reason = NULL;
        va_list ap;

        va_start(ap, fmt);
        reason = es_vasprintf(fmt, ap);
        va_end(ap);
        return es_error_set(err, ES_ERR_INVALID, "manifest: %s: %s", field, reason);
}

/* Quote a value from the document for a message, cutting long values short. */
static char *quote_value(const char *value)
{
        size_t len = strlen(value);

        if (len <= MAX_QUOTED_VALUE)
                return es_asprintf("\"%s\"", value);
        return es_asprintf("\"%.*s...\" (%zu characters)", MAX_QUOTED_VALUE, value, len);
}

static enum document_type classify_media_type(const char *media_type)
{
        if (media_type == NULL)
                return DOCUMENT_UNKNOWN;
        if (strcasecmp(media_type, ES_MEDIA_DOCKER_MANIFEST) == 0 ||
            strcasecmp(media_type, ES_MEDIA_OCI_MANIFEST) == 0)
                return DOCUMENT_IMAGE;
        if (strcasecmp(media_type, ES_MEDIA_OCI_ARTIFACT) == 0)
                return DOCUMENT_ARTIFACT;
        if (es_media_type_is_index(media_type))
                return DOCUMENT_INDEX;
        if (es_media_type_is_schema1(media_type))
                return DOCUMENT_SCHEMA1;
        return DOCUMENT_UNKNOWN;
}

bool es_media_type_is_index(const char *media_type)
{
        return media_type != NULL && (strcasecmp(media_type, ES_MEDIA_DOCKER_LIST) == 0 ||
                                      strcasecmp(media_type, ES_MEDIA_OCI_INDEX) == 0);
}

bool es_media_type_is_schema1(const char *media_type)
{
        return media_type != NULL && (strcasecmp(media_type, ES_MEDIA_DOCKER_SCHEMA1) == 0 ||
                                      strcasecmp(media_type, ES_MEDIA_DOCKER_SCHEMA1_SIGNED) == 0);
}

bool es_descriptor_is_foreign(const struct es_descriptor *desc)
{
        static const char *const prefixes[] = {
            "application/vnd.docker.image.rootfs.foreign.",
            "application/vnd.oci.image.layer.nondistributable.",
        };

        if (desc->n_urls > 0)
                return true;
        for (size_t i = 0; i < ES_ARRAY_SIZE(prefixes); i++) {
                if (desc->media_type != NULL &&
                    strncasecmp(desc->media_type, prefixes[i], strlen(prefixes[i])) == 0)
                        return true;
        }
        return false;
}

/* One restricted-name of RFC 6838 section 4.2. Returns its length, or 0 when invalid. */
static size_t media_type_name_length(const char *s)
{
        size_t n = 0;

        if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
              (s[0] >= '0' && s[0] <= '9')))
                return 0;
        while (s[n] != '\0' && s[n] != '/') {
                char c = s[n];

                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      strchr("!#$&-^_.+", c) != NULL))
                        return 0;
                n++;
        }
        return n <= MAX_MEDIA_TYPE_NAME ? n : 0;
}

/* True for "type/subtype" made of RFC 6838 restricted names, without parameters. */
static bool media_type_is_valid(const char *media_type)
{
        size_t type_len = media_type_name_length(media_type);
        size_t subtype_len;

        if (type_len == 0 || media_type[type_len] != '/')
                return false;
        subtype_len = media_type_name_length(media_type + type_len + 1);
        return subtype_len > 0 && media_type[type_len + 1 + subtype_len] == '\0';
}

/* Reject input that jansson would accept but a manifest must not contain. */
static int check_bytes(const char *data, size_t len, struct es_error *err)
{
        const char *nul;
        unsigned depth = 0;
        bool in_string = false;

        if (len > ES_MAX_MANIFEST_SIZE)
                return es_error_set(err, ES_ERR_INVALID,
                                    "manifest: %zu bytes, the maximum is %u bytes (4 MiB)", len,
                                    ES_MAX_MANIFEST_SIZE);

        nul = memchr(data, '\0', len);
        if (nul != NULL)
                return es_error_set(err, ES_ERR_INVALID, "manifest: NUL byte at offset %zu",
                                    (size_t)(nul - data));

        /* Count nesting before parsing, so a deep document never reaches the parser's recursion. */
        for (size_t i = 0; i < len; i++) {
                char c = data[i];

                if (in_string) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_string = false;
                } else if (c == '"') {
                        in_string = true;
                } else if (c == '{' || c == '[') {
                        if (++depth > ES_MAX_JSON_DEPTH)
                                return es_error_set(err, ES_ERR_INVALID,
                                                    "manifest: JSON nesting deeper than %d levels "
                                                    "at offset %zu",
                                                    ES_MAX_JSON_DEPTH, i);
                } else if ((c == '}' || c == ']') && depth > 0) {
                        depth--;
                }
        }
        return 0;
}

/*
 * Read an optional string member. Sets *out to the string or NULL when the
 * member is absent, and fails when the member is present but not a string.
 */
static int get_string(json_t *object, const char *key, const char *path, const char **out,
                      struct es_error *err)
{
        json_t *value = json_object_get(object, key);

        *out = NULL;
        if (value == NULL)
                return 0;
        if (!json_is_string(value))
                return field_error(err, path, "expected a string");
        *out = json_string_value(value);
        return 0;
}

/* Read an optional media type member into a new string, or NULL when absent. */
static int get_media_type(json_t *object, const char *key, const char *path, char **out,
                          struct es_error *err)
{
        _cleanup_free_ char *quoted = NULL;
        const char *value;
        int r;

        *out = NULL;
        r = get_string(object, key, path, &value, err);
        if (r < 0 || value == NULL)
                return r;
        if (!media_type_is_valid(value)) {
                quoted = quote_value(value);
                return field_error(err, path, "invalid media type %s, expected type/subtype",
                                   quoted);
        }
        *out = es_strdup(value);
        return 0;
}

static int get_digest(json_t *object, const char *key, const char *path, char **out,
                      struct es_error *err)
{
        struct es_error digest_err = ES_ERROR_INIT;
        const char *value;
        int r;

        *out = NULL;
        r = get_string(object, key, path, &value, err);
        if (r < 0 || value == NULL)
                return r;
        if (es_digest_validate(value, &digest_err) < 0) {
                r = field_error(err, path, "%s", es_error_message(&digest_err));
                es_error_release(&digest_err);
                return r;
        }
        *out = es_strdup(value);
        return 0;
}

static void descriptor_release(struct es_descriptor *desc)
{
        free(desc->media_type);
        free(desc->digest);
        for (size_t i = 0; i < desc->n_urls; i++)
                free(desc->urls[i]);
        free(desc->urls);
        free(desc->artifact_type);
        free(desc->platform.os);
        free(desc->platform.architecture);
        free(desc->platform.variant);
        free(desc->attestation_of);
        memset(desc, 0, sizeof(*desc));
}

static int parse_size(json_t *object, const char *path, int64_t *out, struct es_error *err)
{
        _cleanup_free_ char *field = es_asprintf("%s.size", path);
        json_t *value = json_object_get(object, "size");
        json_int_t size;

        if (value == NULL)
                return field_error(err, field, "missing");
        if (!json_is_integer(value))
                return field_error(err, field, "expected an integer");
        size = json_integer_value(value);
        if (size < 0 || size > MAX_DESCRIPTOR_SIZE)
                return field_error(err, field, "invalid size %lld, expected 0 to 2^53",
                                   (long long)size);
        *out = (int64_t)size;
        return 0;
}

static int parse_urls(json_t *object, const char *path, struct es_descriptor *desc,
                      struct es_error *err)
{
        json_t *urls = json_object_get(object, "urls");
        size_t count;

        if (urls == NULL)
                return 0;
        if (!json_is_array(urls)) {
                _cleanup_free_ char *field = es_asprintf("%s.urls", path);

                return field_error(err, field, "expected an array of strings");
        }

        count = json_array_size(urls);
        if (count == 0)
                return 0;
        desc->urls = es_calloc(count, sizeof(*desc->urls));
        for (size_t i = 0; i < count; i++) {
                json_t *url = json_array_get(urls, i);

                if (!json_is_string(url)) {
                        _cleanup_free_ char *field = es_asprintf("%s.urls[%zu]", path, i);

                        return field_error(err, field, "expected a string");
                }
                desc->urls[desc->n_urls++] = es_strdup(json_string_value(url));
        }
        return 0;
}

static int parse_platform(json_t *object, const char *path, struct es_descriptor *desc,
                          struct es_error *err)
{
        static const struct {
                const char *key;
                size_t offset;
        } members[] = {
            {"os", offsetof(struct es_platform, os)},
            {"architecture", offsetof(struct es_platform, architecture)},
            {"variant", offsetof(struct es_platform, variant)},
        };
        json_t *platform = json_object_get(object, "platform");

        if (platform == NULL)
                return 0;
        if (!json_is_object(platform)) {
                _cleanup_free_ char *field = es_asprintf("%s.platform", path);

                return field_error(err, field, "expected an object");
        }

        desc->has_platform = true;
        for (size_t i = 0; i < ES_ARRAY_SIZE(members); i++) {
                _cleanup_free_ char *field = es_asprintf("%s.platform.%s", path, members[i].key);
                char **target = (char **)((char *)&desc->platform + members[i].offset);
                const char *value;
                int r;

                r = get_string(platform, members[i].key, field, &value, err);
                if (r < 0)
                        return r;
                if (value != NULL)
                        *target = es_strdup(value);
        }
        return 0;
}

/* Read the two annotations that BuildKit puts on attestation manifests in an index. */
static int parse_annotations(json_t *object, const char *path, struct es_descriptor *desc,
                             struct es_error *err)
{
        _cleanup_free_ char *type_field = NULL, *digest_field = NULL;
        json_t *annotations = json_object_get(object, "annotations");
        const char *type;
        int r;

        if (annotations == NULL)
                return 0;
        if (!json_is_object(annotations)) {
                _cleanup_free_ char *field = es_asprintf("%s.annotations", path);

                return field_error(err, field, "expected an object");
        }

        type_field = es_asprintf("%s.annotations[\"" ANNOTATION_REFERENCE_TYPE "\"]", path);
        r = get_string(annotations, ANNOTATION_REFERENCE_TYPE, type_field, &type, err);
        if (r < 0)
                return r;
        desc->is_attestation = type != NULL && strcmp(type, ATTESTATION_MANIFEST) == 0;

        digest_field = es_asprintf("%s.annotations[\"" ANNOTATION_REFERENCE_DIGEST "\"]", path);
        return get_digest(annotations, ANNOTATION_REFERENCE_DIGEST, digest_field,
                          &desc->attestation_of, err);
}

/* Parse the descriptor at path ("config", "layers[2]") into *out, which is released on failure. */
static int parse_descriptor(json_t *object, const char *path, struct es_descriptor *out,
                            struct es_error *err)
{
        _cleanup_free_ char *media_type_field = es_asprintf("%s.mediaType", path);
        _cleanup_free_ char *digest_field = es_asprintf("%s.digest", path);
        _cleanup_free_ char *artifact_type_field = es_asprintf("%s.artifactType", path);
        int r;

        memset(out, 0, sizeof(*out));
        if (!json_is_object(object))
                return field_error(err, path, "expected an object");

        r = get_media_type(object, "mediaType", media_type_field, &out->media_type, err);
        if (r < 0)
                goto fail;
        if (out->media_type == NULL) {
                r = field_error(err, media_type_field, "missing");
                goto fail;
        }

        r = get_digest(object, "digest", digest_field, &out->digest, err);
        if (r < 0)
                goto fail;
        if (out->digest == NULL) {
                r = field_error(err, digest_field, "missing");
                goto fail;
        }

        if ((r = parse_size(object, path, &out->size, err)) < 0 ||
            (r = parse_urls(object, path, out, err)) < 0 ||
            (r = get_media_type(object, "artifactType", artifact_type_field, &out->artifact_type,
                                err)) < 0 ||
            (r = parse_platform(object, path, out, err)) < 0 ||
            (r = parse_annotations(object, path, out, err)) < 0)
                goto fail;
        return 0;

fail:
        descriptor_release(out);
        return r;
}

/* Parse the array member key, naming its entries "KEY[i]" in messages. */
static int parse_descriptor_array(json_t *root, const char *key, bool required,
                                  struct es_descriptor **out, size_t *count, struct es_error *err)
{
        json_t *array = json_object_get(root, key);
        struct es_descriptor *items;
        size_t n;

        *out = NULL;
        *count = 0;
        if (array == NULL)
                return required ? field_error(err, key, "missing") : 0;
        if (!json_is_array(array))
                return field_error(err, key, "expected an array of descriptors");

        n = json_array_size(array);
        if (n > ES_MAX_DESCRIPTORS)
                return field_error(err, key, "%zu descriptors, the maximum is %d", n,
                                   ES_MAX_DESCRIPTORS);
        if (n == 0)
                return 0;

        items = es_calloc(n, sizeof(*items));
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = es_asprintf("%s[%zu]", key, i);
                int r = parse_descriptor(json_array_get(array, i), path, &items[i], err);

                if (r < 0) {
                        for (size_t j = 0; j < i; j++)
                                descriptor_release(&items[j]);
                        free(items);
                        return r;
                }
        }
        *out = items;
        *count = n;
        return 0;
}

static int parse_optional_descriptor(json_t *root, const char *key, bool *has,
                                     struct es_descriptor *out, struct es_error *err)
{
        json_t *value = json_object_get(root, key);
        int r;

        if (value == NULL)
                return 0;
        r = parse_descriptor(value, key, out, err);
        if (r < 0)
                return r;
        *has = true;
        return 0;
}

/* The Content-Type without parameters or surrounding spaces, or NULL. */
static char *strip_content_type(const char *content_type)
{
        size_t start, end;

        if (content_type == NULL)
                return NULL;
        start = strspn(content_type, " \t");
        end = start + strcspn(content_type + start, ";");
        while (end > start && (content_type[end - 1] == ' ' || content_type[end - 1] == '\t'))
                end--;
        if (end == start)
                return NULL;
        return es_strndup(content_type + start, end - start);
}

/* Decide the document type when neither mediaType nor Content-Type names a known one. */
static int infer_document_type(json_t *root, enum document_type *out, struct es_error *err)
{
        bool has_manifests = json_object_get(root, "manifests") != NULL;
        bool has_layers = json_object_get(root, "layers") != NULL;
        bool has_blobs = json_object_get(root, "blobs") != NULL;

        if (has_manifests && (has_layers || has_blobs))
                return es_error_set(err, ES_ERR_INVALID,
                                    "manifest: has both \"manifests\" and \"layers\" or "
                                    "\"blobs\", and no known mediaType tells which kind it is");
        if (has_manifests)
                *out = DOCUMENT_INDEX;
        else if (has_layers)
                *out = DOCUMENT_IMAGE;
        else if (has_blobs)
                *out = DOCUMENT_ARTIFACT;
        else
                return es_error_set(err, ES_ERR_INVALID,
                                    "manifest: layers: missing, and no \"manifests\" or known "
                                    "mediaType either, so this is no image manifest or index");
        return 0;
}

static const char *default_media_type(enum document_type type)
{
        switch (type) {
        case DOCUMENT_INDEX:
                return ES_MEDIA_OCI_INDEX;
        case DOCUMENT_ARTIFACT:
                return ES_MEDIA_OCI_ARTIFACT;
        default:
                return ES_MEDIA_OCI_MANIFEST;
        }
}

static int check_schema_version(json_t *root, enum document_type type, struct es_error *err)
{
        json_t *version = json_object_get(root, "schemaVersion");
        json_int_t value;

        /* The withdrawn artifact manifest had no schemaVersion. */
        if (version == NULL && type == DOCUMENT_ARTIFACT)
                return 0;
        if (version == NULL)
                return field_error(err, "schemaVersion", "missing, expected 2");
        value = json_integer_value(version);
        if (value != 2)
                return field_error(err, "schemaVersion", "unsupported value %lld, expected 2",
                                   (long long)value);
        return 0;
}

static int parse_document(json_t *root, enum document_type type, struct es_manifest *m,
                          struct es_error *err)
{
        int r;

        if ((r = check_schema_version(root, type, err)) < 0 ||
            (r = get_media_type(root, "artifactType", "artifactType", &m->artifact_type, err)) <
                0 ||
            (r = parse_optional_descriptor(root, "subject", &m->has_subject, &m->subject, err)) < 0)
                return r;

        switch (type) {
        case DOCUMENT_INDEX:
                m->kind = ES_MANIFEST_INDEX;
                return parse_descriptor_array(root, "manifests", true, &m->manifests,
                                              &m->n_manifests, err);
        case DOCUMENT_ARTIFACT:
                m->kind = ES_MANIFEST_IMAGE;
                return parse_descriptor_array(root, "blobs", false, &m->layers, &m->n_layers, err);
        default:
                m->kind = ES_MANIFEST_IMAGE;
                if (json_object_get(root, "config") == NULL)
                        return field_error(err, "config", "missing");
                if ((r = parse_optional_descriptor(root, "config", &m->has_config, &m->config,
                                                   err)) < 0)
                        return r;
                return parse_descriptor_array(root, "layers", true, &m->layers, &m->n_layers, err);
        }
}

int es_manifest_parse(const char *data, size_t len, const char *content_type,
                      struct es_manifest *out, struct es_error *err)
{
        _cleanup_(json_decrefp) json_t *root = NULL;
        _cleanup_free_ char *header_type = NULL, *document_media_type = NULL;
        struct es_manifest m;
        enum document_type type;
        json_error_t json_err;
        json_t *version;
        int r;

        r = check_bytes(data, len, err);
        if (r < 0)
                return r;

        root = json_loadb(data, len, 0, &json_err);
        if (root == NULL)
                return es_error_set(err, ES_ERR_INVALID,
                                    "manifest: invalid JSON at line %d, column %d: %s",
                                    json_err.line, json_err.column, json_err.text);
        if (!json_is_object(root))
                return es_error_set(err, ES_ERR_INVALID,
                                    "manifest: expected a JSON object at the top level");

        r = get_media_type(root, "mediaType", "mediaType", &document_media_type, err);
        if (r < 0)
                return r;
        version = json_object_get(root, "schemaVersion");
        if (version != NULL && !json_is_integer(version))
                return field_error(err, "schemaVersion", "expected an integer");
        header_type = strip_content_type(content_type);

        /* The document's own mediaType decides, then the Content-Type, then the members present. */
        type = classify_media_type(document_media_type);
        if (type == DOCUMENT_UNKNOWN)
                type = classify_media_type(header_type);
        if (type == DOCUMENT_UNKNOWN && json_integer_value(version) == 1)
                type = DOCUMENT_SCHEMA1;
        if (type == DOCUMENT_UNKNOWN) {
                r = infer_document_type(root, &type, err);
                if (r < 0)
                        return r;
        }

        memset(&m, 0, sizeof(m));
        if (document_media_type != NULL)
                m.media_type = TAKE_PTR(document_media_type);
        else if (classify_media_type(header_type) != DOCUMENT_UNKNOWN)
                m.media_type = TAKE_PTR(header_type);
        else if (type == DOCUMENT_SCHEMA1)
                m.media_type =
                    es_strdup(json_object_get(root, "signatures") ? ES_MEDIA_DOCKER_SCHEMA1_SIGNED
                                                                  : ES_MEDIA_DOCKER_SCHEMA1);
        else
                m.media_type = es_strdup(default_media_type(type));

        /* Schema 1 is only recognised, so that the caller can reject it by name. */
        if (type == DOCUMENT_SCHEMA1 || json_integer_value(version) == 1) {
                m.kind = ES_MANIFEST_SCHEMA1;
                *out = m;
                return 0;
        }

        r = parse_document(root, type, &m, err);
        if (r < 0) {
                es_manifest_release(&m);
                return r;
        }
        *out = m;
        return 0;
}

void es_manifest_release(struct es_manifest *manifest)
{
        if (manifest == NULL)
                return;
        free(manifest->media_type);
        free(manifest->artifact_type);
        descriptor_release(&manifest->config);
        for (size_t i = 0; i < manifest->n_layers; i++)
                descriptor_release(&manifest->layers[i]);
        free(manifest->layers);
        for (size_t i = 0; i < manifest->n_manifests; i++)
                descriptor_release(&manifest->manifests[i]);
        free(manifest->manifests);
        descriptor_release(&manifest->subject);
        memset(manifest, 0, sizeof(*manifest));
}
