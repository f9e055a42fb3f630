/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tag filters: which tags of a source repository a sync copies. Include and
 * exclude regular expressions (PCRE2), a node-semver range and "the latest N
 * versions" are applied in that order, and every tag gets a decision with the
 * reason it was left out, so that plans and reports can explain themselves.
 */
#ifndef ES_SYNC_FILTER_H
#define ES_SYNC_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

/* Selection criteria. All strings are borrowed only for the call to es_tag_filter_new(). */
struct es_tag_filter_spec {
        /* PCRE2 patterns, searched anywhere in the tag (anchor with ^ and $ to match the whole
         * tag). A tag is kept when it matches any include, or when there are none. */
        const char *const *include;
        size_t n_include;
        /* ... and when it matches no exclude. */
        const char *const *exclude;
        size_t n_exclude;
        /* NULL for no semver filter. Else a range as es_semver_range_parse() reads it, and tags
         * that are not versions (es_semver_parse_tag()) never match. */
        const char *semver;
        /* 0 for no limit. Else only the N newest, by version order, of the tags that the
         * other filters kept. */
        unsigned latest;
};

/*
 * A compiled filter. It keeps copies of the spec's strings, so the spec may go
 * away after es_tag_filter_new(). Applying it from several threads at once is
 * safe, because every call uses its own PCRE2 match data and match context.
 */
struct es_tag_filter;

/*
 * Compile a filter. Returns 0 and sets *out, to free with es_tag_filter_free().
 * On failure returns -ES_ERR_INVALID, leaves *out untouched, and err names the
 * pattern with PCRE2's message and offset, e.g.
 *   invalid regular expression "^7\.(": missing closing parenthesis at offset 5
 * or carries the message of es_semver_range_parse().
 */
int es_tag_filter_new(const struct es_tag_filter_spec *spec, struct es_tag_filter **out,
                      struct es_error *err);

/* Free the filter. Accepts NULL. */
void es_tag_filter_free(struct es_tag_filter *filter);

/* The decision on one tag. */
struct es_tag_decision {
        const char *tag; /* borrowed from the input array */
        bool kept;
        /* Owned; NULL when kept. Otherwise the first filter that excluded the tag:
         *   "no include pattern matches"
         *   "matches exclude '-rc'"
         *   "not a version (semver filter '>=7.50')"
         *   "outside semver range '>=7.50'"
         *   "not a version (latest 5 needs versions)"   (latest without semver)
         *   "not among the latest 5" */
        char *reason;
};

/*
 * Decide on every tag, in this order: include and exclude patterns, then the
 * semver range, then latest. Only tags that passed the earlier filters compete
 * for the latest N, ranked by es_semver_compare() and, between equal versions
 * such as "1.2" and "v1.2.0", by the bytes of the tag, so the result does not
 * depend on the input order. With latest set and no semver range, tags that
 * are not versions are excluded.
 *
 * Returns 0 and sets *out to n decisions in input order (NULL when n is 0), to
 * free with es_tag_decisions_free(). Returns -ES_ERR_INVALID when a pattern
 * hits PCRE2's match limit on a tag; *out is then untouched.
 */
int es_tag_filter_apply(const struct es_tag_filter *filter, const char *const *tags, size_t n,
                        struct es_tag_decision **out, struct es_error *err);

/* Free the reasons and the array. Accepts NULL. */
void es_tag_decisions_free(struct es_tag_decision *decisions, size_t n);

/*
 * Sort tags oldest first, in place: versions first, in ascending version order
 * (equal versions ordered by the bytes of the tag, then by input order), then
 * the tags that are not versions, in their input order. The order among
 * versions is the ranking that latest uses, reversed.
 */
void es_tags_sort_oldest_first(const char **tags, size_t n);

#endif
