/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recognising ECR registries by host name:
 *   ACCOUNT.dkr.ecr.REGION.amazonaws.com        (and .amazonaws.com.cn)
 *   ACCOUNT.dkr.ecr-fips.REGION.amazonaws.com
 *   ACCOUNT.dkr-ecr.REGION.on.aws               (dual-stack)
 *   ACCOUNT.dkr-ecr-fips.REGION.on.aws
 * ACCOUNT is 12 digits. ECR Public (public.ecr.aws) is not matched: it is
 * an ordinary registry for pulls.
 */
#ifndef ES_AWS_ECR_HOST_H
#define ES_AWS_ECR_HOST_H

#include <stdbool.h>

struct es_ecr_host {
        char account[13]; /* 12 digits */
        char region[64];
};

/* True when registry (a host, optionally with ":port") is an ECR registry; fills *out. */
bool es_ecr_host_parse(const char *registry, struct es_ecr_host *out);

#endif
