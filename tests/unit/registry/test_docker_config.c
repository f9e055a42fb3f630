/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for registry/docker_config.c: parsing, key matching, precedence, loading. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/limits.h"
#include "registry/docker_config.h"

#define CONFIG_PATH "/home/dev/.docker/config.json"

/* base64 of "user:p@ss:word", "alice:secret1" and "bob:secret2". */
#define AUTH_USER  "dXNlcjpwQHNzOndvcmQ="
#define AUTH_ALICE "YWxpY2U6c2VjcmV0MQ=="
#define AUTH_BOB   "Ym9iOnNlY3JldDI="

struct lookup_case {
        const char *name;
        const char *json;
        const char *registry;
        bool found;
        const char *username;
        const char *password;
        const char *identity_token;
        const char *helper;
};

/* Compare two strings that may be NULL, naming the case and field on a mismatch. */
static void assert_field(const char *name, const char *field, const char *actual,
                         const char *expected)
{
        if (actual == NULL && expected == NULL)
                return;
        if (actual != NULL && expected != NULL && strcmp(actual, expected) == 0)
                return;
        print_error("case %s, field %s\n", name, field);
        assert_string_equal(actual ? actual : "(null)", expected ? expected : "(null)");
}

static struct es_docker_config *parse_ok(const char *name, const char *json)
{
        struct es_docker_config *config = NULL;
        struct es_error err = ES_ERROR_INIT;
        int r = es_docker_config_parse(json, strlen(json), CONFIG_PATH, &config, &err);

        if (r != 0)
                print_error("case %s: %s\n", name, es_error_message(&err));
        assert_int_equal(r, 0);
        assert_non_null(config);
        es_error_release(&err);
        return config;
}

static void check_lookup(const struct lookup_case *c)
{
        struct es_docker_config *config = parse_ok(c->name, c->json);
        struct es_docker_auth auth;
        struct es_error err = ES_ERROR_INIT;
        bool found = !c->found;
        int r = es_docker_config_lookup(config, c->registry, &auth, &found, &err);

        if (r != 0)
                print_error("case %s: %s\n", c->name, es_error_message(&err));
        assert_int_equal(r, 0);
        if (found != c->found)
                print_error("case %s: found\n", c->name);
        assert_int_equal(found, c->found);
        assert_field(c->name, "username", auth.username, c->username);
        assert_field(c->name, "password", auth.password, c->password);
        assert_field(c->name, "identity_token", auth.identity_token, c->identity_token);
        assert_field(c->name, "helper", auth.helper, c->helper);

        es_docker_auth_release(&auth);
        assert_null(auth.password);
        es_docker_config_free(config);
        es_error_release(&err);
}

static void test_lookup_credentials(void **state)
{
        static const struct lookup_case cases[] = {
            {"auth base64", "{\"auths\":{\"ghcr.io\":{\"auth\":\"" AUTH_USER "\"}}}", "ghcr.io",
             true, "user", "p@ss:word", NULL, NULL},
            {"auth without padding", "{\"auths\":{\"ghcr.io\":{\"auth\":\"dXNlcjpwYQ\"}}}",
             "ghcr.io", true, "user", "pa", NULL, NULL},
            {"auth with line break", "{\"auths\":{\"ghcr.io\":{\"auth\":\"dXNlcjpw\\nYQ==\"}}}",
             "ghcr.io", true, "user", "pa", NULL, NULL},
            {"username and password",
             "{\"auths\":{\"quay.io\":{\"username\":\"robot\",\"password\":\"tok\"}}}", "quay.io",
             true, "robot", "tok", NULL, NULL},
            {"auth wins over fields",
             "{\"auths\":{\"quay.io\":{\"username\":\"robot\",\"password\":\"tok\","
             "\"auth\":\"" AUTH_ALICE "\"}}}",
             "quay.io", true, "alice", "secret1", NULL, NULL},
            {"empty auth falls back to fields",
             "{\"auths\":{\"quay.io\":{\"auth\":\"\",\"username\":\"robot\","
             "\"password\":\"tok\"}}}",
             "quay.io", true, "robot", "tok", NULL, NULL},
            {"identity token",
             "{\"auths\":{\"myreg.azurecr.io\":{\"auth\":"
             "\"MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOg==\","
             "\"identitytoken\":\"eyJhbGciOi.refresh\"}}}",
             "myreg.azurecr.io", true, "00000000-0000-0000-0000-000000000000", "",
             "eyJhbGciOi.refresh", NULL},
            {"identity token alone",
             "{\"auths\":{\"myreg.azurecr.io\":{\"identitytoken\":\"tok\"}}}", "myreg.azurecr.io",
             true, NULL, NULL, "tok", NULL},
            {"loopback with port", "{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"" AUTH_ALICE "\"}}}",
             "127.0.0.1:5000", true, "alice", "secret1", NULL, NULL},
            {"port must match", "{\"auths\":{\"127.0.0.1\":{\"auth\":\"" AUTH_ALICE "\"}}}",
             "127.0.0.1:5000", false, NULL, NULL, NULL, NULL},
            {"key with scheme and /v2/ path",
             "{\"auths\":{\"http://127.0.0.1:5000/v2/\":{\"auth\":\"" AUTH_ALICE "\"}}}",
             "127.0.0.1:5000", true, "alice", "secret1", NULL, NULL},
            {"key with https scheme",
             "{\"auths\":{\"https://ghcr.io\":{\"auth\":\"" AUTH_ALICE "\"}}}", "ghcr.io", true,
             "alice", "secret1", NULL, NULL},
            {"key with /v1/ path", "{\"auths\":{\"ghcr.io/v1/\":{\"auth\":\"" AUTH_ALICE "\"}}}",
             "ghcr.io", true, "alice", "secret1", NULL, NULL},
            {"host case is ignored", "{\"auths\":{\"GHCR.io\":{\"auth\":\"" AUTH_ALICE "\"}}}",
             "ghcr.io", true, "alice", "secret1", NULL, NULL},
            {"longer host does not match",
             "{\"auths\":{\"ghcr.io.evil.example\":{\"auth\":\"" AUTH_ALICE "\"}}}", "ghcr.io",
             false, NULL, NULL, NULL, NULL},
            {"exact key wins over a later form",
             "{\"auths\":{\"https://ghcr.io/v2/\":{\"auth\":\"" AUTH_BOB "\"},"
             "\"ghcr.io\":{\"auth\":\"" AUTH_ALICE "\"}}}",
             "ghcr.io", true, "alice", "secret1", NULL, NULL},
            {"first matching form in file order",
             "{\"auths\":{\"https://ghcr.io/v2/\":{\"auth\":\"" AUTH_BOB "\"},"
             "\"http://ghcr.io\":{\"auth\":\"" AUTH_ALICE "\"}}}",
             "ghcr.io", true, "bob", "secret2", NULL, NULL},
            {"other registry only", "{\"auths\":{\"quay.io\":{\"auth\":\"" AUTH_ALICE "\"}}}",
             "ghcr.io", false, NULL, NULL, NULL, NULL},
            {"no auths", "{}", "ghcr.io", false, NULL, NULL, NULL, NULL},
            {"blank file", " \n\t", "ghcr.io", false, NULL, NULL, NULL, NULL},
            {"empty file", "", "docker.io", false, NULL, NULL, NULL, NULL},
            {"unknown members kept aside",
             "{\"auths\":{\"ghcr.io\":{\"auth\":\"" AUTH_ALICE "\",\"email\":\"a@b.c\"}},"
             "\"psFormat\":\"table\",\"proxies\":{}}",
             "ghcr.io", true, "alice", "secret1", NULL, NULL},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++)
                check_lookup(&cases[i]);
}

static void test_docker_hub_keys(void **state)
{
        static const char *const keys[] = {
            "https://index.docker.io/v1/",
            "index.docker.io",
            "docker.io",
            "registry-1.docker.io",
            "https://index.docker.io",
            "https://docker.io",
            "https://registry-1.docker.io",
            "https://registry-1.docker.io/v2/",
            "http://index.docker.io/v1/",
        };
        static const char *const registries[] = {"docker.io", "index.docker.io",
                                                 "registry-1.docker.io"};

        for (size_t i = 0; i < ES_ARRAY_SIZE(keys); i++) {
                for (size_t j = 0; j < ES_ARRAY_SIZE(registries); j++) {
                        _cleanup_free_ char *json = es_asprintf(
                            "{\"auths\":{\"%s\":{\"auth\":\"" AUTH_ALICE "\"}}}", keys[i]);
                        _cleanup_free_ char *name =
                            es_asprintf("key %s, registry %s", keys[i], registries[j]);
                        struct lookup_case c = {name,    json,      registries[j], true,
                                                "alice", "secret1", NULL,          NULL};

                        check_lookup(&c);
                }
        }
}

static void test_docker_hub_key_precedence(void **state)
{
        static const struct lookup_case cases[] = {
            {"canonical key after another form",
             "{\"auths\":{\"docker.io\":{\"auth\":\"" AUTH_ALICE "\"},"
             "\"https://index.docker.io/v1/\":{\"auth\":\"" AUTH_BOB "\"}}}",
             "docker.io", true, "bob", "secret2", NULL, NULL},
            {"canonical key before another form",
             "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"" AUTH_BOB "\"},"
             "\"registry-1.docker.io\":{\"auth\":\"" AUTH_ALICE "\"}}}",
             "docker.io", true, "bob", "secret2", NULL, NULL},
            {"docker hub key does not serve other registries",
             "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"" AUTH_BOB "\"}}}", "ghcr.io",
             false, NULL, NULL, NULL, NULL},
            {"lookalike host is not docker hub",
             "{\"auths\":{\"docker.io.example\":{\"auth\":\"" AUTH_BOB "\"}}}", "docker.io", false,
             NULL, NULL, NULL, NULL},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++)
                check_lookup(&cases[i]);
}

static void test_helper_precedence(void **state)
{
        static const struct lookup_case cases[] = {
            {"credHelpers over auths",
             "{\"auths\":{\"ghcr.io\":{\"auth\":\"" AUTH_ALICE "\"}},"
             "\"credHelpers\":{\"ghcr.io\":\"gh\"},\"credsStore\":\"desktop\"}",
             "ghcr.io", true, NULL, NULL, NULL, "gh"},
            {"auths over credsStore",
             "{\"auths\":{\"ghcr.io\":{\"auth\":\"" AUTH_ALICE "\"}},\"credsStore\":\"desktop\"}",
             "ghcr.io", true, "alice", "secret1", NULL, NULL},
            {"credsStore for other registries",
             "{\"auths\":{\"ghcr.io\":{\"auth\":\"" AUTH_ALICE "\"}},\"credsStore\":\"desktop\"}",
             "quay.io", true, NULL, NULL, NULL, "desktop"},
            {"empty auths entry next to credsStore",
             "{\"auths\":{\"https://index.docker.io/v1/\":{}},\"credsStore\":\"desktop\"}",
             "docker.io", true, NULL, NULL, NULL, "desktop"},
            {"empty auths entry alone", "{\"auths\":{\"ghcr.io\":{}}}", "ghcr.io", false, NULL,
             NULL, NULL, NULL},
            {"credHelpers with docker hub key", "{\"credHelpers\":{\"index.docker.io\":\"pass\"}}",
             "docker.io", true, NULL, NULL, NULL, "pass"},
            {"credHelpers for another registry",
             "{\"auths\":{\"ghcr.io\":{\"auth\":\"" AUTH_ALICE "\"}},"
             "\"credHelpers\":{\"123456789012.dkr.ecr.us-east-1.amazonaws.com\":"
             "\"ecr-login\"}}",
             "ghcr.io", true, "alice", "secret1", NULL, NULL},
            {"credHelpers for an ECR registry",
             "{\"credHelpers\":{\"123456789012.dkr.ecr.us-east-1.amazonaws.com\":"
             "\"ecr-login\"}}",
             "123456789012.dkr.ecr.us-east-1.amazonaws.com", true, NULL, NULL, NULL, "ecr-login"},
            {"empty credHelpers entry falls through",
             "{\"credHelpers\":{\"ghcr.io\":\"\"},\"credsStore\":\"osxkeychain\"}", "ghcr.io", true,
             NULL, NULL, NULL, "osxkeychain"},
            {"empty credsStore", "{\"credsStore\":\"\"}", "ghcr.io", false, NULL, NULL, NULL, NULL},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++)
                check_lookup(&cases[i]);
}

static void test_lookup_rejects_bad_auth(void **state)
{
        static const struct {
                const char *auth;
                const char *secret_part;
        } cases[] = {
            {"!!!notbase64", "notbase64"},
            {"dXNlcnBhc3N3b3Jk", "dXNlcnBhc3N3b3Jk"}, /* "userpassword", no colon */
            {"dXNlcjpwYQ===", "dXNlcjpwYQ"},          /* too much padding */
            {"dXNlc=jpwYQ==", "dXNlc"},               /* data after padding */
            {"dXNlcjpwY", "dXNlcjpwY"},               /* 9 characters cannot be base64 */
            {"AGE6Yg==", "AGE6Yg"},                   /* "\0a:b" has a NUL byte */
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *json =
                    es_asprintf("{\"auths\":{\"ghcr.io\":{\"auth\":\"%s\"}}}", cases[i].auth);
                struct es_docker_config *config = parse_ok(cases[i].auth, json);
                struct es_docker_auth auth;
                struct es_error err = ES_ERROR_INIT;
                bool found = true;
                int r = es_docker_config_lookup(config, "ghcr.io", &auth, &found, &err);

                if (r != -ES_ERR_INVALID)
                        print_error("auth \"%s\" was accepted\n", cases[i].auth);
                assert_int_equal(r, -ES_ERR_INVALID);
                assert_false(found);
                assert_null(auth.username);
                assert_null(auth.password);
                assert_string_equal(es_error_message(&err),
                                    "invalid Docker config \"" CONFIG_PATH "\": "
                                    "auths[\"ghcr.io\"].auth for registry \"ghcr.io\" is not "
                                    "base64 of \"user:password\"; log in again or fix the entry");
                assert_null(strstr(es_error_message(&err), cases[i].secret_part));
                es_error_release(&err);
                es_docker_config_free(config);
        }
}

static void test_parse_rejects(void **state)
{
        static const struct {
                const char *json;
                const char *message;
        } cases[] = {
            {"{\"auths\": ", "invalid Docker config \"" CONFIG_PATH
                             "\": invalid JSON at line 1, column 10: unexpected end of "
                             "input"},
            {"{\"auths\":{\"x\":{\"auth\":\"c2VjcmV0OnZhbHVl",
             "invalid Docker config \"" CONFIG_PATH
             "\": invalid JSON at line 1, column 39: unexpected end of input"},
            {"{\"auths\":{\"x\":{\"auth\": c2VjcmV0OnZhbHVl}}}",
             "invalid Docker config \"" CONFIG_PATH
             "\": invalid JSON at line 1, column 24: invalid syntax"},
            {"{} {}", "invalid Docker config \"" CONFIG_PATH
                      "\": invalid JSON at line 1, column 4: unexpected text after the JSON "
                      "value"},
            {"[]",
             "invalid Docker config \"" CONFIG_PATH "\": expected a JSON object at the top level"},
            {"{\"auths\":[]}",
             "invalid Docker config \"" CONFIG_PATH "\": auths: expected an object"},
            {"{\"auths\":{\"ghcr.io\":\"x\"}}",
             "invalid Docker config \"" CONFIG_PATH "\": auths[\"ghcr.io\"]: expected an object"},
            {"{\"auths\":{\"ghcr.io\":{\"auth\":5}}}",
             "invalid Docker config \"" CONFIG_PATH
             "\": auths[\"ghcr.io\"].auth: expected a string"},
            {"{\"auths\":{\"ghcr.io\":{\"password\":true}}}",
             "invalid Docker config \"" CONFIG_PATH
             "\": auths[\"ghcr.io\"].password: expected a string"},
            {"{\"credHelpers\":[]}",
             "invalid Docker config \"" CONFIG_PATH "\": credHelpers: expected an object"},
            {"{\"credHelpers\":{\"ghcr.io\":1}}",
             "invalid Docker config \"" CONFIG_PATH
             "\": credHelpers[\"ghcr.io\"]: expected a string"},
            {"{\"credHelpers\":{\"ghcr.io\":\"../../bin/sh\"}}",
             "invalid Docker config \"" CONFIG_PATH
             "\": credHelpers[\"ghcr.io\"]: invalid credential helper name \"../../bin/sh\"; "
             "expected letters, digits, '-', '_' and '.'"},
            {"{\"credsStore\":[\"desktop\"]}",
             "invalid Docker config \"" CONFIG_PATH "\": credsStore: expected a string"},
            {"{\"credsStore\":\"desk top\"}",
             "invalid Docker config \"" CONFIG_PATH
             "\": credsStore: invalid credential helper name \"desk top\"; expected letters, "
             "digits, '-', '_' and '.'"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_docker_config *config = NULL;
                struct es_error err = ES_ERROR_INIT;
                int r = es_docker_config_parse(cases[i].json, strlen(cases[i].json), CONFIG_PATH,
                                               &config, &err);

                if (r != -ES_ERR_INVALID)
                        print_error("config '%s' was accepted\n", cases[i].json);
                assert_int_equal(r, -ES_ERR_INVALID);
                assert_null(config);
                if (strcmp(es_error_message(&err), cases[i].message) != 0)
                        print_error("config '%s'\n", cases[i].json);
                assert_string_equal(es_error_message(&err), cases[i].message);
                assert_null(strstr(es_error_message(&err), "c2VjcmV0"));
                es_error_release(&err);
        }
}

static void test_parse_size_limit(void **state)
{
        size_t len = ES_MAX_DOCKER_CONFIG + 1;
        _cleanup_free_ char *data = es_malloc(len);
        struct es_docker_config *config = NULL;
        struct es_error err = ES_ERROR_INIT;

        memset(data, ' ', len);
        data[0] = '{';
        data[len - 1] = '}';
        assert_int_equal(es_docker_config_parse(data, len, CONFIG_PATH, &config, &err),
                         -ES_ERR_INVALID);
        assert_string_equal(es_error_message(&err), "invalid Docker config \"" CONFIG_PATH
                                                    "\": 4194305 bytes, the maximum is 4194304 "
                                                    "bytes (4 MiB)");
        assert_null(config);

        assert_int_equal(es_docker_config_parse(data, len - 1, CONFIG_PATH, &config, &err),
                         -ES_ERR_INVALID);
        data[len - 2] = '}';
        assert_int_equal(es_docker_config_parse(data, len - 1, CONFIG_PATH, &config, &err), 0);
        es_docker_config_free(config);
        es_docker_config_free(NULL);
        es_error_release(&err);
}

/* A temporary directory for the load tests; removed by the teardown. */
struct load_fixture {
        char dir[64];
        char *saved_home;
        char *saved_docker_config;
};

static char *strdup_env(const char *name)
{
        const char *value = getenv(name);

        return value ? es_strdup(value) : NULL;
}

static int load_setup(void **state)
{
        struct load_fixture *fixture = es_calloc(1, sizeof(*fixture));

        strcpy(fixture->dir, "/tmp/es-docker-config-XXXXXX");
        if (mkdtemp(fixture->dir) == NULL)
                return -1;
        fixture->saved_home = strdup_env("HOME");
        fixture->saved_docker_config = strdup_env("DOCKER_CONFIG");
        *state = fixture;
        return 0;
}

static void restore_env(const char *name, const char *value)
{
        if (value)
                setenv(name, value, 1);
        else
                unsetenv(name);
}

/* Remove what the load tests may create; each step may find nothing to remove. */
static int load_teardown(void **state)
{
        struct load_fixture *fixture = *state;
        _cleanup_free_ char *config = es_asprintf("%s/config.json", fixture->dir);
        _cleanup_free_ char *docker_dir = es_asprintf("%s/.docker", fixture->dir);
        _cleanup_free_ char *home_config = es_asprintf("%s/config.json", docker_dir);
        int r;

        unlink(config);
        rmdir(config);
        unlink(home_config);
        rmdir(docker_dir);
        r = rmdir(fixture->dir);

        restore_env("HOME", fixture->saved_home);
        restore_env("DOCKER_CONFIG", fixture->saved_docker_config);
        free(fixture->saved_home);
        free(fixture->saved_docker_config);
        free(fixture);
        return r;
}

static void write_file(const char *path, const char *content)
{
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        assert_int_equal(fputs(content, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

static void expect_lookup(struct es_docker_config *config, const char *registry,
                          const char *username)
{
        struct es_docker_auth auth;
        bool found = false;

        assert_int_equal(es_docker_config_lookup(config, registry, &auth, &found, NULL), 0);
        assert_int_equal(found, username != NULL);
        assert_field(registry, "username", auth.username, username);
        es_docker_auth_release(&auth);
}

static void test_load_from_docker_config_dir(void **state)
{
        struct load_fixture *fixture = *state;
        _cleanup_free_ char *path = es_asprintf("%s/config.json", fixture->dir);
        struct es_docker_config *config = NULL;
        struct es_error err = ES_ERROR_INIT;

        write_file(path, "{\"auths\":{\"ghcr.io\":{\"auth\":\"" AUTH_ALICE "\"}}}");
        setenv("DOCKER_CONFIG", fixture->dir, 1);
        setenv("HOME", "/nonexistent", 1);

        assert_int_equal(es_docker_config_load(&config, &err), 0);
        expect_lookup(config, "ghcr.io", "alice");
        es_docker_config_free(config);
        es_error_release(&err);
}

static void test_load_from_home(void **state)
{
        struct load_fixture *fixture = *state;
        _cleanup_free_ char *docker_dir = es_asprintf("%s/.docker", fixture->dir);
        _cleanup_free_ char *path = es_asprintf("%s/config.json", docker_dir);
        struct es_docker_config *config = NULL;

        assert_int_equal(mkdir(docker_dir, 0700), 0);
        write_file(path, "{\"auths\":{\"quay.io\":{\"auth\":\"" AUTH_BOB "\"}}}");
        unsetenv("DOCKER_CONFIG");
        setenv("HOME", fixture->dir, 1);

        assert_int_equal(es_docker_config_load(&config, NULL), 0);
        expect_lookup(config, "quay.io", "bob");
        es_docker_config_free(config);

        /* An empty DOCKER_CONFIG is ignored, as Docker does. */
        setenv("DOCKER_CONFIG", "", 1);
        assert_int_equal(es_docker_config_load(&config, NULL), 0);
        expect_lookup(config, "quay.io", "bob");
        es_docker_config_free(config);
}

static void test_load_missing_file(void **state)
{
        struct load_fixture *fixture = *state;
        struct es_docker_config *config = NULL;

        setenv("DOCKER_CONFIG", fixture->dir, 1);
        assert_int_equal(es_docker_config_load(&config, NULL), 0);
        assert_non_null(config);
        expect_lookup(config, "ghcr.io", NULL);
        es_docker_config_free(config);

        unsetenv("DOCKER_CONFIG");
        setenv("HOME", fixture->dir, 1);
        assert_int_equal(es_docker_config_load(&config, NULL), 0);
        expect_lookup(config, "docker.io", NULL);
        es_docker_config_free(config);
}

static void test_load_errors(void **state)
{
        struct load_fixture *fixture = *state;
        _cleanup_free_ char *path = es_asprintf("%s/config.json", fixture->dir);
        _cleanup_free_ char *expected = NULL;
        struct es_docker_config *config = NULL;
        struct es_error err = ES_ERROR_INIT;
        FILE *f;

        setenv("DOCKER_CONFIG", fixture->dir, 1);

        write_file(path, "{\"auths\": {\"ghcr.io\": {\"auth\": 1}}}");
        assert_int_equal(es_docker_config_load(&config, &err), -ES_ERR_INVALID);
        expected = es_asprintf("invalid Docker config \"%s\": auths[\"ghcr.io\"].auth: expected a "
                               "string",
                               path);
        assert_string_equal(es_error_message(&err), expected);
        assert_null(config);
        free(expected);

        f = fopen(path, "w");
        assert_non_null(f);
        for (size_t i = 0; i < ES_MAX_DOCKER_CONFIG; i++)
                fputc(' ', f);
        fputs("{}", f);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(es_docker_config_load(&config, &err), -ES_ERR_INVALID);
        expected = es_asprintf("invalid Docker config \"%s\": larger than the maximum of 4194304 "
                               "bytes (4 MiB)",
                               path);
        assert_string_equal(es_error_message(&err), expected);
        free(expected);

        assert_int_equal(unlink(path), 0);
        assert_int_equal(mkdir(path, 0700), 0);
        assert_int_equal(es_docker_config_load(&config, &err), -ES_ERR_IO);
        expected = es_asprintf("failed to read Docker config \"%s\": not a regular file", path);
        assert_string_equal(es_error_message(&err), expected);
        assert_int_equal(rmdir(path), 0);
        es_error_release(&err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_lookup_credentials),
            cmocka_unit_test(test_docker_hub_keys),
            cmocka_unit_test(test_docker_hub_key_precedence),
            cmocka_unit_test(test_helper_precedence),
            cmocka_unit_test(test_lookup_rejects_bad_auth),
            cmocka_unit_test(test_parse_rejects),
            cmocka_unit_test(test_parse_size_limit),
            cmocka_unit_test_setup_teardown(test_load_from_docker_config_dir, load_setup,
                                            load_teardown),
            cmocka_unit_test_setup_teardown(test_load_from_home, load_setup, load_teardown),
            cmocka_unit_test_setup_teardown(test_load_missing_file, load_setup, load_teardown),
            cmocka_unit_test_setup_teardown(test_load_errors, load_setup, load_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
