/* SPDX-License-Identifier: Apache-2.0 */
/* Token endpoint responses of the Docker token protocol. */
#ifndef ES_REGISTRY_TOKEN_H
#define ES_REGISTRY_TOKEN_H

#include <stddef.h>

#include "base/error.h"

/* Token lifetime in seconds when the response gives none: the token specification's default. */
#define ES_TOKEN_DEFAULT_LIFETIME 60
/* Maximum lifetime in seconds. Longer lifetimes are capped to it. */
#define ES_TOKEN_MAX_LIFETIME (24 * 3600)
/* Largest token accepted, in bytes. */
#define ES_TOKEN_MAX_LENGTH (64 * 1024)

/*
 * Parse a token response body of len bytes (a JSON object with "token" or
 * "access_token", and "expires_in"). On success, *token is the token (caller
 * frees) and *lifetime its lifetime in seconds, within
 * [1, ES_TOKEN_MAX_LIFETIME]. A token must be printable ASCII without
 * spaces, so that it can go into a header line. realm names the token
 * endpoint in error messages, which do not quote the body. On failure the
 * outputs are not written and the error is ES_ERR_PROTOCOL.
 */
int es_token_response_parse(const char *data, size_t len, const char *realm, char **token,
                            long *lifetime, struct es_error *err);

#endif
