/* SPDX-License-Identifier: Apache-2.0 */
/* ecr-sync: entry point, subcommand dispatch and the common options. */
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/opensslv.h>

#include "base/limits.h"
#include "base/log.h"
#include "cli/cli.h"
#include "config.h"

static enum es_log_level log_level = ES_LOG_INFO;
static enum es_log_format log_format = ES_LOG_TEXT;

static const char main_usage[] =
    "Usage: ecr-sync [OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "Keep copies of container images current in Amazon ECR or any OCI registry.\n"
    "\n"
    "Commands:\n"
    "  sync --config FILE keep the images listed in FILE current at the target\n"
    "  plan --config FILE show what sync would do, change nothing\n"
    "  copy SOURCE DEST   copy one image, byte for byte, between registries\n"
    "  version            print the version and the libraries in use\n"
    "\n"
    "Common options:\n"
    "  --log-format text|json  format of the log lines on stderr (default: text)\n"
    "  -v, --verbose           log debug detail too\n"
    "  -q, --quiet             log warnings and errors only\n"
    "  --help                  show help; 'ecr-sync COMMAND --help' for a command\n";

int es_cli_common_option(int opt, const char *arg)
{
        switch (opt) {
        case ES_OPT_LOG_FORMAT:
                if (strcmp(arg, "text") == 0) {
                        log_format = ES_LOG_TEXT;
                } else if (strcmp(arg, "json") == 0) {
                        log_format = ES_LOG_JSON;
                } else {
                        fprintf(stderr,
                                "ecr-sync: invalid --log-format '%s': expected 'text' or 'json'\n",
                                arg);
                        return -1;
                }
                break;
        case 'v':
                log_level = ES_LOG_DEBUG;
                break;
        case 'q':
                log_level = ES_LOG_WARNING;
                break;
        default:
                return 0;
        }
        es_log_setup(log_level, log_format);
        return 1;
}

int es_cli_unknown_option(const char *command, int opt, char **argv)
{
        /* A long option's own number in optopt: it was given without its value. */
        if (opt >= ES_OPT_LOG_FORMAT)
                return es_cli_usage_error(command, "option '%s' requires a value",
                                          argv[optind - 1]);
        if (opt != 0 && opt != '?')
                return es_cli_usage_error(command, "invalid option '-%c'", opt);
        return es_cli_usage_error(command, "invalid option '%s'", argv[optind - 1]);
}

int es_cli_usage_error(const char *command, const char *fmt, ...)
{
        va_list ap;

        fputs("ecr-sync: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nTry 'ecr-sync %s--help' for more information.\n",
                command ? command : "");
        return ES_EXIT_USAGE;
}

static int cmd_version(void)
{
        printf("ecr-sync %s\n", ES_VERSION);
        printf("libcurl %s, %s, jansson %s\n", curl_version_info(CURLVERSION_NOW)->version,
               OPENSSL_VERSION_TEXT, JANSSON_VERSION);
        return ES_EXIT_OK;
}

/* Exit at once on SIGINT and SIGTERM: nothing half-written becomes visible, because
 * blob uploads are committed and tags moved only after verification. */
static void on_signal(int signo)
{
        static const char message[] = "ecr-sync: interrupted\n";

        if (write(STDERR_FILENO, message, sizeof(message) - 1) < 0) {
                /* Nothing more to do while exiting. */
        }
        _exit(128 + signo);
}

/*
 * Each blob copy allocates a stream buffer and frees it when done. glibc
 * raises its mmap threshold after the first such free and from then on
 * keeps freed buffers in its per-thread arenas, so the peak stays resident
 * for the whole run. A fixed threshold hands them back at once, and two
 * arenas keep the small allocations of many threads from spreading out.
 */
static void setup_memory(void)
{
        mallopt(M_MMAP_THRESHOLD, ES_MMAP_THRESHOLD);
        mallopt(M_ARENA_MAX, ES_MALLOC_ARENAS);
}

static void setup_signals(void)
{
        struct sigaction action = {.sa_handler = on_signal};

        sigemptyset(&action.sa_mask);
        sigaction(SIGINT, &action, NULL);
        sigaction(SIGTERM, &action, NULL);
        signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
            ES_COMMON_LONG_OPTIONS,
            {"version", no_argument, NULL, 'V'},
            {NULL, 0, NULL, 0},
        };
        const char *command;
        int opt;

        setup_memory();
        setup_signals();
        es_log_setup(log_level, log_format);
        srandom((unsigned)getpid());

        /* '+': stop at the command name; its own options follow it. */
        opterr = 0;
        while ((opt = getopt_long(argc, argv, "+h" ES_COMMON_SHORT_OPTIONS, options, NULL)) != -1) {
                int handled;

                if (opt == ES_OPT_HELP || opt == 'h') {
                        fputs(main_usage, stdout);
                        return ES_EXIT_OK;
                }
                if (opt == 'V')
                        return cmd_version();
                if (opt == '?')
                        return es_cli_usage_error(NULL,
                                                  "invalid option '%s' (options of a command "
                                                  "go after its name)",
                                                  argv[optind - 1]);
                handled = es_cli_common_option(opt, optarg);
                if (handled < 0)
                        return ES_EXIT_USAGE;
        }
        if (optind >= argc)
                return es_cli_usage_error(NULL, "missing command");

        command = argv[optind];
        argc -= optind;
        argv += optind;
        optind = 0; /* reset getopt for the command's own parse */

        if (strcmp(command, "copy") == 0)
                return es_cli_copy(argc, argv);
        if (strcmp(command, "version") == 0) {
                if (argc > 1)
                        return es_cli_usage_error(NULL, "'version' takes no arguments");
                return cmd_version();
        }
        if (strcmp(command, "sync") == 0 || strcmp(command, "plan") == 0)
                return es_cli_sync(command, argc, argv);
        if (strcmp(command, "serve") == 0 || strcmp(command, "lambda") == 0)
                return es_cli_usage_error(NULL,
                                          "'%s' is not available in this version yet; see "
                                          "docs/limitations.md",
                                          command);
        if (strcmp(command, "help") == 0) {
                fputs(main_usage, stdout);
                return ES_EXIT_OK;
        }
        return es_cli_usage_error(NULL, "unknown command '%s'", command);
}
