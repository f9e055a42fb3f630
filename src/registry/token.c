/* SPDX-License-Identifier: Apache-2.0 */
/* Token endpoint responses of the Docker token protocol. */
#include "registry/token.h"

#include <jansson.h>
#include <stdbool.h>
#include <string.h>

#include "base/alloc.h"

static bool token_is_valid(const char *token)
{
        size_t len = strlen(token);

        if (len == 0 || len > ES_TOKEN_MAX_LENGTH)
                return false;
        for (const char *p = token; *p; p++)
                if (*p <= ' ' || *p >= 127)
                        return false;
        return true;
}

int es_token_response_parse(const char *data, size_t len, const char *realm, char **token,
                            long *lifetime, struct es_error *err)
{
        json_t *root, *value;
        const char *text = NULL;
        long seconds = ES_TOKEN_DEFAULT_LIFETIME;

        /* Without JSON_ALLOW_NUL, jansson rejects strings with a NUL byte. */
        root = json_loadb(data ? data : "", len, 0, NULL);
        if (root == NULL || !json_is_object(root)) {
                json_decref(root);
                return es_error_set(err, ES_ERR_PROTOCOL,
                                    "token response from '%s' is not a JSON object", realm);
        }

        value = json_object_get(root, "token");
        if (json_is_string(value) && json_string_length(value) > 0)
                text = json_string_value(value);
        value = json_object_get(root, "access_token");
        if (text == NULL && json_is_string(value))
                text = json_string_value(value);
        if (text == NULL || !token_is_valid(text)) {
                json_decref(root);
                return es_error_set(err, ES_ERR_PROTOCOL,
                                    "token response from '%s' holds no usable token", realm);
        }

        value = json_object_get(root, "expires_in");
        if (json_is_integer(value) && json_integer_value(value) > 0)
                seconds = json_integer_value(value) > ES_TOKEN_MAX_LIFETIME
                              ? ES_TOKEN_MAX_LIFETIME
                              : (long)json_integer_value(value);

        *token = es_strdup(text);
        *lifetime = seconds;
        json_decref(root);
        return 0;
}
