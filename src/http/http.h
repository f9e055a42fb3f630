/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libcurl transport. One es_http is shared by every thread of a run: it
 * owns a pool of easy handles, each keeping its connections between requests,
 * and a share handle for DNS answers and TLS sessions across threads.
 *
 * Requests are described by es_http_request and performed synchronously on
 * the calling thread. Response bodies go to a size-capped buffer, or, for
 * 2xx responses, to a streaming sink. Request bodies come from memory or
 * from a streaming source. Redirects are followed only when asked; libcurl
 * then drops custom Authorization headers when the redirect leaves the
 * original scheme, host and port.
 */
#ifndef ES_HTTP_HTTP_H
#define ES_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/error.h"

struct es_http;

struct es_http_options {
        const char *ca_file;    /* CA bundle for verification; NULL: the system's */
        const char *user_agent; /* NULL: "ecr-sync/VERSION" */
};

/* Create a client. Returns 0 and *out (free with es_http_free), or an error. */
int es_http_new(const struct es_http_options *options, struct es_http **out, struct es_error *err);
void es_http_free(struct es_http *http);

/*
 * Streaming request body: copy up to size bytes into buffer and return how
 * many were written, 0 at the end, or -1 to abort the request.
 */
typedef ssize_t (*es_http_read_fn)(char *buffer, size_t size, void *ctx);

/* Streaming response sink: consume len bytes; return 0, or -1 to abort. */
typedef int (*es_http_write_fn)(const char *data, size_t len, void *ctx);

struct es_http_request {
        const char *method; /* "GET", "HEAD", "PUT", "POST", "PATCH", "DELETE" */
        const char *url;
        const char *const *headers; /* "Name: value" lines; may include secrets */
        size_t n_headers;

        const void *body; /* in-memory request body, or NULL */
        size_t body_len;
        es_http_read_fn read; /* streaming request body, instead of body */
        void *read_ctx;
        int64_t read_size; /* Content-Length of the streamed body; -1: chunked */

        es_http_write_fn write; /* sink for 2xx bodies; NULL: into response->body */
        void *write_ctx;
        long *status_seen; /* set to each response's status as it arrives; may be NULL */
        size_t max_body;   /* cap for response->body; 0: ES_MAX_ERROR_BODY */

        bool follow_redirects;
        bool insecure_tls;       /* accept certificates that cannot be verified */
        const char *ca_file;     /* CA bundle for this request; NULL: the client's */
        long connect_timeout_ms; /* 0: 30 s */
        long timeout_ms;         /* whole request; 0: none beyond the stall limit */
};

struct es_http_header {
        char *name;  /* owned, as received */
        char *value; /* owned, trimmed */
};

struct es_http_response {
        long status;
        struct es_http_header *headers; /* owned; of the last response when redirected */
        size_t n_headers;
        struct es_buf body;  /* owned; non-2xx bodies always land here */
        bool body_truncated; /* the body exceeded max_body and was cut */
        bool sink_failed;    /* the write sink returned -1 */
};

/*
 * Perform a request. Returns 0 when an HTTP response arrived, whatever its
 * status, and fills *response (release with es_http_response_release). A
 * transport failure returns ES_ERR_TRANSIENT, except a failed TLS handshake
 * (for instance with a server that speaks plain HTTP), which returns
 * ES_ERR_TLS so callers can fall back where that is allowed. Thread-safe.
 */
int es_http_perform(struct es_http *http, const struct es_http_request *request,
                    struct es_http_response *response, struct es_error *err);

void es_http_response_release(struct es_http_response *response);

/* The first value of a header (case-insensitive name), or NULL. Points into response. */
const char *es_http_response_header(const struct es_http_response *response, const char *name);

/* All values of a header joined with ", ", or NULL. Caller frees. */
char *es_http_response_header_join(const struct es_http_response *response, const char *name);

/*
 * Remembered transport scheme of a host for this run: "https", "http", or
 * NULL when not yet known. The string is static.
 */
const char *es_http_scheme_get(struct es_http *http, const char *host);
void es_http_scheme_set(struct es_http *http, const char *host, const char *scheme);

#endif
