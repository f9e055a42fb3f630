/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the credential sources. */
#include "aws/source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"

/* Read exactly count decimal digits. */
static bool read_digits(const char **p, int count, int *out)
{
        int value = 0;

        for (int i = 0; i < count; i++) {
                if ((*p)[i] < '0' || (*p)[i] > '9')
                        return false;
                value = value * 10 + ((*p)[i] - '0');
        }
        *p += count;
        *out = value;
        return true;
}

static bool expect_char(const char **p, char c)
{
        if (**p != c)
                return false;
        (*p)++;
        return true;
}

int es_aws_time_parse(const char *text, time_t *out)
{
        static const int days_in_month[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        const char *p = text;
        int year, month, day, hour, minute, second, offset = 0;
        struct tm tm = {0};
        time_t t;

        if (!read_digits(&p, 4, &year) || !expect_char(&p, '-') || !read_digits(&p, 2, &month) ||
            !expect_char(&p, '-') || !read_digits(&p, 2, &day))
                return -ES_ERR_INVALID;
        if (*p != 'T' && *p != 't' && *p != ' ')
                return -ES_ERR_INVALID;
        p++;
        if (!read_digits(&p, 2, &hour) || !expect_char(&p, ':') || !read_digits(&p, 2, &minute) ||
            !expect_char(&p, ':') || !read_digits(&p, 2, &second))
                return -ES_ERR_INVALID;
        if (month < 1 || month > 12 || day < 1 || day > days_in_month[month - 1] || hour > 23 ||
            minute > 59 || second > 60)
                return -ES_ERR_INVALID;

        if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9')
                        return -ES_ERR_INVALID;
                while (*p >= '0' && *p <= '9')
                        p++;
        }

        if (strcmp(p, "Z") == 0 || strcmp(p, "z") == 0 || strcmp(p, "UTC") == 0 || *p == '\0') {
                offset = 0;
        } else if (*p == '+' || *p == '-') {
                int sign = *p == '-' ? -1 : 1, offset_hours, offset_minutes;

                p++;
                if (!read_digits(&p, 2, &offset_hours))
                        return -ES_ERR_INVALID;
                if (*p == ':')
                        p++;
                if (!read_digits(&p, 2, &offset_minutes) || *p != '\0' || offset_hours > 23 ||
                    offset_minutes > 59)
                        return -ES_ERR_INVALID;
                offset = sign * (offset_hours * 3600 + offset_minutes * 60);
        } else {
                return -ES_ERR_INVALID;
        }

        tm.tm_year = year - 1900;
        tm.tm_mon = month - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = minute;
        tm.tm_sec = second;
        t = timegm(&tm);
        if (t == (time_t)-1)
                return -ES_ERR_INVALID;
        *out = t - offset;
        return 0;
}

void es_aws_time_format(time_t t, char *buffer, size_t size)
{
        struct tm tm;

        if (gmtime_r(&t, &tm) == NULL || strftime(buffer, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(buffer, size, "%lld", (long long)t);
}

static int check_field(const char *value, const char *name, bool required, const char *what,
                       struct es_error *err)
{
        size_t len;

        if (value == NULL || value[0] == '\0') {
                if (!required)
                        return 0;
                return es_error_set(err, ES_ERR_PROTOCOL, "%s: the %s is missing or empty", what,
                                    name);
        }
        len = strlen(value);
        if (len > ES_AWS_MAX_CREDENTIAL_FIELD)
                return es_error_set(err, ES_ERR_PROTOCOL, "%s: the %s is longer than %u bytes",
                                    what, name, ES_AWS_MAX_CREDENTIAL_FIELD);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)value[i];

                if (c <= 0x20 || c >= 0x7f)
                        return es_error_set(err, ES_ERR_PROTOCOL,
                                            "%s: the %s contains a character that is not "
                                            "printable ASCII (at byte %zu)",
                                            what, name, i);
        }
        return 0;
}

int es_aws_credentials_check(const struct es_aws_credentials *credentials, const char *what,
                             struct es_error *err)
{
        int r;

        if ((r = check_field(credentials->access_key_id, "access key id", true, what, err)) < 0 ||
            (r = check_field(credentials->secret_access_key, "secret access key", true, what,
                             err)) < 0 ||
            (r = check_field(credentials->session_token, "session token", false, what, err)) < 0)
                return r;
        return 0;
}

void es_aws_credentials_copy(struct es_aws_credentials *dst, const struct es_aws_credentials *src)
{
        dst->access_key_id = src->access_key_id ? es_strdup(src->access_key_id) : NULL;
        dst->secret_access_key = src->secret_access_key ? es_strdup(src->secret_access_key) : NULL;
        dst->session_token = src->session_token ? es_strdup(src->session_token) : NULL;
        dst->expiration = src->expiration;
}

void es_aws_secret_free(char *secret)
{
        if (secret == NULL)
                return;
        explicit_bzero(secret, strlen(secret));
        free(secret);
}

/*
 * Describe a jansson error without its text, which quotes the input near the
 * error and could show a secret.
 */
static const char *json_problem(const json_error_t *json_err)
{
        switch (json_error_code(json_err)) {
        case json_error_premature_end_of_input:
                return "unexpected end of input";
        case json_error_end_of_input_expected:
                return "unexpected text after the JSON value";
        case json_error_invalid_utf8:
                return "invalid UTF-8";
        case json_error_null_character:
                return "NUL character";
        case json_error_numeric_overflow:
                return "number out of range";
        case json_error_duplicate_key:
                return "duplicate key";
        default:
                return "invalid syntax";
        }
}

int es_aws_json_parse(const char *data, size_t len, const char *what, json_t **out,
                      struct es_error *err)
{
        json_error_t json_err;
        json_t *root;

        root = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &json_err);
        if (root == NULL)
                return es_error_set(err, ES_ERR_PROTOCOL,
                                    "%s: invalid JSON at line %d, column %d: %s", what,
                                    json_err.line, json_err.column, json_problem(&json_err));
        if (!json_is_object(root)) {
                json_decref(root);
                return es_error_set(err, ES_ERR_PROTOCOL, "%s: expected a JSON object", what);
        }
        *out = root;
        return 0;
}

/* A string member, or NULL when absent; -ES_ERR_PROTOCOL when present with another type. */
static int string_member(json_t *object, const char *name, const char *what, const char **out,
                         struct es_error *err)
{
        json_t *value = json_object_get(object, name);

        *out = NULL;
        if (value == NULL || json_is_null(value))
                return 0;
        if (!json_is_string(value))
                return es_error_set(err, ES_ERR_PROTOCOL, "%s: \"%s\" is not a string", what, name);
        if (strlen(json_string_value(value)) != json_string_length(value))
                return es_error_set(err, ES_ERR_PROTOCOL, "%s: \"%s\" contains a NUL byte", what,
                                    name);
        *out = json_string_value(value);
        return 0;
}

int es_aws_json_credentials(json_t *object, const struct es_aws_json_names *names, const char *what,
                            struct es_aws_credentials *out, struct es_error *err)
{
        struct es_aws_credentials credentials = {0};
        const char *access_key_id, *secret_access_key, *session_token = NULL;
        json_t *expiration = NULL;
        int r;

        if ((r = string_member(object, names->access_key_id, what, &access_key_id, err)) < 0 ||
            (r = string_member(object, names->secret_access_key, what, &secret_access_key, err)) <
                0)
                return r;
        if (access_key_id == NULL)
                return es_error_set(err, ES_ERR_PROTOCOL, "%s: \"%s\" is missing", what,
                                    names->access_key_id);
        if (secret_access_key == NULL)
                return es_error_set(err, ES_ERR_PROTOCOL, "%s: \"%s\" is missing", what,
                                    names->secret_access_key);
        if (names->session_token &&
            (r = string_member(object, names->session_token, what, &session_token, err)) < 0)
                return r;
        if (names->expiration)
                expiration = json_object_get(object, names->expiration);

        if (expiration != NULL && json_is_string(expiration)) {
                if (es_aws_time_parse(json_string_value(expiration), &credentials.expiration) < 0)
                        return es_error_set(err, ES_ERR_PROTOCOL,
                                            "%s: \"%s\" is not an ISO 8601 time: \"%.40s\"", what,
                                            names->expiration, json_string_value(expiration));
        } else if (expiration != NULL && json_is_integer(expiration)) {
                json_int_t milliseconds = json_integer_value(expiration);

                if (milliseconds <= 0)
                        return es_error_set(err, ES_ERR_PROTOCOL, "%s: \"%s\" is not positive",
                                            what, names->expiration);
                credentials.expiration = (time_t)(milliseconds / 1000);
        } else if (expiration != NULL && !json_is_null(expiration)) {
                return es_error_set(err, ES_ERR_PROTOCOL,
                                    "%s: \"%s\" is neither a time string nor a number", what,
                                    names->expiration);
        }

        credentials.access_key_id = es_strdup(access_key_id);
        credentials.secret_access_key = es_strdup(secret_access_key);
        credentials.session_token =
            session_token && session_token[0] ? es_strdup(session_token) : NULL;
        r = es_aws_credentials_check(&credentials, what, err);
        if (r < 0) {
                es_aws_credentials_release(&credentials);
                return r;
        }
        *out = credentials;
        return 0;
}

int es_aws_read_secret_file(const char *path, const char *what, size_t max, char **out,
                            struct es_error *err)
{
        struct es_buf data = ES_BUF_INIT(max);
        char chunk[4096];
        int fd, r = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return es_error_set(err, errno == ENOENT ? ES_ERR_NOT_FOUND : ES_ERR_IO,
                                    "cannot open the %s \"%s\": %s", what, path, strerror(errno));
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = es_error_set(err, ES_ERR_IO, "cannot read the %s \"%s\": %s", what,
                                         path, strerror(errno));
                        break;
                }
                if (n == 0)
                        break;
                if (es_buf_append(&data, chunk, (size_t)n) < 0) {
                        r = es_error_set(err, ES_ERR_INVALID,
                                         "the %s \"%s\" is larger than %zu "
                                         "bytes",
                                         what, path, max);
                        break;
                }
        }
        close(fd);
        explicit_bzero(chunk, sizeof(chunk));

        if (r == 0 && es_buf_has_nul(&data))
                r = es_error_set(err, ES_ERR_INVALID, "the %s \"%s\" contains a NUL byte", what,
                                 path);
        while (r == 0 && data.len > 0 &&
               (data.data[data.len - 1] == '\n' || data.data[data.len - 1] == '\r' ||
                data.data[data.len - 1] == ' ' || data.data[data.len - 1] == '\t'))
                data.data[--data.len] = '\0';
        if (r == 0 && data.len == 0)
                r = es_error_set(err, ES_ERR_INVALID, "the %s \"%s\" is empty", what, path);

        if (r < 0) {
                if (data.data)
                        explicit_bzero(data.data, data.alloc);
                es_buf_release(&data);
                return r;
        }
        *out = es_buf_take(&data);
        return 0;
}

char *es_aws_url_encode(const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        struct es_buf out = ES_BUF_INIT(0);

        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                char encoded[4];

                if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
                        encoded[0] = (char)*p;
                        encoded[1] = '\0';
                } else {
                        encoded[0] = '%';
                        encoded[1] = hex[*p >> 4];
                        encoded[2] = hex[*p & 15];
                        encoded[3] = '\0';
                }
                es_buf_puts(&out, encoded);
        }
        return es_buf_take(&out);
}
