/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Local validation of ECR lifecycle policies, so a bad policy is reported
 * before any repository is touched, naming the rule and the field.
 *
 * A policy is {"rules": [RULE, ...]} with each RULE:
 *   rulePriority  integer >= 1, unique across rules
 *   description   optional string
 *   selection     tagStatus "tagged" | "untagged" | "any";
 *                 tagPrefixList or tagPatternList (arrays of non-empty
 *                 strings, patterns with at most 4 '*'), one of them with
 *                 "tagged" and neither otherwise;
 *                 countType "imageCountMoreThan" | "sinceImagePushed";
 *                 countUnit "days" with sinceImagePushed only;
 *                 countNumber integer >= 1
 *   action        {"type": "expire"}
 * A rule with tagStatus "any" must have the highest rulePriority. The text
 * is 100 to 30,720 characters, as the PutLifecyclePolicy API requires.
 */
#ifndef ES_AWS_LIFECYCLE_H
#define ES_AWS_LIFECYCLE_H

#include "base/error.h"

#define ES_LIFECYCLE_POLICY_MIN_LENGTH 100
#define ES_LIFECYCLE_POLICY_MAX_LENGTH 30720

/* Check policy text; ES_ERR_INVALID with "rules[N]: FIELD: ..." on failure. */
int es_lifecycle_policy_validate(const char *text, struct es_error *err);

#endif
