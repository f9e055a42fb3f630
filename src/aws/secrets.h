/* SPDX-License-Identifier: Apache-2.0 */
/* AWS Secrets Manager: reading one secret's string value. */
#ifndef ES_AWS_SECRETS_H
#define ES_AWS_SECRETS_H

#include "base/error.h"
#include "http/http.h"

struct es_aws_provider;

/*
 * GetSecretValue for secret_id (a name or ARN) in region. On success *out
 * is the SecretString (a secret: wipe and free it). A binary-only secret is
 * ES_ERR_INVALID; a missing one ES_ERR_NOT_FOUND.
 */
int es_secrets_get_string(struct es_http *http, struct es_aws_provider *credentials,
                          const char *region, const char *secret_id, char **out,
                          struct es_error *err);

#endif
