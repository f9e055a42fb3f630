/* SPDX-License-Identifier: Apache-2.0 */
/* Running docker-credential-* helpers. */
#include "registry/credential_helper.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/process.h"

/* Largest helper output read; credentials are a few KiB at most. */
#define MAX_HELPER_OUTPUT (64u * 1024)

/* The text helpers print when they hold nothing for the server. */
#define NOT_FOUND_MESSAGE "credentials not found in native keychain"

static int parse_output(const char *program, const struct es_buf *out,
                        struct es_credentials *credentials, struct es_error *err)
{
        json_t *root = json_loadb(out->data ? out->data : "", out->len, 0, NULL);
        const char *username = json_string_value(json_object_get(root, "Username"));
        const char *secret = json_string_value(json_object_get(root, "Secret"));

        if (root == NULL || secret == NULL) {
                json_decref(root);
                return es_error_set(err, ES_ERR_AUTH,
                                    "the credential helper '%s' printed no JSON object with a "
                                    "Secret",
                                    program);
        }
        memset(credentials, 0, sizeof(*credentials));
        if (username && strcmp(username, "<token>") == 0) {
                credentials->identity_token = es_strdup(secret);
        } else {
                credentials->username = es_strdup(username ? username : "");
                credentials->password = es_strdup(secret);
        }
        json_decref(root);
        return 0;
}

int es_credential_helper_get(const char *helper, const char *server_url, struct es_credentials *out,
                             bool *found, struct es_error *err)
{
        _cleanup_free_ char *program = es_asprintf("docker-credential-%s", helper);
        char *argv[] = {program, "get", NULL};
        struct es_process_result result = {0};
        int r;

        *found = false;
        r = es_process_run(argv, server_url, ES_CREDENTIAL_HELPER_TIMEOUT * 1000, MAX_HELPER_OUTPUT,
                           &result, err);
        if (r == -ES_ERR_NOT_FOUND)
                return es_error_set(err, ES_ERR_AUTH,
                                    "the credential helper '%s' is not installed (not found in "
                                    "PATH); install it or remove it from the Docker config",
                                    program);
        if (r < 0)
                return es_error_prefix(err, "credential helper for '%s'", server_url);

        if (result.exit_status != 0) {
                const char *line = result.error_line ? result.error_line : "";

                /* Helpers report "no credentials" as a failure with this text, on stdout or
                 * stderr; stdout is only searched, never quoted, since it may hold a secret. */
                if (strstr(line, NOT_FOUND_MESSAGE) == NULL &&
                    (result.output.data == NULL ||
                     strstr(result.output.data, NOT_FOUND_MESSAGE) == NULL))
                        r = es_error_set(err, ES_ERR_AUTH,
                                         "the credential helper '%s' failed for '%s' (exit "
                                         "status %d): %s",
                                         program, server_url, result.exit_status,
                                         *line ? line : "no message");
        } else {
                r = parse_output(program, &result.output, out, err);
                if (r >= 0)
                        *found = true;
        }
        es_process_result_release(&result);
        return r;
}
