/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the XML reader (aws/xml.c) and the STS response parser
 * built on it (aws/sts.c). Input: a response body. It is read with the
 * field paths that STS responses use, and then as the body of a successful
 * AssumeRole and AssumeRoleWithWebIdentity response and of failed ones.
 */
#include "aws/sigv4.h"
#include "aws/sts.h"
#include "aws/xml.h"
#include "fuzz.h"

static const char *const paths[] = {
    "/AssumeRoleResponse/AssumeRoleResult/Credentials/AccessKeyId",
    "/AssumeRoleResponse/AssumeRoleResult/Credentials/SecretAccessKey",
    "/AssumeRoleResponse/AssumeRoleResult/AssumedRoleUser/Arn",
    "/AssumeRoleResponse/ResponseMetadata/RequestId",
    "/ErrorResponse/Error/Code",
    "/ErrorResponse/Error/Message",
    "/Error/Code",
    "/",
};

static void extract(const char *body, size_t len)
{
        struct es_aws_xml_field fields[ES_ARRAY_SIZE(paths)];
        struct es_error err = ES_ERROR_INIT;

        for (size_t i = 0; i < ES_ARRAY_SIZE(paths); i++) {
                fields[i].path = paths[i];
                fields[i].value = NULL;
        }

        if (es_aws_xml_extract(body, len, fields, ES_ARRAY_SIZE(fields), &err) < 0) {
                if (err.message == NULL)
                        abort();
                for (size_t i = 0; i < ES_ARRAY_SIZE(fields); i++) {
                        if (fields[i].value != NULL)
                                abort();
                }
        }
        es_aws_xml_fields_release(fields, ES_ARRAY_SIZE(fields));
        es_error_release(&err);
}

static void parse_response(const char *action, long status, const char *body, size_t len)
{
        struct es_aws_credentials credentials = {0};
        struct es_error err = ES_ERROR_INIT;

        if (es_aws_sts_parse_response(action, status, body, len, &credentials, &err) == 0) {
                if (status < 200 || status > 299)
                        abort();
                if (credentials.access_key_id == NULL || credentials.secret_access_key == NULL ||
                    credentials.session_token == NULL)
                        abort();
                es_aws_credentials_release(&credentials);
        } else if (err.message == NULL || credentials.access_key_id != NULL) {
                abort();
        }
        es_error_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *body = (const char *)data;

        extract(body, size);
        parse_response("AssumeRole", 200, body, size);
        parse_response("AssumeRoleWithWebIdentity", 200, body, size);
        parse_response("AssumeRole", 403, body, size);
        parse_response("AssumeRoleWithWebIdentity", 400, body, size);
        parse_response("AssumeRole", 503, body, size);
        return 0;
}
