/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for registry/manifest.c: every manifest kind, and the boundary checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/limits.h"
#include "registry/manifest.h"

#define D_CONFIG "sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910"
#define D_L1     "sha256:2804bad6fe94a55f18b2b37e300919a5fd517b95aa81e95db574c0ba069a3740"
#define D_L2     "sha256:8a1cee436cbac1489a1883c9d886fcfc46f302c55ed4106ae31729e4f4eb9041"
#define D_L3     "sha256:10dacdccfe877dc064d57442e6fa7a4e3085dc94e11a29819c2290fc3d788724"
#define D_M1     "sha256:ca0df2c95aa144c1d0ff2ff3c8f967fdc1de9ef0c4120b3726416701b519d619"
#define D_M2     "sha256:29c1b289e7522195b362e44f54e05470b69ad20540ab60a18a05e5bf6951f13d"
#define D_ATT    "sha256:f745a15153c4dacf0ea4bbf57265e73283941f8335939b33c693975315cf5916"
#define D_EMPTY  "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

#define OCI_CONFIG_TYPE "application/vnd.oci.image.config.v1+json"
#define OCI_LAYER_TYPE  "application/vnd.oci.image.layer.v1.tar+gzip"

/* Building blocks for small OCI image manifests in the error cases. */
#define LAYER(size, digest)                                                                        \
        "{\"mediaType\":\"" OCI_LAYER_TYPE "\",\"size\":" size ",\"digest\":\"" digest "\"}"
#define CONFIG_MEMBER                                                                              \
        "\"config\":{\"mediaType\":\"" OCI_CONFIG_TYPE "\",\"size\":1470,\"digest\":\"" D_CONFIG   \
        "\"}"
#define OCI_HEAD                  "{\"schemaVersion\":2,\"mediaType\":\"" ES_MEDIA_OCI_MANIFEST "\","
#define IMAGE_WITH_LAYERS(layers) OCI_HEAD CONFIG_MEMBER ",\"layers\":[" layers "]}"
#define INDEX_WITH(entry)                                                                          \
        "{\"schemaVersion\":2,\"mediaType\":\"" ES_MEDIA_OCI_INDEX "\",\"manifests\":[" entry "]}"
#define INDEX_ENTRY(extra)                                                                         \
        "{\"mediaType\":\"" ES_MEDIA_OCI_MANIFEST "\",\"size\":1234,\"digest\":\"" D_M1 "\"" extra \
        "}"

static const char docker_v2[] =
    "{\n"
    "  \"schemaVersion\": 2,\n"
    "  \"mediaType\": \"" ES_MEDIA_DOCKER_MANIFEST "\",\n"
    "  \"config\": {\n"
    "    \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\n"
    "    \"size\": 7023,\n"
    "    \"digest\": \"" D_CONFIG "\"\n"
    "  },\n"
    "  \"layers\": [\n"
    "    {\n"
    "      \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"
    "      \"size\": 32654,\n"
    "      \"digest\": \"" D_L1 "\"\n"
    "    },\n"
    "    {\n"
    "      \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"
    "      \"size\": 16724,\n"
    "      \"digest\": \"" D_L2 "\"\n"
    "    }\n"
    "  ]\n"
    "}\n";

static const char oci_manifest[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" ES_MEDIA_OCI_MANIFEST "\","
    "\"config\":{\"mediaType\":\"" OCI_CONFIG_TYPE "\",\"digest\":\"" D_CONFIG "\",\"size\":1470},"
    "\"layers\":[{\"mediaType\":\"" OCI_LAYER_TYPE "\",\"digest\":\"" D_L1 "\",\"size\":3623807,"
    "\"annotations\":{\"org.opencontainers.image.title\":\"rootfs\"}}],"
    "\"annotations\":{\"org.opencontainers.image.created\":\"2024-05-01T00:00:00Z\"}}";

static const char oci_manifest_without_media_type[] =
    "{\"schemaVersion\":2,"
    "\"config\":{\"mediaType\":\"" OCI_CONFIG_TYPE "\",\"digest\":\"" D_CONFIG "\",\"size\":1470},"
    "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" D_L1
    "\",\"size\":0}]}";

static const char docker_list[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" ES_MEDIA_DOCKER_LIST "\",\"manifests\":["
    "{\"mediaType\":\"" ES_MEDIA_DOCKER_MANIFEST "\",\"size\":1570,\"digest\":\"" D_M1 "\","
    "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
    "{\"mediaType\":\"" ES_MEDIA_DOCKER_MANIFEST "\",\"size\":1570,\"digest\":\"" D_M2 "\","
    "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
    "{\"mediaType\":\"" ES_MEDIA_DOCKER_MANIFEST "\",\"size\":2100,\"digest\":\"" D_L3 "\","
    "\"platform\":{\"architecture\":\"amd64\",\"os\":\"windows\","
    "\"os.version\":\"10.0.17763.5458\"}}]}";

static const char oci_index_with_attestation[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" ES_MEDIA_OCI_INDEX "\",\"manifests\":["
    "{\"mediaType\":\"" ES_MEDIA_OCI_MANIFEST "\",\"digest\":\"" D_M1 "\",\"size\":1234,"
    "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
    "{\"mediaType\":\"" ES_MEDIA_OCI_MANIFEST "\",\"digest\":\"" D_M2 "\",\"size\":1234,"
    "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
    "{\"mediaType\":\"" ES_MEDIA_OCI_MANIFEST "\",\"digest\":\"" D_ATT "\",\"size\":839,"
    "\"annotations\":{\"vnd.docker.reference.digest\":\"" D_M1 "\","
    "\"vnd.docker.reference.type\":\"attestation-manifest\"},"
    "\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}}]}";

static const char index_without_media_type[] =
    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" ES_MEDIA_OCI_MANIFEST "\","
    "\"digest\":\"" D_M1 "\",\"size\":1234}]}";

static const char windows_foreign_layers[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" ES_MEDIA_DOCKER_MANIFEST "\","
    "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\","
    "\"size\":1890,\"digest\":\"" D_CONFIG "\"},\"layers\":["
    "{\"mediaType\":\"" ES_MEDIA_DOCKER_FOREIGN_LAYER "\",\"size\":1718332879,"
    "\"digest\":\"" D_L1 "\",\"urls\":[\"https://mcr.microsoft.com/v2/windows/servercore/"
    "blobs/" D_L1 "\"]},"
    "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":1234,"
    "\"digest\":\"" D_L2 "\"},"
    "{\"mediaType\":\"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip\","
    "\"size\":99,\"digest\":\"" D_L3 "\"}]}";

static const char oci_artifact[] =
    "{\"mediaType\":\"" ES_MEDIA_OCI_ARTIFACT "\","
    "\"artifactType\":\"application/vnd.example.sbom.v1\","
    "\"blobs\":[{\"mediaType\":\"application/vnd.cyclonedx+json\",\"size\":1234,"
    "\"digest\":\"" D_L1 "\"}],"
    "\"subject\":{\"mediaType\":\"" ES_MEDIA_OCI_MANIFEST "\",\"size\":1470,"
    "\"digest\":\"" D_M1 "\"},"
    "\"annotations\":{\"org.opencontainers.artifact.created\":\"2023-01-01T00:00:00Z\"}}";

static const char oci_image_artifact[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" ES_MEDIA_OCI_MANIFEST "\","
    "\"artifactType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\","
    "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"" D_EMPTY
    "\",\"size\":2,\"data\":\"e30=\"},"
    "\"layers\":[{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\","
    "\"digest\":\"" D_L1 "\",\"size\":5012}],"
    "\"subject\":{\"mediaType\":\"" ES_MEDIA_OCI_MANIFEST "\",\"digest\":\"" D_M1 "\","
    "\"size\":1470}}";

static const char schema1_signed[] =
    "{\"schemaVersion\":1,\"name\":\"library/busybox\",\"tag\":\"latest\","
    "\"architecture\":\"amd64\",\"fsLayers\":[{\"blobSum\":\"" D_L1 "\"}],"
    "\"history\":[{\"v1Compatibility\":\"{\\\"id\\\":\\\"abc\\\"}\"}],"
    "\"signatures\":[{\"header\":{\"jwk\":{\"crv\":\"P-256\",\"kty\":\"EC\"},"
    "\"alg\":\"ES256\"},\"signature\":\"c2ln\",\"protected\":\"cHJvdA\"}]}";

static const char schema1_unsigned[] =
    "{\"schemaVersion\":1,\"name\":\"library/busybox\",\"tag\":\"latest\","
    "\"fsLayers\":[{\"blobSum\":\"" D_L1 "\"}],\"history\":[]}";

static const char schema1_by_media_type[] =
    "{\"mediaType\":\"" ES_MEDIA_DOCKER_SCHEMA1 "\",\"fsLayers\":[]}";

struct valid_case {
        const char *name;
        const char *json;
        const char *content_type;
        enum es_manifest_kind kind;
        const char *media_type;
        size_t n_layers;
        size_t n_manifests;
        bool has_config;
        bool has_subject;
        const char *artifact_type;
};

struct invalid_case {
        const char *name;
        const char *json;
        const char *message;
        bool message_is_prefix; /* for jansson's own wording after a fixed start */
};

/* Compare two strings that may be NULL, naming the case and field on a mismatch. */
static void assert_field(const char *name, const char *field, const char *actual,
                         const char *expected)
{
        if (actual == NULL && expected == NULL)
                return;
        if (actual != NULL && expected != NULL && strcmp(actual, expected) == 0)
                return;
        print_error("case %s, field %s\n", name, field);
        assert_string_equal(actual ? actual : "(null)", expected ? expected : "(null)");
}

static void assert_size(const char *name, const char *field, size_t actual, size_t expected)
{
        if (actual != expected)
                print_error("case %s, field %s\n", name, field);
        assert_int_equal(actual, expected);
}

static void parse_ok(const char *name, const char *data, size_t len, const char *content_type,
                     struct es_manifest *m)
{
        struct es_error err = ES_ERROR_INIT;
        int r = es_manifest_parse(data, len, content_type, m, &err);

        if (r != 0)
                print_error("case %s: %s\n", name, es_error_message(&err));
        assert_int_equal(r, 0);
        es_error_release(&err);
}

/* Parse data that must fail, and check the message and that *out was not touched. */
static void parse_fails(const char *name, const char *data, size_t len, const char *expected,
                        bool expected_is_prefix)
{
        char marker[] = "untouched";
        struct es_manifest m = {.kind = 99, .media_type = marker, .n_layers = 7};
        struct es_error err = ES_ERROR_INIT;
        int r = es_manifest_parse(data, len, NULL, &m, &err);
        const char *message = es_error_message(&err);

        if (r != -ES_ERR_INVALID)
                print_error("case %s was accepted or failed with %d\n", name, r);
        assert_int_equal(r, -ES_ERR_INVALID);
        assert_int_equal(err.code, ES_ERR_INVALID);
        if (expected_is_prefix && strncmp(message, expected, strlen(expected)) == 0)
                ;
        else
                assert_field(name, "message", message, expected);
        assert_int_equal(m.kind, 99);
        assert_ptr_equal(m.media_type, marker);
        assert_int_equal(m.n_layers, 7);
        es_error_release(&err);
}

static void test_parse_kinds(void **state)
{
        static const struct valid_case cases[] = {
            {"docker v2", docker_v2, ES_MEDIA_DOCKER_MANIFEST, ES_MANIFEST_IMAGE,
             ES_MEDIA_DOCKER_MANIFEST, 2, 0, true, false, NULL},
            {"oci manifest", oci_manifest, NULL, ES_MANIFEST_IMAGE, ES_MEDIA_OCI_MANIFEST, 1, 0,
             true, false, NULL},
            {"oci manifest, media type from content type", oci_manifest_without_media_type,
             " " ES_MEDIA_OCI_MANIFEST " ; charset=utf-8", ES_MANIFEST_IMAGE, ES_MEDIA_OCI_MANIFEST,
             1, 0, true, false, NULL},
            {"oci manifest, generic content type", oci_manifest_without_media_type,
             "application/json", ES_MANIFEST_IMAGE, ES_MEDIA_OCI_MANIFEST, 1, 0, true, false, NULL},
            {"oci manifest, no content type", oci_manifest_without_media_type, NULL,
             ES_MANIFEST_IMAGE, ES_MEDIA_OCI_MANIFEST, 1, 0, true, false, NULL},
            {"docker list", docker_list, NULL, ES_MANIFEST_INDEX, ES_MEDIA_DOCKER_LIST, 0, 3, false,
             false, NULL},
            {"oci index with attestation", oci_index_with_attestation, ES_MEDIA_OCI_INDEX,
             ES_MANIFEST_INDEX, ES_MEDIA_OCI_INDEX, 0, 3, false, false, NULL},
            {"index inferred from manifests", index_without_media_type, NULL, ES_MANIFEST_INDEX,
             ES_MEDIA_OCI_INDEX, 0, 1, false, false, NULL},
            {"index, media type from content type", index_without_media_type, ES_MEDIA_DOCKER_LIST,
             ES_MANIFEST_INDEX, ES_MEDIA_DOCKER_LIST, 0, 1, false, false, NULL},
            {"document media type wins over content type", oci_index_with_attestation,
             ES_MEDIA_DOCKER_MANIFEST, ES_MANIFEST_INDEX, ES_MEDIA_OCI_INDEX, 0, 3, false, false,
             NULL},
            {"foreign layers", windows_foreign_layers, NULL, ES_MANIFEST_IMAGE,
             ES_MEDIA_DOCKER_MANIFEST, 3, 0, true, false, NULL},
            {"oci artifact manifest", oci_artifact, ES_MEDIA_OCI_ARTIFACT, ES_MANIFEST_IMAGE,
             ES_MEDIA_OCI_ARTIFACT, 1, 0, false, true, "application/vnd.example.sbom.v1"},
            {"oci 1.1 artifact in an image manifest", oci_image_artifact, NULL, ES_MANIFEST_IMAGE,
             ES_MEDIA_OCI_MANIFEST, 1, 0, true, true,
             "application/vnd.dev.sigstore.bundle.v0.3+json"},
            {"schema 1 by content type", schema1_signed, ES_MEDIA_DOCKER_SCHEMA1_SIGNED,
             ES_MANIFEST_SCHEMA1, ES_MEDIA_DOCKER_SCHEMA1_SIGNED, 0, 0, false, false, NULL},
            {"schema 1 signed by schemaVersion", schema1_signed, NULL, ES_MANIFEST_SCHEMA1,
             ES_MEDIA_DOCKER_SCHEMA1_SIGNED, 0, 0, false, false, NULL},
            {"schema 1 by schemaVersion, generic content type", schema1_signed, "application/json",
             ES_MANIFEST_SCHEMA1, ES_MEDIA_DOCKER_SCHEMA1_SIGNED, 0, 0, false, false, NULL},
            {"schema 1 unsigned by schemaVersion", schema1_unsigned, NULL, ES_MANIFEST_SCHEMA1,
             ES_MEDIA_DOCKER_SCHEMA1, 0, 0, false, false, NULL},
            {"schema 1 by document media type", schema1_by_media_type, NULL, ES_MANIFEST_SCHEMA1,
             ES_MEDIA_DOCKER_SCHEMA1, 0, 0, false, false, NULL},
            {"duplicate keys, last wins",
             OCI_HEAD CONFIG_MEMBER ",\"layers\":[" LAYER(
                 "1", D_L1) "],"
                            "\"layers\":[" LAYER("1", D_L1) "," LAYER("2", D_L2) "]}",
             NULL, ES_MANIFEST_IMAGE, ES_MEDIA_OCI_MANIFEST, 2, 0, true, false, NULL},
            {"empty layers", IMAGE_WITH_LAYERS(""), NULL, ES_MANIFEST_IMAGE, ES_MEDIA_OCI_MANIFEST,
             0, 0, true, false, NULL},
            {"empty index", INDEX_WITH(""), NULL, ES_MANIFEST_INDEX, ES_MEDIA_OCI_INDEX, 0, 0,
             false, false, NULL},
            {"sizes 0 and 2^53",
             IMAGE_WITH_LAYERS(LAYER("0", D_L1) "," LAYER("9007199254740992", D_L2)), NULL,
             ES_MANIFEST_IMAGE, ES_MEDIA_OCI_MANIFEST, 2, 0, true, false, NULL},
            {"brackets inside strings",
             OCI_HEAD CONFIG_MEMBER ",\"layers\":[],\"annotations\":{\"x\":\"\\\"[[[[[[[[[["
                                    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                                    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\\\"}}",
             NULL, ES_MANIFEST_IMAGE, ES_MEDIA_OCI_MANIFEST, 0, 0, true, false, NULL},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                const struct valid_case *c = &cases[i];
                struct es_manifest m;

                parse_ok(c->name, c->json, strlen(c->json), c->content_type, &m);
                if (m.kind != c->kind)
                        print_error("case %s: kind\n", c->name);
                assert_int_equal(m.kind, c->kind);
                assert_field(c->name, "media_type", m.media_type, c->media_type);
                assert_size(c->name, "n_layers", m.n_layers, c->n_layers);
                assert_size(c->name, "n_manifests", m.n_manifests, c->n_manifests);
                assert_size(c->name, "has_config", m.has_config, c->has_config);
                assert_size(c->name, "has_subject", m.has_subject, c->has_subject);
                assert_field(c->name, "artifact_type", m.artifact_type, c->artifact_type);
                es_manifest_release(&m);
                assert_null(m.media_type);
        }
}

static void test_docker_v2_fields(void **state)
{
        struct es_manifest m;

        parse_ok("docker v2", docker_v2, strlen(docker_v2), NULL, &m);
        assert_string_equal(m.config.media_type, "application/vnd.docker.container.image.v1+json");
        assert_string_equal(m.config.digest, D_CONFIG);
        assert_int_equal(m.config.size, 7023);
        assert_string_equal(m.layers[0].media_type,
                            "application/vnd.docker.image.rootfs.diff.tar.gzip");
        assert_string_equal(m.layers[0].digest, D_L1);
        assert_int_equal(m.layers[0].size, 32654);
        assert_string_equal(m.layers[1].digest, D_L2);
        assert_int_equal(m.layers[1].size, 16724);
        assert_null(m.layers[1].urls);
        assert_false(m.layers[1].has_platform);
        assert_false(es_descriptor_is_foreign(&m.layers[0]));
        es_manifest_release(&m);
}

static void test_index_platforms_and_attestations(void **state)
{
        struct es_manifest m;

        parse_ok("docker list", docker_list, strlen(docker_list), NULL, &m);
        assert_true(m.manifests[0].has_platform);
        assert_string_equal(m.manifests[0].platform.os, "linux");
        assert_string_equal(m.manifests[0].platform.architecture, "amd64");
        assert_null(m.manifests[0].platform.variant);
        assert_string_equal(m.manifests[1].platform.architecture, "arm64");
        assert_string_equal(m.manifests[1].platform.variant, "v8");
        assert_string_equal(m.manifests[2].platform.os, "windows");
        assert_string_equal(m.manifests[2].digest, D_L3);
        for (size_t i = 0; i < m.n_manifests; i++) {
                assert_false(m.manifests[i].is_attestation);
                assert_null(m.manifests[i].attestation_of);
        }
        es_manifest_release(&m);

        parse_ok("oci index", oci_index_with_attestation, strlen(oci_index_with_attestation), NULL,
                 &m);
        assert_false(m.manifests[0].is_attestation);
        assert_false(m.manifests[1].is_attestation);
        assert_true(m.manifests[2].is_attestation);
        assert_string_equal(m.manifests[2].attestation_of, D_M1);
        assert_string_equal(m.manifests[2].digest, D_ATT);
        assert_int_equal(m.manifests[2].size, 839);
        assert_string_equal(m.manifests[2].platform.os, "unknown");
        es_manifest_release(&m);
}

static void test_attestation_needs_type(void **state)
{
        static const char json[] =
            INDEX_WITH(INDEX_ENTRY(",\"annotations\":{\"vnd.docker.reference.type\":\"other\","
                                   "\"vnd.docker.reference.digest\":\"" D_M2 "\"}"));
        struct es_manifest m;

        parse_ok("other reference type", json, strlen(json), NULL, &m);
        assert_false(m.manifests[0].is_attestation);
        assert_string_equal(m.manifests[0].attestation_of, D_M2);
        es_manifest_release(&m);
}

static void test_foreign_layers(void **state)
{
        struct es_manifest m;

        parse_ok("foreign", windows_foreign_layers, strlen(windows_foreign_layers), NULL, &m);
        assert_int_equal(m.layers[0].n_urls, 1);
        assert_string_equal(m.layers[0].urls[0],
                            "https://mcr.microsoft.com/v2/windows/servercore/blobs/" D_L1);
        assert_int_equal(m.layers[0].size, 1718332879);
        assert_true(es_descriptor_is_foreign(&m.layers[0]));
        assert_false(es_descriptor_is_foreign(&m.layers[1]));
        assert_int_equal(m.layers[2].n_urls, 0);
        assert_true(es_descriptor_is_foreign(&m.layers[2]));
        es_manifest_release(&m);
}

static void test_foreign_by_urls_only(void **state)
{
        static const char json[] = IMAGE_WITH_LAYERS(
            "{\"mediaType\":\"" OCI_LAYER_TYPE "\",\"size\":5,\"digest\":\"" D_L1 "\","
            "\"urls\":[\"https://a.example/x\",\"https://b.example/x\"]}");
        struct es_manifest m;

        parse_ok("urls", json, strlen(json), NULL, &m);
        assert_int_equal(m.layers[0].n_urls, 2);
        assert_string_equal(m.layers[0].urls[1], "https://b.example/x");
        assert_true(es_descriptor_is_foreign(&m.layers[0]));
        es_manifest_release(&m);
}

static void test_artifacts(void **state)
{
        struct es_manifest m;

        parse_ok("oci artifact", oci_artifact, strlen(oci_artifact), NULL, &m);
        assert_string_equal(m.layers[0].media_type, "application/vnd.cyclonedx+json");
        assert_string_equal(m.layers[0].digest, D_L1);
        assert_string_equal(m.subject.digest, D_M1);
        assert_string_equal(m.subject.media_type, ES_MEDIA_OCI_MANIFEST);
        assert_int_equal(m.subject.size, 1470);
        es_manifest_release(&m);

        parse_ok("oci image artifact", oci_image_artifact, strlen(oci_image_artifact), NULL, &m);
        assert_string_equal(m.config.media_type, "application/vnd.oci.empty.v1+json");
        assert_string_equal(m.config.digest, D_EMPTY);
        assert_int_equal(m.config.size, 2);
        assert_string_equal(m.subject.digest, D_M1);
        es_manifest_release(&m);
}

static void test_artifact_inferred_from_blobs(void **state)
{
        static const char json[] =
            "{\"blobs\":[{\"mediaType\":\"application/octet-stream\",\"size\":3,"
            "\"digest\":\"" D_L1 "\"}]}";
        struct es_manifest m;

        parse_ok("blobs only", json, strlen(json), NULL, &m);
        assert_int_equal(m.kind, ES_MANIFEST_IMAGE);
        assert_string_equal(m.media_type, ES_MEDIA_OCI_ARTIFACT);
        assert_int_equal(m.n_layers, 1);
        assert_false(m.has_config);
        es_manifest_release(&m);
}

static void test_parse_invalid(void **state)
{
        static const struct invalid_case cases[] = {
            {"negative size", IMAGE_WITH_LAYERS(LAYER("-1", D_L1)),
             "manifest: layers[0].size: invalid size -1, expected 0 to 2^53", false},
            {"size 2^60", IMAGE_WITH_LAYERS(LAYER("1152921504606846976", D_L1)),
             "manifest: layers[0].size: invalid size 1152921504606846976, expected 0 to 2^53",
             false},
            {"size 2^53 + 1", IMAGE_WITH_LAYERS(LAYER("9007199254740993", D_L1)),
             "manifest: layers[0].size: invalid size 9007199254740993, expected 0 to 2^53", false},
            {"size beyond int64", IMAGE_WITH_LAYERS(LAYER("99999999999999999999", D_L1)),
             "manifest: invalid JSON at line 1, column ", true},
            {"fractional size", IMAGE_WITH_LAYERS(LAYER("1.5", D_L1)),
             "manifest: layers[0].size: expected an integer", false},
            {"exponent size", IMAGE_WITH_LAYERS(LAYER("1e3", D_L1)),
             "manifest: layers[0].size: expected an integer", false},
            {"string size", IMAGE_WITH_LAYERS(LAYER("\"12\"", D_L1)),
             "manifest: layers[0].size: expected an integer", false},
            {"missing size",
             OCI_HEAD "\"config\":{\"mediaType\":\"" OCI_CONFIG_TYPE "\",\"digest\":\"" D_CONFIG
                      "\"},\"layers\":[]}",
             "manifest: config.size: missing", false},
            {"bad digest in third layer",
             IMAGE_WITH_LAYERS(LAYER("1", D_L1) "," LAYER("2", D_L2) "," LAYER("3", "sha256:xyz")),
             "manifest: layers[2].digest: invalid digest \"sha256:xyz\": sha256 needs 64 hex "
             "digits, found 3 characters",
             false},
            {"uppercase digest",
             IMAGE_WITH_LAYERS(LAYER("1", "sha256:2804BAD6FE94A55F18B2B37E300919A5FD517B95AA81"
                                          "E95DB574C0BA069A3740")),
             "manifest: layers[0].digest: invalid digest "
             "\"sha256:2804BAD6FE94A55F18B2B37E300919A5FD517B95AA81E95DB574C0BA069A3740\": hex "
             "digits must be lowercase",
             false},
            {"unknown digest algorithm", IMAGE_WITH_LAYERS(LAYER("1", "md5:abc")),
             "manifest: layers[0].digest: invalid digest \"md5:abc\": unknown algorithm "
             "\"md5\", expected sha256 or sha512",
             false},
            {"missing digest",
             IMAGE_WITH_LAYERS("{\"mediaType\":\"" OCI_LAYER_TYPE "\",\"size\":1}"),
             "manifest: layers[0].digest: missing", false},
            {"numeric digest",
             IMAGE_WITH_LAYERS("{\"mediaType\":\"" OCI_LAYER_TYPE "\",\"size\":1,"
                               "\"digest\":7}"),
             "manifest: layers[0].digest: expected a string", false},
            {"missing layers", OCI_HEAD CONFIG_MEMBER "}", "manifest: layers: missing", false},
            {"layers object", OCI_HEAD CONFIG_MEMBER ",\"layers\":{}}",
             "manifest: layers: expected an array of descriptors", false},
            {"layer not an object", IMAGE_WITH_LAYERS("5"),
             "manifest: layers[0]: expected an object", false},
            {"numeric media type",
             "{\"schemaVersion\":2,\"mediaType\":5," CONFIG_MEMBER ",\"layers\":[]}",
             "manifest: mediaType: expected a string", false},
            {"boolean layer media type",
             IMAGE_WITH_LAYERS("{\"mediaType\":true,\"size\":1,\"digest\":\"" D_L1 "\"}"),
             "manifest: layers[0].mediaType: expected a string", false},
            {"missing layer media type", IMAGE_WITH_LAYERS("{\"size\":1,\"digest\":\"" D_L1 "\"}"),
             "manifest: layers[0].mediaType: missing", false},
            {"media type with spaces",
             IMAGE_WITH_LAYERS("{\"mediaType\":\"not a media type\",\"size\":1,"
                               "\"digest\":\"" D_L1 "\"}"),
             "manifest: layers[0].mediaType: invalid media type \"not a media type\", "
             "expected type/subtype",
             false},
            {"media type with parameters",
             IMAGE_WITH_LAYERS("{\"mediaType\":\"application/json; charset=utf-8\","
                               "\"size\":1,\"digest\":\"" D_L1 "\"}"),
             "manifest: layers[0].mediaType: invalid media type \"application/json; "
             "charset=utf-8\", expected type/subtype",
             false},
            {"media type without subtype",
             IMAGE_WITH_LAYERS("{\"mediaType\":\"application/\",\"size\":1,"
                               "\"digest\":\"" D_L1 "\"}"),
             "manifest: layers[0].mediaType: invalid media type \"application/\", expected "
             "type/subtype",
             false},
            {"top-level media type without slash",
             "{\"schemaVersion\":2,\"mediaType\":\"manifest\"," CONFIG_MEMBER ",\"layers\":[]}",
             "manifest: mediaType: invalid media type \"manifest\", expected type/subtype", false},
            {"missing config", OCI_HEAD "\"layers\":[]}", "manifest: config: missing", false},
            {"config not an object", OCI_HEAD "\"config\":[],\"layers\":[]}",
             "manifest: config: expected an object", false},
            {"index without manifests",
             "{\"schemaVersion\":2,\"mediaType\":\"" ES_MEDIA_OCI_INDEX "\"}",
             "manifest: manifests: missing", false},
            {"missing schemaVersion",
             "{\"mediaType\":\"" ES_MEDIA_OCI_MANIFEST "\"," CONFIG_MEMBER ",\"layers\":[]}",
             "manifest: schemaVersion: missing, expected 2", false},
            {"schemaVersion 3",
             "{\"schemaVersion\":3,\"mediaType\":\"" ES_MEDIA_OCI_MANIFEST "\"," CONFIG_MEMBER
             ",\"layers\":[]}",
             "manifest: schemaVersion: unsupported value 3, expected 2", false},
            {"schemaVersion as string",
             "{\"schemaVersion\":\"2\",\"mediaType\":\"" ES_MEDIA_OCI_MANIFEST "\"," CONFIG_MEMBER
             ",\"layers\":[]}",
             "manifest: schemaVersion: expected an integer", false},
            {"truncated JSON", "{", "manifest: invalid JSON at line 1, column 1: ", true},
            {"empty document", "", "manifest: invalid JSON at line 1, column 0: ", true},
            {"text after the document", "{} {}", "manifest: invalid JSON at line 1, column ", true},
            {"top-level array", "[]", "manifest: expected a JSON object at the top level", false},
            {"no kind", "{\"schemaVersion\":2}",
             "manifest: layers: missing, and no \"manifests\" or known mediaType either, so "
             "this is no image manifest or index",
             false},
            {"both manifests and layers", "{\"schemaVersion\":2,\"manifests\":[],\"layers\":[]}",
             "manifest: has both \"manifests\" and \"layers\" or \"blobs\", and no known "
             "mediaType tells which kind it is",
             false},
            {"bad attestation digest",
             INDEX_WITH(INDEX_ENTRY(",\"annotations\":{\"vnd.docker.reference.type\":"
                                    "\"attestation-manifest\","
                                    "\"vnd.docker.reference.digest\":\"sha256:nothex\"}")),
             "manifest: manifests[0].annotations[\"vnd.docker.reference.digest\"]: invalid "
             "digest \"sha256:nothex\": sha256 needs 64 hex digits, found 6 characters",
             false},
            {"numeric reference type",
             INDEX_WITH(INDEX_ENTRY(",\"annotations\":{\"vnd.docker.reference.type\":1}")),
             "manifest: manifests[0].annotations[\"vnd.docker.reference.type\"]: expected a "
             "string",
             false},
            {"annotations array", INDEX_WITH(INDEX_ENTRY(",\"annotations\":[]")),
             "manifest: manifests[0].annotations: expected an object", false},
            {"platform string", INDEX_WITH(INDEX_ENTRY(",\"platform\":\"linux/amd64\"")),
             "manifest: manifests[0].platform: expected an object", false},
            {"numeric platform os",
             INDEX_WITH(INDEX_ENTRY(",\"platform\":{\"os\":1,\"architecture\":\"amd64\"}")),
             "manifest: manifests[0].platform.os: expected a string", false},
            {"descriptor artifact type", INDEX_WITH(INDEX_ENTRY(",\"artifactType\":\"bogus\"")),
             "manifest: manifests[0].artifactType: invalid media type \"bogus\", expected "
             "type/subtype",
             false},
            {"urls string",
             IMAGE_WITH_LAYERS("{\"mediaType\":\"" OCI_LAYER_TYPE "\",\"size\":1,"
                               "\"digest\":\"" D_L1 "\",\"urls\":\"https://x\"}"),
             "manifest: layers[0].urls: expected an array of strings", false},
            {"numeric url",
             IMAGE_WITH_LAYERS("{\"mediaType\":\"" OCI_LAYER_TYPE "\",\"size\":1,"
                               "\"digest\":\"" D_L1 "\",\"urls\":[\"https://x\",1]}"),
             "manifest: layers[0].urls[1]: expected a string", false},
            {"invalid UTF-8",
             OCI_HEAD CONFIG_MEMBER ",\"layers\":[],\"annotations\":{\"x\":\"\xff\"}}",
             "manifest: invalid JSON at line 1, column ", true},
            {"escaped NUL in a string",
             OCI_HEAD CONFIG_MEMBER ",\"layers\":[],\"annotations\":{\"x\":\"a\\u0000b\"}}",
             "manifest: invalid JSON at line 1, column ", true},
            {"subject with bad digest",
             OCI_HEAD CONFIG_MEMBER
             ",\"layers\":[],\"subject\":{\"mediaType\":\"" ES_MEDIA_OCI_MANIFEST
             "\",\"size\":1,\"digest\":\"sha256:\"}}",
             "manifest: subject.digest: invalid digest \"sha256:\": sha256 needs 64 hex "
             "digits, found 0 characters",
             false},
            {"numeric artifact type",
             OCI_HEAD "\"artifactType\":5," CONFIG_MEMBER ",\"layers\":[]}",
             "manifest: artifactType: expected a string", false},
            {"artifact blob not an object",
             "{\"mediaType\":\"" ES_MEDIA_OCI_ARTIFACT "\",\"blobs\":[null]}",
             "manifest: blobs[0]: expected an object", false},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++)
                parse_fails(cases[i].name, cases[i].json, strlen(cases[i].json), cases[i].message,
                            cases[i].message_is_prefix);
}

static void test_long_value_is_cut_in_message(void **state)
{
        struct es_buf json = ES_BUF_INIT(0);
        _cleanup_free_ char *data = NULL;

        es_buf_puts(&json, IMAGE_WITH_LAYERS("{\"mediaType\":\"application/"));
        /* Drop the closing "]}" of the macro, then finish the layer by hand. */
        json.len -= 2;
        json.data[json.len] = '\0';
        for (int i = 0; i < 300; i++)
                es_buf_puts(&json, "x y");
        es_buf_puts(&json, "\",\"size\":1,\"digest\":\"" D_L1 "\"}]}");
        data = es_buf_take(&json);
        parse_fails("long media type", data, strlen(data),
                    "manifest: layers[0].mediaType: invalid media type \"application/x yx yx yx "
                    "yx yx yx yx yx yx yx yx yx yx yx yx yx yx yx yx yx yx yx yx yx yx yx yx yx "
                    "yx...\" (912 characters), expected type/subtype",
                    false);
}

static void test_nul_byte(void **state)
{
        char data[sizeof(oci_manifest)];

        memcpy(data, oci_manifest, sizeof(oci_manifest));
        data[40] = '\0';
        parse_fails("NUL byte", data, sizeof(oci_manifest) - 1, "manifest: NUL byte at offset 40",
                    false);

        /* A NUL right after the document is still inside len. */
        parse_fails("trailing NUL", oci_manifest, sizeof(oci_manifest),
                    "manifest: NUL byte at offset 538", false);
}

/* Build an OCI manifest whose annotations hold `arrays` nested arrays. */
static char *nested_manifest(int arrays)
{
        struct es_buf json = ES_BUF_INIT(0);

        es_buf_puts(&json, OCI_HEAD CONFIG_MEMBER ",\"layers\":[],\"x\":");
        for (int i = 0; i < arrays; i++)
                es_buf_puts(&json, "[");
        for (int i = 0; i < arrays; i++)
                es_buf_puts(&json, "]");
        es_buf_puts(&json, "}");
        return es_buf_take(&json);
}

static void test_nesting_depth(void **state)
{
        _cleanup_free_ char *depth_64 = nested_manifest(ES_MAX_JSON_DEPTH - 1);
        _cleanup_free_ char *depth_65 = nested_manifest(ES_MAX_JSON_DEPTH);
        _cleanup_free_ char *depth_100 = es_malloc(201);
        struct es_manifest m;

        /* The top-level object is level 1. */
        parse_ok("depth 64", depth_64, strlen(depth_64), NULL, &m);
        es_manifest_release(&m);

        parse_fails("depth 65", depth_65, strlen(depth_65),
                    "manifest: JSON nesting deeper than 64 levels at offset 316", false);

        memset(depth_100, '[', 100);
        memset(depth_100 + 100, ']', 100);
        depth_100[200] = '\0';
        parse_fails("depth 100", depth_100, 200,
                    "manifest: JSON nesting deeper than 64 levels at offset 64", false);
}

static void test_size_limit(void **state)
{
        size_t len = ES_MAX_MANIFEST_SIZE;
        _cleanup_free_ char *data = es_malloc(len + 1);
        struct es_manifest m;

        /* Exactly 4 MiB: a manifest padded with trailing whitespace. */
        memset(data, ' ', len + 1);
        memcpy(data, oci_manifest, strlen(oci_manifest));
        parse_ok("4 MiB", data, len, NULL, &m);
        es_manifest_release(&m);

        parse_fails("4 MiB + 1", data, len + 1,
                    "manifest: 4194305 bytes, the maximum is 4194304 bytes (4 MiB)", false);
}

static char *manifest_with_layers(size_t count)
{
        struct es_buf json = ES_BUF_INIT(0);

        es_buf_puts(&json, OCI_HEAD CONFIG_MEMBER ",\"layers\":[");
        for (size_t i = 0; i < count; i++)
                es_buf_puts(&json, i ? "," LAYER("1", D_L1) : LAYER("1", D_L1));
        es_buf_puts(&json, "]}");
        return es_buf_take(&json);
}

static void test_descriptor_limit(void **state)
{
        _cleanup_free_ char *at_limit = manifest_with_layers(ES_MAX_DESCRIPTORS);
        _cleanup_free_ char *over_limit = manifest_with_layers(ES_MAX_DESCRIPTORS + 1);
        struct es_manifest m;

        parse_ok("10000 layers", at_limit, strlen(at_limit), NULL, &m);
        assert_int_equal(m.n_layers, ES_MAX_DESCRIPTORS);
        es_manifest_release(&m);

        parse_fails("10001 layers", over_limit, strlen(over_limit),
                    "manifest: layers: 10001 descriptors, the maximum is 10000", false);
}

static void test_media_type_helpers(void **state)
{
        assert_true(es_media_type_is_index(ES_MEDIA_OCI_INDEX));
        assert_true(es_media_type_is_index(ES_MEDIA_DOCKER_LIST));
        assert_false(es_media_type_is_index(ES_MEDIA_OCI_MANIFEST));
        assert_false(es_media_type_is_index(NULL));
        assert_true(es_media_type_is_schema1(ES_MEDIA_DOCKER_SCHEMA1));
        assert_true(es_media_type_is_schema1(ES_MEDIA_DOCKER_SCHEMA1_SIGNED));
        assert_false(es_media_type_is_schema1(ES_MEDIA_DOCKER_MANIFEST));
        assert_false(es_media_type_is_schema1(NULL));

        assert_non_null(strstr(ES_MANIFEST_ACCEPT, ES_MEDIA_OCI_INDEX));
        assert_non_null(strstr(ES_MANIFEST_ACCEPT, ES_MEDIA_OCI_MANIFEST));
        assert_non_null(strstr(ES_MANIFEST_ACCEPT, ES_MEDIA_DOCKER_LIST));
        assert_non_null(strstr(ES_MANIFEST_ACCEPT, ES_MEDIA_DOCKER_MANIFEST));
        assert_non_null(strstr(ES_MANIFEST_ACCEPT, ES_MEDIA_OCI_ARTIFACT));
        assert_non_null(strstr(ES_MANIFEST_ACCEPT, ES_MEDIA_DOCKER_SCHEMA1));
        assert_non_null(strstr(ES_MANIFEST_ACCEPT, ES_MEDIA_DOCKER_SCHEMA1_SIGNED));
        es_manifest_release(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse_kinds),
            cmocka_unit_test(test_docker_v2_fields),
            cmocka_unit_test(test_index_platforms_and_attestations),
            cmocka_unit_test(test_attestation_needs_type),
            cmocka_unit_test(test_foreign_layers),
            cmocka_unit_test(test_foreign_by_urls_only),
            cmocka_unit_test(test_artifacts),
            cmocka_unit_test(test_artifact_inferred_from_blobs),
            cmocka_unit_test(test_parse_invalid),
            cmocka_unit_test(test_long_value_is_cut_in_message),
            cmocka_unit_test(test_nul_byte),
            cmocka_unit_test(test_nesting_depth),
            cmocka_unit_test(test_size_limit),
            cmocka_unit_test(test_descriptor_limit),
            cmocka_unit_test(test_media_type_helpers),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
