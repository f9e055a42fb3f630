/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocation helpers. ecr-sync is an application: running out of memory
 * aborts with a message instead of threading ENOMEM through every caller.
 * Every pointer returned here is owned by the caller and freed with free().
 */
#ifndef ES_BASE_ALLOC_H
#define ES_BASE_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *es_malloc(size_t size);
void *es_calloc(size_t count, size_t size);
void *es_realloc(void *ptr, size_t size);
char *es_strdup(const char *s);
char *es_strndup(const char *s, size_t n);
char *es_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *es_vasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
