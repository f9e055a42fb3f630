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
 * in *out (caller frees). Only http and https results are accepted.
 */
int es_url_resolve(const char *base, const char *ref, char **out, struct es_error *err);

/*
 * Return url with "name=value" added to its query, with '?' or '&' as
 * needed and value percent-encoded. Caller frees.
 */
char *es_url_append_query(const char *url, const char *name, const char *value);

/* True when both URLs have the same scheme, host and port (default ports filled in). */
bool es_url_same_origin(const char *a, const char *b);

#endif
