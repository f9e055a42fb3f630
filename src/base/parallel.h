/* SPDX-License-Identifier: Apache-2.0 */
/* Running independent tasks on a small pool of threads. */
#ifndef ES_BASE_PARALLEL_H
#define ES_BASE_PARALLEL_H

#include <stddef.h>

/* One task: index is in [0, n). Tasks must not depend on each other. */
typedef void (*es_parallel_fn)(size_t index, void *ctx);

/*
 * Call fn(i, ctx) once for each i in [0, n), on at most jobs threads
 * (capped at ES_MAX_JOBS and at n), and return when every call has
 * returned. Tasks are handed out in index order. With jobs <= 1, or when
 * no thread can be started, the calls run on the calling thread.
 */
void es_parallel_for(size_t n, int jobs, es_parallel_fn fn, void *ctx);

#endif
