/* SPDX-License-Identifier: Apache-2.0 */
/* Transferring one blob: existence check, mount, or verified streaming copy. */
#include "copy/blob.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/limits.h"
#include "base/log.h"
#include "copy/blob_index.h"
#include "copy/pipe.h"
#include "registry/digest.h"

/* Tries for one blob; each starts over from a new download and upload session. */
#define BLOB_ATTEMPTS 3

/* The download side of a streaming copy, run on its own thread. */
struct download {
        const struct es_blob_job *job;
        struct es_pipe *pipe;
        struct es_sha256 *sha256;
        uint64_t bytes;
        bool too_long;
        int result;
        struct es_error err;
};

/* The upload side's view of the stream: stops at the declared size. */
struct upload_source {
        struct es_pipe *pipe;
        int64_t expected;
        int64_t sent;
};

static int download_write(const char *data, size_t len, void *ctx)
{
        struct download *download = ctx;

        download->bytes += len;
        if (download->bytes > (uint64_t)download->job->descriptor->size) {
                download->too_long = true;
                return -1;
        }
        es_sha256_update(download->sha256, data, len);
        return es_pipe_write(download->pipe, data, len);
}

static void *download_run(void *ctx)
{
        struct download *download = ctx;
        const struct es_blob_job *job = download->job;

        download->result =
            es_registry_blob_get(job->src, job->src_repository, job->descriptor->digest,
                                 download_write, download, &download->err);
        es_pipe_close_write(download->pipe, download->result < 0);
        return NULL;
}

static ssize_t upload_read(char *buffer, size_t size, void *ctx)
{
        struct upload_source *source = ctx;
        ssize_t n = es_pipe_read(source->pipe, buffer, size);

        if (n < 0)
                return -1;
        /* The download ended early: never let a short body pass for the whole blob. */
        if (n == 0 && source->sent < source->expected)
                return -1;
        source->sent += n;
        return n;
}

/* The download's outcome as an error, or 0 when the bytes are the blob's. */
static int check_download(struct download *download, struct es_error *err)
{
        const struct es_descriptor *descriptor = download->job->descriptor;
        char actual[ES_DIGEST_SHA256_LENGTH];

        if (download->too_long)
                return es_error_set(err, ES_ERR_DIGEST,
                                    "the source sent more than the descriptor's %lld bytes",
                                    (long long)descriptor->size);
        if (download->result < 0) {
                es_error_move(err, &download->err);
                return download->result;
        }
        if (download->bytes != (uint64_t)descriptor->size)
                return es_error_set(
                    err, ES_ERR_DIGEST, "the source sent %llu bytes, the descriptor says %lld",
                    (unsigned long long)download->bytes, (long long)descriptor->size);
        es_sha256_final(download->sha256, actual);
        if (strcmp(actual, descriptor->digest) != 0)
                return es_error_set(err, ES_ERR_DIGEST,
                                    "the source served content with digest '%s'", actual);
        return 0;
}

/* Small blobs need no full-size stream buffer. */
static size_t stream_buffer_size(int64_t blob_size)
{
        if (blob_size < (int64_t)ES_STREAM_BUFFER_MIN)
                return ES_STREAM_BUFFER_MIN;
        if (blob_size > (int64_t)ES_STREAM_BUFFER_SIZE)
                return ES_STREAM_BUFFER_SIZE;
        return (size_t)blob_size;
}

static int stream_copy(const struct es_blob_job *job, char *location, struct es_error *err)
{
        struct download download = {.job = job, .err = ES_ERROR_INIT};
        struct upload_source source = {.expected = job->descriptor->size};
        struct es_error upload_err = ES_ERROR_INIT;
        pthread_t thread;
        int r, upload_r;

        download.pipe = source.pipe = es_pipe_new(stream_buffer_size(job->descriptor->size));
        download.sha256 = es_sha256_new();
        if (pthread_create(&thread, NULL, download_run, &download) != 0) {
                es_pipe_free(download.pipe);
                es_sha256_free(download.sha256);
                es_registry_upload_cancel(job->dst, job->dst_repository, location);
                free(location);
                return es_error_set(err, ES_ERR_IO, "cannot start a download thread");
        }

        upload_r = es_registry_upload_patch(job->dst, job->dst_repository, &location, upload_read,
                                            &source, job->descriptor->size, &upload_err);
        es_pipe_close_read(download.pipe);
        pthread_join(thread, NULL);

        /* A failed download explains a failed upload better than the reverse. */
        r = check_download(&download, err);
        if (r >= 0 && upload_r < 0) {
                es_error_move(err, &upload_err);
                r = upload_r;
        }
        if (r >= 0)
                r = es_registry_upload_finish(job->dst, job->dst_repository, location,
                                              job->descriptor->digest, err);
        else
                es_registry_upload_cancel(job->dst, job->dst_repository, location);

        es_error_release(&upload_err);
        es_error_release(&download.err);
        es_sha256_free(download.sha256);
        es_pipe_free(download.pipe);
        free(location);
        return r;
}

static bool worth_retrying(int r)
{
        return r == -ES_ERR_TRANSIENT || r == -ES_ERR_DIGEST || r == -ES_ERR_RATE_LIMITED;
}

static void emit_retry(const struct es_blob_job *job, const struct es_error *err)
{
        struct es_copy_event event = {
            .type = ES_COPY_RETRY,
            .digest = job->descriptor->digest,
            .media_type = job->descriptor->media_type,
            .size = job->descriptor->size,
            .message = es_error_message(err),
        };

        if (job->options && job->options->on_event)
                job->options->on_event(&event, job->options->event_ctx);
}

/* Open an upload session, or mount the blob from mount_from when that is set. */
static int upload_or_mount(const struct es_blob_job *job, const char *mount_from,
                           enum es_blob_outcome *outcome, struct es_error *err)
{
        char *location = NULL;
        bool mounted = false;
        int r;

        r = es_registry_upload_start(job->dst, job->dst_repository, job->descriptor->digest,
                                     mount_from, &mounted, &location, err);
        if (r < 0)
                return r;
        if (mounted) {
                *outcome = ES_BLOB_MOUNTED;
                return 0;
        }
        r = stream_copy(job, location, err);
        if (r >= 0)
                *outcome = ES_BLOB_COPIED;
        return r;
}

static int transfer_once(const struct es_blob_job *job, enum es_blob_outcome *outcome,
                         struct es_error *err)
{
        struct es_blob_index *index = job->options ? job->options->blob_index : NULL;
        const char *registry = es_registry_name(job->dst);
        const char *digest = job->descriptor->digest;
        _cleanup_free_ char *from = NULL;
        bool found = false;
        int r;

        r = es_registry_blob_head(job->dst, job->dst_repository, digest, &found, err);
        if (r < 0)
                return r;
        if (found) {
                if (index)
                        es_blob_index_add(index, registry, digest, job->dst_repository);
                *outcome = ES_BLOB_EXISTS;
                return 0;
        }
        if (index == NULL)
                return upload_or_mount(job, job->mount_from, outcome, err);

        /* Another copy of this run may hold or be transferring the blob: wait, then mount. */
        if (es_blob_index_claim(index, registry, digest, &from) == ES_BLOB_CLAIM_MOUNT) {
                if (strcmp(from, job->dst_repository) != 0)
                        return upload_or_mount(job, from, outcome, err);
                /* Another copy put it into this very repository after our HEAD. */
                *outcome = ES_BLOB_EXISTS;
                return 0;
        }

        r = upload_or_mount(job, job->mount_from, outcome, err);
        es_blob_index_done(index, registry, digest, job->dst_repository, r >= 0);
        return r;
}

int es_blob_transfer(const struct es_blob_job *job, enum es_blob_outcome *outcome,
                     struct es_error *err)
{
        int r = 0;

        for (int attempt = 1; attempt <= BLOB_ATTEMPTS; attempt++) {
                r = transfer_once(job, outcome, err);
                if (r >= 0 || !worth_retrying(r) || attempt == BLOB_ATTEMPTS)
                        break;
                emit_retry(job, err);
                es_log_debug("copy: blob '%s': %s; attempt %d of %d", job->descriptor->digest,
                             es_error_message(err), attempt + 1, BLOB_ATTEMPTS);
                nanosleep(&(struct timespec){.tv_sec = attempt}, NULL);
        }
        if (r < 0)
                return es_error_prefix(err, "copy blob '%s'", job->descriptor->digest);
        /* A failed attempt's message is history once a later one succeeded. */
        es_error_release(err);
        return 0;
}
