/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for registry/reference.c: parsing, normalisation and the helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "registry/reference.h"

#define DIGEST   "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define DIGEST_2 "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

struct valid_case {
        const char *text;
        const char *registry;
        const char *repository;
        const char *tag;
        const char *digest;
        const char *formatted;
};

struct invalid_case {
        const char *text;
        const char *message;
};

/* Compare two strings that may be NULL, naming the input and field on a mismatch. */
static void assert_field(const char *input, const char *field, const char *actual,
                         const char *expected)
{
        if (actual == NULL && expected == NULL)
                return;
        if (actual != NULL && expected != NULL && strcmp(actual, expected) == 0)
                return;
        print_error("input \"%s\", field %s\n", input, field);
        assert_string_equal(actual ? actual : "(null)", expected ? expected : "(null)");
}

static void check_valid(const struct valid_case *c, bool repository_only)
{
        struct es_reference ref = {NULL, NULL, NULL, NULL};
        struct es_error err = ES_ERROR_INIT;
        _cleanup_free_ char *formatted = NULL;
        int r;

        r = repository_only ? es_reference_parse_repository(c->text, &ref, &err)
                            : es_reference_parse(c->text, &ref, &err);
        if (r != 0)
                print_error("input \"%s\": %s\n", c->text, es_error_message(&err));
        assert_int_equal(r, 0);

        assert_field(c->text, "registry", ref.registry, c->registry);
        assert_field(c->text, "repository", ref.repository, c->repository);
        assert_field(c->text, "tag", ref.tag, c->tag);
        assert_field(c->text, "digest", ref.digest, c->digest);
        formatted = es_reference_format(&ref);
        assert_field(c->text, "format", formatted, c->formatted);

        es_reference_release(&ref);
        es_error_release(&err);
}

static void check_invalid(const struct invalid_case *c, bool repository_only)
{
        /* The output must stay untouched on failure, so fill it with markers. */
        char marker[] = "untouched";
        struct es_reference ref = {marker, marker, marker, marker};
        struct es_error err = ES_ERROR_INIT;
        int r;

        r = repository_only ? es_reference_parse_repository(c->text, &ref, &err)
                            : es_reference_parse(c->text, &ref, &err);
        if (r != -ES_ERR_INVALID)
                print_error("input \"%s\" was accepted or failed with %d\n", c->text, r);
        assert_int_equal(r, -ES_ERR_INVALID);
        assert_int_equal(err.code, ES_ERR_INVALID);
        assert_field(c->text, "message", es_error_message(&err), c->message);
        assert_ptr_equal(ref.registry, marker);
        assert_ptr_equal(ref.repository, marker);
        assert_ptr_equal(ref.tag, marker);
        assert_ptr_equal(ref.digest, marker);
        es_error_release(&err);
}

static void test_parse_valid(void **state)
{
        static const struct valid_case cases[] = {
            {"nginx", "docker.io", "library/nginx", "latest", NULL,
             "docker.io/library/nginx:latest"},
            {"library/nginx", "docker.io", "library/nginx", "latest", NULL,
             "docker.io/library/nginx:latest"},
            {"docker.io/nginx", "docker.io", "library/nginx", "latest", NULL,
             "docker.io/library/nginx:latest"},
            {"docker.io/library/nginx:1.27", "docker.io", "library/nginx", "1.27", NULL,
             "docker.io/library/nginx:1.27"},
            {"index.docker.io/library/nginx", "docker.io", "library/nginx", "latest", NULL,
             "docker.io/library/nginx:latest"},
            {"index.docker.io/nginx:stable", "docker.io", "library/nginx", "stable", NULL,
             "docker.io/library/nginx:stable"},
            {"datadog/agent:7", "docker.io", "datadog/agent", "7", NULL,
             "docker.io/datadog/agent:7"},
            {"registry-1.docker.io/nginx", "registry-1.docker.io", "nginx", "latest", NULL,
             "registry-1.docker.io/nginx:latest"},
            {"localhost:5000/a", "localhost:5000", "a", "latest", NULL, "localhost:5000/a:latest"},
            {"localhost/a", "localhost", "a", "latest", NULL, "localhost/a:latest"},
            {"localhost", "docker.io", "library/localhost", "latest", NULL,
             "docker.io/library/localhost:latest"},
            {"localhost:5000", "docker.io", "library/localhost", "5000", NULL,
             "docker.io/library/localhost:5000"},
            {"127.0.0.1:5000/a/b:tag", "127.0.0.1:5000", "a/b", "tag", NULL,
             "127.0.0.1:5000/a/b:tag"},
            {"[::1]:5000/x@" DIGEST, "[::1]:5000", "x", NULL, DIGEST, "[::1]:5000/x@" DIGEST},
            {"[::1]/x:1", "[::1]", "x", "1", NULL, "[::1]/x:1"},
            {"ghcr.io/org/tool:v1@" DIGEST, "ghcr.io", "org/tool", "v1", DIGEST,
             "ghcr.io/org/tool:v1@" DIGEST},
            {"nginx@" DIGEST, "docker.io", "library/nginx", NULL, DIGEST,
             "docker.io/library/nginx@" DIGEST},
            {"nginx:1.27@" DIGEST_2, "docker.io", "library/nginx", "1.27", DIGEST_2,
             "docker.io/library/nginx:1.27@" DIGEST_2},
            {"quay.io/a/b/c/d:x", "quay.io", "a/b/c/d", "x", NULL, "quay.io/a/b/c/d:x"},
            {"Registry.Example.COM:443/team/app", "registry.example.com:443", "team/app", "latest",
             NULL, "registry.example.com:443/team/app:latest"},
            {"example.com/a.b_c__d---e/f-g:TAG_1.0-x", "example.com", "a.b_c__d---e/f-g",
             "TAG_1.0-x", NULL, "example.com/a.b_c__d---e/f-g:TAG_1.0-x"},
            {"example.com/x:_tag", "example.com", "x", "_tag", NULL, "example.com/x:_tag"},
            {"example.com/0/9", "example.com", "0/9", "latest", NULL, "example.com/0/9:latest"},
            {"my-host.internal:65535/app", "my-host.internal:65535", "app", "latest", NULL,
             "my-host.internal:65535/app:latest"},
            {"nginx@sha512:"
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
             "docker.io", "library/nginx", NULL,
             "sha512:"
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
             "docker.io/library/nginx@sha512:"
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++)
                check_valid(&cases[i], false);
}

static void test_parse_invalid(void **state)
{
        static const struct invalid_case cases[] = {
            {"", "invalid reference \"\": the reference is empty"},
            {"Nginx", "invalid reference \"Nginx\": repository names must be lowercase"},
            {"example.com/Team/app",
             "invalid reference \"example.com/Team/app\": repository names must be "
             "lowercase"},
            {"a//b", "invalid reference \"a//b\": repository path has an empty component"},
            {"/a", "invalid reference \"/a\": repository path has an empty component"},
            {"a/", "invalid reference \"a/\": repository path has an empty component"},
            {"example.com/", "invalid reference \"example.com/\": repository path is empty"},
            {"a/../b", "invalid reference \"a/../b\": repository path component \"..\" must "
                       "start with a lowercase letter or digit"},
            {"a/./b", "invalid reference \"a/./b\": repository path component \".\" must "
                      "start with a lowercase letter or digit"},
            {"a-", "invalid reference \"a-\": repository path component \"a-\" must end with "
                   "a lowercase letter or digit"},
            {"a/b.", "invalid reference \"a/b.\": repository path component \"b.\" must end "
                     "with a lowercase letter or digit"},
            {"a/b_:1", "invalid reference \"a/b_:1\": repository path component \"b_\" must "
                       "end with a lowercase letter or digit"},
            {"_a", "invalid reference \"_a\": repository path component \"_a\" must start "
                   "with a lowercase letter or digit"},
            {"a..b", "invalid reference \"a..b\": invalid separator \"..\" in repository "
                     "path component \"a..b\"; use one of '.', '_', '__' or '-'"},
            {"a___b", "invalid reference \"a___b\": invalid separator \"___\" in repository "
                      "path component \"a___b\"; use one of '.', '_', '__' or '-'"},
            {"a_-b", "invalid reference \"a_-b\": invalid separator \"_-\" in repository "
                     "path component \"a_-b\"; use one of '.', '_', '__' or '-'"},
            {"a b", "invalid reference \"a b\": invalid character ' ' in repository path "
                    "component \"a b\"; allowed are a-z, 0-9, '.', '_' and '-'"},
            {"a+b", "invalid reference \"a+b\": invalid character '+' in repository path "
                    "component \"a+b\"; allowed are a-z, 0-9, '.', '_' and '-'"},
            {"nginx:", "invalid reference \"nginx:\": invalid tag \"\": tag is empty"},
            {"nginx:-x", "invalid reference \"nginx:-x\": invalid tag \"-x\": tag must start "
                         "with a letter, digit or '_'"},
            {"nginx:.x", "invalid reference \"nginx:.x\": invalid tag \".x\": tag must start "
                         "with a letter, digit or '_'"},
            {"nginx:a!b", "invalid reference \"nginx:a!b\": invalid tag \"a!b\": tag may "
                          "contain only letters, digits, '_', '.' and '-'"},
            {"nginx:a:b", "invalid reference \"nginx:a:b\": invalid tag \"a:b\": tag may "
                          "contain only letters, digits, '_', '.' and '-'"},
            {"nginx@sha256:xyz",
             "invalid reference \"nginx@sha256:xyz\": invalid digest \"sha256:xyz\": sha256 "
             "needs 64 hex digits, found 3 characters"},
            {"nginx@", "invalid reference \"nginx@\": invalid digest \"\": expected "
                       "ALGORITHM:HEX, e.g. sha256:..."},
            {"nginx@md5:abc", "invalid reference \"nginx@md5:abc\": invalid digest "
                              "\"md5:abc\": unknown algorithm \"md5\", expected sha256 or "
                              "sha512"},
            {"nginx@sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
             "invalid reference "
             "\"nginx@sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
             "\": invalid digest "
             "\"sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\": hex "
             "digits must be lowercase"},
            {"nginx@" DIGEST "@" DIGEST,
             "invalid reference \"nginx@" DIGEST "@" DIGEST "\": invalid digest \"" DIGEST
             "@sha256:e3b0c44298fc1c149afbf...\": sha256 needs 64 hex "
             "digits, found 136 characters"},
            {"example.com:abc/x",
             "invalid reference \"example.com:abc/x\": invalid registry \"example.com:abc\"; "
             "expected a host name, IPv4 address or [IPv6] address, optionally with :PORT"},
            {"example.com:/x",
             "invalid reference \"example.com:/x\": invalid registry \"example.com:\"; "
             "expected a host name, IPv4 address or [IPv6] address, optionally with :PORT"},
            {"example.com:65536/x",
             "invalid reference \"example.com:65536/x\": invalid registry "
             "\"example.com:65536\"; expected a host name, IPv4 address or [IPv6] address, "
             "optionally with :PORT"},
            {"-bad.example/x",
             "invalid reference \"-bad.example/x\": invalid registry \"-bad.example\"; "
             "expected a host name, IPv4 address or [IPv6] address, optionally with :PORT"},
            {"bad..example/x",
             "invalid reference \"bad..example/x\": invalid registry \"bad..example\"; "
             "expected a host name, IPv4 address or [IPv6] address, optionally with :PORT"},
            {"[::1/x", "invalid reference \"[::1/x\": invalid registry \"[::1\"; expected a "
                       "host name, IPv4 address or [IPv6] address, optionally with :PORT"},
            {"[zz::1]:5000/x",
             "invalid reference \"[zz::1]:5000/x\": invalid registry \"[zz::1]:5000\"; "
             "expected a host name, IPv4 address or [IPv6] address, optionally with :PORT"},
            {"[fe80::1%eth0]:5000/x",
             "invalid reference \"[fe80::1%eth0]:5000/x\": invalid registry "
             "\"[fe80::1%eth0]:5000\"; expected a host name, IPv4 address or [IPv6] address, "
             "optionally with :PORT"},
            {"[::1]x/y", "invalid reference \"[::1]x/y\": invalid registry \"[::1]x\"; "
                         "expected a host name, IPv4 address or [IPv6] address, optionally "
                         "with :PORT"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++)
                check_invalid(&cases[i], false);
}

static void test_parse_length_limits(void **state)
{
        _cleanup_free_ char *path_255 = es_malloc(256), *path_256 = es_malloc(257);
        _cleanup_free_ char *text = NULL, *message = NULL, *expected = NULL, *tag = NULL;
        struct es_reference ref = {NULL, NULL, NULL, NULL};
        struct es_error err = ES_ERROR_INIT;

        memset(path_255, 'a', 255);
        path_255[255] = '\0';
        memset(path_256, 'a', 256);
        path_256[256] = '\0';

        /* 255 characters after the registry is the maximum. */
        text = es_asprintf("example.com/%s", path_255);
        assert_int_equal(es_reference_parse(text, &ref, &err), 0);
        assert_int_equal(strlen(ref.repository), 255);
        es_reference_release(&ref);
        free(text);

        text = es_asprintf("example.com/%s", path_256);
        assert_int_equal(es_reference_parse(text, &ref, &err), -ES_ERR_INVALID);
        expected = es_asprintf("invalid reference \"%s\": repository path is 256 characters, the "
                               "maximum is 255",
                               text);
        assert_string_equal(es_error_message(&err), expected);
        free(text);
        free(expected);

        /* Docker Hub's "library/" prefix counts towards the limit. */
        text = es_strndup(path_255, 250);
        assert_int_equal(es_reference_parse(text, &ref, &err), -ES_ERR_INVALID);
        expected = es_asprintf("invalid reference \"%s\": repository path \"library/%s\" is 258 "
                               "characters, the maximum is 255",
                               text, text);
        assert_string_equal(es_error_message(&err), expected);
        free(text);
        free(expected);
        expected = NULL;

        /* Tags: 128 characters is the maximum. */
        tag = es_malloc(130);
        memset(tag, 'T', 129);
        tag[128] = '\0';
        text = es_asprintf("nginx:%s", tag);
        assert_int_equal(es_reference_parse(text, &ref, &err), 0);
        assert_string_equal(ref.tag, tag);
        es_reference_release(&ref);
        free(text);

        tag[128] = 'T';
        tag[129] = '\0';
        text = es_asprintf("nginx:%s", tag);
        assert_int_equal(es_reference_parse(text, &ref, &err), -ES_ERR_INVALID);
        message = es_asprintf("invalid reference \"%s\": invalid tag \"%s\": tag is longer than "
                              "128 characters",
                              text, tag);
        assert_string_equal(es_error_message(&err), message);
        es_error_release(&err);
}

static void test_parse_repository(void **state)
{
        static const struct valid_case valid[] = {
            {"nginx", "docker.io", "library/nginx", NULL, NULL, "docker.io/library/nginx"},
            {"localhost:5000/team/app", "localhost:5000", "team/app", NULL, NULL,
             "localhost:5000/team/app"},
            {"[::1]:5000/x", "[::1]:5000", "x", NULL, NULL, "[::1]:5000/x"},
            {"index.docker.io/datadog/agent", "docker.io", "datadog/agent", NULL, NULL,
             "docker.io/datadog/agent"},
        };
        static const struct invalid_case invalid[] = {
            {"nginx:1.27", "invalid repository \"nginx:1.27\": a repository must not carry a "
                           "tag; remove \":1.27\""},
            {"localhost:5000", "invalid repository \"localhost:5000\": a repository must not "
                               "carry a tag; remove \":5000\""},
            {"nginx@" DIGEST, "invalid repository \"nginx@" DIGEST
                              "\": a repository must not carry a digest; remove \"@" DIGEST "\""},
            {"", "invalid repository \"\": the repository is empty"},
            {"Nginx", "invalid repository \"Nginx\": repository names must be lowercase"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(valid); i++)
                check_valid(&valid[i], true);
        for (size_t i = 0; i < ES_ARRAY_SIZE(invalid); i++)
                check_invalid(&invalid[i], true);
}

static void test_api_host_and_manifest_ref(void **state)
{
        struct es_reference ref = {NULL, NULL, NULL, NULL};

        assert_int_equal(es_reference_parse("nginx:1.27", &ref, NULL), 0);
        assert_string_equal(es_reference_api_host(&ref), "registry-1.docker.io");
        assert_string_equal(es_reference_manifest_ref(&ref), "1.27");
        es_reference_release(&ref);

        assert_int_equal(es_reference_parse("ghcr.io/org/tool:v1@" DIGEST, &ref, NULL), 0);
        assert_string_equal(es_reference_api_host(&ref), "ghcr.io");
        assert_string_equal(es_reference_manifest_ref(&ref), DIGEST);
        es_reference_release(&ref);

        assert_int_equal(es_reference_parse("127.0.0.1:5000/a", &ref, NULL), 0);
        assert_string_equal(es_reference_api_host(&ref), "127.0.0.1:5000");
        es_reference_release(&ref);
}

static void test_copy_is_deep(void **state)
{
        struct es_reference src = {NULL, NULL, NULL, NULL}, dst = {NULL, NULL, NULL, NULL};
        struct es_reference tagless = {NULL, NULL, NULL, NULL}, tagless_copy;

        assert_int_equal(es_reference_parse("ghcr.io/org/tool:v1@" DIGEST, &src, NULL), 0);
        es_reference_copy(&dst, &src);
        assert_ptr_not_equal(dst.registry, src.registry);
        assert_ptr_not_equal(dst.repository, src.repository);
        assert_ptr_not_equal(dst.tag, src.tag);
        assert_ptr_not_equal(dst.digest, src.digest);
        es_reference_release(&src);
        assert_string_equal(dst.registry, "ghcr.io");
        assert_string_equal(dst.repository, "org/tool");
        assert_string_equal(dst.tag, "v1");
        assert_string_equal(dst.digest, DIGEST);
        es_reference_release(&dst);
        assert_null(dst.registry);

        assert_int_equal(es_reference_parse_repository("nginx", &tagless, NULL), 0);
        es_reference_copy(&tagless_copy, &tagless);
        assert_null(tagless_copy.tag);
        assert_null(tagless_copy.digest);
        es_reference_release(&tagless);
        es_reference_release(&tagless_copy);
        es_reference_release(NULL);
}

static void test_registry_is_loopback(void **state)
{
        static const struct {
                const char *registry;
                bool loopback;
        } cases[] = {
            {"localhost", true},
            {"localhost:5000", true},
            {"LocalHost:5000", true},
            {"127.0.0.1", true},
            {"127.0.0.1:5000", true},
            {"127.1.2.3:80", true},
            {"[::1]", true},
            {"[::1]:5000", true},
            {"[0:0:0:0:0:0:0:1]:5000", true},
            {"128.0.0.1", false},
            {"10.0.0.1:5000", false},
            {"localhost.example.com", false},
            {"127.0.0.1.nip.io", false},
            {"[::2]:5000", false},
            {"[::1", false},
            {"docker.io", false},
            {"127.0.0.1:abc", false},
            {"localhost:", false},
            {"", false},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                bool actual = es_registry_is_loopback(cases[i].registry);

                if (actual != cases[i].loopback)
                        print_error("registry \"%s\": expected %s\n", cases[i].registry,
                                    cases[i].loopback ? "loopback" : "not loopback");
                assert_int_equal(actual, cases[i].loopback);
        }
}

static void test_path_and_tag_checks(void **state)
{
        static const struct {
                const char *text;
                bool path_valid;
                bool tag_valid;
        } cases[] = {
            {"library/nginx", true, false},
            {"a", true, true},
            {"a__b-c.d", true, true},
            {"a/b/c", true, false},
            {"A", false, true},
            {"a//b", false, false},
            {"", false, false},
            {"_x", false, true},
            {"v1.2.3-rc_1", true, true},
            {"-x", false, false},
            {"x y", false, false},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                bool path_valid = es_repository_path_is_valid(cases[i].text);
                bool tag_valid = es_tag_is_valid(cases[i].text);

                if (path_valid != cases[i].path_valid || tag_valid != cases[i].tag_valid)
                        print_error("text \"%s\": path valid %d (expected %d), tag valid %d "
                                    "(expected %d)\n",
                                    cases[i].text, path_valid, cases[i].path_valid, tag_valid,
                                    cases[i].tag_valid);
                assert_int_equal(path_valid, cases[i].path_valid);
                assert_int_equal(tag_valid, cases[i].tag_valid);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse_valid),
            cmocka_unit_test(test_parse_invalid),
            cmocka_unit_test(test_parse_length_limits),
            cmocka_unit_test(test_parse_repository),
            cmocka_unit_test(test_api_host_and_manifest_ref),
            cmocka_unit_test(test_copy_is_deep),
            cmocka_unit_test(test_registry_is_loopback),
            cmocka_unit_test(test_path_and_tag_checks),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
