/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How often and how long transient failures (network errors, 5xx, 429,
 * throttling) are retried. Each layer retries only what it can replay
 * safely; this sets the bounds.
 */
#ifndef ES_BASE_RETRY_H
#define ES_BASE_RETRY_H

#include <stdbool.h>

struct es_retry_policy {
        int attempts;    /* tries in all, first one included; >= 1 */
        int max_seconds; /* no retry starts later than this after the first try */
};

#define ES_RETRY_DEFAULT_ATTEMPTS    4
#define ES_RETRY_DEFAULT_MAX_SECONDS 120
#define ES_RETRY_MAX_ATTEMPTS        20
#define ES_RETRY_MAX_SECONDS         3600

/* The defaults, for zero-initialised policies. */
static inline struct es_retry_policy es_retry_policy_or_default(const struct es_retry_policy *p)
{
        struct es_retry_policy policy = {ES_RETRY_DEFAULT_ATTEMPTS, ES_RETRY_DEFAULT_MAX_SECONDS};

        if (p && p->attempts > 0)
                policy.attempts = p->attempts;
        if (p && p->max_seconds > 0)
                policy.max_seconds = p->max_seconds;
        return policy;
}

/* True when try number attempt (0-based) may be followed by another after wait_ms. */
static inline bool es_retry_allowed(const struct es_retry_policy *policy, int attempt,
                                    double elapsed_seconds, long wait_ms)
{
        return attempt + 1 < policy->attempts &&
               elapsed_seconds + (double)wait_ms / 1000.0 <= (double)policy->max_seconds;
}

#endif
