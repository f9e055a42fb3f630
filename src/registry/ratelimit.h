/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pull rate limits as registries advertise them on manifest responses:
 *   ratelimit-limit: 100;w=21600
 *   ratelimit-remaining: 76;w=21600
 * (Docker Hub; the window w is in seconds). No headers means no limit. One
 * es_rate_limit is shared by every client of one registry in a run, since
 * the limit applies to the account or address, not to a repository.
 * Thread-safe.
 */
#ifndef ES_REGISTRY_RATELIMIT_H
#define ES_REGISTRY_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>

struct es_rate_limit {
        pthread_mutex_t lock;
        bool known;     /* a response carried the headers */
        long limit;     /* pulls per window */
        long remaining; /* pulls left, as of the latest response */
        long window;    /* seconds; 0 when not given */
};

void es_rate_limit_init(struct es_rate_limit *rate_limit);
void es_rate_limit_release(struct es_rate_limit *rate_limit);

/* Record the header values of one response (either may be NULL; both are needed). */
void es_rate_limit_update(struct es_rate_limit *rate_limit, const char *limit_header,
                          const char *remaining_header);

/* Copy the latest state; returns false when no response has carried the headers. */
bool es_rate_limit_get(struct es_rate_limit *rate_limit, long *limit, long *remaining,
                       long *window);

/*
 * Parse one header value, "COUNT" or "COUNT;w=SECONDS" with optional spaces.
 * Returns 0, or -1 when the value is malformed.
 */
int es_rate_limit_parse_header(const char *value, long *count, long *window);

#endif
