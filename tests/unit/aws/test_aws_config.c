/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for aws/config.c: the INI dialect, profile lookup and file loading. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/config.h"
#include "base/alloc.h"
#include "base/cleanup.h"

/* Look up SECTION.KEY or SECTION.KEY.CHILD in a parsed file; NULL when absent. */
static const char *ini_lookup(const struct es_aws_ini *ini, const char *section_name,
                              const char *key, const char *child)
{
        const struct es_aws_ini_section *section = es_aws_ini_section(ini, section_name);
        const struct es_aws_ini_entry *entry;

        if (section == NULL)
                return NULL;
        entry = es_aws_ini_entry(section, key);
        if (entry == NULL)
                return NULL;
        if (child == NULL)
                return entry->value;
        for (size_t i = 0; i < entry->n_children; i++)
                if (strcmp(entry->children[i].key, child) == 0)
                        return entry->children[i].value;
        return NULL;
}

static void test_ini_parse_values(void **state)
{
        static const struct {
                const char *text;
                const char *section;
                const char *key;
                const char *child;
                const char *expected; /* NULL: absent */
        } cases[] = {
            {"[default]\nregion = eu-west-1\n", "default", "region", NULL, "eu-west-1"},
            {"[default]\nregion=eu-west-1", "default", "region", NULL, "eu-west-1"},
            {"[default]\nregion: eu-west-1\n", "default", "region", NULL, "eu-west-1"},
            {"[default]\r\nregion = eu-west-1\r\n", "default", "region", NULL, "eu-west-1"},
            {"\xef\xbb\xbf[default]\nregion = x\n", "default", "region", NULL, "x"},
            {"[ default ]\n  \t\nregion = x\n", "default", "region", NULL, "x"},
            {"[default]\nREGION = x\n", "default", "region", NULL, "x"},
            {"[default]\nregion =\n", "default", "region", NULL, ""},
            {"[default]\nurl = https://h/?a=b\n", "default", "url", NULL, "https://h/?a=b"},
            /* configparser has no inline comments: the text after '#' stays. */
            {"[default]\nregion = us-east-1 # home\n", "default", "region", NULL,
             "us-east-1 # home"},
            {"# comment\n; other\n[default]\n  # indented comment\nregion = x\n", "default",
             "region", NULL, "x"},
            {"[default] # trailing comment\nregion = x\n", "default", "region", NULL, "x"},
            {"[profile dev]\nregion = x\n", "profile dev", "region", NULL, "x"},
            {"[sso-session corp]\nsso_region = x\n", "sso-session corp", "sso_region", NULL, "x"},
            {"[default]\ns3 =\n  max_concurrent_requests = 20\n  Addressing_Style = path\n"
             "region = x\n",
             "default", "s3", "max_concurrent_requests", "20"},
            {"[default]\ns3 =\n  max_concurrent_requests = 20\n  Addressing_Style = path\n",
             "default", "s3", "Addressing_Style", "path"},
            {"[default]\ns3 =\n  max_concurrent_requests = 20\nregion = x\n", "default", "region",
             NULL, "x"},
            {"[default]\ns3 =\n\tsignature_version=s3v4\n", "default", "s3", "signature_version",
             "s3v4"},
            {"[default]\nnote = first\n  second\n", "default", "note", NULL, "first\nsecond"},
            {"[default]\nregion = x\n", "default", "output", NULL, NULL},
            {"[default]\nregion = x\n", "other", "region", NULL, NULL},
            {"", "default", "region", NULL, NULL},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_error err = ES_ERROR_INIT;
                struct es_aws_ini ini = {0};
                const char *value;
                int r = es_aws_ini_parse(cases[i].text, strlen(cases[i].text), "cfg", &ini, &err);

                if (r != 0)
                        print_error("case %zu: %s\n", i, es_error_message(&err));
                assert_int_equal(r, 0);
                value = ini_lookup(&ini, cases[i].section, cases[i].key, cases[i].child);
                if (cases[i].expected == NULL) {
                        if (value != NULL)
                                print_error("case %zu: expected no value, got '%s'\n", i, value);
                        assert_null(value);
                } else {
                        if (value == NULL || strcmp(value, cases[i].expected) != 0)
                                print_error("case %zu: expected '%s', got '%s'\n", i,
                                            cases[i].expected, value ? value : "(null)");
                        assert_non_null(value);
                        assert_string_equal(value, cases[i].expected);
                }
                es_aws_ini_release(&ini);
                es_error_release(&err);
        }
}

static void test_ini_parse_errors(void **state)
{
        static const struct {
                const char *text;
                const char *message;
        } cases[] = {
            {"region = x\n", "cfg:1: 'key = value' line before any [section] header"},
            {"[default\nregion = x\n", "cfg:1: section header without a closing ']'"},
            {"[]\n", "cfg:1: empty section name"},
            {"[default] x\n", "cfg:1: unexpected text after the section header"},
            {"[default]\njust a line\n", "cfg:2: expected 'key = value' or '[section]'"},
            {"[default]\n= value\n", "cfg:2: missing key before '='"},
            {"[default]\nregion = a\n\nRegion = b\n",
             "cfg:4: duplicate key 'region' in section [default], first set at line 2"},
            {"[default]\n[other]\n[default]\n",
             "cfg:3: duplicate section [default], first defined at line 1"},
            {"[default]\ns3 =\n  no equals sign\n",
             "cfg:3: expected 'key = value' in the sub-section of 's3'"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_error err = ES_ERROR_INIT;
                struct es_aws_ini ini = {0};
                int r = es_aws_ini_parse(cases[i].text, strlen(cases[i].text), "cfg", &ini, &err);

                if (r != -ES_ERR_INVALID || strcmp(es_error_message(&err), cases[i].message) != 0)
                        print_error("case %zu: r=%d message '%s'\n", i, r, es_error_message(&err));
                assert_int_equal(r, -ES_ERR_INVALID);
                assert_string_equal(es_error_message(&err), cases[i].message);
                es_error_release(&err);
        }
}

static void test_ini_parse_rejects_nul(void **state)
{
        static const char text[] = "[default]\nregion = x\0y\n";
        struct es_error err = ES_ERROR_INIT;
        struct es_aws_ini ini = {0};

        assert_int_equal(es_aws_ini_parse(text, sizeof(text) - 1, "cfg", &ini, &err),
                         -ES_ERR_INVALID);
        assert_string_equal(es_error_message(&err), "cfg: contains a NUL byte");
        es_error_release(&err);
}

/* A syntax error never quotes the line, which may hold a secret key. */
static void test_ini_error_hides_values(void **state)
{
        static const char text[] = "[default]\naws_secret_access_key = s3cr3t\n"
                                   "aws_secret_access_key = s3cr3t\n";
        struct es_error err = ES_ERROR_INIT;
        struct es_aws_ini ini = {0};

        assert_int_equal(es_aws_ini_parse(text, strlen(text), "cfg", &ini, &err), -ES_ERR_INVALID);
        assert_null(strstr(es_error_message(&err), "s3cr3t"));
        es_error_release(&err);
}

static const char config_text[] = "[default]\n"
                                  "region = us-east-1\n"
                                  "aws_access_key_id = CONFIG_DEFAULT\n"
                                  "\n"
                                  "[profile dev]\n"
                                  "region = eu-west-1\n"
                                  "output = json\n"
                                  "aws_access_key_id = CONFIG_DEV\n"
                                  "\n"
                                  "[profile \"with space\"]\n"
                                  "region = ap-south-1\n"
                                  "\n"
                                  "[profile a b]\n"
                                  "region = ignored\n"
                                  "\n"
                                  "[profileX]\n"
                                  "region = ignored\n"
                                  "\n"
                                  "[sso-session corp]\n"
                                  "sso_start_url = https://corp.awsapps.com/start\n"
                                  "sso_region = eu-central-1\n"
                                  "\n"
                                  "[dev]\n"
                                  "region = not-a-profile-in-the-config-file\n";

static const char credentials_text[] = "[dev]\n"
                                       "aws_access_key_id = CREDENTIALS_DEV\n"
                                       "aws_secret_access_key = secret\n"
                                       "\n"
                                       "[only-credentials]\n"
                                       "aws_access_key_id = ONLY\n";

static struct es_aws_config *parse_both(void)
{
        struct es_error err = ES_ERROR_INIT;
        struct es_aws_config *config = NULL;
        int r = es_aws_config_parse(config_text, "/c/config", credentials_text, "/c/credentials",
                                    &config, &err);

        if (r != 0)
                print_error("%s\n", es_error_message(&err));
        assert_int_equal(r, 0);
        return config;
}

static void test_config_profile_lookup(void **state)
{
        static const struct {
                const char *profile;
                const char *key;
                const char *expected; /* NULL: absent */
                const char *path;
                unsigned line;
        } cases[] = {
            {"default", "region", "us-east-1", "/c/config", 2},
            {"dev", "region", "eu-west-1", "/c/config", 6},
            {"dev", "output", "json", "/c/config", 7},
            /* The credentials file wins for a key both files set. */
            {"dev", "aws_access_key_id", "CREDENTIALS_DEV", "/c/credentials", 2},
            {"dev", "aws_secret_access_key", "secret", "/c/credentials", 3},
            {"default", "aws_access_key_id", "CONFIG_DEFAULT", "/c/config", 3},
            {"with space", "region", "ap-south-1", "/c/config", 11},
            {"only-credentials", "aws_access_key_id", "ONLY", "/c/credentials", 6},
            {"a b", "region", NULL, NULL, 0},
            {"a", "region", NULL, NULL, 0},
            {"profileX", "region", NULL, NULL, 0},
            {"missing", "region", NULL, NULL, 0},
        };
        struct es_aws_config *config = parse_both();

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_aws_config_value value =
                    es_aws_config_get(config, cases[i].profile, cases[i].key);

                if (cases[i].expected == NULL) {
                        if (value.value != NULL)
                                print_error("case %zu: expected no value, got '%s'\n", i,
                                            value.value);
                        assert_null(value.value);
                        continue;
                }
                if (value.value == NULL || strcmp(value.value, cases[i].expected) != 0)
                        print_error("case %zu: expected '%s', got '%s'\n", i, cases[i].expected,
                                    value.value ? value.value : "(null)");
                assert_non_null(value.value);
                assert_string_equal(value.value, cases[i].expected);
                assert_string_equal(value.path, cases[i].path);
                assert_int_equal(value.line, cases[i].line);
        }
        es_aws_config_free(config);
}

static void test_config_lookup_in_one_file(void **state)
{
        struct es_aws_config *config = parse_both();
        struct es_aws_config_value value;

        value = es_aws_config_get_in(config, ES_AWS_CONFIG_FILE, "dev", "aws_access_key_id");
        assert_string_equal(value.value, "CONFIG_DEV");
        value = es_aws_config_get_in(config, ES_AWS_CREDENTIALS_FILE, "dev", "aws_access_key_id");
        assert_string_equal(value.value, "CREDENTIALS_DEV");
        /* [dev] in the config file is not a profile: only [profile dev] is. */
        value = es_aws_config_get_in(config, ES_AWS_CONFIG_FILE, "dev", "region");
        assert_string_equal(value.value, "eu-west-1");
        value = es_aws_config_get_in(config, ES_AWS_CREDENTIALS_FILE, "default", "region");
        assert_null(value.value);
        es_aws_config_free(config);
}

static void test_config_has_profile(void **state)
{
        struct es_aws_config *config = parse_both();

        assert_true(es_aws_config_has_profile(config, "default"));
        assert_true(es_aws_config_has_profile(config, "dev"));
        assert_true(es_aws_config_has_profile(config, "with space"));
        assert_true(es_aws_config_has_profile(config, "only-credentials"));
        assert_false(es_aws_config_has_profile(config, "missing"));
        assert_false(es_aws_config_has_profile(config, "corp"));
        es_aws_config_free(config);
}

static void test_config_sso_session(void **state)
{
        struct es_aws_config *config = parse_both();
        struct es_aws_config_value value;

        assert_true(es_aws_config_has_sso_session(config, "corp"));
        assert_false(es_aws_config_has_sso_session(config, "dev"));
        value = es_aws_config_sso_session_get(config, "corp", "sso_region");
        assert_string_equal(value.value, "eu-central-1");
        assert_int_equal(value.line, 21);
        value = es_aws_config_sso_session_get(config, "corp", "sso_account_id");
        assert_null(value.value);
        es_aws_config_free(config);
}

static void test_config_default_profile_forms(void **state)
{
        static const char text[] = "[default]\nregion = a\noutput = text\n"
                                   "[profile default]\nregion = b\n";
        struct es_error err = ES_ERROR_INIT;
        struct es_aws_config *config = NULL;

        assert_int_equal(es_aws_config_parse(text, "cfg", NULL, "creds", &config, &err), 0);
        /* The later section wins whole, as botocore's profile dictionary does. */
        assert_string_equal(es_aws_config_get(config, "default", "region").value, "b");
        assert_null(es_aws_config_get(config, "default", "output").value);
        es_aws_config_free(config);
}

static char *write_temp(const char *text)
{
        char *path = es_strdup("/tmp/es-aws-config-XXXXXX");
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        return path;
}

static void test_config_load_from_environment(void **state)
{
        _cleanup_free_ char *config_path = write_temp("[profile x]\nregion = eu-north-1\n");
        _cleanup_free_ char *credentials_path = write_temp("[x]\naws_access_key_id = K\n");
        struct es_error err = ES_ERROR_INIT;
        struct es_aws_config *config = NULL;

        setenv("AWS_CONFIG_FILE", config_path, 1);
        setenv("AWS_SHARED_CREDENTIALS_FILE", credentials_path, 1);
        assert_int_equal(es_aws_config_load(&config, &err), 0);
        assert_string_equal(es_aws_config_path(config, ES_AWS_CONFIG_FILE), config_path);
        assert_string_equal(es_aws_config_get(config, "x", "region").value, "eu-north-1");
        assert_string_equal(es_aws_config_get(config, "x", "aws_access_key_id").value, "K");
        es_aws_config_free(config);
        unlink(config_path);
        unlink(credentials_path);
        unsetenv("AWS_CONFIG_FILE");
        unsetenv("AWS_SHARED_CREDENTIALS_FILE");
}

static void test_config_load_defaults_under_home(void **state)
{
        struct es_error err = ES_ERROR_INIT;
        struct es_aws_config *config = NULL;

        setenv("HOME", "/nonexistent-home", 1);
        unsetenv("AWS_CONFIG_FILE");
        setenv("AWS_SHARED_CREDENTIALS_FILE", "~/creds", 1);
        /* Missing files count as empty. */
        assert_int_equal(es_aws_config_load(&config, &err), 0);
        assert_string_equal(es_aws_config_path(config, ES_AWS_CONFIG_FILE),
                            "/nonexistent-home/.aws/config");
        assert_string_equal(es_aws_config_path(config, ES_AWS_CREDENTIALS_FILE),
                            "/nonexistent-home/creds");
        assert_false(es_aws_config_has_profile(config, "default"));
        es_aws_config_free(config);
        unsetenv("AWS_SHARED_CREDENTIALS_FILE");
}

static void test_config_load_reports_file_and_line(void **state)
{
        _cleanup_free_ char *config_path = write_temp("[default]\nregion = x\nbroken line\n");
        _cleanup_free_ char *expected =
            es_asprintf("%s:3: expected 'key = value' or '[section]'", config_path);
        struct es_error err = ES_ERROR_INIT;
        struct es_aws_config *config = NULL;

        assert_int_equal(es_aws_config_load_paths(config_path, NULL, &config, &err),
                         -ES_ERR_INVALID);
        assert_string_equal(es_error_message(&err), expected);
        assert_null(config);
        es_error_release(&err);
        unlink(config_path);
}

static void test_config_load_directory_fails(void **state)
{
        struct es_error err = ES_ERROR_INIT;
        struct es_aws_config *config = NULL;

        assert_int_equal(es_aws_config_load_paths("/tmp", NULL, &config, &err), -ES_ERR_IO);
        assert_string_equal(es_error_message(&err), "cannot read \"/tmp\": it is a directory");
        es_error_release(&err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ini_parse_values),
            cmocka_unit_test(test_ini_parse_errors),
            cmocka_unit_test(test_ini_parse_rejects_nul),
            cmocka_unit_test(test_ini_error_hides_values),
            cmocka_unit_test(test_config_profile_lookup),
            cmocka_unit_test(test_config_lookup_in_one_file),
            cmocka_unit_test(test_config_has_profile),
            cmocka_unit_test(test_config_sso_session),
            cmocka_unit_test(test_config_default_profile_forms),
            cmocka_unit_test(test_config_load_from_environment),
            cmocka_unit_test(test_config_load_defaults_under_home),
            cmocka_unit_test(test_config_load_reports_file_and_line),
            cmocka_unit_test(test_config_load_directory_fails),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
