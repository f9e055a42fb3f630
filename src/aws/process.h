/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The credential_process source: run the profile's command without a shell
 * and read credentials from its standard output, as botocore's
 * ProcessProvider does.
 *
 * The command line is split into words like Python's shlex.split() (POSIX
 * mode, no comments) and started with posix_spawnp(), so PATH is searched.
 * The child inherits standard input (a command may prompt on the terminal)
 * and writes its standard output and standard error to pipes. Output:
 *
 *   {"Version": 1, "AccessKeyId": "...", "SecretAccessKey": "...",
 *    "SessionToken": "...", "Expiration": "2024-05-01T12:00:00Z"}
 *
 * SessionToken and Expiration are optional; without Expiration the
 * credentials never expire.
 */
#ifndef ES_AWS_PROCESS_H
#define ES_AWS_PROCESS_H

#include <stddef.h>

#include "aws/sigv4.h"
#include "base/buf.h"
#include "base/error.h"

/* Maximum size of a credential process's standard output, in bytes. */
#define ES_AWS_MAX_PROCESS_OUTPUT (64u * 1024)

/* Milliseconds a credential process may run before it is killed. botocore has no limit. */
#define ES_AWS_PROCESS_TIMEOUT_MS (60 * 1000)

/*
 * Split a command line into words as Python's shlex.split() does. Blanks
 * separate words and single quotes keep everything literally. In double
 * quotes a backslash escapes only '"' and '\', and outside quotes it escapes
 * any character. Returns 0 with *out, a NULL-terminated array (free with
 * es_aws_argv_free), and *count, or -ES_ERR_INVALID for an unclosed quote
 * or a trailing backslash. The message does not quote the line, which may
 * contain secrets. err may be NULL.
 */
int es_aws_shell_split(const char *line, char ***out, size_t *count, struct es_error *err)
    __attribute__((warn_unused_result));

void es_aws_argv_free(char **argv);

/*
 * Run a credential_process command line and parse its output. Returns 0 and
 * *out (release with es_aws_credentials_release), or an error naming the
 * program (never its arguments, which may hold secrets): -ES_ERR_INVALID for
 * a bad command line, -ES_ERR_AUTH for a non-zero exit (with the first line
 * of its standard error), -ES_ERR_PROTOCOL for bad output, or the errors of
 * es_process_run().
 */
int es_aws_process_credentials(const char *command, int timeout_ms, struct es_aws_credentials *out,
                               struct es_error *err) __attribute__((warn_unused_result));

#endif
