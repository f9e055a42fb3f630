/* SPDX-License-Identifier: Apache-2.0 */
/* Registry credentials from the sync configuration. */
#include "sync/credentials.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/credentials.h"
#include "aws/secrets.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "sync/registries.h"

struct resolved {
        const struct es_sync_registry *registry;
        struct es_credentials credentials;
};

struct es_config_credentials {
        const struct es_sync_config *config;
        const struct es_credential_provider *fallback;
        struct es_registries *registries;
        struct es_credential_provider provider;

        pthread_mutex_t lock; /* guards resolved; held while reading a secret */
        struct resolved *resolved;
        size_t n_resolved;
};

static int read_env(const char *variable, const char *what, const char *host, char **out,
                    struct es_error *err)
{
        const char *value = getenv(variable);

        if (value == NULL || *value == '\0')
                return es_error_set(err, ES_ERR_INVALID,
                                    "the %s for '%s' comes from the environment variable %s, "
                                    "which is not set",
                                    what, host, variable);
        *out = es_strdup(value);
        return 0;
}

/* Read a whole file, dropping one trailing newline, as Kubernetes secret mounts need. */
static int read_file(const char *path, const char *what, const char *host, char **out,
                     struct es_error *err)
{
        struct es_buf buf = ES_BUF_INIT(ES_MAX_CREDENTIAL_SIZE);
        char chunk[4096];
        size_t n;
        FILE *file = fopen(path, "r");

        if (file == NULL)
                return es_error_set(err, ES_ERR_INVALID,
                                    "cannot read the %s file for '%s' ('%s'): %s", what, host, path,
                                    strerror(errno));
        while ((n = fread(chunk, 1, sizeof(chunk), file)) > 0) {
                if (es_buf_append(&buf, chunk, n) < 0) {
                        fclose(file);
                        es_buf_release(&buf);
                        return es_error_set(err, ES_ERR_INVALID,
                                            "the %s file for '%s' ('%s') is larger than %u bytes",
                                            what, host, path, ES_MAX_CREDENTIAL_SIZE);
                }
        }
        fclose(file);
        if (buf.len > 0 && buf.data[buf.len - 1] == '\n')
                buf.data[--buf.len] = '\0';
        if (buf.len > 0 && buf.data[buf.len - 1] == '\r')
                buf.data[--buf.len] = '\0';
        if (es_buf_has_nul(&buf)) {
                es_buf_release(&buf);
                return es_error_set(err, ES_ERR_INVALID,
                                    "the %s file for '%s' ('%s') holds a NUL byte", what, host,
                                    path);
        }
        *out = es_buf_take(&buf);
        return 0;
}

static int read_secret(struct es_config_credentials *self, const struct es_sync_registry *registry,
                       struct es_credentials *out, struct es_error *err)
{
        const struct es_sync_credentials *spec = &registry->credentials;
        _cleanup_free_ char *region = NULL;
        char *text = NULL;
        json_t *root;
        int r;

        if (spec->aws_secret_region) {
                region = es_strdup(spec->aws_secret_region);
        } else if (self->config->ecr_region) {
                region = es_strdup(self->config->ecr_region);
        } else {
                r = es_aws_region_resolve(NULL, &region, err);
                if (r < 0)
                        return es_error_prefix(err, "region of the secret '%s'", spec->aws_secret);
        }
        r = es_registries_read_secret(self->registries, region, spec->aws_secret, &text, err);
        if (r < 0)
                return r;

        root = json_loads(text, 0, NULL);
        explicit_bzero(text, strlen(text));
        free(text);
        if (!json_is_string(json_object_get(root, "username")) ||
            !json_is_string(json_object_get(root, "password"))) {
                json_decref(root);
                return es_error_set(err, ES_ERR_INVALID,
                                    "the secret '%s' for '%s' must be JSON with \"username\" and "
                                    "\"password\" strings",
                                    spec->aws_secret, registry->host);
        }
        out->username = es_strdup(json_string_value(json_object_get(root, "username")));
        out->password = es_strdup(json_string_value(json_object_get(root, "password")));
        explicit_bzero((char *)json_string_value(json_object_get(root, "password")),
                       json_string_length(json_object_get(root, "password")));
        json_decref(root);
        return 0;
}

static int resolve(struct es_config_credentials *self, const struct es_sync_registry *registry,
                   struct es_credentials *out, struct es_error *err)
{
        const struct es_sync_credentials *spec = &registry->credentials;
        int r = 0;

        memset(out, 0, sizeof(*out));
        if (spec->aws_secret)
                return read_secret(self, registry, out, err);
        if (spec->username_env)
                r = read_env(spec->username_env, "username", registry->host, &out->username, err);
        else if (spec->username_file)
                r = read_file(spec->username_file, "username", registry->host, &out->username, err);
        if (r >= 0 && spec->password_env)
                r = read_env(spec->password_env, "password", registry->host, &out->password, err);
        else if (r >= 0 && spec->password_file)
                r = read_file(spec->password_file, "password", registry->host, &out->password, err);
        if (r < 0)
                es_credentials_release(out);
        return r;
}

static int provider_get(void *ctx, const char *host, bool refresh, struct es_credentials *out,
                        bool *found, struct es_error *err)
{
        struct es_config_credentials *self = ctx;
        const struct es_sync_registry *registry = NULL;
        struct resolved *entry = NULL;
        int r = 0;

        for (size_t i = 0; i < self->config->n_registries; i++)
                if (strcasecmp(self->config->registries[i].host, host) == 0)
                        registry = &self->config->registries[i];
        if (registry == NULL || !registry->has_credentials)
                return self->fallback->get(self->fallback->ctx, host, refresh, out, found, err);

        pthread_mutex_lock(&self->lock);
        for (size_t i = 0; i < self->n_resolved; i++)
                if (self->resolved[i].registry == registry)
                        entry = &self->resolved[i];
        if (entry == NULL) {
                struct es_credentials credentials;

                r = resolve(self, registry, &credentials, err);
                if (r >= 0) {
                        self->resolved =
                            es_realloc(self->resolved, (self->n_resolved + 1) * sizeof(*entry));
                        entry = &self->resolved[self->n_resolved++];
                        entry->registry = registry;
                        entry->credentials = credentials;
                }
        }
        if (entry) {
                out->username =
                    entry->credentials.username ? es_strdup(entry->credentials.username) : NULL;
                out->password =
                    entry->credentials.password ? es_strdup(entry->credentials.password) : NULL;
                out->identity_token = NULL;
                *found = true;
        }
        pthread_mutex_unlock(&self->lock);
        return r;
}

struct es_config_credentials *
es_config_credentials_new(const struct es_sync_config *config,
                          const struct es_credential_provider *fallback,
                          struct es_registries *registries)
{
        struct es_config_credentials *self = es_calloc(1, sizeof(*self));

        self->config = config;
        self->fallback = fallback;
        self->registries = registries;
        self->provider.get = provider_get;
        self->provider.ctx = self;
        pthread_mutex_init(&self->lock, NULL);
        return self;
}

void es_config_credentials_free(struct es_config_credentials *self)
{
        if (self == NULL)
                return;
        for (size_t i = 0; i < self->n_resolved; i++)
                es_credentials_release(&self->resolved[i].credentials);
        free(self->resolved);
        pthread_mutex_destroy(&self->lock);
        free(self);
}

const struct es_credential_provider *
es_config_credentials_provider(struct es_config_credentials *self)
{
        return &self->provider;
}
