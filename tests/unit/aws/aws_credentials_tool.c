/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aws-credentials-tool: resolve AWS credentials with the chain in
 * src/aws/credentials.c and print where they came from, for the end-to-end
 * tests in tests/e2e/test_aws_credentials.py. It prints the access key id,
 * whether a session token is present and the expiration, and never the
 * secret key or the token.
 *
 * Usage: aws-credentials-tool [--profile NAME] [--fetches N] [--interval SECONDS]
 *                             [--threads N] [--invalidate] [--no-fetch] [--region]
 *                             [--debug]
 *
 * Output on stdout:
 *   source: NAME
 *   fetch 1: access_key_id=AKID session_token=present expiration=2024-05-01T12:00:00Z
 * With --threads N, each fetch runs in N threads at once and prints
 * "fetch F.T: ..." per thread. --region prints "region: NAME" instead.
 *
 * Exit status: 0 on success, 2 for bad usage, 10 + the es_error_code on
 * failure, with "aws-credentials-tool: MESSAGE" on stderr.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/credentials.h"
#include "aws/source.h"
#include "base/alloc.h"
#include "base/log.h"
#include "http/http.h"

#define MAX_THREADS 64

struct options {
        const char *profile;
        int fetches;
        double interval;
        int threads;
        bool invalidate;
        bool no_fetch;
        bool region;
        bool debug;
};

struct worker {
        pthread_t thread;
        struct es_aws_provider *provider;
        struct es_aws_credentials credentials;
        struct es_error err;
        int r;
};

static void usage(void)
{
        fputs("usage: aws-credentials-tool [--profile NAME] [--fetches N] [--interval SECONDS]\n"
              "                            [--threads N] [--invalidate] [--no-fetch] [--region]\n"
              "                            [--debug]\n",
              stderr);
        exit(2);
}

static int fail(const struct es_error *err)
{
        fprintf(stderr, "aws-credentials-tool: %s\n", es_error_message(err));
        return 10 + (int)err->code;
}

static void parse_options(int argc, char **argv, struct options *options)
{
        *options = (struct options){.fetches = 1, .threads = 1};

        for (int i = 1; i < argc; i++) {
                const char *arg = argv[i];
                bool has_value = i + 1 < argc;

                if (strcmp(arg, "--profile") == 0 && has_value)
                        options->profile = argv[++i];
                else if (strcmp(arg, "--fetches") == 0 && has_value)
                        options->fetches = atoi(argv[++i]);
                else if (strcmp(arg, "--interval") == 0 && has_value)
                        options->interval = atof(argv[++i]);
                else if (strcmp(arg, "--threads") == 0 && has_value)
                        options->threads = atoi(argv[++i]);
                else if (strcmp(arg, "--invalidate") == 0)
                        options->invalidate = true;
                else if (strcmp(arg, "--no-fetch") == 0)
                        options->no_fetch = true;
                else if (strcmp(arg, "--region") == 0)
                        options->region = true;
                else if (strcmp(arg, "--debug") == 0)
                        options->debug = true;
                else
                        usage();
        }
        if (options->fetches < 1 || options->threads < 1 || options->threads > MAX_THREADS ||
            options->interval < 0)
                usage();
}

static void print_credentials(const char *label, const struct es_aws_credentials *credentials)
{
        char expiration[32] = "none";

        if (credentials->expiration != 0)
                es_aws_time_format(credentials->expiration, expiration, sizeof(expiration));
        printf("fetch %s: access_key_id=%s session_token=%s expiration=%s\n", label,
               credentials->access_key_id, credentials->session_token ? "present" : "absent",
               expiration);
}

static void *run_worker(void *arg)
{
        struct worker *worker = arg;

        worker->r = es_aws_provider_get(worker->provider, &worker->credentials, &worker->err);
        return NULL;
}

/* One fetch in options->threads threads at once. Returns 0 or an exit status. */
static int fetch_once(struct es_aws_provider *provider, const struct options *options, int fetch)
{
        struct worker workers[MAX_THREADS] = {0};
        int status = 0;

        for (int t = 0; t < options->threads; t++) {
                workers[t].provider = provider;
                if (options->threads == 1)
                        run_worker(&workers[t]);
                else if (pthread_create(&workers[t].thread, NULL, run_worker, &workers[t]) != 0)
                        abort();
        }
        for (int t = 0; t < options->threads; t++) {
                char label[32];

                if (options->threads > 1)
                        pthread_join(workers[t].thread, NULL);
                if (workers[t].r < 0) {
                        if (status == 0)
                                status = fail(&workers[t].err);
                } else {
                        if (options->threads > 1)
                                snprintf(label, sizeof(label), "%d.%d", fetch, t + 1);
                        else
                                snprintf(label, sizeof(label), "%d", fetch);
                        print_credentials(label, &workers[t].credentials);
                }
                es_aws_credentials_release(&workers[t].credentials);
                es_error_release(&workers[t].err);
        }
        fflush(stdout);
        return status;
}

int main(int argc, char **argv)
{
        struct es_error err = ES_ERROR_INIT;
        struct es_aws_provider *provider = NULL;
        struct es_http *http = NULL;
        struct options options;
        int status = 0;

        parse_options(argc, argv, &options);
        es_log_setup(options.debug ? ES_LOG_DEBUG : ES_LOG_INFO, ES_LOG_TEXT);

        if (options.region) {
                char *region = NULL;

                if (es_aws_region_resolve(options.profile, &region, &err) < 0) {
                        status = fail(&err);
                        goto done;
                }
                printf("region: %s\n", region);
                free(region);
                goto done;
        }

        if (es_http_new(NULL, &http, &err) < 0 ||
            es_aws_provider_new(http, options.profile, &provider, &err) < 0) {
                status = fail(&err);
                goto done;
        }
        printf("source: %s\n", es_aws_provider_source(provider));
        fflush(stdout);
        if (options.no_fetch)
                goto done;

        for (int fetch = 1; fetch <= options.fetches && status == 0; fetch++) {
                if (fetch > 1 && options.interval > 0) {
                        struct timespec pause = {
                            .tv_sec = (time_t)options.interval,
                            .tv_nsec =
                                (long)((options.interval - (double)(time_t)options.interval) * 1e9),
                        };

                        nanosleep(&pause, NULL);
                }
                if (fetch > 1 && options.invalidate)
                        es_aws_provider_invalidate(provider);
                status = fetch_once(provider, &options, fetch);
        }

done:
        es_aws_provider_free(provider);
        es_http_free(http);
        es_error_release(&err);
        return status;
}
