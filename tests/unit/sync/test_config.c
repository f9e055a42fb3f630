/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for sync/config.c: a full configuration read field by field, the
 * mapping of sources to target repositories, defaults, and a table of
 * invalid files with the exact FILE:LINE:COLUMN: KEY message each gives.
 * The first argument is the directory of the test files (configs/).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "sync/config.h"
#include "sync/filter.h"

static const char *configs_dir;

/* The smallest valid head of a file: an ECR target. Cases append images and more. */
#define ECR_TARGET "target:\n  ecr: {region: eu-west-1}\n"
#define ONE_IMAGE  "images:\n  - source: nginx\n"

static void assert_str(const char *field, const char *actual, const char *expected)
{
        if (actual == NULL && expected == NULL)
                return;
        if (actual != NULL && expected != NULL && strcmp(actual, expected) == 0)
                return;
        print_error("field %s\n", field);
        assert_string_equal(actual ? actual : "(null)", expected ? expected : "(null)");
}

static char *configs_path(const char *name)
{
        return es_asprintf("%s/%s", configs_dir, name);
}

/* Parse text as "config.yaml"; fail the test with the message when it is invalid. */
static struct es_sync_config *parse_valid_at(const char *text, const char *path)
{
        struct es_sync_config *config = NULL;
        struct es_error err = ES_ERROR_INIT;
        int r;

        r = es_sync_config_parse(text, strlen(text), path, &config, &err);
        if (r != 0)
                print_error("config:\n%s\nerror:\n%s\n", text, es_error_message(&err));
        assert_int_equal(r, 0);
        assert_non_null(config);
        es_error_release(&err);
        return config;
}

static struct es_sync_config *parse_valid(const char *text)
{
        return parse_valid_at(text, "config.yaml");
}

/* Parse text that must be rejected and return the message (caller frees). */
static char *parse_invalid_at(const char *text, size_t len, const char *path)
{
        struct es_sync_config marker;
        struct es_sync_config *config = &marker;
        struct es_error err = ES_ERROR_INIT;
        char *message;
        int r;

        r = es_sync_config_parse(text, len, path, &config, &err);
        if (r != -ES_ERR_INVALID)
                print_error("config:\n%s\nwas accepted or failed with %d\n", text, r);
        assert_int_equal(r, -ES_ERR_INVALID);
        assert_int_equal(err.code, ES_ERR_INVALID);
        /* The output must stay untouched on failure. */
        assert_ptr_equal(config, &marker);
        message = es_strdup(es_error_message(&err));
        es_error_release(&err);
        return message;
}

static void assert_contains(const char *text, const char *message, const char *expected)
{
        if (strstr(message, expected) != NULL)
                return;
        print_error("config:\n%s\nexpected a message containing:\n  %s\ngot:\n  %s\n", text,
                    expected, message);
        fail();
}

/* ---- a full configuration ---- */

static const struct es_sync_image *image_at(const struct es_sync_config *config, size_t i)
{
        assert_true(i < config->n_images);
        return &config->images[i];
}

static void check_full_target(const struct es_sync_config *config)
{
        const struct es_sync_repository_settings *s = &config->settings;

        assert_true(config->target_is_ecr);
        assert_str("ecr_region", config->ecr_region, "eu-west-1");
        assert_str("ecr_account", config->ecr_account, "012345678901");
        assert_null(config->target_registry);
        assert_str("repository_prefix", config->repository_prefix, "dockerhub");
        assert_false(config->create_repositories);
        assert_false(config->manage_settings);
        assert_true(config->has_repository_settings);

        assert_str("image_tag_mutability", s->image_tag_mutability, "IMMUTABLE");
        assert_int_equal(s->scan_on_push, 1);
        assert_str("encryption_type", s->encryption_type, "KMS");
        assert_str("kms_key", s->kms_key, "alias/ecr");
        assert_int_equal(s->n_resource_tags, 3);
        assert_str("tag 0 key", s->resource_tags[0].key, "team");
        assert_str("tag 0 value", s->resource_tags[0].value, "platform");
        assert_str("tag 1 key", s->resource_tags[1].key, "cost-centre");
        assert_str("tag 1 value", s->resource_tags[1].value, "1234");
        assert_str("tag 2 key", s->resource_tags[2].key, "note");
        assert_str("tag 2 value", s->resource_tags[2].value, "");
        assert_str("lifecycle_policy", s->lifecycle_policy,
                   "{\"rules\":[{\"rulePriority\":1,\"description\":\"keep the 30 newest 7.x "
                   "tags\",\"selection\":{\"tagStatus\":\"tagged\",\"tagPrefixList\":[\"7.\"],"
                   "\"countType\":\"imageCountMoreThan\",\"countNumber\":30},\"action\":{"
                   "\"type\":\"expire\"}}]}");
}

static void check_full_registries(const struct es_sync_config *config)
{
        _cleanup_free_ char *ca = configs_path("ca.pem");
        _cleanup_free_ char *user_file = configs_path("secrets/user");
        const struct es_sync_registry *hub, *ghcr, *local, *ipv6;

        assert_int_equal(config->n_registries, 4);
        hub = &config->registries[0];
        ghcr = &config->registries[1];
        local = &config->registries[2];
        ipv6 = &config->registries[3];

        assert_str("hub host", hub->host, "docker.io");
        assert_false(hub->insecure);
        assert_null(hub->ca_file);
        assert_true(hub->has_credentials);
        assert_null(hub->credentials.username_env);
        assert_null(hub->credentials.username_file);
        assert_str("hub aws_secret", hub->credentials.aws_secret, "dockerhub/credentials");
        assert_str("hub aws_secret_region", hub->credentials.aws_secret_region, "us-east-1");
        assert_int_equal(hub->rate_limit_reserve, 5);
        assert_int_equal(hub->line, 25);

        assert_str("ghcr host", ghcr->host, "ghcr.io");
        assert_true(ghcr->has_credentials);
        assert_str("ghcr username_env", ghcr->credentials.username_env, "GHCR_USER");
        assert_str("ghcr password_env", ghcr->credentials.password_env, "GHCR_TOKEN");
        assert_null(ghcr->credentials.aws_secret);
        assert_int_equal(ghcr->rate_limit_reserve, -1);
        assert_int_equal(ghcr->line, 30);

        assert_str("local host", local->host, "127.0.0.1:5000");
        assert_true(local->insecure);
        assert_str("local ca_file", local->ca_file, ca);
        assert_str("local username_file", local->credentials.username_file, user_file);
        assert_str("local password_file", local->credentials.password_file,
                   "/run/secrets/password");
        assert_null(local->credentials.username_env);
        assert_int_equal(local->rate_limit_reserve, 0);
        assert_int_equal(local->line, 32);

        assert_str("ipv6 host", ipv6->host, "[::1]:5000");
        assert_false(ipv6->insecure);
        assert_false(ipv6->has_credentials);
        assert_int_equal(ipv6->rate_limit_reserve, -1);
}

static void check_full_images(const struct es_sync_config *config)
{
        const struct es_sync_image *agent, *nginx, *tool, *app;
        _cleanup_free_ char *arm64 = NULL;

        assert_int_equal(config->n_images, 4);
        agent = image_at(config, 0);
        nginx = image_at(config, 1);
        tool = image_at(config, 2);
        app = image_at(config, 3);

        assert_str("agent registry", agent->source.registry, "docker.io");
        assert_str("agent repository", agent->source.repository, "datadog/agent");
        assert_null(agent->source.tag);
        assert_null(agent->source.digest);
        assert_str("agent target", agent->target_repository, "dockerhub/datadog/agent");
        assert_true(agent->has_tags);
        assert_int_equal(agent->n_include, 1);
        assert_str("agent include", agent->include[0], "^7\\.");
        assert_int_equal(agent->n_exclude, 2);
        assert_str("agent exclude 0", agent->exclude[0], "-rc");
        assert_str("agent exclude 1", agent->exclude[1], "-jmx$");
        assert_str("agent semver", agent->semver, ">=7.50.0");
        assert_int_equal(agent->latest, 5);
        assert_non_null(agent->filter);
        assert_int_equal(agent->n_platforms, 2);
        assert_str("platform 0 os", agent->platforms[0].os, "linux");
        assert_str("platform 0 arch", agent->platforms[0].architecture, "amd64");
        assert_null(agent->platforms[0].variant);
        arm64 = es_platform_spec_format(&agent->platforms[1]);
        assert_str("platform 1", arm64, "linux/arm64");
        assert_int_equal(agent->line, 39);

        assert_str("nginx repository", nginx->source.repository, "library/nginx");
        assert_str("nginx target", nginx->target_repository, "dockerhub/nginx");
        assert_false(nginx->has_tags);
        assert_int_equal(nginx->n_include, 0);
        assert_null(nginx->semver);
        assert_int_equal(nginx->latest, 0);
        assert_non_null(nginx->filter);
        assert_null(nginx->platforms);
        assert_int_equal(nginx->n_platforms, 0);
        assert_int_equal(nginx->line, 46);

        assert_str("tool registry", tool->source.registry, "ghcr.io");
        assert_str("tool target", tool->target_repository, "tools/tool");

        assert_str("app registry", app->source.registry, "127.0.0.1:5000");
        assert_str("app target", app->target_repository, "dockerhub/team/app");
        assert_true(app->has_tags);
        assert_non_null(app->filter);
}

/* The compiled filter must carry every part of `tags`. */
static void check_agent_filter(const struct es_sync_image *agent)
{
        static const char *const tags[] = {"7.49.0", "7.50.0", "7.51.0", "7.52.0-rc.1",
                                           "7.52.0", "7.53.0", "7.54.0", "7.55.0-jmx",
                                           "7.55.0", "6.99.0", "latest"};
        static const bool kept[] = {false, false, true, false, true, true,
                                    true,  false, true, false, false};
        struct es_tag_decision *decisions = NULL;
        struct es_error err = ES_ERROR_INIT;

        assert_int_equal(
            es_tag_filter_apply(agent->filter, tags, ES_ARRAY_SIZE(tags), &decisions, &err), 0);
        for (size_t i = 0; i < ES_ARRAY_SIZE(tags); i++) {
                if (decisions[i].kept != kept[i])
                        print_error("tag %s: kept %d, expected %d (%s)\n", tags[i],
                                    decisions[i].kept, kept[i],
                                    decisions[i].reason ? decisions[i].reason : "");
                assert_int_equal(decisions[i].kept, kept[i]);
        }
        es_tag_decisions_free(decisions, ES_ARRAY_SIZE(tags));
}

static void test_full_config(void **state)
{
        _cleanup_free_ char *path = configs_path("full.yaml");
        struct es_sync_config *config = NULL;
        struct es_error err = ES_ERROR_INIT;
        int r;

        r = es_sync_config_load(path, &config, &err);
        if (r != 0)
                print_error("%s\n", es_error_message(&err));
        assert_int_equal(r, 0);

        assert_str("path", config->path, path);
        check_full_target(config);
        check_full_registries(config);
        check_full_images(config);
        check_agent_filter(image_at(config, 0));
        assert_str("schedule", config->schedule, "0 3 * * MON-FRI");

        es_sync_config_free(config);
        es_error_release(&err);
}

static void test_defaults(void **state)
{
        struct es_sync_config *config = parse_valid(ECR_TARGET ONE_IMAGE);

        assert_true(config->target_is_ecr);
        assert_str("ecr_region", config->ecr_region, "eu-west-1");
        assert_null(config->ecr_account);
        assert_null(config->repository_prefix);
        assert_true(config->create_repositories);
        assert_true(config->manage_settings);
        assert_false(config->has_repository_settings);
        assert_int_equal(config->settings.scan_on_push, -1);
        assert_null(config->settings.lifecycle_policy);
        assert_int_equal(config->n_registries, 0);
        assert_null(config->schedule);
        assert_str("target", config->images[0].target_repository, "nginx");
        es_sync_config_free(config);

        /* `ecr:` without a value: region and account come from AWS at run time. */
        config = parse_valid("target:\n  ecr:\n" ONE_IMAGE);
        assert_true(config->target_is_ecr);
        assert_null(config->ecr_region);
        assert_null(config->ecr_account);
        es_sync_config_free(config);
}

static void test_registry_target(void **state)
{
        struct es_sync_config *config =
            parse_valid("target:\n  registry: Registry.Example.com:5000\n"
                        "  repository_prefix: mirror/hub\n" ONE_IMAGE);

        assert_false(config->target_is_ecr);
        assert_str("target_registry", config->target_registry, "registry.example.com:5000");
        assert_null(config->ecr_region);
        assert_str("target", config->images[0].target_repository, "mirror/hub/nginx");
        es_sync_config_free(config);
}

/* ---- source to target repository mapping ---- */

struct mapping_case {
        const char *prefix; /* NULL: no repository_prefix */
        const char *source;
        const char *target; /* images[].target, or NULL */
        const char *expected;
};

static const struct mapping_case mapping_cases[] = {
    {"dockerhub", "nginx", NULL, "dockerhub/nginx"},
    {"dockerhub", "datadog/agent", NULL, "dockerhub/datadog/agent"},
    {"dockerhub", "ghcr.io/org/tool", NULL, "dockerhub/org/tool"},
    {"dockerhub", "127.0.0.1:5000/team/app", NULL, "dockerhub/team/app"},
    {"dockerhub", "[::1]:5000/app", NULL, "dockerhub/app"},
    {"dockerhub", "docker.io/library/nginx", NULL, "dockerhub/nginx"},
    {"dockerhub", "index.docker.io/library/nginx", NULL, "dockerhub/nginx"},
    /* Only Docker Hub's library/ is dropped. */
    {"dockerhub", "ghcr.io/library/tool", NULL, "dockerhub/library/tool"},
    {"mirror/hub", "datadog/agent", NULL, "mirror/hub/datadog/agent"},
    {NULL, "nginx", NULL, "nginx"},
    {NULL, "datadog/agent", NULL, "datadog/agent"},
    {NULL, "ghcr.io/org/tool", NULL, "org/tool"},
    {NULL, "127.0.0.1:5000/team/app", NULL, "team/app"},
    /* An explicit target is the whole name: no prefix is added. */
    {"dockerhub", "ghcr.io/org/tool", "tools/tool", "tools/tool"},
    {NULL, "nginx", "web/nginx", "web/nginx"},
};

static void test_target_mapping(void **state)
{
        for (size_t i = 0; i < ES_ARRAY_SIZE(mapping_cases); i++) {
                const struct mapping_case *c = &mapping_cases[i];
                struct es_buf text = ES_BUF_INIT(0);
                _cleanup_free_ char *yaml = NULL;
                struct es_sync_config *config;

                es_buf_puts(&text, "target:\n  ecr: {}\n");
                if (c->prefix)
                        es_buf_printf(&text, "  repository_prefix: %s\n", c->prefix);
                es_buf_printf(&text, "images:\n  - source: '%s'\n", c->source);
                if (c->target)
                        es_buf_printf(&text, "    target: %s\n", c->target);
                yaml = es_buf_take(&text);

                config = parse_valid(yaml);
                if (strcmp(config->images[0].target_repository, c->expected) != 0)
                        print_error("case %zu: source %s, prefix %s\n", i, c->source,
                                    c->prefix ? c->prefix : "(none)");
                assert_str("target_repository", config->images[0].target_repository, c->expected);
                es_sync_config_free(config);
        }
}

/* ---- the registries lookup ---- */

static void test_registry_lookup(void **state)
{
        struct es_sync_config *config =
            parse_valid(ECR_TARGET "registries:\n"
                                   "  index.docker.io: {insecure: false}\n"
                                   "  127.0.0.1:5000: {insecure: true}\n"
                                   "  '[::1]:5000':\n" ONE_IMAGE);
        const struct es_sync_registry *found;

        found = es_sync_config_registry(config, "docker.io");
        assert_non_null(found);
        assert_str("host", found->host, "docker.io");
        assert_ptr_equal(es_sync_config_registry(config, "index.docker.io"), found);
        assert_ptr_equal(es_sync_config_registry(config, "Docker.IO"), found);

        found = es_sync_config_registry(config, "127.0.0.1:5000");
        assert_non_null(found);
        assert_true(found->insecure);
        assert_non_null(es_sync_config_registry(config, "[::1]:5000"));

        assert_null(es_sync_config_registry(config, "ghcr.io"));
        assert_null(es_sync_config_registry(config, "127.0.0.1:5001"));
        assert_null(es_sync_config_registry(config, "127.0.0.1"));
        es_sync_config_free(config);
}

/* ---- lifecycle policies ---- */

static void test_lifecycle_policy_file(void **state)
{
        _cleanup_free_ char *path = configs_path("config.yaml");
        struct es_sync_config *config =
            parse_valid_at(ECR_TARGET "  repository_settings:\n"
                                      "    lifecycle_policy_file: policy.json\n" ONE_IMAGE,
                           path);

        /* The file's text is sent compact: ECR's length limit counts every character. */
        assert_str("lifecycle_policy", config->settings.lifecycle_policy,
                   "{\"rules\":[{\"rulePriority\":1,\"description\":\"expire untagged images "
                   "after 14 days\",\"selection\":{\"tagStatus\":\"untagged\",\"countType\":"
                   "\"sinceImagePushed\",\"countUnit\":\"days\",\"countNumber\":14},\"action\":"
                   "{\"type\":\"expire\"}}]}");
        es_sync_config_free(config);
}

static void test_lifecycle_policy_file_errors(void **state)
{
        static const struct {
                const char *file;
                const char *expected;
        } cases[] = {
            {"bad-policy.json",
             "config.yaml:4:28: target.repository_settings.lifecycle_policy_file: invalid "
             "lifecycle policy in '"},
            {"bad-policy.json", "bad-policy.json': rules[0]: selection: tagStatus \"tagged\" "
                                "needs tagPrefixList or tagPatternList"},
            {"broken-policy.json", "broken-policy.json:2:0: invalid JSON: "},
            {"missing.json", "target.repository_settings.lifecycle_policy_file: cannot open '"},
            {"missing.json", "missing.json': No such file or directory"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *path = configs_path("config.yaml");
                _cleanup_free_ char *text =
                    es_asprintf(ECR_TARGET "  repository_settings:\n"
                                           "    lifecycle_policy_file: %s\n" ONE_IMAGE,
                                cases[i].file);
                _cleanup_free_ char *message = parse_invalid_at(text, strlen(text), path);

                assert_contains(text, message, cases[i].expected);
        }
}

/* ---- invalid configurations ---- */

struct invalid_case {
        const char *name;
        const char *text;
        const char *expected; /* a substring of the message */
};

static const struct invalid_case invalid_cases[] = {
    /* YAML itself. */
    {"syntax error", "target: [a, b\nimages: []\n",
     "config.yaml:2:7: invalid YAML: did not find expected ',' or ']' (while parsing a flow "
     "sequence at 1:9)"},
    {"tab indentation", "target:\n\tecr: {}\n",
     "config.yaml:2:1: invalid YAML: found character that cannot start any token"},
    {"duplicate key", ECR_TARGET ONE_IMAGE "target:\n  ecr: {}\n",
     "config.yaml:5:1: target: duplicate key; it is already given at line 1, column 1"},
    {"duplicate nested key", ECR_TARGET "images:\n  - source: nginx\n    source: redis\n",
     "config.yaml:5:5: images[0].source: duplicate key; it is already given at line 4, "
     "column 5"},
    {"multiple documents", ECR_TARGET ONE_IMAGE "---\n" ECR_TARGET ONE_IMAGE,
     "config.yaml:5:1: a second YAML document; a configuration file holds one document"},
    {"alias", ECR_TARGET "images:\n  - source: &hub nginx\n  - source: *hub\n",
     "config.yaml:5:13: images[1].source: alias '*hub': anchors and aliases are not "
     "supported"},
    {"custom tag", ECR_TARGET "images:\n  - source: !image nginx\n",
     "config.yaml:4:13: images[0].source: unsupported tag '!image'"},
    {"empty file", "", "config.yaml:1:1: the file is empty; expected a mapping"},
    {"comments only", "# nothing here\n", "config.yaml:1:1: the file is empty"},
    {"root is a list", "- target\n",
     "config.yaml:1:1: expected a mapping with 'target' and 'images'"},

    /* Unknown and missing keys. */
    {"unknown key with suggestion", "target:\n  ecr: {}\n  repository_prefx: hub\n" ONE_IMAGE,
     "config.yaml:3:3: target.repository_prefx: unknown key; did you mean "
     "'repository_prefix'?"},
    {"unknown image key", ECR_TARGET "images:\n  - source: nginx\n    tag: {latest: 1}\n",
     "config.yaml:5:5: images[0].tag: unknown key; did you mean 'tags'?"},
    {"unknown key without suggestion", ECR_TARGET ONE_IMAGE "colour: blue\n",
     "config.yaml:5:1: colour: unknown key; expected one of 'target', 'registries', "
     "'images', 'schedule'"},
    {"missing target", ONE_IMAGE,
     "config.yaml:1:1: target: missing; expected a mapping with 'ecr' or 'registry'"},
    {"missing images", ECR_TARGET,
     "config.yaml:1:1: images: missing; expected a non-empty list of images"},
    {"empty images", ECR_TARGET "images: []\n",
     "config.yaml:3:9: images: expected a non-empty list of images"},
    {"missing source", ECR_TARGET "images:\n  - target: tools/x\n",
     "config.yaml:4:5: images[0].source: missing; expected a repository such as nginx"},
    {"image as a string", ECR_TARGET "images:\n  - nginx\n",
     "config.yaml:4:5: images[0]: expected a mapping with 'source', such as {source: nginx}"},

    /* The target. */
    {"both ecr and registry", "target:\n  ecr: {}\n  registry: r.example.com\n" ONE_IMAGE,
     "config.yaml:3:3: target: give 'ecr' (an ECR target) or 'registry' (any OCI registry), "
     "not both"},
    {"neither ecr nor registry", "target:\n  repository_prefix: hub\n" ONE_IMAGE,
     "config.yaml:2:3: target: expected 'ecr' (an ECR target) or 'registry: HOST[:PORT]'"},
    {"target not a mapping", "target: ecr\n" ONE_IMAGE,
     "config.yaml:1:9: target: expected a mapping with 'ecr' or 'registry'"},
    {"account unquoted", "target:\n  ecr: {account: 123456789012}\n" ONE_IMAGE,
     "config.yaml:2:18: target.ecr.account: expected the 12-digit account ID as a quoted "
     "string, such as \"123456789012\""},
    {"account too short", "target:\n  ecr: {account: '12345678901'}\n" ONE_IMAGE,
     "config.yaml:2:18: target.ecr.account: invalid account ID \"12345678901\"; expected "
     "12 digits"},
    {"account not digits", "target:\n  ecr: {account: '12345678901a'}\n" ONE_IMAGE,
     "config.yaml:2:18: target.ecr.account: invalid account ID \"12345678901a\""},
    {"bad region", "target:\n  ecr: {region: EU West}\n" ONE_IMAGE,
     "config.yaml:2:17: target.ecr.region: invalid region \"EU West\"; expected a region "
     "name such as eu-west-1"},
    {"ecr not a mapping", "target:\n  ecr: eu-west-1\n" ONE_IMAGE,
     "config.yaml:2:8: target.ecr: expected a mapping with 'region' and 'account', or no "
     "value"},
    {"registry host is a path", "target:\n  registry: ghcr.io/org\n" ONE_IMAGE,
     "config.yaml:2:13: target.registry: invalid registry host \"ghcr.io/org\""},
    {"registry host without dot", "target:\n  registry: myregistry\n" ONE_IMAGE,
     "config.yaml:2:13: target.registry: invalid registry host \"myregistry\""},
    {"bad prefix", "target:\n  ecr: {}\n  repository_prefix: Docker/Hub\n" ONE_IMAGE,
     "config.yaml:3:22: target.repository_prefix: invalid repository path \"Docker/Hub\""},
    {"prefix with trailing slash", "target:\n  ecr: {}\n  repository_prefix: hub/\n" ONE_IMAGE,
     "config.yaml:3:22: target.repository_prefix: invalid repository path \"hub/\""},
    {"empty prefix", "target:\n  ecr: {}\n  repository_prefix: ''\n" ONE_IMAGE,
     "config.yaml:3:22: target.repository_prefix: expected a non-empty string"},
    {"create_repositories yes", ECR_TARGET "  create_repositories: yes\n" ONE_IMAGE,
     "config.yaml:3:24: target.create_repositories: expected true or false"},
    {"manage_settings quoted", ECR_TARGET "  manage_settings: 'true'\n" ONE_IMAGE,
     "config.yaml:3:20: target.manage_settings: expected true or false"},

    /* Repository settings. */
    {"settings with a registry target",
     "target:\n  registry: r.example.com\n  repository_settings: {scan_on_push: true}\n" ONE_IMAGE,
     "config.yaml:3:3: target.repository_settings: applies only to ECR targets (target.ecr)"},
    {"bad mutability",
     ECR_TARGET "  repository_settings: {image_tag_mutability: mutable}\n" ONE_IMAGE,
     "config.yaml:3:47: target.repository_settings.image_tag_mutability: expected MUTABLE or "
     "IMMUTABLE, not \"mutable\""},
    {"scan_on_push number", ECR_TARGET "  repository_settings: {scan_on_push: 1}\n" ONE_IMAGE,
     "config.yaml:3:39: target.repository_settings.scan_on_push: expected true or false"},
    {"bad encryption type",
     ECR_TARGET "  repository_settings:\n    encryption: {type: DSSE}\n" ONE_IMAGE,
     "config.yaml:4:24: target.repository_settings.encryption.type: expected AES256 or KMS, "
     "not \"DSSE\""},
    {"kms_key with AES256",
     ECR_TARGET
     "  repository_settings:\n    encryption: {type: AES256, kms_key: alias/x}\n" ONE_IMAGE,
     "config.yaml:4:41: target.repository_settings.encryption.kms_key: only allowed with "
     "type KMS"},
    {"encryption without type",
     ECR_TARGET "  repository_settings:\n    encryption: {kms_key: alias/x}\n" ONE_IMAGE,
     "config.yaml:4:17: target.repository_settings.encryption.type: missing; expected "
     "AES256 or KMS"},
    {"resource tag key reserved",
     ECR_TARGET "  repository_settings:\n    resource_tags: {'aws:team': x}\n" ONE_IMAGE,
     "config.yaml:4:21: target.repository_settings.resource_tags.\"aws:team\": tag keys "
     "starting with 'aws:' are reserved"},
    {"resource tag value too long",
     ECR_TARGET
     "  repository_settings:\n    resource_tags:\n      team: "
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n" ONE_IMAGE,
     "config.yaml:5:13: target.repository_settings.resource_tags.team: invalid tag value; "
     "expected at most 256"},
    {"resource tag value null",
     ECR_TARGET "  repository_settings:\n    resource_tags: {team: }\n" ONE_IMAGE,
     "target.repository_settings.resource_tags.team: expected a string; write \"\" for an "
     "empty value"},
    {"resource tags a list",
     ECR_TARGET "  repository_settings:\n    resource_tags: [team]\n" ONE_IMAGE,
     "config.yaml:4:20: target.repository_settings.resource_tags: expected a mapping of tag "
     "keys to string values"},
    {"lifecycle policy invalid",
     ECR_TARGET "  repository_settings:\n"
                "    lifecycle_policy:\n"
                "      rules:\n"
                "        - rulePriority: 1\n"
                "          selection:\n"
                "            tagStatus: any\n"
                "            countType: imageCountMoreThan\n"
                "            countNumber: 0\n"
                "          action: {type: expire}\n" ONE_IMAGE,
     "config.yaml:10:26: target.repository_settings.lifecycle_policy.rules[0].selection."
     "countNumber: expected a whole number >= 1"},
    {"lifecycle policy missing field",
     ECR_TARGET "  repository_settings:\n"
                "    lifecycle_policy:\n"
                "      rules:\n"
                "        - rulePriority: 1\n"
                "          description: expire everything but the newest ten images\n"
                "          selection: {tagStatus: tagged, countType: imageCountMoreThan, "
                "countNumber: 10}\n"
                "          action: {type: expire}\n" ONE_IMAGE,
     "config.yaml:8:22: target.repository_settings.lifecycle_policy.rules[0].selection: "
     "tagStatus \"tagged\" needs tagPrefixList or tagPatternList"},
    {"lifecycle policy unknown field",
     ECR_TARGET "  repository_settings:\n"
                "    lifecycle_policy:\n"
                "      rules:\n"
                "        - rulePriority: 1\n"
                "          selection: {tagStatus: untagged, countType: imageCountMoreThan, "
                "countNumber: 10}\n"
                "          action: {type: expire}\n"
                "          priority: 2\n" ONE_IMAGE,
     "config.yaml:9:11: target.repository_settings.lifecycle_policy.rules[0]: unknown field "
     "'priority'"},
    {"lifecycle policy any not last",
     ECR_TARGET "  repository_settings:\n"
                "    lifecycle_policy:\n"
                "      rules:\n"
                "        - rulePriority: 1\n"
                "          selection: {tagStatus: any, countType: imageCountMoreThan, "
                "countNumber: 100}\n"
                "          action: {type: expire}\n"
                "        - rulePriority: 2\n"
                "          selection: {tagStatus: untagged, countType: imageCountMoreThan, "
                "countNumber: 10}\n"
                "          action: {type: expire}\n" ONE_IMAGE,
     "config.yaml:6:11: target.repository_settings.lifecycle_policy.rules[0]: a rule with "
     "tagStatus \"any\" must have the highest rulePriority (2), not 1"},
    {"lifecycle policy a list",
     ECR_TARGET "  repository_settings:\n    lifecycle_policy: [a]\n" ONE_IMAGE,
     "config.yaml:4:23: target.repository_settings.lifecycle_policy: expected a mapping "
     "with 'rules'"},
    {"lifecycle policy and file",
     ECR_TARGET "  repository_settings:\n"
                "    lifecycle_policy: {rules: []}\n"
                "    lifecycle_policy_file: policy.json\n" ONE_IMAGE,
     "config.yaml:5:5: target.repository_settings: give lifecycle_policy or "
     "lifecycle_policy_file, not both"},

    /* Registries and credentials. */
    {"registry key not a host", ECR_TARGET "registries:\n  nginx: {insecure: true}\n" ONE_IMAGE,
     "config.yaml:4:3: registries.nginx: invalid registry host; expected HOST[:PORT]"},
    {"registry listed twice",
     ECR_TARGET "registries:\n  docker.io:\n  index.docker.io:\n" ONE_IMAGE,
     "config.yaml:5:3: registries.\"index.docker.io\": the registry docker.io is already "
     "configured at line 4"},
    {"insecure not a bool", ECR_TARGET "registries:\n  ghcr.io: {insecure: 'no'}\n" ONE_IMAGE,
     "config.yaml:4:23: registries.\"ghcr.io\".insecure: expected true or false"},
    {"unknown registry key", ECR_TARGET "registries:\n  ghcr.io: {ca_fle: x}\n" ONE_IMAGE,
     "config.yaml:4:13: registries.\"ghcr.io\".ca_fle: unknown key; did you mean 'ca_file'?"},
    {"ca_file missing",
     ECR_TARGET "registries:\n  ghcr.io: {ca_file: /nonexistent/ca.pem}\n" ONE_IMAGE,
     "config.yaml:4:22: registries.\"ghcr.io\".ca_file: cannot read '/nonexistent/ca.pem': "
     "No such file or directory"},
    {"two credential forms",
     ECR_TARGET "registries:\n  docker.io:\n    credentials:\n"
                "      username_env: HUB_USER\n      password_env: HUB_TOKEN\n"
                "      aws_secret: hub\n" ONE_IMAGE,
     "config.yaml:6:7: registries.\"docker.io\".credentials: mixes username_env and "
     "aws_secret; give username_env and password_env, username_file and password_file, or "
     "aws_secret alone"},
    {"mixed credential pairs",
     ECR_TARGET "registries:\n  docker.io:\n"
                "    credentials: {username_env: HUB_USER, password_file: token}\n" ONE_IMAGE,
     "config.yaml:5:18: registries.\"docker.io\".credentials: mixes username_env and "
     "password_file"},
    {"no credential form", ECR_TARGET "registries:\n  docker.io:\n    credentials: {}\n" ONE_IMAGE,
     "config.yaml:5:18: registries.\"docker.io\".credentials: expected one form: "
     "username_env and password_env, username_file and password_file, or aws_secret"},
    {"half a credential pair",
     ECR_TARGET "registries:\n  docker.io:\n    credentials: {username_file: user}\n" ONE_IMAGE,
     "config.yaml:5:18: registries.\"docker.io\".credentials.password_file: missing; "
     "username_file and password_file go together"},
    {"secret region without secret",
     ECR_TARGET
     "registries:\n  docker.io:\n    credentials: {aws_secret_region: us-east-1}\n" ONE_IMAGE,
     "registries.\"docker.io\".credentials.aws_secret: missing; aws_secret_region needs "
     "aws_secret"},
    {"bad environment variable name",
     ECR_TARGET "registries:\n  docker.io:\n"
                "    credentials: {username_env: HUB-USER, password_env: HUB_TOKEN}\n" ONE_IMAGE,
     "config.yaml:5:33: registries.\"docker.io\".credentials.username_env: invalid "
     "environment variable name \"HUB-USER\""},
    {"credential file not a string",
     ECR_TARGET "registries:\n  docker.io:\n"
                "    credentials: {username_file: [a], password_file: b}\n" ONE_IMAGE,
     "config.yaml:5:34: registries.\"docker.io\".credentials.username_file: expected a "
     "string"},
    {"bad secret name",
     ECR_TARGET
     "registries:\n  docker.io:\n    credentials: {aws_secret: 'hub secret'}\n" ONE_IMAGE,
     "config.yaml:5:31: registries.\"docker.io\".credentials.aws_secret: invalid secret "
     "\"hub secret\""},
    {"negative reserve",
     ECR_TARGET "registries:\n  docker.io: {rate_limit: {reserve: -1}}\n" ONE_IMAGE,
     "config.yaml:4:37: registries.\"docker.io\".rate_limit.reserve: expected a whole number "
     ">= 0"},
    {"reserve as text",
     ECR_TARGET "registries:\n  docker.io: {rate_limit: {reserve: many}}\n" ONE_IMAGE,
     "config.yaml:4:37: registries.\"docker.io\".rate_limit.reserve: expected a whole number "
     ">= 0"},
    {"reserve as a fraction",
     ECR_TARGET "registries:\n  docker.io: {rate_limit: {reserve: 2.5}}\n" ONE_IMAGE,
     "config.yaml:4:37: registries.\"docker.io\".rate_limit.reserve: expected a whole number "
     ">= 0"},
    {"registries a list", ECR_TARGET "registries: [docker.io]\n" ONE_IMAGE,
     "config.yaml:3:13: registries: expected a mapping of registry hosts"},

    /* Images. */
    {"uppercase source", ECR_TARGET "images:\n  - source: Datadog/agent\n",
     "config.yaml:4:13: images[0].source: invalid "},
    {"source with a tag", ECR_TARGET "images:\n  - source: nginx:1.27\n",
     "config.yaml:4:13: images[0].source: invalid "},
    {"source with a digest",
     ECR_TARGET "images:\n  - source: nginx@sha256:"
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
     "config.yaml:4:13: images[0].source: invalid "},
    {"source not a string", ECR_TARGET "images:\n  - source: [nginx]\n",
     "config.yaml:4:13: images[0].source: expected a string"},
    {"include a string", ECR_TARGET "images:\n  - source: nginx\n    tags: {include: '^1'}\n",
     "config.yaml:5:21: images[0].tags.include: expected a list of strings"},
    {"include item a list",
     ECR_TARGET "images:\n  - source: nginx\n    tags: {include: ['^1', [x]]}\n",
     "config.yaml:5:28: images[0].tags.include[1]: expected a string"},
    {"bad include regex",
     ECR_TARGET "images:\n  - source: nginx\n    tags:\n      include: ['^1', '^7\\.(']\n",
     "config.yaml:6:23: images[0].tags.include[1]: invalid regular expression \"^7\\.(\": "},
    {"bad exclude regex",
     ECR_TARGET "images:\n  - source: nginx\n    tags:\n      exclude:\n        - '[a-'\n",
     "config.yaml:7:11: images[0].tags.exclude[0]: invalid regular expression \"[a-\""},
    {"bad semver", ECR_TARGET "images:\n  - source: nginx\n    tags: {semver: '>=7.x <<8'}\n",
     "config.yaml:5:20: images[0].tags.semver: invalid semver range \">=7.x <<8\""},
    {"latest zero", ECR_TARGET "images:\n  - source: nginx\n    tags: {latest: 0}\n",
     "config.yaml:5:20: images[0].tags.latest: expected a whole number >= 1"},
    {"latest quoted", ECR_TARGET "images:\n  - source: nginx\n    tags: {latest: '5'}\n",
     "config.yaml:5:20: images[0].tags.latest: expected a whole number >= 1"},
    {"latest too large", ECR_TARGET "images:\n  - source: nginx\n    tags: {latest: 99999999999}\n",
     "config.yaml:5:20: images[0].tags.latest: expected a whole number from 1 to 4294967295"},
    {"tags a list", ECR_TARGET "images:\n  - source: nginx\n    tags: ['1.27']\n",
     "config.yaml:5:11: images[0].tags: expected a mapping with include, exclude, semver or "
     "latest"},
    {"bad platform", ECR_TARGET "images:\n  - source: nginx\n    platforms: [linux]\n",
     "config.yaml:5:17: images[0].platforms[0]: invalid platform \"linux\""},
    {"platform listed twice",
     ECR_TARGET "images:\n  - source: nginx\n    platforms: [linux/arm64, linux/aarch64]\n",
     "config.yaml:5:30: images[0].platforms[1]: the platform linux/arm64 is listed twice"},
    {"platforms empty", ECR_TARGET "images:\n  - source: nginx\n    platforms: []\n",
     "config.yaml:5:16: images[0].platforms: expected a non-empty list of platforms"},
    {"platforms a string", ECR_TARGET "images:\n  - source: nginx\n    platforms: linux/amd64\n",
     "config.yaml:5:16: images[0].platforms: expected a non-empty list of platforms"},
    {"bad target", ECR_TARGET "images:\n  - source: nginx\n    target: Tools/Nginx\n",
     "config.yaml:5:13: images[0].target: invalid repository path \"Tools/Nginx\""},
    {"two images one target",
     "target:\n  ecr: {}\n  repository_prefix: hub\n"
     "images:\n  - source: nginx\n  - source: redis\n  - source: docker.io/library/nginx\n",
     "config.yaml:7:13: images[2].source: images[0] (line 5, \"nginx\") and images[2] "
     "(line 7, \"docker.io/library/nginx\") both map to the target repository \"hub/nginx\"; "
     "give one of them its own 'target'"},
    {"explicit target collides",
     ECR_TARGET "images:\n  - source: ghcr.io/org/nginx\n  - source: nginx\n"
                "    target: org/nginx\n",
     "config.yaml:6:13: images[1].target: images[0] (line 4, \"ghcr.io/org/nginx\") and "
     "images[1] (line 5, \"nginx\") both map to the target repository \"org/nginx\""},

    /* Schedule. */
    {"cron four fields", ECR_TARGET ONE_IMAGE "schedule: '0 3 * *'\n",
     "config.yaml:5:11: schedule: expected 5 fields (minute hour day-of-month month "
     "day-of-week), found 4"},
    {"cron six fields", ECR_TARGET ONE_IMAGE "schedule: '0 0 3 * * *'\n",
     "config.yaml:5:11: schedule: expected 5 fields"},
    {"cron minute out of range", ECR_TARGET ONE_IMAGE "schedule: '60 3 * * *'\n",
     "config.yaml:5:11: schedule: minute field \"60\": 60 is out of range; expected 0-59"},
    {"cron hour out of range", ECR_TARGET ONE_IMAGE "schedule: '0 24 * * *'\n",
     "schedule: hour field \"24\": 24 is out of range; expected 0-23"},
    {"cron day zero", ECR_TARGET ONE_IMAGE "schedule: '0 3 0 * *'\n",
     "schedule: day-of-month field \"0\": 0 is out of range; expected 1-31"},
    {"cron month name", ECR_TARGET ONE_IMAGE "schedule: '0 3 1 JANUARY *'\n",
     "schedule: month field \"JANUARY\": unknown name 'JANUARY'; expected 1-12 or JAN-DEC"},
    {"cron weekday eight", ECR_TARGET ONE_IMAGE "schedule: '0 3 * * 8'\n",
     "schedule: day-of-week field \"8\": 8 is out of range; expected 0-7 or SUN-SAT"},
    {"cron weekday name in hours", ECR_TARGET ONE_IMAGE "schedule: '0 MON * * *'\n",
     "schedule: hour field \"MON\": unexpected 'M'; expected 0-23"},
    {"cron zero step", ECR_TARGET ONE_IMAGE "schedule: '*/0 * * * *'\n",
     "schedule: minute field \"*/0\": the step must be 1 to 59"},
    {"cron step on a value", ECR_TARGET ONE_IMAGE "schedule: '5/15 * * * *'\n",
     "schedule: minute field \"5/15\": a step needs '*' or a range before it"},
    {"cron backwards range", ECR_TARGET ONE_IMAGE "schedule: '0 3 * * FRI-MON'\n",
     "schedule: day-of-week field \"FRI-MON\": the range 5-1 runs backwards"},
    {"cron empty list item", ECR_TARGET ONE_IMAGE "schedule: '0,,30 * * * *'\n",
     "schedule: minute field \"0,,30\": unexpected ','; expected 0-59"},
    {"cron trailing comma", ECR_TARGET ONE_IMAGE "schedule: '0, * * * *'\n",
     "schedule: minute field \"0,\": a value is missing; expected 0-59"},
    {"schedule a number", ECR_TARGET ONE_IMAGE "schedule: 5\n",
     "config.yaml:5:11: schedule: expected 5 fields"},
    {"schedule a list", ECR_TARGET ONE_IMAGE "schedule: [daily]\n",
     "config.yaml:5:11: schedule: expected a string"},
};

/* Run every case and list each mismatch before failing, so one run shows them all. */
static void test_invalid_configs(void **state)
{
        size_t failures = 0;

        for (size_t i = 0; i < ES_ARRAY_SIZE(invalid_cases); i++) {
                const struct invalid_case *c = &invalid_cases[i];
                _cleanup_free_ char *message = NULL;

                message = parse_invalid_at(c->text, strlen(c->text), "config.yaml");
                if (strstr(message, c->expected) != NULL)
                        continue;
                print_error("case \"%s\"\nconfig:\n%s\nexpected a message containing:\n  %s\n"
                            "got:\n  %s\n\n",
                            c->name, c->text, c->expected, message);
                failures++;
        }
        assert_int_equal(failures, 0);
}

/* ---- several problems, limits and loading ---- */

static void test_all_problems_in_file_order(void **state)
{
        static const char text[] = "schedule: '0 25 * * *'\n"
                                   "target:\n"
                                   "  ecr: {account: '1'}\n"
                                   "images:\n"
                                   "  - source: Nginx\n"
                                   "    tags: {latest: 0}\n";
        _cleanup_free_ char *message = parse_invalid_at(text, strlen(text), "config.yaml");
        const char *expected = "config.yaml:1:11: schedule: hour field \"25\": 25 is out of "
                               "range; expected 0-23\n"
                               "config.yaml:3:18: target.ecr.account: invalid account ID \"1\"; "
                               "expected 12 digits as a quoted string, such as "
                               "\"123456789012\"\n"
                               "config.yaml:5:13: images[0].source: invalid ";
        const char *last = "\nconfig.yaml:6:20: images[0].tags.latest: expected a whole "
                           "number >= 1";

        assert_contains(text, message, expected);
        assert_contains(text, message, last);
        /* Exactly four problems: one line each. */
        assert_int_equal(strchr(strstr(message, last) + 1, '\n'), NULL);
}

static void test_problem_limit(void **state)
{
        struct es_buf text = ES_BUF_INIT(0);
        _cleanup_free_ char *yaml = NULL;
        _cleanup_free_ char *message = NULL;
        size_t lines = 1;

        es_buf_puts(&text, ECR_TARGET "images:\n");
        for (int i = 0; i < ES_SYNC_CONFIG_MAX_ERRORS + 5; i++)
                es_buf_puts(&text, "  - source: BAD\n");
        yaml = es_buf_take(&text);

        message = parse_invalid_at(yaml, strlen(yaml), "config.yaml");
        for (const char *p = message; *p; p++)
                lines += *p == '\n';
        assert_int_equal(lines, ES_SYNC_CONFIG_MAX_ERRORS + 1);
        assert_contains(yaml, message, "config.yaml:4:13: images[0].source: invalid ");
        assert_contains(yaml, message, "\nconfig.yaml: 5 more problems not shown");
}

static void test_too_many_resource_tags(void **state)
{
        struct es_buf text = ES_BUF_INIT(0);
        _cleanup_free_ char *yaml = NULL;
        _cleanup_free_ char *message = NULL;

        es_buf_puts(&text, ECR_TARGET "  repository_settings:\n    resource_tags:\n");
        for (int i = 0; i < 51; i++)
                es_buf_printf(&text, "      tag%d: value\n", i);
        es_buf_puts(&text, ONE_IMAGE);
        yaml = es_buf_take(&text);

        message = parse_invalid_at(yaml, strlen(yaml), "config.yaml");
        assert_contains(yaml, message,
                        "config.yaml:5:7: target.repository_settings.resource_tags: 51 tags; ECR "
                        "accepts at most 50");
}

static void test_nul_byte(void **state)
{
        static const char text[] = ECR_TARGET "\0" ONE_IMAGE;
        _cleanup_free_ char *message = parse_invalid_at(text, sizeof(text) - 1, "config.yaml");

        assert_contains("(with a NUL byte)", message,
                        "config.yaml:1:1: the file contains a NUL byte at offset 35");
}

static void test_nul_escape(void **state)
{
        static const char text[] = ECR_TARGET "images:\n  - source: \"ngi\\0nx\"\n";
        _cleanup_free_ char *message = parse_invalid_at(text, strlen(text), "config.yaml");

        assert_contains(text, message,
                        "config.yaml:4:13: images[0].source: the value contains a NUL character");
}

static void test_deep_nesting(void **state)
{
        struct es_buf text = ES_BUF_INIT(0);
        _cleanup_free_ char *yaml = NULL;
        _cleanup_free_ char *message = NULL;

        es_buf_puts(&text, "target: ");
        for (int i = 0; i < 100; i++)
                es_buf_puts(&text, "[");
        yaml = es_buf_take(&text);

        message = parse_invalid_at(yaml, strlen(yaml), "config.yaml");
        assert_contains(yaml, message, "nesting deeper than 64 levels");
}

static void test_load_missing_file(void **state)
{
        _cleanup_free_ char *path = configs_path("does-not-exist.yaml");
        struct es_sync_config *config = NULL;
        struct es_error err = ES_ERROR_INIT;
        _cleanup_free_ char *expected =
            es_asprintf("%s: cannot open: No such file or directory", path);

        assert_int_equal(es_sync_config_load(path, &config, &err), -ES_ERR_INVALID);
        assert_null(config);
        assert_str("message", es_error_message(&err), expected);
        es_error_release(&err);

        assert_int_equal(es_sync_config_load(configs_dir, &config, &err), -ES_ERR_INVALID);
        assert_null(config);
        assert_contains(configs_dir, es_error_message(&err), ": not a regular file");
        es_error_release(&err);
}

/* Accepted values at the edges of each rule. */
static void test_valid_edges(void **state)
{
        static const char *const texts[] = {
            ECR_TARGET ONE_IMAGE "schedule: '*/15 0-23/2 1,15,31 JAN-dec/3 sun-sat'\n",
            ECR_TARGET ONE_IMAGE "schedule: '59 23 31 12 7'\n",
            ECR_TARGET ONE_IMAGE "schedule: '0 0 1 1 0'\n",
            ECR_TARGET "registries:\n  docker.io: {rate_limit: {}}\n" ONE_IMAGE,
            ECR_TARGET "registries:\n  localhost:5000: {insecure: true}\n" ONE_IMAGE,
            ECR_TARGET
            "registries:\n  docker.io:\n    credentials: {aws_secret: "
            "'arn:aws:secretsmanager:us-east-1:123456789012:secret:hub-AbCdEf'}\n" ONE_IMAGE,
            ECR_TARGET "  repository_settings:\n    encryption: {type: KMS}\n" ONE_IMAGE,
            ECR_TARGET "  repository_settings: {resource_tags: {}}\n" ONE_IMAGE,
            ECR_TARGET "images:\n  - {source: nginx, tags: {semver: 7}}\n",
            ECR_TARGET "images:\n  - source: !!str nginx\n    platforms: [linux/arm/7]\n",
            "%YAML 1.1\n---\n" ECR_TARGET ONE_IMAGE "...\n",
            "target:\n  ecr: {account: !!str 123456789012}\n" ONE_IMAGE,
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(texts); i++)
                es_sync_config_free(parse_valid(texts[i]));
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_full_config),
            cmocka_unit_test(test_defaults),
            cmocka_unit_test(test_registry_target),
            cmocka_unit_test(test_target_mapping),
            cmocka_unit_test(test_registry_lookup),
            cmocka_unit_test(test_lifecycle_policy_file),
            cmocka_unit_test(test_lifecycle_policy_file_errors),
            cmocka_unit_test(test_invalid_configs),
            cmocka_unit_test(test_all_problems_in_file_order),
            cmocka_unit_test(test_problem_limit),
            cmocka_unit_test(test_too_many_resource_tags),
            cmocka_unit_test(test_nul_byte),
            cmocka_unit_test(test_nul_escape),
            cmocka_unit_test(test_deep_nesting),
            cmocka_unit_test(test_load_missing_file),
            cmocka_unit_test(test_valid_edges),
        };

        if (argc != 2) {
                fprintf(stderr, "usage: %s CONFIGS_DIR (tests/unit/sync/configs)\n", argv[0]);
                return 2;
        }
        configs_dir = argv[1];
        return cmocka_run_group_tests(tests, NULL, NULL);
}
