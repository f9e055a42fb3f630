/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for base/parallel.c: every task runs once, on at most the requested threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/limits.h"
#include "base/parallel.h"

#define N_TASKS 2000

struct record {
        atomic_int calls[N_TASKS];
        pthread_mutex_t lock; /* guards threads and n_threads */
        pthread_t threads[ES_MAX_JOBS + 1];
        size_t n_threads;
        atomic_int running, max_running;
};

static void record_task(size_t index, void *ctx)
{
        struct record *record = ctx;
        pthread_t self = pthread_self();
        bool known = false;
        int now = atomic_fetch_add(&record->running, 1) + 1;
        int max = atomic_load(&record->max_running);

        while (now > max && !atomic_compare_exchange_weak(&record->max_running, &max, now))
                ;
        atomic_fetch_add(&record->calls[index], 1);

        pthread_mutex_lock(&record->lock);
        for (size_t i = 0; i < record->n_threads && !known; i++)
                known = pthread_equal(record->threads[i], self);
        if (!known && record->n_threads <= ES_MAX_JOBS)
                record->threads[record->n_threads++] = self;
        pthread_mutex_unlock(&record->lock);

        /* Long enough for the other workers to take tasks too. */
        if (index % 64 == 0)
                usleep(1000);
        atomic_fetch_sub(&record->running, 1);
}

static struct record *record_new(void)
{
        struct record *record = calloc(1, sizeof(*record));

        pthread_mutex_init(&record->lock, NULL);
        return record;
}

static void record_free(struct record *record)
{
        pthread_mutex_destroy(&record->lock);
        free(record);
}

static void assert_each_once(struct record *record, size_t n)
{
        for (size_t i = 0; i < N_TASKS; i++)
                assert_int_equal(atomic_load(&record->calls[i]), i < n ? 1 : 0);
}

static void test_every_task_once(void **state)
{
        struct record *record = record_new();

        (void)state;
        es_parallel_for(N_TASKS, 8, record_task, record);
        assert_each_once(record, N_TASKS);
        assert_true(record->n_threads >= 2);
        assert_true(record->n_threads <= 8);
        assert_true(atomic_load(&record->max_running) <= 8);
        record_free(record);
}

static void test_one_job_runs_on_the_caller(void **state)
{
        struct record *record = record_new();

        (void)state;
        es_parallel_for(100, 1, record_task, record);
        assert_each_once(record, 100);
        assert_int_equal(record->n_threads, 1);
        assert_true(pthread_equal(record->threads[0], pthread_self()));
        record_free(record);
}

static void test_zero_and_negative_jobs_still_run(void **state)
{
        struct record *record = record_new();

        (void)state;
        es_parallel_for(10, 0, record_task, record);
        es_parallel_for(10, -3, record_task, record);
        for (size_t i = 0; i < 10; i++)
                assert_int_equal(atomic_load(&record->calls[i]), 2);
        assert_int_equal(record->n_threads, 1);
        record_free(record);
}

static void test_no_tasks(void **state)
{
        struct record *record = record_new();

        (void)state;
        es_parallel_for(0, 8, record_task, record);
        assert_each_once(record, 0);
        assert_int_equal(record->n_threads, 0);
        record_free(record);
}

static void test_threads_capped_by_tasks_and_limit(void **state)
{
        struct record *record = record_new();

        (void)state;
        es_parallel_for(3, 32, record_task, record);
        assert_each_once(record, 3);
        assert_true(record->n_threads <= 3);
        record_free(record);

        record = record_new();
        es_parallel_for(N_TASKS, ES_MAX_JOBS * 4, record_task, record);
        assert_each_once(record, N_TASKS);
        assert_true(record->n_threads <= ES_MAX_JOBS);
        record_free(record);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_every_task_once),
            cmocka_unit_test(test_one_job_runs_on_the_caller),
            cmocka_unit_test(test_zero_and_negative_jobs_still_run),
            cmocka_unit_test(test_no_tasks),
            cmocka_unit_test(test_threads_capped_by_tasks_and_limit),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
