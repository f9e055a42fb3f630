/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replay driver for builds without libFuzzer: runs LLVMFuzzerTestOneInput()
 * once on every file named on the command line and on every regular file
 * directly inside each directory named there, in name order. Meson runs one
 * target per test over its committed corpus, so every corpus file is a
 * regression test under gcc and under ASan and UBSan.
 *
 * Each input is copied into a buffer of exactly its size, so a read past
 * the end is caught by ASan. The path is printed before each run, so the
 * test log names the input when a target crashes. Exit status is 1 when a
 * path cannot be read or a directory contains no input, since an empty replay
 * would pass without testing anything.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Largest input replayed; libFuzzer's own default -max_len is far below it. */
#define MAX_INPUT_SIZE (16u * 1024 * 1024)

/* Read the whole file into a new buffer of exactly its size. Returns 0 or -1 after printing why. */
static int read_input(const char *path, uint8_t **data, size_t *size)
{
        FILE *file = fopen(path, "rb");
        struct stat st;
        uint8_t *buffer;
        size_t len;

        if (file == NULL) {
                fprintf(stderr, "cannot open '%s': %s\n", path, strerror(errno));
                return -1;
        }
        if (fstat(fileno(file), &st) < 0 || st.st_size < 0 || st.st_size > MAX_INPUT_SIZE) {
                fprintf(stderr, "cannot replay '%s': not a file of at most %u bytes\n", path,
                        MAX_INPUT_SIZE);
                fclose(file);
                return -1;
        }

        len = (size_t)st.st_size;
        /* malloc(0) may return NULL, and the target expects a valid pointer even for size 0. */
        buffer = es_malloc(len > 0 ? len : 1);
        if (len > 0 && fread(buffer, 1, len, file) != len) {
                fprintf(stderr, "cannot read '%s'\n", path);
                free(buffer);
                fclose(file);
                return -1;
        }
        fclose(file);

        *data = buffer;
        *size = len;
        return 0;
}

static int replay_file(const char *path)
{
        uint8_t *data = NULL;
        size_t size = 0;

        if (read_input(path, &data, &size) < 0)
                return -1;
        printf("replay %s (%zu bytes)\n", path, size);
        fflush(stdout);
        LLVMFuzzerTestOneInput(data, size);
        free(data);
        return 0;
}

static int skip_hidden(const struct dirent *entry)
{
        return entry->d_name[0] != '.';
}

/* Replay every regular file directly inside dir. Returns the number replayed, or -1. */
static long replay_directory(const char *dir)
{
        struct dirent **entries = NULL;
        long replayed = 0;
        int n, failed = 0;

        n = scandir(dir, &entries, skip_hidden, alphasort);
        if (n < 0) {
                fprintf(stderr, "cannot list '%s': %s\n", dir, strerror(errno));
                return -1;
        }

        for (int i = 0; i < n; i++) {
                char *path = es_asprintf("%s/%s", dir, entries[i]->d_name);
                struct stat st;

                if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                        if (replay_file(path) < 0)
                                failed = 1;
                        else
                                replayed++;
                }
                free(path);
                free(entries[i]);
        }
        free(entries);

        if (failed)
                return -1;
        if (replayed == 0) {
                fprintf(stderr, "no input in '%s'\n", dir);
                return -1;
        }
        return replayed;
}

int main(int argc, char **argv)
{
        long total = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
                return 2;
        }

        for (int i = 1; i < argc; i++) {
                struct stat st;

                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "cannot replay '%s': %s\n", argv[i], strerror(errno));
                        return 1;
                }
                if (S_ISDIR(st.st_mode)) {
                        long n = replay_directory(argv[i]);

                        if (n < 0)
                                return 1;
                        total += n;
                } else {
                        if (replay_file(argv[i]) < 0)
                                return 1;
                        total++;
                }
        }

        printf("replayed %ld inputs\n", total);
        return 0;
}
