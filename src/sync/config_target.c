/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `target` section: an ECR registry (region, account) or any OCI
 * registry, the repository prefix, and the settings of ECR repositories.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/endpoint.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "sync/config_internal.h"

/* ECR's limits on resource tags (the TagResource API), in characters. */
#define MAX_RESOURCE_TAGS      50
#define MAX_RESOURCE_TAG_KEY   128
#define MAX_RESOURCE_TAG_VALUE 256

static void parse_ecr(struct es_cfg_parser *parser, const struct es_cfg_node *node)
{
        static const char *const keys[] = {"region", "account", NULL};
        const struct es_cfg_node *values[ES_ARRAY_SIZE(keys)];
        struct es_sync_config *config = parser->config;
        struct es_cfg_diag *diag = &parser->diag;
        long long ignored;
        char *text = NULL;

        config->target_is_ecr = true;
        /* `ecr:` with no value is an ECR target with every default. */
        if (es_cfg_is_null(node))
                return;
        if (!es_cfg_read_mapping(diag, node, "target.ecr",
                                 "a mapping with 'region' and 'account', or no value", keys,
                                 values))
                return;

        if (values[0] && es_cfg_read_string(diag, values[0], "target.ecr.region", false, &text)) {
                if (es_aws_region_is_valid(text))
                        config->ecr_region = text;
                else {
                        es_cfg_report_at(diag, values[0], "target.ecr.region",
                                         "invalid region \"%s\"; expected a region name such as "
                                         "eu-west-1",
                                         text);
                        free(text);
                }
        }

        if (values[1] == NULL)
                return;
        if (es_cfg_is_integer(values[1], &ignored)) {
                /* An unquoted number would lose leading zeros, so insist on a string. */
                es_cfg_report_at(diag, values[1], "target.ecr.account",
                                 "expected the 12-digit account ID as a quoted string, such as "
                                 "\"%s\"",
                                 values[1]->text);
                return;
        }
        if (!es_cfg_read_string(diag, values[1], "target.ecr.account", false, &text))
                return;
        if (strlen(text) != 12 || strspn(text, "0123456789") != 12) {
                es_cfg_report_at(diag, values[1], "target.ecr.account",
                                 "invalid account ID \"%s\"; expected 12 digits as a quoted "
                                 "string, such as \"123456789012\"",
                                 text);
                free(text);
                return;
        }
        config->ecr_account = text;
}

static void parse_registry(struct es_cfg_parser *parser, const struct es_cfg_node *node)
{
        _cleanup_free_ char *text = NULL;
        char *host;

        if (!es_cfg_read_string(&parser->diag, node, "target.registry", false, &text))
                return;
        host = es_cfg_normalize_host(text);
        if (host == NULL) {
                es_cfg_report_at(&parser->diag, node, "target.registry",
                                 "invalid registry host \"%s\"; expected HOST[:PORT] such as "
                                 "registry.example.com or 127.0.0.1:5000",
                                 text);
                return;
        }
        parser->config->target_registry = host;
}

/* Count UTF-8 characters, which is how AWS counts tag lengths. */
static size_t utf8_length(const char *text)
{
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *)text; *p; p++)
                n += (*p & 0xC0) != 0x80;
        return n;
}

/*
 * AWS tag keys and values: Unicode letters, digits, spaces and _ . : / = + - @.
 * Only ASCII is checked here; other characters are left to AWS.
 */
static bool tag_text_is_valid(const char *text)
{
        for (const unsigned char *p = (const unsigned char *)text; *p; p++)
                if (*p < 0x80 && !isalnum(*p) && !strchr(" _.:/=+-@", *p))
                        return false;
        return true;
}

static void parse_resource_tags(struct es_cfg_parser *parser, const struct es_cfg_node *node,
                                const char *path)
{
        struct es_sync_repository_settings *settings = &parser->config->settings;
        struct es_cfg_diag *diag = &parser->diag;

        if (node->type != ES_CFG_MAPPING) {
                es_cfg_report_at(diag, node, path,
                                 "expected a mapping of tag keys to string values, such as "
                                 "{team: platform}");
                return;
        }
        if (node->n_pairs > MAX_RESOURCE_TAGS) {
                es_cfg_report_at(diag, node, path, "%zu tags; ECR accepts at most %d",
                                 node->n_pairs, MAX_RESOURCE_TAGS);
                return;
        }

        settings->resource_tags = es_calloc(node->n_pairs, sizeof(*settings->resource_tags));
        for (size_t i = 0; i < node->n_pairs; i++) {
                const struct es_cfg_pair *pair = &node->pairs[i];
                _cleanup_free_ char *key_path = es_cfg_path_key(path, pair->key->text);
                const char *key = pair->key->text;
                size_t key_len = utf8_length(key);
                char *value = NULL;

                if (key_len < 1 || key_len > MAX_RESOURCE_TAG_KEY || !tag_text_is_valid(key)) {
                        es_cfg_report_at(diag, pair->key, key_path,
                                         "invalid tag key; expected 1 to %d letters, digits, "
                                         "spaces and _.:/=+-@",
                                         MAX_RESOURCE_TAG_KEY);
                        continue;
                }
                if (strncasecmp(key, "aws:", 4) == 0) {
                        es_cfg_report_at(diag, pair->key, key_path,
                                         "tag keys starting with 'aws:' are reserved for AWS");
                        continue;
                }
                if (es_cfg_is_null(pair->value)) {
                        es_cfg_report_at(diag, pair->value, key_path,
                                         "expected a string; write \"\" for an empty value");
                        continue;
                }
                if (!es_cfg_read_string(diag, pair->value, key_path, true, &value))
                        continue;
                if (utf8_length(value) > MAX_RESOURCE_TAG_VALUE || !tag_text_is_valid(value)) {
                        es_cfg_report_at(diag, pair->value, key_path,
                                         "invalid tag value; expected at most %d letters, "
                                         "digits, spaces and _.:/=+-@",
                                         MAX_RESOURCE_TAG_VALUE);
                        free(value);
                        continue;
                }
                settings->resource_tags[settings->n_resource_tags].key = es_strdup(key);
                settings->resource_tags[settings->n_resource_tags].value = value;
                settings->n_resource_tags++;
        }
}

static void parse_encryption(struct es_cfg_parser *parser, const struct es_cfg_node *node)
{
        static const char *const keys[] = {"type", "kms_key", NULL};
        const struct es_cfg_node *values[ES_ARRAY_SIZE(keys)];
        struct es_sync_repository_settings *settings = &parser->config->settings;
        struct es_cfg_diag *diag = &parser->diag;
        const char *path = "target.repository_settings.encryption";
        char *type = NULL;

        if (!es_cfg_read_mapping(diag, node, path, "a mapping with 'type' and 'kms_key'", keys,
                                 values))
                return;
        if (values[0] == NULL) {
                es_cfg_report_at(diag, node, "target.repository_settings.encryption.type",
                                 "missing; expected AES256 or KMS");
                return;
        }
        if (!es_cfg_read_string(diag, values[0], "target.repository_settings.encryption.type",
                                false, &type))
                return;
        if (strcmp(type, "AES256") != 0 && strcmp(type, "KMS") != 0) {
                es_cfg_report_at(diag, values[0], "target.repository_settings.encryption.type",
                                 "expected AES256 or KMS, not \"%s\"", type);
                free(type);
                return;
        }
        settings->encryption_type = type;

        if (values[1] == NULL)
                return;
        if (strcmp(type, "KMS") != 0) {
                es_cfg_report_at(diag, values[1], "target.repository_settings.encryption.kms_key",
                                 "only allowed with type KMS");
                return;
        }
        es_cfg_read_string(diag, values[1], "target.repository_settings.encryption.kms_key", false,
                           &settings->kms_key);
}

static void parse_lifecycle_policy(struct es_cfg_parser *parser,
                                   const struct es_cfg_pair *inline_policy,
                                   const struct es_cfg_pair *policy_file)
{
        struct es_sync_repository_settings *settings = &parser->config->settings;
        struct es_cfg_diag *diag = &parser->diag;
        _cleanup_free_ char *file = NULL;
        _cleanup_free_ char *resolved = NULL;

        if (inline_policy && policy_file) {
                const struct es_cfg_pair *second =
                    inline_policy->key->line > policy_file->key->line ? inline_policy : policy_file;

                es_cfg_report_at(diag, second->key, "target.repository_settings",
                                 "give lifecycle_policy or lifecycle_policy_file, not both");
                return;
        }
        if (inline_policy) {
                es_cfg_lifecycle_from_yaml(diag, inline_policy->value,
                                           "target.repository_settings.lifecycle_policy",
                                           &settings->lifecycle_policy);
                return;
        }
        if (policy_file == NULL ||
            !es_cfg_read_string(diag, policy_file->value,
                                "target.repository_settings.lifecycle_policy_file", false, &file))
                return;
        resolved = es_cfg_resolve_path(parser, file);
        es_cfg_lifecycle_from_file(diag, policy_file->value,
                                   "target.repository_settings.lifecycle_policy_file", resolved,
                                   &settings->lifecycle_policy);
}

static void parse_settings(struct es_cfg_parser *parser, const struct es_cfg_node *node)
{
        static const char *const keys[] = {
            "image_tag_mutability", "scan_on_push",          "encryption", "resource_tags",
            "lifecycle_policy",     "lifecycle_policy_file", NULL};
        const struct es_cfg_node *values[ES_ARRAY_SIZE(keys)];
        struct es_sync_repository_settings *settings = &parser->config->settings;
        struct es_cfg_diag *diag = &parser->diag;
        char *mutability = NULL;
        bool scan;

        if (!es_cfg_read_mapping(diag, node, "target.repository_settings", "a mapping", keys,
                                 values))
                return;
        parser->config->has_repository_settings = true;

        if (values[0] &&
            es_cfg_read_string(diag, values[0], "target.repository_settings.image_tag_mutability",
                               false, &mutability)) {
                if (strcmp(mutability, "MUTABLE") == 0 || strcmp(mutability, "IMMUTABLE") == 0) {
                        settings->image_tag_mutability = mutability;
                } else {
                        es_cfg_report_at(diag, values[0],
                                         "target.repository_settings.image_tag_mutability",
                                         "expected MUTABLE or IMMUTABLE, not \"%s\"", mutability);
                        free(mutability);
                }
        }
        if (values[1] &&
            es_cfg_read_bool(diag, values[1], "target.repository_settings.scan_on_push", &scan))
                settings->scan_on_push = scan;
        if (values[2])
                parse_encryption(parser, values[2]);
        if (values[3])
                parse_resource_tags(parser, values[3], "target.repository_settings.resource_tags");
        parse_lifecycle_policy(parser, es_cfg_mapping_pair(node, "lifecycle_policy"),
                               es_cfg_mapping_pair(node, "lifecycle_policy_file"));
}

static void parse_prefix(struct es_cfg_parser *parser, const struct es_cfg_node *node)
{
        char *prefix = NULL;

        if (!es_cfg_read_string(&parser->diag, node, "target.repository_prefix", false, &prefix))
                return;
        if (!es_repository_path_is_valid(prefix)) {
                es_cfg_report_at(&parser->diag, node, "target.repository_prefix",
                                 "invalid repository path \"%s\"; expected lowercase parts of "
                                 "a-z and 0-9 joined by '.', '_' or '-' and separated by '/', "
                                 "such as dockerhub or mirror/hub",
                                 prefix);
                free(prefix);
                return;
        }
        parser->config->repository_prefix = prefix;
}

void es_cfg_parse_target(struct es_cfg_parser *parser, const struct es_cfg_node *node)
{
        static const char *const keys[] = {"ecr",
                                           "registry",
                                           "repository_prefix",
                                           "create_repositories",
                                           "manage_settings",
                                           "repository_settings",
                                           NULL};
        const struct es_cfg_node *values[ES_ARRAY_SIZE(keys)];
        struct es_sync_config *config = parser->config;
        struct es_cfg_diag *diag = &parser->diag;

        if (!es_cfg_read_mapping(diag, node, "target", "a mapping with 'ecr' or 'registry'", keys,
                                 values))
                return;

        if (values[0] && values[1]) {
                const struct es_cfg_pair *ecr = es_cfg_mapping_pair(node, "ecr");
                const struct es_cfg_pair *registry = es_cfg_mapping_pair(node, "registry");
                const struct es_cfg_pair *second =
                    ecr->key->line > registry->key->line ? ecr : registry;

                es_cfg_report_at(diag, second->key, "target",
                                 "give 'ecr' (an ECR target) or 'registry' (any OCI registry), "
                                 "not both");
        }
        if (values[0])
                parse_ecr(parser, values[0]);
        if (values[1])
                parse_registry(parser, values[1]);
        if (!values[0] && !values[1]) {
                es_cfg_report_at(diag, node, "target",
                                 "expected 'ecr' (an ECR target) or 'registry: HOST[:PORT]' (any "
                                 "OCI registry)");
        }

        if (values[2])
                parse_prefix(parser, values[2]);
        if (values[3])
                es_cfg_read_bool(diag, values[3], "target.create_repositories",
                                 &config->create_repositories);
        if (values[4])
                es_cfg_read_bool(diag, values[4], "target.manage_settings",
                                 &config->manage_settings);

        if (values[5] == NULL)
                return;
        if (values[1] && !values[0]) {
                es_cfg_report_at(diag, es_cfg_mapping_pair(node, "repository_settings")->key,
                                 "target.repository_settings",
                                 "applies only to ECR targets (target.ecr); remove it or use "
                                 "target.ecr");
                return;
        }
        parse_settings(parser, values[5]);
}
