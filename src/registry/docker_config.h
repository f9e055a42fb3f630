/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registry credentials from Docker's config.json: $DOCKER_CONFIG/config.json,
 * else ~/.docker/config.json. Entries under "auths" carry "auth"
 * (base64 "user:password") or "username" and "password", or an
 * "identitytoken". Docker Hub's key is "https://index.docker.io/v1/"; keys
 * may also be written as a bare host, with a scheme, or with a "/v1/" or
 * "/v2/" path. "credsStore" and "credHelpers" name docker-credential-*
 * programs; this module reports which helper applies but does not run it.
 */
#ifndef ES_REGISTRY_DOCKER_CONFIG_H
#define ES_REGISTRY_DOCKER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

struct es_docker_config;

struct es_docker_auth {
        char *username;       /* owned; NULL when absent */
        char *password;       /* owned; NULL when absent. A secret: never log it */
        char *identity_token; /* owned; NULL when absent. A secret */
        char *helper;         /* owned: credential helper name when one applies, else NULL */
};

/*
 * Parse the JSON text of a config file (len bytes). Empty or blank text is
 * an empty configuration, as for Docker. path is used in error messages only.
 * Returns a new object in *out (free with es_docker_config_free), or
 * ES_ERR_INVALID naming the path and the problem. Problems are invalid JSON,
 * a member of the wrong type, or a helper name with characters other than
 * letters, digits, '-', '_' and '.'. JSON errors give line and column only,
 * never the text near the error, which could be a password.
 */
int es_docker_config_parse(const char *data, size_t len, const char *path,
                           struct es_docker_config **out, struct es_error *err);

/*
 * Load the file that Docker itself would read ($HOME falls back to the
 * password database). A missing file is not an error: *out is then an empty
 * configuration. A file over ES_MAX_DOCKER_CONFIG returns ES_ERR_INVALID,
 * and one that cannot be read ES_ERR_IO.
 */
int es_docker_config_load(struct es_docker_config **out, struct es_error *err);

/*
 * Find credentials for a registry ("docker.io", "ghcr.io", "127.0.0.1:5000").
 * credHelpers wins over auths, and auths over credsStore. An auths entry
 * without credentials (Docker writes empty ones next to a credsStore) is
 * skipped. Among keys naming the same registry, Docker's own form wins
 * ("https://index.docker.io/v1/" for Docker Hub, the bare host otherwise),
 * then the first in the file. "auth" wins over "username" and "password".
 * Fills *out (release with es_docker_auth_release) and sets *found, or sets
 * *found to false when nothing applies. An "auth" value that is not valid
 * base64 of "user:password" returns ES_ERR_INVALID naming the registry (not
 * the value). Safe to call from several threads on one config.
 */
int es_docker_config_lookup(const struct es_docker_config *config, const char *registry,
                            struct es_docker_auth *out, bool *found, struct es_error *err);

void es_docker_auth_release(struct es_docker_auth *auth);
void es_docker_config_free(struct es_docker_config *config);

#endif
