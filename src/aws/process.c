/* SPDX-License-Identifier: Apache-2.0 */
/* The credential_process source: shlex-style splitting and running the command. */
#include "aws/process.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aws/source.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/log.h"
#include "base/process.h"

/* Bytes of standard error kept for the message; the rest is read and dropped. */
/* Characters of that first line shown in a message. */

void es_aws_argv_free(char **argv)
{
        if (argv == NULL)
                return;
        for (char **p = argv; *p; p++)
                free(*p);
        free(argv);
}

static void push_word(char ***words, size_t *count, struct es_buf *word)
{
        *words = es_realloc(*words, (*count + 2) * sizeof(**words));
        (*words)[(*count)++] = es_buf_take(word);
        (*words)[*count] = NULL;
}

int es_aws_shell_split(const char *line, char ***out, size_t *count, struct es_error *err)
{
        enum { UNQUOTED, SINGLE, DOUBLE } state = UNQUOTED;
        struct es_buf word = ES_BUF_INIT(0);
        char **words = es_calloc(1, sizeof(*words));
        size_t n = 0;
        bool in_word = false;
        const char *problem = NULL;

        for (const char *p = line; *p && problem == NULL; p++) {
                char c = *p;

                switch (state) {
                case UNQUOTED:
                        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                                if (in_word)
                                        push_word(&words, &n, &word);
                                in_word = false;
                                continue;
                        }
                        in_word = true;
                        if (c == '\'') {
                                state = SINGLE;
                        } else if (c == '"') {
                                state = DOUBLE;
                        } else if (c == '\\') {
                                if (p[1] == '\0') {
                                        problem = "a backslash at the end";
                                        break;
                                }
                                p++;
                                es_buf_puts(&word, (char[]){*p, '\0'});
                        } else {
                                es_buf_puts(&word, (char[]){c, '\0'});
                        }
                        break;
                case SINGLE:
                        if (c == '\'')
                                state = UNQUOTED;
                        else
                                es_buf_puts(&word, (char[]){c, '\0'});
                        break;
                case DOUBLE:
                        if (c == '"') {
                                state = UNQUOTED;
                        } else if (c == '\\') {
                                if (p[1] == '\0') {
                                        problem = "a backslash at the end";
                                        break;
                                }
                                p++;
                                /* Only '"' and '\' are escaped in double quotes; shlex keeps other
                                 * backslashes. */
                                if (*p != '"' && *p != '\\')
                                        es_buf_puts(&word, "\\");
                                es_buf_puts(&word, (char[]){*p, '\0'});
                        } else {
                                es_buf_puts(&word, (char[]){c, '\0'});
                        }
                        break;
                }
        }
        if (problem == NULL && state != UNQUOTED)
                problem = state == SINGLE ? "an unclosed single quote" : "an unclosed double quote";
        if (problem != NULL) {
                es_buf_release(&word);
                es_aws_argv_free(words);
                return es_error_set(err, ES_ERR_INVALID, "invalid command line: %s", problem);
        }
        if (in_word)
                push_word(&words, &n, &word);
        es_buf_release(&word);
        *out = words;
        *count = n;
        return 0;
}

int es_aws_process_credentials(const char *command, int timeout_ms, struct es_aws_credentials *out,
                               struct es_error *err)
{
        static const struct es_aws_json_names names = {
            .access_key_id = "AccessKeyId",
            .secret_access_key = "SecretAccessKey",
            .session_token = "SessionToken",
            .expiration = "Expiration",
        };
        struct es_process_result result = {0};
        _cleanup_free_ char *what = NULL;
        char **argv = NULL;
        json_t *root = NULL, *version;
        size_t argc = 0;
        int r;

        r = es_aws_shell_split(command, &argv, &argc, err);
        if (r < 0)
                return es_error_prefix(err, "credential_process");
        if (argc == 0) {
                es_aws_argv_free(argv);
                return es_error_set(err, ES_ERR_INVALID, "credential_process is empty");
        }
        what = es_asprintf("credential_process \"%s\"", argv[0]);

        r = es_process_run(argv, NULL, timeout_ms, ES_AWS_MAX_PROCESS_OUTPUT, &result, err);
        if (r < 0) {
                es_error_prefix(err, "credential_process");
                goto done;
        }
        if (result.exit_status != 0) {
                r = es_error_set(err, ES_ERR_AUTH, "%s exited with status %d%s%s", what,
                                 result.exit_status, result.error_line ? ": " : "",
                                 result.error_line ? result.error_line : "");
                goto done;
        }

        r = es_aws_json_parse(result.output.data, result.output.len, what, &root, err);
        if (r < 0)
                goto done;
        version = json_object_get(root, "Version");
        if (!json_is_integer(version) || json_integer_value(version) != 1) {
                r = es_error_set(err, ES_ERR_PROTOCOL, "%s: \"Version\" must be the number 1",
                                 what);
                goto done;
        }
        r = es_aws_json_credentials(root, &names, what, out, err);

done:
        json_decref(root);
        es_process_result_release(&result);
        es_aws_argv_free(argv);
        return r;
}
