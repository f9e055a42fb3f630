/* SPDX-License-Identifier: Apache-2.0 */
/* Recognising ECR registries by host name. */
#include "aws/ecr_host.h"

#include <string.h>
#include <strings.h>

#include "aws/endpoint.h"

static const char *const prefixes[] = {".dkr.ecr.", ".dkr.ecr-fips.", ".dkr-ecr.",
                                       ".dkr-ecr-fips."};

static bool ends_with(const char *s, size_t len, const char *suffix, size_t *stem)
{
        size_t n = strlen(suffix);

        if (len <= n || strncasecmp(s + len - n, suffix, n) != 0)
                return false;
        *stem = len - n;
        return true;
}

bool es_ecr_host_parse(const char *registry, struct es_ecr_host *out)
{
        size_t len = strcspn(registry, ":"), region_end = 0, region_start;
        const char *prefix = NULL;
        bool dual_stack;

        for (int i = 0; i < 12; i++)
                if (registry[i] < '0' || registry[i] > '9')
                        return false;

        for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
                if (strncasecmp(registry + 12, prefixes[i], strlen(prefixes[i])) == 0)
                        prefix = prefixes[i];
        if (prefix == NULL)
                return false;
        dual_stack = strncmp(prefix, ".dkr-ecr", 8) == 0;

        if (dual_stack) {
                if (!ends_with(registry, len, ".on.aws", &region_end))
                        return false;
        } else if (!ends_with(registry, len, ".amazonaws.com", &region_end) &&
                   !ends_with(registry, len, ".amazonaws.com.cn", &region_end)) {
                return false;
        }

        region_start = 12 + strlen(prefix);
        if (region_end <= region_start || region_end - region_start >= sizeof(out->region))
                return false;
        memcpy(out->account, registry, 12);
        out->account[12] = '\0';
        memcpy(out->region, registry + region_start, region_end - region_start);
        out->region[region_end - region_start] = '\0';
        for (char *p = out->region; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
        return es_aws_region_is_valid(out->region) && strchr(out->region, '.') == NULL;
}
