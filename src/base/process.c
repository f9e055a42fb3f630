/* SPDX-License-Identifier: Apache-2.0 */
/* Running a helper program with a timeout and capped output. */
#include "base/process.h"

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

#include "base/alloc.h"
#include "base/log.h"

extern char **environ;

/* Standard error kept for messages. */
#define MAX_ERROR_OUTPUT 4096
/* Longest line of standard error quoted in a message. */
#define MAX_ERROR_LINE 300

void es_process_result_release(struct es_process_result *result)
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

static int spawn(char *const argv[], int in_fd, int out_fd, int err_fd, pid_t *pid,
                 struct es_error *err)
{
        posix_spawn_file_actions_t actions;
        posix_spawnattr_t attributes;
        sigset_t defaults, empty;
        int r;

        posix_spawn_file_actions_init(&actions);
        if (in_fd >= 0)
                posix_spawn_file_actions_adddup2(&actions, in_fd, STDIN_FILENO);
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

int es_process_run(char *const argv[], const char *input, int timeout_ms, size_t max_output,
                   struct es_process_result *result, struct es_error *err)
{
        int in_pipe[2] = {-1, -1};
        struct es_process_result res = {.output = ES_BUF_INIT(max_output)};
        struct es_buf errors = ES_BUF_INIT(MAX_ERROR_OUTPUT);
        int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
        bool out_open = true, err_open = true, out_overflow = false, err_overflow = false;
        long long deadline = now_ms() + timeout_ms;
        pid_t pid = -1;
        int status = 0, r = 0;

        if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0 ||
            (input && pipe2(in_pipe, O_CLOEXEC) < 0)) {
                r = es_error_set(err, ES_ERR_IO, "cannot create a pipe: %s", strerror(errno));
                goto done;
        }
        r = spawn(argv, in_pipe[0], out_pipe[1], err_pipe[1], &pid, err);
        close(out_pipe[1]);
        close(err_pipe[1]);
        out_pipe[1] = err_pipe[1] = -1;
        if (in_pipe[0] >= 0)
                close(in_pipe[0]);
        in_pipe[0] = -1;
        if (r < 0)
                goto done;
        if (input) {
                /* Inputs are a line or two, well below the pipe's buffer: one write does. A
                 * program that exits without reading makes it fail, which its status tells. */
                if (write(in_pipe[1], input, strlen(input)) < 0)
                        es_log_debug("process: \"%s\" did not read its input", argv[0]);
                close(in_pipe[1]);
                in_pipe[1] = -1;
        }
        es_log_debug("process: started \"%s\" (pid %d)", argv[0], (int)pid);

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
                if (in_pipe[i] >= 0)
                        close(in_pipe[i]);
                if (out_pipe[i] >= 0)
                        close(out_pipe[i]);
                if (err_pipe[i] >= 0)
                        close(err_pipe[i]);
        }
        es_buf_release(&errors);
        es_process_result_release(&res);
        return r;
}
