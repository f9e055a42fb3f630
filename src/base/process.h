/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running helper programs (credential_process commands, docker-credential
 * helpers): no shell, PATH searched, a timeout, capped output, and no file
 * descriptor of ours inherited beyond the standard three.
 */
#ifndef ES_BASE_PROCESS_H
#define ES_BASE_PROCESS_H

#include <stddef.h>

#include "base/buf.h"
#include "base/error.h"

/* What a finished process left. */
struct es_process_result {
        struct es_buf output; /* standard output, at most max_output bytes; may hold secrets */
        char *error_line;     /* first non-empty line of standard error, or NULL */
        int exit_status;      /* exit code, or 128 + signal number */
};

/* Wipe the output and free everything. */
void es_process_result_release(struct es_process_result *result);

/*
 * Run argv[0] (searched in PATH) with argv, write input (when not NULL) to
 * its standard input and close it, else let it inherit ours, and wait for it
 * to exit, at most timeout_ms milliseconds; then kill it with SIGKILL.
 * Returns 0 with *result whatever the exit status, -ES_ERR_NOT_FOUND or
 * -ES_ERR_IO when it cannot be started, -ES_ERR_TRANSIENT when it timed
 * out, -ES_ERR_PROTOCOL when its output exceeded max_output bytes.
 * Thread-safe.
 */
int es_process_run(char *const argv[], const char *input, int timeout_ms, size_t max_output,
                   struct es_process_result *result, struct es_error *err)
    __attribute__((warn_unused_result));

#endif
