/* SPDX-License-Identifier: Apache-2.0 */
/* Local validation of ECR lifecycle policies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "aws/lifecycle.h"

/* A rule list padded with a description so every policy clears the 100-character minimum. */
#define POLICY(rules) "{\"rules\": [" rules "]}"
#define PAD           "\"description\": \"keep the mirror small; this text pads the policy to length\""

struct policy_case {
        const char *name;
        const char *text;
        const char *error; /* substring of the expected error, or NULL when valid */
};

static const struct policy_case cases[] = {
    {"count rule",
     POLICY("{\"rulePriority\": 1, " PAD ", \"selection\": {\"tagStatus\": \"untagged\", "
            "\"countType\": \"imageCountMoreThan\", \"countNumber\": 5}, \"action\": "
            "{\"type\": \"expire\"}}"),
     NULL},
    {"days rule with prefixes",
     POLICY("{\"rulePriority\": 1, " PAD ", \"selection\": {\"tagStatus\": \"tagged\", "
            "\"tagPrefixList\": [\"v1\"], \"countType\": \"sinceImagePushed\", "
            "\"countUnit\": \"days\", \"countNumber\": 30}, \"action\": {\"type\": "
            "\"expire\"}}"),
     NULL},
    {"any rule last",
     POLICY("{\"rulePriority\": 1, " PAD ", \"selection\": {\"tagStatus\": \"tagged\", "
            "\"tagPatternList\": [\"*-rc*\"], \"countType\": \"imageCountMoreThan\", "
            "\"countNumber\": 1}, \"action\": {\"type\": \"expire\"}}, {\"rulePriority\": "
            "10, \"selection\": {\"tagStatus\": \"any\", \"countType\": "
            "\"imageCountMoreThan\", \"countNumber\": 100}, \"action\": {\"type\": "
            "\"expire\"}}"),
     NULL},
    {"too short", "{\"rules\": []}", "has 13 characters"},
    {"not JSON", POLICY("{\"rulePriority\": 1, " PAD ",}") "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
     "invalid JSON"},
    {"any rule not last",
     POLICY("{\"rulePriority\": 5, " PAD ", \"selection\": {\"tagStatus\": \"any\", "
            "\"countType\": \"imageCountMoreThan\", \"countNumber\": 3}, \"action\": "
            "{\"type\": \"expire\"}}, {\"rulePriority\": 9, \"selection\": {\"tagStatus\": "
            "\"untagged\", \"countType\": \"imageCountMoreThan\", \"countNumber\": 1}, "
            "\"action\": {\"type\": \"expire\"}}"),
     "rules[0]: a rule with tagStatus \"any\" must have the highest rulePriority"},
    {"duplicate priority",
     POLICY("{\"rulePriority\": 2, " PAD ", \"selection\": {\"tagStatus\": \"untagged\", "
            "\"countType\": \"imageCountMoreThan\", \"countNumber\": 1}, \"action\": "
            "{\"type\": \"expire\"}}, {\"rulePriority\": 2, \"selection\": {\"tagStatus\": "
            "\"untagged\", \"countType\": \"imageCountMoreThan\", \"countNumber\": 2}, "
            "\"action\": {\"type\": \"expire\"}}"),
     "rules[1]: rulePriority: 2 is also the priority of rules[0]"},
    {"days without unit",
     POLICY("{\"rulePriority\": 1, " PAD ", \"selection\": {\"tagStatus\": \"untagged\", "
            "\"countType\": \"sinceImagePushed\", \"countNumber\": 7}, \"action\": "
            "{\"type\": \"expire\"}}"),
     "rules[0]: selection.countUnit: expected \"days\""},
    {"unit with count",
     POLICY("{\"rulePriority\": 1, " PAD ", \"selection\": {\"tagStatus\": \"untagged\", "
            "\"countType\": \"imageCountMoreThan\", \"countUnit\": \"days\", "
            "\"countNumber\": 7}, \"action\": {\"type\": \"expire\"}}"),
     "rules[0]: selection.countUnit: not allowed"},
    {"tagged without list",
     POLICY("{\"rulePriority\": 1, " PAD ", \"selection\": {\"tagStatus\": \"tagged\", "
            "\"countType\": \"imageCountMoreThan\", \"countNumber\": 7}, \"action\": "
            "{\"type\": \"expire\"}}"),
     "tagStatus \"tagged\" needs tagPrefixList or tagPatternList"},
    {"prefixes on untagged",
     POLICY("{\"rulePriority\": 1, " PAD ", \"selection\": {\"tagStatus\": \"untagged\", "
            "\"tagPrefixList\": [\"a\"], \"countType\": \"imageCountMoreThan\", "
            "\"countNumber\": 7}, \"action\": {\"type\": \"expire\"}}"),
     "tagPrefixList applies only to tagStatus \"tagged\""},
    {"five wildcards",
     POLICY("{\"rulePriority\": 1, " PAD ", \"selection\": {\"tagStatus\": \"tagged\", "
            "\"tagPatternList\": [\"*a*b*c*d*\"], \"countType\": \"imageCountMoreThan\", "
            "\"countNumber\": 7}, \"action\": {\"type\": \"expire\"}}"),
     "selection.tagPatternList[0]: '*a*b*c*d*' has more than 4 wildcards"},
    {"zero count",
     POLICY("{\"rulePriority\": 1, " PAD ", \"selection\": {\"tagStatus\": \"untagged\", "
            "\"countType\": \"imageCountMoreThan\", \"countNumber\": 0}, \"action\": "
            "{\"type\": \"expire\"}}"),
     "selection.countNumber: expected a whole number >= 1"},
    {"unknown field",
     POLICY("{\"rulePriority\": 1, " PAD ", \"selection\": {\"tagStatus\": \"untagged\", "
            "\"countType\": \"imageCountMoreThan\", \"countNumber\": 1, \"tagStatuss\": 1}, "
            "\"action\": {\"type\": \"expire\"}}"),
     "rules[0]: unknown field 'tagStatuss'"},
    {"wrong action",
     POLICY("{\"rulePriority\": 1, " PAD ", \"selection\": {\"tagStatus\": \"untagged\", "
            "\"countType\": \"imageCountMoreThan\", \"countNumber\": 1}, \"action\": "
            "{\"type\": \"delete\"}}"),
     "rules[0]: action: expected {\"type\": \"expire\"}"},
    {"priority zero",
     POLICY("{\"rulePriority\": 0, " PAD ", \"selection\": {\"tagStatus\": \"untagged\", "
            "\"countType\": \"imageCountMoreThan\", \"countNumber\": 1}, \"action\": "
            "{\"type\": \"expire\"}}"),
     "rules[0]: rulePriority: expected a whole number >= 1"},
    {"no rules",
     "{\"rules\": [], \"x\": \"padding padding padding padding padding padding "
     "padding padding padding padding padding\"}",
     "unknown field 'x'"},
};

static void test_policy_cases(void **state)
{
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct es_error err = ES_ERROR_INIT;
                int r = es_lifecycle_policy_validate(cases[i].text, &err);

                print_message("case '%s'\n", cases[i].name);
                if (cases[i].error == NULL) {
                        if (r < 0)
                                print_error("case '%s': unexpected error: %s\n", cases[i].name,
                                            es_error_message(&err));
                        assert_int_equal(r, 0);
                } else {
                        assert_int_equal(r, -ES_ERR_INVALID);
                        if (strstr(es_error_message(&err), cases[i].error) == NULL)
                                print_error("case '%s': expected '%s' in '%s'\n", cases[i].name,
                                            cases[i].error, es_error_message(&err));
                        assert_non_null(strstr(es_error_message(&err), cases[i].error));
                }
                es_error_release(&err);
        }
}

static void test_policy_too_long(void **state)
{
        static char text[ES_LIFECYCLE_POLICY_MAX_LENGTH + 2];
        struct es_error err = ES_ERROR_INIT;

        memset(text, ' ', sizeof(text) - 1);
        text[sizeof(text) - 1] = '\0';
        assert_int_equal(es_lifecycle_policy_validate(text, &err), -ES_ERR_INVALID);
        assert_non_null(strstr(es_error_message(&err), "has 30721 characters"));
        es_error_release(&err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_policy_cases),
            cmocka_unit_test(test_policy_too_long),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
