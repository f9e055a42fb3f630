/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Docker credential helpers: the programs named by credsStore and
 * credHelpers in Docker's config.json. ecr-sync runs
 * "docker-credential-NAME get" (found on PATH, no shell), writes the server
 * URL to its standard input and reads {"ServerURL","Username","Secret"} from
 * its standard output. A Username of "<token>" marks Secret as an identity
 * token.
 */
#ifndef ES_REGISTRY_CREDENTIAL_HELPER_H
#define ES_REGISTRY_CREDENTIAL_HELPER_H

#include <stdbool.h>

#include "base/error.h"
#include "registry/credentials.h"

/* Seconds a helper may take before it is killed. */
#define ES_CREDENTIAL_HELPER_TIMEOUT 30

/*
 * Ask helper (the NAME in docker-credential-NAME) for server_url's
 * credentials. Sets *found to false when the helper reports that it has none
 * ("credentials not found"). A missing program, a failure or a timeout is
 * ES_ERR_AUTH naming the helper and its first line of stderr, never the
 * output, which holds the secret.
 */
int es_credential_helper_get(const char *helper, const char *server_url, struct es_credentials *out,
                             bool *found, struct es_error *err);

#endif
