/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AWS credential chain: where ECR and other AWS calls get their keys.
 *
 * es_aws_provider_new() picks the source from configuration alone, in this
 * order, and the first source that is configured wins even if fetching
 * from it fails later (as in botocore, only instance metadata is a
 * fallback):
 *
 *  1. environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, with
 *     AWS_SESSION_TOKEN and AWS_CREDENTIAL_EXPIRATION when set. Skipped when
 *     the caller names a profile, which then wins over these variables as
 *     it does in botocore. Only one of the two keys set is an error.
 *  2. the profile: the caller's, else AWS_PROFILE, else "default". A
 *     profile named by the caller or by AWS_PROFILE must exist. Within the
 *     profile, botocore's order: role_arn with source_profile or
 *     credential_source (AssumeRole), web_identity_token_file with role_arn
 *     (AssumeRoleWithWebIdentity), SSO (sso_session or sso_start_url), keys
 *     in the credentials file, credential_process, keys in the config file.
 *  3. web identity from AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN
 *     (AWS_ROLE_SESSION_NAME optional), as EKS IRSA sets them.
 *     NOTE: botocore consults these variables inside its profile step,
 *     before the profile's static keys; here a profile with keys wins.
 *  4. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI (see
 *     container.h).
 *  5. EC2 instance metadata (IMDSv2, see imds.h) unless
 *     AWS_EC2_METADATA_DISABLED=true.
 *
 * Caching and refresh: credentials without an expiration are fetched once.
 * Temporary ones are kept until 15 minutes before they expire (the
 * advisory window, as in botocore): then one caller refreshes them while
 * other callers keep using the cached copy, and a failed refresh is logged
 * at debug level and the cached copy returned. From 10 minutes before
 * expiry (the mandatory window) every caller waits for the refresh; if it
 * fails, the cached copy is still returned while it is valid for at least
 * another minute (botocore raises instead), else the error. Only one fetch
 * runs at a time per provider.
 *
 * Secrets (secret keys, session tokens, SSO access tokens, container
 * authorization tokens, web identity tokens) are kept out of errors and
 * logs. The exception is the first line of a failed credential_process's
 * standard error, which is quoted as the program wrote it.
 */
#ifndef ES_AWS_CREDENTIALS_H
#define ES_AWS_CREDENTIALS_H

#include "aws/sigv4.h"
#include "base/error.h"
#include "http/http.h"

/* Seconds before expiry at which a refresh is tried (others keep the cached copy). */
#define ES_AWS_REFRESH_ADVISORY_SECONDS (15 * 60)
/* Seconds before expiry at which every caller waits for a refresh. */
#define ES_AWS_REFRESH_MANDATORY_SECONDS (10 * 60)
/* A failed mandatory refresh still returns cached credentials valid this much longer. */
#define ES_AWS_REFRESH_GRACE_SECONDS 60

/* Thread-safe; opaque. */
struct es_aws_provider;

/*
 * Read the environment and the shared config files and pick the source.
 * http (borrowed; must outlive the provider) performs every request.
 * profile is the profile to use, or NULL for AWS_PROFILE or "default".
 * Returns 0 and *out (free with es_aws_provider_free), or
 * -ES_ERR_INVALID for bad configuration (messages name FILE:LINE),
 * -ES_ERR_NOT_FOUND for a named profile that does not exist or when no
 * source is configured (the message lists what was tried),
 * -ES_ERR_UNSUPPORTED for a role that needs an MFA code, -ES_ERR_IO when a
 * config file cannot be read. No network request is made here.
 */
int es_aws_provider_new(struct es_http *http, const char *profile, struct es_aws_provider **out,
                        struct es_error *err) __attribute__((warn_unused_result));

/*
 * Copy valid credentials into *out (release with es_aws_credentials_release),
 * fetching or refreshing them as described above. Returns 0, or the source's
 * error prefixed with its name. When instance metadata was the fallback
 * and its first fetch fails, the message also lists the sources tried
 * before it. Thread-safe.
 */
int es_aws_provider_get(struct es_aws_provider *provider, struct es_aws_credentials *out,
                        struct es_error *err) __attribute__((warn_unused_result));

/*
 * Make the next es_aws_provider_get() fetch new credentials, for a caller
 * whose request was rejected with expired credentials. Thread-safe.
 */
void es_aws_provider_invalidate(struct es_aws_provider *provider);

/*
 * The chosen source, for messages: "environment", "profile 'dev'",
 * "profile 'dev' (assume role)", "profile 'dev' (web identity)",
 * "profile 'dev' (sso)", "profile 'dev' (credential_process)",
 * "web identity", "container" or "imds". Valid until the provider is freed.
 */
const char *es_aws_provider_source(const struct es_aws_provider *provider);

/* Accepts NULL. */
void es_aws_provider_free(struct es_aws_provider *provider);

/*
 * The region from AWS_REGION, else AWS_DEFAULT_REGION, else the profile's
 * `region` (profile NULL: AWS_PROFILE or "default"). Callers that know the
 * region from their own configuration or from an ECR host name use that
 * first. Returns 0 and *out (caller frees), -ES_ERR_NOT_FOUND when none is
 * set, -ES_ERR_INVALID for a malformed region or config file, -ES_ERR_IO.
 */
int es_aws_region_resolve(const char *profile, char **out, struct es_error *err)
    __attribute__((warn_unused_result));

#endif
