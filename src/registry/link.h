/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Link header parsing (RFC 8288) for tags/list pagination:
 *   Link: </v2/nginx/tags/list?last=1.27&n=100>; rel="next"
 * A header may list several links separated by commas, and rel may hold
 * several space-separated relation types.
 */
#ifndef ES_REGISTRY_LINK_H
#define ES_REGISTRY_LINK_H

#include "base/error.h"

/*
 * Find the target of the first link whose rel includes "next" (relation types
 * compare case-insensitively). Sets *out to a new string the caller frees, or
 * NULL when there is none. The target is returned as written, often relative:
 * resolve it with es_url_resolve(). The whole header is checked, so a
 * malformed link anywhere, or an empty "next" target, returns ES_ERR_PROTOCOL
 * and leaves *out NULL.
 */
int es_link_find_next(const char *header, char **out, struct es_error *err);

#endif
