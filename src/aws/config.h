/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AWS shared configuration files: ~/.aws/config and ~/.aws/credentials
 * (or AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE), read the way botocore
 * reads them.
 *
 * Syntax (botocore uses Python's configparser): `[section]` headers, `key =
 * value` or `key: value` lines, full-line comments starting with '#' or ';'
 * (a '#' inside a value is part of the value), keys lowercased, values
 * trimmed. A key with an empty value followed by indented `name = value`
 * lines is a sub-section, such as `s3 =` then `  max_concurrent_requests =
 * 20`. An indented line after a key with a value continues that value. Duplicate
 * sections and duplicate keys within one section are errors, as in
 * configparser's strict mode.
 *
 * In the config file, `[default]` and `[profile NAME]` are profiles and
 * `[sso-session NAME]` is an SSO session; NAME may be quoted. In the
 * credentials file every `[NAME]` is a profile. When both files set a key of
 * the same profile, the credentials file wins, as botocore merges them.
 *
 * Errors name FILE:LINE and never quote a value, since values can be secret
 * keys.
 */
#ifndef ES_AWS_CONFIG_H
#define ES_AWS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

/* Maximum size of a config or credentials file, in bytes. */
#define ES_AWS_MAX_CONFIG_FILE (1024u * 1024)

/* One `key = value` line; children are the lines of a sub-section. */
struct es_aws_ini_entry {
        char *key;   /* lowercased, except inside a sub-section as botocore does */
        char *value; /* trimmed; "" for a sub-section; may be a secret */
        unsigned line;
        struct es_aws_ini_entry *children;
        size_t n_children;
};

struct es_aws_ini_section {
        char *name; /* the text between the brackets, trimmed */
        unsigned line;
        struct es_aws_ini_entry *entries;
        size_t n_entries;
};

struct es_aws_ini {
        char *path; /* used in messages */
        struct es_aws_ini_section *sections;
        size_t n_sections;
};

/*
 * Parse len bytes of INI text. path is only used in messages. Returns 0 and
 * fills *out (release with es_aws_ini_release), or ES_ERR_INVALID with
 * "PATH:LINE: ..." and *out untouched.
 */
int es_aws_ini_parse(const char *text, size_t len, const char *path, struct es_aws_ini *out,
                     struct es_error *err) __attribute__((warn_unused_result));

void es_aws_ini_release(struct es_aws_ini *ini);

/* The section with this exact name, or NULL. Points into ini. */
const struct es_aws_ini_section *es_aws_ini_section(const struct es_aws_ini *ini, const char *name);

/* The entry with this key (compared exactly), or NULL. Points into section. */
const struct es_aws_ini_entry *es_aws_ini_entry(const struct es_aws_ini_section *section,
                                                const char *key);

/* Both files, parsed. Immutable after loading, so it may be shared between threads. */
struct es_aws_config;

enum es_aws_config_file {
        ES_AWS_CONFIG_FILE = 0,      /* ~/.aws/config */
        ES_AWS_CREDENTIALS_FILE = 1, /* ~/.aws/credentials */
};

/* A looked-up value with where it was set, for messages. */
struct es_aws_config_value {
        const char *value; /* NULL when absent; points into the config */
        const char *path;  /* the file that set it, or NULL */
        unsigned line;
};

/*
 * Load the files named by AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE, or
 * ~/.aws/config and ~/.aws/credentials; a leading "~/" is replaced by $HOME.
 * A missing file counts as empty. Returns 0 and *out (free with
 * es_aws_config_free), ES_ERR_INVALID for a syntax error, ES_ERR_IO when a
 * file cannot be read.
 */
int es_aws_config_load(struct es_aws_config **out, struct es_error *err)
    __attribute__((warn_unused_result));

/* Like es_aws_config_load() with explicit paths; NULL means no such file. */
int es_aws_config_load_paths(const char *config_path, const char *credentials_path,
                             struct es_aws_config **out, struct es_error *err)
    __attribute__((warn_unused_result));

/* Build from in-memory texts (NULL: empty file), for tests. Paths are for messages. */
int es_aws_config_parse(const char *config_text, const char *config_path,
                        const char *credentials_text, const char *credentials_path,
                        struct es_aws_config **out, struct es_error *err)
    __attribute__((warn_unused_result));

void es_aws_config_free(struct es_aws_config *config);

/* The path of one of the files as loaded (maybe not existing), or NULL. */
const char *es_aws_config_path(const struct es_aws_config *config, enum es_aws_config_file file);

/* True when either file defines the profile. */
bool es_aws_config_has_profile(const struct es_aws_config *config, const char *profile);

/* A profile's key, the credentials file's value winning over the config file's. */
struct es_aws_config_value es_aws_config_get(const struct es_aws_config *config,
                                             const char *profile, const char *key);

/* A profile's key as set in one file only. */
struct es_aws_config_value es_aws_config_get_in(const struct es_aws_config *config,
                                                enum es_aws_config_file file, const char *profile,
                                                const char *key);

/* True when the config file has `[sso-session NAME]`. */
bool es_aws_config_has_sso_session(const struct es_aws_config *config, const char *session);

/* A key of `[sso-session NAME]` in the config file. */
struct es_aws_config_value es_aws_config_sso_session_get(const struct es_aws_config *config,
                                                         const char *session, const char *key);

/*
 * The directory for ~/.aws/sso/cache and other per-user files: $HOME, or the
 * password database's home when HOME is unset. Caller frees; NULL when
 * neither is known.
 */
char *es_aws_home_dir(void);

#endif
