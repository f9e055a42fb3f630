/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Endpoints of the AWS services ecr-sync calls, with the standard overrides:
 * AWS_ENDPOINT_URL_<SERVICE> (ECR, STS, SECRETS_MANAGER, SSO), then
 * AWS_ENDPOINT_URL, unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is "true".
 * Tests use the overrides to point every call at loopback servers.
 */
#ifndef ES_AWS_ENDPOINT_H
#define ES_AWS_ENDPOINT_H

#include <stdbool.h>

/*
 * The base URL for service ("ecr", "sts", "secretsmanager" or "sso") in
 * region, without a trailing slash: an override from the environment, or
 * https://api.ecr.REGION.amazonaws.com, https://sts.REGION.amazonaws.com,
 * https://secretsmanager.REGION.amazonaws.com or
 * https://portal.sso.REGION.amazonaws.com, with the ".amazonaws.com.cn"
 * suffix for regions starting with "cn-". Caller frees. Returns NULL when
 * region fails es_aws_region_is_valid(), even with an override, so a bad
 * region is caught wherever it came from. An unknown service is a
 * programming error (asserted).
 *
 * NOTE: only the aws and aws-cn partitions are known; GovCloud regions work
 * (they use amazonaws.com) but ISO partitions need an override.
 */
char *es_aws_endpoint_url(const char *service, const char *region);

/* True when region looks like an AWS region name: lowercase letters, digits and '-'. */
bool es_aws_region_is_valid(const char *region);

#endif
