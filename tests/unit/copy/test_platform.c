/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for copy/platform.c: parsing and matching platform specs, the
 * filtered index built from OCI indexes and Docker manifest lists, and
 * reading back the source digest recorded in it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/limits.h"
#include "copy/platform.h"
#include "registry/digest.h"
#include "registry/manifest.h"

#define D_AMD64     "sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51"
#define D_ARM64     "sha256:f69162950f235e3cdbbad33f1f912d1a504be90d8a37d002c735d6f3e3882265"
#define D_ARMV7     "sha256:5ba6c8710dd1369ce61603ab9b7a81b25f92d4a9f74956ab72a7ea75884f07ee"
#define D_ATT_AMD64 "sha256:9c6bd5496b74c574d1efe05bb58297d3de62c21f0d778ec2d05d2b2b81fe4eaf"
#define D_ATT_ARM64 "sha256:7a5534a3f42a4adb02016ec0e3730ff5c51a54f2889eefb653b7f8de6774dedd"
#define D_WINDOWS   "sha256:823a3180dad3c9c3c4dea43ab2baf9f04bac9c3a7711745ff5f702551496d735"
#define D_PPC64LE   "sha256:6ff39ad64fc78addfe205e809111bee54caf0f35447e077658ed3c9b7025c3af"

#define OCI_INDEX_HEAD "{\"schemaVersion\":2,\"mediaType\":\"" ES_MEDIA_OCI_INDEX "\","
#define OCI_CHILD(digest, size, extra)                                                             \
        "{\"mediaType\":\"" ES_MEDIA_OCI_MANIFEST "\",\"digest\":\"" digest                        \
        "\",\"size\":" size extra "}"
#define ATTESTATION(digest, of)                                                                    \
        "{\"mediaType\":\"" ES_MEDIA_OCI_MANIFEST "\",\"digest\":\"" digest "\",\"size\":566,"     \
        "\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\","                 \
        "\"vnd.docker.reference.digest\":\"" of "\"},"                                             \
        "\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}}"

/* The platform member of a linux/amd64 child, for OCI_CHILD's extra members. */
#define LINUX_AMD64 ",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}"
#define AMD64_CHILD OCI_CHILD(D_AMD64, "10", LINUX_AMD64)

#define INDEX_OF(children) OCI_INDEX_HEAD "\"manifests\":[" children "]}"
#define INDEX_ANNOTATED(children, annotations)                                                     \
        OCI_INDEX_HEAD "\"manifests\":[" children "],\"annotations\":" annotations "}"

/*
 * An index as BuildKit pushes it: three images, then one attestation manifest
 * each for amd64 and arm64. Spacing and key order differ from what
 * es_platform_select() writes, as they do in real indexes.
 */
static const char buildkit_index[] =
    "{\n  \"schemaVersion\": 2,\n  \"mediaType\": \"" ES_MEDIA_OCI_INDEX "\",\n"
    "  \"manifests\": [\n"
    "    {\"mediaType\": \"" ES_MEDIA_OCI_MANIFEST "\", \"digest\": \"" D_AMD64 "\","
    " \"size\": 1613,"
    " \"annotations\": {\"org.opencontainers.image.ref.name\": \"1.27\","
    " \"com.example.build\": \"42\"},"
    " \"platform\": {\"os\": \"linux\", \"architecture\": \"amd64\"}},\n"
    "    {\"mediaType\": \"" ES_MEDIA_OCI_MANIFEST "\", \"digest\": \"" D_ARM64 "\","
    " \"size\": 1613, \"platform\": {\"variant\": \"v8\", \"os\": \"linux\","
    " \"architecture\": \"arm64\"}},\n"
    "    {\"mediaType\": \"" ES_MEDIA_OCI_MANIFEST "\", \"digest\": \"" D_ARMV7 "\","
    " \"size\": 1613, \"platform\": {\"architecture\": \"arm\", \"os\": \"linux\","
    " \"variant\": \"v7\"}},\n"
    "    " ATTESTATION(
        D_ATT_AMD64,
        D_AMD64) ",\n"
                 "    " ATTESTATION(
                     D_ATT_ARM64,
                     D_ARM64) "\n"
                              "  ],\n"
                              "  \"annotations\": {\"org.opencontainers.image.created\": "
                              "\"2024-05-01T00:00:00Z\"}\n"
                              "}\n";

/* A Docker manifest list with a Windows image that carries os.version and os.features. */
static const char docker_list[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" ES_MEDIA_DOCKER_LIST "\",\"manifests\":["
    "{\"mediaType\":\"" ES_MEDIA_DOCKER_MANIFEST "\",\"size\":1570,\"digest\":\"" D_AMD64 "\","
    "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
    "{\"mediaType\":\"" ES_MEDIA_DOCKER_MANIFEST "\",\"size\":1570,\"digest\":\"" D_ARM64 "\","
    "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
    "{\"mediaType\":\"" ES_MEDIA_DOCKER_MANIFEST "\",\"size\":2100,\"digest\":\"" D_WINDOWS "\","
    "\"platform\":{\"os.features\":[\"win32k\"],\"architecture\":\"amd64\",\"os\":\"windows\","
    "\"os.version\":\"10.0.17763.5458\"}}]}";

/* The parsed source, its bytes and their digest, as a caller has them. */
struct source {
        const char *bytes;
        size_t len;
        char digest[ES_DIGEST_SHA256_LENGTH];
        struct es_manifest index;
};

static void source_load(struct source *source, const char *bytes)
{
        struct es_error err = ES_ERROR_INIT;
        int r;

        source->bytes = bytes;
        source->len = strlen(bytes);
        es_digest_sha256(bytes, source->len, source->digest);
        r = es_manifest_parse(bytes, source->len, NULL, &source->index, &err);
        if (r < 0)
                print_error("fixture rejected: %s\n", es_error_message(&err));
        assert_int_equal(r, 0);
        assert_int_equal(source->index.kind, ES_MANIFEST_INDEX);
}

static void source_release(struct source *source)
{
        es_manifest_release(&source->index);
}

/* Parse the comma-separated spec list into specs, returning how many. */
static size_t specs_parse(const char *list, struct es_platform_spec *specs, size_t max)
{
        _cleanup_free_ char *copy = es_strdup(list);
        char *saveptr = NULL;
        size_t n = 0;

        for (char *text = strtok_r(copy, ",", &saveptr); text != NULL;
             text = strtok_r(NULL, ",", &saveptr)) {
                struct es_error err = ES_ERROR_INIT;

                assert_true(n < max);
                if (es_platform_spec_parse(text, &specs[n], &err) < 0)
                        fail_msg("spec \"%s\" rejected: %s", text, es_error_message(&err));
                n++;
        }
        return n;
}

static void specs_release(struct es_platform_spec *specs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                es_platform_spec_release(&specs[i]);
}

static void test_spec_parse_valid(void **state)
{
        static const struct {
                const char *text;
                const char *os, *architecture, *variant;
                const char *formatted;
        } cases[] = {
            {"linux/amd64", "linux", "amd64", NULL, "linux/amd64"},
            {"linux/arm64", "linux", "arm64", NULL, "linux/arm64"},
            {"linux/arm64/v8", "linux", "arm64", "v8", "linux/arm64/v8"},
            {"linux/arm/v7", "linux", "arm", "v7", "linux/arm/v7"},
            {"linux/arm/v6", "linux", "arm", "v6", "linux/arm/v6"},
            {"linux/amd64/v1", "linux", "amd64", "v1", "linux/amd64/v1"},
            {"linux/amd64/v3", "linux", "amd64", "v3", "linux/amd64/v3"},
            {"windows/amd64", "windows", "amd64", NULL, "windows/amd64"},
            {"linux/ppc64le", "linux", "ppc64le", NULL, "linux/ppc64le"},
            {"linux/s390x", "linux", "s390x", NULL, "linux/s390x"},
            {"linux/riscv64", "linux", "riscv64", NULL, "linux/riscv64"},
            {"freebsd/amd64", "freebsd", "amd64", NULL, "freebsd/amd64"},
            {"linux/mips64le", "linux", "mips64le", NULL, "linux/mips64le"},
            {"wasip1/wasm", "wasip1", "wasm", NULL, "wasip1/wasm"},
            /* Aliases. */
            {"linux/aarch64", "linux", "arm64", NULL, "linux/arm64"},
            {"linux/aarch64/v8", "linux", "arm64", "v8", "linux/arm64/v8"},
            {"linux/x86_64", "linux", "amd64", NULL, "linux/amd64"},
            {"linux/x86-64/v2", "linux", "amd64", "v2", "linux/amd64/v2"},
            {"linux/i386", "linux", "386", NULL, "linux/386"},
            /* Variants written as a bare version number. */
            {"linux/arm/7", "linux", "arm", "v7", "linux/arm/v7"},
            {"linux/arm64/8", "linux", "arm64", "v8", "linux/arm64/v8"},
            {"linux/arm64/v8.0", "linux", "arm64", "v8", "linux/arm64/v8"},
            {"linux/arm64/8.0", "linux", "arm64", "v8", "linux/arm64/v8"},
            {"linux/arm64/v8.2", "linux", "arm64", "v8.2", "linux/arm64/v8.2"},
            {"linux/arm64/9.0", "linux", "arm64", "v9", "linux/arm64/v9"},
            {"linux/ppc64le/power9", "linux", "ppc64le", "power9", "linux/ppc64le/power9"},
        };

        (void)state;
        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_platform_spec spec;
                struct es_error err = ES_ERROR_INIT;
                _cleanup_free_ char *formatted = NULL;

                if (es_platform_spec_parse(cases[i].text, &spec, &err) < 0)
                        fail_msg("\"%s\" rejected: %s", cases[i].text, es_error_message(&err));
                print_message("spec \"%s\"\n", cases[i].text);
                assert_string_equal(spec.os, cases[i].os);
                assert_string_equal(spec.architecture, cases[i].architecture);
                if (cases[i].variant == NULL)
                        assert_null(spec.variant);
                else
                        assert_string_equal(spec.variant ? spec.variant : "(null)",
                                            cases[i].variant);
                formatted = es_platform_spec_format(&spec);
                assert_string_equal(formatted, cases[i].formatted);
                es_platform_spec_release(&spec);
        }
}

static void test_spec_parse_invalid(void **state)
{
        static const struct {
                const char *text;
                const char *message;
        } cases[] = {
            {"linux", "invalid platform \"linux\": expected OS/ARCH or OS/ARCH/VARIANT, such as "
                      "linux/arm64/v8"},
            {"",
             "invalid platform \"\": expected OS/ARCH or OS/ARCH/VARIANT, such as linux/arm64/v8"},
            {"linux/", "invalid platform \"linux/\": expected OS/ARCH or OS/ARCH/VARIANT, such as "
                       "linux/arm64/v8"},
            {"/amd64", "invalid platform \"/amd64\": expected OS/ARCH or OS/ARCH/VARIANT, such as "
                       "linux/arm64/v8"},
            {"linux//amd64",
             "invalid platform \"linux//amd64\": expected OS/ARCH or OS/ARCH/VARIANT, such as "
             "linux/arm64/v8"},
            {"linux/amd64/",
             "invalid platform \"linux/amd64/\": expected OS/ARCH or OS/ARCH/VARIANT, such as "
             "linux/arm64/v8"},
            {"linux/arm/v7/extra",
             "invalid platform \"linux/arm/v7/extra\": expected OS/ARCH or OS/ARCH/VARIANT, such "
             "as linux/arm64/v8"},
            {"Linux/amd64",
             "invalid platform \"Linux/amd64\": \"Linux\" may contain only lowercase letters, "
             "digits, '_', '-' and '.'"},
            {"linux/amd 64",
             "invalid platform \"linux/amd 64\": \"amd 64\" may contain only lowercase letters, "
             "digits, '_', '-' and '.'"},
            {" linux/amd64",
             "invalid platform \" linux/amd64\": \" linux\" may contain only lowercase letters, "
             "digits, '_', '-' and '.'"},
            {"linux/arm64/V8",
             "invalid platform \"linux/arm64/V8\": \"V8\" may contain only lowercase letters, "
             "digits, '_', '-' and '.'"},
            {"linux/amd64,linux/arm64",
             "invalid platform \"linux/amd64,linux/arm64\": \"amd64,linux\" may contain only "
             "lowercase letters, digits, '_', '-' and '.'"},
            {"unknown/unknown",
             "invalid platform \"unknown/unknown\": \"unknown\" marks attestation manifests, "
             "which are copied with the image they describe; name the image's platform instead"},
            {"linux/unknown",
             "invalid platform \"linux/unknown\": \"unknown\" marks attestation manifests, which "
             "are copied with the image they describe; name the image's platform instead"},
        };

        (void)state;
        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_platform_spec spec = {(char *)"os", (char *)"arch", NULL};
                struct es_error err = ES_ERROR_INIT;
                int r = es_platform_spec_parse(cases[i].text, &spec, &err);

                print_message("spec \"%s\"\n", cases[i].text);
                assert_int_equal(r, -ES_ERR_INVALID);
                assert_int_equal(err.code, ES_ERR_INVALID);
                assert_string_equal(es_error_message(&err), cases[i].message);
                /* The output is untouched on failure. */
                assert_string_equal(spec.os, "os");
                assert_string_equal(spec.architecture, "arch");
                assert_null(spec.variant);
                es_error_release(&err);
        }
}

static void test_spec_parse_long_text_cut(void **state)
{
        struct es_platform_spec spec;
        struct es_error err = ES_ERROR_INIT;
        char text[151];

        (void)state;
        memset(text, 'a', sizeof(text) - 1);
        text[sizeof(text) - 1] = '\0';
        assert_int_equal(es_platform_spec_parse(text, &spec, &err), -ES_ERR_INVALID);
        assert_non_null(strstr(es_error_message(&err), "...\" (150 characters): expected OS/ARCH"));
        es_error_release(&err);
}

static void test_spec_matches_table(void **state)
{
        static const struct {
                const char *spec;
                const char *os, *architecture, *variant; /* the descriptor's platform */
                bool expected;
        } cases[] = {
            /* arm64: no variant and v8 are the same image. */
            {"linux/arm64", "linux", "arm64", "v8", true},
            {"linux/arm64", "linux", "arm64", NULL, true},
            {"linux/arm64", "linux", "arm64", "v9", true},
            {"linux/arm64/v8", "linux", "arm64", NULL, true},
            {"linux/arm64/v8", "linux", "arm64", "v8", true},
            {"linux/arm64/v8", "linux", "arm64", "8", true},
            {"linux/arm64/v8", "linux", "arm64", "v9", false},
            {"linux/arm64/v9", "linux", "arm64", "v9.0", true},
            {"linux/arm64/v9", "linux", "arm64", NULL, false},
            {"linux/arm64/v8", "linux", "aarch64", "v8", true},
            {"linux/aarch64", "linux", "arm64", "v8", true},
            /* arm: no variant means v7. */
            {"linux/arm", "linux", "arm", "v7", true},
            {"linux/arm", "linux", "arm", "v6", true},
            {"linux/arm", "linux", "arm", NULL, true},
            {"linux/arm/v7", "linux", "arm", NULL, true},
            {"linux/arm/v7", "linux", "arm", "v7", true},
            {"linux/arm/v7", "linux", "arm", "v6", false},
            {"linux/arm/v6", "linux", "arm", NULL, false},
            {"linux/arm/v6", "linux", "arm", "v6", true},
            {"linux/arm/v6", "linux", "arm", "v7", false},
            {"linux/arm", "linux", "arm64", "v8", false},
            {"linux/arm64", "linux", "arm", "v7", false},
            /* amd64: v1 and no variant are the same image. */
            {"linux/amd64", "linux", "amd64", NULL, true},
            {"linux/amd64", "linux", "amd64", "v1", true},
            {"linux/amd64", "linux", "amd64", "v3", true},
            {"linux/amd64/v1", "linux", "amd64", NULL, true},
            {"linux/amd64/v1", "linux", "amd64", "v1", true},
            {"linux/amd64/v1", "linux", "amd64", "v3", false},
            {"linux/amd64/v3", "linux", "amd64", NULL, false},
            {"linux/amd64/v3", "linux", "amd64", "v3", true},
            {"linux/amd64", "linux", "x86_64", NULL, true},
            {"linux/amd64", "Linux", "AMD64", NULL, true},
            {"linux/amd64", "linux", "arm64", NULL, false},
            {"linux/386", "linux", "386", NULL, true},
            {"linux/386", "linux", "amd64", NULL, false},
            /* Architectures without a default variant. */
            {"linux/ppc64le", "linux", "ppc64le", NULL, true},
            {"linux/ppc64le/power9", "linux", "ppc64le", NULL, false},
            {"linux/ppc64le/power9", "linux", "ppc64le", "power9", true},
            /* The OS must match, and os.version is not compared. */
            {"windows/amd64", "windows", "amd64", NULL, true},
            {"linux/amd64", "windows", "amd64", NULL, false},
            {"windows/amd64", "linux", "amd64", NULL, false},
            /* Attestation manifests and incomplete platforms never match. */
            {"linux/amd64", "unknown", "unknown", NULL, false},
            {"linux/amd64", "linux", "unknown", NULL, false},
            {"linux/amd64", NULL, "amd64", NULL, false},
            {"linux/amd64", "linux", NULL, NULL, false},
        };

        (void)state;
        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_platform_spec spec;
                struct es_error err = ES_ERROR_INIT;
                struct es_platform platform = {
                    (char *)cases[i].os,
                    (char *)cases[i].architecture,
                    (char *)cases[i].variant,
                };
                bool matched;

                assert_int_equal(es_platform_spec_parse(cases[i].spec, &spec, &err), 0);
                matched = es_platform_spec_matches(&spec, &platform);
                if (matched != cases[i].expected)
                        fail_msg("spec %s against %s/%s/%s: matched %d, expected %d", cases[i].spec,
                                 cases[i].os ? cases[i].os : "(null)",
                                 cases[i].architecture ? cases[i].architecture : "(null)",
                                 cases[i].variant ? cases[i].variant : "(none)", matched,
                                 cases[i].expected);
                es_platform_spec_release(&spec);
        }
}

static void test_specs_match_any(void **state)
{
        struct es_platform_spec specs[2];
        struct es_platform arm = {(char *)"linux", (char *)"arm", (char *)"v6"};
        struct es_platform arm64 = {(char *)"linux", (char *)"arm64", NULL};
        struct es_platform s390x = {(char *)"linux", (char *)"s390x", NULL};
        size_t n = specs_parse("linux/amd64,linux/arm64", specs, 2);

        (void)state;
        assert_true(es_platform_specs_match_any(specs, n, &arm64));
        assert_false(es_platform_specs_match_any(specs, n, &arm));
        assert_false(es_platform_specs_match_any(specs, n, &s390x));
        assert_false(es_platform_specs_match_any(specs, 0, &arm64));
        specs_release(specs, n);
}

static void test_spec_unknown_never_matches(void **state)
{
        /* The parser rejects this spec, so build it by hand as a careless caller might. */
        struct es_platform_spec unknown = {(char *)"unknown", (char *)"unknown", NULL};
        struct es_platform attestation = {(char *)"unknown", (char *)"unknown", NULL};

        (void)state;
        assert_false(es_platform_spec_matches(&unknown, &attestation));
}

static void test_specs_format_sorted_unique(void **state)
{
        static const struct {
                const char *list;
                const char *expected;
        } cases[] = {
            {"linux/amd64", "linux/amd64"},
            {"linux/arm64,linux/amd64", "linux/amd64,linux/arm64"},
            {"linux/amd64,linux/arm64", "linux/amd64,linux/arm64"},
            {"linux/x86_64,linux/amd64,linux/aarch64", "linux/amd64,linux/arm64"},
            {"linux/arm64/v8,linux/arm64", "linux/arm64,linux/arm64/v8"},
            {"linux/arm/7,windows/amd64,linux/arm/v7", "linux/arm/v7,windows/amd64"},
        };

        (void)state;
        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_platform_spec specs[4];
                size_t n = specs_parse(cases[i].list, specs, 4);
                _cleanup_free_ char *formatted = es_platform_specs_format(specs, n);

                print_message("specs \"%s\"\n", cases[i].list);
                assert_string_equal(formatted, cases[i].expected);
                specs_release(specs, n);
        }
}

/* Run es_platform_select() for a comma-separated spec list, failing the test on error. */
static void select_ok(const struct source *source, const char *list,
                      struct es_platform_selection *selection)
{
        struct es_platform_spec specs[4];
        struct es_error err = ES_ERROR_INIT;
        size_t n = specs_parse(list, specs, 4);
        int r;

        r = es_platform_select(source->bytes, source->len, &source->index, source->digest, specs, n,
                               selection, &err);
        if (r < 0)
                fail_msg("select %s: %s", list, es_error_message(&err));
        specs_release(specs, n);
}

/* Run es_platform_select() expecting failure; returns the code and fills err. */
static int select_fail(const struct source *source, const char *digest, const char *list,
                       struct es_error *err)
{
        struct es_platform_spec specs[4];
        struct es_platform_selection selection = {0};
        size_t n = specs_parse(list, specs, 4);
        int r;

        r = es_platform_select(source->bytes, source->len, &source->index, digest, specs, n,
                               &selection, err);
        assert_true(r < 0);
        assert_null(selection.index);
        assert_null(selection.kept);
        specs_release(specs, n);
        return r;
}

static void test_select_buildkit_index(void **state)
{
        static const struct {
                const char *specs;
                size_t n_kept, n_attestations;
                const char *digests[5]; /* kept descriptors in order, NULL-terminated */
                const char *platforms;  /* the recorded annotation */
        } cases[] = {
            {"linux/amd64,linux/arm64",
             2,
             2,
             {D_AMD64, D_ARM64, D_ATT_AMD64, D_ATT_ARM64},
             "linux/amd64,linux/arm64"},
            {"linux/arm64", 1, 1, {D_ARM64, D_ATT_ARM64}, "linux/arm64"},
            {"linux/aarch64/v8", 1, 1, {D_ARM64, D_ATT_ARM64}, "linux/arm64/v8"},
            {"linux/arm/v7", 1, 0, {D_ARMV7}, "linux/arm/v7"},
            {"linux/arm,linux/amd64",
             2,
             1,
             {D_AMD64, D_ARMV7, D_ATT_AMD64},
             "linux/amd64,linux/arm"},
            {"linux/s390x,linux/arm64", 1, 1, {D_ARM64, D_ATT_ARM64}, "linux/arm64,linux/s390x"},
        };
        struct source source;

        (void)state;
        source_load(&source, buildkit_index);
        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_platform_selection selection = {0}, again = {0};
                struct es_manifest parsed;
                struct es_error err = ES_ERROR_INIT;
                _cleanup_free_ char *digest = NULL, *platforms = NULL;
                size_t n = 0;

                print_message("select \"%s\"\n", cases[i].specs);
                select_ok(&source, cases[i].specs, &selection);
                while (n < ES_ARRAY_SIZE(cases[i].digests) && cases[i].digests[n] != NULL)
                        n++;

                assert_int_equal(selection.n_kept, cases[i].n_kept);
                assert_int_equal(selection.n_attestations, cases[i].n_attestations);
                assert_int_equal(selection.n_kept_descriptors, n);
                assert_string_equal(selection.media_type, ES_MEDIA_OCI_INDEX);
                assert_int_equal(strlen(selection.index), selection.index_len);
                for (size_t j = 0; j < n; j++)
                        assert_string_equal(selection.kept[j]->digest, cases[i].digests[j]);

                /* The new index reads back as an OCI index listing the same children. */
                if (es_manifest_parse(selection.index, selection.index_len, NULL, &parsed, &err) <
                    0)
                        fail_msg("output rejected: %s\n%s", es_error_message(&err),
                                 selection.index);
                assert_int_equal(parsed.kind, ES_MANIFEST_INDEX);
                assert_string_equal(parsed.media_type, ES_MEDIA_OCI_INDEX);
                assert_int_equal(parsed.n_manifests, n);
                for (size_t j = 0; j < n; j++) {
                        const struct es_descriptor *kept = selection.kept[j];

                        assert_string_equal(parsed.manifests[j].digest, cases[i].digests[j]);
                        assert_string_equal(parsed.manifests[j].media_type, kept->media_type);
                        assert_int_equal(parsed.manifests[j].size, kept->size);
                        assert_int_equal(parsed.manifests[j].is_attestation, kept->is_attestation);
                        if (kept->attestation_of != NULL)
                                assert_string_equal(parsed.manifests[j].attestation_of,
                                                    kept->attestation_of);
                        assert_string_equal(parsed.manifests[j].platform.os, kept->platform.os);
                        assert_string_equal(parsed.manifests[j].platform.architecture,
                                            kept->platform.architecture);
                }
                es_manifest_release(&parsed);

                /* The source digest and the platforms are recorded. */
                assert_int_equal(es_platform_recorded_source(selection.index, selection.index_len,
                                                             &digest, &platforms, &err),
                                 0);
                assert_string_equal(digest, source.digest);
                assert_string_equal(platforms, cases[i].platforms);

                /* A second run gives the same bytes. */
                select_ok(&source, cases[i].specs, &again);
                assert_int_equal(again.index_len, selection.index_len);
                assert_memory_equal(again.index, selection.index, selection.index_len);

                es_platform_selection_release(&again);
                es_platform_selection_release(&selection);
        }
        source_release(&source);
}

static void test_select_exact_bytes(void **state)
{
        struct es_platform_selection selection = {0};
        struct source source;
        _cleanup_free_ char *expected = NULL;

        (void)state;
        source_load(&source, buildkit_index);
        select_ok(&source, "linux/amd64", &selection);

        /* Fixed key order, sorted annotations, compact, and the index annotations carried over. */
        expected = es_asprintf(
            OCI_INDEX_HEAD
            "\"manifests\":["
            "{\"mediaType\":\"" ES_MEDIA_OCI_MANIFEST "\",\"digest\":\"" D_AMD64 "\",\"size\":1613,"
            "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"},"
            "\"annotations\":{\"com.example.build\":\"42\","
            "\"org.opencontainers.image.ref.name\":\"1.27\"}},"
            "{\"mediaType\":\"" ES_MEDIA_OCI_MANIFEST "\",\"digest\":\"" D_ATT_AMD64 "\","
            "\"size\":566,\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"},"
            "\"annotations\":{\"vnd.docker.reference.digest\":\"" D_AMD64 "\","
            "\"vnd.docker.reference.type\":\"attestation-manifest\"}}],"
            "\"annotations\":{\"" ES_ANNOTATION_PLATFORMS "\":\"linux/amd64\","
            "\"" ES_ANNOTATION_SOURCE_DIGEST "\":\"%s\","
            "\"org.opencontainers.image.created\":\"2024-05-01T00:00:00Z\"}}",
            source.digest);
        assert_string_equal(selection.index, expected);

        es_platform_selection_release(&selection);
        source_release(&source);
}

static void test_select_docker_list(void **state)
{
        struct es_platform_selection selection = {0};
        struct es_manifest parsed;
        struct es_error err = ES_ERROR_INIT;
        struct source source;
        _cleanup_free_ char *expected = NULL;

        (void)state;
        source_load(&source, docker_list);
        select_ok(&source, "windows/amd64", &selection);

        assert_int_equal(selection.n_kept, 1);
        assert_int_equal(selection.n_attestations, 0);
        assert_string_equal(selection.kept[0]->digest, D_WINDOWS);

        /* os.version and os.features survive, and the children keep their Docker media type. */
        expected = es_asprintf(
            OCI_INDEX_HEAD
            "\"manifests\":["
            "{\"mediaType\":\"" ES_MEDIA_DOCKER_MANIFEST "\",\"digest\":\"" D_WINDOWS "\","
            "\"size\":2100,\"platform\":{\"architecture\":\"amd64\",\"os\":\"windows\","
            "\"os.version\":\"10.0.17763.5458\",\"os.features\":[\"win32k\"]}}],"
            "\"annotations\":{\"" ES_ANNOTATION_PLATFORMS "\":\"windows/amd64\","
            "\"" ES_ANNOTATION_SOURCE_DIGEST "\":\"%s\"}}",
            source.digest);
        assert_string_equal(selection.index, expected);

        assert_int_equal(
            es_manifest_parse(selection.index, selection.index_len, NULL, &parsed, &err), 0);
        assert_string_equal(parsed.media_type, ES_MEDIA_OCI_INDEX);
        assert_int_equal(parsed.n_manifests, 1);
        assert_string_equal(parsed.manifests[0].media_type, ES_MEDIA_DOCKER_MANIFEST);
        es_manifest_release(&parsed);
        es_platform_selection_release(&selection);

        /* linux/arm64 matches the list's arm64/v8 entry. */
        select_ok(&source, "linux/arm64", &selection);
        assert_int_equal(selection.n_kept, 1);
        assert_string_equal(selection.kept[0]->digest, D_ARM64);
        assert_non_null(strstr(selection.index, "\"variant\":\"v8\""));
        es_platform_selection_release(&selection);

        source_release(&source);
}

static void test_select_no_match(void **state)
{
        static const struct {
                const char *bytes;
                const char *specs;
                const char *message;
        } cases[] = {
            {buildkit_index, "linux/s390x",
             "no manifest for linux/s390x; the index has linux/amd64, linux/arm64/v8, "
             "linux/arm/v7"},
            {buildkit_index, "linux/s390x,linux/arm/v6",
             "no manifest for linux/s390x or linux/arm/v6; the index has linux/amd64, "
             "linux/arm64/v8, linux/arm/v7"},
            {buildkit_index, "windows/amd64",
             "no manifest for windows/amd64; the index has linux/amd64, linux/arm64/v8, "
             "linux/arm/v7"},
            {docker_list, "linux/ppc64le",
             "no manifest for linux/ppc64le; the index has linux/amd64, linux/arm64/v8, "
             "windows/amd64"},
            /* The same platform listed twice is named once. */
            {INDEX_OF(AMD64_CHILD "," OCI_CHILD(D_ARM64, "10", LINUX_AMD64)), "linux/arm64",
             "no manifest for linux/arm64; the index has linux/amd64"},
            /* Children without a platform, and attestations, are never selected. */
            {INDEX_OF(OCI_CHILD(D_AMD64, "10", "") "," ATTESTATION(D_ATT_AMD64, D_AMD64)),
             "linux/amd64", "no manifest for linux/amd64; the index lists no platforms"},
        };

        (void)state;
        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_error err = ES_ERROR_INIT;
                struct source source;

                print_message("case %zu: select \"%s\"\n", i, cases[i].specs);
                source_load(&source, cases[i].bytes);
                assert_int_equal(select_fail(&source, source.digest, cases[i].specs, &err),
                                 -ES_ERR_NOT_FOUND);
                assert_string_equal(es_error_message(&err), cases[i].message);
                es_error_release(&err);
                source_release(&source);
        }
}

static void test_select_attestation_before_image(void **state)
{
        static const char index[] = INDEX_OF(ATTESTATION(D_ATT_ARM64, D_ARM64) "," ATTESTATION(
            D_ATT_AMD64, D_AMD64) "," AMD64_CHILD);
        struct es_platform_selection selection = {0};
        struct source source;

        (void)state;
        source_load(&source, index);
        select_ok(&source, "linux/amd64", &selection);

        /* The kept attestation stays first, as in the source, and the one for arm64 is dropped. */
        assert_int_equal(selection.n_kept, 1);
        assert_int_equal(selection.n_attestations, 1);
        assert_int_equal(selection.n_kept_descriptors, 2);
        assert_string_equal(selection.kept[0]->digest, D_ATT_AMD64);
        assert_string_equal(selection.kept[1]->digest, D_AMD64);

        es_platform_selection_release(&selection);
        source_release(&source);
}

static void test_select_keeps_descriptor_fields(void **state)
{
        static const char index[] = INDEX_OF(
            OCI_CHILD(D_PPC64LE, "10",
                      ",\"urls\":[\"https://example.com/m\"],\"data\":\"e30=\","
                      "\"artifactType\":\"application/vnd.example.thing\","
                      "\"platform\":{\"features\":[\"sse4\"],\"variant\":\"power9\","
                      "\"os\":\"linux\",\"architecture\":\"ppc64le\",\"extra\":\"dropped\"}"));
        struct es_platform_selection selection = {0};
        struct source source;
        _cleanup_free_ char *expected = NULL;

        (void)state;
        source_load(&source, index);
        select_ok(&source, "linux/ppc64le", &selection);

        expected = es_asprintf(
            OCI_INDEX_HEAD
            "\"manifests\":["
            "{\"mediaType\":\"" ES_MEDIA_OCI_MANIFEST "\",\"digest\":\"" D_PPC64LE "\",\"size\":10,"
            "\"platform\":{\"architecture\":\"ppc64le\",\"os\":\"linux\",\"variant\":\"power9\","
            "\"features\":[\"sse4\"]},"
            "\"artifactType\":\"application/vnd.example.thing\","
            "\"urls\":[\"https://example.com/m\"]}],"
            "\"annotations\":{\"" ES_ANNOTATION_PLATFORMS "\":\"linux/ppc64le\","
            "\"" ES_ANNOTATION_SOURCE_DIGEST "\":\"%s\"}}",
            source.digest);
        assert_string_equal(selection.index, expected);

        es_platform_selection_release(&selection);
        source_release(&source);
}

static void test_select_refilter_replaces_record(void **state)
{
        struct es_platform_selection first = {0}, second = {0};
        struct es_error err = ES_ERROR_INIT;
        struct source source, filtered;
        _cleanup_free_ char *first_bytes = NULL, *digest = NULL, *platforms = NULL;

        (void)state;
        source_load(&source, buildkit_index);
        select_ok(&source, "linux/amd64,linux/arm64", &first);

        /* Filtering an index that ecr-sync wrote records the new source, not the old one. */
        first_bytes = es_strdup(first.index);
        source_load(&filtered, first_bytes);
        select_ok(&filtered, "linux/arm64", &second);
        assert_int_equal(
            es_platform_recorded_source(second.index, second.index_len, &digest, &platforms, &err),
            0);
        assert_string_equal(digest, filtered.digest);
        assert_string_not_equal(digest, source.digest);
        assert_string_equal(platforms, "linux/arm64");
        assert_int_equal(second.n_kept, 1);
        assert_int_equal(second.n_attestations, 1);

        es_platform_selection_release(&second);
        es_platform_selection_release(&first);
        source_release(&filtered);
        source_release(&source);
}

static void test_select_source_digest_checks(void **state)
{
        static const char sha512[] =
            "sha512:"
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        struct es_platform_spec spec;
        struct es_platform_selection selection = {0};
        struct es_error err = ES_ERROR_INIT;
        struct source source;
        _cleanup_free_ char *expected = NULL, *digest = NULL;

        (void)state;
        source_load(&source, buildkit_index);

        /* Another document's digest. */
        expected =
            es_asprintf("source index: the bytes have digest %s, expected " D_AMD64, source.digest);
        assert_int_equal(select_fail(&source, D_AMD64, "linux/amd64", &err), -ES_ERR_DIGEST);
        assert_string_equal(es_error_message(&err), expected);
        es_error_release(&err);

        /* Not a digest at all. */
        assert_int_equal(select_fail(&source, "sha256:xyz", "linux/amd64", &err), -ES_ERR_INVALID);
        assert_non_null(strstr(es_error_message(&err), "source index digest: "));
        assert_non_null(strstr(es_error_message(&err), "sha256:xyz"));
        es_error_release(&err);

        /* A sha512 digest cannot be checked, so it is recorded as given. */
        assert_int_equal(es_platform_spec_parse("linux/amd64", &spec, &err), 0);
        assert_int_equal(es_platform_select(source.bytes, source.len, &source.index, sha512, &spec,
                                            1, &selection, &err),
                         0);
        assert_int_equal(
            es_platform_recorded_source(selection.index, selection.index_len, &digest, NULL, &err),
            0);
        assert_string_equal(digest, sha512);

        es_platform_selection_release(&selection);
        es_platform_spec_release(&spec);
        source_release(&source);
}

static void test_select_bytes_not_the_index(void **state)
{
        static const char other[] = INDEX_OF(OCI_CHILD(D_PPC64LE, "10", LINUX_AMD64));
        struct es_platform_spec spec;
        struct es_platform_selection selection = {0};
        struct es_error err = ES_ERROR_INIT;
        struct source source;
        char other_digest[ES_DIGEST_SHA256_LENGTH];

        (void)state;
        source_load(&source, buildkit_index);
        es_digest_sha256(other, strlen(other), other_digest);
        assert_int_equal(es_platform_spec_parse("linux/amd64", &spec, &err), 0);

        /* Bytes of another index with a different number of children. */
        assert_int_equal(es_platform_select(other, strlen(other), &source.index, other_digest,
                                            &spec, 1, &selection, &err),
                         -ES_ERR_INVALID);
        assert_string_equal(es_error_message(&err),
                            "source index: the bytes do not hold the parsed index's 5 manifests");
        assert_null(selection.index);
        es_error_release(&err);
        source_release(&source);

        /* Bytes of another index with as many children, listing other digests. */
        {
                static const char one[] = INDEX_OF(AMD64_CHILD);

                source_load(&source, one);
                assert_int_equal(es_platform_select(other, strlen(other), &source.index,
                                                    other_digest, &spec, 1, &selection, &err),
                                 -ES_ERR_INVALID);
                assert_string_equal(es_error_message(&err),
                                    "source index: manifests[0].digest: the bytes do not hold the "
                                    "parsed descriptor " D_AMD64);
                es_error_release(&err);
                source_release(&source);
        }

        es_platform_spec_release(&spec);
}

static void test_select_rejects_wrong_member_types(void **state)
{
        static const struct {
                const char *bytes;
                const char *message;
        } cases[] = {
            {INDEX_OF(OCI_CHILD(D_AMD64, "10", ",\"annotations\":{\"build\":42}" LINUX_AMD64)),
             "source index: manifests[0].annotations[\"build\"]: expected a string"},
            {INDEX_OF(OCI_CHILD(D_AMD64, "10",
                                ",\"platform\":{\"os\":\"windows\",\"architecture\":\"amd64\","
                                "\"os.version\":10}")),
             "source index: manifests[0].platform.os.version: expected a string"},
            {INDEX_OF(OCI_CHILD(D_AMD64, "10",
                                ",\"platform\":{\"os\":\"windows\",\"architecture\":\"amd64\","
                                "\"os.features\":\"win32k\"}")),
             "source index: manifests[0].platform.os.features: expected an array of strings"},
            {INDEX_ANNOTATED(AMD64_CHILD, "[\"x\"]"),
             "source index: annotations: expected an object"},
            {INDEX_ANNOTATED(AMD64_CHILD, "{\"n\":null}"),
             "source index: annotations[\"n\"]: expected a string"},
        };

        (void)state;
        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_error err = ES_ERROR_INIT;
                struct source source;

                print_message("case %zu\n", i);
                source_load(&source, cases[i].bytes);
                assert_int_equal(
                    select_fail(&source, source.digest, "linux/amd64,windows/amd64", &err),
                    -ES_ERR_INVALID);
                assert_string_equal(es_error_message(&err), cases[i].message);
                es_error_release(&err);
                source_release(&source);
        }
}

static void test_select_output_size_limit(void **state)
{
        static const char head[] =
            OCI_INDEX_HEAD "\"manifests\":[" AMD64_CHILD "],\"annotations\":{\"big\":\"";
        static const char tail[] = "\"}}";
        size_t filler = ES_MAX_MANIFEST_SIZE - strlen(head) - strlen(tail);
        _cleanup_free_ char *bytes = es_malloc(ES_MAX_MANIFEST_SIZE + 1);
        struct es_error err = ES_ERROR_INIT;
        struct source source;

        (void)state;
        memcpy(bytes, head, strlen(head));
        memset(bytes + strlen(head), 'x', filler);
        strcpy(bytes + strlen(head) + filler, tail);
        assert_int_equal(strlen(bytes), ES_MAX_MANIFEST_SIZE);

        /* The source is at the limit, and the recorded annotations take the new index over it. */
        source_load(&source, bytes);
        assert_int_equal(select_fail(&source, source.digest, "linux/amd64", &err), -ES_ERR_INVALID);
        assert_non_null(strstr(es_error_message(&err), "filtered index: "));
        assert_non_null(strstr(es_error_message(&err), "the maximum is 4194304 bytes (4 MiB)"));
        es_error_release(&err);
        source_release(&source);
}

static void test_recorded_source_cases(void **state)
{
        static const struct {
                const char *bytes;
                int expected;
                const char *digest, *platforms; /* NULL when absent */
                const char *message;            /* for failures */
        } cases[] = {
            {"{\"annotations\":{\"" ES_ANNOTATION_SOURCE_DIGEST "\":\"" D_AMD64 "\","
             "\"" ES_ANNOTATION_PLATFORMS "\":\"linux/amd64\"}}",
             0, D_AMD64, "linux/amd64", NULL},
            {"{\"annotations\":{\"" ES_ANNOTATION_SOURCE_DIGEST "\":\"" D_AMD64 "\"}}", 0, D_AMD64,
             NULL, NULL},
            /* Indexes and manifests that ecr-sync did not write. */
            {"{\"schemaVersion\":2,\"manifests\":[]}", 0, NULL, NULL, NULL},
            {"{\"annotations\":{\"org.opencontainers.image.created\":\"2024\"}}", 0, NULL, NULL,
             NULL},
            {"{\"annotations\":{}}", 0, NULL, NULL, NULL},
            /* Invalid input. */
            {"{\"annotations\":", -ES_ERR_INVALID, NULL, NULL,
             "recorded index: invalid JSON at line 1, column 15: unexpected token near end of "
             "file"},
            {"[]", -ES_ERR_INVALID, NULL, NULL,
             "recorded index: expected a JSON object at the top level"},
            {"", -ES_ERR_INVALID, NULL, NULL, NULL},
            {"{\"annotations\":[]}", -ES_ERR_INVALID, NULL, NULL,
             "recorded index: annotations: expected an object"},
            {"{\"annotations\":{\"" ES_ANNOTATION_SOURCE_DIGEST "\":7}}", -ES_ERR_INVALID, NULL,
             NULL,
             "recorded index: annotations[\"" ES_ANNOTATION_SOURCE_DIGEST "\"]: expected a "
             "string"},
            {"{\"annotations\":{\"" ES_ANNOTATION_PLATFORMS "\":true}}", -ES_ERR_INVALID, NULL,
             NULL,
             "recorded index: annotations[\"" ES_ANNOTATION_PLATFORMS "\"]: expected a string"},
            {"{\"annotations\":{\"" ES_ANNOTATION_SOURCE_DIGEST "\":\"sha256:abc\"}}",
             -ES_ERR_INVALID, NULL, NULL, NULL},
        };

        (void)state;
        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_error err = ES_ERROR_INIT;
                char *digest = (char *)"untouched", *platforms = (char *)"untouched";
                int r;

                print_message("case %zu: %s\n", i, cases[i].bytes);
                r = es_platform_recorded_source(cases[i].bytes, strlen(cases[i].bytes), &digest,
                                                &platforms, &err);
                assert_int_equal(r, cases[i].expected);
                if (r < 0) {
                        if (cases[i].message != NULL)
                                assert_string_equal(es_error_message(&err), cases[i].message);
                        assert_string_equal(digest, "untouched");
                        assert_string_equal(platforms, "untouched");
                        es_error_release(&err);
                        continue;
                }
                if (cases[i].digest == NULL)
                        assert_null(digest);
                else
                        assert_string_equal(digest ? digest : "(null)", cases[i].digest);
                if (cases[i].platforms == NULL)
                        assert_null(platforms);
                else
                        assert_string_equal(platforms ? platforms : "(null)", cases[i].platforms);
                free(digest);
                free(platforms);
        }
}

static void test_recorded_source_invalid_digest_message(void **state)
{
        static const char bytes[] =
            "{\"annotations\":{\"" ES_ANNOTATION_SOURCE_DIGEST "\":\"sha256:abc\"}}";
        struct es_error err = ES_ERROR_INIT;
        char *digest = NULL;

        (void)state;
        assert_int_equal(es_platform_recorded_source(bytes, strlen(bytes), &digest, NULL, &err),
                         -ES_ERR_INVALID);
        assert_non_null(strstr(es_error_message(&err),
                               "recorded index: annotations[\"" ES_ANNOTATION_SOURCE_DIGEST
                               "\"]: "));
        assert_non_null(strstr(es_error_message(&err), "sha256:abc"));
        assert_null(digest);
        es_error_release(&err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_spec_parse_valid),
            cmocka_unit_test(test_spec_parse_invalid),
            cmocka_unit_test(test_spec_parse_long_text_cut),
            cmocka_unit_test(test_spec_matches_table),
            cmocka_unit_test(test_specs_match_any),
            cmocka_unit_test(test_spec_unknown_never_matches),
            cmocka_unit_test(test_specs_format_sorted_unique),
            cmocka_unit_test(test_select_buildkit_index),
            cmocka_unit_test(test_select_exact_bytes),
            cmocka_unit_test(test_select_docker_list),
            cmocka_unit_test(test_select_no_match),
            cmocka_unit_test(test_select_attestation_before_image),
            cmocka_unit_test(test_select_keeps_descriptor_fields),
            cmocka_unit_test(test_select_refilter_replaces_record),
            cmocka_unit_test(test_select_source_digest_checks),
            cmocka_unit_test(test_select_bytes_not_the_index),
            cmocka_unit_test(test_select_rejects_wrong_member_types),
            cmocka_unit_test(test_select_output_size_limit),
            cmocka_unit_test(test_recorded_source_cases),
            cmocka_unit_test(test_recorded_source_invalid_digest_message),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
