/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for registry/challenge.c: WWW-Authenticate parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "registry/challenge.h"

struct expected_challenge {
        const char *scheme;
        const char *realm;
        const char *service;
        const char *scope;
        const char *error;
};

struct valid_case {
        const char *header;
        size_t count;
        struct expected_challenge challenges[3];
};

struct invalid_case {
        const char *header;
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
        print_error("header '%s', field %s\n", input, field);
        assert_string_equal(actual ? actual : "(null)", expected ? expected : "(null)");
}

static void check_valid(const struct valid_case *c)
{
        struct es_challenge_list list = {NULL, 0};
        struct es_error err = ES_ERROR_INIT;
        int r = es_challenge_parse(c->header, &list, &err);

        if (r != 0)
                print_error("header '%s': %s\n", c->header, es_error_message(&err));
        assert_int_equal(r, 0);
        if (list.count != c->count)
                print_error("header '%s': challenge count\n", c->header);
        assert_int_equal(list.count, c->count);

        for (size_t i = 0; i < c->count; i++) {
                const struct expected_challenge *want = &c->challenges[i];
                const struct es_challenge *got = &list.items[i];

                assert_field(c->header, "scheme", got->scheme, want->scheme);
                assert_field(c->header, "realm", got->realm, want->realm);
                assert_field(c->header, "service", got->service, want->service);
                assert_field(c->header, "scope", got->scope, want->scope);
                assert_field(c->header, "error", got->error, want->error);
        }
        es_challenge_list_release(&list);
        assert_null(list.items);
        assert_int_equal(list.count, 0);
}

static void test_parse_valid(void **state)
{
        static const struct valid_case cases[] = {
            {"Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
             "scope=\"repository:library/nginx:pull\"",
             1,
             {{"bearer", "https://auth.docker.io/token", "registry.docker.io",
               "repository:library/nginx:pull", NULL}}},
            {"Basic realm=\"x\", Bearer realm=\"y\",service=\"z\"",
             2,
             {{"basic", "x", NULL, NULL, NULL}, {"bearer", "y", "z", NULL, NULL}}},
            {"Bearer realm=\"https://r.example/token\",scope=\"repository:a/b:pull,push\"",
             1,
             {{"bearer", "https://r.example/token", NULL, "repository:a/b:pull,push", NULL}}},
            {"Bearer realm=\"a\\\"b\\\\c\\d\"", 1, {{"bearer", "a\"b\\cd", NULL, NULL, NULL}}},
            {"BEARER Realm=\"x\", SERVICE=\"y\", sCoPe=\"z\"",
             1,
             {{"bearer", "x", "y", "z", NULL}}},
            {"Bearer realm = \"x\" , service= y ,scope =z", 1, {{"bearer", "x", "y", "z", NULL}}},
            {"Bearer\trealm=\"x\",\tservice=\"y\"", 1, {{"bearer", "x", "y", NULL, NULL}}},
            {"Bearer realm=\"https://auth.example/token\",service=\"reg\","
             "scope=\"repository:team/app:pull,push\",error=\"insufficient_scope\"",
             1,
             {{"bearer", "https://auth.example/token", "reg", "repository:team/app:pull,push",
               "insufficient_scope"}}},
            {"Bearer error=invalid_token", 1, {{"bearer", NULL, NULL, NULL, "invalid_token"}}},
            {"Bearer realm=https://auth.example/token,service=reg",
             1,
             {{"bearer", "https://auth.example/token", "reg", NULL, NULL}}},
            {"Basic realm=\"https://123456789012.dkr.ecr.us-east-1.amazonaws.com/\","
             "service=\"ecr.amazonaws.com\"",
             1,
             {{"basic", "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/",
               "ecr.amazonaws.com", NULL, NULL}}},
            {"Negotiate YIIBhg==, Bearer realm=\"x\"",
             2,
             {{"negotiate", NULL, NULL, NULL, NULL}, {"bearer", "x", NULL, NULL, NULL}}},
            {"Negotiate abc, NTLM",
             2,
             {{"negotiate", NULL, NULL, NULL, NULL}, {"ntlm", NULL, NULL, NULL, NULL}}},
            {"Basic", 1, {{"basic", NULL, NULL, NULL, NULL}}},
            /* RFC 7235 reads "realm=" alone as a token68 credential, not an empty param. */
            {"Bearer realm=", 1, {{"bearer", NULL, NULL, NULL, NULL}}},
            {"Bearer realm=, service=x", 1, {{"bearer", NULL, "x", NULL, NULL}}},
            {"Basic, Bearer",
             2,
             {{"basic", NULL, NULL, NULL, NULL}, {"bearer", NULL, NULL, NULL, NULL}}},
            {"Bearer charset=\"UTF-8\",realm=\"x\",foo=bar",
             1,
             {{"bearer", "x", NULL, NULL, NULL}}},
            {"Bearer realm=\"first\",realm=\"second\"", 1, {{"bearer", "first", NULL, NULL, NULL}}},
            {"Bearer realm=\"\"", 1, {{"bearer", "", NULL, NULL, NULL}}},
            {"  , Bearer realm=\"x\" ,, ", 1, {{"bearer", "x", NULL, NULL, NULL}}},
            {"Digest realm=\"d\", qop=\"auth,auth-int\", nonce=\"n\", Basic realm=\"b\", "
             "Bearer realm=\"t\"",
             3,
             {{"digest", "d", NULL, NULL, NULL},
              {"basic", "b", NULL, NULL, NULL},
              {"bearer", "t", NULL, NULL, NULL}}},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++)
                check_valid(&cases[i]);
}

static void test_parse_invalid(void **state)
{
        static const struct invalid_case cases[] = {
            {"", "invalid WWW-Authenticate header: no challenge in an empty value"},
            {"  ,  ", "invalid WWW-Authenticate header: no challenge in an empty value"},
            {"Bearer realm=\"x",
             "invalid WWW-Authenticate header: unterminated quoted string at offset 15"},
            {"Bearer realm=\"x\\",
             "invalid WWW-Authenticate header: unterminated quoted string at offset 16"},
            {"realm=\"x\"", "invalid WWW-Authenticate header: auth param without a scheme at "
                            "offset 5"},
            {"Bearer realm=\"x\" service=\"y\"",
             "invalid WWW-Authenticate header: expected ',' between params at offset 17"},
            {"Bearer realm=\"x\"junk",
             "invalid WWW-Authenticate header: expected ',' between params at offset 16"},
            {"Bearer realm=\"x\", service=",
             "invalid WWW-Authenticate header: missing param value at offset 26"},
            {"\"Bearer\"", "invalid WWW-Authenticate header: expected an auth scheme or param "
                           "name at offset 0"},
            {"Bearer realm=\"x\", =y", "invalid WWW-Authenticate header: expected an auth "
                                       "scheme or param name at offset 18"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_challenge_list list = {(struct es_challenge *)&list, 42};
                struct es_error err = ES_ERROR_INIT;
                int r = es_challenge_parse(cases[i].header, &list, &err);

                if (r != -ES_ERR_PROTOCOL)
                        print_error("header '%s' was accepted or failed with %d\n", cases[i].header,
                                    r);
                assert_int_equal(r, -ES_ERR_PROTOCOL);
                assert_field(cases[i].header, "message", es_error_message(&err), cases[i].message);
                /* The output stays untouched on failure. */
                assert_ptr_equal(list.items, (struct es_challenge *)&list);
                assert_int_equal(list.count, 42);
                es_error_release(&err);
        }
}

static void test_parse_value_length_limit(void **state)
{
        _cleanup_free_ char *realm = es_malloc(8 * 1024 + 2);
        _cleanup_free_ char *header = NULL;
        struct es_challenge_list list = {NULL, 0};
        struct es_error err = ES_ERROR_INIT;

        memset(realm, 'r', 8 * 1024 + 1);
        realm[8 * 1024] = '\0';
        header = es_asprintf("Bearer realm=\"%s\"", realm);
        assert_int_equal(es_challenge_parse(header, &list, &err), 0);
        assert_int_equal(strlen(list.items[0].realm), 8 * 1024);
        es_challenge_list_release(&list);
        free(header);

        realm[8 * 1024] = 'r';
        realm[8 * 1024 + 1] = '\0';
        header = es_asprintf("Bearer realm=\"%s\"", realm);
        assert_int_equal(es_challenge_parse(header, &list, &err), -ES_ERR_PROTOCOL);
        assert_string_equal(es_error_message(&err), "invalid WWW-Authenticate header: quoted "
                                                    "string longer than 8 KiB at offset 8206");
        free(header);

        header = es_asprintf("Bearer realm=%s", realm);
        assert_int_equal(es_challenge_parse(header, &list, &err), -ES_ERR_PROTOCOL);
        assert_string_equal(es_error_message(&err), "invalid WWW-Authenticate header: param value "
                                                    "longer than 8 KiB at offset 13");
        es_error_release(&err);
}

static void test_parse_challenge_count_limit(void **state)
{
        struct es_challenge_list list = {NULL, 0};
        struct es_error err = ES_ERROR_INIT;
        _cleanup_free_ char *header = es_strdup("");

        for (int i = 0; i < 64; i++) {
                char *longer = es_asprintf("%s%sScheme%d", header, i ? ", " : "", i);

                free(header);
                header = longer;
        }
        assert_int_equal(es_challenge_parse(header, &list, &err), 0);
        assert_int_equal(list.count, 64);
        assert_string_equal(list.items[63].scheme, "scheme63");
        es_challenge_list_release(&list);

        {
                char *longer = es_asprintf("%s, Bearer realm=\"x\"", header);

                free(header);
                header = longer;
        }
        assert_int_equal(es_challenge_parse(header, &list, &err), -ES_ERR_PROTOCOL);
        assert_non_null(strstr(es_error_message(&err), "more than 64 challenges"));
        es_error_release(&err);
}

static void test_find_scheme(void **state)
{
        struct es_challenge_list list = {NULL, 0};
        const struct es_challenge *found;

        assert_int_equal(es_challenge_parse("Basic realm=\"b\", Bearer realm=\"t1\", "
                                            "bearer realm=\"t2\"",
                                            &list, NULL),
                         0);
        found = es_challenge_find(&list, "bearer");
        assert_non_null(found);
        assert_string_equal(found->realm, "t1");
        found = es_challenge_find(&list, "basic");
        assert_non_null(found);
        assert_string_equal(found->realm, "b");
        assert_null(es_challenge_find(&list, "digest"));
        es_challenge_list_release(&list);
        es_challenge_list_release(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse_valid),
            cmocka_unit_test(test_parse_invalid),
            cmocka_unit_test(test_parse_value_length_limit),
            cmocka_unit_test(test_parse_challenge_count_limit),
            cmocka_unit_test(test_find_scheme),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
