/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ECR repositories for a sync: create each target repository with the
 * configured settings, and while target.manage_settings is on, bring the
 * settings of existing repositories back to the configuration. Other
 * registries create repositories on push: nothing to do for them.
 */
#ifndef ES_SYNC_SETTINGS_H
#define ES_SYNC_SETTINGS_H

#include <stdbool.h>

#include "base/error.h"
#include "sync/config.h"
#include "sync/registries.h"

struct es_repository_outcome {
        bool created;
        unsigned changed; /* settings re-applied to an existing repository */
        char *warning;    /* owned: a difference that cannot be changed, or NULL */
};

void es_repository_outcome_release(struct es_repository_outcome *outcome);

/*
 * Make repository ready on registry (an ECR host, else nothing happens):
 * describe it; create it when missing and create_repositories is on (with
 * tag mutability, scanning, encryption, tags and the lifecycle policy), or
 * fail naming it when that is off; with manage_settings on, re-apply tag
 * mutability, scan on push and the lifecycle policy when they differ.
 * Encryption cannot change after creation: a difference is a warning.
 */
int es_repository_prepare(struct es_registries *registries, const struct es_sync_config *config,
                          const char *registry, const char *repository,
                          struct es_repository_outcome *outcome, struct es_error *err);

#endif
