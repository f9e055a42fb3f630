/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for token endpoint responses (registry/token.c). Input: the
 * response body. Checks that a parsed token is non-empty printable ASCII
 * within the size limit, that the lifetime is in range, that a failure
 * sets a message and leaves the outputs untouched, and that no message
 * quotes the token.
 */
#include "fuzz.h"
#include "registry/token.h"

#define REALM "https://auth.example/token"

static void check_token(const char *token, long lifetime)
{
        size_t len = strlen(token);

        if (len == 0 || len > ES_TOKEN_MAX_LENGTH)
                abort();
        for (const char *p = token; *p; p++)
                if (*p <= ' ' || *p >= 127)
                        abort();
        if (lifetime < 1 || lifetime > ES_TOKEN_MAX_LIFETIME)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct es_error err = ES_ERROR_INIT;
        char *token = (char *)"untouched";
        long lifetime = -7;

        if (es_token_response_parse((const char *)data, size, REALM, &token, &lifetime, &err) ==
            0) {
                check_token(token, lifetime);
                free(token);
        } else {
                if (err.message == NULL || strcmp(token, "untouched") != 0 || lifetime != -7)
                        abort();
                /* The message names the token endpoint. */
                if (strstr(err.message, REALM) == NULL)
                        abort();
        }
        es_error_release(&err);
        return 0;
}
