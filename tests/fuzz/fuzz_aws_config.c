/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the AWS shared configuration files (aws/config.c) and
 * the shlex-style splitting of credential_process (aws/process.c). Input:
 * the text of one file, read both as ~/.aws/config and as
 * ~/.aws/credentials. Every section and key that es_aws_ini_parse() returns
 * must be found again by the lookup functions, and every profile,
 * sso-session and key named in the file is looked up through
 * es_aws_config_get().
 */
#include <stdbool.h>
#include <string.h>

#include "aws/config.h"
#include "aws/process.h"
#include "fuzz.h"

static void split_command(const char *value)
{
        char **words = NULL;
        size_t n = 0;

        if (es_aws_shell_split(value, &words, &n, NULL) == 0) {
                if (words[n] != NULL)
                        abort();
                es_aws_argv_free(words);
        }
}

/* Look up every key of a section through the profile or sso-session that the section names. */
static void look_up_section(const struct es_aws_config *config,
                            const struct es_aws_ini_section *section)
{
        const char *name = section->name;
        bool sso = false;

        if (strncmp(name, "profile ", 8) == 0) {
                name += 8;
        } else if (strncmp(name, "sso-session ", 12) == 0) {
                name += 12;
                sso = true;
        }

        if (sso)
                (void)es_aws_config_has_sso_session(config, name);
        else
                (void)es_aws_config_has_profile(config, name);

        for (size_t i = 0; i < section->n_entries; i++) {
                const char *key = section->entries[i].key;
                struct es_aws_config_value value;

                if (sso)
                        value = es_aws_config_sso_session_get(config, name, key);
                else
                        value = es_aws_config_get(config, name, key);
                if (value.value != NULL && value.path == NULL)
                        abort();
        }
}

static void check_ini(const struct es_aws_ini *ini)
{
        for (size_t i = 0; i < ini->n_sections; i++) {
                const struct es_aws_ini_section *section = &ini->sections[i];

                /* Duplicate sections and keys are errors, so each lookup finds this one. */
                if (es_aws_ini_section(ini, section->name) != section)
                        abort();
                for (size_t j = 0; j < section->n_entries; j++) {
                        const struct es_aws_ini_entry *entry = &section->entries[j];

                        if (es_aws_ini_entry(section, entry->key) != entry)
                                abort();
                        if (strcmp(entry->key, "credential_process") == 0)
                                split_command(entry->value);
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct es_aws_ini ini = {0};
        struct es_aws_config *config = NULL;
        struct es_error err = ES_ERROR_INIT;
        char *text;

        if (es_aws_ini_parse((const char *)data, size, "config", &ini, &err) < 0) {
                if (err.message == NULL || ini.sections != NULL)
                        abort();
                es_error_release(&err);
                return 0;
        }
        check_ini(&ini);

        /* es_aws_config_parse() takes C strings; ini parsing already rejected NUL bytes. */
        text = fuzz_text(data, size);
        if (es_aws_config_parse(text, "config", text, "credentials", &config, &err) < 0)
                abort();
        for (size_t i = 0; i < ini.n_sections; i++)
                look_up_section(config, &ini.sections[i]);
        (void)es_aws_config_get(config, "default", "region");
        (void)es_aws_config_get_in(config, ES_AWS_CREDENTIALS_FILE, "default", "aws_access_key_id");

        es_aws_config_free(config);
        es_aws_ini_release(&ini);
        es_error_release(&err);
        free(text);
        return 0;
}
