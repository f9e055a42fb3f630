/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation helpers that abort on failure. */
#include "base/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *check(void *p)
{
        if (p == NULL) {
                fputs("ecr-sync: out of memory\n", stderr);
                abort();
        }
        return p;
}

void *es_malloc(size_t size)
{
        return check(malloc(size ? size : 1));
}

void *es_calloc(size_t count, size_t size)
{
        return check(calloc(count ? count : 1, size ? size : 1));
}

void *es_realloc(void *ptr, size_t size)
{
        return check(realloc(ptr, size ? size : 1));
}

char *es_strdup(const char *s)
{
        return check(strdup(s));
}

char *es_strndup(const char *s, size_t n)
{
        return check(strndup(s, n));
}

char *es_vasprintf(const char *fmt, va_list ap)
{
        char *out = NULL;

        if (vasprintf(&out, fmt, ap) < 0)
                check(NULL);
        return out;
}

char *es_asprintf(const char *fmt, ...)
{
        va_list ap;
        char *out;

        va_start(ap, fmt);
        out = es_vasprintf(fmt, ap);
        va_end(ap);
        return out;
}
