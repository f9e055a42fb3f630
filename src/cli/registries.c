/* SPDX-License-Identifier: Apache-2.0 */
/* Opening registries for a run, with ECR wired in through the AWS layer. */
#include "cli/registries.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/credentials.h"
#include "aws/ecr.h"
#include "aws/ecr_auth.h"
#include "aws/ecr_host.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/log.h"

struct es_ecr_binding {
        char *registry; /* the ECR host name */
        struct es_ecr_host host;
        struct es_ecr *ecr;
        struct es_ecr_auth *auth;
};

int es_cli_registries_init(struct es_cli_registries *registries,
                           const struct es_cli_registries_options *options,
                           struct es_error *err)
{
        struct es_http_options http_options = {.ca_file = options->ca_file};
        int r;

        memset(registries, 0, sizeof(*registries));
        registries->options = options;
        r = es_docker_credentials_new(&registries->docker, err);
        if (r < 0)
                return r;
        r = es_http_new(&http_options, &registries->http, err);
        if (r < 0) {
                es_docker_credentials_free(&registries->docker);
                return r;
        }
        return 0;
}

void es_cli_registries_release(struct es_cli_registries *registries)
{
        for (size_t i = 0; i < registries->n_ecr; i++) {
                es_ecr_auth_free(registries->ecr[i]->auth);
                es_ecr_free(registries->ecr[i]->ecr);
                free(registries->ecr[i]->registry);
                free(registries->ecr[i]);
        }
        free(registries->ecr);
        es_aws_provider_free(registries->aws);
        es_http_free(registries->http);
        es_docker_credentials_free(&registries->docker);
        memset(registries, 0, sizeof(*registries));
}

static bool is_insecure(const struct es_cli_registries *registries, const char *registry)
{
        for (size_t i = 0; i < registries->options->n_insecure; i++)
                if (strcasecmp(registries->options->insecure[i], registry) == 0)
                        return true;
        return false;
}

/* The ECR binding for an ECR registry, created on first use; NULL for other registries. */
static int ecr_binding(struct es_cli_registries *registries, const char *registry,
                       struct es_ecr_binding **out, struct es_error *err)
{
        struct es_ecr_binding *binding;
        struct es_ecr_host host;
        int r;

        *out = NULL;
        if (!es_ecr_host_parse(registry, &host))
                return 0;
        for (size_t i = 0; i < registries->n_ecr; i++) {
                if (strcasecmp(registries->ecr[i]->registry, registry) == 0) {
                        *out = registries->ecr[i];
                        return 0;
                }
        }

        if (registries->aws == NULL) {
                r = es_aws_provider_new(registries->http, NULL, &registries->aws, err);
                if (r < 0)
                        return es_error_prefix(err, "AWS credentials for '%s'", registry);
                es_log_debug("aws: credentials from %s", es_aws_provider_source(registries->aws));
        }

        binding = es_calloc(1, sizeof(*binding));
        binding->registry = es_strdup(registry);
        binding->host = host;
        r = es_ecr_new(registries->http, registries->aws, host.region,
                       registries->options->ecr_endpoint, &binding->ecr, err);
        if (r < 0) {
                free(binding->registry);
                free(binding);
                return r;
        }
        binding->auth = es_ecr_auth_new(binding->ecr, host.account);
        registries->ecr = es_realloc(registries->ecr,
                                     (registries->n_ecr + 1) * sizeof(*registries->ecr));
        registries->ecr[registries->n_ecr++] = binding;
        *out = binding;
        return 0;
}

int es_cli_registries_open(struct es_cli_registries *registries, const struct es_reference *ref,
                           bool push, struct es_registry **out, struct es_error *err)
{
        struct es_registry_options options = {
                .registry = ref->registry,
                .api_host = es_reference_api_host(ref),
                .push = push,
                .insecure = is_insecure(registries, ref->registry),
                .credentials = &registries->docker,
        };
        _cleanup_free_ char *proxy_host = NULL;
        struct es_ecr_binding *binding = NULL;
        bool plain_http = false;
        int r;

        r = ecr_binding(registries, ref->registry, &binding, err);
        if (r < 0)
                return r;
        if (binding) {
                r = es_ecr_auth_endpoint(binding->auth, &proxy_host, &plain_http, err);
                if (r < 0)
                        return es_error_prefix(err, "'%s'", ref->registry);
                options.api_host = proxy_host;
                options.credentials = es_ecr_auth_provider(binding->auth);
                es_log_debug("ecr: registry traffic for '%s' goes to '%s'", ref->registry,
                             proxy_host);
        }
        *out = es_registry_new(registries->http, &options);
        return 0;
}

int es_cli_registries_ensure_repository(struct es_cli_registries *registries,
                                        const struct es_reference *ref, bool create,
                                        bool *created, struct es_error *err)
{
        struct es_ecr_repository repository = {0};
        struct es_ecr_binding *binding = NULL;
        bool found = false, existed = false;
        int r;

        *created = false;
        r = ecr_binding(registries, ref->registry, &binding, err);
        if (r < 0 || binding == NULL)
                return r;

        r = es_ecr_describe_repository(binding->ecr, binding->host.account, ref->repository,
                                       &found, &repository, err);
        es_ecr_repository_release(&repository);
        if (r < 0)
                return es_error_prefix(err, "look up ECR repository '%s'", ref->repository);
        if (found)
                return 0;
        if (!create)
                return es_error_set(err, ES_ERR_NOT_FOUND,
                                    "ECR repository '%s' does not exist in account %s, region "
                                    "%s; create it, or drop --no-create-repository to let "
                                    "ecr-sync create it",
                                    ref->repository, binding->host.account, binding->host.region);

        r = es_ecr_create_repository(binding->ecr, binding->host.account, ref->repository, NULL,
                                     &existed, err);
        if (r < 0)
                return r;
        *created = !existed;
        return 0;
}
