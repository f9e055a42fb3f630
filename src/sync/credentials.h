/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registry credentials from the sync configuration: `registries.HOST.
 * credentials` names environment variables, files, or a Secrets Manager
 * secret holding JSON with "username" and "password". Registries without
 * such an entry fall back to Docker's config.json. Values are read when
 * first needed and kept for the run.
 */
#ifndef ES_SYNC_CREDENTIALS_H
#define ES_SYNC_CREDENTIALS_H

#include "base/error.h"
#include "registry/credentials.h"
#include "sync/config.h"

struct es_registries;

/* Largest credential file or secret read. */
#define ES_MAX_CREDENTIAL_SIZE (64u * 1024)

struct es_config_credentials;

/*
 * Create the provider. config, fallback and registries (for Secrets
 * Manager calls) must outlive it. Free with es_config_credentials_free().
 */
struct es_config_credentials *
es_config_credentials_new(const struct es_sync_config *config,
                          const struct es_credential_provider *fallback,
                          struct es_registries *registries);
void es_config_credentials_free(struct es_config_credentials *credentials);

/* The provider interface; valid while credentials lives. */
const struct es_credential_provider *
es_config_credentials_provider(struct es_config_credentials *credentials);

#endif
