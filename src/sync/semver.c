/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Semantic versions in tags and node-semver ranges. A range is parsed into
 * OR-ed sets of AND-ed primitive comparators (<, <=, >, >=, =) against full
 * versions, so wildcards, tilde, caret and hyphen ranges are rewritten once at
 * parse time and matching only compares versions.
 */
#include "sync/semver.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"

#define VERSION_PARTS 3

/* The problem that stopped a scan. It is recorded without allocating, so that
 * es_semver_parse_tag() can fail without touching the heap. */
enum scan_problem {
        PROBLEM_NONE,
        PROBLEM_UNEXPECTED,          /* a character, or the end, where `expected` was due */
        PROBLEM_LEADING_ZERO,        /* numeric part or identifier such as "01" */
        PROBLEM_TOO_LARGE,           /* numeric part above UINT64_MAX */
        PROBLEM_WILDCARD_PRERELEASE, /* 1.2.x-beta */
};

struct scan {
        const char *text;
        size_t len;
        size_t pos;

        enum scan_problem problem;
        size_t problem_pos;   /* 0-based offset into text */
        size_t problem_len;   /* length of the offending number */
        const char *expected; /* for PROBLEM_UNEXPECTED at the end of the text */
};

/* A version as written in a range: some numeric parts, then wildcards or nothing. */
struct partial {
        uint64_t parts[VERSION_PARTS]; /* 0 beyond n_numbers */
        unsigned n_numbers;            /* numeric parts before the first wildcard */
        bool has_wildcard;
        const char *prerelease; /* points into the text, without the '-'; NULL when none */
        size_t prerelease_len;
};

enum comparator_op {
        OP_LT,
        OP_LE,
        OP_GT,
        OP_GE,
        OP_EQ,
};

struct comparator {
        enum comparator_op op;
        struct es_semver version;
};

struct comparator_set {
        struct comparator *items;
        size_t n;
        size_t alloc;
};

struct es_semver_range {
        struct comparator_set *sets;
        size_t n_sets;
        size_t alloc;
};

/* The kinds of simple item in a range, before rewriting into comparators. */
enum item_kind {
        ITEM_BARE,
        ITEM_EQ,
        ITEM_LT,
        ITEM_LE,
        ITEM_GT,
        ITEM_GE,
        ITEM_TILDE,
        ITEM_CARET,
};

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_identifier_char(char c)
{
        return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

static bool is_wildcard(char c)
{
        return c == 'x' || c == 'X' || c == '*';
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static char scan_peek(const struct scan *s)
{
        return s->pos < s->len ? s->text[s->pos] : '\0';
}

static bool scan_at_end(const struct scan *s)
{
        return s->pos >= s->len;
}

static bool scan_fail(struct scan *s, enum scan_problem problem, size_t pos, size_t len,
                      const char *expected)
{
        s->problem = problem;
        s->problem_pos = pos;
        s->problem_len = len;
        s->expected = expected;
        return false;
}

static bool scan_unexpected(struct scan *s, const char *expected)
{
        return scan_fail(s, PROBLEM_UNEXPECTED, s->pos, 1, expected);
}

static void scan_skip_space(struct scan *s)
{
        while (!scan_at_end(s) && is_space(s->text[s->pos]))
                s->pos++;
}

/* Read a numeric part at the cursor, which must be on a digit. */
static bool scan_number(struct scan *s, uint64_t *value)
{
        size_t start = s->pos;
        uint64_t n = 0;
        bool overflow = false;

        while (!scan_at_end(s) && is_digit(s->text[s->pos])) {
                unsigned digit = (unsigned)(s->text[s->pos] - '0');

                if (n > (UINT64_MAX - digit) / 10)
                        overflow = true;
                else
                        n = n * 10 + digit;
                s->pos++;
        }

        if (s->pos - start > 1 && s->text[start] == '0')
                return scan_fail(s, PROBLEM_LEADING_ZERO, start, s->pos - start, NULL);
        if (overflow)
                return scan_fail(s, PROBLEM_TOO_LARGE, start, s->pos - start, NULL);
        *value = n;
        return true;
}

/*
 * Read dot-separated identifiers of [0-9A-Za-z-]+. For a pre-release, numeric
 * identifiers must not have leading zeros; build metadata allows them.
 */
static bool scan_identifiers(struct scan *s, bool reject_leading_zeros, const char *expected)
{
        for (;;) {
                size_t start = s->pos;
                bool numeric = true;

                while (!scan_at_end(s) && is_identifier_char(s->text[s->pos])) {
                        if (!is_digit(s->text[s->pos]))
                                numeric = false;
                        s->pos++;
                }
                if (s->pos == start)
                        return scan_unexpected(s, expected);
                if (reject_leading_zeros && numeric && s->pos - start > 1 && s->text[start] == '0')
                        return scan_fail(s, PROBLEM_LEADING_ZERO, start, s->pos - start, NULL);

                if (scan_peek(s) != '.')
                        return true;
                s->pos++;
        }
}

/*
 * Read a version at the cursor: optional 'v' or 'V', up to three parts, then
 * an optional pre-release and build. With allow_wildcards, parts may be x, X
 * or *. With allow_short_qualifiers, a pre-release or build may follow fewer
 * than three parts (tags such as "1.25-alpine"). Stops at the first character
 * that cannot continue the version; the caller decides what may follow.
 */
static bool scan_version(struct scan *s, bool allow_wildcards, bool allow_short_qualifiers,
                         struct partial *out)
{
        struct partial p = {{0, 0, 0}, 0, false, NULL, 0};
        unsigned n_parts = 0;
        char c;

        c = scan_peek(s);
        if (c == 'v' || c == 'V')
                s->pos++;

        while (n_parts < VERSION_PARTS) {
                if (n_parts > 0) {
                        if (scan_peek(s) != '.')
                                break;
                        s->pos++;
                }

                c = scan_peek(s);
                if (allow_wildcards && is_wildcard(c)) {
                        s->pos++;
                        p.has_wildcard = true;
                } else if (is_digit(c)) {
                        uint64_t value;

                        if (!scan_number(s, &value))
                                return false;
                        /* 1.x.3 is read as 1.x, so numbers after a wildcard are ignored. */
                        if (!p.has_wildcard)
                                p.parts[p.n_numbers++] = value;
                } else {
                        return scan_unexpected(s, n_parts == 0 ? "a version" : "a number");
                }
                n_parts++;
        }

        c = scan_peek(s);
        if ((c == '-' || c == '+') && n_parts < VERSION_PARTS && !allow_short_qualifiers)
                return scan_unexpected(s, NULL);

        if (c == '-') {
                if (p.has_wildcard)
                        return scan_fail(s, PROBLEM_WILDCARD_PRERELEASE, s->pos, 1, NULL);
                s->pos++;
                p.prerelease = s->text + s->pos;
                if (!scan_identifiers(s, true, "a pre-release identifier"))
                        return false;
                p.prerelease_len = (size_t)(s->text + s->pos - p.prerelease);
        }
        if (scan_peek(s) == '+') {
                s->pos++;
                if (!scan_identifiers(s, false, "a build identifier"))
                        return false;
        }

        *out = p;
        return true;
}

/* Split "rc.1" into newly allocated identifiers. */
static void split_prerelease(const char *text, size_t len, struct es_semver *v)
{
        size_t n = 1, start = 0, k = 0;

        if (text == NULL || len == 0) {
                v->prerelease = NULL;
                v->n_prerelease = 0;
                return;
        }

        for (size_t i = 0; i < len; i++)
                if (text[i] == '.')
                        n++;

        v->prerelease = es_calloc(n, sizeof(*v->prerelease));
        for (size_t i = 0; i <= len; i++) {
                if (i == len || text[i] == '.') {
                        v->prerelease[k++] = es_strndup(text + start, i - start);
                        start = i + 1;
                }
        }
        v->n_prerelease = n;
}

bool es_semver_parse_tag(const char *tag, struct es_semver *out)
{
        struct scan s = {tag, 0, 0, PROBLEM_NONE, 0, 0, NULL};
        struct partial p;

        assert(tag != NULL);
        assert(out != NULL);

        s.len = strlen(tag);
        if (!scan_version(&s, false, true, &p) || !scan_at_end(&s))
                return false;

        out->major = p.parts[0];
        out->minor = p.parts[1];
        out->patch = p.parts[2];
        split_prerelease(p.prerelease, p.prerelease_len, out);
        return true;
}

static bool identifier_is_numeric(const char *id)
{
        if (*id == '\0')
                return false;
        for (; *id != '\0'; id++)
                if (!is_digit(*id))
                        return false;
        return true;
}

static int sign(int n)
{
        return (n > 0) - (n < 0);
}

static int compare_u64(uint64_t a, uint64_t b)
{
        return (a > b) - (a < b);
}

static int compare_identifiers(const char *a, const char *b)
{
        bool a_numeric = identifier_is_numeric(a);
        bool b_numeric = identifier_is_numeric(b);

        if (a_numeric && b_numeric) {
                /* Numeric identifiers may exceed uint64_t. Without leading zeros, the longer
                 * one is larger, and equal lengths compare like the numbers. */
                size_t a_len = strlen(a), b_len = strlen(b);

                if (a_len != b_len)
                        return a_len < b_len ? -1 : 1;
                return sign(strcmp(a, b));
        }
        if (a_numeric)
                return -1;
        if (b_numeric)
                return 1;
        return sign(strcmp(a, b));
}

int es_semver_compare(const struct es_semver *a, const struct es_semver *b)
{
        int r;

        if ((r = compare_u64(a->major, b->major)) != 0 ||
            (r = compare_u64(a->minor, b->minor)) != 0 ||
            (r = compare_u64(a->patch, b->patch)) != 0)
                return r;

        if (a->n_prerelease == 0 || b->n_prerelease == 0)
                return (a->n_prerelease == 0) - (b->n_prerelease == 0);

        for (size_t i = 0; i < a->n_prerelease && i < b->n_prerelease; i++) {
                r = compare_identifiers(a->prerelease[i], b->prerelease[i]);
                if (r != 0)
                        return r;
        }
        return compare_u64(a->n_prerelease, b->n_prerelease);
}

void es_semver_release(struct es_semver *v)
{
        if (v == NULL)
                return;
        for (size_t i = 0; i < v->n_prerelease; i++)
                free(v->prerelease[i]);
        free(v->prerelease);
        *v = (struct es_semver){0, 0, 0, NULL, 0};
}

static void comparator_set_release(struct comparator_set *set)
{
        for (size_t i = 0; i < set->n; i++)
                es_semver_release(&set->items[i].version);
        free(set->items);
}

void es_semver_range_free(struct es_semver_range *range)
{
        if (range == NULL)
                return;
        for (size_t i = 0; i < range->n_sets; i++)
                comparator_set_release(&range->sets[i]);
        free(range->sets);
        free(range);
}

ES_DEFINE_CLEANUP(struct es_semver_range *, es_semver_range_free)

static void add_comparator(struct comparator_set *set, enum comparator_op op,
                           const uint64_t parts[VERSION_PARTS], const char *prerelease,
                           size_t prerelease_len)
{
        struct comparator *c;

        if (set->n == set->alloc) {
                set->alloc = set->alloc ? set->alloc * 2 : 4;
                set->items = es_realloc(set->items, set->alloc * sizeof(*set->items));
        }
        c = &set->items[set->n++];
        c->op = op;
        c->version.major = parts[0];
        c->version.minor = parts[1];
        c->version.patch = parts[2];
        split_prerelease(prerelease, prerelease_len, &c->version);
}

/*
 * Raise part `index` by one and zero the parts after it, carrying into the
 * part before on overflow. Returns false when even the major version
 * overflows, which means no version lies above.
 */
static bool bump(const uint64_t parts[VERSION_PARTS], unsigned index, uint64_t out[VERSION_PARTS])
{
        for (unsigned i = 0; i < VERSION_PARTS; i++)
                out[i] = i < index ? parts[i] : 0;

        for (;;) {
                if (parts[index] < UINT64_MAX) {
                        out[index] = parts[index] + 1;
                        return true;
                }
                out[index] = 0;
                if (index == 0)
                        return false;
                index--;
        }
}

/* The "-0" pre-release marks an upper bound that excludes the pre-releases
 * of the bound itself: <2.0.0-0 rejects 2.0.0-beta. */
static const char LOWEST_PRERELEASE[] = "0";

/* Add "<BUMPED-0", the upper bound of a partial version raised at part `index`. */
static void add_upper_bound(struct comparator_set *set, const struct partial *p, unsigned index)
{
        uint64_t upper[VERSION_PARTS];

        /* Without a representable bound, every version is below it. */
        if (bump(p->parts, index, upper))
                add_comparator(set, OP_LT, upper, LOWEST_PRERELEASE, 1);
}

/* Add a comparator that no version satisfies. */
static void add_never(struct comparator_set *set)
{
        static const uint64_t zero[VERSION_PARTS] = {0, 0, 0};

        add_comparator(set, OP_LT, zero, LOWEST_PRERELEASE, 1);
}

/* Add ">=BASE", keeping the pre-release of a full version. */
static void add_lower_bound(struct comparator_set *set, const struct partial *p)
{
        add_comparator(set, OP_GE, p->parts, p->prerelease, p->prerelease_len);
}

static void add_exact(struct comparator_set *set, enum comparator_op op, const struct partial *p)
{
        add_comparator(set, op, p->parts, p->prerelease, p->prerelease_len);
}

/* Index of the part that a caret range's upper bound raises: the first non-zero
 * part, or the last part given when all given parts are zero (^0.0 is <0.1.0-0). */
static unsigned caret_index(const struct partial *p)
{
        if (p->n_numbers == 1 || p->parts[0] > 0)
                return 0;
        if (p->n_numbers == 2 || p->parts[1] > 0)
                return 1;
        return 2;
}

/* Rewrite one simple item into primitive comparators on full versions. */
static void add_item(struct comparator_set *set, enum item_kind kind, const struct partial *p)
{
        unsigned n = p->n_numbers;
        uint64_t raised[VERSION_PARTS];

        switch (kind) {
        case ITEM_BARE:
        case ITEM_EQ:
                if (n == VERSION_PARTS) {
                        add_exact(set, OP_EQ, p);
                } else if (n > 0) {
                        add_lower_bound(set, p);
                        add_upper_bound(set, p, n - 1);
                }
                break;
        case ITEM_GT:
                if (n == VERSION_PARTS)
                        add_exact(set, OP_GT, p);
                else if (n > 0 && bump(p->parts, n - 1, raised))
                        add_comparator(set, OP_GE, raised, NULL, 0);
                else
                        add_never(set);
                break;
        case ITEM_GE:
                if (n > 0)
                        add_lower_bound(set, p);
                break;
        case ITEM_LT:
                if (n == VERSION_PARTS)
                        add_exact(set, OP_LT, p);
                else if (n > 0)
                        add_comparator(set, OP_LT, p->parts, LOWEST_PRERELEASE, 1);
                else
                        add_never(set);
                break;
        case ITEM_LE:
                if (n == VERSION_PARTS)
                        add_exact(set, OP_LE, p);
                else if (n > 0)
                        add_upper_bound(set, p, n - 1);
                break;
        case ITEM_TILDE:
                if (n > 0) {
                        add_lower_bound(set, p);
                        add_upper_bound(set, p, n == 1 ? 0 : 1);
                }
                break;
        case ITEM_CARET:
                if (n > 0) {
                        add_lower_bound(set, p);
                        add_upper_bound(set, p, caret_index(p));
                }
                break;
        }
}

/* Add the comparators of a hyphen range "LOW - HIGH". */
static void add_hyphen(struct comparator_set *set, const struct partial *low,
                       const struct partial *high)
{
        if (low->n_numbers > 0)
                add_lower_bound(set, low);

        if (high->n_numbers == VERSION_PARTS)
                add_exact(set, OP_LE, high);
        else if (high->n_numbers > 0)
                add_upper_bound(set, high, high->n_numbers - 1);
}

/* True at "||". */
static bool scan_at_or(const struct scan *s)
{
        return s->pos + 1 < s->len && s->text[s->pos] == '|' && s->text[s->pos + 1] == '|';
}

/* True where an item may end: the end of the text, whitespace or "||". */
static bool scan_at_item_end(const struct scan *s)
{
        return scan_at_end(s) || is_space(s->text[s->pos]) || scan_at_or(s);
}

static enum item_kind scan_operator(struct scan *s)
{
        char c = scan_peek(s);
        char next = s->pos + 1 < s->len ? s->text[s->pos + 1] : '\0';

        switch (c) {
        case '<':
        case '>':
                s->pos += next == '=' ? 2 : 1;
                if (c == '<')
                        return next == '=' ? ITEM_LE : ITEM_LT;
                return next == '=' ? ITEM_GE : ITEM_GT;
        case '=':
                s->pos++;
                return ITEM_EQ;
        case '~':
                s->pos++;
                return ITEM_TILDE;
        case '^':
                s->pos++;
                return ITEM_CARET;
        default:
                return ITEM_BARE;
        }
}

/* Read an item's version and check that the item ends there. */
static bool scan_item_version(struct scan *s, struct partial *p)
{
        if (!scan_version(s, true, false, p))
                return false;
        if (!scan_at_item_end(s))
                return scan_unexpected(s, NULL);
        return true;
}

/*
 * After a bare first item, look for " - HIGH". When found, add the hyphen
 * range, read the set up to its end and set *is_hyphen. Otherwise leave the
 * cursor where it was. Returns false on a syntax error.
 */
static bool scan_hyphen(struct scan *s, struct comparator_set *set, const struct partial *low,
                        bool *is_hyphen)
{
        size_t start = s->pos;
        struct partial high;

        *is_hyphen = false;
        scan_skip_space(s);
        if (s->pos == start || scan_peek(s) != '-' || s->pos + 1 >= s->len ||
            !is_space(s->text[s->pos + 1])) {
                s->pos = start;
                return true;
        }
        s->pos++;
        scan_skip_space(s);

        if (scan_peek(s) == '=') {
                s->pos++;
                scan_skip_space(s);
        }
        if (!scan_item_version(s, &high))
                return false;

        scan_skip_space(s);
        if (!scan_at_end(s) && !scan_at_or(s))
                return scan_unexpected(s, NULL);

        add_hyphen(set, low, &high);
        *is_hyphen = true;
        return true;
}

/* Read one AND-set, up to the end of the text or the next "||". */
static bool scan_set(struct scan *s, struct comparator_set *set)
{
        bool first = true;

        for (;;) {
                enum item_kind kind;
                struct partial p;

                scan_skip_space(s);
                if (scan_at_end(s) || scan_at_or(s))
                        return true;

                kind = scan_operator(s);
                if (kind != ITEM_BARE)
                        scan_skip_space(s);
                if (!scan_item_version(s, &p))
                        return false;

                if (first && (kind == ITEM_BARE || kind == ITEM_EQ)) {
                        bool is_hyphen;

                        if (!scan_hyphen(s, set, &p, &is_hyphen))
                                return false;
                        if (is_hyphen)
                                return true;
                }

                add_item(set, kind, &p);
                first = false;
        }
}

/* Format a character for a message: itself when printable, else \xNN. */
static void describe_char(char c, char out[8])
{
        unsigned char u = (unsigned char)c;

        if (c == '"' || c == '\\')
                snprintf(out, 8, "\\%c", c);
        else if (u > 0x20 && u < 0x7f)
                snprintf(out, 8, "%c", c);
        else
                snprintf(out, 8, "\\x%02x", u);
}

static int range_error(const struct scan *s, struct es_error *err)
{
        size_t character = s->problem_pos + 1;
        char shown[8];

        switch (s->problem) {
        case PROBLEM_UNEXPECTED:
                if (s->problem_pos >= s->len)
                        return es_error_set(err, ES_ERR_INVALID,
                                            "invalid semver range \"%s\": expected %s at "
                                            "character %zu",
                                            s->text, s->expected ? s->expected : "more", character);
                describe_char(s->text[s->problem_pos], shown);
                return es_error_set(
                    err, ES_ERR_INVALID,
                    "invalid semver range \"%s\": unexpected \"%s\" at character %zu", s->text,
                    shown, character);
        case PROBLEM_LEADING_ZERO:
                return es_error_set(err, ES_ERR_INVALID,
                                    "invalid semver range \"%s\": leading zero in \"%.*s\" at "
                                    "character %zu",
                                    s->text, (int)s->problem_len, s->text + s->problem_pos,
                                    character);
        case PROBLEM_TOO_LARGE:
                return es_error_set(err, ES_ERR_INVALID,
                                    "invalid semver range \"%s\": number %.*s at character %zu is "
                                    "larger than %ju",
                                    s->text, (int)s->problem_len, s->text + s->problem_pos,
                                    character, (uintmax_t)UINT64_MAX);
        case PROBLEM_WILDCARD_PRERELEASE:
                return es_error_set(err, ES_ERR_INVALID,
                                    "invalid semver range \"%s\": pre-release on a wildcard "
                                    "version at character %zu",
                                    s->text, character);
        case PROBLEM_NONE:
                break;
        }
        assert(!"range_error() called without a problem");
        return -ES_ERR_INVALID;
}

static struct comparator_set *range_add_set(struct es_semver_range *range)
{
        if (range->n_sets == range->alloc) {
                range->alloc = range->alloc ? range->alloc * 2 : 2;
                range->sets = es_realloc(range->sets, range->alloc * sizeof(*range->sets));
        }
        range->sets[range->n_sets] = (struct comparator_set){NULL, 0, 0};
        return &range->sets[range->n_sets++];
}

int es_semver_range_parse(const char *text, struct es_semver_range **out, struct es_error *err)
{
        _cleanup_(es_semver_range_freep) struct es_semver_range *range = NULL;
        struct scan s = {text, 0, 0, PROBLEM_NONE, 0, 0, NULL};

        assert(text != NULL);
        assert(out != NULL);

        s.len = strlen(text);
        range = es_calloc(1, sizeof(*range));

        for (;;) {
                if (!scan_set(&s, range_add_set(range)))
                        return range_error(&s, err);
                /* scan_set() stops only at the end or at "||". */
                if (scan_at_end(&s))
                        break;
                s.pos += 2;
        }

        *out = TAKE_PTR(range);
        return 0;
}

static bool comparator_matches(const struct comparator *c, const struct es_semver *version)
{
        int r = es_semver_compare(version, &c->version);

        switch (c->op) {
        case OP_LT:
                return r < 0;
        case OP_LE:
                return r <= 0;
        case OP_GT:
                return r > 0;
        case OP_GE:
                return r >= 0;
        case OP_EQ:
                return r == 0;
        }
        return false;
}

static bool set_matches(const struct comparator_set *set, const struct es_semver *version)
{
        for (size_t i = 0; i < set->n; i++)
                if (!comparator_matches(&set->items[i], version))
                        return false;

        if (version->n_prerelease == 0)
                return true;

        /* A pre-release is let in only by a comparator that names a pre-release of the same
         * major.minor.patch, so ">1.2.3-alpha.3" does not select 3.4.5-alpha.9. */
        for (size_t i = 0; i < set->n; i++) {
                const struct es_semver *bound = &set->items[i].version;

                if (bound->n_prerelease > 0 && bound->major == version->major &&
                    bound->minor == version->minor && bound->patch == version->patch)
                        return true;
        }
        return false;
}

bool es_semver_range_matches(const struct es_semver_range *range, const struct es_semver *version)
{
        assert(range != NULL);
        assert(version != NULL);

        for (size_t i = 0; i < range->n_sets; i++)
                if (set_matches(&range->sets[i], version))
                        return true;
        return false;
}
