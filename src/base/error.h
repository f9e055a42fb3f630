/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error object passed down as the last argument of every fallible function.
 *
 * A function that fails fills the caller's es_error and returns the negated
 * error code. Callers add context on the way up with es_error_prefix(), so
 * the final message reads "copy 'nginx:1.27': push manifest: 403 DENIED: ...".
 * The object never holds secrets: callers must not format tokens, passwords
 * or Authorization values into it.
 */
#ifndef ES_BASE_ERROR_H
#define ES_BASE_ERROR_H

#include <stdarg.h>

/* One code per failure that a caller handles differently. */
enum es_error_code {
        ES_OK = 0,
        ES_ERR_INVALID = 1,      /* bad input: usage, reference, manifest */
        ES_ERR_NOT_FOUND = 2,    /* 404, missing file */
        ES_ERR_AUTH = 3,         /* 401/403 after trying to authenticate */
        ES_ERR_RATE_LIMITED = 4, /* 429 */
        ES_ERR_DIGEST = 5,       /* content does not match its digest */
        ES_ERR_TRANSIENT = 6,    /* network failure, 5xx: worth retrying */
        ES_ERR_UNSUPPORTED = 7,  /* valid but not handled, e.g. schema 1 */
        ES_ERR_PROTOCOL = 8,     /* the server broke the protocol */
        ES_ERR_IO = 9,           /* local system failure */
        ES_ERR_CANCELLED = 10,   /* stopped on request */
        ES_ERR_TLS = 11,         /* TLS handshake failed: maybe a plain-HTTP server */
};

struct es_error {
        enum es_error_code code;
        long http_status;    /* 0 when no HTTP response was involved */
        char *registry_code; /* e.g. "MANIFEST_UNKNOWN", or NULL */
        char *message;       /* full message with context, or NULL */
};

#define ES_ERROR_INIT                                                                              \
        {                                                                                          \
                0                                                                                  \
        }

/*
 * Set the error, replacing any earlier content. Returns -code so that callers
 * can write `return es_error_set(err, ES_ERR_INVALID, "...")`. err may be NULL.
 */
int es_error_set(struct es_error *err, enum es_error_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

int es_error_setv(struct es_error *err, enum es_error_code code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/*
 * Record the HTTP status and the registry's error code (copied; may be NULL)
 * on an error that es_error_set() already filled.
 */
void es_error_set_http(struct es_error *err, long status, const char *registry_code);

/*
 * Prepend context: "CONTEXT: MESSAGE". Returns the error's negated code, so
 * `return es_error_prefix(err, "push manifest")` propagates it.
 */
int es_error_prefix(struct es_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Move src into dst (releasing what dst held) and leave src empty. */
void es_error_move(struct es_error *dst, struct es_error *src);

/* Free the contents and reset to ES_ERROR_INIT. */
void es_error_release(struct es_error *err);

/* The message, or a generic text for the code when none was set. Never NULL. */
const char *es_error_message(const struct es_error *err);

/* A short name for a code, e.g. "not found". */
const char *es_error_code_name(enum es_error_code code);

#endif
