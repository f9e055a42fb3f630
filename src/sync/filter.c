/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tag filters: PCRE2 include and exclude patterns, a semver range and the
 * latest N versions, with a reason for every tag left out.
 */
#include "sync/filter.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "sync/semver.h"

/*
 * Bounds on one match, so that a pattern with nested quantifiers fails on a
 * tag instead of backtracking without end. Valid tags are at most 128
 * characters, and ordinary patterns stay far below these bounds. JIT code
 * counts against the match limit too, but pcre2api(3) says it ignores the
 * depth and heap limits, which bound only the interpreter.
 */
#define MATCH_LIMIT        1000000u
#define DEPTH_LIMIT        10000u
#define HEAP_LIMIT_KIB     16384u
#define PCRE2_MESSAGE_SIZE 256

struct pattern {
        char *text;
        pcre2_code *code;
};

struct es_tag_filter {
        struct pattern *include;
        size_t n_include;
        struct pattern *exclude;
        size_t n_exclude;
        char *semver_text; /* NULL without a semver filter */
        struct es_semver_range *semver;
        unsigned latest;
};

/* A tag and its version, for ranking. */
struct ranked_tag {
        const char *tag;
        const struct es_semver *version; /* NULL when the tag is not a version */
        size_t index;                    /* position in the input */
};

static void patterns_free(struct pattern *patterns, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(patterns[i].text);
                pcre2_code_free(patterns[i].code);
        }
        free(patterns);
}

void es_tag_filter_free(struct es_tag_filter *filter)
{
        if (filter == NULL)
                return;
        patterns_free(filter->include, filter->n_include);
        patterns_free(filter->exclude, filter->n_exclude);
        free(filter->semver_text);
        es_semver_range_free(filter->semver);
        free(filter);
}

ES_DEFINE_CLEANUP(struct es_tag_filter *, es_tag_filter_free)

static int compile_pattern(const char *text, struct pattern *out, struct es_error *err)
{
        PCRE2_UCHAR message[PCRE2_MESSAGE_SIZE];
        PCRE2_SIZE offset = 0;
        pcre2_code *code;
        int error_code = 0;

        code =
            pcre2_compile((PCRE2_SPTR)text, PCRE2_ZERO_TERMINATED, 0, &error_code, &offset, NULL);
        if (code == NULL) {
                pcre2_get_error_message(error_code, message, sizeof(message));
                return es_error_set(err, ES_ERR_INVALID,
                                    "invalid regular expression \"%s\": %s at offset %zu", text,
                                    (const char *)message, (size_t)offset);
        }

        /* JIT is only faster; where it is missing or fails, the interpreter runs the pattern. */
        (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);

        out->text = es_strdup(text);
        out->code = code;
        return 0;
}

/* Compile n patterns into *out. On failure the patterns compiled so far are freed. */
static int compile_patterns(const char *const *texts, size_t n, struct pattern **out,
                            struct es_error *err)
{
        struct pattern *patterns;
        int r;

        if (n == 0) {
                *out = NULL;
                return 0;
        }
        assert(texts != NULL);

        patterns = es_calloc(n, sizeof(*patterns));
        for (size_t i = 0; i < n; i++) {
                assert(texts[i] != NULL);
                r = compile_pattern(texts[i], &patterns[i], err);
                if (r < 0) {
                        patterns_free(patterns, i);
                        return r;
                }
        }
        *out = patterns;
        return 0;
}

int es_tag_filter_new(const struct es_tag_filter_spec *spec, struct es_tag_filter **out,
                      struct es_error *err)
{
        _cleanup_(es_tag_filter_freep) struct es_tag_filter *filter = NULL;
        int r;

        assert(spec != NULL);
        assert(out != NULL);

        filter = es_calloc(1, sizeof(*filter));
        filter->latest = spec->latest;

        r = compile_patterns(spec->include, spec->n_include, &filter->include, err);
        if (r < 0)
                return r;
        filter->n_include = spec->n_include;

        r = compile_patterns(spec->exclude, spec->n_exclude, &filter->exclude, err);
        if (r < 0)
                return r;
        filter->n_exclude = spec->n_exclude;

        if (spec->semver != NULL) {
                r = es_semver_range_parse(spec->semver, &filter->semver, err);
                if (r < 0)
                        return r;
                filter->semver_text = es_strdup(spec->semver);
        }

        *out = TAKE_PTR(filter);
        return 0;
}

/* Per-call PCRE2 state, so that one filter can be applied from several threads. */
struct match_state {
        pcre2_match_data *data;
        pcre2_match_context *context;
};

static void match_state_init(struct match_state *state)
{
        /* One ovector pair is enough: only whether a pattern matches counts. */
        state->data = pcre2_match_data_create(1, NULL);
        state->context = pcre2_match_context_create(NULL);
        if (state->data == NULL || state->context == NULL)
                abort();
        pcre2_set_match_limit(state->context, MATCH_LIMIT);
        pcre2_set_depth_limit(state->context, DEPTH_LIMIT);
        pcre2_set_heap_limit(state->context, HEAP_LIMIT_KIB);
}

static void match_state_release(struct match_state *state)
{
        pcre2_match_data_free(state->data);
        pcre2_match_context_free(state->context);
        state->data = NULL;
        state->context = NULL;
}

/* Search the tag for the pattern. Returns 1 on a match, 0 on none, or a negative error. */
static int pattern_search(const struct pattern *pattern, const char *tag, struct match_state *state,
                          struct es_error *err)
{
        PCRE2_UCHAR message[PCRE2_MESSAGE_SIZE];
        int rc;

        rc = pcre2_match(pattern->code, (PCRE2_SPTR)tag, strlen(tag), 0, 0, state->data,
                         state->context);
        if (rc >= 0)
                return 1;
        if (rc == PCRE2_ERROR_NOMATCH)
                return 0;

        pcre2_get_error_message(rc, message, sizeof(message));
        return es_error_set(err, ES_ERR_INVALID,
                            "regular expression \"%s\" failed on tag \"%s\": %s; simplify the "
                            "pattern",
                            pattern->text, tag, (const char *)message);
}

/*
 * Apply the include and exclude patterns to one tag. Returns 0 with *reason
 * NULL when the tag is kept or set to a new string when it is excluded, or a
 * negative error.
 */
static int decide_patterns(const struct es_tag_filter *filter, const char *tag,
                           struct match_state *state, char **reason, struct es_error *err)
{
        int r;

        *reason = NULL;

        if (filter->n_include > 0) {
                bool included = false;

                for (size_t i = 0; i < filter->n_include && !included; i++) {
                        r = pattern_search(&filter->include[i], tag, state, err);
                        if (r < 0)
                                return r;
                        included = r > 0;
                }
                if (!included) {
                        *reason = es_strdup("no include pattern matches");
                        return 0;
                }
        }

        for (size_t i = 0; i < filter->n_exclude; i++) {
                r = pattern_search(&filter->exclude[i], tag, state, err);
                if (r < 0)
                        return r;
                if (r > 0) {
                        *reason = es_asprintf("matches exclude '%s'", filter->exclude[i].text);
                        return 0;
                }
        }
        return 0;
}

/* Order for ranking: versions ascending, ties by tag bytes then input position, and
 * tags that are not versions after all versions, in input order. */
static int compare_oldest_first(const void *a, const void *b)
{
        const struct ranked_tag *x = a, *y = b;
        int r;

        if ((x->version == NULL) != (y->version == NULL))
                return x->version == NULL ? 1 : -1;
        if (x->version != NULL) {
                r = es_semver_compare(x->version, y->version);
                if (r != 0)
                        return r;
                r = strcmp(x->tag, y->tag);
                if (r != 0)
                        return r;
        }
        return (x->index > y->index) - (x->index < y->index);
}

/* Keep the latest N of the tags still kept; versions[i] is valid where is_version[i]. */
static void decide_latest(const struct es_tag_filter *filter, struct es_tag_decision *decisions,
                          const struct es_semver *versions, const bool *is_version, size_t n)
{
        _cleanup_free_ struct ranked_tag *ranked = NULL;
        size_t n_ranked = 0;

        ranked = es_calloc(n, sizeof(*ranked));
        for (size_t i = 0; i < n; i++) {
                if (!decisions[i].kept)
                        continue;
                if (!is_version[i]) {
                        /* Only reached without a semver filter, which excludes these itself. */
                        decisions[i].kept = false;
                        decisions[i].reason =
                            es_asprintf("not a version (latest %u needs versions)", filter->latest);
                        continue;
                }
                ranked[n_ranked++] = (struct ranked_tag){decisions[i].tag, &versions[i], i};
        }

        if (n_ranked <= filter->latest)
                return;

        qsort(ranked, n_ranked, sizeof(*ranked), compare_oldest_first);
        for (size_t k = 0; k < n_ranked - filter->latest; k++) {
                struct es_tag_decision *d = &decisions[ranked[k].index];

                d->kept = false;
                d->reason = es_asprintf("not among the latest %u", filter->latest);
        }
}

void es_tag_decisions_free(struct es_tag_decision *decisions, size_t n)
{
        if (decisions == NULL)
                return;
        for (size_t i = 0; i < n; i++)
                free(decisions[i].reason);
        free(decisions);
}

static void versions_free(struct es_semver *versions, size_t n)
{
        if (versions == NULL)
                return;
        for (size_t i = 0; i < n; i++)
                es_semver_release(&versions[i]);
        free(versions);
}

int es_tag_filter_apply(const struct es_tag_filter *filter, const char *const *tags, size_t n,
                        struct es_tag_decision **out, struct es_error *err)
{
        struct match_state state = {NULL, NULL};
        struct es_tag_decision *decisions = NULL;
        struct es_semver *versions = NULL;
        _cleanup_free_ bool *is_version = NULL;
        bool needs_versions;
        int r = 0;

        assert(filter != NULL);
        assert(out != NULL);
        needs_versions = filter->semver != NULL || filter->latest > 0;

        if (n == 0) {
                *out = NULL;
                return 0;
        }
        assert(tags != NULL);

        if (filter->n_include > 0 || filter->n_exclude > 0)
                match_state_init(&state);
        decisions = es_calloc(n, sizeof(*decisions));
        versions = es_calloc(n, sizeof(*versions));
        is_version = es_calloc(n, sizeof(*is_version));

        for (size_t i = 0; i < n; i++) {
                struct es_tag_decision *d = &decisions[i];

                assert(tags[i] != NULL);
                d->tag = tags[i];

                r = decide_patterns(filter, d->tag, &state, &d->reason, err);
                if (r < 0)
                        goto done;
                if (d->reason != NULL)
                        continue;

                if (needs_versions)
                        is_version[i] = es_semver_parse_tag(d->tag, &versions[i]);

                if (filter->semver != NULL && !is_version[i]) {
                        d->reason =
                            es_asprintf("not a version (semver filter '%s')", filter->semver_text);
                        continue;
                }
                if (filter->semver != NULL &&
                    !es_semver_range_matches(filter->semver, &versions[i])) {
                        d->reason = es_asprintf("outside semver range '%s'", filter->semver_text);
                        continue;
                }
                d->kept = true;
        }

        if (filter->latest > 0)
                decide_latest(filter, decisions, versions, is_version, n);

        *out = TAKE_PTR(decisions);

done:
        es_tag_decisions_free(decisions, n);
        versions_free(versions, n);
        match_state_release(&state);
        return r;
}

void es_tags_sort_oldest_first(const char **tags, size_t n)
{
        _cleanup_free_ struct ranked_tag *ranked = NULL;
        struct es_semver *versions = NULL;

        if (n < 2)
                return;
        assert(tags != NULL);

        versions = es_calloc(n, sizeof(*versions));
        ranked = es_calloc(n, sizeof(*ranked));
        for (size_t i = 0; i < n; i++) {
                bool is_version = es_semver_parse_tag(tags[i], &versions[i]);

                ranked[i] = (struct ranked_tag){tags[i], is_version ? &versions[i] : NULL, i};
        }

        qsort(ranked, n, sizeof(*ranked), compare_oldest_first);
        for (size_t i = 0; i < n; i++)
                tags[i] = ranked[i].tag;

        versions_free(versions, n);
}
