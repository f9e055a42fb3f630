/* SPDX-License-Identifier: Apache-2.0 */
/* Running independent tasks on a small pool of threads. */
#include "base/parallel.h"

#include <pthread.h>
#include <stdbool.h>

#include "base/limits.h"

struct pool {
        pthread_mutex_t lock; /* guards next */
        size_t next;
        size_t n;
        es_parallel_fn fn;
        void *ctx;
};

static bool take(struct pool *pool, size_t *index)
{
        bool found;

        pthread_mutex_lock(&pool->lock);
        found = pool->next < pool->n;
        if (found)
                *index = pool->next++;
        pthread_mutex_unlock(&pool->lock);
        return found;
}

static void *run(void *ctx)
{
        struct pool *pool = ctx;
        size_t index;

        while (take(pool, &index))
                pool->fn(index, pool->ctx);
        return NULL;
}

void es_parallel_for(size_t n, int jobs, es_parallel_fn fn, void *ctx)
{
        struct pool pool = {.n = n, .fn = fn, .ctx = ctx};
        pthread_t threads[ES_MAX_JOBS];
        size_t n_threads = 0, n_workers;

        if (n == 0)
                return;
        n_workers = jobs < 1 ? 1 : (size_t)jobs;
        if (n_workers > ES_MAX_JOBS)
                n_workers = ES_MAX_JOBS;
        if (n_workers > n)
                n_workers = n;

        pthread_mutex_init(&pool.lock, NULL);
        /* The calling thread is one of the workers. */
        while (n_threads + 1 < n_workers &&
               pthread_create(&threads[n_threads], NULL, run, &pool) == 0)
                n_threads++;
        run(&pool);
        for (size_t i = 0; i < n_threads; i++)
                pthread_join(threads[i], NULL);
        pthread_mutex_destroy(&pool.lock);
}
