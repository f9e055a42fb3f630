/* SPDX-License-Identifier: Apache-2.0 */
/* A bounded ring buffer between a writer thread and a reader thread. */
#include "copy/pipe.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

struct es_pipe {
        pthread_mutex_t lock;
        pthread_cond_t changed;
        char *data;
        size_t capacity;
        size_t start; /* index of the first unread byte */
        size_t used;  /* unread bytes */
        bool write_closed;
        bool write_failed;
        bool read_closed;
};

struct es_pipe *es_pipe_new(size_t capacity)
{
        struct es_pipe *pipe = es_calloc(1, sizeof(*pipe));

        pthread_mutex_init(&pipe->lock, NULL);
        pthread_cond_init(&pipe->changed, NULL);
        pipe->data = es_malloc(capacity);
        pipe->capacity = capacity;
        return pipe;
}

void es_pipe_free(struct es_pipe *pipe)
{
        if (pipe == NULL)
                return;
        pthread_cond_destroy(&pipe->changed);
        pthread_mutex_destroy(&pipe->lock);
        free(pipe->data);
        free(pipe);
}

int es_pipe_write(struct es_pipe *pipe, const char *data, size_t len)
{
        pthread_mutex_lock(&pipe->lock);
        while (len > 0) {
                size_t end, chunk;

                while (pipe->used == pipe->capacity && !pipe->read_closed)
                        pthread_cond_wait(&pipe->changed, &pipe->lock);
                if (pipe->read_closed) {
                        pthread_mutex_unlock(&pipe->lock);
                        return -1;
                }

                end = (pipe->start + pipe->used) % pipe->capacity;
                chunk = pipe->capacity - pipe->used;
                if (chunk > pipe->capacity - end)
                        chunk = pipe->capacity - end;
                if (chunk > len)
                        chunk = len;
                memcpy(pipe->data + end, data, chunk);
                pipe->used += chunk;
                data += chunk;
                len -= chunk;
                pthread_cond_broadcast(&pipe->changed);
        }
        pthread_mutex_unlock(&pipe->lock);
        return 0;
}

ssize_t es_pipe_read(struct es_pipe *pipe, char *buffer, size_t size)
{
        size_t chunk;

        pthread_mutex_lock(&pipe->lock);
        while (pipe->used == 0 && !pipe->write_closed)
                pthread_cond_wait(&pipe->changed, &pipe->lock);
        if (pipe->used == 0) {
                bool failed = pipe->write_failed;

                pthread_mutex_unlock(&pipe->lock);
                return failed ? -1 : 0;
        }

        chunk = pipe->used;
        if (chunk > pipe->capacity - pipe->start)
                chunk = pipe->capacity - pipe->start;
        if (chunk > size)
                chunk = size;
        memcpy(buffer, pipe->data + pipe->start, chunk);
        pipe->start = (pipe->start + chunk) % pipe->capacity;
        pipe->used -= chunk;
        pthread_cond_broadcast(&pipe->changed);
        pthread_mutex_unlock(&pipe->lock);
        return (ssize_t)chunk;
}

void es_pipe_close_write(struct es_pipe *pipe, bool failed)
{
        pthread_mutex_lock(&pipe->lock);
        pipe->write_closed = true;
        pipe->write_failed = failed;
        pthread_cond_broadcast(&pipe->changed);
        pthread_mutex_unlock(&pipe->lock);
}

void es_pipe_close_read(struct es_pipe *pipe)
{
        pthread_mutex_lock(&pipe->lock);
        pipe->read_closed = true;
        pthread_cond_broadcast(&pipe->changed);
        pthread_mutex_unlock(&pipe->lock);
}
