/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for sync/semver.c: tags as versions, precedence and node-semver ranges. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "sync/semver.h"

#define UINT64_MAX_TEXT "18446744073709551615"

struct tag_case {
        const char *tag;
        bool valid;
        uint64_t major, minor, patch;
        const char *prerelease; /* identifiers joined by '.', "" for none */
};

static const struct tag_case tag_cases[] = {
    {"1.2.3", true, 1, 2, 3, ""},
    {"0.0.0", true, 0, 0, 0, ""},
    {"v1.2.3", true, 1, 2, 3, ""},
    {"V1.2.3", true, 1, 2, 3, ""},
    {"1.25", true, 1, 25, 0, ""},
    {"v1.25", true, 1, 25, 0, ""},
    {"7", true, 7, 0, 0, ""},
    {"v7", true, 7, 0, 0, ""},
    {"10.20.30", true, 10, 20, 30, ""},
    {"1.2.3-rc.1", true, 1, 2, 3, "rc.1"},
    {"1.2.3-rc.1+build.5", true, 1, 2, 3, "rc.1"},
    {"1.2.3+build", true, 1, 2, 3, ""},
    {"1.2.3+001", true, 1, 2, 3, ""},
    {"1.2.3+exp.sha.5114f85", true, 1, 2, 3, ""},
    {"1.25-alpine", true, 1, 25, 0, "alpine"},
    {"7-bookworm", true, 7, 0, 0, "bookworm"},
    {"1.2+build", true, 1, 2, 0, ""},
    {"1.2.3-0", true, 1, 2, 3, "0"},
    {"1.2.3-0a", true, 1, 2, 3, "0a"},
    {"1.2.3-alpha-1", true, 1, 2, 3, "alpha-1"},
    {"1.2.3--", true, 1, 2, 3, "-"},
    {"1.0.0-alpha.beta.1", true, 1, 0, 0, "alpha.beta.1"},
    {"1.0.0-x.7.z.92", true, 1, 0, 0, "x.7.z.92"},
    {UINT64_MAX_TEXT ".0.0", true, UINT64_MAX, 0, 0, ""},
    {"1." UINT64_MAX_TEXT "." UINT64_MAX_TEXT, true, 1, UINT64_MAX, UINT64_MAX, ""},
    /* Numeric pre-release identifiers may exceed uint64_t: they stay text. */
    {"1.0.0-123456789012345678901234567890", true, 1, 0, 0, "123456789012345678901234567890"},

    {"latest", false, 0, 0, 0, NULL},
    {"stable-alpine", false, 0, 0, 0, NULL},
    {"1.2.3.4", false, 0, 0, 0, NULL},
    {"1..2", false, 0, 0, 0, NULL},
    {"1.2.", false, 0, 0, 0, NULL},
    {".1", false, 0, 0, 0, NULL},
    {"-1", false, 0, 0, 0, NULL},
    {"", false, 0, 0, 0, NULL},
    {"v", false, 0, 0, 0, NULL},
    {"vv1", false, 0, 0, 0, NULL},
    {"v 1", false, 0, 0, 0, NULL},
    {" 1.2.3", false, 0, 0, 0, NULL},
    {"1.2.3 ", false, 0, 0, 0, NULL},
    {"=1.2.3", false, 0, 0, 0, NULL},
    {"1.2.3-", false, 0, 0, 0, NULL},
    {"1.2.3+", false, 0, 0, 0, NULL},
    {"1.2.3-beta+", false, 0, 0, 0, NULL},
    {"1.2.3-beta..1", false, 0, 0, 0, NULL},
    {"1.2.3-rc.1.", false, 0, 0, 0, NULL},
    {"1.2.3+b..c", false, 0, 0, 0, NULL},
    {"1.2.3-beta_1", false, 0, 0, 0, NULL},
    {"1.2.3-\xc3\xa9", false, 0, 0, 0, NULL},
    {"01.2.3", false, 0, 0, 0, NULL},
    {"1.02.3", false, 0, 0, 0, NULL},
    {"1.2.03", false, 0, 0, 0, NULL},
    {"00", false, 0, 0, 0, NULL},
    {"1.2.3-01", false, 0, 0, 0, NULL},
    {"1.x", false, 0, 0, 0, NULL},
    {"*", false, 0, 0, 0, NULL},
    {"18446744073709551616", false, 0, 0, 0, NULL},
    {"1.18446744073709551616", false, 0, 0, 0, NULL},
    {"1.2.99999999999999999999999", false, 0, 0, 0, NULL},
};

/* Join the pre-release identifiers with '.' into a new string. */
static char *join_prerelease(const struct es_semver *v)
{
        struct es_buf buf = ES_BUF_INIT(0);

        for (size_t i = 0; i < v->n_prerelease; i++) {
                if (i > 0)
                        es_buf_puts(&buf, ".");
                es_buf_puts(&buf, v->prerelease[i]);
        }
        return es_buf_take(&buf);
}

static void test_parse_tag_table(void **state)
{
        (void)state;

        for (size_t i = 0; i < ES_ARRAY_SIZE(tag_cases); i++) {
                const struct tag_case *c = &tag_cases[i];
                char marker[] = "untouched";
                char *marker_list[] = {marker};
                struct es_semver v = {11, 22, 33, marker_list, 1};
                _cleanup_free_ char *prerelease = NULL;
                bool valid = es_semver_parse_tag(c->tag, &v);

                if (valid != c->valid)
                        print_error("tag \"%s\": expected %s, got %s\n", c->tag,
                                    c->valid ? "a version" : "not a version",
                                    valid ? "a version" : "not a version");
                assert_int_equal(valid, c->valid);

                if (!valid) {
                        /* A rejected tag leaves the output as it was. */
                        assert_int_equal(v.major, 11);
                        assert_int_equal(v.minor, 22);
                        assert_int_equal(v.patch, 33);
                        assert_ptr_equal(v.prerelease, marker_list);
                        assert_int_equal(v.n_prerelease, 1);
                        continue;
                }

                if (v.major != c->major || v.minor != c->minor || v.patch != c->patch)
                        print_error("tag \"%s\": expected %" PRIu64 ".%" PRIu64 ".%" PRIu64
                                    ", got %" PRIu64 ".%" PRIu64 ".%" PRIu64 "\n",
                                    c->tag, c->major, c->minor, c->patch, v.major, v.minor,
                                    v.patch);
                assert_true(v.major == c->major);
                assert_true(v.minor == c->minor);
                assert_true(v.patch == c->patch);

                prerelease = join_prerelease(&v);
                if (strcmp(prerelease, c->prerelease) != 0)
                        print_error("tag \"%s\": pre-release\n", c->tag);
                assert_string_equal(prerelease, c->prerelease);
                if (c->prerelease[0] == '\0')
                        assert_null(v.prerelease);

                es_semver_release(&v);
        }
}

static void test_release_resets(void **state)
{
        struct es_semver v;

        (void)state;
        assert_true(es_semver_parse_tag("1.2.3-rc.1", &v));
        assert_int_equal(v.n_prerelease, 2);

        es_semver_release(&v);
        assert_true(v.major == 0 && v.minor == 0 && v.patch == 0);
        assert_null(v.prerelease);
        assert_int_equal(v.n_prerelease, 0);

        /* Releasing twice and releasing NULL are harmless. */
        es_semver_release(&v);
        es_semver_release(NULL);
}

/* Compare two tags, which must both be versions. */
static int compare_tags(const char *a, const char *b)
{
        struct es_semver va, vb;
        int r;

        if (!es_semver_parse_tag(a, &va))
                fail_msg("test tag \"%s\" is not a version", a);
        if (!es_semver_parse_tag(b, &vb))
                fail_msg("test tag \"%s\" is not a version", b);
        r = es_semver_compare(&va, &vb);
        es_semver_release(&va);
        es_semver_release(&vb);
        return r;
}

/* Each list is in strictly ascending precedence. */
static const char *const semver_spec_order[] = {
    "1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
    "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",       "1.0.0",
};
static const char *const numeric_order[] = {
    "0.0.0",
    "0.0.1",
    "0.1.0",
    "0.9.9",
    "1.0.0",
    "1.9.0",
    "1.10.0",
    "1.11.0",
    "2.0.0",
    "2.1.0",
    "2.1.1",
    "10.0.0",
    UINT64_MAX_TEXT ".0.0",
};
static const char *const prerelease_order[] = {
    "1.0.0-0",
    "1.0.0-2",
    "1.0.0-10",
    "1.0.0-99999999999999999999999",
    "1.0.0-100000000000000000000000",
    "1.0.0-A",
    "1.0.0-Z",
    "1.0.0-a",
    "1.0.0-alpha",
    "1.0.0-alpha.0",
    "1.0.0-alpha.0.0",
    "1.0.0-alpha-1",
    "1.0.0",
    "1.0.1-0",
    "1.0.1",
};

static void check_ascending(const char *const *tags, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                for (size_t j = 0; j < n; j++) {
                        int r = compare_tags(tags[i], tags[j]);
                        int expected = (i > j) - (i < j);

                        if ((r > 0) - (r < 0) != expected)
                                print_error("compare(\"%s\", \"%s\"): expected %d, got %d\n",
                                            tags[i], tags[j], expected, r);
                        assert_int_equal((r > 0) - (r < 0), expected);
                }
        }
}

static void test_compare_semver_spec_order(void **state)
{
        (void)state;
        check_ascending(semver_spec_order, ES_ARRAY_SIZE(semver_spec_order));
}

static void test_compare_numeric_order(void **state)
{
        (void)state;
        check_ascending(numeric_order, ES_ARRAY_SIZE(numeric_order));
}

static void test_compare_prerelease_order(void **state)
{
        (void)state;
        check_ascending(prerelease_order, ES_ARRAY_SIZE(prerelease_order));
}

static void test_compare_equal_forms(void **state)
{
        static const char *const equal_pairs[][2] = {
            {"1.2", "1.2.0"},
            {"7", "7.0.0"},
            {"v1.2.3", "1.2.3"},
            {"1.2.3+build.1", "1.2.3+build.2"},
            {"V1.2-rc.1", "1.2.0-rc.1+meta"},
        };

        (void)state;
        for (size_t i = 0; i < ES_ARRAY_SIZE(equal_pairs); i++) {
                int r = compare_tags(equal_pairs[i][0], equal_pairs[i][1]);

                if (r != 0)
                        print_error("compare(\"%s\", \"%s\"): expected 0, got %d\n",
                                    equal_pairs[i][0], equal_pairs[i][1], r);
                assert_int_equal(r, 0);
        }
}

struct range_case {
        const char *range;
        const char *version;
        bool matches;
};

/* Cases written from node-semver's README: desugaring, wildcards and pre-release rules. */
static const struct range_case range_cases[] = {
    /* Primitive comparators and exact versions. */
    {"1.2.3", "1.2.3", true},
    {"1.2.3", "1.2.4", false},
    {"1.2.3", "1.2.3+build.9", true},
    {"1.2.3+build.7", "1.2.3", true},
    {"=1.2.3", "1.2.3", true},
    {"=1.2.3", "1.2.2", false},
    {"v1.2.3", "1.2.3", true},
    {"=v1.2.3", "1.2.3", true},
    {"V1.2.3", "1.2.3", true},
    {">1.2.3", "1.2.4", true},
    {">1.2.3", "1.2.3", false},
    {">=1.2.3", "1.2.3", true},
    {">=1.2.3", "1.2.2", false},
    {"<1.2.3", "1.2.2", true},
    {"<1.2.3", "1.2.3", false},
    {"<=1.2.3", "1.2.3", true},
    {"<=1.2.3", "1.2.4", false},
    {">= 1.2.3", "1.2.3", true},
    {"> v1.2.3", "1.2.4", true},
    {">=1.2.3 <2", "1.9.9", true},
    {">=1.2.3 <2", "2.0.0", false},
    {">=1.2.3 <2", "1.2.2", false},
    {"  >=1.2.3 \t <2  ", "1.5.0", true},
    {">1.0.0 <1.0.0", "1.0.0", false},
    {">=1.2.7 <1.3.0", "1.2.7", true},
    {">=1.2.7 <1.3.0", "1.2.8", true},
    {">=1.2.7 <1.3.0", "1.2.99", true},
    {">=1.2.7 <1.3.0", "1.2.6", false},
    {">=1.2.7 <1.3.0", "1.3.0", false},
    {">=1.2.7 <1.3.0", "1.1.0", false},
    {">=7.50", "7.50.0", true},
    {">=7.50", "7.51.2", true},
    {">=7.50", "7.49.9", false},
    {">=7.50 <7.52", "7.51.3", true},
    {">=7.50 <7.52", "7.52.0", false},

    /* X-ranges and partial versions. */
    {"*", "1.2.3", true},
    {"*", "0.0.0", true},
    {"", "1.2.3", true},
    {"   ", "1.2.3", true},
    {"x", "3.0.0", true},
    {"X", "3.0.0", true},
    {"1.x", "1.0.0", true},
    {"1.x", "1.9.9", true},
    {"1.x", "2.0.0", false},
    {"1.x", "0.9.9", false},
    {"1.X", "1.0.5", true},
    {"1.*", "1.7.0", true},
    {"1", "1.4.2", true},
    {"1", "2.0.0", false},
    {"1.2.x", "1.2.0", true},
    {"1.2.x", "1.2.99", true},
    {"1.2.x", "1.3.0", false},
    {"1.2.x", "1.1.9", false},
    {"1.2.*", "1.2.7", true},
    {"1.2", "1.2.7", true},
    {"1.2", "1.3.0", false},
    {"=1.2", "1.2.9", true},
    {"1.x.3", "1.5.0", true},
    {"1.x.x", "1.5.0", true},
    {">1", "1.9.9", false},
    {">1", "2.0.0", true},
    {">1.2", "1.2.9", false},
    {">1.2", "1.3.0", true},
    {">1.x", "2.0.0", true},
    {">1.x", "1.5.0", false},
    {">=1.2", "1.2.0", true},
    {">=1.2", "1.1.9", false},
    {">=1", "1.0.0", true},
    {"<1.2", "1.1.9", true},
    {"<1.2", "1.2.0", false},
    {"<1", "0.9.0", true},
    {"<1", "1.0.0", false},
    {"<=1.2", "1.2.9", true},
    {"<=1.2", "1.3.0", false},
    {"<=1", "1.9.9", true},
    {"<=1", "2.0.0", false},
    {">*", "0.0.0", false},
    {">*", "9.9.9", false},
    {"<*", "0.0.0", false},
    {">=*", "1.0.0", true},
    {"<=*", "5.0.0", true},
    {"=*", "5.0.0", true},

    /* Tilde. */
    {"~1.2.3", "1.2.3", true},
    {"~1.2.3", "1.2.9", true},
    {"~1.2.3", "1.3.0", false},
    {"~1.2.3", "1.2.2", false},
    {"~1.2", "1.2.0", true},
    {"~1.2", "1.2.9", true},
    {"~1.2", "1.3.0", false},
    {"~1", "1.0.0", true},
    {"~1", "1.9.9", true},
    {"~1", "2.0.0", false},
    {"~1.x", "1.5.0", true},
    {"~1.x", "2.0.0", false},
    {"~0.2.3", "0.2.5", true},
    {"~0.2.3", "0.3.0", false},
    {"~0.2", "0.2.0", true},
    {"~0.2", "0.3.0", false},
    {"~0", "0.9.9", true},
    {"~0", "1.0.0", false},
    {"~1.2.3-beta.2", "1.2.3-beta.4", true},
    {"~1.2.3-beta.2", "1.2.3-beta.1", false},
    {"~1.2.3-beta.2", "1.2.3", true},
    {"~1.2.3-beta.2", "1.2.9", true},
    {"~1.2.3-beta.2", "1.2.4-beta.2", false},
    {"~ 1.2", "1.2.5", true},
    {"~v1.2", "1.2.5", true},
    {"~*", "9.0.0", true},

    /* Caret. */
    {"^1.2.3", "1.2.3", true},
    {"^1.2.3", "1.9.9", true},
    {"^1.2.3", "2.0.0", false},
    {"^1.2.3", "1.2.2", false},
    {"^0.2.3", "0.2.3", true},
    {"^0.2.3", "0.2.9", true},
    {"^0.2.3", "0.3.0", false},
    {"^0.2.3", "0.2.2", false},
    {"^0.0.3", "0.0.3", true},
    {"^0.0.3", "0.0.4", false},
    {"^0.0.3", "0.0.2", false},
    {"^0.0.0", "0.0.0", true},
    {"^0.0.0", "0.0.1", false},
    {"^1.2.3-beta.2", "1.2.3-beta.4", true},
    {"^1.2.3-beta.2", "1.2.3-beta.1", false},
    {"^1.2.3-beta.2", "1.2.4-beta.2", false},
    {"^1.2.3-beta.2", "1.9.0", true},
    {"^1.2.3-beta.2", "2.0.0", false},
    /* The upper bound is <2.0.0-0, so no comparator lets 2.0.0's pre-releases in. */
    {"^1.2.3 >=2.0.0-alpha", "2.0.0-beta", false},
    {"^0.0.3-beta", "0.0.3-pr.2", true},
    {"^0.0.3-beta", "0.0.3", true},
    {"^0.0.3-beta", "0.0.4", false},
    {"^1.2.x", "1.2.0", true},
    {"^1.2.x", "1.9.0", true},
    {"^1.2.x", "2.0.0", false},
    {"^1.2.x", "1.1.9", false},
    {"^0.0.x", "0.0.5", true},
    {"^0.0.x", "0.1.0", false},
    {"^0.0", "0.0.9", true},
    {"^0.0", "0.1.0", false},
    {"^0.1", "0.1.5", true},
    {"^0.1", "0.2.0", false},
    {"^1.x", "1.0.0", true},
    {"^1.x", "1.9.9", true},
    {"^1.x", "2.0.0", false},
    {"^0.x", "0.0.0", true},
    {"^0.x", "0.9.9", true},
    {"^0.x", "1.0.0", false},
    {"^1", "1.5.0", true},
    {"^1", "2.0.0", false},
    {"^*", "3.0.0", true},
    {"^v1.2.3", "1.4.0", true},

    /* Hyphen ranges, with partial versions on either side. */
    {"1.2.3 - 2.3.4", "1.2.3", true},
    {"1.2.3 - 2.3.4", "2.3.4", true},
    {"1.2.3 - 2.3.4", "2.3.5", false},
    {"1.2.3 - 2.3.4", "1.2.2", false},
    {"1.2 - 2.3.4", "1.2.0", true},
    {"1.2 - 2.3.4", "1.1.9", false},
    {"1.2.3 - 2.3", "2.3.9", true},
    {"1.2.3 - 2.3", "2.4.0", false},
    {"1.2.3 - 2.3", "2.4.0-alpha", false},
    {"1.2.3 - 2", "2.9.9", true},
    {"1.2.3 - 2", "3.0.0", false},
    {"* - 2", "0.0.1", true},
    {"* - 2", "3.0.0", false},
    {"1.2.3 - *", "99.0.0", true},
    {"v1.2.3 - v2.3.4", "2.0.0", true},
    {"=1.2.3 - =2.3.4", "2.0.0", true},
    {"1.2.3\t-\t2.3.4", "2.0.0", true},
    {"1.2.3-pre - 2.0.0", "1.2.3-pre.1", true},
    {"1.2.3-pre - 2.0.0", "2.0.0-pre", false},

    /* OR-ed sets. */
    {"1.2.7 || >=1.2.9 <2.0.0", "1.2.7", true},
    {"1.2.7 || >=1.2.9 <2.0.0", "1.2.8", false},
    {"1.2.7 || >=1.2.9 <2.0.0", "1.2.9", true},
    {"1.2.7 || >=1.2.9 <2.0.0", "1.4.6", true},
    {"1.2.7 || >=1.2.9 <2.0.0", "2.0.0", false},
    {"<1.0.0 || >=2.0.0", "0.5.0", true},
    {"<1.0.0 || >=2.0.0", "1.5.0", false},
    {"<1.0.0 || >=2.0.0", "2.0.0", true},
    {"1.x||2.x", "2.3.0", true},
    {"1.x||2.x", "3.0.0", false},
    {"1.2.3 - 2.3.4 || 5.x", "5.1.0", true},
    {"1.2.3 - 2.3.4 || 5.x", "3.0.0", false},
    {"1.2.3 - 2.3.4 || 5.x", "2.0.0", true},
    /* An empty set between or after "||" matches any release, as in the grammar. */
    {"1.2.3 ||", "9.9.9", true},
    {"1.2.3 ||", "9.9.9-beta", false},

    /* Pre-releases need a comparator with a pre-release on the same major.minor.patch. */
    {">1.2.3-alpha.3", "1.2.3-alpha.7", true},
    {">1.2.3-alpha.3", "3.4.5-alpha.9", false},
    {">1.2.3-alpha.3", "3.4.5", true},
    {">1.2.3-alpha.3", "1.2.3-alpha.2", false},
    {">1.2.3-alpha.3", "1.2.3", true},
    {">=1.2.3-alpha.3 <2", "1.2.4-beta", false},
    {">=1.0.0-0", "1.0.0-alpha", true},
    {">=1.0.0-0", "1.1.0-alpha", false},
    {"*", "1.2.3-beta", false},
    {"", "1.0.0-rc.1", false},
    {"1.x", "1.2.3-beta", false},
    {"1.x", "2.0.0-alpha", false},
    {"<2", "2.0.0-alpha", false},
    {"<=1.2", "1.3.0-0", false},
    {"<1.2", "1.2.0-beta", false},
    {"<1.2.3", "1.2.3-beta", false},
    {"<1.2.3-rc.1", "1.2.3-beta", true},
    {">=7.50", "7.50.0-rc.1", false},
    {"1.2.3-beta.1", "1.2.3-beta.1", true},
    {"1.2.3-beta.1", "1.2.3-beta.2", false},
    {"<2.0.0-0 >1.0.0", "2.0.0-alpha", false},
    {">=1.2.3-alpha <1.2.3-beta || 2.x", "1.2.3-alpha.1", true},
    {">=1.2.3-alpha <1.2.3-beta || 2.x", "1.2.3-beta", false},
    {"1.2.3-alpha || 1.2.3-beta", "1.2.3-beta", true},
    {">0.0.0-0 <2 || >1.2.3-rc.0", "1.2.3-rc.1", true},

    /* Bounds that would overflow uint64_t. */
    {"<=" UINT64_MAX_TEXT, UINT64_MAX_TEXT ".7.0", true},
    {"<=" UINT64_MAX_TEXT, "1.0.0", true},
    {"^" UINT64_MAX_TEXT ".1", UINT64_MAX_TEXT ".9.0", true},
    {">" UINT64_MAX_TEXT, UINT64_MAX_TEXT ".5.0", false},
    {">1." UINT64_MAX_TEXT, "1.5.0", false},
    {">1." UINT64_MAX_TEXT, "2.0.0", true},
    {"=" UINT64_MAX_TEXT "." UINT64_MAX_TEXT "." UINT64_MAX_TEXT,
     UINT64_MAX_TEXT "." UINT64_MAX_TEXT "." UINT64_MAX_TEXT, true},
};

static void test_range_table(void **state)
{
        (void)state;

        for (size_t i = 0; i < ES_ARRAY_SIZE(range_cases); i++) {
                const struct range_case *c = &range_cases[i];
                struct es_semver_range *range = NULL;
                struct es_error err = ES_ERROR_INIT;
                struct es_semver version;
                bool matches;
                int r;

                r = es_semver_range_parse(c->range, &range, &err);
                if (r != 0)
                        print_error("range \"%s\": %s\n", c->range, es_error_message(&err));
                assert_int_equal(r, 0);
                if (!es_semver_parse_tag(c->version, &version))
                        fail_msg("test version \"%s\" is not a version", c->version);

                matches = es_semver_range_matches(range, &version);
                if (matches != c->matches)
                        print_error("range \"%s\", version \"%s\": expected %s, got %s\n", c->range,
                                    c->version, c->matches ? "match" : "no match",
                                    matches ? "match" : "no match");
                assert_int_equal(matches, c->matches);

                es_semver_release(&version);
                es_semver_range_free(range);
                es_error_release(&err);
        }
}

struct invalid_range_case {
        const char *range;
        const char *message;
};

static const struct invalid_range_case invalid_range_cases[] = {
    {">=1.2 <<2", "invalid semver range \">=1.2 <<2\": unexpected \"<\" at character 8"},
    {">=", "invalid semver range \">=\": expected a version at character 3"},
    {"=", "invalid semver range \"=\": expected a version at character 2"},
    {"latest", "invalid semver range \"latest\": unexpected \"l\" at character 1"},
    {"1.2.3.4", "invalid semver range \"1.2.3.4\": unexpected \".\" at character 6"},
    {"1..2", "invalid semver range \"1..2\": unexpected \".\" at character 3"},
    {"1.2.", "invalid semver range \"1.2.\": expected a number at character 5"},
    {"01.2.3", "invalid semver range \"01.2.3\": leading zero in \"01\" at character 1"},
    {"1.2.3-01", "invalid semver range \"1.2.3-01\": leading zero in \"01\" at character 7"},
    {"1.2.3-", "invalid semver range \"1.2.3-\": expected a pre-release identifier at "
               "character 7"},
    {"1.2.3-beta..1", "invalid semver range \"1.2.3-beta..1\": unexpected \".\" at "
                      "character 12"},
    {">=1.2.3+", "invalid semver range \">=1.2.3+\": expected a build identifier at "
                 "character 9"},
    {"1.2-beta", "invalid semver range \"1.2-beta\": unexpected \"-\" at character 4"},
    {"1.2+build", "invalid semver range \"1.2+build\": unexpected \"+\" at character 4"},
    {"1.2.x-beta", "invalid semver range \"1.2.x-beta\": pre-release on a wildcard version "
                   "at character 6"},
    {"1.2.3 -2", "invalid semver range \"1.2.3 -2\": unexpected \"-\" at character 7"},
    {"1.2.3 -", "invalid semver range \"1.2.3 -\": unexpected \"-\" at character 7"},
    {"1.2.3 - ", "invalid semver range \"1.2.3 - \": expected a version at character 9"},
    {"^1.2 - 2", "invalid semver range \"^1.2 - 2\": unexpected \"-\" at character 6"},
    {"1.2.3 - 2.3.4 5", "invalid semver range \"1.2.3 - 2.3.4 5\": unexpected \"5\" at "
                        "character 15"},
    {"1 - 2 - 3", "invalid semver range \"1 - 2 - 3\": unexpected \"-\" at character 7"},
    {"1 | 2", "invalid semver range \"1 | 2\": unexpected \"|\" at character 3"},
    {"1.2.3|", "invalid semver range \"1.2.3|\": unexpected \"|\" at character 6"},
    {"~>1.2", "invalid semver range \"~>1.2\": unexpected \">\" at character 2"},
    {">=x1", "invalid semver range \">=x1\": unexpected \"1\" at character 4"},
    {"1.2.3\x01", "invalid semver range \"1.2.3\x01\": unexpected \"\\x01\" at character 6"},
    {"1.\"", "invalid semver range \"1.\"\": unexpected \"\\\"\" at character 3"},
    {"99999999999999999999", "invalid semver range \"99999999999999999999\": number "
                             "99999999999999999999 at character 1 is larger than " UINT64_MAX_TEXT},
    {">=1.2 || <1.0 &&", "invalid semver range \">=1.2 || <1.0 &&\": unexpected \"&\" at "
                         "character 15"},
};

static void test_range_invalid(void **state)
{
        (void)state;

        for (size_t i = 0; i < ES_ARRAY_SIZE(invalid_range_cases); i++) {
                const struct invalid_range_case *c = &invalid_range_cases[i];
                struct es_semver_range *untouched = (struct es_semver_range *)&untouched;
                struct es_semver_range *range = untouched;
                struct es_error err = ES_ERROR_INIT;
                int r;

                r = es_semver_range_parse(c->range, &range, &err);
                if (r != -ES_ERR_INVALID)
                        print_error("range \"%s\": expected -ES_ERR_INVALID, got %d\n", c->range,
                                    r);
                assert_int_equal(r, -ES_ERR_INVALID);
                assert_int_equal(err.code, ES_ERR_INVALID);
                assert_ptr_equal(range, untouched);
                assert_string_equal(es_error_message(&err), c->message);
                es_error_release(&err);
        }
}

static void test_range_parse_without_error(void **state)
{
        struct es_semver_range *range = NULL;

        (void)state;
        /* err may be NULL: the code alone still reports the failure. */
        assert_int_equal(es_semver_range_parse(">=", &range, NULL), -ES_ERR_INVALID);
        assert_null(range);
        es_semver_range_free(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse_tag_table),
            cmocka_unit_test(test_release_resets),
            cmocka_unit_test(test_compare_semver_spec_order),
            cmocka_unit_test(test_compare_numeric_order),
            cmocka_unit_test(test_compare_prerelease_order),
            cmocka_unit_test(test_compare_equal_forms),
            cmocka_unit_test(test_range_table),
            cmocka_unit_test(test_range_invalid),
            cmocka_unit_test(test_range_parse_without_error),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
