/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for aws/process.c (shlex-style splitting, running a program with a
 * timeout, credential_process output) and the helpers of aws/source.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws/process.h"
#include "base/process.h"
#include "aws/source.h"
#include "base/alloc.h"
#include "base/cleanup.h"

static void test_shell_split(void **state)
{
        static const struct {
                const char *line;
                const char *words[6]; /* NULL-terminated */
        } cases[] = {
            {"", {NULL}},
            {"   \t\n", {NULL}},
            {"/usr/bin/get-creds", {"/usr/bin/get-creds", NULL}},
            {"  a   b\tc\n", {"a", "b", "c", NULL}},
            {"cmd 'two words' \"dq words\"", {"cmd", "two words", "dq words", NULL}},
            {"a'b'c\"d\"e", {"abcde", NULL}},
            {"a '' \"\" b", {"a", "", "", "b", NULL}},
            {"'it''s' \"$HOME\"", {"its", "$HOME", NULL}},
            {"a\\ b c\\\\d", {"a b", "c\\d", NULL}},
            {"\"q\\\"x\" \"back\\\\slash\" \"keep\\n\"", {"q\"x", "back\\slash", "keep\\n", NULL}},
            {"'no \\escape in single'", {"no \\escape in single", NULL}},
            {"# not a comment", {"#", "not", "a", "comment", NULL}},
            {"aws-vault exec --json prod", {"aws-vault", "exec", "--json", "prod", NULL}},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_error err = ES_ERROR_INIT;
                char **words = NULL;
                size_t count = 0, expected = 0;

                while (cases[i].words[expected])
                        expected++;
                assert_int_equal(es_aws_shell_split(cases[i].line, &words, &count, &err), 0);
                if (count != expected)
                        print_error("case %zu: expected %zu words, got %zu\n", i, expected, count);
                assert_int_equal(count, expected);
                for (size_t w = 0; w < count; w++) {
                        if (strcmp(words[w], cases[i].words[w]) != 0)
                                print_error("case %zu word %zu: expected '%s', got '%s'\n", i, w,
                                            cases[i].words[w], words[w]);
                        assert_string_equal(words[w], cases[i].words[w]);
                }
                assert_null(words[count]);
                es_aws_argv_free(words);
        }
}

static void test_shell_split_errors(void **state)
{
        static const struct {
                const char *line;
                const char *message;
        } cases[] = {
            {"cmd 'open secret", "invalid command line: an unclosed single quote"},
            {"cmd \"open secret", "invalid command line: an unclosed double quote"},
            {"cmd secret\\", "invalid command line: a backslash at the end"},
            {"cmd \"secret\\", "invalid command line: a backslash at the end"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_error err = ES_ERROR_INIT;
                char **words = NULL;
                size_t count = 0;

                assert_int_equal(es_aws_shell_split(cases[i].line, &words, &count, &err),
                                 -ES_ERR_INVALID);
                assert_string_equal(es_error_message(&err), cases[i].message);
                assert_null(strstr(es_error_message(&err), "secret"));
                assert_null(words);
                es_error_release(&err);
        }
}

static void test_process_run_output_and_status(void **state)
{
        char *const argv[] = {
            "sh", "-c", "printf out; printf '\\n  first error  \\nsecond\\n' >&2; exit 4", NULL};
        struct es_process_result result = {0};
        struct es_error err = ES_ERROR_INIT;

        assert_int_equal(es_process_run(argv, NULL, 5000, 1024, &result, &err), 0);
        assert_int_equal(result.exit_status, 4);
        assert_string_equal(result.output.data, "out");
        assert_string_equal(result.error_line, "first error");
        es_process_result_release(&result);
}

static void test_process_run_killed_by_signal(void **state)
{
        char *const argv[] = {"sh", "-c", "kill -TERM $$", NULL};
        struct es_process_result result = {0};
        struct es_error err = ES_ERROR_INIT;

        assert_int_equal(es_process_run(argv, NULL, 5000, 1024, &result, &err), 0);
        assert_int_equal(result.exit_status, 128 + 15);
        assert_null(result.error_line);
        es_process_result_release(&result);
}

static void test_process_run_timeout(void **state)
{
        char *const argv[] = {"sleep", "10", NULL};
        struct es_process_result result = {0};
        struct es_error err = ES_ERROR_INIT;
        time_t start = time(NULL);

        assert_int_equal(es_process_run(argv, NULL, 300, 1024, &result, &err), -ES_ERR_TRANSIENT);
        assert_string_equal(es_error_message(&err), "\"sleep\" timed out after 0.3 s");
        assert_true(time(NULL) - start < 5);
        es_error_release(&err);
}

static void test_process_run_output_cap(void **state)
{
        char *const argv[] = {"sh", "-c", "head -c 100000 /dev/zero", NULL};
        struct es_process_result result = {0};
        struct es_error err = ES_ERROR_INIT;

        assert_int_equal(es_process_run(argv, NULL, 5000, 4096, &result, &err), -ES_ERR_PROTOCOL);
        assert_string_equal(es_error_message(&err),
                            "\"sh\" wrote more than 4096 bytes to standard output");
        es_error_release(&err);
}

static void test_process_run_missing_program(void **state)
{
        char *const argv[] = {"/nonexistent/credential-helper", NULL};
        struct es_process_result result = {0};
        struct es_error err = ES_ERROR_INIT;

        assert_int_equal(es_process_run(argv, NULL, 5000, 1024, &result, &err), -ES_ERR_NOT_FOUND);
        assert_string_equal(es_error_message(&err),
                            "cannot run \"/nonexistent/credential-helper\": No such file or "
                            "directory");
        es_error_release(&err);
}

/* A descriptor without O_CLOEXEC, like a socket some library opened, stays in this process. */
static void test_process_run_closes_other_fds(void **state)
{
        int fd = dup(STDIN_FILENO);
        _cleanup_free_ char *script = NULL;
        struct es_process_result result = {0};
        struct es_error err = ES_ERROR_INIT;

        assert_true(fd > STDERR_FILENO);
        script =
            es_asprintf("if [ -e /proc/$$/fd/%d ]; then echo inherited; else echo closed; fi", fd);
        char *const argv[] = {"sh", "-c", script, NULL};

        assert_int_equal(es_process_run(argv, NULL, 5000, 1024, &result, &err), 0);
        assert_string_equal(result.output.data, "closed\n");
        es_process_result_release(&result);
        close(fd);
}

static void test_process_credentials(void **state)
{
        /* sh prints its $0, the JSON; shlex removes the single quotes around it. */
        static const char command[] =
            "sh -c 'printf \"%s\" \"$0\"' '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", "
            "\"SecretAccessKey\": \"procsecret\", \"SessionToken\": \"proctoken\", "
            "\"Expiration\": \"2030-01-01T00:00:00Z\"}'";
        struct es_aws_credentials credentials = {0};
        struct es_error err = ES_ERROR_INIT;
        time_t expected;
        int r;

        r = es_aws_process_credentials(command, 5000, &credentials, &err);
        if (r != 0)
                print_error("%s\n", es_error_message(&err));
        assert_int_equal(r, 0);
        assert_string_equal(credentials.access_key_id, "AKIDPROC");
        assert_string_equal(credentials.secret_access_key, "procsecret");
        assert_string_equal(credentials.session_token, "proctoken");
        assert_int_equal(es_aws_time_parse("2030-01-01T00:00:00Z", &expected), 0);
        assert_int_equal(credentials.expiration, expected);
        es_aws_credentials_release(&credentials);
}

static void test_process_credentials_errors(void **state)
{
        static const struct {
                const char *output; /* printed by the program, then it exits with status */
                int status;
                enum es_error_code code;
                const char *message;
        } cases[] = {
            {"{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"SECRETX\"}", 0,
             ES_ERR_PROTOCOL, "credential_process \"sh\": \"Version\" must be the number 1"},
            {"{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"SECRETX\"}", 0, ES_ERR_PROTOCOL,
             "credential_process \"sh\": \"Version\" must be the number 1"},
            {"{\"Version\": 1, \"AccessKeyId\": \"A\"}", 0, ES_ERR_PROTOCOL,
             "credential_process \"sh\": \"SecretAccessKey\" is missing"},
            {"{\"Version\": 1, \"SecretAccessKey\": \"SECRETX\"}", 0, ES_ERR_PROTOCOL,
             "credential_process \"sh\": \"AccessKeyId\" is missing"},
            {"{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"SECRETX\", "
             "\"Expiration\": \"soon\"}",
             0, ES_ERR_PROTOCOL,
             "credential_process \"sh\": \"Expiration\" is not an ISO 8601 time: \"soon\""},
            {"{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"SECRETX\"", 0,
             ES_ERR_PROTOCOL,
             "credential_process \"sh\": invalid JSON at line 1, column 63: unexpected end of "
             "input"},
            {"SECRETX not json", 0, ES_ERR_PROTOCOL,
             "credential_process \"sh\": invalid JSON at line 1, column 7: invalid syntax"},
            {"[1]", 0, ES_ERR_PROTOCOL, "credential_process \"sh\": expected a JSON object"},
            {"", 0, ES_ERR_PROTOCOL,
             "credential_process \"sh\": invalid JSON at line 1, column 0: unexpected end of "
             "input"},
            {"SECRETX", 7, ES_ERR_AUTH, "credential_process \"sh\" exited with status 7"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *line =
                    es_asprintf("sh -c 'printf \"%%s\" \"$0\"; exit %d' '%s'", cases[i].status,
                                cases[i].output);
                struct es_aws_credentials credentials = {0};
                struct es_error err = ES_ERROR_INIT;
                int r = es_aws_process_credentials(line, 5000, &credentials, &err);

                if (r != -(int)cases[i].code ||
                    strcmp(es_error_message(&err), cases[i].message) != 0)
                        print_error("case %zu: r=%d '%s'\n", i, r, es_error_message(&err));
                assert_int_equal(r, -(int)cases[i].code);
                assert_string_equal(es_error_message(&err), cases[i].message);
                assert_null(strstr(es_error_message(&err), "SECRETX"));
                assert_null(credentials.access_key_id);
                es_error_release(&err);
        }
}

static void test_process_credentials_reports_stderr(void **state)
{
        struct es_aws_credentials credentials = {0};
        struct es_error err = ES_ERROR_INIT;

        assert_int_equal(es_aws_process_credentials("sh -c 'echo \"token expired, log in\" >&2; "
                                                    "exit 1' --secret-argument",
                                                    5000, &credentials, &err),
                         -ES_ERR_AUTH);
        assert_string_equal(
            es_error_message(&err),
            "credential_process \"sh\" exited with status 1: token expired, log in");
        es_error_release(&err);

        assert_int_equal(es_aws_process_credentials("", 5000, &credentials, &err), -ES_ERR_INVALID);
        assert_string_equal(es_error_message(&err), "credential_process is empty");
        assert_int_equal(
            es_aws_process_credentials("missing-helper-for-ecr-sync --x", 5000, &credentials, &err),
            -ES_ERR_NOT_FOUND);
        assert_string_equal(es_error_message(&err),
                            "credential_process: cannot run \"missing-helper-for-ecr-sync\": No "
                            "such file or directory");
        es_error_release(&err);
}

static void test_time_parse(void **state)
{
        static const struct {
                const char *text;
                long long expected; /* -1: invalid */
        } cases[] = {
            {"1970-01-01T00:00:00Z", 0},
            {"2019-11-09T13:34:41Z", 1573306481},
            {"2019-11-09T13:34:41.123Z", 1573306481},
            {"2019-11-09T13:34:41.123456789Z", 1573306481},
            {"2019-11-09T13:34:41", 1573306481},
            {"2019-11-09T13:34:41UTC", 1573306481},
            {"2019-11-09t13:34:41z", 1573306481},
            {"2019-11-09 13:34:41Z", 1573306481},
            {"2019-11-09T15:34:41+02:00", 1573306481},
            {"2019-11-09T11:04:41-0230", 1573306481},
            {"2024-02-29T00:00:00Z", 1709164800},
            {"2019-11-09", -1},
            {"2019-13-09T13:34:41Z", -1},
            {"2019-11-31T13:34:41Z", -1},
            {"2019-11-09T24:00:00Z", -1},
            {"2019-11-09T13:34:41.Z", -1},
            {"2019-11-09T13:34:41Zjunk", -1},
            {"2019-11-09T13:34:41+2", -1},
            {"1573306481", -1},
            {"", -1},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                time_t t = 0;
                int r = es_aws_time_parse(cases[i].text, &t);

                if ((cases[i].expected < 0 && r == 0) ||
                    (cases[i].expected >= 0 && (r != 0 || t != cases[i].expected)))
                        print_error("'%s': r=%d t=%lld, expected %lld\n", cases[i].text, r,
                                    (long long)t, cases[i].expected);
                if (cases[i].expected < 0) {
                        assert_int_equal(r, -ES_ERR_INVALID);
                } else {
                        assert_int_equal(r, 0);
                        assert_int_equal(t, cases[i].expected);
                }
        }
}

static void test_time_format(void **state)
{
        char buffer[32];

        es_aws_time_format(1573306481, buffer, sizeof(buffer));
        assert_string_equal(buffer, "2019-11-09T13:34:41Z");
}

static void test_credentials_check(void **state)
{
        struct es_aws_credentials good = {"AKID", "se/cr+et=", "to/ken+", 0};
        struct es_aws_credentials no_token = {"AKID", "secret", NULL, 0};
        struct es_aws_credentials empty_id = {"", "secret", NULL, 0};
        struct es_aws_credentials space = {"AKID", "sec ret", NULL, 0};
        struct es_aws_credentials newline = {"AKID", "secret", "tok\r\nX-Injected: 1", 0};
        struct es_error err = ES_ERROR_INIT;

        assert_int_equal(es_aws_credentials_check(&good, "test", &err), 0);
        assert_int_equal(es_aws_credentials_check(&no_token, "test", &err), 0);
        assert_int_equal(es_aws_credentials_check(&empty_id, "test", &err), -ES_ERR_PROTOCOL);
        assert_string_equal(es_error_message(&err), "test: the access key id is missing or empty");
        assert_int_equal(es_aws_credentials_check(&space, "test", &err), -ES_ERR_PROTOCOL);
        assert_string_equal(es_error_message(&err),
                            "test: the secret access key contains a character that is not "
                            "printable ASCII (at byte 3)");
        assert_int_equal(es_aws_credentials_check(&newline, "test", &err), -ES_ERR_PROTOCOL);
        assert_null(strstr(es_error_message(&err), "Injected"));
        es_error_release(&err);
}

static void test_url_encode(void **state)
{
        _cleanup_free_ char *arn = es_aws_url_encode("arn:aws:iam::123:role/a b+c");
        _cleanup_free_ char *safe = es_aws_url_encode("AZaz09-_.~");

        assert_string_equal(arn, "arn%3Aaws%3Aiam%3A%3A123%3Arole%2Fa%20b%2Bc");
        assert_string_equal(safe, "AZaz09-_.~");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_shell_split),
            cmocka_unit_test(test_shell_split_errors),
            cmocka_unit_test(test_process_run_output_and_status),
            cmocka_unit_test(test_process_run_killed_by_signal),
            cmocka_unit_test(test_process_run_timeout),
            cmocka_unit_test(test_process_run_output_cap),
            cmocka_unit_test(test_process_run_missing_program),
            cmocka_unit_test(test_process_run_closes_other_fds),
            cmocka_unit_test(test_process_credentials),
            cmocka_unit_test(test_process_credentials_errors),
            cmocka_unit_test(test_process_credentials_reports_stderr),
            cmocka_unit_test(test_time_parse),
            cmocka_unit_test(test_time_format),
            cmocka_unit_test(test_credentials_check),
            cmocka_unit_test(test_url_encode),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
