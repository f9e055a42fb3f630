/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The credential chain: choosing a source from the environment and the
 * shared config files, fetching from it, and caching the result. See
 * credentials.h for the order and the refresh rules.
 */
#include "aws/credentials.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aws/config.h"
#include "aws/container.h"
#include "aws/endpoint.h"
#include "aws/imds.h"
#include "aws/process.h"
#include "aws/source.h"
#include "aws/sso.h"
#include "aws/sts.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/log.h"

/* STS region when neither the environment nor the profile sets one. */
#define DEFAULT_STS_REGION "us-east-1"
/* Maximum number of profiles in a source_profile chain. */
#define MAX_PROFILE_CHAIN 16
/* DurationSeconds range that STS accepts for AssumeRole. */
#define MIN_ROLE_DURATION 900
#define MAX_ROLE_DURATION 43200

enum source_kind {
        SOURCE_STATIC,
        SOURCE_ASSUME_ROLE,
        SOURCE_WEB_IDENTITY,
        SOURCE_PROCESS,
        SOURCE_SSO,
        SOURCE_CONTAINER,
        SOURCE_IMDS,
};

/* One configured way to get credentials; a role's source credentials come from its parent. */
struct source {
        enum source_kind kind;
        char *name;

        struct es_aws_credentials keys; /* SOURCE_STATIC */

        struct source *parent; /* SOURCE_ASSUME_ROLE */
        char *role_arn;        /* SOURCE_ASSUME_ROLE, SOURCE_WEB_IDENTITY */
        char *session_name;    /* NULL: generated per call */
        char *external_id;
        int duration_seconds;

        char *token_file; /* SOURCE_WEB_IDENTITY */

        char *command; /* SOURCE_PROCESS; may contain secrets, never logged */

        char *sso_session; /* SOURCE_SSO */
        char *sso_start_url;
        char *sso_region;
        char *sso_account_id;
        char *sso_role_name;
        char *sso_profile;

        struct es_aws_container_config container; /* SOURCE_CONTAINER */

        char *imds_endpoint; /* SOURCE_IMDS */
};

struct es_aws_provider {
        struct es_http *http;
        char *sts_region;
        struct source *source;
        /* Description of the sources tried before instance metadata, or NULL. */
        char *tried;

        pthread_mutex_t refresh_lock; /* held by the one thread that fetches */
        pthread_mutex_t lock;         /* guards the fields below */
        struct es_aws_credentials cached;
        bool has_cached;
        bool invalidated;
        bool fetched_once;
};

/* State carried while choosing the source. */
struct resolver {
        const struct es_aws_config *config;
        const char *chain[MAX_PROFILE_CHAIN]; /* profiles being resolved, outermost first */
        size_t depth;
};

static const char *env_value(const char *name)
{
        const char *value = getenv(name);

        return value != NULL && value[0] != '\0' ? value : NULL;
}

/* The profile in use: the caller's, else AWS_PROFILE, else "default". */
static const char *current_profile(const char *explicit_profile)
{
        if (explicit_profile != NULL)
                return explicit_profile;
        return env_value("AWS_PROFILE") ? env_value("AWS_PROFILE") : "default";
}

static void source_free(struct source *source)
{
        if (source == NULL)
                return;
        source_free(source->parent);
        free(source->name);
        es_aws_credentials_release(&source->keys);
        free(source->role_arn);
        free(source->session_name);
        free(source->external_id);
        free(source->token_file);
        es_aws_secret_free(source->command);
        free(source->sso_session);
        free(source->sso_start_url);
        free(source->sso_region);
        free(source->sso_account_id);
        free(source->sso_role_name);
        free(source->sso_profile);
        if (source->kind == SOURCE_CONTAINER)
                es_aws_container_config_release(&source->container);
        free(source->imds_endpoint);
        free(source);
}

ES_DEFINE_CLEANUP(struct source *, source_free)

static struct source *source_new(enum source_kind kind, char *name)
{
        struct source *source = es_calloc(1, sizeof(*source));

        source->kind = kind;
        source->name = name;
        return source;
}

static char *dup_or_null(const char *s)
{
        return s != NULL && s[0] != '\0' ? es_strdup(s) : NULL;
}

/* A profile value, with "" treated as absent. */
static struct es_aws_config_value profile_get(const struct resolver *resolver, const char *profile,
                                              const char *key)
{
        struct es_aws_config_value value = es_aws_config_get(resolver->config, profile, key);

        if (value.value != NULL && value.value[0] == '\0')
                value.value = NULL;
        return value;
}

static int config_error(struct es_error *err, enum es_error_code code,
                        const struct es_aws_config_value *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Set an error prefixed with FILE:LINE when the value's location is known. */
static int config_error(struct es_error *err, enum es_error_code code,
                        const struct es_aws_config_value *where, const char *fmt, ...)
{
        _cleanup_free_ char *message = NULL;
        va_list ap;

        va_start(ap, fmt);
        message = es_vasprintf(fmt, ap);
        va_end(ap);
        if (where != NULL && where->path != NULL)
                return es_error_set(err, code, "%s:%u: %s", where->path, where->line, message);
        return es_error_set(err, code, "%s", message);
}

/* ---- Environment ---- */

/* Static keys from the environment; *found is false when neither key is set. */
static int env_source(struct source **out, bool *found, struct es_error *err)
{
        const char *id = env_value("AWS_ACCESS_KEY_ID");
        const char *secret = env_value("AWS_SECRET_ACCESS_KEY");
        const char *token = env_value("AWS_SESSION_TOKEN");
        const char *expiration = env_value("AWS_CREDENTIAL_EXPIRATION");
        _cleanup_(source_freep) struct source *source = NULL;
        int r;

        *found = false;
        if (id == NULL && secret == NULL)
                return 0;
        if (id == NULL)
                return es_error_set(err, ES_ERR_INVALID,
                                    "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not; "
                                    "set both or neither");
        if (secret == NULL)
                return es_error_set(err, ES_ERR_INVALID,
                                    "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; "
                                    "set both or neither");
        if (token == NULL)
                token = env_value("AWS_SECURITY_TOKEN");

        source = source_new(SOURCE_STATIC, es_strdup("environment"));
        source->keys.access_key_id = es_strdup(id);
        source->keys.secret_access_key = es_strdup(secret);
        source->keys.session_token = dup_or_null(token);
        if (expiration != NULL && es_aws_time_parse(expiration, &source->keys.expiration) < 0)
                return es_error_set(err, ES_ERR_INVALID,
                                    "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time: \"%s\"",
                                    expiration);
        r = es_aws_credentials_check(&source->keys, "the AWS_* environment variables", err);
        if (r < 0)
                return r;
        *out = TAKE_PTR(source);
        *found = true;
        return 0;
}

/* ---- Profiles ---- */

static int profile_source(struct resolver *resolver, const char *profile, bool as_source,
                          struct source **out, bool *found, struct es_error *err);

/* Static keys set in one of the files; *found is false when neither key is. */
static int profile_keys(struct resolver *resolver, const char *profile,
                        enum es_aws_config_file file, struct source **out, bool *found,
                        struct es_error *err)
{
        struct es_aws_config_value id, secret, token;
        _cleanup_(source_freep) struct source *source = NULL;
        int r;

        *found = false;
        id = es_aws_config_get_in(resolver->config, file, profile, "aws_access_key_id");
        secret = es_aws_config_get_in(resolver->config, file, profile, "aws_secret_access_key");
        token = es_aws_config_get_in(resolver->config, file, profile, "aws_session_token");
        if (token.value == NULL)
                token = es_aws_config_get_in(resolver->config, file, profile, "aws_security_token");
        if (id.value != NULL && id.value[0] == '\0')
                id.value = NULL;
        if (secret.value != NULL && secret.value[0] == '\0')
                secret.value = NULL;
        if (id.value == NULL && secret.value == NULL)
                return 0;
        if (id.value == NULL || secret.value == NULL)
                return config_error(err, ES_ERR_INVALID, id.value ? &id : &secret,
                                    "profile '%s' sets %s but not %s", profile,
                                    id.value ? "aws_access_key_id" : "aws_secret_access_key",
                                    id.value ? "aws_secret_access_key" : "aws_access_key_id");

        source = source_new(SOURCE_STATIC, es_asprintf("profile '%s'", profile));
        source->keys.access_key_id = es_strdup(id.value);
        source->keys.secret_access_key = es_strdup(secret.value);
        source->keys.session_token = dup_or_null(token.value);
        r = es_aws_credentials_check(&source->keys, "the profile's keys", err);
        if (r < 0)
                return config_error(err, ES_ERR_INVALID, &id, "profile '%s': %s", profile,
                                    "a key contains spaces or characters that are not printable "
                                    "ASCII");
        *out = TAKE_PTR(source);
        *found = true;
        return 0;
}

static bool profile_has_keys(const struct resolver *resolver, const char *profile)
{
        return profile_get(resolver, profile, "aws_access_key_id").value != NULL &&
               profile_get(resolver, profile, "aws_secret_access_key").value != NULL;
}

static int parse_duration(const struct es_aws_config_value *value, const char *profile, int *out,
                          struct es_error *err)
{
        char *end;
        long seconds;

        errno = 0;
        seconds = strtol(value->value, &end, 10);
        if (errno != 0 || end == value->value || *end != '\0' || seconds < MIN_ROLE_DURATION ||
            seconds > MAX_ROLE_DURATION)
                return config_error(err, ES_ERR_INVALID, value,
                                    "profile '%s': duration_seconds must be a number of seconds "
                                    "from %d to %d",
                                    profile, MIN_ROLE_DURATION, MAX_ROLE_DURATION);
        *out = (int)seconds;
        return 0;
}

/* The credentials behind credential_source = Environment | Ec2InstanceMetadata | EcsContainer. */
static int credential_source(struct resolver *resolver, const char *profile,
                             const struct es_aws_config_value *value, struct source **out,
                             struct es_error *err)
{
        bool found = false;
        int r;

        if (strcmp(value->value, "Environment") == 0) {
                r = env_source(out, &found, err);
                if (r == 0 && !found)
                        r = config_error(err, ES_ERR_NOT_FOUND, value,
                                         "profile '%s': credential_source is Environment but "
                                         "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
                                         profile);
                return r;
        }
        if (strcmp(value->value, "EcsContainer") == 0) {
                struct es_aws_container_config container = {0};

                r = es_aws_container_config_from_env(&container, &found, err);
                if (r < 0)
                        return r;
                if (!found)
                        return config_error(err, ES_ERR_NOT_FOUND, value,
                                            "profile '%s': credential_source is EcsContainer but "
                                            "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor "
                                            "AWS_CONTAINER_CREDENTIALS_FULL_URI is set",
                                            profile);
                *out = source_new(SOURCE_CONTAINER, es_strdup("container"));
                (*out)->container = container;
                return 0;
        }
        if (strcmp(value->value, "Ec2InstanceMetadata") == 0) {
                _cleanup_free_ char *endpoint = NULL;

                r = es_aws_imds_endpoint(
                    profile_get(resolver, profile, "ec2_metadata_service_endpoint").value,
                    profile_get(resolver, profile, "ec2_metadata_service_endpoint_mode").value,
                    &endpoint, err);
                if (r < 0)
                        return r;
                *out = source_new(SOURCE_IMDS, es_strdup("imds"));
                (*out)->imds_endpoint = TAKE_PTR(endpoint);
                return 0;
        }
        return config_error(err, ES_ERR_INVALID, value,
                            "profile '%s': invalid credential_source \"%s\"; expected "
                            "Environment, Ec2InstanceMetadata or EcsContainer",
                            profile, value->value);
}

/* The profile chain "a -> b -> c" for a loop message. Caller frees. */
static char *chain_text(const struct resolver *resolver, const char *last)
{
        struct es_buf text = ES_BUF_INIT(0);

        for (size_t i = 0; i < resolver->depth; i++)
                es_buf_printf(&text, "'%s' -> ", resolver->chain[i]);
        es_buf_printf(&text, "'%s'", last);
        return es_buf_take(&text);
}

static int assume_role_source(struct resolver *resolver, const char *profile, struct source **out,
                              struct es_error *err)
{
        struct es_aws_config_value role = profile_get(resolver, profile, "role_arn");
        struct es_aws_config_value source_profile =
            profile_get(resolver, profile, "source_profile");
        struct es_aws_config_value credential = profile_get(resolver, profile, "credential_source");
        struct es_aws_config_value mfa = profile_get(resolver, profile, "mfa_serial");
        struct es_aws_config_value duration = profile_get(resolver, profile, "duration_seconds");
        _cleanup_(source_freep) struct source *source = NULL;
        struct source *parent = NULL;
        bool found = false;
        int r;

        if (source_profile.value != NULL && credential.value != NULL)
                return config_error(err, ES_ERR_INVALID, &credential,
                                    "profile '%s' sets both source_profile and credential_source; "
                                    "keep one",
                                    profile);
        if (source_profile.value == NULL && credential.value == NULL)
                return config_error(err, ES_ERR_INVALID, &role,
                                    "profile '%s' sets role_arn but neither source_profile nor "
                                    "credential_source",
                                    profile);
        if (mfa.value != NULL)
                return config_error(err, ES_ERR_UNSUPPORTED, &mfa,
                                    "profile '%s' needs an MFA code (mfa_serial), which ecr-sync "
                                    "cannot prompt for; use a profile without MFA or credentials "
                                    "from the environment",
                                    profile);

        source = source_new(SOURCE_ASSUME_ROLE, es_asprintf("profile '%s' (assume role)", profile));
        source->role_arn = es_strdup(role.value);
        source->session_name =
            dup_or_null(profile_get(resolver, profile, "role_session_name").value);
        source->external_id = dup_or_null(profile_get(resolver, profile, "external_id").value);
        if (duration.value != NULL &&
            (r = parse_duration(&duration, profile, &source->duration_seconds, err)) < 0)
                return r;

        if (credential.value != NULL) {
                r = credential_source(resolver, profile, &credential, &parent, err);
                if (r < 0)
                        return r;
                source->parent = parent;
                *out = TAKE_PTR(source);
                return 0;
        }

        if (!es_aws_config_has_profile(resolver->config, source_profile.value))
                return config_error(err, ES_ERR_NOT_FOUND, &source_profile,
                                    "profile '%s': source_profile '%s' does not exist", profile,
                                    source_profile.value);

        /* A profile may name itself to take its own keys as the source, as botocore allows. */
        if (strcmp(source_profile.value, profile) == 0) {
                if (!profile_has_keys(resolver, profile))
                        return config_error(err, ES_ERR_INVALID, &source_profile,
                                            "profile '%s' is its own source_profile but has no "
                                            "aws_access_key_id and aws_secret_access_key",
                                            profile);
        } else {
                for (size_t i = 0; i < resolver->depth; i++) {
                        if (strcmp(resolver->chain[i], source_profile.value) == 0) {
                                _cleanup_free_ char *chain =
                                    chain_text(resolver, source_profile.value);

                                return config_error(err, ES_ERR_INVALID, &source_profile,
                                                    "source_profile loop: %s", chain);
                        }
                }
        }
        if (resolver->depth == MAX_PROFILE_CHAIN)
                return config_error(err, ES_ERR_INVALID, &source_profile,
                                    "more than %d profiles chained by source_profile",
                                    MAX_PROFILE_CHAIN);

        resolver->chain[resolver->depth++] = source_profile.value;
        r = profile_source(resolver, source_profile.value, true, &parent, &found, err);
        resolver->depth--;
        if (r < 0)
                return r;
        if (!found)
                return config_error(err, ES_ERR_NOT_FOUND, &source_profile,
                                    "profile '%s': source_profile '%s' has no credentials", profile,
                                    source_profile.value);
        source->parent = parent;
        *out = TAKE_PTR(source);
        return 0;
}

static int web_identity_profile_source(struct resolver *resolver, const char *profile,
                                       struct source **out, struct es_error *err)
{
        struct es_aws_config_value token_file =
            profile_get(resolver, profile, "web_identity_token_file");
        struct es_aws_config_value role = profile_get(resolver, profile, "role_arn");
        struct source *source;

        if (role.value == NULL)
                return config_error(err, ES_ERR_INVALID, &token_file,
                                    "profile '%s' sets web_identity_token_file but not role_arn",
                                    profile);
        source =
            source_new(SOURCE_WEB_IDENTITY, es_asprintf("profile '%s' (web identity)", profile));
        source->token_file = es_strdup(token_file.value);
        source->role_arn = es_strdup(role.value);
        source->session_name =
            dup_or_null(profile_get(resolver, profile, "role_session_name").value);
        *out = source;
        return 0;
}

/*
 * SSO settings, as botocore's SSO provider reads them: any of the keys
 * makes it an SSO profile, and then all four (start URL and region from
 * the sso-session when the profile names one) are required.
 */
static int sso_source(struct resolver *resolver, const char *profile, struct source **out,
                      bool *found, struct es_error *err)
{
        static const char *const keys[] = {"sso_start_url", "sso_region", "sso_account_id",
                                           "sso_role_name"};
        struct es_aws_config_value session = profile_get(resolver, profile, "sso_session");
        struct es_aws_config_value values[4];
        struct es_buf missing = ES_BUF_INIT(0);
        _cleanup_(source_freep) struct source *source = NULL;
        bool any = session.value != NULL;
        int r = 0;

        *found = false;
        for (size_t i = 0; i < ES_ARRAY_SIZE(keys); i++) {
                values[i] = profile_get(resolver, profile, keys[i]);
                any = any || values[i].value != NULL;
        }
        if (!any)
                return 0;

        if (session.value != NULL) {
                if (!es_aws_config_has_sso_session(resolver->config, session.value))
                        return config_error(err, ES_ERR_INVALID, &session,
                                            "profile '%s': sso_session '%s' has no "
                                            "[sso-session %s] section",
                                            profile, session.value, session.value);
                /* The session's start URL and region; a profile may repeat them, but not
                 * differently. */
                for (size_t i = 0; i < 2; i++) {
                        struct es_aws_config_value from_session =
                            es_aws_config_sso_session_get(resolver->config, session.value, keys[i]);

                        if (values[i].value != NULL && from_session.value != NULL &&
                            strcmp(values[i].value, from_session.value) != 0)
                                return config_error(err, ES_ERR_INVALID, &values[i],
                                                    "profile '%s': %s differs from the one in "
                                                    "[sso-session %s]",
                                                    profile, keys[i], session.value);
                        if (from_session.value != NULL && from_session.value[0] != '\0')
                                values[i] = from_session;
                }
        }
        for (size_t i = 0; i < ES_ARRAY_SIZE(keys); i++)
                if (values[i].value == NULL)
                        es_buf_printf(&missing, "%s%s", missing.len ? ", " : "", keys[i]);
        if (missing.len > 0) {
                const struct es_aws_config_value *where = session.value ? &session : NULL;

                for (size_t i = 0; i < ES_ARRAY_SIZE(keys) && where == NULL; i++)
                        if (values[i].value != NULL)
                                where = &values[i];
                r = config_error(err, ES_ERR_INVALID, where,
                                 "profile '%s' is an SSO profile but lacks %s", profile,
                                 missing.data);
                es_buf_release(&missing);
                return r;
        }
        es_buf_release(&missing);
        if (!es_aws_region_is_valid(values[1].value))
                return config_error(err, ES_ERR_INVALID, &values[1],
                                    "profile '%s': invalid sso_region \"%s\"", profile,
                                    values[1].value);

        source = source_new(SOURCE_SSO, es_asprintf("profile '%s' (sso)", profile));
        source->sso_session = dup_or_null(session.value);
        source->sso_start_url = es_strdup(values[0].value);
        source->sso_region = es_strdup(values[1].value);
        source->sso_account_id = es_strdup(values[2].value);
        source->sso_role_name = es_strdup(values[3].value);
        source->sso_profile = es_strdup(profile);
        *out = TAKE_PTR(source);
        *found = true;
        return 0;
}

/*
 * The source a profile configures, in botocore's order. as_source is true
 * for a source_profile: like botocore, a source profile with static keys
 * provides them even when it also sets role_arn.
 */
static int profile_source(struct resolver *resolver, const char *profile, bool as_source,
                          struct source **out, bool *found, struct es_error *err)
{
        struct es_aws_config_value process;
        bool has_role = profile_get(resolver, profile, "role_arn").value != NULL;
        bool has_web_identity =
            profile_get(resolver, profile, "web_identity_token_file").value != NULL;
        int r;

        *found = false;
        if (has_role && !has_web_identity && !(as_source && profile_has_keys(resolver, profile))) {
                r = assume_role_source(resolver, profile, out, err);
                *found = r == 0;
                return r;
        }
        if (has_web_identity) {
                r = web_identity_profile_source(resolver, profile, out, err);
                *found = r == 0;
                return r;
        }
        r = sso_source(resolver, profile, out, found, err);
        if (r < 0 || *found)
                return r;
        r = profile_keys(resolver, profile, ES_AWS_CREDENTIALS_FILE, out, found, err);
        if (r < 0 || *found)
                return r;
        process = profile_get(resolver, profile, "credential_process");
        if (process.value != NULL) {
                *out = source_new(SOURCE_PROCESS,
                                  es_asprintf("profile '%s' (credential_process)", profile));
                (*out)->command = es_strdup(process.value);
                *found = true;
                return 0;
        }
        return profile_keys(resolver, profile, ES_AWS_CONFIG_FILE, out, found, err);
}

/* ---- After the profile ---- */

static int web_identity_env_source(struct source **out, bool *found, struct es_error *err)
{
        const char *token_file = env_value("AWS_WEB_IDENTITY_TOKEN_FILE");
        const char *role = env_value("AWS_ROLE_ARN");
        struct source *source;

        *found = false;
        if (token_file == NULL)
                return 0;
        if (role == NULL)
                return es_error_set(err, ES_ERR_INVALID,
                                    "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
        source = source_new(SOURCE_WEB_IDENTITY, es_strdup("web identity"));
        source->token_file = es_strdup(token_file);
        source->role_arn = es_strdup(role);
        source->session_name = dup_or_null(env_value("AWS_ROLE_SESSION_NAME"));
        *out = source;
        *found = true;
        return 0;
}

/* Choose the source; tried lists what was looked at, for the "nothing found" message. */
static int choose_source(struct resolver *resolver, const char *explicit_profile,
                         struct source **out, struct es_buf *tried, struct es_error *err)
{
        const char *profile = current_profile(explicit_profile);
        bool named = explicit_profile != NULL || env_value("AWS_PROFILE") != NULL, found = false;
        struct es_aws_container_config container = {0};
        _cleanup_free_ char *imds_endpoint = NULL;
        int r;

        if (explicit_profile == NULL) {
                r = env_source(out, &found, err);
                if (r < 0 || found)
                        return r;
                es_buf_puts(tried, "environment (AWS_ACCESS_KEY_ID not set)");
        } else {
                es_buf_puts(tried, "environment (skipped for a named profile)");
        }

        if (es_aws_config_has_profile(resolver->config, profile)) {
                resolver->chain[resolver->depth++] = profile;
                r = profile_source(resolver, profile, false, out, &found, err);
                resolver->depth--;
                if (r < 0 || found)
                        return r;
                es_buf_printf(tried, ", profile '%s' (no credentials in it)", profile);
        } else if (named) {
                return es_error_set(err, ES_ERR_NOT_FOUND,
                                    "AWS profile '%s' not found in \"%s\" or \"%s\"", profile,
                                    es_aws_config_path(resolver->config, ES_AWS_CONFIG_FILE),
                                    es_aws_config_path(resolver->config, ES_AWS_CREDENTIALS_FILE));
        } else {
                es_buf_printf(tried, ", profile 'default' (not in \"%s\" or \"%s\")",
                              es_aws_config_path(resolver->config, ES_AWS_CONFIG_FILE),
                              es_aws_config_path(resolver->config, ES_AWS_CREDENTIALS_FILE));
        }

        r = web_identity_env_source(out, &found, err);
        if (r < 0 || found)
                return r;
        es_buf_puts(tried, ", web identity (AWS_WEB_IDENTITY_TOKEN_FILE not set)");

        r = es_aws_container_config_from_env(&container, &found, err);
        if (r < 0)
                return r;
        if (found) {
                *out = source_new(SOURCE_CONTAINER, es_strdup("container"));
                (*out)->container = container;
                return 0;
        }
        es_buf_puts(tried, ", container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
                           "AWS_CONTAINER_CREDENTIALS_FULL_URI not set)");

        if (es_aws_imds_disabled()) {
                es_buf_puts(tried, ", EC2 instance metadata (disabled by "
                                   "AWS_EC2_METADATA_DISABLED)");
                return es_error_set(err, ES_ERR_NOT_FOUND, "no AWS credentials found; tried %s",
                                    tried->data);
        }
        r = es_aws_imds_endpoint(
            profile_get(resolver, profile, "ec2_metadata_service_endpoint").value,
            profile_get(resolver, profile, "ec2_metadata_service_endpoint_mode").value,
            &imds_endpoint, err);
        if (r < 0)
                return r;
        *out = source_new(SOURCE_IMDS, es_strdup("imds"));
        (*out)->imds_endpoint = TAKE_PTR(imds_endpoint);
        return 0;
}

/* The region from the environment or the profile, unchecked; NULL when unset. */
static const char *find_region(const struct es_aws_config *config, const char *profile,
                               struct es_aws_config_value *where)
{
        const char *region = env_value("AWS_REGION");

        memset(where, 0, sizeof(*where));
        if (region == NULL)
                region = env_value("AWS_DEFAULT_REGION");
        if (region == NULL) {
                *where = es_aws_config_get(config, profile, "region");
                if (where->value != NULL && where->value[0] != '\0')
                        region = where->value;
        }
        return region;
}

int es_aws_provider_new(struct es_http *http, const char *profile, struct es_aws_provider **out,
                        struct es_error *err)
{
        struct es_aws_config *config = NULL;
        struct resolver resolver = {0};
        struct es_buf tried = ES_BUF_INIT(0);
        struct es_aws_provider *provider;
        struct es_aws_config_value where;
        struct source *source = NULL;
        const char *region;
        int r;

        r = es_aws_config_load(&config, err);
        if (r < 0)
                return r;
        resolver.config = config;
        r = choose_source(&resolver, profile, &source, &tried, err);
        if (r < 0)
                goto done;

        region = find_region(config, current_profile(profile), &where);
        if (region != NULL && !es_aws_region_is_valid(region)) {
                r = config_error(err, ES_ERR_INVALID, &where, "invalid AWS region \"%s\"", region);
                source_free(source);
                goto done;
        }

        provider = es_calloc(1, sizeof(*provider));
        provider->http = http;
        provider->source = source;
        provider->sts_region = es_strdup(region ? region : DEFAULT_STS_REGION);
        if (source->kind == SOURCE_IMDS && tried.len > 0)
                provider->tried = es_buf_take(&tried);
        pthread_mutex_init(&provider->lock, NULL);
        pthread_mutex_init(&provider->refresh_lock, NULL);
        es_log_debug("aws: credentials from %s", source->name);
        for (struct source *parent = source->parent; parent; parent = parent->parent)
                es_log_debug("aws:   source credentials from %s", parent->name);
        *out = provider;

done:
        es_buf_release(&tried);
        es_aws_config_free(config);
        return r;
}

void es_aws_provider_free(struct es_aws_provider *provider)
{
        if (provider == NULL)
                return;
        source_free(provider->source);
        es_aws_credentials_release(&provider->cached);
        free(provider->sts_region);
        free(provider->tried);
        pthread_mutex_destroy(&provider->lock);
        pthread_mutex_destroy(&provider->refresh_lock);
        free(provider);
}

const char *es_aws_provider_source(const struct es_aws_provider *provider)
{
        return provider->source->name;
}

/* ---- Fetching ---- */

static char *session_name(const struct source *source)
{
        if (source->session_name != NULL)
                return es_strdup(source->session_name);
        return es_asprintf("ecr-sync-%lld", (long long)time(NULL));
}

static int fetch(struct es_aws_provider *provider, const struct source *source,
                 struct es_aws_credentials *out, struct es_error *err);

static int fetch_assume_role(struct es_aws_provider *provider, const struct source *source,
                             struct es_aws_credentials *out, struct es_error *err)
{
        struct es_aws_credentials parent = {0};
        _cleanup_free_ char *name = session_name(source);
        struct es_aws_assume_role params = {
            .role_arn = source->role_arn,
            .role_session_name = name,
            .external_id = source->external_id,
            .duration_seconds = source->duration_seconds,
        };
        int r;

        r = fetch(provider, source->parent, &parent, err);
        if (r < 0)
                return es_error_prefix(err, "source credentials from %s", source->parent->name);
        r = es_aws_sts_assume_role(provider->http, provider->sts_region, &parent, &params, out,
                                   err);
        es_aws_credentials_release(&parent);
        return r;
}

static int fetch_web_identity(struct es_aws_provider *provider, const struct source *source,
                              struct es_aws_credentials *out, struct es_error *err)
{
        _cleanup_free_ char *name = session_name(source);
        struct es_aws_assume_role params = {
            .role_arn = source->role_arn,
            .role_session_name = name,
        };
        char *token = NULL;
        int r;

        /* Re-read on every fetch: Kubernetes rotates projected service account tokens. */
        r = es_aws_read_secret_file(source->token_file, "web identity token file",
                                    ES_AWS_MAX_TOKEN_FILE, &token, err);
        if (r < 0)
                return r;
        r = es_aws_sts_assume_role_with_web_identity(provider->http, provider->sts_region, &params,
                                                     token, out, err);
        es_aws_secret_free(token);
        return r;
}

static int fetch(struct es_aws_provider *provider, const struct source *source,
                 struct es_aws_credentials *out, struct es_error *err)
{
        struct es_aws_sso_params sso;

        switch (source->kind) {
        case SOURCE_STATIC:
                es_aws_credentials_copy(out, &source->keys);
                return 0;
        case SOURCE_ASSUME_ROLE:
                return fetch_assume_role(provider, source, out, err);
        case SOURCE_WEB_IDENTITY:
                return fetch_web_identity(provider, source, out, err);
        case SOURCE_PROCESS:
                return es_aws_process_credentials(source->command, ES_AWS_PROCESS_TIMEOUT_MS, out,
                                                  err);
        case SOURCE_SSO:
                sso = (struct es_aws_sso_params){
                    .session_name = source->sso_session,
                    .start_url = source->sso_start_url,
                    .region = source->sso_region,
                    .account_id = source->sso_account_id,
                    .role_name = source->sso_role_name,
                    .profile = source->sso_profile,
                };
                return es_aws_sso_credentials(provider->http, &sso, out, err);
        case SOURCE_CONTAINER:
                return es_aws_container_credentials(provider->http, &source->container, out, err);
        case SOURCE_IMDS:
                return es_aws_imds_credentials(provider->http, source->imds_endpoint, out, err);
        }
        return es_error_set(err, ES_ERR_INVALID, "unknown credential source");
}

enum freshness {
        FRESH,     /* use the cached credentials */
        ADVISORY,  /* refresh if no other thread is, else use the cached ones */
        MANDATORY, /* wait for a refresh */
};

/* Call with provider->lock held. */
static enum freshness freshness(const struct es_aws_provider *provider, time_t now)
{
        if (!provider->has_cached || provider->invalidated)
                return MANDATORY;
        if (provider->cached.expiration == 0)
                return FRESH;
        if (provider->cached.expiration - now <= ES_AWS_REFRESH_MANDATORY_SECONDS)
                return MANDATORY;
        if (provider->cached.expiration - now <= ES_AWS_REFRESH_ADVISORY_SECONDS)
                return ADVISORY;
        return FRESH;
}

/*
 * Copy the cached credentials unless a caller invalidated them or they expire
 * before min_expiration. Takes provider->lock.
 */
static bool copy_cached(struct es_aws_provider *provider, time_t min_expiration,
                        struct es_aws_credentials *out)
{
        bool usable;

        pthread_mutex_lock(&provider->lock);
        usable = provider->has_cached && !provider->invalidated &&
                 (provider->cached.expiration == 0 || provider->cached.expiration > min_expiration);
        if (usable)
                es_aws_credentials_copy(out, &provider->cached);
        pthread_mutex_unlock(&provider->lock);
        return usable;
}

static int refresh(struct es_aws_provider *provider, enum freshness state,
                   struct es_aws_credentials *out, struct es_error *err)
{
        struct es_aws_credentials fresh = {0};
        struct es_error fetch_err = ES_ERROR_INIT;
        time_t now = time(NULL);
        int r;

        r = fetch(provider, provider->source, &fresh, &fetch_err);
        if (r == 0) {
                char when[32] = "never";

                if (fresh.expiration != 0)
                        es_aws_time_format(fresh.expiration, when, sizeof(when));
                es_log_debug("aws: new credentials from %s, expiring %s", provider->source->name,
                             when);
                pthread_mutex_lock(&provider->lock);
                es_aws_credentials_release(&provider->cached);
                provider->cached = fresh;
                provider->has_cached = true;
                provider->invalidated = false;
                provider->fetched_once = true;
                es_aws_credentials_copy(out, &provider->cached);
                pthread_mutex_unlock(&provider->lock);
                es_error_release(&fetch_err);
                return 0;
        }

        /* Keep using credentials that are still valid rather than fail the caller. */
        if (copy_cached(provider,
                        now + (state == ADVISORY ? ES_AWS_REFRESH_MANDATORY_SECONDS
                                                 : ES_AWS_REFRESH_GRACE_SECONDS),
                        out)) {
                es_log_debug("aws: refreshing credentials from %s failed, using the cached "
                             "ones: %s",
                             provider->source->name, es_error_message(&fetch_err));
                es_error_release(&fetch_err);
                return 0;
        }

        if (!provider->fetched_once && provider->tried != NULL)
                es_error_prefix(&fetch_err, "no AWS credentials found (tried %s)", provider->tried);
        else
                es_error_prefix(&fetch_err, "AWS credentials from %s", provider->source->name);
        es_error_move(err, &fetch_err);
        return r;
}

int es_aws_provider_get(struct es_aws_provider *provider, struct es_aws_credentials *out,
                        struct es_error *err)
{
        enum freshness state;
        int r;

        pthread_mutex_lock(&provider->lock);
        state = freshness(provider, time(NULL));
        if (state == FRESH)
                es_aws_credentials_copy(out, &provider->cached);
        pthread_mutex_unlock(&provider->lock);
        if (state == FRESH)
                return 0;

        if (state == ADVISORY) {
                /* Another thread is refreshing: the cached credentials are good for 10 more
                 * minutes. */
                if (pthread_mutex_trylock(&provider->refresh_lock) != 0) {
                        if (copy_cached(provider, time(NULL), out))
                                return 0;
                        pthread_mutex_lock(&provider->refresh_lock);
                }
        } else {
                pthread_mutex_lock(&provider->refresh_lock);
        }

        /* Another thread may have refreshed while this one waited for the lock. */
        pthread_mutex_lock(&provider->lock);
        state = freshness(provider, time(NULL));
        if (state == FRESH)
                es_aws_credentials_copy(out, &provider->cached);
        pthread_mutex_unlock(&provider->lock);

        r = state == FRESH ? 0 : refresh(provider, state, out, err);
        pthread_mutex_unlock(&provider->refresh_lock);
        return r;
}

void es_aws_provider_invalidate(struct es_aws_provider *provider)
{
        pthread_mutex_lock(&provider->lock);
        if (provider->cached.expiration != 0)
                provider->invalidated = true;
        pthread_mutex_unlock(&provider->lock);
}

int es_aws_region_resolve(const char *profile, char **out, struct es_error *err)
{
        struct es_aws_config *config = NULL;
        struct es_aws_config_value where;
        const char *region;
        int r;

        profile = current_profile(profile);
        r = es_aws_config_load(&config, err);
        if (r < 0)
                return r;
        region = find_region(config, profile, &where);
        if (region == NULL)
                r = es_error_set(err, ES_ERR_NOT_FOUND,
                                 "no AWS region set; set AWS_REGION, or region in profile '%s' "
                                 "of \"%s\"",
                                 profile, es_aws_config_path(config, ES_AWS_CONFIG_FILE));
        else if (!es_aws_region_is_valid(region))
                r = config_error(err, ES_ERR_INVALID, &where, "invalid AWS region \"%s\"", region);
        else
                *out = es_strdup(region);
        es_aws_config_free(config);
        return r;
}
