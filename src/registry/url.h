/* SPDX-License-Identifier: Apache-2.0 */
/*
 * URL helpers for registry responses: Location headers may be relative
 * ("/v2/x/blobs/uploads/uuid?_state=..."), absolute, or point at another
 * host, and may already carry a query string.
 */
#ifndef ES_REGISTRY_URL_H
#define ES_REGISTRY_URL_H

#include <stdbool.h>

#include "base/error.h"

/*
 * Resolve ref against base (RFC 3986 section 5) and return the absolute URL
 * in *out (caller frees), without any fragment. Only http and https results
 * are accepted. Returns ES_ERR_INVALID for a malformed base, and
 * ES_ERR_PROTOCOL for a malformed ref or another scheme. Messages show the
 * URLs without userinfo and query, because these may carry signatures.
 */
int es_url_resolve(const char *base, const char *ref, char **out, struct es_error *err);

/*
 * Return url with "name=value" added to its query, with '?' or '&' as
 * needed and name and value percent-encoded (all but RFC 3986 unreserved
 * characters). The rest of url is kept byte for byte, and a fragment stays
 * last. Caller frees.
 */
char *es_url_append_query(const char *url, const char *name, const char *value);

/*
 * True when both URLs have the same scheme, host (compared case-insensitively)
 * and port, with a scheme's default port (80, 443) filled in. False when
 * either is not a valid URL.
 */
bool es_url_same_origin(const char *a, const char *b);

#endif
