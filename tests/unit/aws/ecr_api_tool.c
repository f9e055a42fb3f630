/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ecr-api-tool: run one ECR or Secrets Manager operation through the real
 * client (src/aws/ecr.c, secrets.c, json_rpc.c and the credential chain in
 * credentials.c) and print the result as JSON lines on stdout, for the
 * end-to-end tests in tests/e2e/test_ecr_api.py.
 *
 * Usage: ecr-api-tool [--region REGION] [--registry-id ID] [--verbose] COMMAND ARGS...
 *
 *   get-token
 *   describe-repository NAME
 *   create-repository NAME [--mutability MUTABLE|IMMUTABLE] [--scan-on-push true|false]
 *                          [--kms KEY | --aes256] [--tag KEY=VALUE]...
 *   put-lifecycle-policy NAME FILE
 *   get-lifecycle-policy NAME
 *   put-tag-mutability NAME MUTABLE|IMMUTABLE
 *   put-scanning NAME true|false
 *   list-images NAME          one line per tag, and per untagged digest
 *   describe-images NAME      one line per image
 *   batch-delete NAME DIGEST...
 *   get-secret SECRET_ID
 *
 * The region defaults to AWS_REGION, AWS_DEFAULT_REGION or the profile's.
 * The ECR endpoint comes from AWS_ENDPOINT_URL_ECR or AWS_ENDPOINT_URL, the
 * Secrets Manager endpoint from AWS_ENDPOINT_URL_SECRETS_MANAGER or
 * AWS_ENDPOINT_URL. --verbose turns on the library's debug log on stderr.
 *
 * Secrets are never printed: get-token prints the password's length, and
 * get-secret the value's length and SHA-256.
 *
 * Exit status: 0 on success; 1 when the operation fails, with
 * "error: MESSAGE" on stderr and, when the service returned an error type,
 * "code: TYPE" on the next line; 2 for bad usage.
 */
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/credentials.h"
#include "aws/ecr.h"
#include "aws/secrets.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "http/http.h"

/* ECR allows at most 50 tags per repository. */
#define MAX_REPOSITORY_TAGS 50
/* Largest policy file the tool reads. ECR itself accepts at most 30,720 characters. */
#define MAX_POLICY_FILE_BYTES (1024 * 1024)

struct options {
        const char *region;
        const char *registry_id;
        bool verbose;
        /* Settings for create-repository only. */
        struct es_ecr_repository_settings settings;
        struct es_ecr_tag tags[MAX_REPOSITORY_TAGS];
        bool has_settings;
        /* The command and its positional arguments. */
        const char *command;
        char **args;
        size_t n_args;
};

struct context {
        const struct options *options;
        struct es_http *http;
        struct es_aws_provider *provider;
        struct es_ecr *ecr;
        const char *region;
};

struct command {
        const char *name;
        size_t min_args;
        size_t max_args;
        int (*run)(struct context *context, struct es_error *err);
};

static void usage(const char *problem)
{
        if (problem)
                fprintf(stderr, "ecr-api-tool: %s\n", problem);
        fputs("usage: ecr-api-tool [--region REGION] [--registry-id ID] [--verbose] COMMAND "
              "ARGS...\n"
              "commands:\n"
              "  get-token\n"
              "  describe-repository NAME\n"
              "  create-repository NAME [--mutability MUTABLE|IMMUTABLE]\n"
              "                    [--scan-on-push true|false] [--kms KEY | --aes256]\n"
              "                    [--tag KEY=VALUE]...\n"
              "  put-lifecycle-policy NAME FILE\n"
              "  get-lifecycle-policy NAME\n"
              "  put-tag-mutability NAME MUTABLE|IMMUTABLE\n"
              "  put-scanning NAME true|false\n"
              "  list-images NAME\n"
              "  describe-images NAME\n"
              "  batch-delete NAME DIGEST...\n"
              "  get-secret SECRET_ID\n",
              stderr);
        exit(2);
}

/* Parse "true" or "false", and exit with a usage error on anything else. */
static bool parse_bool(const char *option, const char *text)
{
        if (strcmp(text, "true") == 0)
                return true;
        if (strcmp(text, "false") == 0)
                return false;
        fprintf(stderr, "ecr-api-tool: %s: expected true or false, not '%s'\n", option, text);
        usage(NULL);
        return false;
}

/* Split "KEY=VALUE" in place into a repository tag. */
static void add_tag(struct options *options, char *text)
{
        char *equals = strchr(text, '=');

        if (equals == NULL || equals == text)
                usage("--tag: expected KEY=VALUE");
        if (options->settings.n_tags == MAX_REPOSITORY_TAGS)
                usage("--tag: ECR allows at most 50 tags per repository");
        *equals = '\0';
        options->tags[options->settings.n_tags++] = (struct es_ecr_tag){
            .key = text,
            .value = equals + 1,
        };
}

/*
 * Read the options, wherever they appear, and the positional arguments.
 * argv strings are changed in place by --tag.
 */
static void parse_options(int argc, char **argv, struct options *options)
{
        *options = (struct options){
            .settings = {.scan_on_push = -1},
            .args = es_calloc((size_t)argc, sizeof(char *)),
        };
        options->settings.tags = options->tags;

        for (int i = 1; i < argc; i++) {
                const char *arg = argv[i];
                const char *value = i + 1 < argc ? argv[i + 1] : NULL;
                bool takes_value =
                    strcmp(arg, "--region") == 0 || strcmp(arg, "--registry-id") == 0 ||
                    strcmp(arg, "--mutability") == 0 || strcmp(arg, "--scan-on-push") == 0 ||
                    strcmp(arg, "--kms") == 0 || strcmp(arg, "--tag") == 0;

                if (takes_value && value == NULL) {
                        fprintf(stderr, "ecr-api-tool: %s needs a value\n", arg);
                        usage(NULL);
                }
                if (strcmp(arg, "--region") == 0) {
                        options->region = value;
                } else if (strcmp(arg, "--registry-id") == 0) {
                        options->registry_id = value;
                } else if (strcmp(arg, "--verbose") == 0 || strcmp(arg, "-v") == 0) {
                        options->verbose = true;
                } else if (strcmp(arg, "--mutability") == 0) {
                        options->settings.image_tag_mutability = value;
                        options->has_settings = true;
                } else if (strcmp(arg, "--scan-on-push") == 0) {
                        options->settings.scan_on_push = parse_bool(arg, value);
                        options->has_settings = true;
                } else if (strcmp(arg, "--kms") == 0 || strcmp(arg, "--aes256") == 0) {
                        if (options->settings.encryption != ES_ECR_ENCRYPTION_DEFAULT)
                                usage("give --kms or --aes256 once");
                        if (strcmp(arg, "--kms") == 0) {
                                options->settings.encryption = ES_ECR_ENCRYPTION_KMS;
                                options->settings.kms_key = value;
                        } else {
                                options->settings.encryption = ES_ECR_ENCRYPTION_AES256;
                        }
                        options->has_settings = true;
                } else if (strcmp(arg, "--tag") == 0) {
                        add_tag(options, argv[i + 1]);
                        options->has_settings = true;
                } else if (strncmp(arg, "--", 2) == 0) {
                        fprintf(stderr, "ecr-api-tool: unknown option '%s'\n", arg);
                        usage(NULL);
                } else if (options->command == NULL) {
                        options->command = arg;
                } else {
                        options->args[options->n_args++] = argv[i];
                }
                if (takes_value)
                        i++;
        }
        if (options->command == NULL)
                usage("missing command");
        if (options->has_settings && strcmp(options->command, "create-repository") != 0)
                usage("--mutability, --scan-on-push, --kms, --aes256 and --tag apply only to "
                      "create-repository");
}

/* Print one JSON object as a line on stdout and release it. */
static int print_line(json_t *object, struct es_error *err)
{
        char *text;

        if (object == NULL)
                return es_error_set(err, ES_ERR_INVALID,
                                    "the result cannot be printed: a string is not valid UTF-8");
        text = json_dumps(object, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(object);
        if (text == NULL)
                return es_error_set(err, ES_ERR_IO, "the result cannot be encoded as JSON");
        puts(text);
        free(text);
        return 0;
}

static int run_get_token(struct context *context, struct es_error *err)
{
        struct es_ecr_token token = {0};
        int r;

        r = es_ecr_get_authorization_token(context->ecr, context->options->registry_id, &token,
                                           err);
        if (r < 0)
                return r;
        r = print_line(json_pack("{s:s?, s:s?, s:I, s:I}", "username", token.username,
                                 "proxy_endpoint", token.proxy_endpoint, "expires_at",
                                 (json_int_t)token.expires_at, "password_length",
                                 (json_int_t)(token.password ? strlen(token.password) : 0)),
                       err);
        es_ecr_token_release(&token);
        return r;
}

static int run_describe_repository(struct context *context, struct es_error *err)
{
        const char *name = context->options->args[0];
        struct es_ecr_repository repository = {0};
        bool found = false;
        int r;

        r = es_ecr_describe_repository(context->ecr, context->options->registry_id, name, &found,
                                       &repository, err);
        if (r < 0)
                return r;
        if (!found)
                return print_line(json_pack("{s:b}", "found", false), err);
        r = print_line(json_pack("{s:b, s:s?, s:s?, s:s?, s:s?, s:b, s:s?, s:s?}", "found", true,
                                 "name", repository.name, "arn", repository.arn, "uri",
                                 repository.uri, "image_tag_mutability",
                                 repository.image_tag_mutability, "scan_on_push",
                                 repository.scan_on_push, "encryption_type",
                                 repository.encryption_type, "kms_key", repository.kms_key),
                       err);
        es_ecr_repository_release(&repository);
        return r;
}

static int run_create_repository(struct context *context, struct es_error *err)
{
        const struct options *options = context->options;
        bool existed = false;
        int r;

        r = es_ecr_create_repository(context->ecr, options->registry_id, options->args[0],
                                     options->has_settings ? &options->settings : NULL, &existed,
                                     err);
        if (r < 0)
                return r;
        return print_line(json_pack("{s:s, s:b}", "name", options->args[0], "existed", existed),
                          err);
}

/* Read a whole file as text into *out (caller frees). */
static int read_text_file(const char *path, char **out, struct es_error *err)
{
        FILE *file = fopen(path, "rb");
        char *text;
        size_t len;

        if (file == NULL)
                return es_error_set(err, ES_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
        text = es_malloc(MAX_POLICY_FILE_BYTES + 1);
        len = fread(text, 1, MAX_POLICY_FILE_BYTES + 1, file);
        if (ferror(file)) {
                fclose(file);
                free(text);
                return es_error_set(err, ES_ERR_IO, "cannot read '%s'", path);
        }
        fclose(file);
        if (len > MAX_POLICY_FILE_BYTES) {
                free(text);
                return es_error_set(err, ES_ERR_INVALID, "'%s' is larger than %d bytes", path,
                                    MAX_POLICY_FILE_BYTES);
        }
        if (memchr(text, '\0', len) != NULL) {
                free(text);
                return es_error_set(err, ES_ERR_INVALID, "'%s' contains a NUL byte", path);
        }
        text[len] = '\0';
        *out = text;
        return 0;
}

static int run_put_lifecycle_policy(struct context *context, struct es_error *err)
{
        const char *name = context->options->args[0];
        _cleanup_free_ char *policy = NULL;
        int r;

        r = read_text_file(context->options->args[1], &policy, err);
        if (r < 0)
                return r;
        r = es_ecr_put_lifecycle_policy(context->ecr, context->options->registry_id, name, policy,
                                        err);
        if (r < 0)
                return r;
        return print_line(
            json_pack("{s:s, s:I}", "name", name, "policy_length", (json_int_t)strlen(policy)),
            err);
}

static int run_get_lifecycle_policy(struct context *context, struct es_error *err)
{
        const char *name = context->options->args[0];
        _cleanup_free_ char *policy = NULL;
        int r;

        r = es_ecr_get_lifecycle_policy(context->ecr, context->options->registry_id, name, &policy,
                                        err);
        if (r < 0)
                return r;
        return print_line(json_pack("{s:s, s:s?}", "name", name, "policy", policy), err);
}

static int run_put_tag_mutability(struct context *context, struct es_error *err)
{
        const char *name = context->options->args[0];
        const char *mutability = context->options->args[1];
        int r;

        r = es_ecr_put_image_tag_mutability(context->ecr, context->options->registry_id, name,
                                            mutability, err);
        if (r < 0)
                return r;
        return print_line(json_pack("{s:s, s:s}", "name", name, "image_tag_mutability", mutability),
                          err);
}

static int run_put_scanning(struct context *context, struct es_error *err)
{
        const char *name = context->options->args[0];
        bool scan_on_push = strcmp(context->options->args[1], "true") == 0;
        int r;

        r = es_ecr_put_image_scanning_configuration(context->ecr, context->options->registry_id,
                                                    name, scan_on_push, err);
        if (r < 0)
                return r;
        return print_line(json_pack("{s:s, s:b}", "name", name, "scan_on_push", scan_on_push), err);
}

static int print_listed_image(const struct es_ecr_image *image, void *ctx)
{
        return print_line(json_pack("{s:s, s:s?}", "digest", image->digest, "tag", image->tag),
                          ctx);
}

static int print_described_image(const struct es_ecr_image *image, void *ctx)
{
        json_t *tags = json_array();

        for (size_t i = 0; i < image->n_tags; i++)
                json_array_append_new(tags, json_string(image->tags[i]));
        return print_line(json_pack("{s:s, s:o, s:s?}", "digest", image->digest, "tags", tags,
                                    "media_type", image->media_type),
                          ctx);
}

static int run_list_images(struct context *context, struct es_error *err)
{
        return es_ecr_list_images(context->ecr, context->options->registry_id,
                                  context->options->args[0], print_listed_image, err, err);
}

static int run_describe_images(struct context *context, struct es_error *err)
{
        return es_ecr_describe_images(context->ecr, context->options->registry_id,
                                      context->options->args[0], print_described_image, err, err);
}

static int run_batch_delete(struct context *context, struct es_error *err)
{
        const struct options *options = context->options;
        size_t n_digests = options->n_args - 1;
        int r;

        r = es_ecr_batch_delete_image(context->ecr, options->registry_id, options->args[0],
                                      (const char *const *)&options->args[1], n_digests, err);
        if (r < 0)
                return r;
        return print_line(
            json_pack("{s:s, s:I}", "name", options->args[0], "deleted", (json_int_t)n_digests),
            err);
}

static int run_get_secret(struct context *context, struct es_error *err)
{
        const char *secret_id = context->options->args[0];
        unsigned char digest[EVP_MAX_MD_SIZE];
        char hex[2 * EVP_MAX_MD_SIZE + 1];
        unsigned int digest_len = 0;
        char *value = NULL;
        size_t len;
        int r;

        r = es_secrets_get_string(context->http, context->provider, context->region, secret_id,
                                  &value, err);
        if (r < 0)
                return r;
        len = strlen(value);
        if (EVP_Digest(value, len, digest, &digest_len, EVP_sha256(), NULL) != 1) {
                explicit_bzero(value, len);
                free(value);
                return es_error_set(err, ES_ERR_IO, "SHA-256 of the secret failed");
        }
        explicit_bzero(value, len);
        free(value);
        for (unsigned int i = 0; i < digest_len; i++)
                snprintf(hex + 2 * i, 3, "%02x", digest[i]);
        return print_line(json_pack("{s:s, s:I, s:s}", "secret_id", secret_id, "length",
                                    (json_int_t)len, "sha256", hex),
                          err);
}

static const struct command commands[] = {
    {"get-token", 0, 0, run_get_token},
    {"describe-repository", 1, 1, run_describe_repository},
    {"create-repository", 1, 1, run_create_repository},
    {"put-lifecycle-policy", 2, 2, run_put_lifecycle_policy},
    {"get-lifecycle-policy", 1, 1, run_get_lifecycle_policy},
    {"put-tag-mutability", 2, 2, run_put_tag_mutability},
    {"put-scanning", 2, 2, run_put_scanning},
    {"list-images", 1, 1, run_list_images},
    {"describe-images", 1, 1, run_describe_images},
    {"batch-delete", 2, SIZE_MAX, run_batch_delete},
    {"get-secret", 1, 1, run_get_secret},
};

static const struct command *find_command(const struct options *options)
{
        for (size_t i = 0; i < ES_ARRAY_SIZE(commands); i++) {
                const struct command *command = &commands[i];

                if (strcmp(command->name, options->command) != 0)
                        continue;
                if (options->n_args < command->min_args || options->n_args > command->max_args) {
                        fprintf(stderr, "ecr-api-tool: invalid number of arguments for %s\n",
                                command->name);
                        usage(NULL);
                }
                /* Checked here so that bad usage exits before any client exists. */
                if (command->run == run_put_scanning)
                        parse_bool(command->name, options->args[1]);
                return command;
        }
        fprintf(stderr, "ecr-api-tool: unknown command '%s'\n", options->command);
        usage(NULL);
        return NULL;
}

/* Create the HTTP client, the credential chain and the ECR client, then run the command. */
static int run(const struct options *options, const struct command *command, struct es_error *err)
{
        struct context context = {.options = options};
        _cleanup_free_ char *resolved_region = NULL;
        int r;

        context.region = options->region;
        if (context.region == NULL) {
                r = es_aws_region_resolve(NULL, &resolved_region, err);
                if (r < 0)
                        return es_error_prefix(err, "no --region given");
                context.region = resolved_region;
        }

        r = es_http_new(NULL, &context.http, err);
        if (r >= 0)
                r = es_aws_provider_new(context.http, NULL, &context.provider, err);
        if (r >= 0)
                r = es_ecr_new(context.http, context.provider, context.region, NULL, &context.ecr,
                               err);
        if (r >= 0)
                r = command->run(&context, err);

        es_ecr_free(context.ecr);
        es_aws_provider_free(context.provider);
        es_http_free(context.http);
        return r;
}

int main(int argc, char **argv)
{
        struct es_error err = ES_ERROR_INIT;
        const struct command *command;
        struct options options;
        int status = 0;

        parse_options(argc, argv, &options);
        command = find_command(&options);
        es_log_setup(options.verbose ? ES_LOG_DEBUG : ES_LOG_WARNING, ES_LOG_TEXT);

        if (run(&options, command, &err) < 0) {
                fprintf(stderr, "error: %s\n", es_error_message(&err));
                if (err.registry_code)
                        fprintf(stderr, "code: %s\n", err.registry_code);
                status = 1;
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "error: writing the result to stdout failed\n");
                status = 1;
        }
        es_error_release(&err);
        free(options.args);
        return status;
}
