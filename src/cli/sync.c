/* SPDX-License-Identifier: Apache-2.0 */
/* ecr-sync sync and ecr-sync plan: keep the configured images current. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/parallel.h"
#include "cli/cli.h"
#include "sync/config.h"
#include "sync/credentials.h"
#include "sync/execute.h"
#include "sync/lock.h"
#include "sync/plan.h"
#include "sync/registries.h"
#include "sync/report.h"
#include "sync/settings.h"

#define DEFAULT_SYNC_JOBS 8
/* Blobs in parallel within one tag's copy; items run --jobs at a time. */
#define BLOB_JOBS_PER_ITEM 2

static const char sync_usage[] =
    "Usage: ecr-sync sync --config FILE [OPTIONS]\n"
    "       ecr-sync plan --config FILE [--format text|json] [--jobs N]\n"
    "\n"
    "Keep the images listed in FILE current at the target: list tags on both\n"
    "sides, apply the tag and platform filters, compare digests with HEAD\n"
    "requests (which Docker Hub does not count as pulls), and copy what is\n"
    "missing or changed. 'plan' and 'sync --dry-run' only show what would be done.\n"
    "\n"
    "Options:\n"
    "  --config FILE        the configuration (YAML; see docs/configuration.md)\n"
    "  --dry-run            show the plan, change nothing\n"
    "  --format text|json   how the plan is shown (default: text)\n"
    "  --jobs N             requests while planning, and tags copied, in parallel\n"
    "                       (default 8, max 64)\n"
    "  --report FILE        write a JSON report of the run to FILE\n"
    "  --deadline DURATION  start no copy after DURATION (e.g. 45m, 1h30m, 300s);\n"
    "                       what is left is deferred to the next run\n"
    "  --log-format text|json, -v/--verbose, -q/--quiet, --help\n"
    "\n"
    "Exit status: 0 everything in scope is in sync; 1 some images or tags failed\n"
    "(the rest were synced); 2 invalid usage or configuration (nothing changed);\n"
    "3 work was deferred (rate-limit reserve or deadline) and nothing failed;\n"
    "130 or 143 after SIGINT or SIGTERM.\n";

enum {
        OPT_CONFIG = ES_OPT_FIRST_LOCAL,
        OPT_DRY_RUN,
        OPT_FORMAT,
        OPT_JOBS,
        OPT_REPORT,
        OPT_DEADLINE,
};

struct sync_args {
        const char *command; /* "sync" or "plan" */
        const char *config;
        bool dry_run;
        bool json;
        int jobs;
        const char *report;
        double deadline;
};

static volatile sig_atomic_t stop_signal;

static void on_stop(int signo)
{
        static const char message[] = "ecr-sync: stopping after the copies in progress; "
                                      "signal again to stop at once\n";

        if (stop_signal) {
                _exit(128 + signo);
        }
        stop_signal = signo;
        if (write(STDERR_FILENO, message, sizeof(message) - 1) < 0) {
                /* Nothing more to do in a signal handler. */
        }
}

/* Parse "90s", "45m", "1h30m", "2h": a sum of NUMBER UNIT pairs, units s, m, h. */
static int parse_duration(const char *text, double *out)
{
        const char *p = text;
        double total = 0;

        if (*p == '\0')
                return -1;
        while (*p) {
                char *end;
                long value;

                errno = 0;
                value = strtol(p, &end, 10);
                if (errno || end == p || value < 0)
                        return -1;
                switch (*end) {
                case 's':
                        total += (double)value;
                        break;
                case 'm':
                        total += (double)value * 60;
                        break;
                case 'h':
                        total += (double)value * 3600;
                        break;
                default:
                        return -1;
                }
                p = end + 1;
        }
        if (total <= 0)
                return -1;
        *out = total;
        return 0;
}

static int parse_args(int argc, char **argv, struct sync_args *args)
{
        static const struct option options[] = {
            {"config", required_argument, NULL, OPT_CONFIG},
            {"dry-run", no_argument, NULL, OPT_DRY_RUN},
            {"format", required_argument, NULL, OPT_FORMAT},
            {"jobs", required_argument, NULL, OPT_JOBS},
            {"report", required_argument, NULL, OPT_REPORT},
            {"deadline", required_argument, NULL, OPT_DEADLINE},
            ES_COMMON_LONG_OPTIONS,
            {NULL, 0, NULL, 0},
        };
        bool plan = strcmp(args->command, "plan") == 0;
        _cleanup_free_ char *prefix = es_asprintf("%s ", args->command);
        int opt, handled;

        args->jobs = DEFAULT_SYNC_JOBS;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, "h" ES_COMMON_SHORT_OPTIONS, options, NULL)) != -1) {
                char *end;
                long value;

                switch (opt) {
                case OPT_CONFIG:
                        args->config = optarg;
                        break;
                case OPT_DRY_RUN:
                case OPT_JOBS:
                case OPT_REPORT:
                case OPT_DEADLINE:
                        if (plan && opt != OPT_JOBS)
                                return es_cli_usage_error(prefix,
                                                          "'%s' is an option of 'sync', "
                                                          "not of 'plan'",
                                                          argv[optind - (optarg ? 2 : 1)]);
                        if (opt == OPT_DRY_RUN) {
                                args->dry_run = true;
                        } else if (opt == OPT_REPORT) {
                                args->report = optarg;
                        } else if (opt == OPT_DEADLINE) {
                                if (parse_duration(optarg, &args->deadline) < 0)
                                        return es_cli_usage_error(
                                            prefix,
                                            "invalid --deadline '%s': expected a "
                                            "duration such as 45m, 1h30m or 300s",
                                            optarg);
                        } else {
                                errno = 0;
                                value = strtol(optarg, &end, 10);
                                if (errno || end == optarg || *end || value < 1 ||
                                    value > ES_MAX_JOBS)
                                        return es_cli_usage_error(
                                            prefix,
                                            "invalid --jobs '%s': expected a whole "
                                            "number from 1 to %d",
                                            optarg, ES_MAX_JOBS);
                                args->jobs = (int)value;
                        }
                        break;
                case OPT_FORMAT:
                        if (strcmp(optarg, "text") != 0 && strcmp(optarg, "json") != 0)
                                return es_cli_usage_error(prefix,
                                                          "invalid --format '%s': expected "
                                                          "'text' or 'json'",
                                                          optarg);
                        args->json = strcmp(optarg, "json") == 0;
                        break;
                case ES_OPT_HELP:
                case 'h':
                        fputs(sync_usage, stdout);
                        exit(ES_EXIT_OK);
                case '?':
                        return es_cli_unknown_option(prefix, optopt, argv);
                default:
                        handled = es_cli_common_option(opt, optarg);
                        if (handled <= 0)
                                return ES_EXIT_USAGE;
                }
        }
        if (optind < argc)
                return es_cli_usage_error(prefix, "unexpected argument '%s'", argv[optind]);
        if (args->config == NULL)
                return es_cli_usage_error(prefix, "missing --config FILE");
        if (plan)
                args->dry_run = true;
        return 0;
}

static void log_item(const struct es_plan_item *item, void *ctx)
{
        double mib = (double)item->stats.bytes / (1024.0 * 1024.0);
        unsigned blobs =
            item->stats.blobs_copied + item->stats.blobs_mounted + item->stats.blobs_skipped;

        switch (item->action) {
        case ES_SYNC_COPY:
        case ES_SYNC_UPDATE:
                /* No blob was checked: the image was at the target and only the tag was pushed. */
                if (blobs == 0) {
                        es_log_info("%s %s -> %s: image already at the target, tag pushed in "
                                    "%.1f s",
                                    item->action == ES_SYNC_COPY ? "copied" : "updated",
                                    item->source, item->target, item->seconds);
                        break;
                }
                es_log_info("%s %s -> %s: %u blobs copied, %u mounted, %u present, %.1f MiB in "
                            "%.1f s",
                            item->action == ES_SYNC_COPY ? "copied" : "updated", item->source,
                            item->target, item->stats.blobs_copied, item->stats.blobs_mounted,
                            item->stats.blobs_skipped, mib, item->seconds);
                break;
        case ES_SYNC_DEFERRED:
                es_log_warning("deferred %s: %s", item->source, item->reason);
                break;
        default:
                es_log_error("failed %s -> %s: %s", item->source, item->target,
                             item->error ? item->error : "unknown error");
                break;
        }
}

/* Create repositories and apply settings; an image whose repository fails is marked failed. */
/* One image's repository preparation, run on the --jobs threads. */
struct preparation {
        struct es_repository_outcome outcome;
        struct es_error err;
        int r;
};

struct preparations {
        const struct es_sync_config *config;
        struct es_registries *registries;
        struct es_plan *plan;
        struct preparation *each; /* one per image */
};

static void prepare_one(size_t index, void *ctx)
{
        struct preparations *all = ctx;
        struct es_plan_image *image = &all->plan->images[index];
        struct preparation *preparation = &all->each[index];

        if (image->error)
                return;
        preparation->r = es_repository_prepare(all->registries, all->config, image->target.registry,
                                               image->target.repository, &preparation->outcome,
                                               &preparation->err);
}

static void fail_image(struct es_plan *plan, size_t index, const char *message)
{
        plan->images[index].error = es_strdup(message);
        es_log_error("%s", message);
        for (size_t j = 0; j < plan->n_items; j++) {
                struct es_plan_item *item = &plan->items[j];

                if (item->image != index ||
                    (item->action != ES_SYNC_COPY && item->action != ES_SYNC_UPDATE))
                        continue;
                item->action = ES_SYNC_FAILED;
                item->error = es_strdup(message);
        }
}

/* Create or check every target repository, jobs at a time, then report in image order. */
static void prepare_repositories(const struct es_sync_config *config,
                                 struct es_registries *registries, struct es_plan *plan, int jobs)
{
        struct preparations all = {
            .config = config,
            .registries = registries,
            .plan = plan,
            .each = es_calloc(plan->n_images + 1, sizeof(*all.each)),
        };

        es_parallel_for(plan->n_images, jobs, prepare_one, &all);
        for (size_t i = 0; i < plan->n_images; i++) {
                struct preparation *preparation = &all.each[i];
                const char *repository = plan->images[i].target.repository;

                if (preparation->r < 0)
                        fail_image(plan, i, es_error_message(&preparation->err));
                if (preparation->outcome.created)
                        es_log_info("created ECR repository '%s'", repository);
                if (preparation->outcome.changed)
                        es_log_info("updated %u setting%s of ECR repository '%s'",
                                    preparation->outcome.changed,
                                    preparation->outcome.changed == 1 ? "" : "s", repository);
                if (preparation->outcome.warning)
                        es_log_warning("%s", preparation->outcome.warning);
                es_repository_outcome_release(&preparation->outcome);
                es_error_release(&preparation->err);
        }
        free(all.each);
}

/* Exit status: 2, 1, 3 in that order of precedence, then 0. */
static int exit_status(const struct es_plan *plan)
{
        struct es_plan_counts counts;

        es_plan_count(plan, &counts);
        if (counts.images_failed || counts.actions[ES_SYNC_FAILED])
                return ES_EXIT_FAILED;
        if (counts.actions[ES_SYNC_DEFERRED])
                return ES_EXIT_DEFERRED;
        return ES_EXIT_OK;
}

static double seconds_since(const struct timespec *start)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Registry names, and pairs of registry and CA file, from the configuration. */
static void registry_options(const struct es_sync_config *config,
                             struct es_registries_options *options, const char ***insecure,
                             const char ***ca_files)
{
        *insecure = es_calloc(config->n_registries + 1, sizeof(**insecure));
        *ca_files = es_calloc(2 * config->n_registries + 1, sizeof(**ca_files));
        for (size_t i = 0; i < config->n_registries; i++) {
                const struct es_sync_registry *registry = &config->registries[i];

                if (registry->insecure)
                        (*insecure)[options->n_insecure++] = registry->host;
                if (registry->ca_file) {
                        (*ca_files)[options->n_ca_files++] = registry->host;
                        (*ca_files)[options->n_ca_files++] = registry->ca_file;
                }
        }
        options->insecure = *insecure;
        options->ca_files = *ca_files;
        options->retry = config->retry;
        options->ca_file = getenv("SSL_CERT_FILE");
}

static int run_sync(const struct sync_args *args, const struct es_sync_config *config)
{
        struct es_registries_options options = {0};
        struct es_execute_options execute = {
            .jobs = args->jobs,
            .blob_jobs = BLOB_JOBS_PER_ITEM,
            .deadline = args->deadline,
            .stop = &stop_signal,
            .on_item = log_item,
        };
        struct es_config_credentials *credentials = NULL;
        _cleanup_free_ const char **insecure = NULL, **ca_files = NULL;
        struct es_error err = ES_ERROR_INIT;
        struct es_registries registries;
        struct es_plan plan = {0};
        struct timespec start;
        int status;

        clock_gettime(CLOCK_MONOTONIC, &start);
        registry_options(config, &options, &insecure, &ca_files);
        if (es_registries_init(&registries, &options, &err) < 0) {
                es_log_error("%s", es_error_message(&err));
                es_error_release(&err);
                return ES_EXIT_USAGE;
        }
        credentials = es_config_credentials_new(config, &registries.docker, &registries);
        options.credentials = es_config_credentials_provider(credentials);

        if (es_plan_build(config, &registries, args->jobs, &plan, &err) < 0) {
                es_log_error("%s", es_error_message(&err));
                status = ES_EXIT_FAILED;
                goto done;
        }

        for (size_t i = 0; i < plan.n_images; i++)
                if (plan.images[i].error)
                        es_log_error("image '%s' -> '%s': %s",
                                     plan.images[i].config->source.repository,
                                     plan.images[i].target.repository, plan.images[i].error);

        if (args->dry_run) {
                if (args->json)
                        es_report_plan_json(stdout, &plan);
                else
                        es_report_plan_text(stdout, &plan);
        } else {
                for (size_t i = 0; i < plan.n_images; i++)
                        if (plan.images[i].warn_many_tags)
                                es_log_warning("%s has no tag filter: all %zu tags are synced",
                                               plan.images[i].target.repository,
                                               plan.images[i].n_source_tags);
                prepare_repositories(config, &registries, &plan, args->jobs);
                es_execute_plan(config, &registries, &plan, &execute, &err);
        }
        if (args->report && es_report_write(args->report, &plan, seconds_since(&start), &err) < 0)
                es_log_error("%s", es_error_message(&err));
        if (!args->dry_run || !args->json)
                es_report_summary(args->dry_run ? stderr : stdout, &plan, seconds_since(&start),
                                  args->dry_run);
        status = exit_status(&plan);
        if (stop_signal)
                status = 128 + stop_signal;
done:
        es_plan_release(&plan);
        es_registries_release(&registries);
        es_config_credentials_free(credentials);
        es_error_release(&err);
        fflush(stdout);
        return status;
}

int es_cli_sync(const char *command, int argc, char **argv)
{
        struct sync_args args = {.command = command};
        struct es_sync_config *config = NULL;
        struct es_error err = ES_ERROR_INIT;
        struct sigaction action = {.sa_handler = on_stop};
        struct es_sync_lock lock = {.fd = -1};
        int status;

        status = parse_args(argc, argv, &args);
        if (status != 0)
                return status;

        if (es_sync_config_load(args.config, &config, &err) < 0 ||
            (args.report && es_report_check_path(args.report, &err) < 0)) {
                fprintf(stderr, "ecr-sync: %s\n", es_error_message(&err));
                es_error_release(&err);
                es_sync_config_free(config);
                return ES_EXIT_USAGE;
        }

        sigemptyset(&action.sa_mask);
        sigaction(SIGINT, &action, NULL);
        sigaction(SIGTERM, &action, NULL);

        /* A plan changes nothing, so it needs no lock. */
        if (!args.dry_run) {
                bool busy = false;

                if (es_sync_lock_take(args.config, &lock, &busy, &err) < 0) {
                        es_log_error("%s", es_error_message(&err));
                        es_error_release(&err);
                        es_sync_config_free(config);
                        return ES_EXIT_FAILED;
                }
                if (busy) {
                        es_log_warning("another sync of '%s' is running (lock '%s'); this run "
                                       "does nothing and leaves the work to it",
                                       args.config, lock.path);
                        es_sync_lock_release(&lock);
                        es_sync_config_free(config);
                        return ES_EXIT_DEFERRED;
                }
        }

        status = run_sync(&args, config);
        es_sync_lock_release(&lock);
        es_sync_config_free(config);
        return status;
}
