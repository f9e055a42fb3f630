/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `registries` section: per-registry transport options, where the
 * credentials come from, and the rate-limit reserve. Credentials are only
 * described here; the executor reads them when it opens the registry.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws/endpoint.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "sync/config_internal.h"

/* Secrets Manager secret names: 1 to 512 of these characters. */
#define MAX_SECRET_NAME   512
#define SECRET_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_+=.@-"

static bool env_name_is_valid(const char *name)
{
        if (!isalpha((unsigned char)*name) && *name != '_')
                return false;
        for (const char *p = name; *p; p++)
                if (!isalnum((unsigned char)*p) && *p != '_')
                        return false;
        return true;
}

static bool secret_id_is_valid(const char *id)
{
        size_t len = strlen(id);

        if (strncmp(id, "arn:", 4) == 0)
                return strstr(id, ":secretsmanager:") && strstr(id, ":secret:");
        return len >= 1 && len <= MAX_SECRET_NAME && strspn(id, SECRET_NAME_CHARS) == len;
}

struct credential_key {
        const char *name;
        int form; /* 0: environment, 1: files, 2: Secrets Manager */
        char **out;
};

static const char *const form_names[] = {
    "username_env and password_env",
    "username_file and password_file",
};

/* Read one credential value by the rules of its kind. */
static void read_credential_value(struct es_cfg_parser *parser, const struct es_cfg_node *node,
                                  const char *path, const char *name, char **out)
{
        struct es_cfg_diag *diag = &parser->diag;
        _cleanup_free_ char *text = NULL;
        size_t len;

        if (!es_cfg_read_string(diag, node, path, false, &text))
                return;
        len = strlen(name);
        if (len > 4 && strcmp(name + len - 4, "_env") == 0) {
                if (!env_name_is_valid(text)) {
                        es_cfg_report_at(diag, node, path,
                                         "invalid environment variable name \"%s\"; expected "
                                         "letters, digits and '_', such as DOCKERHUB_TOKEN",
                                         text);
                        return;
                }
        } else if (len > 5 && strcmp(name + len - 5, "_file") == 0) {
                char *resolved = es_cfg_resolve_path(parser, text);

                free(text);
                text = resolved;
        } else if (strcmp(name, "aws_secret") == 0) {
                if (!secret_id_is_valid(text)) {
                        es_cfg_report_at(diag, node, path,
                                         "invalid secret \"%s\"; expected a Secrets Manager "
                                         "secret name or ARN",
                                         text);
                        return;
                }
        } else if (!es_aws_region_is_valid(text)) {
                es_cfg_report_at(diag, node, path,
                                 "invalid region \"%s\"; expected a region name such as "
                                 "eu-west-1",
                                 text);
                return;
        }
        *out = TAKE_PTR(text);
}

static void parse_credentials(struct es_cfg_parser *parser, const struct es_cfg_node *node,
                              const char *path, struct es_sync_registry *registry)
{
        struct es_sync_credentials *c = &registry->credentials;
        struct credential_key keys[] = {
            {"username_env", 0, &c->username_env},
            {"password_env", 0, &c->password_env},
            {"username_file", 1, &c->username_file},
            {"password_file", 1, &c->password_file},
            {"aws_secret", 2, &c->aws_secret},
            {"aws_secret_region", 2, &c->aws_secret_region},
        };
        const char *names[ES_ARRAY_SIZE(keys) + 1];
        const struct es_cfg_node *values[ES_ARRAY_SIZE(keys) + 1];
        struct es_cfg_diag *diag = &parser->diag;
        bool used[3] = {false, false, false};
        size_t n_forms = 0;
        int form = -1;

        for (size_t i = 0; i < ES_ARRAY_SIZE(keys); i++)
                names[i] = keys[i].name;
        names[ES_ARRAY_SIZE(keys)] = NULL;
        if (!es_cfg_read_mapping(diag, node, path,
                                 "a mapping with username_env and password_env, username_file "
                                 "and password_file, or aws_secret",
                                 names, values))
                return;

        for (size_t i = 0; i < ES_ARRAY_SIZE(keys); i++) {
                if (values[i] && !used[keys[i].form]) {
                        used[keys[i].form] = true;
                        n_forms++;
                        form = keys[i].form;
                }
        }
        if (n_forms == 0) {
                es_cfg_report_at(diag, node, path,
                                 "expected one form: username_env and password_env, "
                                 "username_file and password_file, or aws_secret");
                return;
        }
        if (n_forms > 1) {
                const char *found[2] = {NULL, NULL};
                int last_form = -1;

                /* Name the first key of each of the first two forms found. */
                for (size_t i = 0; i < ES_ARRAY_SIZE(keys) && !found[1]; i++) {
                        if (values[i] == NULL || keys[i].form == last_form)
                                continue;
                        found[found[0] ? 1 : 0] = keys[i].name;
                        last_form = keys[i].form;
                }
                es_cfg_report_at(diag, node, path,
                                 "mixes %s and %s; give username_env and password_env, "
                                 "username_file and password_file, or aws_secret alone",
                                 found[0], found[1]);
                return;
        }

        /* The two members of a pair, or aws_secret, must both be there. */
        for (size_t i = 0; i < ES_ARRAY_SIZE(keys); i++) {
                _cleanup_free_ char *key_path = es_cfg_path_key(path, keys[i].name);

                if (keys[i].form != form)
                        continue;
                if (values[i] == NULL) {
                        if (strcmp(keys[i].name, "aws_secret_region") == 0)
                                continue;
                        if (form == 2)
                                es_cfg_report_at(diag, node, key_path,
                                                 "missing; aws_secret_region needs aws_secret, "
                                                 "the secret's name or ARN");
                        else
                                es_cfg_report_at(diag, node, key_path, "missing; %s go together",
                                                 form_names[form]);
                        continue;
                }
                read_credential_value(parser, values[i], key_path, keys[i].name, keys[i].out);
        }
        registry->has_credentials = true;
}

static void parse_rate_limit(struct es_cfg_parser *parser, const struct es_cfg_node *node,
                             const char *path, struct es_sync_registry *registry)
{
        static const char *const keys[] = {"reserve", NULL};
        const struct es_cfg_node *values[ES_ARRAY_SIZE(keys)];
        _cleanup_free_ char *reserve_path = es_cfg_path_key(path, "reserve");
        long long reserve;

        if (!es_cfg_read_mapping(&parser->diag, node, path, "a mapping with 'reserve'", keys,
                                 values))
                return;
        if (values[0] &&
            es_cfg_read_integer(&parser->diag, values[0], reserve_path, 0, 1000000000, &reserve))
                registry->rate_limit_reserve = (long)reserve;
}

static void parse_ca_file(struct es_cfg_parser *parser, const struct es_cfg_node *node,
                          const char *path, struct es_sync_registry *registry)
{
        _cleanup_free_ char *file = NULL;
        _cleanup_free_ char *resolved = NULL;
        struct stat st;

        if (!es_cfg_read_string(&parser->diag, node, path, false, &file))
                return;
        resolved = es_cfg_resolve_path(parser, file);
        if (stat(resolved, &st) < 0 || access(resolved, R_OK) < 0) {
                es_cfg_report_at(&parser->diag, node, path, "cannot read '%s': %s", resolved,
                                 strerror(errno));
                return;
        }
        if (!S_ISREG(st.st_mode)) {
                es_cfg_report_at(&parser->diag, node, path, "'%s' is not a regular file", resolved);
                return;
        }
        registry->ca_file = TAKE_PTR(resolved);
}

static void parse_registry_entry(struct es_cfg_parser *parser, const struct es_cfg_pair *pair,
                                 struct es_sync_registry *registry)
{
        static const char *const keys[] = {"insecure", "ca_file", "credentials", "rate_limit",
                                           NULL};
        const struct es_cfg_node *values[ES_ARRAY_SIZE(keys)];
        _cleanup_free_ char *path = es_cfg_path_key("registries", pair->key->text);
        _cleanup_free_ char *insecure_path = es_cfg_path_key(path, "insecure");
        _cleanup_free_ char *ca_path = es_cfg_path_key(path, "ca_file");
        _cleanup_free_ char *credentials_path = es_cfg_path_key(path, "credentials");
        _cleanup_free_ char *rate_limit_path = es_cfg_path_key(path, "rate_limit");
        struct es_cfg_diag *diag = &parser->diag;

        /* `registry.internal:5000:` with no value configures nothing, which is allowed. */
        if (es_cfg_is_null(pair->value))
                return;
        if (!es_cfg_read_mapping(diag, pair->value, path,
                                 "a mapping with insecure, ca_file, credentials or rate_limit",
                                 keys, values))
                return;

        if (values[0])
                es_cfg_read_bool(diag, values[0], insecure_path, &registry->insecure);
        if (values[1])
                parse_ca_file(parser, values[1], ca_path, registry);
        if (values[2])
                parse_credentials(parser, values[2], credentials_path, registry);
        if (values[3])
                parse_rate_limit(parser, values[3], rate_limit_path, registry);
}

void es_cfg_parse_registries(struct es_cfg_parser *parser, const struct es_cfg_node *node)
{
        struct es_sync_config *config = parser->config;
        struct es_cfg_diag *diag = &parser->diag;

        if (es_cfg_is_null(node))
                return;
        if (node->type != ES_CFG_MAPPING) {
                es_cfg_report_at(diag, node, "registries",
                                 "expected a mapping of registry hosts, such as docker.io, to "
                                 "their settings");
                return;
        }

        config->registries = es_calloc(node->n_pairs, sizeof(*config->registries));
        for (size_t i = 0; i < node->n_pairs; i++) {
                const struct es_cfg_pair *pair = &node->pairs[i];
                _cleanup_free_ char *path = es_cfg_path_key("registries", pair->key->text);
                struct es_sync_registry *registry = &config->registries[config->n_registries];
                char *host = es_cfg_normalize_host(pair->key->text);
                const struct es_sync_registry *earlier;

                if (host == NULL) {
                        es_cfg_report_at(diag, pair->key, path,
                                         "invalid registry host; expected HOST[:PORT] as in "
                                         "image references, such as docker.io, ghcr.io or "
                                         "127.0.0.1:5000");
                        continue;
                }
                earlier = es_sync_config_registry(config, host);
                if (earlier) {
                        es_cfg_report_at(diag, pair->key, path,
                                         "the registry %s is already configured at line %d", host,
                                         earlier->line);
                        free(host);
                        continue;
                }

                registry->host = host;
                registry->line = pair->key->line;
                registry->rate_limit_reserve = -1;
                config->n_registries++;
                parse_registry_entry(parser, pair, registry);
        }
}
