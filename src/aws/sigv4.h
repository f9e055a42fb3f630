/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AWS Signature Version 4, Authorization-header form: builds the canonical
 * request, the string to sign and the signature for one HTTP request, and the
 * header values that carry them. The presigned-URL form (signature in the
 * query string) is not implemented.
 *
 * The functions do no I/O, keep no global state and never log, so they are
 * thread-safe as long as threads do not share an output structure.
 */
#ifndef ES_AWS_SIGV4_H
#define ES_AWS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "base/error.h"

/* One set of AWS credentials. Release with es_aws_credentials_release(). */
struct es_aws_credentials {
        char *access_key_id;     /* owned */
        char *secret_access_key; /* owned; a secret */
        char *session_token;     /* owned; a secret; NULL when absent */
        time_t expiration;       /* 0 when the credentials do not expire */
};

/*
 * Overwrite the secret access key and the session token with zeros, free
 * every field and zero the structure. Accepts NULL.
 */
void es_aws_credentials_release(struct es_aws_credentials *cred);

/*
 * The request to sign. Every pointer is borrowed for the duration of
 * es_sigv4_sign() only.
 */
struct es_sigv4_request {
        /* Sent and signed as given, e.g. "POST". */
        const char *method;
        /*
         * Absolute http or https URL as it goes on the wire, with an optional
         * query. User information ("user@") is rejected. Raw spaces and
         * non-ASCII bytes are accepted in the path and the query.
         */
        const char *url;
        /*
         * "Name: value" lines to sign, in the order they are sent. Values may
         * be folded over several lines ("\r\n" or "\n" followed by a space or
         * tab). Host is derived from url when absent. Authorization,
         * X-Amz-Date, X-Amz-Security-Token and X-Amz-Content-SHA256 are
         * rejected because the signer produces them.
         */
        const char *const *headers;
        size_t n_headers;
        const void *body; /* may be NULL when body_len is 0 */
        size_t body_len;
        /* NULL for the hex sha256 of body, or a fixed value such as "UNSIGNED-PAYLOAD". */
        const char *payload_hash;
        const char *region;  /* e.g. "us-east-1" */
        const char *service; /* e.g. "ecr" */
        time_t timestamp;    /* seconds since the epoch, UTC; years 1970 to 9999 */
        /*
         * Remove "." and ".." segments and empty segments from the path,
         * keeping a trailing slash. True for every service but S3.
         */
        bool normalize_path;
        /*
         * Percent-encode the path once more on top of its wire encoding, so
         * "%2F" is signed as "%252F". True for every service but S3, which
         * signs the path exactly as sent.
         */
        bool encode_path;
        /*
         * Sign X-Amz-Security-Token when the credentials have a session token
         * (normally true). When false, the header is still returned and must
         * still be sent.
         */
        bool sign_session_token;
        /* Add and sign X-Amz-Content-SHA256 with the payload hash (S3 requires it). */
        bool add_content_sha256;
};

/*
 * The signature and the headers to send with it. Every string is owned;
 * release with es_sigv4_result_release(). Do not log authorization or the
 * canonical request: the canonical request contains the session token when
 * the token is signed.
 */
struct es_sigv4_result {
        char *canonical_request;
        char *string_to_sign;
        char *signature;     /* 64 lowercase hex digits */
        char *amz_date;      /* e.g. "20150830T123600Z"; send it as X-Amz-Date */
        char *authorization; /* value of the Authorization header */
        /* "X-Amz-Security-Token: TOKEN", or NULL without a session token */
        char *security_token_header;
        /* "X-Amz-Content-SHA256: HASH", or NULL unless add_content_sha256 was set */
        char *content_sha256_header;
};

/*
 * Sign req with cred. On success fills *out (which the caller releases) and
 * returns 0. Returns -ES_ERR_INVALID for invalid input: a missing region or
 * service, a malformed URL or percent-encoding in the query, a header line
 * without ':', control characters in a header, a header the signer produces,
 * or empty credentials. Returns -ES_ERR_IO when libcrypto fails. *out is not
 * written on failure. Error messages never contain header values or secrets.
 */
int es_sigv4_sign(const struct es_sigv4_request *req, const struct es_aws_credentials *cred,
                  struct es_sigv4_result *out, struct es_error *err)
    __attribute__((warn_unused_result));

/*
 * Free every string and zero the structure. The canonical request and the
 * token header are overwritten with zeros first. Accepts NULL.
 */
void es_sigv4_result_release(struct es_sigv4_result *result);

#endif
