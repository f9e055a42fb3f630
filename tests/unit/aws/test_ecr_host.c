/* SPDX-License-Identifier: Apache-2.0 */
/* Recognising ECR registry host names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "aws/ecr_host.h"

struct host_case {
        const char *host;
        const char *account; /* NULL when not ECR */
        const char *region;
};

static const struct host_case cases[] = {
    {"123456789012.dkr.ecr.eu-west-1.amazonaws.com", "123456789012", "eu-west-1"},
    {"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "123456789012", "cn-north-1"},
    {"123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "123456789012", "us-east-1"},
    {"123456789012.dkr-ecr.us-west-2.on.aws", "123456789012", "us-west-2"},
    {"123456789012.dkr-ecr-fips.us-gov-west-1.on.aws", "123456789012", "us-gov-west-1"},
    {"123456789012.DKR.ECR.EU-WEST-1.AMAZONAWS.COM", "123456789012", "eu-west-1"},
    {"123456789012.dkr.ecr.eu-west-1.amazonaws.com:443", "123456789012", "eu-west-1"},
    {"12345678901.dkr.ecr.eu-west-1.amazonaws.com", NULL, NULL},
    {"1234567890123.dkr.ecr.eu-west-1.amazonaws.com", NULL, NULL},
    {"12345678901a.dkr.ecr.eu-west-1.amazonaws.com", NULL, NULL},
    {"123456789012.dkr.ecr..amazonaws.com", NULL, NULL},
    {"123456789012.dkr.ecr.eu-west-1.example.com", NULL, NULL},
    {"123456789012.dkr.ecr.eu.west.1.amazonaws.com", NULL, NULL},
    {"public.ecr.aws", NULL, NULL},
    {"docker.io", NULL, NULL},
    {"127.0.0.1:5000", NULL, NULL},
    {"", NULL, NULL},
};

static void test_host_cases(void **state)
{
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct es_ecr_host host;
                bool is_ecr = es_ecr_host_parse(cases[i].host, &host);

                print_message("host '%s'\n", cases[i].host);
                assert_int_equal(is_ecr, cases[i].account != NULL);
                if (!is_ecr)
                        continue;
                assert_string_equal(host.account, cases[i].account);
                assert_string_equal(host.region, cases[i].region);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_host_cases),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
