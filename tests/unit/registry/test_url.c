/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for registry/url.c: Location resolution, query appending, origins. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "registry/url.h"

#define HEX64  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define UPLOAD "https://r.example/v2/team/app/blobs/uploads/"

static void test_resolve(void **state)
{
        static const struct {
                const char *base;
                const char *ref;
                const char *expected;
        } cases[] = {
            {UPLOAD, "/v2/team/app/blobs/uploads/6f1c?_state=abc%2Bdef%3D%3D",
             "https://r.example/v2/team/app/blobs/uploads/6f1c?_state=abc%2Bdef%3D%3D"},
            {UPLOAD, "6f1c", "https://r.example/v2/team/app/blobs/uploads/6f1c"},
            {UPLOAD, "../../tags/list", "https://r.example/v2/team/app/tags/list"},
            {UPLOAD, "https://s3.example:8443/bucket/obj?X-Amz-Signature=1",
             "https://s3.example:8443/bucket/obj?X-Amz-Signature=1"},
            {UPLOAD, "//cdn.example/x", "https://cdn.example/x"},
            {"http://127.0.0.1:5000/v2/", "//other:5001/x", "http://other:5001/x"},
            {UPLOAD "?old=1", "?n=2", UPLOAD "?n=2"},
            {"http://127.0.0.1:5000/v2/a/tags/list?n=1", "/v2/a/tags/list?n=1&last=b",
             "http://127.0.0.1:5000/v2/a/tags/list?n=1&last=b"},
            {"http://[::1]:5000/v2/", "/v2/x/blobs/uploads/",
             "http://[::1]:5000/v2/x/blobs/uploads/"},
            {UPLOAD "?old=1", "", UPLOAD "?old=1"},
            {UPLOAD "?old=1#frag", "#other", UPLOAD "?old=1"},
            {UPLOAD, "/a?b=1#fragment", "https://r.example/a?b=1"},
            {"https://r.example/v2/", "HTTP://Other.Example/x", "http://Other.Example/x"},
            /* libcurl percent-encodes a space in a relative reference. */
            {"https://r.example/v2/", "/a b", "https://r.example/a%20b"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_error err = ES_ERROR_INIT;
                _cleanup_free_ char *out = NULL;
                int r = es_url_resolve(cases[i].base, cases[i].ref, &out, &err);

                if (r != 0)
                        print_error("base '%s', ref '%s': %s\n", cases[i].base, cases[i].ref,
                                    es_error_message(&err));
                assert_int_equal(r, 0);
                if (strcmp(out, cases[i].expected) != 0)
                        print_error("base '%s', ref '%s'\n", cases[i].base, cases[i].ref);
                assert_string_equal(out, cases[i].expected);
                es_error_release(&err);
        }
}

static void test_resolve_rejects(void **state)
{
        static const struct {
                const char *base;
                const char *ref;
                enum es_error_code code;
                const char *message;
        } cases[] = {
            {UPLOAD, "ftp://files.example/x", ES_ERR_PROTOCOL,
             "invalid URL \"ftp://files.example/x\": the scheme must be http or https"},
            {UPLOAD, "file:///etc/hosts", ES_ERR_PROTOCOL,
             "invalid URL \"file:///etc/hosts\": the scheme must be http or https"},
            {UPLOAD, "http://", ES_ERR_PROTOCOL,
             "invalid URL \"http://\": No host part in the URL"},
            {UPLOAD, "http://[::1/x", ES_ERR_PROTOCOL,
             "invalid URL \"http://[::1/x\": Bad IPv6 address"},
            {UPLOAD, "https://a b/", ES_ERR_PROTOCOL, "invalid URL \"https://a b/\": Bad hostname"},
            {UPLOAD, "http://r.example:99999/", ES_ERR_PROTOCOL,
             "invalid URL \"http://r.example:99999/\": Port number was not a decimal number "
             "between 0 and 65535"},
            {"not a url", "/x", ES_ERR_INVALID, NULL},
            {"", "/x", ES_ERR_INVALID, NULL},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_error err = ES_ERROR_INIT;
                char *out = (char *)"untouched";
                int r = es_url_resolve(cases[i].base, cases[i].ref, &out, &err);

                if (r != -(int)cases[i].code)
                        print_error("base '%s', ref '%s': returned %d\n", cases[i].base,
                                    cases[i].ref, r);
                assert_int_equal(r, -(int)cases[i].code);
                assert_string_equal(out, "untouched");
                if (cases[i].message != NULL)
                        assert_string_equal(es_error_message(&err), cases[i].message);
                es_error_release(&err);
        }
}

static void test_resolve_message_hides_secrets(void **state)
{
        struct es_error err = ES_ERROR_INIT;
        char *out = NULL;

        assert_int_equal(
            es_url_resolve(UPLOAD, "ftp://user:hunter2@files.example/x?sig=abc123", &out, &err),
            -ES_ERR_PROTOCOL);
        assert_string_equal(es_error_message(&err), "invalid URL \"ftp://files.example/x?...\": "
                                                    "the scheme must be http or https");
        assert_null(strstr(es_error_message(&err), "hunter2"));
        assert_null(strstr(es_error_message(&err), "abc123"));

        assert_int_equal(es_url_resolve("https://u:pw@r.example:99999/?X-Amz-Signature=s3cr3t",
                                        "/x", &out, &err),
                         -ES_ERR_INVALID);
        assert_null(strstr(es_error_message(&err), "s3cr3t"));
        assert_null(strstr(es_error_message(&err), "pw@"));
        assert_non_null(strstr(es_error_message(&err), "https://r.example:99999/?..."));
        es_error_release(&err);
}

static void test_append_query(void **state)
{
        static const struct {
                const char *url;
                const char *name;
                const char *value;
                const char *expected;
        } cases[] = {
            {UPLOAD "6f1c?_state=abc%2Bdef%3D%3D", "digest", "sha256:" HEX64,
             UPLOAD "6f1c?_state=abc%2Bdef%3D%3D&digest=sha256%3A" HEX64},
            {UPLOAD "6f1c", "digest", "sha256:" HEX64, UPLOAD "6f1c?digest=sha256%3A" HEX64},
            {UPLOAD "6f1c?", "digest", "sha256:" HEX64, UPLOAD "6f1c?digest=sha256%3A" HEX64},
            {UPLOAD "6f1c?a=1&", "n", "2", UPLOAD "6f1c?a=1&n=2"},
            {"https://r.example/u?a=1#frag", "n", "2", "https://r.example/u?a=1&n=2#frag"},
            {"https://r.example/u#frag?x", "n", "2", "https://r.example/u?n=2#frag?x"},
            {"https://r.example/u", "n", "a b/c+d&e=f~._-?#%",
             "https://r.example/u?n=a%20b%2Fc%2Bd%26e%3Df~._-%3F%23%25"},
            {"https://r.example/u", "a b", "", "https://r.example/u?a%20b="},
            {"https://r.example/u", "mount", "sha256:" HEX64,
             "https://r.example/u?mount=sha256%3A" HEX64},
            {"https://r.example/u", "utf8", "\xc3\xa9", "https://r.example/u?utf8=%C3%A9"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *out =
                    es_url_append_query(cases[i].url, cases[i].name, cases[i].value);

                if (strcmp(out, cases[i].expected) != 0)
                        print_error("url '%s', %s=%s\n", cases[i].url, cases[i].name,
                                    cases[i].value);
                assert_string_equal(out, cases[i].expected);
        }
}

static void test_same_origin(void **state)
{
        static const struct {
                const char *a;
                const char *b;
                bool same;
        } cases[] = {
            {"https://r.example/a", "https://R.Example:443/b?x=1", true},
            {"http://r.example/a", "http://r.example:80/b", true},
            {"HTTPS://r.example/", "https://r.example/", true},
            {"http://[::1]:5000/a", "http://[::1]:5000/b", true},
            {"http://r.example/a", "https://r.example/a", false},
            {"http://r.example:443/", "https://r.example/", false},
            {"https://r.example/a", "https://r.example:8443/a", false},
            {"https://r.example/a", "https://s.example/a", false},
            {"https://r.example/a", "https://r.example.evil.example/a", false},
            {"http://127.0.0.1:5000/", "http://localhost:5000/", false},
            {"not a url", "https://r.example/", false},
            {"https://r.example/", "", false},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                bool same = es_url_same_origin(cases[i].a, cases[i].b);
                bool reverse = es_url_same_origin(cases[i].b, cases[i].a);

                if (same != cases[i].same || reverse != cases[i].same)
                        print_error("'%s' and '%s': expected %s\n", cases[i].a, cases[i].b,
                                    cases[i].same ? "same origin" : "different origins");
                assert_int_equal(same, cases[i].same);
                assert_int_equal(reverse, cases[i].same);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_resolve),
            cmocka_unit_test(test_resolve_rejects),
            cmocka_unit_test(test_resolve_message_hides_secrets),
            cmocka_unit_test(test_append_query),
            cmocka_unit_test(test_same_origin),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
