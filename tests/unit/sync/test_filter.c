/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for sync/filter.c: patterns, semver range, latest N, reasons and sorting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "sync/filter.h"

#define MAX_PATTERNS 4
#define MAX_TAGS     16

/* One filter applied to a list of tags, with the expected reason per tag (NULL: kept). */
struct filter_case {
        const char *name;
        const char *include[MAX_PATTERNS];
        const char *exclude[MAX_PATTERNS];
        const char *semver;
        unsigned latest;
        const char *tags[MAX_TAGS];
        const char *reasons[MAX_TAGS];
};

static size_t count_strings(const char *const *strings, size_t max)
{
        size_t n = 0;

        while (n < max && strings[n] != NULL)
                n++;
        return n;
}

static const struct filter_case filter_cases[] = {
    {
        .name = "no filters",
        .tags = {"latest", "1.2.3", "v7", "stable-alpine"},
        .reasons = {NULL, NULL, NULL, NULL},
    },
    {
        .name = "include only",
        .include = {"^7\\."},
        .tags = {"7.50.0", "6.1.0", "latest", "17.0.1"},
        .reasons = {NULL, "no include pattern matches", "no include pattern matches",
                    "no include pattern matches"},
    },
    {
        .name = "include searches anywhere",
        .include = {"alpine"},
        .tags = {"1.25-alpine", "alpine3.19", "1.25"},
        .reasons = {NULL, NULL, "no include pattern matches"},
    },
    {
        .name = "any include keeps",
        .include = {"^1\\.25", "^mainline$"},
        .tags = {"1.25.3", "mainline", "mainline-alpine", "1.24.0"},
        .reasons = {NULL, NULL, "no include pattern matches", "no include pattern matches"},
    },
    {
        .name = "exclude only",
        .exclude = {"-rc"},
        .tags = {"7.50.0", "7.51.0-rc.1", "latest"},
        .reasons = {NULL, "matches exclude '-rc'", NULL},
    },
    {
        .name = "first matching exclude named",
        .exclude = {"-rc", "-beta", "rc"},
        .tags = {"1.0.0-beta.rc", "1.0.0-rc.1", "1.0.0-beta", "1.0.0"},
        .reasons = {"matches exclude '-beta'", "matches exclude '-rc'", "matches exclude '-beta'",
                    NULL},
    },
    {
        .name = "include before exclude",
        .include = {"^7\\."},
        .exclude = {"-rc"},
        .tags = {"7.50.0", "7.50.0-rc.1", "6.0.0-rc.1", "latest"},
        .reasons = {NULL, "matches exclude '-rc'", "no include pattern matches",
                    "no include pattern matches"},
    },
    {
        .name = "semver with other tags",
        .semver = ">=7.50",
        .tags = {"7.50.0", "7.49.1", "latest", "7.51", "v7.52.1", "7.50.0-rc.1", "7.50.0-jmx",
                 "stable"},
        .reasons = {NULL, "outside semver range '>=7.50'", "not a version (semver filter '>=7.50')",
                    NULL, NULL, "outside semver range '>=7.50'", "outside semver range '>=7.50'",
                    "not a version (semver filter '>=7.50')"},
    },
    {
        .name = "empty semver range",
        .semver = "",
        .tags = {"1.0.0", "latest", "2.0.0-rc.1"},
        .reasons = {NULL, "not a version (semver filter '')", "outside semver range ''"},
    },
    {
        .name = "latest with semver",
        .semver = "^1.2",
        .latest = 2,
        .tags = {"1.2.0", "1.4.0", "1.10.0", "2.0.0", "1.3.5", "latest"},
        .reasons = {"not among the latest 2", NULL, NULL, "outside semver range '^1.2'",
                    "not among the latest 2", "not a version (semver filter '^1.2')"},
    },
    {
        .name = "latest without semver",
        .latest = 3,
        .tags = {"latest", "1.0.0", "2.0.0", "stable", "3.0.0-rc.1", "3.0.0", "0.9"},
        .reasons = {"not a version (latest 3 needs versions)", "not among the latest 3", NULL,
                    "not a version (latest 3 needs versions)", NULL, NULL,
                    "not among the latest 3"},
    },
    {
        .name = "latest above count",
        .latest = 5,
        .tags = {"1.0.0", "2.0.0"},
        .reasons = {NULL, NULL},
    },
    {
        .name = "latest counts kept tags only",
        .include = {"^7\\."},
        .exclude = {"-rc"},
        .semver = ">=7.50",
        .latest = 2,
        .tags = {"7.53.0-rc.1", "7.52.1", "7.51.0", "7.50.0", "8.0.0", "7.49.0", "latest"},
        .reasons = {"matches exclude '-rc'", NULL, NULL, "not among the latest 2",
                    "no include pattern matches", "outside semver range '>=7.50'",
                    "no include pattern matches"},
    },
    {
        .name = "latest ties by tag text",
        .latest = 1,
        .tags = {"v1.2.0", "1.2", "1.2.0+build"},
        .reasons = {NULL, "not among the latest 1", "not among the latest 1"},
    },
    {
        .name = "latest prefers releases",
        .latest = 1,
        .tags = {"2.0.0-rc.2", "2.0.0", "2.0.0-rc.10"},
        .reasons = {"not among the latest 1", NULL, "not among the latest 1"},
    },
};

static void check_case(const struct filter_case *c)
{
        struct es_tag_filter_spec spec = {
            .include = c->include,
            .n_include = count_strings(c->include, MAX_PATTERNS),
            .exclude = c->exclude,
            .n_exclude = count_strings(c->exclude, MAX_PATTERNS),
            .semver = c->semver,
            .latest = c->latest,
        };
        size_t n = count_strings(c->tags, MAX_TAGS);
        struct es_tag_filter *filter = NULL;
        struct es_tag_decision *decisions = NULL;
        struct es_error err = ES_ERROR_INIT;
        int r;

        r = es_tag_filter_new(&spec, &filter, &err);
        if (r != 0)
                print_error("case \"%s\": %s\n", c->name, es_error_message(&err));
        assert_int_equal(r, 0);

        r = es_tag_filter_apply(filter, c->tags, n, &decisions, &err);
        if (r != 0)
                print_error("case \"%s\": %s\n", c->name, es_error_message(&err));
        assert_int_equal(r, 0);
        assert_non_null(decisions);

        for (size_t i = 0; i < n; i++) {
                const struct es_tag_decision *d = &decisions[i];
                const char *expected = c->reasons[i];

                assert_ptr_equal(d->tag, c->tags[i]);
                if (d->kept != (expected == NULL) ||
                    (expected != NULL && (d->reason == NULL || strcmp(d->reason, expected) != 0)))
                        print_error("case \"%s\", tag \"%s\": expected %s, got %s\n", c->name,
                                    c->tags[i], expected ? expected : "kept",
                                    d->kept ? "kept" : (d->reason ? d->reason : "(no reason)"));
                assert_int_equal(d->kept, expected == NULL);
                if (expected == NULL)
                        assert_null(d->reason);
                else
                        assert_string_equal(d->reason, expected);
        }

        es_tag_decisions_free(decisions, n);
        es_tag_filter_free(filter);
        es_error_release(&err);
}

static void test_filter_table(void **state)
{
        (void)state;
        for (size_t i = 0; i < ES_ARRAY_SIZE(filter_cases); i++)
                check_case(&filter_cases[i]);
}

static void test_filter_spec_copied(void **state)
{
        char include[] = "^7\\.";
        char semver[] = ">=7.50";
        const char *includes[] = {include};
        const char *const tags[] = {"7.50.0", "6.0.0", "7.1.0"};
        struct es_tag_filter_spec spec = {includes, 1, NULL, 0, semver, 0};
        struct es_tag_filter *filter = NULL;
        struct es_tag_decision *decisions = NULL;
        struct es_error err = ES_ERROR_INIT;

        (void)state;
        assert_int_equal(es_tag_filter_new(&spec, &filter, &err), 0);

        /* The filter keeps its own copies, so changing the spec's strings has no effect. */
        memset(include, 'z', sizeof(include) - 1);
        memset(semver, 'z', sizeof(semver) - 1);

        assert_int_equal(es_tag_filter_apply(filter, tags, 3, &decisions, &err), 0);
        assert_true(decisions[0].kept);
        assert_string_equal(decisions[1].reason, "no include pattern matches");
        assert_string_equal(decisions[2].reason, "outside semver range '>=7.50'");

        es_tag_decisions_free(decisions, 3);
        es_tag_filter_free(filter);
}

static void test_filter_no_tags(void **state)
{
        struct es_tag_filter_spec spec = {NULL, 0, NULL, 0, NULL, 3};
        struct es_tag_filter *filter = NULL;
        struct es_tag_decision marker;
        struct es_tag_decision *decisions = &marker;
        struct es_error err = ES_ERROR_INIT;

        (void)state;
        assert_int_equal(es_tag_filter_new(&spec, &filter, &err), 0);
        assert_int_equal(es_tag_filter_apply(filter, NULL, 0, &decisions, &err), 0);
        assert_null(decisions);

        es_tag_decisions_free(NULL, 0);
        es_tag_filter_free(filter);
        es_tag_filter_free(NULL);
}

struct invalid_spec_case {
        const char *include;
        const char *exclude;
        const char *semver;
        const char *message;
};

static const struct invalid_spec_case invalid_spec_cases[] = {
    {"^7\\.(", NULL, NULL,
     "invalid regular expression \"^7\\.(\": missing closing parenthesis at offset 5"},
    {"^7", "[a-", NULL,
     "invalid regular expression \"[a-\": missing terminating ] for character class at "
     "offset 3"},
    {"*x", NULL, NULL,
     "invalid regular expression \"*x\": quantifier does not follow a repeatable item at "
     "offset 0"},
    {NULL, NULL, ">=1.2 <<2",
     "invalid semver range \">=1.2 <<2\": unexpected \"<\" at character 8"},
};

static void test_filter_invalid(void **state)
{
        (void)state;

        for (size_t i = 0; i < ES_ARRAY_SIZE(invalid_spec_cases); i++) {
                const struct invalid_spec_case *c = &invalid_spec_cases[i];
                const char *includes[] = {c->include};
                const char *excludes[] = {c->exclude};
                struct es_tag_filter_spec spec = {
                    includes, c->include ? 1 : 0, excludes, c->exclude ? 1 : 0, c->semver, 0,
                };
                struct es_tag_filter *untouched = (struct es_tag_filter *)&untouched;
                struct es_tag_filter *filter = untouched;
                struct es_error err = ES_ERROR_INIT;
                int r;

                r = es_tag_filter_new(&spec, &filter, &err);
                if (r != -ES_ERR_INVALID)
                        print_error("case %zu: expected -ES_ERR_INVALID, got %d\n", i, r);
                assert_int_equal(r, -ES_ERR_INVALID);
                assert_ptr_equal(filter, untouched);
                assert_string_equal(es_error_message(&err), c->message);
                es_error_release(&err);
        }
}

static double seconds_since(const struct timespec *start)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Apply a filter to one tag and check that the match limit stopped the pattern. */
static void check_match_limit(const struct es_tag_filter *filter, const char *pattern,
                              const char *tag)
{
        const char *const tags[] = {"1.0.0", tag};
        struct es_tag_decision marker;
        struct es_tag_decision *decisions = &marker;
        struct es_error err = ES_ERROR_INIT;
        _cleanup_free_ char *expected = NULL;
        struct timespec start;
        double elapsed;
        int r;

        clock_gettime(CLOCK_MONOTONIC, &start);
        r = es_tag_filter_apply(filter, tags, 2, &decisions, &err);
        elapsed = seconds_since(&start);

        if (r != -ES_ERR_INVALID)
                print_error("tag \"%s\": expected -ES_ERR_INVALID, got %d\n", tag, r);
        assert_int_equal(r, -ES_ERR_INVALID);
        assert_ptr_equal(decisions, &marker);
        expected = es_asprintf("regular expression \"%s\" failed on tag \"%s\": match limit "
                               "exceeded; simplify the pattern",
                               pattern, tag);
        assert_string_equal(es_error_message(&err), expected);
        if (elapsed >= 5.0)
                print_error("tag \"%s\": match took %.2f s\n", tag, elapsed);
        assert_true(elapsed < 5.0);

        es_error_release(&err);
}

static void test_filter_match_limit(void **state)
{
        /* Exponential backtracking: each 'a' can take either branch before "b$" fails. */
        const char *pattern = "^(a|a)*b$";
        const char *includes[] = {pattern};
        struct es_tag_filter_spec spec = {includes, 1, NULL, 0, NULL, 0};
        struct es_tag_filter *filter = NULL;
        struct es_error err = ES_ERROR_INIT;

        (void)state;
        assert_int_equal(es_tag_filter_new(&spec, &filter, &err), 0);

        /* PCRE2 10.42 finishes this tag within its default limit of 10,000,000, with JIT and
         * without, so only the filter's lower limit makes it fail. */
        check_match_limit(filter, pattern, "aaaaaaaaaaaaaaaaaaaab-");
        /* 2^42 paths would take hours; the limit stops them long before 5 seconds. */
        check_match_limit(filter, pattern, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab-");

        es_tag_filter_free(filter);
}

#define THREADS            4
#define APPLIES_PER_THREAD 200

static const char *const thread_tags[] = {"7.50.0", "7.51.0-rc.1", "7.52.1", "latest",
                                          "6.0.0",  "7.53.0",      "7.49.9"};

static void *apply_repeatedly(void *arg)
{
        const struct es_tag_filter *filter = arg;
        size_t n = ES_ARRAY_SIZE(thread_tags);

        for (int k = 0; k < APPLIES_PER_THREAD; k++) {
                struct es_tag_decision *decisions = NULL;
                bool expected[] = {false, false, true, false, false, true, false};

                if (es_tag_filter_apply(filter, thread_tags, n, &decisions, NULL) != 0)
                        return (void *)"apply failed";
                for (size_t i = 0; i < n; i++) {
                        if (decisions[i].kept != expected[i]) {
                                es_tag_decisions_free(decisions, n);
                                return (void *)"wrong decision";
                        }
                }
                es_tag_decisions_free(decisions, n);
        }
        return NULL;
}

static void test_filter_threads(void **state)
{
        const char *includes[] = {"^7\\."};
        const char *excludes[] = {"-rc"};
        struct es_tag_filter_spec spec = {includes, 1, excludes, 1, ">=7.50", 2};
        struct es_tag_filter *filter = NULL;
        pthread_t threads[THREADS];

        (void)state;
        assert_int_equal(es_tag_filter_new(&spec, &filter, NULL), 0);

        for (int i = 0; i < THREADS; i++)
                assert_int_equal(pthread_create(&threads[i], NULL, apply_repeatedly, filter), 0);
        for (int i = 0; i < THREADS; i++) {
                void *result = NULL;

                assert_int_equal(pthread_join(threads[i], &result), 0);
                if (result != NULL)
                        print_error("thread %d: %s\n", i, (const char *)result);
                assert_null(result);
        }

        es_tag_filter_free(filter);
}

struct sort_case {
        const char *name;
        const char *input[MAX_TAGS];
        const char *expected[MAX_TAGS];
};

static const struct sort_case sort_cases[] = {
    {
        "versions then others",
        {"latest", "1.10.0", "v1.2", "1.2.0", "1.9.0-rc.1", "stable", "1.9.0", "0.9"},
        {"0.9", "1.2.0", "v1.2", "1.9.0-rc.1", "1.9.0", "1.10.0", "latest", "stable"},
    },
    {
        "others keep input order",
        {"zeta", "alpha", "mainline", "beta"},
        {"zeta", "alpha", "mainline", "beta"},
    },
    {
        "duplicates stay stable",
        {"2.0", "1.0", "2.0", "1.0"},
        {"1.0", "1.0", "2.0", "2.0"},
    },
    {
        "pre-releases below release",
        {"1.0.0", "1.0.0-rc.1", "1.0.0-beta.11", "1.0.0-beta.2", "1.0.0-alpha"},
        {"1.0.0-alpha", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"},
    },
    {"one tag", {"latest"}, {"latest"}},
};

static void test_sort_oldest_first(void **state)
{
        (void)state;

        for (size_t i = 0; i < ES_ARRAY_SIZE(sort_cases); i++) {
                const struct sort_case *c = &sort_cases[i];
                size_t n = count_strings(c->input, MAX_TAGS);
                const char *tags[MAX_TAGS];

                memcpy(tags, c->input, n * sizeof(*tags));
                es_tags_sort_oldest_first(tags, n);

                for (size_t k = 0; k < n; k++) {
                        if (strcmp(tags[k], c->expected[k]) != 0)
                                print_error("case \"%s\", position %zu\n", c->name, k);
                        assert_string_equal(tags[k], c->expected[k]);
                }
        }

        /* Equal tags keep their input order, which shows in which pointer comes first. */
        {
                char a[] = "2.0", b[] = "2.0";
                const char *tags[] = {a, b};

                es_tags_sort_oldest_first(tags, 2);
                assert_ptr_equal(tags[0], a);
                assert_ptr_equal(tags[1], b);
        }

        es_tags_sort_oldest_first(NULL, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_filter_table),       cmocka_unit_test(test_filter_spec_copied),
            cmocka_unit_test(test_filter_no_tags),     cmocka_unit_test(test_filter_invalid),
            cmocka_unit_test(test_filter_match_limit), cmocka_unit_test(test_filter_threads),
            cmocka_unit_test(test_sort_oldest_first),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
