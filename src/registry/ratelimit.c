/* SPDX-License-Identifier: Apache-2.0 */
/* Pull rate limits from ratelimit-limit and ratelimit-remaining headers. */
#include "registry/ratelimit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void es_rate_limit_init(struct es_rate_limit *rate_limit)
{
        memset(rate_limit, 0, sizeof(*rate_limit));
        pthread_mutex_init(&rate_limit->lock, NULL);
}

void es_rate_limit_release(struct es_rate_limit *rate_limit)
{
        pthread_mutex_destroy(&rate_limit->lock);
}

static const char *skip_spaces(const char *p)
{
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

int es_rate_limit_parse_header(const char *value, long *count, long *window)
{
        const char *p = skip_spaces(value);
        char *end;

        if (*p < '0' || *p > '9')
                return -1;
        errno = 0;
        *count = strtol(p, &end, 10);
        if (errno)
                return -1;
        *window = 0;
        p = skip_spaces(end);
        if (*p == '\0')
                return 0;
        if (*p != ';')
                return -1;
        p = skip_spaces(p + 1);
        if (strncasecmp(p, "w=", 2) != 0)
                return -1;
        p += 2;
        if (*p < '0' || *p > '9')
                return -1;
        *window = strtol(p, &end, 10);
        if (errno)
                return -1;
        p = skip_spaces(end);
        return *p == '\0' ? 0 : -1;
}

void es_rate_limit_update(struct es_rate_limit *rate_limit, const char *limit_header,
                          const char *remaining_header)
{
        long limit, remaining, window, ignored;

        if (limit_header == NULL || remaining_header == NULL)
                return;
        if (es_rate_limit_parse_header(limit_header, &limit, &window) < 0 ||
            es_rate_limit_parse_header(remaining_header, &remaining, &ignored) < 0)
                return;

        pthread_mutex_lock(&rate_limit->lock);
        rate_limit->known = true;
        rate_limit->limit = limit;
        rate_limit->remaining = remaining;
        rate_limit->window = window;
        pthread_mutex_unlock(&rate_limit->lock);
}

bool es_rate_limit_get(struct es_rate_limit *rate_limit, long *limit, long *remaining, long *window)
{
        bool known;

        pthread_mutex_lock(&rate_limit->lock);
        known = rate_limit->known;
        *limit = rate_limit->limit;
        *remaining = rate_limit->remaining;
        *window = rate_limit->window;
        pthread_mutex_unlock(&rate_limit->lock);
        return known;
}
