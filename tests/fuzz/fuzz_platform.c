/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for platform specs (copy/platform.c) as the `platforms` list of
 * a sync configuration gives them. Input: one spec per line, at most
 * MAX_SPECS. Each spec that parses must match the platform it names, and its
 * formatted form must parse again. The sorted list that
 * es_platform_specs_format() writes into indexes must split into specs that
 * parse.
 */
#include <stdbool.h>
#include <string.h>

#include "copy/platform.h"
#include "fuzz.h"

#define MAX_SPECS 8

static void check_spec(const struct es_platform_spec *spec)
{
        struct es_platform platform = {
            .os = spec->os,
            .architecture = spec->architecture,
            .variant = spec->variant,
        };
        struct es_platform_spec again = {0};
        struct es_error err = ES_ERROR_INIT;
        char *text = es_platform_spec_format(spec);

        if (!es_platform_spec_matches(spec, &platform))
                abort();
        if (es_platform_spec_parse(text, &again, &err) < 0)
                abort();
        if (strcmp(again.os, spec->os) != 0 || strcmp(again.architecture, spec->architecture) != 0)
                abort();

        es_platform_spec_release(&again);
        es_error_release(&err);
        free(text);
}

/* Every comma-separated element of a formatted list must parse. */
static void check_list(const char *list)
{
        char *copy = es_strdup(list);
        char *save = NULL;

        for (char *item = strtok_r(copy, ",", &save); item != NULL;
             item = strtok_r(NULL, ",", &save)) {
                struct es_platform_spec spec = {0};

                if (es_platform_spec_parse(item, &spec, NULL) < 0)
                        abort();
                es_platform_spec_release(&spec);
        }
        free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct es_platform_spec specs[MAX_SPECS] = {{0}};
        char *text = fuzz_text(data, size);
        const char *rest = text;
        size_t n = 0;
        char *list;

        for (size_t line = 0; line < MAX_SPECS && *rest != '\0'; line++) {
                struct es_error err = ES_ERROR_INIT;
                char *spec_text = NULL;

                rest = fuzz_split_line(rest, &spec_text);
                if (es_platform_spec_parse(spec_text, &specs[n], &err) == 0) {
                        check_spec(&specs[n]);
                        n++;
                } else if (err.message == NULL || specs[n].os != NULL) {
                        abort();
                }
                es_error_release(&err);
                free(spec_text);
        }

        list = es_platform_specs_format(specs, n);
        check_list(list);
        for (size_t i = 0; i < n; i++) {
                for (size_t j = 0; j < n; j++) {
                        struct es_platform platform = {
                            .os = specs[j].os,
                            .architecture = specs[j].architecture,
                            .variant = specs[j].variant,
                        };

                        (void)es_platform_spec_matches(&specs[i], &platform);
                }
        }

        free(list);
        for (size_t i = 0; i < n; i++)
                es_platform_spec_release(&specs[i]);
        free(text);
        return 0;
}
