/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the YAML sync configuration (sync/config*.c). Input: the
 * file's text. The path given to the parser lies in a directory that does not
 * exist, so relative ca_file and lifecycle_policy_file values name no file.
 * The parser writes no file and contacts no network service. A configuration
 * that loads must have at least one image, and each image's compiled tag
 * filter is applied to a fixed list of tags.
 */
#include "fuzz.h"
#include "sync/config.h"
#include "sync/filter.h"

#define CONFIG_PATH "/nonexistent/ecr-sync-fuzz/ecr-sync.yaml"

static const char *const tags[] = {
    "latest",     "1.27",        "1.27.3", "1.27.3-alpine", "v7.52.1",      "7.50.0-rc.2",
    "7.50.0-jmx", "1.25-alpine", "stable", "0.0.1",         "2.0.0-beta.1", "sha256-0a1b2c.sig",
};

static void check_image(const struct es_sync_image *image)
{
        struct es_tag_decision *decisions = NULL;
        struct es_error err = ES_ERROR_INIT;

        if (image->filter == NULL || image->target_repository == NULL ||
            image->source.repository == NULL)
                abort();
        if (image->n_platforms > 0 && image->platforms == NULL)
                abort();

        if (es_tag_filter_apply(image->filter, tags, ES_ARRAY_SIZE(tags), &decisions, &err) == 0) {
                for (size_t i = 0; i < ES_ARRAY_SIZE(tags); i++) {
                        if (decisions[i].tag != tags[i] ||
                            decisions[i].kept != (decisions[i].reason == NULL))
                                abort();
                }
                es_tag_decisions_free(decisions, ES_ARRAY_SIZE(tags));
        }
        es_error_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct es_sync_config *config = NULL;
        struct es_error err = ES_ERROR_INIT;

        if (es_sync_config_parse((const char *)data, size, CONFIG_PATH, &config, &err) < 0) {
                if (err.message == NULL || config != NULL)
                        abort();
                es_error_release(&err);
                return 0;
        }

        if (config->n_images == 0 || config->images == NULL)
                abort();
        if (config->target_is_ecr == (config->target_registry != NULL))
                abort();
        for (size_t i = 0; i < config->n_images; i++)
                check_image(&config->images[i]);
        for (size_t i = 0; i < config->n_registries; i++) {
                if (es_sync_config_registry(config, config->registries[i].host) == NULL)
                        abort();
        }
        (void)es_sync_config_registry(config, "docker.io");
        (void)es_sync_config_registry(config, "index.docker.io");

        es_sync_config_free(config);
        return 0;
}
