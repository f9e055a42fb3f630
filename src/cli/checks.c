/* SPDX-License-Identifier: Apache-2.0 */
/* Checks of option values shared by the subcommands. */
#include <errno.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

static bool is_name_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.';
}

bool es_cli_registry_host_is_valid(const char *text)
{
        const char *p = text, *port;
        char *end;
        long number;

        if (*p == '[') {
                p++;
                while (*p && *p != ']' && (strchr("0123456789abcdefABCDEF:.", *p) != NULL))
                        p++;
                if (*p != ']' || p == text + 1)
                        return false;
                p++;
        } else {
                if (!is_name_char(*p) || *p == '-' || *p == '.')
                        return false;
                while (is_name_char(*p))
                        p++;
        }
        if (*p == '\0')
                return true;
        if (*p != ':')
                return false;

        port = p + 1;
        if (*port < '0' || *port > '9')
                return false;
        errno = 0;
        number = strtol(port, &end, 10);
        return errno == 0 && *end == '\0' && number >= 1 && number <= 65535;
}

int es_cli_check_ca_file(const char *what, const char *path)
{
        struct stat st;
        X509 *certificate;
        FILE *file;

        if (stat(path, &st) != 0)
                return es_cli_usage_error("copy ", "cannot read %s '%s': %s", what, path,
                                          strerror(errno));
        if (!S_ISREG(st.st_mode))
                return es_cli_usage_error("copy ", "%s '%s' is not a file", what, path);
        file = fopen(path, "r");
        if (file == NULL)
                return es_cli_usage_error("copy ", "cannot read %s '%s': %s", what, path,
                                          strerror(errno));
        certificate = PEM_read_X509(file, NULL, NULL, NULL);
        fclose(file);
        if (certificate == NULL)
                return es_cli_usage_error("copy ",
                                          "%s '%s' holds no PEM certificate; give a CA bundle "
                                          "with '-----BEGIN CERTIFICATE-----' blocks",
                                          what, path);
        X509_free(certificate);
        return 0;
}
