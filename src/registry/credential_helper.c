/* SPDX-License-Identifier: Apache-2.0 */
/* Running docker-credential-* helpers. */
#include "registry/credential_helper.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"

extern char **environ;

/* Largest helper output read; credentials are a few KiB at most. */
#define MAX_HELPER_OUTPUT (64u * 1024)

/* The text helpers print when they hold nothing for the server. */
#define NOT_FOUND_MESSAGE "credentials not found in native keychain"

struct helper_run {
        struct es_buf out;
        struct es_buf errors;
        int status;
        bool timed_out;
};

static long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Read both pipes until they close or the deadline passes. */
static void collect(int out_fd, int err_fd, struct helper_run *run)
{
        long deadline = now_ms() + ES_CREDENTIAL_HELPER_TIMEOUT * 1000L;
        struct pollfd fds[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
        struct es_buf *bufs[2] = {&run->out, &run->errors};
        int open = 2;

        while (open > 0) {
                long left = deadline - now_ms();
                char chunk[4096];

                if (left <= 0) {
                        run->timed_out = true;
                        return;
                }
                if (poll(fds, 2, (int)left) < 0 && errno != EINTR)
                        return;
                for (int i = 0; i < 2; i++) {
                        ssize_t n;

                        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        n = read(fds[i].fd, chunk, sizeof(chunk));
                        if (n <= 0 || es_buf_append(bufs[i], chunk, (size_t)n) < 0) {
                                fds[i].fd = -1;
                                open--;
                        }
                }
        }
}

static int spawn_helper(const char *program, const char *server_url, struct helper_run *run,
                        struct es_error *err)
{
        int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
        char *argv[] = {(char *)program, "get", NULL};
        posix_spawn_file_actions_t actions;
        pid_t pid;
        int r;

        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
                r = es_error_set(err, ES_ERR_IO, "cannot create pipes for '%s': %s", program,
                                 strerror(errno));
                goto close_all;
        }
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&actions, errp[1], STDERR_FILENO);
        r = posix_spawnp(&pid, program, &actions, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&actions);
        if (r != 0) {
                r = es_error_set(err, ES_ERR_AUTH,
                                 "cannot run the credential helper '%s': %s; install it or "
                                 "remove it from the Docker config",
                                 program, strerror(r));
                goto close_all;
        }

        close(in[0]);
        close(out[1]);
        close(errp[1]);
        in[0] = out[1] = errp[1] = -1;
        if (write(in[1], server_url, strlen(server_url)) < 0) {
                /* The helper may exit without reading; its status tells. */
        }
        close(in[1]);
        in[1] = -1;

        collect(out[0], errp[0], run);
        if (run->timed_out)
                kill(pid, SIGKILL);
        while (waitpid(pid, &run->status, 0) < 0 && errno == EINTR)
                ;
        r = 0;
close_all:
        for (int i = 0; i < 2; i++) {
                if (in[i] >= 0)
                        close(in[i]);
                if (out[i] >= 0)
                        close(out[i]);
                if (errp[i] >= 0)
                        close(errp[i]);
        }
        return r;
}

/* The first line of the helper's diagnostics (stderr, else stdout) for messages. */
static char *first_line(const struct es_buf *buf)
{
        const char *text = buf->data ? buf->data : "";

        return es_strndup(text, strcspn(text, "\r\n"));
}

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

int es_credential_helper_get(const char *helper, const char *server_url,
                             struct es_credentials *out, bool *found, struct es_error *err)
{
        _cleanup_free_ char *program = es_asprintf("docker-credential-%s", helper);
        struct helper_run run = {0};
        int r;

        *found = false;
        es_buf_init(&run.out, MAX_HELPER_OUTPUT);
        es_buf_init(&run.errors, MAX_HELPER_OUTPUT);
        r = spawn_helper(program, server_url, &run, err);
        if (r < 0)
                goto done;

        if (run.timed_out) {
                r = es_error_set(err, ES_ERR_AUTH,
                                 "the credential helper '%s' did not answer within %d s", program,
                                 ES_CREDENTIAL_HELPER_TIMEOUT);
        } else if (!WIFEXITED(run.status) || WEXITSTATUS(run.status) != 0) {
                _cleanup_free_ char *line = first_line(run.errors.len ? &run.errors : &run.out);

                /* Helpers report "no credentials" as a failure with this text. */
                if (strstr(line, NOT_FOUND_MESSAGE) == NULL)
                        r = es_error_set(err, ES_ERR_AUTH,
                                         "the credential helper '%s' failed for '%s': %s",
                                         program, server_url, *line ? line : "no message");
        } else {
                r = parse_output(program, &run.out, out, err);
                if (r >= 0)
                        *found = true;
        }
done:
        if (run.out.data)
                explicit_bzero(run.out.data, run.out.len);
        es_buf_release(&run.out);
        es_buf_release(&run.errors);
        return r;
}
