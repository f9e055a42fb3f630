/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bounded byte pipe between two threads: the blob download writes into
 * it and the upload reads from it, so a blob of any size crosses with at
 * most the pipe's capacity in memory. Either side can stop the other.
 */
#ifndef ES_COPY_PIPE_H
#define ES_COPY_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct es_pipe;

/* Create a pipe holding at most capacity bytes. Free with es_pipe_free(). */
struct es_pipe *es_pipe_new(size_t capacity);
void es_pipe_free(struct es_pipe *pipe);

/* Write all len bytes, blocking while full. Returns 0, or -1 once the reader has closed. */
int es_pipe_write(struct es_pipe *pipe, const char *data, size_t len);

/*
 * Read up to size bytes, blocking while empty. Returns the count, 0 at the
 * end of a successful stream, or -1 when the writer closed with failed set.
 */
ssize_t es_pipe_read(struct es_pipe *pipe, char *buffer, size_t size);

/* End the stream; failed tells the reader that the data is incomplete. */
void es_pipe_close_write(struct es_pipe *pipe, bool failed);

/* Stop reading: pending and later writes fail. */
void es_pipe_close_read(struct es_pipe *pipe);

#endif
