/* SPDX-License-Identifier: Apache-2.0 */
/* Opening registries for a run, with ECR wired in through the AWS layer. */
#include "sync/registries.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/credentials.h"
#include "aws/ecr.h"
#include "aws/ecr_auth.h"
#include "aws/ecr_host.h"
#include "aws/secrets.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/log.h"
#include "registry/ratelimit.h"

struct es_host_rate_limit {
        char *registry;
        struct es_rate_limit state;
};

struct es_ecr_binding {
        char *registry; /* the ECR host name */
        struct es_ecr_host host;
        struct es_ecr *ecr;
        struct es_ecr_auth *auth;
};

int es_registries_init(struct es_registries *registries,
                       const struct es_registries_options *options, struct es_error *err)
{
        struct es_http_options http_options = {.ca_file = options->ca_file};
        int r;

        memset(registries, 0, sizeof(*registries));
        registries->options = options;
        pthread_mutex_init(&registries->lock, NULL);
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

void es_registries_release(struct es_registries *registries)
{
        for (size_t i = 0; i < registries->n_ecr; i++) {
                es_ecr_auth_free(registries->ecr[i]->auth);
                es_ecr_free(registries->ecr[i]->ecr);
                free(registries->ecr[i]->registry);
                free(registries->ecr[i]);
        }
        free(registries->ecr);
        for (size_t i = 0; i < registries->n_rate_limits; i++) {
                es_rate_limit_release(&registries->rate_limits[i]->state);
                free(registries->rate_limits[i]->registry);
                free(registries->rate_limits[i]);
        }
        free(registries->rate_limits);
        pthread_mutex_destroy(&registries->lock);
        es_aws_provider_free(registries->aws);
        es_http_free(registries->http);
        es_docker_credentials_free(&registries->docker);
        memset(registries, 0, sizeof(*registries));
}

static const char *ca_file_for(const struct es_registries *registries, const char *registry)
{
        for (size_t i = 0; i + 1 < registries->options->n_ca_files; i += 2)
                if (strcasecmp(registries->options->ca_files[i], registry) == 0)
                        return registries->options->ca_files[i + 1];
        return NULL;
}

static bool is_insecure(const struct es_registries *registries, const char *registry)
{
        for (size_t i = 0; i < registries->options->n_insecure; i++)
                if (strcasecmp(registries->options->insecure[i], registry) == 0)
                        return true;
        return false;
}

static int ecr_binding_locked(struct es_registries *registries, const char *registry,
                              struct es_ecr_binding **out, struct es_error *err);

/* The ECR binding for an ECR registry, created on first use; NULL for other registries. */
static int ecr_binding(struct es_registries *registries, const char *registry,
                       struct es_ecr_binding **out, struct es_error *err)
{
        int r;

        pthread_mutex_lock(&registries->lock);
        r = ecr_binding_locked(registries, registry, out, err);
        pthread_mutex_unlock(&registries->lock);
        return r;
}

static int ensure_aws(struct es_registries *registries, const char *what, struct es_error *err)
{
        int r;

        if (registries->aws)
                return 0;
        r = es_aws_provider_new(registries->http, NULL, &registries->aws, err);
        if (r < 0)
                return es_error_prefix(err, "AWS credentials for '%s'", what);
        es_log_debug("aws: credentials from %s", es_aws_provider_source(registries->aws));
        return 0;
}

static int ecr_binding_locked(struct es_registries *registries, const char *registry,
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

        if ((r = ensure_aws(registries, registry, err)) < 0)
                return r;

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
        if (registries->options->retry.attempts > 0)
                es_ecr_set_retry(binding->ecr, &registries->options->retry);
        binding->auth = es_ecr_auth_new(binding->ecr, host.account);
        registries->ecr =
            es_realloc(registries->ecr, (registries->n_ecr + 1) * sizeof(*registries->ecr));
        registries->ecr[registries->n_ecr++] = binding;
        *out = binding;
        return 0;
}

int es_registries_open(struct es_registries *registries, const struct es_reference *ref, bool push,
                       struct es_registry **out, struct es_error *err)
{
        struct es_registry_options options = {
            .registry = ref->registry,
            .api_host = es_reference_api_host(ref),
            .push = push,
            .insecure = is_insecure(registries, ref->registry),
            .ca_file = ca_file_for(registries, ref->registry),
            .credentials = registries->options->credentials ? registries->options->credentials
                                                            : &registries->docker,
            .rate_limit = es_registries_rate_limit(registries, ref->registry),
            .retry = registries->options->retry,
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
                options.credentials_hint = "the registry password comes from ECR's "
                                           "GetAuthorizationToken: check the AWS credentials "
                                           "and their ECR permissions";
                es_log_debug("ecr: registry traffic for '%s' goes to '%s'", ref->registry,
                             proxy_host);
        }
        *out = es_registry_new(registries->http, &options);
        return 0;
}

int es_registries_ensure_repository(struct es_registries *registries,
                                    const struct es_reference *ref, bool create, bool *created,
                                    struct es_error *err)
{
        struct es_ecr_repository repository = {0};
        struct es_ecr_binding *binding = NULL;
        bool found = false, existed = false;
        int r;

        *created = false;
        r = ecr_binding(registries, ref->registry, &binding, err);
        if (r < 0 || binding == NULL)
                return r;

        r = es_ecr_describe_repository(binding->ecr, binding->host.account, ref->repository, &found,
                                       &repository, err);
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

struct es_rate_limit *es_registries_rate_limit(struct es_registries *registries,
                                               const char *registry)
{
        struct es_host_rate_limit *entry = NULL;

        pthread_mutex_lock(&registries->lock);
        for (size_t i = 0; i < registries->n_rate_limits; i++)
                if (strcasecmp(registries->rate_limits[i]->registry, registry) == 0)
                        entry = registries->rate_limits[i];
        if (entry == NULL) {
                entry = es_calloc(1, sizeof(*entry));
                entry->registry = es_strdup(registry);
                es_rate_limit_init(&entry->state);
                registries->rate_limits =
                    es_realloc(registries->rate_limits,
                               (registries->n_rate_limits + 1) * sizeof(*registries->rate_limits));
                registries->rate_limits[registries->n_rate_limits++] = entry;
        }
        pthread_mutex_unlock(&registries->lock);
        return &entry->state;
}

static char *ecr_host_name(const char *account, const char *region)
{
        bool china = strncmp(region, "cn-", 3) == 0;

        return es_asprintf("%s.dkr.ecr.%s.amazonaws.com%s", account, region, china ? ".cn" : "");
}

/* The caller's account, from the host of the proxyEndpoint that GetAuthorizationToken returns. */
static int own_account(struct es_registries *registries, const char *region, char **out,
                       struct es_error *err)
{
        struct es_ecr_token token = {0};
        struct es_ecr *ecr = NULL;
        struct es_ecr_host host;
        _cleanup_free_ char *name = NULL;
        const char *start;
        int r;

        r = es_ecr_new(registries->http, registries->aws, region, registries->options->ecr_endpoint,
                       &ecr, err);
        if (r < 0)
                return r;
        r = es_ecr_get_authorization_token(ecr, NULL, &token, err);
        es_ecr_free(ecr);
        if (r < 0)
                return es_error_prefix(err, "find the AWS account of the ECR target");

        start = strstr(token.proxy_endpoint, "://");
        name = es_strdup(start ? start + 3 : token.proxy_endpoint);
        name[strcspn(name, "/")] = '\0';
        if (es_ecr_host_parse(name, &host))
                *out = es_strdup(host.account);
        else
                r = es_error_set(err, ES_ERR_INVALID,
                                 "cannot tell the AWS account from the ECR endpoint '%s'; set "
                                 "target.ecr.account",
                                 token.proxy_endpoint);
        es_ecr_token_release(&token);
        return r;
}

int es_registries_ecr_target(struct es_registries *registries, const char *region,
                             const char *account, char **out, struct es_error *err)
{
        _cleanup_free_ char *resolved_region = NULL, *resolved_account = NULL;
        int r;

        pthread_mutex_lock(&registries->lock);
        r = ensure_aws(registries, "the ECR target", err);
        pthread_mutex_unlock(&registries->lock);
        if (r < 0)
                return r;

        if (region == NULL) {
                r = es_aws_region_resolve(NULL, &resolved_region, err);
                if (r < 0)
                        return es_error_prefix(err, "no AWS region for the ECR target: set "
                                                    "target.ecr.region or AWS_REGION");
                region = resolved_region;
        }
        if (account == NULL) {
                r = own_account(registries, region, &resolved_account, err);
                if (r < 0)
                        return r;
                account = resolved_account;
        }
        *out = ecr_host_name(account, region);
        return 0;
}

int es_registries_ecr_client(struct es_registries *registries, const char *registry,
                             struct es_ecr **ecr, const char **account, struct es_error *err)
{
        struct es_ecr_binding *binding = NULL;
        int r;

        *ecr = NULL;
        r = ecr_binding(registries, registry, &binding, err);
        if (r < 0 || binding == NULL)
                return r;
        *ecr = binding->ecr;
        *account = binding->host.account;
        return 0;
}

int es_registries_read_secret(struct es_registries *registries, const char *region,
                              const char *secret_id, char **out, struct es_error *err)
{
        int r;

        pthread_mutex_lock(&registries->lock);
        r = ensure_aws(registries, secret_id, err);
        pthread_mutex_unlock(&registries->lock);
        if (r < 0)
                return r;
        return es_secrets_get_string(registries->http, registries->aws, region, secret_id, out,
                                     err);
}
