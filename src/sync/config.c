/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading the sync configuration: reading the file, the top-level keys, the
 * schedule, and freeing. The sections live in config_target.c,
 * config_registries.c and config_images.c.
 */
#include "sync/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "sync/config_internal.h"
#include "sync/filter.h"

char *es_cfg_resolve_path(const struct es_cfg_parser *parser, const char *file)
{
        size_t dir_len;

        if (file[0] == '/' || parser->dir == NULL)
                return es_strdup(file);
        dir_len = strlen(parser->dir);
        if (dir_len > 0 && parser->dir[dir_len - 1] == '/')
                return es_asprintf("%s%s", parser->dir, file);
        return es_asprintf("%s/%s", parser->dir, file);
}

char *es_cfg_normalize_host(const char *text)
{
        struct es_reference ref = {NULL, NULL, NULL, NULL};
        _cleanup_free_ char *probe = NULL;
        char *host = NULL;

        /*
         * Parse HOST/a/b as a reference: the reference parser decides what
         * counts as a host, and when it takes text for a path instead, the
         * repository is longer than "a/b".
         */
        if (*text == '\0' || strchr(text, '/') || strchr(text, '@'))
                return NULL;
        probe = es_asprintf("%s/a/b", text);
        if (es_reference_parse_repository(probe, &ref, NULL) < 0)
                return NULL;
        if (strcmp(ref.repository, "a/b") == 0)
                host = es_strdup(ref.registry);
        es_reference_release(&ref);
        return host;
}

static void parse_schedule(struct es_cfg_parser *parser, const struct es_cfg_node *node)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ char *problem = NULL;

        if (!es_cfg_read_string(&parser->diag, node, "schedule", false, &text))
                return;
        if (!es_cfg_cron_check(text, &problem)) {
                es_cfg_report_at(&parser->diag, node, "schedule", "%s", problem);
                return;
        }
        parser->config->schedule = TAKE_PTR(text);
}

static void parse_retries(struct es_cfg_parser *parser, const struct es_cfg_node *node)
{
        static const char *const keys[] = {"attempts", "max_seconds", NULL};
        const struct es_cfg_node *values[ES_ARRAY_SIZE(keys)];
        long long value;

        if (!es_cfg_read_mapping(&parser->diag, node, "retries",
                                 "a mapping with 'attempts' and 'max_seconds'", keys, values))
                return;
        if (values[0] && es_cfg_read_integer(&parser->diag, values[0], "retries.attempts", 1,
                                             ES_RETRY_MAX_ATTEMPTS, &value))
                parser->config->retry.attempts = (int)value;
        if (values[1] && es_cfg_read_integer(&parser->diag, values[1], "retries.max_seconds", 1,
                                             ES_RETRY_MAX_SECONDS, &value))
                parser->config->retry.max_seconds = (int)value;
}

static void parse_root(struct es_cfg_parser *parser, const struct es_cfg_node *root)
{
        static const char *const keys[] = {"target",   "registries", "images",
                                           "schedule", "retries",    NULL};
        const struct es_cfg_node *values[ES_ARRAY_SIZE(keys)];

        if (root == NULL) {
                es_cfg_report(&parser->diag, 1, 1, NULL,
                              "the file is empty; expected a mapping with 'target' and 'images'");
                return;
        }
        if (!es_cfg_read_mapping(&parser->diag, root, "", "a mapping with 'target' and 'images'",
                                 keys, values))
                return;

        if (values[0])
                es_cfg_parse_target(parser, values[0]);
        else
                es_cfg_report_at(&parser->diag, root, "target",
                                 "missing; expected a mapping with 'ecr' or 'registry'");
        if (values[1])
                es_cfg_parse_registries(parser, values[1]);
        if (values[2])
                es_cfg_parse_images(parser, values[2]);
        else
                es_cfg_report_at(&parser->diag, root, "images",
                                 "missing; expected a non-empty list of images");
        if (values[3])
                parse_schedule(parser, values[3]);
        if (values[4])
                parse_retries(parser, values[4]);
}

static char *directory_of(const char *path)
{
        const char *slash = strrchr(path, '/');

        if (slash == NULL)
                return NULL;
        if (slash == path)
                return es_strdup("/");
        return es_strndup(path, (size_t)(slash - path));
}

ES_DEFINE_CLEANUP(struct es_sync_config *, es_sync_config_free)
ES_DEFINE_CLEANUP(struct es_cfg_node *, es_cfg_node_free)

int es_sync_config_parse(const char *text, size_t len, const char *path,
                         struct es_sync_config **out, struct es_error *err)
{
        _cleanup_(es_sync_config_freep) struct es_sync_config *config = NULL;
        _cleanup_(es_cfg_node_freep) struct es_cfg_node *root = NULL;
        struct es_cfg_parser parser = {{NULL, NULL, 0}, NULL, NULL};
        const char *nul = memchr(text, '\0', len);
        _cleanup_free_ char *message = NULL;

        config = es_calloc(1, sizeof(*config));
        config->path = es_strdup(path ? path : "config");
        config->create_repositories = true;
        config->manage_settings = true;
        config->settings.scan_on_push = -1;

        parser.diag.file = config->path;
        parser.dir = path ? directory_of(path) : NULL;
        parser.config = config;

        if (nul) {
                /* libyaml would stop reading at the NUL and miss the rest. */
                es_cfg_report(&parser.diag, 1, 1, NULL,
                              "the file contains a NUL byte at offset %zu; expected UTF-8 text",
                              (size_t)(nul - text));
        } else if (es_cfg_yaml_load(text, len, &parser.diag, &root) == 0) {
                parse_root(&parser, root);
        }

        message = es_cfg_diag_format(&parser.diag);
        es_cfg_diag_release(&parser.diag);
        free(parser.dir);
        if (message)
                return es_error_set(err, ES_ERR_INVALID, "%s", message);

        *out = TAKE_PTR(config);
        return 0;
}

int es_sync_config_load(const char *path, struct es_sync_config **out, struct es_error *err)
{
        struct es_buf buf = ES_BUF_INIT(ES_SYNC_CONFIG_MAX_SIZE);
        char chunk[8192];
        struct stat st;
        int fd, r;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return es_error_set(err, ES_ERR_INVALID, "%s: cannot open: %s", path,
                                    strerror(errno));
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return es_error_set(err, ES_ERR_INVALID, "%s: not a regular file", path);
        }

        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = es_error_set(err, ES_ERR_INVALID, "%s: cannot read: %s", path,
                                         strerror(errno));
                        goto fail;
                }
                if (n == 0)
                        break;
                if (es_buf_append(&buf, chunk, (size_t)n) < 0) {
                        r = es_error_set(err, ES_ERR_INVALID,
                                         "%s: the file is larger than %u bytes", path,
                                         ES_SYNC_CONFIG_MAX_SIZE);
                        goto fail;
                }
        }
        close(fd);

        r = es_sync_config_parse(buf.data ? buf.data : "", buf.len, path, out, err);
        es_buf_release(&buf);
        return r;

fail:
        close(fd);
        es_buf_release(&buf);
        return r;
}

static void credentials_release(struct es_sync_credentials *c)
{
        free(c->username_env);
        free(c->password_env);
        free(c->username_file);
        free(c->password_file);
        free(c->aws_secret);
        free(c->aws_secret_region);
}

static void image_release(struct es_sync_image *image)
{
        es_reference_release(&image->source);
        free(image->target_repository);
        es_cfg_strings_free(image->include, image->n_include);
        es_cfg_strings_free(image->exclude, image->n_exclude);
        free(image->semver);
        es_tag_filter_free(image->filter);
        for (size_t i = 0; i < image->n_platforms; i++)
                es_platform_spec_release(&image->platforms[i]);
        free(image->platforms);
}

void es_sync_config_free(struct es_sync_config *config)
{
        struct es_sync_repository_settings *settings;

        if (config == NULL)
                return;

        settings = &config->settings;
        free(settings->image_tag_mutability);
        free(settings->encryption_type);
        free(settings->kms_key);
        for (size_t i = 0; i < settings->n_resource_tags; i++) {
                free(settings->resource_tags[i].key);
                free(settings->resource_tags[i].value);
        }
        free(settings->resource_tags);
        free(settings->lifecycle_policy);

        for (size_t i = 0; i < config->n_registries; i++) {
                free(config->registries[i].host);
                free(config->registries[i].ca_file);
                credentials_release(&config->registries[i].credentials);
        }
        free(config->registries);

        for (size_t i = 0; i < config->n_images; i++)
                image_release(&config->images[i]);
        free(config->images);

        free(config->path);
        free(config->ecr_region);
        free(config->ecr_account);
        free(config->target_registry);
        free(config->repository_prefix);
        free(config->schedule);
        free(config);
}

const struct es_sync_registry *es_sync_config_registry(const struct es_sync_config *config,
                                                       const char *host)
{
        _cleanup_free_ char *normalized = es_cfg_normalize_host(host);
        const char *key = normalized ? normalized : host;

        for (size_t i = 0; i < config->n_registries; i++)
                if (strcasecmp(config->registries[i].host, key) == 0)
                        return &config->registries[i];
        return NULL;
}
