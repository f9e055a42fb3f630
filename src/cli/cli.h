/* SPDX-License-Identifier: Apache-2.0 */
/* Shared pieces of the command-line interface: exit statuses, common options. */
#ifndef ES_CLI_CLI_H
#define ES_CLI_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "base/error.h"

/* Exit statuses; when several apply, the first in the order 2, 1, 3 wins. */
enum es_exit {
        ES_EXIT_OK = 0,
        ES_EXIT_FAILED = 1,   /* some work failed; the rest was done */
        ES_EXIT_USAGE = 2,    /* invalid usage or configuration; nothing was changed */
        ES_EXIT_DEFERRED = 3, /* work was deferred (rate-limit reserve or deadline) */
};

/* Option values shared by every subcommand, above the subcommands' own. */
enum {
        ES_OPT_LOG_FORMAT = 0x1000, /* the first: every long-only option is numbered from it */
        ES_OPT_HELP,
        ES_OPT_FIRST_LOCAL, /* subcommands number their long-only options from here */
};

/* The common options, for inclusion in a subcommand's getopt_long table. */
#define ES_COMMON_LONG_OPTIONS                                                                     \
        {"log-format", required_argument, NULL, ES_OPT_LOG_FORMAT},                                \
            {"verbose", no_argument, NULL, 'v'}, {"quiet", no_argument, NULL, 'q'},                \
        {                                                                                          \
                "help", no_argument, NULL, ES_OPT_HELP                                             \
        }

#define ES_COMMON_SHORT_OPTIONS "vq"

/*
 * Handle one common option. Returns 1 when handled, 0 when opt is not a
 * common option, or -1 after printing an error for a bad value.
 */
int es_cli_common_option(int opt, const char *arg);

/* Print "ecr-sync: MESSAGE" and a pointer to --help for a usage error; returns ES_EXIT_USAGE. */
int es_cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Report an option getopt_long did not recognise (opterr is off); returns ES_EXIT_USAGE. */
int es_cli_unknown_option(const char *command, int opt, char **argv);

/* True for HOST or HOST:PORT as a reference writes it: a name, IPv4 or [IPv6]; port 1-65535. */
bool es_cli_registry_host_is_valid(const char *text);

/*
 * Check that path (named by what, e.g. "--ca-file") is a readable file with
 * at least one PEM certificate; print a usage error and return
 * ES_EXIT_USAGE otherwise.
 */
int es_cli_check_ca_file(const char *what, const char *path);

int es_cli_copy(int argc, char **argv);

/* "sync" and "plan"; command is argv[0]'s name. */
int es_cli_sync(const char *command, int argc, char **argv);

#endif
