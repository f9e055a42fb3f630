/* SPDX-License-Identifier: Apache-2.0 */
/* ecr-sync copy: copy one image between registries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/limits.h"
#include "base/log.h"
#include "cli/cli.h"
#include "copy/copy.h"
#include "copy/platform.h"
#include "sync/registries.h"
#include "registry/client.h"
#include "registry/reference.h"

#define DEFAULT_JOBS 4

static const char copy_usage[] =
    "Usage: ecr-sync copy [OPTIONS] SOURCE DEST\n"
    "\n"
    "Copy the image SOURCE to DEST, registry to registry, byte for byte: the\n"
    "digest at DEST equals the digest at SOURCE. Multi-arch indexes are copied\n"
    "whole, with their attestation manifests. References follow Docker's\n"
    "conventions: 'nginx' is docker.io/library/nginx:latest. When DEST names a\n"
    "repository without tag or digest, the source's tag (or digest) is used.\n"
    "\n"
    "Options:\n"
    "  --jobs N                   blobs transferred in parallel (default 4, max 64)\n"
    "  --include-foreign-layers   also copy foreign and non-distributable layers\n"
    "  --no-create-repository     fail when the ECR repository is missing instead of\n"
    "                             creating it (for repositories managed elsewhere)\n"
    "  --insecure-registry HOST   allow plain HTTP and unverified TLS for HOST[:PORT]\n"
    "                             (repeatable; loopback registries fall back to\n"
    "                             plain HTTP without it)\n"
    "  --ca-file FILE             trust the CA certificates in FILE (PEM); default:\n"
    "                             SSL_CERT_FILE, else the system's CAs\n"
    "  --retries N                tries per request on network errors, 5xx and 429\n"
    "                             (default 4, within 120 s; 1 turns retries off)\n"
    "  --platform OS/ARCH[/VARIANT]  copy only this platform of a multi-arch index\n"
    "                             (repeatable); the target gets a new index listing\n"
    "                             the selected platforms and their attestations\n"
    "  --log-format text|json, -v/--verbose, -q/--quiet, --help\n"
    "\n"
    "Registry credentials come from Docker's config.json ($DOCKER_CONFIG or\n"
    "~/.docker), including its credential helpers. An ECR registry\n"
    "(ACCOUNT.dkr.ecr.REGION.amazonaws.com) needs no set-up: ecr-sync gets a\n"
    "registry token with the standard AWS credentials and creates the\n"
    "repository when it is missing.\n"
    "Exit status: 0 copied (or already there), 1 the copy failed, 2 invalid usage,\n"
    "130 or 143 after SIGINT or SIGTERM.\n";

enum {
        OPT_JOBS = ES_OPT_FIRST_LOCAL,
        OPT_INCLUDE_FOREIGN,
        OPT_INSECURE,
        OPT_CA_FILE,
        OPT_PLATFORM,
        OPT_NO_CREATE_REPOSITORY,
        OPT_RETRIES,
};

struct copy_args {
        int jobs;
        bool include_foreign;
        bool create_repository;
        const char **insecure; /* points into argv */
        size_t n_insecure;
        const char *ca_file;
        const char *source;
        const char *dest;
        struct es_platform_spec *platforms; /* owned */
        size_t n_platforms;
        int retries; /* tries per request; 0: the default */
};

static int parse_jobs(const char *text, int *out)
{
        char *end;
        long value;

        errno = 0;
        value = strtol(text, &end, 10);
        if (errno || end == text || *end != '\0' || value < 1 || value > ES_MAX_JOBS)
                return es_cli_usage_error(
                    "copy ", "invalid --jobs '%s': expected a whole number from 1 to %d", text,
                    ES_MAX_JOBS);
        *out = (int)value;
        return 0;
}

static int parse_args(int argc, char **argv, struct copy_args *args)
{
        static const struct option options[] = {
            {"jobs", required_argument, NULL, OPT_JOBS},
            {"include-foreign-layers", no_argument, NULL, OPT_INCLUDE_FOREIGN},
            {"insecure-registry", required_argument, NULL, OPT_INSECURE},
            {"ca-file", required_argument, NULL, OPT_CA_FILE},
            {"platform", required_argument, NULL, OPT_PLATFORM},
            {"no-create-repository", no_argument, NULL, OPT_NO_CREATE_REPOSITORY},
            {"retries", required_argument, NULL, OPT_RETRIES},
            ES_COMMON_LONG_OPTIONS,
            {NULL, 0, NULL, 0},
        };
        int opt, handled;

        args->jobs = DEFAULT_JOBS;
        args->create_repository = true;
        args->insecure = es_calloc((size_t)argc, sizeof(*args->insecure));
        args->platforms = es_calloc((size_t)argc, sizeof(*args->platforms));
        opterr = 0;
        while ((opt = getopt_long(argc, argv, "h" ES_COMMON_SHORT_OPTIONS, options, NULL)) != -1) {
                switch (opt) {
                case OPT_JOBS:
                        if (parse_jobs(optarg, &args->jobs) != 0)
                                return ES_EXIT_USAGE;
                        break;
                case OPT_INCLUDE_FOREIGN:
                        args->include_foreign = true;
                        break;
                case OPT_RETRIES: {
                        char *end;
                        long value;

                        errno = 0;
                        value = strtol(optarg, &end, 10);
                        if (errno || end == optarg || *end || value < 1 ||
                            value > ES_RETRY_MAX_ATTEMPTS)
                                return es_cli_usage_error(
                                    "copy ",
                                    "invalid --retries '%s': expected a whole number "
                                    "from 1 to %d",
                                    optarg, ES_RETRY_MAX_ATTEMPTS);
                        args->retries = (int)value;
                        break;
                }
                case OPT_NO_CREATE_REPOSITORY:
                        args->create_repository = false;
                        break;
                case OPT_INSECURE:
                        if (!es_cli_registry_host_is_valid(optarg))
                                return es_cli_usage_error(
                                    "copy ",
                                    "invalid --insecure-registry '%s': expected "
                                    "HOST or HOST:PORT as in the image reference, "
                                    "without a scheme or path",
                                    optarg);
                        args->insecure[args->n_insecure++] = optarg;
                        break;
                case OPT_CA_FILE:
                        if (es_cli_check_ca_file("--ca-file", optarg) != 0)
                                return ES_EXIT_USAGE;
                        args->ca_file = optarg;
                        break;
                case OPT_PLATFORM: {
                        struct es_error err = ES_ERROR_INIT;

                        if (es_platform_spec_parse(optarg, &args->platforms[args->n_platforms],
                                                   &err) < 0) {
                                es_cli_usage_error("copy ", "--platform: %s",
                                                   es_error_message(&err));
                                es_error_release(&err);
                                return ES_EXIT_USAGE;
                        }
                        args->n_platforms++;
                        break;
                }
                case ES_OPT_HELP:
                case 'h':
                        fputs(copy_usage, stdout);
                        exit(ES_EXIT_OK);
                case '?':
                        return es_cli_unknown_option("copy ", optopt, argv);
                default:
                        handled = es_cli_common_option(opt, optarg);
                        if (handled <= 0)
                                return ES_EXIT_USAGE;
                }
        }
        if (argc - optind != 2)
                return es_cli_usage_error("copy ", "expected SOURCE and DEST, got %d argument%s",
                                          argc - optind, argc - optind == 1 ? "" : "s");
        args->source = argv[optind];
        args->dest = argv[optind + 1];
        if (args->ca_file == NULL && getenv("SSL_CERT_FILE") && *getenv("SSL_CERT_FILE") &&
            es_cli_check_ca_file("SSL_CERT_FILE", getenv("SSL_CERT_FILE")) != 0)
                return ES_EXIT_USAGE;
        return 0;
}

/* DEST without tag or digest takes the source's. */
static int parse_dest(const char *text, const struct es_reference *source, struct es_reference *out,
                      struct es_error *err)
{
        struct es_error ignored = ES_ERROR_INIT;

        if (es_reference_parse_repository(text, out, &ignored) >= 0) {
                es_error_release(&ignored);
                if (source->tag)
                        out->tag = es_strdup(source->tag);
                else
                        out->digest = es_strdup(source->digest);
                return 0;
        }
        es_error_release(&ignored);
        return es_reference_parse(text, out, err);
}

static void format_size(int64_t bytes, char *out, size_t size)
{
        if (bytes >= 1024 * 1024)
                snprintf(out, size, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
        else if (bytes >= 1024)
                snprintf(out, size, "%.1f KiB", (double)bytes / 1024.0);
        else
                snprintf(out, size, "%lld B", (long long)bytes);
}

static void log_event(const struct es_copy_event *event, void *ctx)
{
        char size[32];

        format_size(event->size, size, sizeof(size));
        switch (event->type) {
        case ES_COPY_BLOB_COPIED:
                es_log_info("copied blob %s (%s)", event->digest, size);
                break;
        case ES_COPY_BLOB_MOUNTED:
                es_log_info("mounted blob %s (%s)", event->digest, size);
                break;
        case ES_COPY_BLOB_EXISTS:
                es_log_info("skipped blob %s (%s): already at the target", event->digest, size);
                break;
        case ES_COPY_BLOB_FOREIGN:
                es_log_info("skipped foreign layer %s (%s): pass --include-foreign-layers to "
                            "copy it",
                            event->digest, size);
                break;
        case ES_COPY_MANIFEST_PUSHED:
                if (event->reference && strcmp(event->reference, event->digest) != 0)
                        es_log_info("pushed manifest %s as '%s' (%s)", event->digest,
                                    event->reference, event->media_type);
                else
                        es_log_info("pushed manifest %s (%s)", event->digest, event->media_type);
                break;
        case ES_COPY_MANIFEST_EXISTS:
                es_log_info("skipped manifest %s: already at the target", event->digest);
                break;
        case ES_COPY_RETRY:
                es_log_warning("blob %s: %s; retrying", event->digest, event->message);
                break;
        }
}

static double elapsed_since(const struct timespec *start)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static int run_copy(const struct copy_args *args, const struct es_reference *source,
                    const struct es_reference *target, struct es_error *err)
{
        struct es_registries_options registries_options = {
            .ca_file = args->ca_file ? args->ca_file : getenv("SSL_CERT_FILE"),
            .insecure = args->insecure,
            .n_insecure = args->n_insecure,
            .retry = {.attempts = args->retries},
        };
        struct es_copy_options options = {
            .jobs = args->jobs,
            .include_foreign_layers = args->include_foreign,
            .on_event = log_event,
            .platforms = args->platforms,
            .n_platforms = args->n_platforms,
        };
        _cleanup_free_ char *source_text = es_reference_format(source);
        _cleanup_free_ char *target_text = es_reference_format(target);
        struct es_registry *src = NULL, *dst = NULL;
        struct es_registries registries;
        struct es_copy_stats stats;
        struct timespec start;
        bool created = false;
        int r;

        clock_gettime(CLOCK_MONOTONIC, &start);
        r = es_registries_init(&registries, &registries_options, err);
        if (r < 0)
                return ES_EXIT_USAGE;

        es_log_info("copying %s to %s", source_text, target_text);
        if ((r = es_registries_open(&registries, source, false, &src, err)) < 0 ||
            (r = es_registries_open(&registries, target, true, &dst, err)) < 0 ||
            (r = es_registries_ensure_repository(&registries, target, args->create_repository,
                                                 &created, err)) < 0)
                goto done;
        if (created)
                es_log_info("created ECR repository '%s'", target->repository);

        r = es_copy_image(src, source, dst, target, &options, &stats, err);
        if (r < 0)
                goto done;
        if (stats.up_to_date)
                es_log_info("%s already has %s", target_text, stats.digest);

        if (stats.source_digest[0])
                es_log_info("the target index lists %zu selected platform%s; upstream %s",
                            args->n_platforms, args->n_platforms == 1 ? "" : "s",
                            stats.source_digest);
        printf("copied %s -> %s digest=%s manifests_pushed=%u manifests_skipped=%u "
               "blobs_copied=%u blobs_mounted=%u blobs_skipped=%u blobs_foreign=%u bytes=%llu "
               "seconds=%.2f\n",
               source_text, target_text, stats.digest, stats.manifests_pushed,
               stats.manifests_skipped, stats.blobs_copied, stats.blobs_mounted,
               stats.blobs_skipped, stats.blobs_foreign, (unsigned long long)stats.bytes,
               elapsed_since(&start));
        fflush(stdout);
done:
        if (r < 0)
                es_error_prefix(err, "copy '%s' to '%s'", source_text, target_text);
        es_registry_free(src);
        es_registry_free(dst);
        es_registries_release(&registries);
        return r < 0 ? ES_EXIT_FAILED : ES_EXIT_OK;
}

int es_cli_copy(int argc, char **argv)
{
        struct copy_args args = {0};
        struct es_reference source = {0}, target = {0};
        struct es_error err = ES_ERROR_INIT;
        int status;

        status = parse_args(argc, argv, &args);
        if (status != 0)
                goto done;

        if (strstr(args.source, "://") || strstr(args.dest, "://")) {
                status = es_cli_usage_error("copy ",
                                            "invalid reference '%s': drop the scheme; write "
                                            "HOST/REPOSITORY:TAG, such as ghcr.io/org/tool:1",
                                            strstr(args.source, "://") ? args.source : args.dest);
                goto done;
        }
        if (es_reference_parse(args.source, &source, &err) < 0 ||
            parse_dest(args.dest, &source, &target, &err) < 0) {
                status = es_cli_usage_error("copy ", "%s", es_error_message(&err));
                goto done;
        }

        if (source.tag && source.digest)
                es_log_warning("'%s' names a tag and a digest: the digest is copied, whatever "
                               "the tag points at now",
                               args.source);
        status = run_copy(&args, &source, &target, &err);
        if (status != ES_EXIT_OK)
                es_log_error("%s", es_error_message(&err));
done:
        es_reference_release(&source);
        es_reference_release(&target);
        es_error_release(&err);
        free(args.insecure);
        for (size_t i = 0; i < args.n_platforms; i++)
                es_platform_spec_release(&args.platforms[i]);
        free(args.platforms);
        return status;
}
