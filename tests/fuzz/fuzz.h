/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared declarations for the fuzz targets. Each fuzz_NAME.c defines
 * LLVMFuzzerTestOneInput() for one parser. clang links it with libFuzzer's
 * main (-fsanitize=fuzzer); gcc builds link it with driver.c, which replays
 * a corpus directory as an ordinary test.
 *
 * Targets must not print, must free everything they allocate, and must give
 * the same result for the same input. They abort() when a property that the
 * parser's header promises does not hold, so both libFuzzer and the replay
 * report it as a crash.
 */
#ifndef ES_TESTS_FUZZ_H
#define ES_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Copy the input into a new NUL-terminated string for parsers that take C
 * strings. An embedded NUL ends the string early, as it would for a header
 * value or a command-line argument. Caller frees.
 */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
        return es_strndup((const char *)data, size);
}

/*
 * Split text at the first '\n' and drop a '\r' just before it. Sets *first to
 * a new string with the line, which the caller frees, and returns a pointer
 * to the rest, or to the terminating NUL when there is no '\n'.
 */
static inline const char *fuzz_split_line(const char *text, char **first)
{
        const char *newline = strchr(text, '\n');
        size_t len = newline ? (size_t)(newline - text) : strlen(text);

        *first = es_strndup(text, len > 0 && text[len - 1] == '\r' ? len - 1 : len);
        return newline ? newline + 1 : text + len;
}

#endif
