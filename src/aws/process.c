/* SPDX-License-Identifier: Apache-2.0 */
/* The credential_process source: shlex-style splitting and running the command. */
#include "aws/process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aws/source.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/log.h"

extern char **environ;

/* Bytes of standard error kept for the message; the rest is read and dropped. */
#define MAX_ERROR_OUTPUT 4096
/* Characters of that first line shown in a message. */
#define MAX_ERROR_LINE 300

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

void es_aws_process_result_release(struct es_aws_process_result *result)
{
        if (result->output.data)
                explicit_bzero(result->output.data, result->output.alloc);
        es_buf_release(&result->output);
        free(result->error_line);
        memset(result, 0, sizeof(*result));
}

static long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first non-empty line of text, trimmed, shortened, with control characters replaced. */
static char *first_line(const char *text, size_t len)
{
        const char *p = text, *end = text + len;

        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t)(end - p));
                const char *line_end = eol ? eol : end;
                const char *start = p;
                char *line;

                p = eol ? eol + 1 : end;
                while (start < line_end && (*start == ' ' || *start == '\t' || *start == '\r'))
                        start++;
                while (line_end > start &&
                       (line_end[-1] == ' ' || line_end[-1] == '\t' || line_end[-1] == '\r'))
                        line_end--;
                if (start == line_end)
                        continue;
                if (line_end - start > MAX_ERROR_LINE)
                        line_end = start + MAX_ERROR_LINE;
                line = es_strndup(start, (size_t)(line_end - start));
                for (char *q = line; *q; q++)
                        if ((unsigned char)*q < 0x20 || *q == 0x7f)
                                *q = '?';
                return line;
        }
        return NULL;
}

/* Kill the child if it is still running and collect its status. */
static int reap(pid_t pid, bool kill_it, int *status)
{
        pid_t r;

        if (kill_it)
                kill(pid, SIGKILL);
        do {
                r = waitpid(pid, status, 0);
        } while (r < 0 && errno == EINTR);
        return r < 0 ? -1 : 0;
}

/* Read what is available on fd into buf; returns bytes read, 0 at EOF, -1 on error. */
static ssize_t drain(int fd, struct es_buf *buf, bool *overflow)
{
        char chunk[4096];
        ssize_t n;

        do {
                n = read(fd, chunk, sizeof(chunk));
        } while (n < 0 && errno == EINTR);
        if (n > 0 && !*overflow && es_buf_append(buf, chunk, (size_t)n) < 0)
                *overflow = true;
        explicit_bzero(chunk, sizeof(chunk));
        return n;
}

static int spawn(char *const argv[], int out_fd, int err_fd, pid_t *pid, struct es_error *err)
{
        posix_spawn_file_actions_t actions;
        posix_spawnattr_t attributes;
        sigset_t defaults, empty;
        int r;

        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
        /* Keep the program away from the run's sockets and files, CLOEXEC or not. */
        posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);

        /* The program should not inherit an ignored SIGPIPE or a blocked signal mask. */
        posix_spawnattr_init(&attributes);
        sigemptyset(&empty);
        sigemptyset(&defaults);
        sigaddset(&defaults, SIGPIPE);
        posix_spawnattr_setsigmask(&attributes, &empty);
        posix_spawnattr_setsigdefault(&attributes, &defaults);
        posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

        r = posix_spawnp(pid, argv[0], &actions, &attributes, argv, environ);
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attributes);
        if (r != 0)
                return es_error_set(err, r == ENOENT ? ES_ERR_NOT_FOUND : ES_ERR_IO,
                                    "cannot run \"%s\": %s", argv[0], strerror(r));
        return 0;
}

int es_aws_process_run(char *const argv[], int timeout_ms, size_t max_output,
                       struct es_aws_process_result *result, struct es_error *err)
{
        struct es_aws_process_result res = {.output = ES_BUF_INIT(max_output)};
        struct es_buf errors = ES_BUF_INIT(MAX_ERROR_OUTPUT);
        int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
        bool out_open = true, err_open = true, out_overflow = false, err_overflow = false;
        long long deadline = now_ms() + timeout_ms;
        pid_t pid = -1;
        int status = 0, r = 0;

        if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) {
                r = es_error_set(err, ES_ERR_IO, "cannot create a pipe: %s", strerror(errno));
                goto done;
        }
        r = spawn(argv, out_pipe[1], err_pipe[1], &pid, err);
        close(out_pipe[1]);
        close(err_pipe[1]);
        out_pipe[1] = err_pipe[1] = -1;
        if (r < 0)
                goto done;
        es_log_debug("aws: started \"%s\" (pid %d)", argv[0], (int)pid);

        while (out_open || err_open) {
                struct pollfd fds[2] = {
                    {.fd = out_open ? out_pipe[0] : -1, .events = POLLIN},
                    {.fd = err_open ? err_pipe[0] : -1, .events = POLLIN},
                };
                long long left = deadline - now_ms();
                int ready;

                if (left <= 0) {
                        reap(pid, true, &status);
                        pid = -1;
                        r = es_error_set(err, ES_ERR_TRANSIENT, "\"%s\" timed out after %.1f s",
                                         argv[0], timeout_ms / 1000.0);
                        goto done;
                }
                ready = poll(fds, 2, (int)left);
                if (ready < 0 && errno == EINTR)
                        continue;
                if (ready < 0) {
                        r = es_error_set(err, ES_ERR_IO, "poll: %s", strerror(errno));
                        goto done;
                }
                if (out_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
                    drain(out_pipe[0], &res.output, &out_overflow) <= 0)
                        out_open = false;
                if (err_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
                    drain(err_pipe[0], &errors, &err_overflow) <= 0)
                        err_open = false;
                if (out_overflow) {
                        r = es_error_set(err, ES_ERR_PROTOCOL,
                                         "\"%s\" wrote more than %zu bytes to standard output",
                                         argv[0], max_output);
                        goto done;
                }
        }

        /* Both pipes are closed; the program normally has exited or is about to. */
        for (;;) {
                pid_t w = waitpid(pid, &status, WNOHANG);

                if (w == pid)
                        break;
                if (w < 0 && errno != EINTR) {
                        r = es_error_set(err, ES_ERR_IO, "waitpid: %s", strerror(errno));
                        goto done;
                }
                if (now_ms() >= deadline) {
                        reap(pid, true, &status);
                        pid = -1;
                        r = es_error_set(err, ES_ERR_TRANSIENT, "\"%s\" timed out after %.1f s",
                                         argv[0], timeout_ms / 1000.0);
                        goto done;
                }
                nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        }
        pid = -1;
        res.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        res.error_line = first_line(errors.data ? errors.data : "", errors.len);
        *result = res;
        memset(&res, 0, sizeof(res));

done:
        if (pid > 0)
                reap(pid, true, &status);
        for (int i = 0; i < 2; i++) {
                if (out_pipe[i] >= 0)
                        close(out_pipe[i]);
                if (err_pipe[i] >= 0)
                        close(err_pipe[i]);
        }
        es_buf_release(&errors);
        es_aws_process_result_release(&res);
        return r;
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
        struct es_aws_process_result result = {0};
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

        r = es_aws_process_run(argv, timeout_ms, ES_AWS_MAX_PROCESS_OUTPUT, &result, err);
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
        es_aws_process_result_release(&result);
        es_aws_argv_free(argv);
        return r;
}
