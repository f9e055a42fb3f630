/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Semantic versions read from image tags, and node-semver ranges that select
 * them. Precedence follows Semantic Versioning 2.0.0 (semver.org). Ranges
 * follow the grammar and the pre-release rule that node-semver's README
 * documents, without its includePrerelease and loose options.
 */
#ifndef ES_SYNC_SEMVER_H
#define ES_SYNC_SEMVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct es_semver {
        uint64_t major, minor, patch;
        char **prerelease;   /* identifiers, e.g. {"rc", "1"}; owned, NULL when none */
        size_t n_prerelease; /* 0 for a release */
};

/*
 * Read a tag as a version: an optional 'v' or 'V' prefix, 1 to 3 numeric
 * parts (1.25 is 1.25.0, 7 is 7.0.0), an optional -PRERELEASE of
 * dot-separated identifiers and an optional +BUILD, which is ignored. Numeric
 * parts and numeric pre-release identifiers with leading zeros are rejected as
 * in semver 2.0, and so are numeric parts above UINT64_MAX. Identifiers are
 * [0-9A-Za-z-]+. A pre-release may follow a short version, so "1.25-alpine"
 * is 1.25.0-alpine.
 *
 * Returns true and fills *out when the tag is a version; release it with
 * es_semver_release(). Returns false otherwise, without allocating and without
 * writing *out.
 */
bool es_semver_parse_tag(const char *tag, struct es_semver *out);

/*
 * Compare by semver 2.0 precedence. Major, minor and patch compare
 * numerically, and a release is above any of its pre-releases. Pre-release
 * identifiers compare left to right: numeric ones numerically and below
 * alphanumeric ones, which compare in ASCII order. A shorter list of
 * identifiers is below a longer one that starts with it. Returns a negative
 * number, 0 or a positive number as a is lower than, equal to or higher than
 * b. Build metadata is not stored, so it never counts.
 */
int es_semver_compare(const struct es_semver *a, const struct es_semver *b);

/* Free the pre-release identifiers and reset *v to 0.0.0. Accepts NULL. */
void es_semver_release(struct es_semver *v);

/* A parsed range: a list of OR-ed sets of AND-ed comparators. Opaque. */
struct es_semver_range;

/*
 * Parse a node-semver range. Upper bounds written below with "-0" exclude the
 * pre-releases of the bound, so ^1.2.3 never matches 2.0.0-beta. node-semver's
 * README writes them without "-0". The two differ only when another comparator
 * of the same set has a pre-release of the bound, as in "^1.2.3 >=2.0.0-alpha".
 *   - comparators <, <=, >, >=, = and bare versions (=1.2.3 and 1.2.3 are exact);
 *   - partial versions with x, X or * wildcards: 1.x and 1 are >=1.0.0 <2.0.0-0,
 *     1.2.* and 1.2 are >=1.2.0 <1.3.0-0, and *, x and the empty range match
 *     any release; <1.2 is <1.2.0-0, <=1.2 is <1.3.0-0, >1.2 is >=1.3.0;
 *   - hyphen ranges "A - B" with spaces around the '-': 1.2 - 2.3.4 is
 *     >=1.2.0 <=2.3.4, and 1.2.3 - 2.3 is >=1.2.3 <2.4.0-0;
 *   - tilde: ~1.2.3 and ~1.2 are <1.3.0-0 above their base, ~1 is >=1.0.0 <2.0.0-0;
 *   - caret: ^1.2.3 is >=1.2.3 <2.0.0-0, ^0.2.3 is >=0.2.3 <0.3.0-0, ^0.0.3 is
 *     >=0.0.3 <0.0.4-0, ^1.x is >=1.0.0 <2.0.0-0, ^0.x is >=0.0.0 <1.0.0-0;
 *   - comparators separated by whitespace form an AND-set, and "||" separates
 *     sets, any of which may match;
 *   - an optional 'v' or 'V' before each version, and whitespace between an
 *     operator and its version (">= 1.2").
 * A pre-release (-beta.2) is allowed only after three numeric parts, and not
 * with wildcards. Numeric parts after a wildcard count as wildcards, so 1.x.3
 * is 1.x. Build metadata is accepted and ignored.
 *
 * Pre-release versions match as in node-semver without includePrerelease: a
 * version with a pre-release matches an AND-set only when some comparator of
 * that set has the same major.minor.patch and a pre-release. So
 * ">1.2.3-alpha.3" matches 1.2.3-alpha.7 but not 3.4.5-alpha.9.
 *
 * Returns 0 and sets *out, to free with es_semver_range_free(). On failure
 * returns -ES_ERR_INVALID, leaves *out untouched, and err names the range, the
 * problem and its 1-based character position:
 *   invalid semver range ">=1.2 <<2": unexpected "<" at character 8
 */
int es_semver_range_parse(const char *text, struct es_semver_range **out, struct es_error *err);

/* True when version satisfies range. Safe to call from several threads at once. */
bool es_semver_range_matches(const struct es_semver_range *range, const struct es_semver *version);

/* Free the range. Accepts NULL. */
void es_semver_range_free(struct es_semver_range *range);

#endif
