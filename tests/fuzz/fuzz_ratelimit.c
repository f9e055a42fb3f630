/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the rate-limit headers (registry/ratelimit.c). Input: the
 * ratelimit-limit value on the first line and the ratelimit-remaining value
 * on the second. A value that parses must give a count and a window of at
 * least 0, because both are written as digits.
 */
#include "fuzz.h"
#include "registry/ratelimit.h"

static void parse(const char *value)
{
        long count = -1, window = -1;

        if (es_rate_limit_parse_header(value, &count, &window) == 0 && (count < 0 || window < 0))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_text(data, size);
        char *limit_header = NULL, *remaining_header = NULL;
        struct es_rate_limit rate_limit;
        long limit, remaining, window;
        const char *rest;

        rest = fuzz_split_line(text, &limit_header);
        (void)fuzz_split_line(rest, &remaining_header);

        parse(text);
        parse(limit_header);
        parse(remaining_header);

        es_rate_limit_init(&rate_limit);
        es_rate_limit_update(&rate_limit, limit_header, remaining_header);
        if (es_rate_limit_get(&rate_limit, &limit, &remaining, &window) &&
            (limit < 0 || remaining < 0 || window < 0))
                abort();
        es_rate_limit_release(&rate_limit);

        free(remaining_header);
        free(limit_header);
        free(text);
        return 0;
}
