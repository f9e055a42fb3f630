/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs aws/sigv4.c against AWS's SigV4 test suite (the v4 cases published
 * with aws-c-auth), read in place from the directory given as the only
 * argument. Each case directory contains context.json, request.txt and the
 * expected header-*.txt files. One cmocka test per case compares the
 * canonical request, the string to sign, the signature and the signed
 * headers byte for byte.
 *
 * The query-*.txt files describe the presigned-URL form, which es_sigv4_sign()
 * does not implement, so they are not compared; the test prints that once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "aws/sigv4.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"

/* Case files are a few hundred bytes, so anything larger is not a test case. */
#define MAX_CASE_FILE (1024u * 1024)

/* One request.txt, split into the parts es_sigv4_sign() takes. */
struct parsed_request {
        char *method;
        char *url;
        char **headers; /* "Name:value" lines, folded lines kept with their "\n" */
        size_t n_headers;
        char *body;
        size_t body_len;
};

static void parsed_request_release(struct parsed_request *request)
{
        free(request->method);
        free(request->url);
        for (size_t i = 0; i < request->n_headers; i++)
                free(request->headers[i]);
        free(request->headers);
        free(request->body);
        memset(request, 0, sizeof(*request));
}

/* Read a whole file, failing the test when it cannot. */
static char *read_file(const char *dir, const char *name, size_t *len)
{
        _cleanup_free_ char *path = es_asprintf("%s/%s", dir, name);
        struct es_buf buf = ES_BUF_INIT(MAX_CASE_FILE);
        char chunk[4096];
        size_t n;
        FILE *f = fopen(path, "rb");

        if (f == NULL)
                fail_msg("cannot open %s: %s", path, strerror(errno));
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                if (es_buf_append(&buf, chunk, n) < 0)
                        fail_msg("%s is larger than %u bytes", path, MAX_CASE_FILE);
        if (ferror(f))
                fail_msg("cannot read %s", path);
        fclose(f);
        if (len != NULL)
                *len = buf.len;
        return es_buf_take(&buf);
}

/* Return the next line without its "\n" or "\r\n" and advance *pos. Returns NULL at the end. */
static char *next_line(const char *text, size_t len, size_t *pos)
{
        size_t start = *pos, end;

        if (start >= len)
                return NULL;
        end = start;
        while (end < len && text[end] != '\n')
                end++;
        *pos = end < len ? end + 1 : end;
        if (end > start && text[end - 1] == '\r')
                end--;
        return es_strndup(text + start, end - start);
}

/*
 * Parse a raw HTTP/1.1 request. The target may contain spaces
 * ("GET /example space/ HTTP/1.1"), so it runs from the first space to the
 * last one. Lines that start with a space or tab continue the previous header
 * and are kept with a "\n" so that the signer unfolds them. The body is every
 * byte after the blank line.
 */
static void parse_request(const char *text, size_t len, struct parsed_request *out)
{
        _cleanup_free_ char *request_line = NULL;
        const char *first_space, *last_space;
        char *host = NULL;
        size_t pos = 0;
        char *line;

        request_line = next_line(text, len, &pos);
        assert_non_null(request_line);
        first_space = strchr(request_line, ' ');
        last_space = strrchr(request_line, ' ');
        assert_non_null(first_space);
        assert_true(last_space > first_space);
        assert_string_equal(last_space + 1, "HTTP/1.1");
        out->method = es_strndup(request_line, (size_t)(first_space - request_line));

        out->headers = es_calloc(1, sizeof(*out->headers));
        while ((line = next_line(text, len, &pos)) != NULL) {
                if (line[0] == '\0') {
                        free(line);
                        break;
                }
                if ((line[0] == ' ' || line[0] == '\t') && out->n_headers > 0) {
                        char **last = &out->headers[out->n_headers - 1];
                        char *joined = es_asprintf("%s\n%s", *last, line);

                        free(*last);
                        *last = joined;
                        free(line);
                        continue;
                }
                out->headers =
                    es_realloc(out->headers, (out->n_headers + 1) * sizeof(*out->headers));
                out->headers[out->n_headers++] = line;
        }

        out->body_len = len - pos;
        out->body = es_malloc(out->body_len + 1);
        memcpy(out->body, text + pos, out->body_len);

        for (size_t i = 0; i < out->n_headers; i++)
                if (strncasecmp(out->headers[i], "Host:", 5) == 0)
                        host = out->headers[i] + 5;
        assert_non_null(host);
        while (*host == ' ')
                host++;
        out->url = es_asprintf("https://%s%.*s", host, (int)(last_space - first_space - 1),
                               first_space + 1);
}

/* Parse "2015-08-30T12:36:00Z" as UTC. */
static time_t parse_timestamp(const char *text)
{
        struct tm tm = {0};
        const char *end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);

        assert_non_null(end);
        assert_int_equal(*end, '\0');
        return timegm(&tm);
}

/* Compare text with a file's bytes, printing both on a mismatch. */
static void expect_file(const char *dir, const char *name, const char *actual)
{
        size_t len = 0;
        _cleanup_free_ char *expected = read_file(dir, name, &len);

        if (strlen(actual) != len || memcmp(actual, expected, len) != 0) {
                print_error("%s/%s differs.\n--- expected ---\n%s\n--- actual ---\n%s\n---\n", dir,
                            name, expected, actual);
                fail();
        }
}

/* Return the value of header `name` in header-signed-request.txt, or NULL. */
static char *signed_request_header(const char *signed_request, const char *name)
{
        size_t name_len = strlen(name);

        for (const char *line = signed_request; line != NULL && *line != '\0';) {
                const char *end = strchr(line, '\n');
                size_t line_len = end ? (size_t)(end - line) : strlen(line);

                if (line_len == 0)
                        break;
                if (line_len > name_len && line[name_len] == ':' &&
                    strncasecmp(line, name, name_len) == 0)
                        return es_strndup(line + name_len + 1, line_len - name_len - 1);
                line = end ? end + 1 : NULL;
        }
        return NULL;
}

/* Compare a "Name: value" line from the result with header-signed-request.txt. */
static void expect_added_header(const char *dir, const char *signed_request, const char *name,
                                const char *actual_line)
{
        _cleanup_free_ char *expected = signed_request_header(signed_request, name);

        if (expected == NULL) {
                if (actual_line != NULL)
                        print_error("%s: signer added \"%s\" but the case does not send %s\n", dir,
                                    actual_line, name);
                assert_null(actual_line);
                return;
        }
        if (actual_line == NULL)
                print_error("%s: expected header %s, signer returned none\n", dir, name);
        assert_non_null(actual_line);

        /* Names compare without case (the suite writes some in lowercase), values exactly. */
        assert_true(strncasecmp(actual_line, name, strlen(name)) == 0);
        assert_memory_equal(actual_line + strlen(name), ": ", 2);
        assert_string_equal(actual_line + strlen(name) + 2, expected);
}

static void run_case(void **state)
{
        const char *dir = *state;
        _cleanup_free_ char *context_text = read_file(dir, "context.json", NULL);
        _cleanup_free_ char *request_text = NULL;
        _cleanup_free_ char *signed_request = read_file(dir, "header-signed-request.txt", NULL);
        _cleanup_free_ char *expected_authorization = NULL;
        struct parsed_request parsed = {0};
        struct es_sigv4_result result = {0};
        struct es_error err = ES_ERROR_INIT;
        json_error_t json_err;
        json_t *context, *credentials, *omit;
        size_t request_len = 0;
        int r;

        context = json_loads(context_text, 0, &json_err);
        if (context == NULL)
                fail_msg("%s/context.json: %s", dir, json_err.text);
        credentials = json_object_get(context, "credentials");
        assert_non_null(credentials);

        request_text = read_file(dir, "request.txt", &request_len);
        parse_request(request_text, request_len, &parsed);

        omit = json_object_get(context, "omit_session_token");
        struct es_aws_credentials cred = {
            .access_key_id =
                (char *)json_string_value(json_object_get(credentials, "access_key_id")),
            .secret_access_key =
                (char *)json_string_value(json_object_get(credentials, "secret_access_key")),
            .session_token = (char *)json_string_value(json_object_get(credentials, "token")),
        };
        /*
         * The suite signs the path as it appears in request.txt, encoded once
         * more; "normalize" only switches dot-segment removal, so encode_path
         * stays on in every case. "sign_body" adds X-Amz-Content-SHA256.
         * "expiration_in_seconds" applies to the presigned form only.
         */
        struct es_sigv4_request req = {
            .method = parsed.method,
            .url = parsed.url,
            .headers = (const char *const *)parsed.headers,
            .n_headers = parsed.n_headers,
            .body = parsed.body,
            .body_len = parsed.body_len,
            .region = json_string_value(json_object_get(context, "region")),
            .service = json_string_value(json_object_get(context, "service")),
            .timestamp = parse_timestamp(json_string_value(json_object_get(context, "timestamp"))),
            .normalize_path = json_is_true(json_object_get(context, "normalize")),
            .encode_path = true,
            .sign_session_token = !json_is_true(omit),
            .add_content_sha256 = json_is_true(json_object_get(context, "sign_body")),
        };

        r = es_sigv4_sign(&req, &cred, &result, &err);
        if (r < 0)
                fail_msg("%s: es_sigv4_sign failed: %s", dir, es_error_message(&err));

        expect_file(dir, "header-canonical-request.txt", result.canonical_request);
        expect_file(dir, "header-string-to-sign.txt", result.string_to_sign);
        expect_file(dir, "header-signature.txt", result.signature);

        expected_authorization = signed_request_header(signed_request, "Authorization");
        assert_non_null(expected_authorization);
        assert_string_equal(result.authorization, expected_authorization);
        {
                _cleanup_free_ char *expected_date =
                    signed_request_header(signed_request, "X-Amz-Date");

                assert_non_null(expected_date);
                assert_string_equal(result.amz_date, expected_date);
        }
        expect_added_header(dir, signed_request, "X-Amz-Security-Token",
                            result.security_token_header);
        expect_added_header(dir, signed_request, "X-Amz-Content-SHA256",
                            result.content_sha256_header);

        es_sigv4_result_release(&result);
        parsed_request_release(&parsed);
        json_decref(context);
}

static int compare_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
        struct CMUnitTest *tests;
        char **names = NULL;
        size_t count = 0;
        struct dirent *entry;
        DIR *dir;
        int failed;

        if (argc != 2) {
                fprintf(stderr, "usage: %s SUITE_DIR (aws-sigv4-test-suite)\n", argv[0]);
                return 1;
        }
        dir = opendir(argv[1]);
        if (dir == NULL) {
                fprintf(stderr,
                        "FAIL: cannot open the SigV4 test suite at %s: %s; the build passes "
                        "its path from tests/unit/meson.build\n",
                        argv[1], strerror(errno));
                return 1;
        }
        while ((entry = readdir(dir)) != NULL) {
                _cleanup_free_ char *context = NULL;
                struct stat st;

                if (entry->d_name[0] == '.')
                        continue;
                context = es_asprintf("%s/%s/context.json", argv[1], entry->d_name);
                if (stat(context, &st) != 0) {
                        _cleanup_free_ char *path = es_asprintf("%s/%s", argv[1], entry->d_name);

                        /* Only README.md and other plain files may sit beside the cases. */
                        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
                                fprintf(stderr, "FAIL: case %s has no context.json\n", path);
                                closedir(dir);
                                return 1;
                        }
                        continue;
                }
                names = es_realloc(names, (count + 1) * sizeof(*names));
                names[count++] = es_asprintf("%s/%s", argv[1], entry->d_name);
        }
        closedir(dir);
        if (count == 0) {
                fprintf(stderr, "FAIL: no case directories in %s\n", argv[1]);
                return 1;
        }
        qsort(names, count, sizeof(*names), compare_names);

        printf("SigV4 test suite: %zu cases in %s\n", count, argv[1]);
        printf("note: query-*.txt (presigned-URL form) are not compared: es_sigv4_sign() "
               "signs with the Authorization header only\n");

        tests = es_calloc(count, sizeof(*tests));
        for (size_t i = 0; i < count; i++) {
                tests[i] = (struct CMUnitTest){
                    .name = strrchr(names[i], '/') + 1,
                    .test_func = run_case,
                    .initial_state = names[i],
                };
        }
        failed = _cmocka_run_group_tests("sigv4 test suite", tests, count, NULL, NULL);

        for (size_t i = 0; i < count; i++)
                free(names[i]);
        free(names);
        free(tests);
        return failed;
}
