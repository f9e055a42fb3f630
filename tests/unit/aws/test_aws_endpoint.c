/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for aws/endpoint.c: public endpoints, partitions and environment overrides. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "aws/endpoint.h"
#include "base/cleanup.h"

static const char *const override_variables[] = {
    "AWS_ENDPOINT_URL",     "AWS_ENDPOINT_URL_ECR",
    "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL_SSO", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
};

static void clear_overrides(void)
{
        for (size_t i = 0; i < ES_ARRAY_SIZE(override_variables); i++)
                unsetenv(override_variables[i]);
}

static void set_environment(const char *name, const char *value)
{
        if (name != NULL)
                setenv(name, value, 1);
}

static void test_endpoint_urls(void **state)
{
        static const struct {
                const char *service;
                const char *region;
                const char *variable; /* set to value before the call, or NULL */
                const char *value;
                const char *second_variable;
                const char *second_value;
                const char *expected;
        } cases[] = {
            {"ecr", "eu-west-1", NULL, NULL, NULL, NULL, "https://api.ecr.eu-west-1.amazonaws.com"},
            {"sts", "us-east-1", NULL, NULL, NULL, NULL, "https://sts.us-east-1.amazonaws.com"},
            {"secretsmanager", "ap-south-1", NULL, NULL, NULL, NULL,
             "https://secretsmanager.ap-south-1.amazonaws.com"},
            {"sso", "eu-central-1", NULL, NULL, NULL, NULL,
             "https://portal.sso.eu-central-1.amazonaws.com"},
            {"ecr", "cn-north-1", NULL, NULL, NULL, NULL,
             "https://api.ecr.cn-north-1.amazonaws.com.cn"},
            {"sts", "cn-northwest-1", NULL, NULL, NULL, NULL,
             "https://sts.cn-northwest-1.amazonaws.com.cn"},
            {"sso", "cn-north-1", NULL, NULL, NULL, NULL,
             "https://portal.sso.cn-north-1.amazonaws.com.cn"},
            {"ecr", "us-gov-west-1", NULL, NULL, NULL, NULL,
             "https://api.ecr.us-gov-west-1.amazonaws.com"},
            {"ecr", "eu-west-1", "AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:5000", NULL, NULL,
             "http://127.0.0.1:5000"},
            {"sts", "eu-west-1", "AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5001/", NULL, NULL,
             "http://127.0.0.1:5001"},
            {"secretsmanager", "eu-west-1", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
             "http://[::1]:7/sm//", NULL, NULL, "http://[::1]:7/sm"},
            {"sso", "eu-west-1", "AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:5002", NULL, NULL,
             "http://127.0.0.1:5002"},
            {"sts", "eu-west-1", "AWS_ENDPOINT_URL", "http://127.0.0.1:6000", NULL, NULL,
             "http://127.0.0.1:6000"},
            /* The service's own variable wins over the global one. */
            {"sts", "eu-west-1", "AWS_ENDPOINT_URL", "http://127.0.0.1:6000",
             "AWS_ENDPOINT_URL_STS", "http://127.0.0.1:6001", "http://127.0.0.1:6001"},
            /* Another service's variable does not apply. */
            {"ecr", "eu-west-1", "AWS_ENDPOINT_URL_STS", "http://127.0.0.1:6001", NULL, NULL,
             "https://api.ecr.eu-west-1.amazonaws.com"},
            /* An empty value counts as unset. */
            {"ecr", "eu-west-1", "AWS_ENDPOINT_URL_ECR", "", NULL, NULL,
             "https://api.ecr.eu-west-1.amazonaws.com"},
            {"ecr", "eu-west-1", "AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:5000",
             "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE",
             "https://api.ecr.eu-west-1.amazonaws.com"},
            {"ecr", "eu-west-1", "AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:5000",
             "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false", "http://127.0.0.1:5000"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *url = NULL;

                clear_overrides();
                set_environment(cases[i].variable, cases[i].value);
                set_environment(cases[i].second_variable, cases[i].second_value);
                url = es_aws_endpoint_url(cases[i].service, cases[i].region);
                if (url == NULL || strcmp(url, cases[i].expected) != 0)
                        print_error("case %zu: %s in %s: expected '%s', got '%s'\n", i,
                                    cases[i].service, cases[i].region, cases[i].expected,
                                    url ? url : "(null)");
                assert_non_null(url);
                assert_string_equal(url, cases[i].expected);
        }
        clear_overrides();
}

static void test_endpoint_rejects_bad_region(void **state)
{
        static const char *const regions[] = {
            "",    "EU-WEST-1", "eu-west-1.evil.com", "eu west 1",  "eu-west-1/",
            "-eu", "eu-",       "eu_west_1",          "eu-west-1#",
        };

        clear_overrides();
        for (size_t i = 0; i < ES_ARRAY_SIZE(regions); i++) {
                char *url = es_aws_endpoint_url("ecr", regions[i]);

                if (url != NULL)
                        print_error("region '%s' gave '%s'\n", regions[i], url);
                assert_null(url);
                assert_false(es_aws_region_is_valid(regions[i]));
        }
        /* Even an override does not accept a bad region. */
        setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);
        assert_null(es_aws_endpoint_url("sts", "bad/region"));
        assert_false(es_aws_region_is_valid(NULL));
        assert_true(es_aws_region_is_valid("ap-southeast-2"));
        clear_overrides();
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_endpoint_urls),
            cmocka_unit_test(test_endpoint_rejects_bad_region),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
