/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sync configuration: a YAML file naming the target registry, the
 * settings of the repositories created there, per-registry options and the
 * images to keep in sync. docs/configuration.md describes every key.
 *
 * Loading validates the whole file before anything is contacted: types,
 * unknown keys, references, tag filters (regexes and semver ranges),
 * platforms, the lifecycle policy, the schedule and the mapping of images to
 * target repositories. Credentials are not resolved here: no environment
 * variable, secret file or network service is read. The executor resolves
 * them when it opens a registry.
 *
 * Nothing changes a configuration after loading, so several threads may read
 * one at once, including applying its compiled tag filters.
 */
#ifndef ES_SYNC_CONFIG_H
#define ES_SYNC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "base/retry.h"
#include "copy/platform.h"
#include "registry/reference.h"

/* Largest configuration file read, in bytes. */
#define ES_SYNC_CONFIG_MAX_SIZE (4u * 1024 * 1024)

/* Errors listed in one message before the rest are only counted. */
#define ES_SYNC_CONFIG_MAX_ERRORS 20

struct es_tag_filter; /* sync/filter.h */

/*
 * Sources of a registry's credentials. Exactly one form is set: the
 * environment variable pair, the file pair, or aws_secret (with an optional
 * aws_secret_region). Unused members are NULL. Every member is owned.
 */
struct es_sync_credentials {
        char *username_env; /* environment variable names */
        char *password_env;
        char *username_file; /* paths, already resolved against the config's directory */
        char *password_file;
        char *aws_secret;        /* Secrets Manager secret name or ARN */
        char *aws_secret_region; /* NULL: the run's AWS region */
};

/* One entry under `registries`. */
struct es_sync_registry {
        char *host;    /* normalised as in references: "docker.io", "[::1]:5000"; owned */
        bool insecure; /* plain HTTP and unverified certificates allowed */
        char *ca_file; /* owned; resolved against the config's directory; NULL when unset */
        bool has_credentials;
        struct es_sync_credentials credentials;
        long rate_limit_reserve; /* pulls to leave unspent; -1 when unset */
        int line;                /* line of the host key in the file */
};

/* One ECR resource tag. */
struct es_sync_tag {
        char *key;   /* owned */
        char *value; /* owned; may be empty */
};

/* target.repository_settings; every string is owned. */
struct es_sync_repository_settings {
        char *image_tag_mutability; /* "MUTABLE", "IMMUTABLE" or NULL when unset */
        int scan_on_push;           /* 1, 0, or -1 when unset */
        char *encryption_type;      /* "AES256", "KMS" or NULL when unset */
        char *kms_key;              /* only with "KMS"; NULL for the AWS managed key */
        struct es_sync_tag *resource_tags;
        size_t n_resource_tags;
        char *lifecycle_policy; /* validated policy JSON text, or NULL */
};

/* One entry of `images`. */
struct es_sync_image {
        struct es_reference source; /* tag and digest are NULL; owned */
        char *target_repository;    /* full target repository path, prefix included; owned */
        bool has_tags;              /* a `tags` mapping was given */
        char **include;             /* owned regexes, in file order */
        size_t n_include;
        char **exclude; /* owned regexes */
        size_t n_exclude;
        char *semver;    /* owned range text, or NULL */
        unsigned latest; /* keep the newest N tags; 0 when unset */
        /*
         * Compiled from the four fields above; owned. Never NULL: without
         * `tags` it selects every tag.
         */
        struct es_tag_filter *filter;
        struct es_platform_spec *platforms; /* owned; NULL and 0 when every platform is copied */
        size_t n_platforms;
        int line; /* line of the image's entry in the file */
};

struct es_sync_config {
        char *path;               /* the path given to load or parse; owned */
        bool target_is_ecr;       /* target.ecr was given; else target.registry */
        char *ecr_region;         /* owned; NULL: resolved from the AWS settings at run time */
        char *ecr_account;        /* 12 digits, owned; NULL: the caller's account */
        char *target_registry;    /* normalised host, owned; NULL for ECR */
        char *repository_prefix;  /* owned, NULL when unset */
        bool create_repositories; /* default true */
        bool manage_settings;     /* default true */
        bool has_repository_settings;
        struct es_sync_repository_settings settings;
        struct es_sync_registry *registries; /* owned, in file order */
        size_t n_registries;
        struct es_sync_image *images; /* owned, in file order; at least one */
        size_t n_images;
        char *schedule;               /* five-field cron expression, owned; NULL when unset */
        struct es_retry_policy retry; /* `retries`; zero fields when unset */
};

/*
 * Read the file at path (at most ES_SYNC_CONFIG_MAX_SIZE bytes) and parse it
 * with es_sync_config_parse(). Returns 0 and sets *out, to free with
 * es_sync_config_free(). Every failure, an unreadable file included, is
 * -ES_ERR_INVALID, and *out is untouched.
 */
int es_sync_config_load(const char *path, struct es_sync_config **out, struct es_error *err);

/*
 * Parse and validate len bytes of YAML text. path names the file in messages
 * and is the base for relative paths in it (ca_file, *_file,
 * lifecycle_policy_file); NULL reads as "config" in the current directory.
 * lifecycle_policy_file is read here, and ca_file must be a readable file.
 *
 * Returns 0 and sets *out, to free with es_sync_config_free(). On failure
 * returns -ES_ERR_INVALID, leaves *out untouched, and err contains every
 * problem found (up to ES_SYNC_CONFIG_MAX_ERRORS), one per line in file
 * order, each as "FILE:LINE:COLUMN: KEY: what is expected", with KEY a
 * dotted path such as images[2].tags.semver (indexes count from 0). A YAML
 * syntax error stops parsing and is reported alone.
 */
int es_sync_config_parse(const char *text, size_t len, const char *path,
                         struct es_sync_config **out, struct es_error *err);

/* Free the configuration and everything it owns. Accepts NULL. */
void es_sync_config_free(struct es_sync_config *config);

/*
 * The `registries` entry for host, written as in references ("docker.io",
 * "127.0.0.1:5000"; case and index.docker.io are normalised), or NULL when
 * the file does not configure it. Points into config.
 */
const struct es_sync_registry *es_sync_config_registry(const struct es_sync_config *config,
                                                       const char *host);

#endif
