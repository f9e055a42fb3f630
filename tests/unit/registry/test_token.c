/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for registry/token.c: token endpoint responses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "registry/token.h"

#define REALM "https://auth.example/token"

struct valid_case {
        const char *body;
        const char *token;
        long lifetime;
};

struct invalid_case {
        const char *body;
        const char *message;
};

static void test_token_valid(void **state)
{
        static const struct valid_case cases[] = {
            {"{\"token\":\"abc.def\",\"expires_in\":300}", "abc.def", 300},
            {"{\"access_token\":\"xyz\",\"expires_in\":3600}", "xyz", 3600},
            {"{\"token\":\"t1\",\"access_token\":\"t2\"}", "t1", ES_TOKEN_DEFAULT_LIFETIME},
            {"{\"token\":\"\",\"access_token\":\"t2\"}", "t2", ES_TOKEN_DEFAULT_LIFETIME},
            {"{\"token\":\"t\",\"expires_in\":0}", "t", ES_TOKEN_DEFAULT_LIFETIME},
            {"{\"token\":\"t\",\"expires_in\":-5}", "t", ES_TOKEN_DEFAULT_LIFETIME},
            {"{\"token\":\"t\",\"expires_in\":\"300\"}", "t", ES_TOKEN_DEFAULT_LIFETIME},
            {"{\"token\":\"t\",\"expires_in\":99999999999}", "t", ES_TOKEN_MAX_LIFETIME},
            {"{\"token\":\"t\",\"issued_at\":\"2026-12-04T10:00:00Z\"}", "t",
             ES_TOKEN_DEFAULT_LIFETIME},
        };

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct es_error err = ES_ERROR_INIT;
                char *token = NULL;
                long lifetime = 0;

                assert_int_equal(es_token_response_parse(cases[i].body, strlen(cases[i].body),
                                                         REALM, &token, &lifetime, &err),
                                 0);
                assert_string_equal(token, cases[i].token);
                assert_int_equal(lifetime, cases[i].lifetime);
                free(token);
        }
}

static void test_token_invalid(void **state)
{
        static const struct invalid_case cases[] = {
            {"", "is not a JSON object"},
            {"[\"token\"]", "is not a JSON object"},
            {"<html>502</html>", "is not a JSON object"},
            {"{\"token\":\"abc\"", "is not a JSON object"},
            {"{\"token\":\"a\\u0000b\"}", "is not a JSON object"},
            {"{}", "holds no usable token"},
            {"{\"token\":42}", "holds no usable token"},
            {"{\"token\":\"\"}", "holds no usable token"},
            {"{\"token\":\"has space\"}", "holds no usable token"},
            {"{\"token\":\"line\\nbreak\"}", "holds no usable token"},
            {"{\"token\":\"caf\\u00e9\"}", "holds no usable token"},
            {"{\"details\":\"incorrect username or password\"}", "holds no usable token"},
        };

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct es_error err = ES_ERROR_INIT;
                char *token = NULL;
                long lifetime = -1;

                assert_int_equal(es_token_response_parse(cases[i].body, strlen(cases[i].body),
                                                         REALM, &token, &lifetime, &err),
                                 -ES_ERR_PROTOCOL);
                assert_null(token);
                assert_int_equal(lifetime, -1);
                assert_non_null(strstr(err.message, cases[i].message));
                assert_non_null(strstr(err.message, REALM));
                es_error_release(&err);
        }
}

static void test_token_too_long(void **state)
{
        static char body[ES_TOKEN_MAX_LENGTH + 64];
        static const char head[] = "{\"token\":\"";
        struct es_error err = ES_ERROR_INIT;
        size_t len = sizeof(head) - 1;
        char *token = NULL;
        long lifetime = -1;

        (void)state;
        memcpy(body, head, len);
        memset(body + len, 'a', ES_TOKEN_MAX_LENGTH + 1);
        strcpy(body + len + ES_TOKEN_MAX_LENGTH + 1, "\"}");
        assert_int_equal(
            es_token_response_parse(body, strlen(body), REALM, &token, &lifetime, &err),
            -ES_ERR_PROTOCOL);
        assert_null(token);
        es_error_release(&err);

        /* One byte shorter is the longest accepted. */
        strcpy(body + len + ES_TOKEN_MAX_LENGTH, "\"}");
        assert_int_equal(
            es_token_response_parse(body, strlen(body), REALM, &token, &lifetime, &err), 0);
        assert_int_equal(strlen(token), ES_TOKEN_MAX_LENGTH);
        free(token);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_token_valid),
            cmocka_unit_test(test_token_invalid),
            cmocka_unit_test(test_token_too_long),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
