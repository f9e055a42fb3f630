/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for aws/credentials.c: which source the chain picks for a given
 * environment and config files, configuration errors, the region, the
 * container URL, and caching and refresh (driven by a credential_process
 * script that counts its runs). Nothing here sends a network request: the
 * provider picks its source without one, and only static and
 * credential_process sources are fetched.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aws/container.h"
#include "aws/credentials.h"
#include "aws/source.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "http/http.h"

static const char *const aws_variables[] = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_SSO",
};

/* A private HOME with its config and credentials files, per test. */
struct fixture {
        char dir[64];
        char config_path[128];
        char credentials_path[128];
        struct es_http *http;
};

static void write_file(const char *path, const char *text, mode_t mode)
{
        FILE *file = fopen(path, "w");

        assert_non_null(file);
        assert_int_equal(fputs(text, file) >= 0, 1);
        assert_int_equal(fclose(file), 0);
        assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
        struct fixture *fixture = es_calloc(1, sizeof(*fixture));
        struct es_error err = ES_ERROR_INIT;

        strcpy(fixture->dir, "/tmp/es-aws-credentials-XXXXXX");
        assert_non_null(mkdtemp(fixture->dir));
        snprintf(fixture->config_path, sizeof(fixture->config_path), "%s/config", fixture->dir);
        snprintf(fixture->credentials_path, sizeof(fixture->credentials_path), "%s/credentials",
                 fixture->dir);
        for (size_t i = 0; i < ES_ARRAY_SIZE(aws_variables); i++)
                unsetenv(aws_variables[i]);
        setenv("HOME", fixture->dir, 1);
        setenv("AWS_CONFIG_FILE", fixture->config_path, 1);
        setenv("AWS_SHARED_CREDENTIALS_FILE", fixture->credentials_path, 1);
        setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
        assert_int_equal(es_http_new(NULL, &fixture->http, &err), 0);
        *state = fixture;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *fixture = *state;
        DIR *dir = opendir(fixture->dir);
        struct dirent *entry;

        while (dir && (entry = readdir(dir)) != NULL) {
                char path[512];

                if (entry->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", fixture->dir, entry->d_name);
                unlink(path);
        }
        if (dir)
                closedir(dir);
        rmdir(fixture->dir);
        es_http_free(fixture->http);
        free(fixture);
        return 0;
}

/* Set "NAME=VALUE;NAME=VALUE" (VALUE may contain '=' but not ';'). */
static void set_environment(const char *assignments)
{
        _cleanup_free_ char *copy = es_strdup(assignments ? assignments : "");
        char *saved = NULL;

        for (char *item = strtok_r(copy, ";", &saved); item; item = strtok_r(NULL, ";", &saved)) {
                char *equals = strchr(item, '=');

                assert_non_null(equals);
                *equals = '\0';
                setenv(item, equals + 1, 1);
        }
}

struct chain_case {
        const char *name;
        const char *environment; /* "NAME=VALUE;..." */
        const char *config;      /* config file text, or NULL for no file */
        const char *credentials; /* credentials file text, or NULL */
        const char *profile;     /* the caller's profile, or NULL */
        const char *source;      /* expected source, or NULL when an error is expected */
        enum es_error_code code; /* expected error */
        const char *message;     /* expected substring of the error; "@" is the fixture dir */
};

static const struct chain_case chain_cases[] = {
    {"environment keys", "AWS_ACCESS_KEY_ID=AKIDENV;AWS_SECRET_ACCESS_KEY=s", NULL, NULL, NULL,
     "environment", 0, NULL},
    {"environment before profile", "AWS_ACCESS_KEY_ID=AKIDENV;AWS_SECRET_ACCESS_KEY=s", NULL,
     "[default]\naws_access_key_id = A\naws_secret_access_key = B\n", NULL, "environment", 0, NULL},
    {"environment before AWS_PROFILE",
     "AWS_ACCESS_KEY_ID=AKIDENV;AWS_SECRET_ACCESS_KEY=s;AWS_PROFILE=dev", NULL,
     "[dev]\naws_access_key_id = A\naws_secret_access_key = B\n", NULL, "environment", 0, NULL},
    {"caller's profile before environment", "AWS_ACCESS_KEY_ID=AKIDENV;AWS_SECRET_ACCESS_KEY=s",
     NULL, "[dev]\naws_access_key_id = A\naws_secret_access_key = B\n", "dev", "profile 'dev'", 0,
     NULL},
    {"partial environment: no secret", "AWS_ACCESS_KEY_ID=AKIDENV", NULL, NULL, NULL, NULL,
     ES_ERR_INVALID, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"},
    {"partial environment: no key id", "AWS_SECRET_ACCESS_KEY=s", NULL, NULL, NULL, NULL,
     ES_ERR_INVALID, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"},
    {"empty environment value is unset", "AWS_ACCESS_KEY_ID=;AWS_SECRET_ACCESS_KEY=", NULL,
     "[default]\naws_access_key_id = A\naws_secret_access_key = B\n", NULL, "profile 'default'", 0,
     NULL},
    {"default profile keys", NULL, NULL,
     "[default]\naws_access_key_id = A\naws_secret_access_key = B\n", NULL, "profile 'default'", 0,
     NULL},
    {"AWS_PROFILE picks the profile", "AWS_PROFILE=dev", "[profile dev]\nregion = x\n",
     "[default]\naws_access_key_id = A\naws_secret_access_key = B\n"
     "[dev]\naws_access_key_id = C\naws_secret_access_key = D\n",
     NULL, "profile 'dev'", 0, NULL},
    {"AWS_PROFILE missing", "AWS_PROFILE=nope", NULL, NULL, NULL, NULL, ES_ERR_NOT_FOUND,
     "AWS profile 'nope' not found in \"@/config\" or \"@/credentials\""},
    {"caller's profile missing", NULL, NULL, NULL, "nope", NULL, ES_ERR_NOT_FOUND,
     "AWS profile 'nope' not found"},
    {"partial profile keys", NULL, NULL, "[default]\naws_access_key_id = A\n", NULL, NULL,
     ES_ERR_INVALID,
     "@/credentials:2: profile 'default' sets aws_access_key_id but not aws_secret_access_key"},
    {"assume role with source_profile", NULL,
     "[profile dev]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n",
     "[base]\naws_access_key_id = A\naws_secret_access_key = B\n", "dev",
     "profile 'dev' (assume role)", 0, NULL},
    {"assume role before static keys", NULL,
     "[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = default\n",
     "[default]\naws_access_key_id = A\naws_secret_access_key = B\n", NULL,
     "profile 'default' (assume role)", 0, NULL},
    {"assume role chained twice", NULL,
     "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
     "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = c\n"
     "[profile c]\ncredential_process = /bin/true\n",
     NULL, "a", "profile 'a' (assume role)", 0, NULL},
    {"source_profile loop", NULL,
     "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
     "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n",
     NULL, "a", NULL, ES_ERR_INVALID, "@/config:6: source_profile loop: 'a' -> 'b' -> 'a'"},
    {"source_profile itself without keys", NULL,
     "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = a\n", NULL, "a", NULL,
     ES_ERR_INVALID, "profile 'a' is its own source_profile but has no aws_access_key_id"},
    {"source_profile missing", NULL,
     "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = gone\n", NULL, "a", NULL,
     ES_ERR_NOT_FOUND, "@/config:3: profile 'a': source_profile 'gone' does not exist"},
    {"source_profile without credentials", NULL,
     "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
     "[profile b]\nregion = x\n",
     NULL, "a", NULL, ES_ERR_NOT_FOUND, "source_profile 'b' has no credentials"},
    {"role_arn without a source", NULL, "[profile a]\nrole_arn = arn:aws:iam::1:role/a\n", NULL,
     "a", NULL, ES_ERR_INVALID,
     "@/config:2: profile 'a' sets role_arn but neither source_profile nor credential_source"},
    {"role_arn with both sources", NULL,
     "[profile a]\nrole_arn = r\nsource_profile = b\ncredential_source = Environment\n"
     "[profile b]\naws_access_key_id = A\naws_secret_access_key = B\n",
     NULL, "a", NULL, ES_ERR_INVALID, "sets both source_profile and credential_source"},
    {"credential_source Environment", "AWS_ACCESS_KEY_ID=A;AWS_SECRET_ACCESS_KEY=B",
     "[profile a]\nrole_arn = r\ncredential_source = Environment\n", NULL, "a",
     "profile 'a' (assume role)", 0, NULL},
    {"credential_source Environment unset", NULL,
     "[profile a]\nrole_arn = r\ncredential_source = Environment\n", NULL, "a", NULL,
     ES_ERR_NOT_FOUND, "credential_source is Environment but AWS_ACCESS_KEY_ID"},
    {"credential_source EcsContainer", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/x",
     "[profile a]\nrole_arn = r\ncredential_source = EcsContainer\n", NULL, "a",
     "profile 'a' (assume role)", 0, NULL},
    {"credential_source Ec2InstanceMetadata", NULL,
     "[profile a]\nrole_arn = r\ncredential_source = Ec2InstanceMetadata\n", NULL, "a",
     "profile 'a' (assume role)", 0, NULL},
    {"credential_source unknown", NULL, "[profile a]\nrole_arn = r\ncredential_source = Disk\n",
     NULL, "a", NULL, ES_ERR_INVALID,
     "@/config:3: profile 'a': invalid credential_source \"Disk\""},
    {"mfa_serial unsupported", NULL,
     "[profile a]\nrole_arn = r\nsource_profile = a\nmfa_serial = arn:mfa\n"
     "aws_access_key_id = A\naws_secret_access_key = B\n",
     NULL, "a", NULL, ES_ERR_UNSUPPORTED, "@/config:4: profile 'a' needs an MFA code"},
    {"duration_seconds out of range", NULL,
     "[profile a]\nrole_arn = r\ncredential_source = Ec2InstanceMetadata\n"
     "duration_seconds = 60\n",
     NULL, "a", NULL, ES_ERR_INVALID,
     "@/config:4: profile 'a': duration_seconds must be a number of seconds from 900 to 43200"},
    {"web identity in profile", NULL,
     "[default]\nweb_identity_token_file = /t\nrole_arn = arn:aws:iam::1:role/w\n", NULL, NULL,
     "profile 'default' (web identity)", 0, NULL},
    {"web identity in profile without role", NULL, "[default]\nweb_identity_token_file = /t\n",
     NULL, NULL, NULL, ES_ERR_INVALID,
     "@/config:2: profile 'default' sets web_identity_token_file but not role_arn"},
    {"sso with sso-session", NULL,
     "[profile s]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n"
     "[sso-session corp]\nsso_start_url = https://x/start\nsso_region = eu-west-1\n",
     NULL, "s", "profile 's' (sso)", 0, NULL},
    {"legacy sso", NULL,
     "[profile s]\nsso_start_url = https://x/start\nsso_region = eu-west-1\n"
     "sso_account_id = 1\nsso_role_name = R\n",
     NULL, "s", "profile 's' (sso)", 0, NULL},
    {"sso before static keys", NULL,
     "[profile s]\nsso_start_url = https://x/start\nsso_region = eu-west-1\n"
     "sso_account_id = 1\nsso_role_name = R\n",
     "[s]\naws_access_key_id = A\naws_secret_access_key = B\n", "s", "profile 's' (sso)", 0, NULL},
    {"sso missing keys", NULL, "[profile s]\nsso_start_url = https://x/start\n", NULL, "s", NULL,
     ES_ERR_INVALID,
     "profile 's' is an SSO profile but lacks sso_region, "
     "sso_account_id, sso_role_name"},
    {"sso session missing", NULL,
     "[profile s]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n", NULL, "s", NULL,
     ES_ERR_INVALID,
     "@/config:2: profile 's': sso_session 'corp' has no [sso-session "
     "corp] section"},
    {"sso session conflicting start url", NULL,
     "[profile s]\nsso_session = corp\nsso_start_url = https://other/\nsso_account_id = 1\n"
     "sso_role_name = R\n"
     "[sso-session corp]\nsso_start_url = https://x/start\nsso_region = eu-west-1\n",
     NULL, "s", NULL, ES_ERR_INVALID, "sso_start_url differs from the one in [sso-session corp]"},
    {"credential_process", NULL, "[default]\ncredential_process = /bin/echo x\n", NULL, NULL,
     "profile 'default' (credential_process)", 0, NULL},
    {"credentials-file keys before credential_process", NULL,
     "[default]\ncredential_process = /bin/echo x\n",
     "[default]\naws_access_key_id = A\naws_secret_access_key = B\n", NULL, "profile 'default'", 0,
     NULL},
    {"credential_process before config-file keys", NULL,
     "[default]\ncredential_process = /bin/echo x\naws_access_key_id = A\n"
     "aws_secret_access_key = B\n",
     NULL, NULL, "profile 'default' (credential_process)", 0, NULL},
    {"config-file keys", NULL, "[default]\naws_access_key_id = A\naws_secret_access_key = B\n",
     NULL, NULL, "profile 'default'", 0, NULL},
    {"web identity from environment",
     "AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/token;AWS_ROLE_ARN=arn:aws:iam::1:role/w", NULL, NULL,
     NULL, "web identity", 0, NULL},
    {"profile before web identity from environment",
     "AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/token;AWS_ROLE_ARN=arn:aws:iam::1:role/w", NULL,
     "[default]\naws_access_key_id = A\naws_secret_access_key = B\n", NULL, "profile 'default'", 0,
     NULL},
    {"web identity from environment without role", "AWS_WEB_IDENTITY_TOKEN_FILE=/t", NULL, NULL,
     NULL, NULL, ES_ERR_INVALID, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not"},
    {"profile without credentials falls through", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/c",
     "[default]\nregion = eu-west-1\n", NULL, NULL, "container", 0, NULL},
    {"web identity before container",
     "AWS_WEB_IDENTITY_TOKEN_FILE=/t;AWS_ROLE_ARN=r;AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/c",
     NULL, NULL, NULL, "web identity", 0, NULL},
    {"container relative uri", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/id", NULL,
     NULL, NULL, "container", 0, NULL},
    {"container full uri on loopback",
     "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9/creds", NULL, NULL, NULL, "container",
     0, NULL},
    {"container full uri refused",
     "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://metadata.example.com/creds", NULL, NULL, NULL, NULL,
     ES_ERR_INVALID,
     "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http is only allowed to a loopback address or "
     "the ECS or EKS agent, not to \"metadata.example.com\"; use https"},
    {"container relative uri without slash", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=v2/x", NULL,
     NULL, NULL, NULL, ES_ERR_INVALID,
     "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path starting with '/'"},
    {"instance metadata last", "AWS_EC2_METADATA_DISABLED=false", NULL, NULL, NULL, "imds", 0,
     NULL},
    {"nothing configured", NULL, "[default]\nregion = eu-west-1\n", NULL, NULL, NULL,
     ES_ERR_NOT_FOUND,
     "no AWS credentials found; tried environment (AWS_ACCESS_KEY_ID not set), profile "
     "'default' (no credentials in it), web identity (AWS_WEB_IDENTITY_TOKEN_FILE not set), "
     "container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
     "AWS_CONTAINER_CREDENTIALS_FULL_URI not set), EC2 instance metadata (disabled by "
     "AWS_EC2_METADATA_DISABLED)"},
    {"named profile without credentials", NULL, "[profile dev]\nregion = eu-west-1\n", NULL, "dev",
     NULL, ES_ERR_NOT_FOUND,
     "no AWS credentials found; tried environment (skipped for a named profile), profile 'dev' "
     "(no credentials in it), web identity"},
    {"nothing and no files", NULL, NULL, NULL, NULL, NULL, ES_ERR_NOT_FOUND,
     "profile 'default' (not in \"@/config\" or \"@/credentials\")"},
    {"invalid region", "AWS_REGION=eu-west-1.evil;AWS_ACCESS_KEY_ID=A;AWS_SECRET_ACCESS_KEY=B",
     NULL, NULL, NULL, NULL, ES_ERR_INVALID, "invalid AWS region \"eu-west-1.evil\""},
    {"config syntax error", NULL, "[default]\nregion\n", NULL, NULL, NULL, ES_ERR_INVALID,
     "@/config:2: expected 'key = value' or '[section]'"},
};

/* Replace each '@' in pattern with dir. Caller frees. */
static char *expand(const char *pattern, const char *dir)
{
        struct es_buf out = ES_BUF_INIT(0);

        for (const char *p = pattern; *p; p++) {
                if (*p == '@')
                        es_buf_puts(&out, dir);
                else
                        es_buf_printf(&out, "%c", *p);
        }
        return es_buf_take(&out);
}

static void test_chain_picks_source(void **state)
{
        struct fixture *fixture = *state;

        for (size_t i = 0; i < ES_ARRAY_SIZE(chain_cases); i++) {
                const struct chain_case *c = &chain_cases[i];
                struct es_error err = ES_ERROR_INIT;
                struct es_aws_provider *provider = NULL;
                int r;

                teardown(state);
                setup(state);
                fixture = *state;
                set_environment(c->environment);
                if (c->config)
                        write_file(fixture->config_path, c->config, 0600);
                if (c->credentials)
                        write_file(fixture->credentials_path, c->credentials, 0600);

                r = es_aws_provider_new(fixture->http, c->profile, &provider, &err);
                if (c->source != NULL) {
                        if (r != 0)
                                print_error("%s: %s\n", c->name, es_error_message(&err));
                        assert_int_equal(r, 0);
                        if (strcmp(es_aws_provider_source(provider), c->source) != 0)
                                print_error("%s: expected '%s', got '%s'\n", c->name, c->source,
                                            es_aws_provider_source(provider));
                        assert_string_equal(es_aws_provider_source(provider), c->source);
                } else {
                        _cleanup_free_ char *expected = expand(c->message, fixture->dir);

                        if (r != -(int)c->code || strstr(es_error_message(&err), expected) == NULL)
                                print_error("%s: r=%d, message '%s', expected code %d and '%s'\n",
                                            c->name, r, es_error_message(&err), -(int)c->code,
                                            expected);
                        assert_int_equal(r, -(int)c->code);
                        assert_non_null(strstr(es_error_message(&err), expected));
                        assert_null(provider);
                }
                es_aws_provider_free(provider);
                es_error_release(&err);
        }
}

static void test_environment_credentials(void **state)
{
        struct fixture *fixture = *state;
        struct es_aws_credentials credentials = {0};
        struct es_error err = ES_ERROR_INIT;
        struct es_aws_provider *provider = NULL;
        time_t expected;

        set_environment(
            "AWS_ACCESS_KEY_ID=AKIDENV;AWS_SECRET_ACCESS_KEY=envsecret;"
            "AWS_SESSION_TOKEN=envtoken;AWS_CREDENTIAL_EXPIRATION=2030-01-02T03:04:05Z");
        assert_int_equal(es_aws_provider_new(fixture->http, NULL, &provider, &err), 0);
        assert_int_equal(es_aws_provider_get(provider, &credentials, &err), 0);
        assert_string_equal(credentials.access_key_id, "AKIDENV");
        assert_string_equal(credentials.secret_access_key, "envsecret");
        assert_string_equal(credentials.session_token, "envtoken");
        assert_int_equal(es_aws_time_parse("2030-01-02T03:04:05Z", &expected), 0);
        assert_int_equal(credentials.expiration, expected);
        es_aws_credentials_release(&credentials);
        es_aws_provider_free(provider);
}

static void test_profile_credentials(void **state)
{
        struct fixture *fixture = *state;
        struct es_aws_credentials credentials = {0};
        struct es_error err = ES_ERROR_INIT;
        struct es_aws_provider *provider = NULL;

        write_file(fixture->credentials_path,
                   "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = devsecret\n"
                   "aws_session_token = devtoken\n",
                   0600);
        assert_int_equal(es_aws_provider_new(fixture->http, "dev", &provider, &err), 0);
        assert_int_equal(es_aws_provider_get(provider, &credentials, &err), 0);
        assert_string_equal(credentials.access_key_id, "AKIDDEV");
        assert_string_equal(credentials.secret_access_key, "devsecret");
        assert_string_equal(credentials.session_token, "devtoken");
        assert_int_equal(credentials.expiration, 0);
        es_aws_credentials_release(&credentials);
        es_aws_provider_free(provider);
}

static void test_region_resolve(void **state)
{
        static const struct {
                const char *environment;
                const char *config;
                const char *profile;
                const char *expected; /* NULL: not found */
        } cases[] = {
            {"AWS_REGION=eu-west-1;AWS_DEFAULT_REGION=us-east-2", "[default]\nregion = ap-1\n",
             NULL, "eu-west-1"},
            {"AWS_DEFAULT_REGION=us-east-2", "[default]\nregion = ap-south-1\n", NULL, "us-east-2"},
            {NULL, "[default]\nregion = ap-south-1\n", NULL, "ap-south-1"},
            {"AWS_PROFILE=dev", "[default]\nregion = a-1\n[profile dev]\nregion = b-2\n", NULL,
             "b-2"},
            {NULL, "[default]\nregion = a-1\n[profile dev]\nregion = b-2\n", "dev", "b-2"},
            {NULL, "[default]\noutput = json\n", NULL, NULL},
            {NULL, NULL, NULL, NULL},
        };
        struct fixture *fixture = *state;

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_error err = ES_ERROR_INIT;
                _cleanup_free_ char *region = NULL;
                int r;

                teardown(state);
                setup(state);
                fixture = *state;
                set_environment(cases[i].environment);
                if (cases[i].config)
                        write_file(fixture->config_path, cases[i].config, 0600);
                r = es_aws_region_resolve(cases[i].profile, &region, &err);
                if (cases[i].expected == NULL) {
                        assert_int_equal(r, -ES_ERR_NOT_FOUND);
                        assert_non_null(strstr(es_error_message(&err), "no AWS region set"));
                } else {
                        if (r != 0 || strcmp(region, cases[i].expected) != 0)
                                print_error("case %zu: r=%d region '%s' error '%s'\n", i, r,
                                            region ? region : "(null)", es_error_message(&err));
                        assert_int_equal(r, 0);
                        assert_string_equal(region, cases[i].expected);
                }
                es_error_release(&err);
        }
}

static void test_region_rejects_malformed(void **state)
{
        struct fixture *fixture = *state;
        struct es_error err = ES_ERROR_INIT;
        char *region = NULL;
        _cleanup_free_ char *expected = NULL;

        write_file(fixture->config_path, "[default]\nregion = eu west 1\n", 0600);
        expected = es_asprintf("%s:2: invalid AWS region \"eu west 1\"", fixture->config_path);
        assert_int_equal(es_aws_region_resolve(NULL, &region, &err), -ES_ERR_INVALID);
        assert_string_equal(es_error_message(&err), expected);
        assert_null(region);
        es_error_release(&err);
}

static void test_container_relative_uri(void **state)
{
        struct es_aws_container_config config = {0};
        struct es_error err = ES_ERROR_INIT;
        bool found = false;

        set_environment("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/5f1e-id;"
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:1/ignored;"
                        "AWS_CONTAINER_AUTHORIZATION_TOKEN=ignored-token");
        assert_int_equal(es_aws_container_config_from_env(&config, &found, &err), 0);
        assert_true(found);
        /* RELATIVE_URI wins and is always the ECS agent; it gets no Authorization. */
        assert_string_equal(config.url, "http://169.254.170.2/v2/credentials/5f1e-id");
        assert_string_equal(config.variable, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
        assert_null(config.token);
        assert_null(config.token_file);
        es_aws_container_config_release(&config);
}

static void test_container_full_uri_tokens(void **state)
{
        struct es_aws_container_config config = {0};
        struct es_error err = ES_ERROR_INIT;
        bool found = false;

        set_environment("AWS_CONTAINER_CREDENTIALS_FULL_URI=http://localhost:8080/creds;"
                        "AWS_CONTAINER_AUTHORIZATION_TOKEN=token-value");
        assert_int_equal(es_aws_container_config_from_env(&config, &found, &err), 0);
        assert_true(found);
        assert_string_equal(config.url, "http://localhost:8080/creds");
        assert_string_equal(config.token, "token-value");
        assert_null(config.token_file);
        es_aws_container_config_release(&config);

        /* The token file wins over the token, as in botocore. */
        set_environment("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=/var/run/token");
        assert_int_equal(es_aws_container_config_from_env(&config, &found, &err), 0);
        assert_null(config.token);
        assert_string_equal(config.token_file, "/var/run/token");
        es_aws_container_config_release(&config);

        unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
        set_environment("AWS_CONTAINER_AUTHORIZATION_TOKEN=bad\ntoken");
        assert_int_equal(es_aws_container_config_from_env(&config, &found, &err), -ES_ERR_INVALID);
        assert_null(strstr(es_error_message(&err), "bad"));
        es_error_release(&err);
}

static void test_container_url_rules(void **state)
{
        static const struct {
                const char *url;
                bool allowed;
        } cases[] = {
            {"https://creds.example.com/x", true},
            {"HTTPS://creds.example.com:8443/x?y=1", true},
            {"http://127.0.0.1/x", true},
            {"http://127.1.2.3:8080/x", true},
            {"http://localhost/x", true},
            {"http://LOCALHOST:1/x", true},
            {"http://[::1]:8080/x", true},
            {"http://[::ffff:127.0.0.1]/x", true},
            {"http://169.254.170.2/v2/x", true},
            {"http://169.254.170.23/v1/credentials", true},
            {"http://[fd00:ec2::23]/v1/credentials", true},
            {"http://169.254.169.254/latest", false},
            {"http://10.0.0.1/x", false},
            {"http://example.com/x", false},
            {"http://localhost.example.com/x", false},
            {"http://[::2]/x", false},
            {"http://128.0.0.1/x", false},
            {"ftp://127.0.0.1/x", false},
            {"file:///etc/passwd", false},
            {"not a url", false},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_error err = ES_ERROR_INIT;
                int r = es_aws_container_check_url(cases[i].url, &err);

                if ((r == 0) != cases[i].allowed)
                        print_error("'%s': expected %s, got r=%d '%s'\n", cases[i].url,
                                    cases[i].allowed ? "allowed" : "refused", r,
                                    es_error_message(&err));
                assert_int_equal(r == 0, cases[i].allowed);
                es_error_release(&err);
        }
}

/*
 * A credential_process script that counts its runs in DIR/count and prints
 * credentials expiring `offset` seconds from now; with fail_after > 0 it
 * fails from that run on.
 */
static void write_counting_script(const struct fixture *fixture, long offset, int fail_after)
{
        _cleanup_free_ char *script = NULL, *path = NULL, *config = NULL;

        path = es_asprintf("%s/creds.sh", fixture->dir);
        script = es_asprintf(
            "#!/bin/sh\n"
            "n=$(cat '%s/count' 2>/dev/null || echo 0)\n"
            "n=$((n + 1))\n"
            "echo $n > '%s/count'\n"
            "if [ %d -gt 0 ] && [ $n -ge %d ]; then echo 'refresh failed' >&2; exit 3; fi\n"
            "exp=$(date -u -d \"@$(( $(date +%%s) + %ld ))\" +%%Y-%%m-%%dT%%H:%%M:%%SZ)\n"
            "printf '{\"Version\": 1, \"AccessKeyId\": \"AKIDRUN%%s\", \"SecretAccessKey\": "
            "\"s\", \"SessionToken\": \"t\", \"Expiration\": \"%%s\"}' $n $exp\n",
            fixture->dir, fixture->dir, fail_after, fail_after, offset);
        write_file(path, script, 0700);
        config = es_asprintf("[default]\ncredential_process = '%s'\n", path);
        write_file(fixture->config_path, config, 0600);
}

static int run_count(const struct fixture *fixture)
{
        _cleanup_free_ char *path = es_asprintf("%s/count", fixture->dir);
        FILE *file = fopen(path, "r");
        int count = 0;

        if (file == NULL)
                return 0;
        assert_int_equal(fscanf(file, "%d", &count), 1);
        fclose(file);
        return count;
}

/* Two gets; returns the second access key id, or its error message when it failed. Caller frees. */
static char *get_twice(struct fixture *fixture, int *runs, int *second_result)
{
        struct es_aws_credentials credentials = {0};
        struct es_error err = ES_ERROR_INIT;
        struct es_aws_provider *provider = NULL;
        char *second = NULL;
        int r;

        assert_int_equal(es_aws_provider_new(fixture->http, NULL, &provider, &err), 0);
        r = es_aws_provider_get(provider, &credentials, &err);
        if (r != 0)
                print_error("first get: %s\n", es_error_message(&err));
        assert_int_equal(r, 0);
        es_aws_credentials_release(&credentials);
        *second_result = es_aws_provider_get(provider, &credentials, &err);
        if (*second_result == 0)
                second = es_strdup(credentials.access_key_id);
        else
                second = es_strdup(es_error_message(&err));
        es_aws_credentials_release(&credentials);
        es_aws_provider_free(provider);
        es_error_release(&err);
        *runs = run_count(fixture);
        return second;
}

static void test_cache_keeps_fresh_credentials(void **state)
{
        struct fixture *fixture = *state;
        _cleanup_free_ char *second = NULL;
        int runs, r;

        write_counting_script(fixture, 3600, 0);
        second = get_twice(fixture, &runs, &r);
        assert_int_equal(r, 0);
        assert_int_equal(runs, 1);
        assert_string_equal(second, "AKIDRUN1");
}

static void test_cache_refreshes_in_mandatory_window(void **state)
{
        struct fixture *fixture = *state;
        _cleanup_free_ char *second = NULL;
        int runs, r;

        write_counting_script(fixture, 5 * 60, 0);
        second = get_twice(fixture, &runs, &r);
        assert_int_equal(r, 0);
        assert_int_equal(runs, 2);
        assert_string_equal(second, "AKIDRUN2");
}

static void test_cache_refreshes_in_advisory_window(void **state)
{
        struct fixture *fixture = *state;
        _cleanup_free_ char *second = NULL;
        int runs, r;

        write_counting_script(fixture, 12 * 60, 0);
        second = get_twice(fixture, &runs, &r);
        assert_int_equal(r, 0);
        assert_int_equal(runs, 2);
        assert_string_equal(second, "AKIDRUN2");
}

static void test_cache_survives_failed_advisory_refresh(void **state)
{
        struct fixture *fixture = *state;
        _cleanup_free_ char *second = NULL;
        int runs, r;

        write_counting_script(fixture, 12 * 60, 2);
        second = get_twice(fixture, &runs, &r);
        assert_int_equal(r, 0);
        assert_int_equal(runs, 2);
        assert_string_equal(second, "AKIDRUN1");
}

static void test_cache_keeps_valid_after_failed_mandatory_refresh(void **state)
{
        struct fixture *fixture = *state;
        _cleanup_free_ char *second = NULL;
        int runs, r;

        /* Still valid for 5 minutes: more than the 1-minute grace. */
        write_counting_script(fixture, 5 * 60, 2);
        second = get_twice(fixture, &runs, &r);
        assert_int_equal(r, 0);
        assert_int_equal(runs, 2);
        assert_string_equal(second, "AKIDRUN1");
}

static void test_cache_fails_when_nearly_expired(void **state)
{
        struct fixture *fixture = *state;
        _cleanup_free_ char *second = NULL;
        int runs, r;

        write_counting_script(fixture, 30, 2);
        second = get_twice(fixture, &runs, &r);
        assert_int_equal(r, -ES_ERR_AUTH);
        assert_int_equal(runs, 2);
        assert_non_null(strstr(second, "AWS credentials from profile 'default' "
                                       "(credential_process): credential_process"));
        assert_non_null(strstr(second, "exited with status 3: refresh failed"));
}

static void test_invalidate_forces_refresh(void **state)
{
        struct fixture *fixture = *state;
        struct es_aws_credentials credentials = {0};
        struct es_error err = ES_ERROR_INIT;
        struct es_aws_provider *provider = NULL;

        write_counting_script(fixture, 3600, 0);
        assert_int_equal(es_aws_provider_new(fixture->http, NULL, &provider, &err), 0);
        assert_int_equal(es_aws_provider_get(provider, &credentials, &err), 0);
        es_aws_credentials_release(&credentials);
        es_aws_provider_invalidate(provider);
        assert_int_equal(es_aws_provider_get(provider, &credentials, &err), 0);
        assert_string_equal(credentials.access_key_id, "AKIDRUN2");
        es_aws_credentials_release(&credentials);
        assert_int_equal(es_aws_provider_get(provider, &credentials, &err), 0);
        assert_string_equal(credentials.access_key_id, "AKIDRUN2");
        es_aws_credentials_release(&credentials);
        assert_int_equal(run_count(fixture), 2);
        es_aws_provider_free(provider);
}

struct getter {
        pthread_t thread;
        struct es_aws_provider *provider;
        struct es_aws_credentials credentials;
        int r;
};

static void *run_get(void *arg)
{
        struct getter *getter = arg;

        getter->r = es_aws_provider_get(getter->provider, &getter->credentials, NULL);
        return NULL;
}

static void test_concurrent_first_get_fetches_once(void **state)
{
        struct fixture *fixture = *state;
        struct es_error err = ES_ERROR_INIT;
        struct es_aws_provider *provider = NULL;
        struct getter getters[8] = {0};

        write_counting_script(fixture, 3600, 0);
        assert_int_equal(es_aws_provider_new(fixture->http, NULL, &provider, &err), 0);
        for (size_t i = 0; i < ES_ARRAY_SIZE(getters); i++) {
                getters[i].provider = provider;
                assert_int_equal(pthread_create(&getters[i].thread, NULL, run_get, &getters[i]), 0);
        }
        for (size_t i = 0; i < ES_ARRAY_SIZE(getters); i++) {
                pthread_join(getters[i].thread, NULL);
                assert_int_equal(getters[i].r, 0);
                assert_string_equal(getters[i].credentials.access_key_id, "AKIDRUN1");
                es_aws_credentials_release(&getters[i].credentials);
        }
        assert_int_equal(run_count(fixture), 1);
        es_aws_provider_free(provider);
}

#define FIXTURE_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
            FIXTURE_TEST(test_chain_picks_source),
            FIXTURE_TEST(test_environment_credentials),
            FIXTURE_TEST(test_profile_credentials),
            FIXTURE_TEST(test_region_resolve),
            FIXTURE_TEST(test_region_rejects_malformed),
            FIXTURE_TEST(test_container_relative_uri),
            FIXTURE_TEST(test_container_full_uri_tokens),
            FIXTURE_TEST(test_container_url_rules),
            FIXTURE_TEST(test_cache_keeps_fresh_credentials),
            FIXTURE_TEST(test_cache_refreshes_in_mandatory_window),
            FIXTURE_TEST(test_cache_refreshes_in_advisory_window),
            FIXTURE_TEST(test_cache_survives_failed_advisory_refresh),
            FIXTURE_TEST(test_cache_keeps_valid_after_failed_mandatory_refresh),
            FIXTURE_TEST(test_cache_fails_when_nearly_expired),
            FIXTURE_TEST(test_invalidate_forces_refresh),
            FIXTURE_TEST(test_concurrent_first_get_fetches_once),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
