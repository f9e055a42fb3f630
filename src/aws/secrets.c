/* SPDX-License-Identifier: Apache-2.0 */
/* AWS Secrets Manager: GetSecretValue. */
#include "aws/secrets.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "aws/endpoint.h"
#include "aws/json_rpc.h"
#include "base/alloc.h"

int es_secrets_get_string(struct es_http *http, struct es_aws_provider *credentials,
                          const char *region, const char *secret_id, char **out,
                          struct es_error *err)
{
        struct es_aws_service service = {
            .http = http,
            .credentials = credentials,
            .region = (char *)region,
            .signing_name = "secretsmanager",
            .target_prefix = "secretsmanager",
            .iam_prefix = "secretsmanager",
        };
        json_t *request, *response = NULL, *value;
        int r;

        if (region == NULL || !es_aws_region_is_valid(region))
                return es_error_set(err, ES_ERR_INVALID,
                                    "secret '%s': no valid AWS region; set AWS_REGION", secret_id);
        service.endpoint = es_aws_endpoint_url("secretsmanager", region);
        request = json_pack("{s:s}", "SecretId", secret_id);
        r = es_aws_json_call(&service, "GetSecretValue", request, &response, err);
        json_decref(request);
        free(service.endpoint);
        if (r < 0)
                return es_error_prefix(err, "read secret '%s'", secret_id);

        value = json_object_get(response, "SecretString");
        if (json_is_string(value)) {
                *out = es_strdup(json_string_value(value));
        } else {
                r = es_error_set(err, ES_ERR_INVALID,
                                 "secret '%s' has no SecretString; store the value as text",
                                 secret_id);
        }
        /* The response holds the secret too: wipe it before freeing. */
        if (json_is_string(value))
                explicit_bzero((char *)json_string_value(value), json_string_length(value));
        json_decref(response);
        return r;
}
