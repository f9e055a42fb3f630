/* SPDX-License-Identifier: Apache-2.0 */
/* Service endpoints and their environment overrides. */
#include "aws/endpoint.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/log.h"

struct service {
        const char *name;     /* as callers pass it */
        const char *env_name; /* the service id in AWS_ENDPOINT_URL_<ID> */
        const char *host;     /* host name prefix before ".REGION" */
};

static const struct service services[] = {
    {"ecr", "AWS_ENDPOINT_URL_ECR", "api.ecr"},
    {"sts", "AWS_ENDPOINT_URL_STS", "sts"},
    {"secretsmanager", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "secretsmanager"},
    {"sso", "AWS_ENDPOINT_URL_SSO", "portal.sso"},
};

bool es_aws_region_is_valid(const char *region)
{
        size_t len;

        if (region == NULL)
                return false;
        len = strlen(region);
        if (len == 0 || len > 64 || region[0] == '-' || region[len - 1] == '-')
                return false;
        for (const char *p = region; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
                        return false;
        return true;
}

static char *without_trailing_slashes(const char *url)
{
        size_t len = strlen(url);

        while (len > 0 && url[len - 1] == '/')
                len--;
        return es_strndup(url, len);
}

char *es_aws_endpoint_url(const char *service_name, const char *region)
{
        const struct service *service = NULL;
        const char *ignore = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
        const char *value;

        for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
                if (strcmp(services[i].name, service_name) == 0)
                        service = &services[i];
        assert(service != NULL);
        if (!es_aws_region_is_valid(region))
                return NULL;

        if (ignore == NULL || strcasecmp(ignore, "true") != 0) {
                value = getenv(service->env_name);
                if (value != NULL && value[0] != '\0') {
                        es_log_debug("aws: %s endpoint from %s", service_name, service->env_name);
                        return without_trailing_slashes(value);
                }
                value = getenv("AWS_ENDPOINT_URL");
                if (value != NULL && value[0] != '\0') {
                        es_log_debug("aws: %s endpoint from AWS_ENDPOINT_URL", service_name);
                        return without_trailing_slashes(value);
                }
        }
        return es_asprintf("https://%s.%s.%s", service->host, region,
                           strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com");
}
