/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Run a program and write its peak resident set size, in KiB, to a file.
 *
 * Usage: peak-rss OUTPUT_FILE PROGRAM [ARGUMENT]...
 *
 * Linux charges a process's ru_maxrss with the memory of the process it was
 * forked from, so measuring a child of the (large) test runner directly
 * reports the runner's size. This helper is small, so the program it forks
 * starts from a small footprint and ru_maxrss shows the program's own peak.
 * Exits with the program's exit status, or 128 + the signal that ended it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        if (argc < 3) {
                fprintf(stderr, "usage: peak-rss OUTPUT_FILE PROGRAM [ARGUMENT]...\n");
                return 125;
        }

        pid_t pid = fork();
        if (pid < 0) {
                perror("peak-rss: fork");
                return 125;
        }
        if (pid == 0) {
                execvp(argv[2], &argv[2]);
                perror("peak-rss: exec");
                _exit(127);
        }

        int status = 0;
        struct rusage usage;
        if (wait4(pid, &status, 0, &usage) < 0) {
                perror("peak-rss: wait4");
                return 125;
        }

        FILE *output = fopen(argv[1], "w");
        if (output == NULL) {
                perror("peak-rss: open output file");
                return 125;
        }
        fprintf(output, "%ld\n", usage.ru_maxrss);
        if (fclose(output) != 0) {
                perror("peak-rss: write output file");
                return 125;
        }

        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
}
