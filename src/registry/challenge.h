/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WWW-Authenticate parsing (RFC 7235): one header value may hold several
 * challenges, each a scheme followed by comma-separated auth-params whose
 * values are tokens or quoted strings (which may contain commas and
 * backslash escapes). Several header lines are joined with ", " before
 * parsing.
 */
#ifndef ES_REGISTRY_CHALLENGE_H
#define ES_REGISTRY_CHALLENGE_H

#include <stddef.h>

#include "base/error.h"

struct es_challenge {
        char *scheme;  /* lowercased: "bearer", "basic", ... */
        char *realm;   /* NULL when absent; params are matched case-insensitively */
        char *service; /* NULL when absent */
        char *scope;   /* NULL when absent */
        char *error;   /* NULL when absent, e.g. "insufficient_scope" */
};

struct es_challenge_list {
        struct es_challenge *items; /* owned */
        size_t count;
};

/*
 * Parse a header value. Unknown schemes are kept and unknown params skipped;
 * neither fails the parse. Token68 credentials after a scheme are skipped.
 * Unquoted values run to the next comma or space, so a bare URL such as
 * realm=https://auth.example/token is read whole.
 * Only malformed syntax (an empty value, an unterminated quote, a param
 * without a scheme, a missing ',' between params, a value over 8 KiB, more
 * than 64 challenges) returns ES_ERR_PROTOCOL, and *out is then untouched.
 * When a param occurs twice in one challenge, the first value is kept.
 * Release *out with es_challenge_list_release().
 */
int es_challenge_parse(const char *header, struct es_challenge_list *out, struct es_error *err);

/* The first challenge with the given lowercase scheme, or NULL. */
const struct es_challenge *es_challenge_find(const struct es_challenge_list *list,
                                             const char *scheme);

void es_challenge_list_release(struct es_challenge_list *list);

#endif
