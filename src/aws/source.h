/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the credential sources (STS, SSO, container, IMDS,
 * credential_process): timestamps, validation and copying of credentials,
 * JSON credential documents and secret files. Internal to src/aws/.
 */
#ifndef ES_AWS_SOURCE_H
#define ES_AWS_SOURCE_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "aws/sigv4.h"
#include "base/error.h"

/* Responses of credential endpoints (STS, SSO, container, IMDS) and credential_process output. */
#define ES_AWS_MAX_CREDENTIALS_RESPONSE (64u * 1024)

/* Web identity token files and container authorization token files. */
#define ES_AWS_MAX_TOKEN_FILE (64u * 1024)

/* Maximum length of an access key id, secret key or session token, in bytes. */
#define ES_AWS_MAX_CREDENTIAL_FIELD (16u * 1024)

/*
 * Parse an ISO 8601 UTC timestamp as AWS services write it:
 * "2024-05-01T12:00:00Z", with optional fractional seconds, and "Z", "UTC",
 * "+HH:MM", "+HHMM" or no suffix (taken as UTC). Returns 0 and *out, or
 * -ES_ERR_INVALID.
 */
int es_aws_time_parse(const char *text, time_t *out) __attribute__((warn_unused_result));

/* Format t as "YYYY-MM-DDTHH:MM:SSZ" into buffer (at least 21 bytes). */
void es_aws_time_format(time_t t, char *buffer, size_t size);

/*
 * Check credentials before use: a non-empty access key id and secret key,
 * and every field printable ASCII without spaces (the values go into HTTP
 * headers) and at most ES_AWS_MAX_CREDENTIAL_FIELD bytes. what names the
 * source in the message, which never contains the values. Returns 0 or
 * -ES_ERR_PROTOCOL.
 */
int es_aws_credentials_check(const struct es_aws_credentials *credentials, const char *what,
                             struct es_error *err) __attribute__((warn_unused_result));

/* Deep-copy src into dst; release dst with es_aws_credentials_release(). */
void es_aws_credentials_copy(struct es_aws_credentials *dst, const struct es_aws_credentials *src);

/* Overwrite a secret string with zeros and free it. Accepts NULL. */
void es_aws_secret_free(char *secret);

/*
 * Parse a JSON object from a response or program output that contains
 * secrets. The message gives only the position of a syntax error, since
 * jansson's own text quotes the input. Returns 0 and *out (caller decrefs),
 * or -ES_ERR_PROTOCOL.
 */
int es_aws_json_parse(const char *data, size_t len, const char *what, json_t **out,
                      struct es_error *err) __attribute__((warn_unused_result));

/* Member names of a JSON credentials document. */
struct es_aws_json_names {
        const char *access_key_id;
        const char *secret_access_key;
        const char *session_token; /* optional member */
        const char *expiration;    /* optional member: ISO 8601 string or epoch milliseconds */
};

/*
 * Read credentials from a JSON object, then check them with
 * es_aws_credentials_check(). Returns 0 and *out, or -ES_ERR_PROTOCOL
 * naming the missing or invalid member; *out is untouched on failure.
 */
int es_aws_json_credentials(json_t *object, const struct es_aws_json_names *names, const char *what,
                            struct es_aws_credentials *out, struct es_error *err)
    __attribute__((warn_unused_result));

/*
 * Read a small file holding a secret (a token), without its trailing
 * whitespace. Returns 0 and *out (free with es_aws_secret_free), or
 * -ES_ERR_IO (-ES_ERR_NOT_FOUND for a missing file) naming what and path, or
 * -ES_ERR_INVALID when the file is empty, contains a NUL byte or exceeds max
 * bytes.
 */
int es_aws_read_secret_file(const char *path, const char *what, size_t max, char **out,
                            struct es_error *err) __attribute__((warn_unused_result));

/* Percent-encode s for a query string or form body (RFC 3986 unreserved kept). Caller frees. */
char *es_aws_url_encode(const char *s);

#endif
