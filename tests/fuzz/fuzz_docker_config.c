/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for Docker's config.json (registry/docker_config.c). Input:
 * the file's bytes. A file that parses is then looked up for a fixed set of
 * registries and for the keys that its "auths" and "credHelpers" hold, which
 * covers key normalisation, base64 "auth" decoding and the choice between
 * auths, credsStore and credHelpers.
 */
#include <jansson.h>
#include <stdbool.h>

#include "fuzz.h"
#include "registry/docker_config.h"

static const char *const registries[] = {
    "docker.io",
    "ghcr.io",
    "127.0.0.1:5000",
    "[::1]:5000",
    "localhost",
    "quay.io",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
};

/* Keys looked up from one member of the file, so that the cost stays bounded. */
#define MAX_KEYS_LOOKED_UP 16

static void lookup(const struct es_docker_config *config, const char *registry)
{
        struct es_docker_auth auth = {0};
        struct es_error err = ES_ERROR_INIT;
        bool found = false;

        if (es_docker_config_lookup(config, registry, &auth, &found, &err) == 0) {
                if (found)
                        es_docker_auth_release(&auth);
                else if (auth.username != NULL || auth.password != NULL || auth.helper != NULL)
                        abort();
        } else if (err.message == NULL || found) {
                abort();
        }
        es_error_release(&err);
}

/* Look up every key of root's member (an object), as written in the file. */
static void lookup_keys(const struct es_docker_config *config, json_t *root, const char *member)
{
        json_t *object = json_object_get(root, member);
        const char *key;
        json_t *value;
        size_t n = 0;

        json_object_foreach (object, key, value) {
                if (n++ == MAX_KEYS_LOOKED_UP)
                        break;
                lookup(config, key);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct es_docker_config *config = NULL;
        struct es_error err = ES_ERROR_INIT;
        json_t *root;

        if (es_docker_config_parse((const char *)data, size, "config.json", &config, &err) < 0) {
                if (err.message == NULL || config != NULL)
                        abort();
                es_error_release(&err);
                return 0;
        }

        for (size_t i = 0; i < ES_ARRAY_SIZE(registries); i++)
                lookup(config, registries[i]);

        root = json_loadb((const char *)data, size, 0, NULL);
        if (json_is_object(root)) {
                lookup_keys(config, root, "auths");
                lookup_keys(config, root, "credHelpers");
        }
        json_decref(root);

        es_docker_config_free(config);
        return 0;
}
