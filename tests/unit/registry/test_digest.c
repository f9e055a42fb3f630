/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for registry/digest.c: syntax checks and sha256 computation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "registry/digest.h"

#define HEX64  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HEX128 HEX64 HEX64

struct invalid_case {
        const char *digest;
        const char *message;
};

static void test_validate_accepts(void **state)
{
        static const char *const valid[] = {
            "sha256:" HEX64,
            "sha512:" HEX128,
            "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(valid); i++) {
                struct es_error err = ES_ERROR_INIT;
                int r = es_digest_validate(valid[i], &err);

                if (r != 0)
                        print_error("digest \"%s\": %s\n", valid[i], es_error_message(&err));
                assert_int_equal(r, 0);
                es_error_release(&err);
        }
}

static void test_validate_rejects(void **state)
{
        static const struct invalid_case cases[] = {
            {"", "invalid digest \"\": expected ALGORITHM:HEX, e.g. sha256:..."},
            {"sha256", "invalid digest \"sha256\": missing ':' between algorithm and hex, "
                       "expected e.g. sha256:<64 hex digits>"},
            {"sha256:", "invalid digest \"sha256:\": sha256 needs 64 hex digits, found 0 "
                        "characters"},
            {"sha256:xyz", "invalid digest \"sha256:xyz\": sha256 needs 64 hex digits, "
                           "found 3 characters"},
            {"sha256:" HEX64 "0", "invalid digest \"sha256:" HEX64
                                  "0\": sha256 needs 64 hex digits, found 65 characters"},
            {"sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
             "invalid digest "
             "\"sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\": hex "
             "digits must be lowercase"},
            {"sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
             "invalid digest "
             "\"sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\": "
             "character 8 is not a hex digit"},
            {"md5:d41d8cd98f00b204e9800998ecf8427e",
             "invalid digest \"md5:d41d8cd98f00b204e9800998ecf8427e\": unknown algorithm "
             "\"md5\", expected sha256 or sha512"},
            {"SHA256:" HEX64, "invalid digest \"SHA256:" HEX64
                              "\": unknown algorithm \"SHA256\", expected sha256 or sha512"},
            {"sha384:" HEX64, "invalid digest \"sha384:" HEX64
                              "\": unknown algorithm \"sha384\", expected sha256 or sha512"},
            {":" HEX64,
             "invalid digest \":" HEX64 "\": unknown algorithm \"\", expected sha256 or sha512"},
            {"sha512:" HEX64, "invalid digest \"sha512:" HEX64
                              "\": sha512 needs 128 hex digits, found 64 characters"},
            {"sha256:" HEX64 "\n", "invalid digest \"sha256:" HEX64
                                   "\n\": sha256 needs 64 hex digits, found 65 characters"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_error err = ES_ERROR_INIT;
                int r = es_digest_validate(cases[i].digest, &err);

                if (r != -ES_ERR_INVALID)
                        print_error("digest \"%s\" was accepted\n", cases[i].digest);
                assert_int_equal(r, -ES_ERR_INVALID);
                assert_int_equal(err.code, ES_ERR_INVALID);
                assert_string_equal(es_error_message(&err), cases[i].message);
                es_error_release(&err);
        }
}

static void test_validate_cuts_long_value(void **state)
{
        struct es_error err = ES_ERROR_INIT;
        _cleanup_free_ char *digest = malloc(10008);

        memcpy(digest, "sha256:", 7);
        memset(digest + 7, 'a', 10000);
        digest[10007] = '\0';

        assert_int_equal(es_digest_validate(digest, &err), -ES_ERR_INVALID);
        assert_true(strlen(es_error_message(&err)) < 250);
        assert_non_null(strstr(es_error_message(&err), "...\": sha256 needs 64 hex digits, "
                                                       "found 10000 characters"));
        es_error_release(&err);
}

static void test_validate_supported(void **state)
{
        struct es_error err = ES_ERROR_INIT;

        assert_int_equal(es_digest_validate_supported("sha256:" HEX64, &err), 0);

        assert_int_equal(es_digest_validate_supported("sha512:" HEX128, &err), -ES_ERR_INVALID);
        assert_string_equal(es_error_message(&err),
                            "invalid digest \"sha512:" HEX64
                            "e3b0c44298fc1c149afbf4c8996fb...\": only sha256 content can be "
                            "verified; this algorithm is not supported");

        assert_int_equal(es_digest_validate_supported("sha256:abc", &err), -ES_ERR_INVALID);
        assert_string_equal(es_error_message(&err),
                            "invalid digest \"sha256:abc\": sha256 needs 64 hex digits, found 3 "
                            "characters");
        es_error_release(&err);
}

static void test_sha256_known_values(void **state)
{
        static const struct {
                const char *input;
                const char *digest;
        } cases[] = {
            {"", "sha256:" HEX64},
            {"abc", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
            {"{}", "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                char out[ES_DIGEST_SHA256_LENGTH];

                es_digest_sha256(cases[i].input, strlen(cases[i].input), out);
                assert_string_equal(out, cases[i].digest);
                assert_int_equal(es_digest_validate(out, NULL), 0);
        }
}

static void test_sha256_stream_matches_one_shot(void **state)
{
        static const char million_a_digest[] =
            "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
        _cleanup_free_ char *data = malloc(1000000);
        char streamed[ES_DIGEST_SHA256_LENGTH], one_shot[ES_DIGEST_SHA256_LENGTH];
        struct es_sha256 *ctx = es_sha256_new();
        size_t offset = 0, chunk = 1;

        memset(data, 'a', 1000000);
        while (offset < 1000000) {
                size_t n = chunk < 1000000 - offset ? chunk : 1000000 - offset;

                es_sha256_update(ctx, data + offset, n);
                offset += n;
                chunk = chunk * 3 + 1;
        }
        es_sha256_update(ctx, data, 0);
        es_sha256_final(ctx, streamed);
        es_sha256_free(ctx);

        es_digest_sha256(data, 1000000, one_shot);
        assert_string_equal(streamed, million_a_digest);
        assert_string_equal(one_shot, million_a_digest);
}

static void test_sha256_free_null(void **state)
{
        es_sha256_free(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_validate_accepts),
            cmocka_unit_test(test_validate_rejects),
            cmocka_unit_test(test_validate_cuts_long_value),
            cmocka_unit_test(test_validate_supported),
            cmocka_unit_test(test_sha256_known_values),
            cmocka_unit_test(test_sha256_stream_matches_one_shot),
            cmocka_unit_test(test_sha256_free_null),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
