/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for aws/sigv4.c: canonical path, query and headers case by case,
 * the headers the signer adds, input validation and the release functions.
 * The AWS test suite and the botocore cross-check live in their own tests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"
#include "base/alloc.h"
#include "base/cleanup.h"

/* AWS's published example credentials, also used by its test suite. */
#define ACCESS_KEY_ID "AKIDEXAMPLE"
#define SECRET_KEY    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SESSION_TOKEN "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"

/* 2015-08-30T12:36:00Z, the time of every case in the AWS test suite. */
#define SUITE_TIME 1440938160

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Canonical request lines, counted from 0, for requests without extra headers. */
#define LINE_PATH  1
#define LINE_QUERY 2

static struct es_aws_credentials test_credentials(const char *token)
{
        return (struct es_aws_credentials){
            .access_key_id = (char *)ACCESS_KEY_ID,
            .secret_access_key = (char *)SECRET_KEY,
            .session_token = (char *)token,
        };
}

static struct es_sigv4_request base_request(const char *url)
{
        return (struct es_sigv4_request){
            .method = "GET",
            .url = url,
            .region = "us-east-1",
            .service = "service",
            .timestamp = SUITE_TIME,
            .normalize_path = true,
            .encode_path = true,
            .sign_session_token = true,
        };
}

static void sign_or_fail(const struct es_sigv4_request *req, const struct es_aws_credentials *cred,
                         struct es_sigv4_result *out)
{
        struct es_error err = ES_ERROR_INIT;
        int r = es_sigv4_sign(req, cred, out, &err);

        if (r != 0)
                fail_msg("signing %s %s failed: %s", req->method, req->url, es_error_message(&err));
}

/* Return line n (from 0) of text as a new string, or NULL when there are fewer lines. */
static char *line_at(const char *text, size_t n)
{
        const char *start = text;

        for (size_t i = 0; i < n; i++) {
                start = strchr(start, '\n');
                if (start == NULL)
                        return NULL;
                start++;
        }
        return es_strndup(start, strcspn(start, "\n"));
}

/* Return the canonical header block: the lines between the query and the blank line. */
static char *header_block(const char *canonical_request)
{
        const char *start = canonical_request;
        const char *end;

        for (int i = 0; i < 3; i++)
                start = strchr(start, '\n') + 1;
        end = strstr(start, "\n\n");
        assert_non_null(end);
        return es_strndup(start, (size_t)(end - start));
}

static void expect_line(const char *canonical_request, size_t n, const char *expected,
                        const char *input)
{
        _cleanup_free_ char *actual = line_at(canonical_request, n);

        if (actual == NULL || strcmp(actual, expected) != 0) {
                print_error("input \"%s\": line %zu\n  expected \"%s\"\n  actual   \"%s\"\n", input,
                            n, expected, actual ? actual : "(none)");
                fail();
        }
}

struct path_case {
        const char *url;
        bool normalize;
        bool encode;
        const char *expected;
};

static void test_canonical_path(void **state)
{
        static const struct path_case cases[] = {
            {"https://example.com", true, true, "/"},
            {"https://example.com?a=1", true, true, "/"},
            {"https://example.com", false, false, "/"},
            {"https://example.com/", true, true, "/"},
            {"https://example.com/a/b/../c", true, true, "/a/c"},
            {"https://example.com/a/./b//c/", true, true, "/a/b/c/"},
            {"https://example.com/a/b/..", true, true, "/a"},
            {"https://example.com/a/b/../", true, true, "/a/"},
            {"https://example.com/../../a", true, true, "/a"},
            {"https://example.com/..", true, true, "/"},
            {"https://example.com//", true, true, "/"},
            {"https://example.com/a/.", true, true, "/a"},
            {"https://example.com/.a/..b/...", true, true, "/.a/..b/..."},
            {"https://example.com/a/b/../c", false, true, "/a/b/../c"},
            {"https://example.com//a//", false, true, "//a//"},
            {"https://example.com/%2F", true, true, "/%252F"},
            {"https://example.com/%2F", false, false, "/%2F"},
            {"https://example.com/a b", true, true, "/a%20b"},
            {"https://example.com/!$&'()*+,;=:@", true, true,
             "/%21%24%26%27%28%29%2A%2B%2C%3B%3D%3A%40"},
            {"https://example.com/-._~AZaz09", true, true, "/-._~AZaz09"},
            {"https://example.com/\xc3\xa9t\xc3\xa9", true, true, "/%C3%A9t%C3%A9"},
            {"https://example.com/a//b/../c%20d", false, false, "/a//b/../c%20d"},
            {"https://example.com/a//b/../c", true, false, "/a/c"},
            {"https://example.com/p#frag/x", true, true, "/p"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_sigv4_request req = base_request(cases[i].url);
                struct es_aws_credentials cred = test_credentials(NULL);
                struct es_sigv4_result result = {0};

                req.normalize_path = cases[i].normalize;
                req.encode_path = cases[i].encode;
                sign_or_fail(&req, &cred, &result);
                expect_line(result.canonical_request, LINE_PATH, cases[i].expected, cases[i].url);
                es_sigv4_result_release(&result);
        }
}

struct query_case {
        const char *query;
        const char *expected;
};

static void test_canonical_query(void **state)
{
        static const struct query_case cases[] = {
            {"", ""},
            {"b=2&a=1", "a=1&b=2"},
            {"a=2&a=1&a=1", "a=1&a=1&a=2"},
            {"a&b=", "a=&b="},
            {"a=1&&b=2&", "a=1&b=2"},
            {"&", ""},
            {"a+b=c+d", "a%20b=c%20d"},
            {"a=%2b", "a=%2B"},
            {"%7E=%41", "~=A"},
            {"a=b=c", "a=b%3Dc"},
            {"=v", "=v"},
            {"a=1#x=y", "a=1"},
            {"~=1&%C3%A9=2", "%C3%A9=2&~=1"},
            {"\xc3\xa9=\xc3\xa9", "%C3%A9=%C3%A9"},
            {"k=a b", "k=a%20b"},
            {"k=!'()*,;:@/?", "k=%21%27%28%29%2A%2C%3B%3A%40%2F%3F"},
            {"B=1&a=1&A=1", "A=1&B=1&a=1"},
            {"a=%00", "a=%00"},
            {"Param-3=Value3&Param=Value2", "Param=Value2&Param-3=Value3"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *url = es_asprintf("https://example.com/?%s", cases[i].query);
                struct es_sigv4_request req = base_request(url);
                struct es_aws_credentials cred = test_credentials(NULL);
                struct es_sigv4_result result = {0};

                sign_or_fail(&req, &cred, &result);
                expect_line(result.canonical_request, LINE_QUERY, cases[i].expected,
                            cases[i].query);
                es_sigv4_result_release(&result);
        }
}

struct headers_case {
        const char *headers[4];
        const char *expected_block;
        const char *expected_signed;
};

static void test_canonical_headers(void **state)
{
        static const struct headers_case cases[] = {
            {{"My-Header: value1", "my-header:value2", "MY-HEADER:  value3  "},
             "host:example.com\nmy-header:value1,value2,value3\nx-amz-date:20150830T123600Z",
             "host;my-header;x-amz-date"},
            {{"X-A:   a   b \t c  "},
             "host:example.com\nx-a:a b c\nx-amz-date:20150830T123600Z",
             "host;x-a;x-amz-date"},
            {{"X-Fold: first\r\n  second\n\tthird"},
             "host:example.com\nx-amz-date:20150830T123600Z\nx-fold:first second third",
             "host;x-amz-date;x-fold"},
            {{"X-Empty:", "X-Blank:    "},
             "host:example.com\nx-amz-date:20150830T123600Z\nx-blank:\nx-empty:",
             "host;x-amz-date;x-blank;x-empty"},
            {{"X-R: a", "X-R:", "X-R: b"},
             "host:example.com\nx-amz-date:20150830T123600Z\nx-r:a,,b",
             "host;x-amz-date;x-r"},
            {{"Host: Example.COM:8080  "},
             "host:Example.COM:8080\nx-amz-date:20150830T123600Z",
             "host;x-amz-date"},
            {{"Zeta: z", "Alpha: a", "content-type: text/plain"},
             "alpha:a\ncontent-type:text/plain\nhost:example.com\n"
             "x-amz-date:20150830T123600Z\nzeta:z",
             "alpha;content-type;host;x-amz-date;zeta"},
            {{"X-Quoted: \"a   b\"", "X-Utf8: caf\xc3\xa9"},
             "host:example.com\nx-amz-date:20150830T123600Z\nx-quoted:\"a b\"\n"
             "x-utf8:caf\xc3\xa9",
             "host;x-amz-date;x-quoted;x-utf8"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_sigv4_request req = base_request("https://example.com/");
                struct es_aws_credentials cred = test_credentials(NULL);
                struct es_sigv4_result result = {0};
                _cleanup_free_ char *block = NULL;
                _cleanup_free_ char *expected_authorization = NULL;
                size_t n = 0;

                while (n < ES_ARRAY_SIZE(cases[i].headers) && cases[i].headers[n] != NULL)
                        n++;
                req.headers = cases[i].headers;
                req.n_headers = n;
                sign_or_fail(&req, &cred, &result);

                block = header_block(result.canonical_request);
                if (strcmp(block, cases[i].expected_block) != 0) {
                        print_error("case %zu: header block\n--- expected\n%s\n--- actual\n%s\n", i,
                                    cases[i].expected_block, block);
                        fail();
                }
                assert_non_null(strstr(result.authorization, cases[i].expected_signed));
                expected_authorization = es_asprintf("SignedHeaders=%s,", cases[i].expected_signed);
                assert_non_null(strstr(result.authorization, expected_authorization));
                es_sigv4_result_release(&result);
        }
}

struct host_case {
        const char *url;
        const char *expected;
};

static void test_host_from_url(void **state)
{
        static const struct host_case cases[] = {
            {"https://EXAMPLE.com/", "host:example.com"},
            {"HTTPS://Example.COM", "host:example.com"},
            {"https://example.com:443/", "host:example.com"},
            {"http://example.com:80/", "host:example.com"},
            {"https://example.com:8443/", "host:example.com:8443"},
            {"http://example.com:443/", "host:example.com:443"},
            {"https://example.com:0443/", "host:example.com"},
            {"https://[::1]:8443/", "host:[::1]:8443"},
            {"https://[FE80::1]/", "host:[fe80::1]"},
            {"http://127.0.0.1:9000?x", "host:127.0.0.1:9000"},
            {"https://api.ecr.us-east-1.amazonaws.com/", "host:api.ecr.us-east-1.amazonaws.com"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_sigv4_request req = base_request(cases[i].url);
                struct es_aws_credentials cred = test_credentials(NULL);
                struct es_sigv4_result result = {0};

                sign_or_fail(&req, &cred, &result);
                expect_line(result.canonical_request, 3, cases[i].expected, cases[i].url);
                es_sigv4_result_release(&result);
        }
}

/* The get-vanilla case of the AWS test suite, written out as one full check. */
static void test_sign_vanilla_request(void **state)
{
        static const char *const headers[] = {"Host:example.amazonaws.com"};
        struct es_sigv4_request req = base_request("https://example.amazonaws.com/");
        struct es_aws_credentials cred = test_credentials(NULL);
        struct es_sigv4_result result = {0};

        req.headers = headers;
        req.n_headers = 1;
        sign_or_fail(&req, &cred, &result);

        assert_string_equal(result.canonical_request, "GET\n/\n\nhost:example.amazonaws.com\n"
                                                      "x-amz-date:20150830T123600Z\n\n"
                                                      "host;x-amz-date\n" EMPTY_SHA256);
        assert_string_equal(result.string_to_sign,
                            "AWS4-HMAC-SHA256\n20150830T123600Z\n"
                            "20150830/us-east-1/service/aws4_request\n"
                            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
        assert_string_equal(result.signature,
                            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
        assert_string_equal(result.amz_date, "20150830T123600Z");
        assert_string_equal(
            result.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
        assert_null(result.security_token_header);
        assert_null(result.content_sha256_header);
        es_sigv4_result_release(&result);
}

static void test_session_token_signed(void **state)
{
        struct es_sigv4_request req = base_request("https://example.com/");
        struct es_aws_credentials cred = test_credentials(SESSION_TOKEN);
        struct es_sigv4_result result = {0};

        sign_or_fail(&req, &cred, &result);
        assert_non_null(
            strstr(result.canonical_request, "\nx-amz-security-token:" SESSION_TOKEN "\n"));
        assert_non_null(
            strstr(result.authorization, "SignedHeaders=host;x-amz-date;x-amz-security-token,"));
        assert_string_equal(result.security_token_header, "X-Amz-Security-Token: " SESSION_TOKEN);
        es_sigv4_result_release(&result);
}

static void test_session_token_unsigned(void **state)
{
        struct es_sigv4_request req = base_request("https://example.com/");
        struct es_aws_credentials cred = test_credentials(SESSION_TOKEN);
        struct es_sigv4_result result = {0};

        req.sign_session_token = false;
        sign_or_fail(&req, &cred, &result);
        assert_null(strstr(result.canonical_request, "x-amz-security-token"));
        assert_non_null(strstr(result.authorization, "SignedHeaders=host;x-amz-date,"));

        /* The token is still sent, after signing. */
        assert_string_equal(result.security_token_header, "X-Amz-Security-Token: " SESSION_TOKEN);
        es_sigv4_result_release(&result);
}

static void test_session_token_empty_is_absent(void **state)
{
        struct es_sigv4_request req = base_request("https://example.com/");
        struct es_aws_credentials cred = test_credentials("");
        struct es_sigv4_result result = {0};

        sign_or_fail(&req, &cred, &result);
        assert_null(strstr(result.canonical_request, "x-amz-security-token"));
        assert_null(result.security_token_header);
        es_sigv4_result_release(&result);
}

static void test_payload_hash_of_body(void **state)
{
        static const char body[] = "Param1=value1";
        struct es_sigv4_request req = base_request("https://example.com/");
        struct es_aws_credentials cred = test_credentials(NULL);
        struct es_sigv4_result result = {0};
        _cleanup_free_ char *last = NULL;

        req.method = "POST";
        req.body = body;
        req.body_len = strlen(body);
        req.add_content_sha256 = true;
        sign_or_fail(&req, &cred, &result);

        last = line_at(result.canonical_request, 8);
        assert_string_equal(last,
                            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
        assert_non_null(strstr(result.canonical_request,
                               "\nx-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a6541923"
                               "29106275f4c7b24d0b6e\n"));
        assert_string_equal(result.content_sha256_header,
                            "X-Amz-Content-SHA256: "
                            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
        es_sigv4_result_release(&result);
}

static void test_payload_hash_given(void **state)
{
        static const char body[] = "ignored when a payload hash is given";
        struct es_sigv4_request req = base_request("https://bucket.s3.amazonaws.com/key");
        struct es_aws_credentials cred = test_credentials(NULL);
        struct es_sigv4_result result = {0};
        const char *end;

        req.method = "PUT";
        req.body = body;
        req.body_len = strlen(body);
        req.payload_hash = "UNSIGNED-PAYLOAD";
        req.add_content_sha256 = true;
        req.normalize_path = false;
        req.encode_path = false;
        sign_or_fail(&req, &cred, &result);

        end = strrchr(result.canonical_request, '\n');
        assert_string_equal(end, "\nUNSIGNED-PAYLOAD");
        assert_non_null(
            strstr(result.canonical_request, "\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n"));
        assert_string_equal(result.content_sha256_header, "X-Amz-Content-SHA256: UNSIGNED-PAYLOAD");
        es_sigv4_result_release(&result);
}

static void test_signature_depends_on_inputs(void **state)
{
        struct es_sigv4_request req = base_request("https://example.com/");
        struct es_aws_credentials cred = test_credentials(NULL);
        struct es_sigv4_result base = {0}, changed = {0};

        sign_or_fail(&req, &cred, &base);

        req.region = "eu-west-1";
        sign_or_fail(&req, &cred, &changed);
        assert_string_not_equal(base.signature, changed.signature);
        assert_non_null(strstr(changed.string_to_sign, "/eu-west-1/service/aws4_request\n"));
        es_sigv4_result_release(&changed);

        req.region = "us-east-1";
        req.timestamp = SUITE_TIME + 1;
        sign_or_fail(&req, &cred, &changed);
        assert_string_not_equal(base.signature, changed.signature);
        assert_string_equal(changed.amz_date, "20150830T123601Z");
        es_sigv4_result_release(&changed);

        cred.secret_access_key = (char *)"another secret";
        req.timestamp = SUITE_TIME;
        sign_or_fail(&req, &cred, &changed);
        assert_string_not_equal(base.signature, changed.signature);
        assert_string_equal(base.canonical_request, changed.canonical_request);
        es_sigv4_result_release(&changed);

        es_sigv4_result_release(&base);
}

struct invalid_case {
        const char *name;
        const char *url;
        const char *header;
        const char *message;
};

static void test_rejects_invalid_request(void **state)
{
        static const struct invalid_case cases[] = {
            {"no scheme", "example.com/", NULL, "expected an absolute http or https URL"},
            {"ftp scheme", "ftp://example.com/", NULL, "scheme \"ftp\" is not http or https"},
            {"no host", "https:///path", NULL, "missing host"},
            {"empty IPv6", "https://[]/", NULL, "missing host"},
            {"user info", "https://user:pass@example.com/", NULL, "user information"},
            {"port letters", "https://example.com:abc/", NULL, "invalid port \"abc\""},
            {"empty port", "https://example.com:/", NULL, "invalid port \"\""},
            {"port zero", "https://example.com:0/", NULL, "port 0 is out of range"},
            {"port too big", "https://example.com:70000/", NULL, "port 70000 is out of range"},
            {"open IPv6", "https://[::1/", NULL, "missing ']'"},
            {"space in host", "https://exa mple.com/", NULL, "invalid character 0x20"},
            {"control in URL", "https://example.com/a\tb", NULL, "control character 0x09"},
            {"bad escape", "https://example.com/?a=%zz", NULL,
             "malformed percent-encoding at offset 2 of the query"},
            {"short escape", "https://example.com/?a=1&b%4", NULL,
             "malformed percent-encoding at offset 5 of the query"},
            {"lone percent", "https://example.com/?%", NULL,
             "malformed percent-encoding at offset 0"},
            {"no colon", "https://example.com/", "My-Header value", "missing ':' after the name"},
            {"empty name", "https://example.com/", ": value", "empty name"},
            {"space in name", "https://example.com/", "My Header: value",
             "invalid character 0x20 in the name"},
            {"bare LF", "https://example.com/", "X-A: a\nb", "control character"},
            {"trailing LF", "https://example.com/", "X-A: a\n", "control character"},
            {"bare CR", "https://example.com/", "X-A: a\r b", "control character"},
            {"control in value", "https://example.com/", "X-A: a\x01", "control character"},
            {"authorization", "https://example.com/", "Authorization: x",
             "\"authorization\" is produced by the signer"},
            {"x-amz-date", "https://example.com/", "X-Amz-Date: 20150830T123600Z",
             "\"x-amz-date\" is produced by the signer"},
            {"security token", "https://example.com/", "x-amz-security-token: t",
             "\"x-amz-security-token\" is produced by the signer"},
            {"content sha256", "https://example.com/", "X-Amz-Content-SHA256: h",
             "\"x-amz-content-sha256\" is produced by the signer"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_sigv4_request req = base_request(cases[i].url);
                struct es_aws_credentials cred = test_credentials(NULL);
                struct es_sigv4_result result;
                struct es_error err = ES_ERROR_INIT;
                int r;

                memset(&result, 0x5a, sizeof(result));
                if (cases[i].header != NULL) {
                        req.headers = &cases[i].header;
                        req.n_headers = 1;
                }
                r = es_sigv4_sign(&req, &cred, &result, &err);
                if (r != -ES_ERR_INVALID ||
                    strstr(es_error_message(&err), cases[i].message) == NULL)
                        print_error("case \"%s\": returned %d, message \"%s\", expected \"%s\"\n",
                                    cases[i].name, r, es_error_message(&err), cases[i].message);
                assert_int_equal(r, -ES_ERR_INVALID);
                assert_int_equal(err.code, ES_ERR_INVALID);
                assert_non_null(strstr(es_error_message(&err), cases[i].message));

                /* The output is left as it was. */
                for (size_t b = 0; b < sizeof(result); b++)
                        assert_int_equal(((unsigned char *)&result)[b], 0x5a);
                es_error_release(&err);
        }
}

struct invalid_field_case {
        const char *name;
        void (*change)(struct es_sigv4_request *req, struct es_aws_credentials *cred);
        const char *message;
};

static void no_region(struct es_sigv4_request *req, struct es_aws_credentials *cred)
{
        req->region = NULL;
}

static void empty_region(struct es_sigv4_request *req, struct es_aws_credentials *cred)
{
        req->region = "";
}

static void slash_in_region(struct es_sigv4_request *req, struct es_aws_credentials *cred)
{
        req->region = "us-east-1/x";
}

static void no_service(struct es_sigv4_request *req, struct es_aws_credentials *cred)
{
        req->service = NULL;
}

static void space_in_service(struct es_sigv4_request *req, struct es_aws_credentials *cred)
{
        req->service = "e cr";
}

static void no_url(struct es_sigv4_request *req, struct es_aws_credentials *cred)
{
        req->url = NULL;
}

static void no_method(struct es_sigv4_request *req, struct es_aws_credentials *cred)
{
        req->method = "";
}

static void space_in_method(struct es_sigv4_request *req, struct es_aws_credentials *cred)
{
        req->method = "GET /";
}

static void empty_payload_hash(struct es_sigv4_request *req, struct es_aws_credentials *cred)
{
        req->payload_hash = "";
}

static void newline_in_payload_hash(struct es_sigv4_request *req, struct es_aws_credentials *cred)
{
        req->payload_hash = "UNSIGNED-PAYLOAD\nx";
}

static void negative_time(struct es_sigv4_request *req, struct es_aws_credentials *cred)
{
        req->timestamp = -1;
}

static void year_10000(struct es_sigv4_request *req, struct es_aws_credentials *cred)
{
        req->timestamp = (time_t)253402300800; /* 10000-01-01T00:00:00Z */
}

static void no_key_id(struct es_sigv4_request *req, struct es_aws_credentials *cred)
{
        cred->access_key_id = NULL;
}

static void slash_in_key_id(struct es_sigv4_request *req, struct es_aws_credentials *cred)
{
        cred->access_key_id = (char *)"AKID/EXAMPLE";
}

static void empty_secret(struct es_sigv4_request *req, struct es_aws_credentials *cred)
{
        cred->secret_access_key = (char *)"";
}

static void newline_in_token(struct es_sigv4_request *req, struct es_aws_credentials *cred)
{
        cred->session_token = (char *)"token\r\nX-Injected: 1";
}

static void test_rejects_invalid_fields(void **state)
{
        static const struct invalid_field_case cases[] = {
            {"no region", no_region, "missing region"},
            {"empty region", empty_region, "missing region"},
            {"slash in region", slash_in_region, "invalid region \"us-east-1/x\""},
            {"no service", no_service, "missing service"},
            {"space in service", space_in_service, "invalid service \"e cr\""},
            {"no URL", no_url, "missing URL"},
            {"no method", no_method, "missing HTTP method"},
            {"space in method", space_in_method, "invalid HTTP method"},
            {"empty payload hash", empty_payload_hash, "invalid payload hash"},
            {"newline in payload hash", newline_in_payload_hash, "invalid payload hash"},
            {"negative time", negative_time, "invalid signing time -1"},
            {"year 10000", year_10000, "invalid signing time 253402300800"},
            {"no key id", no_key_id, "missing AWS access key id"},
            {"slash in key id", slash_in_key_id, "invalid AWS access key id"},
            {"empty secret", empty_secret, "missing AWS secret access key"},
            {"newline in token", newline_in_token, "invalid AWS session token"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_sigv4_request req = base_request("https://example.com/");
                struct es_aws_credentials cred = test_credentials(NULL);
                struct es_sigv4_result result = {0};
                struct es_error err = ES_ERROR_INIT;
                int r;

                cases[i].change(&req, &cred);
                r = es_sigv4_sign(&req, &cred, &result, &err);
                if (r != -ES_ERR_INVALID ||
                    strstr(es_error_message(&err), cases[i].message) == NULL)
                        print_error("case \"%s\": returned %d, message \"%s\", expected \"%s\"\n",
                                    cases[i].name, r, es_error_message(&err), cases[i].message);
                assert_int_equal(r, -ES_ERR_INVALID);
                assert_non_null(strstr(es_error_message(&err), cases[i].message));
                assert_null(result.canonical_request);
                assert_null(result.authorization);
                es_error_release(&err);
        }
}

/* A rejected header or token must not carry its value into the error message. */
static void test_errors_hide_values(void **state)
{
        static const char *const headers[] = {"X-Api-Key: topsecretvalue\x01"};
        struct es_sigv4_request req = base_request("https://example.com/");
        struct es_aws_credentials cred = test_credentials(NULL);
        struct es_sigv4_result result = {0};
        struct es_error err = ES_ERROR_INIT;

        req.headers = headers;
        req.n_headers = 1;
        assert_int_equal(es_sigv4_sign(&req, &cred, &result, &err), -ES_ERR_INVALID);
        assert_null(strstr(es_error_message(&err), "topsecretvalue"));
        assert_non_null(strstr(es_error_message(&err), "x-api-key"));
        es_error_release(&err);

        req.n_headers = 0;
        cred.session_token = (char *)"tokenvalue\n";
        assert_int_equal(es_sigv4_sign(&req, &cred, &result, &err), -ES_ERR_INVALID);
        assert_null(strstr(es_error_message(&err), "tokenvalue"));
        es_error_release(&err);

        req.url = "https://user:hunter2@example.com/";
        cred.session_token = NULL;
        assert_int_equal(es_sigv4_sign(&req, &cred, &result, &err), -ES_ERR_INVALID);
        assert_null(strstr(es_error_message(&err), "hunter2"));
        es_error_release(&err);
}

static void test_result_release(void **state)
{
        struct es_sigv4_request req = base_request("https://example.com/");
        struct es_aws_credentials cred = test_credentials(SESSION_TOKEN);
        struct es_sigv4_result result = {0};
        const struct es_sigv4_result zero = {0};

        es_sigv4_result_release(NULL);
        sign_or_fail(&req, &cred, &result);
        es_sigv4_result_release(&result);
        assert_memory_equal(&result, &zero, sizeof(result));

        /* Releasing twice is harmless. */
        es_sigv4_result_release(&result);
}

static void test_credentials_release(void **state)
{
        struct es_aws_credentials cred = {
            .access_key_id = es_strdup(ACCESS_KEY_ID),
            .secret_access_key = es_strdup(SECRET_KEY),
            .session_token = es_strdup(SESSION_TOKEN),
            .expiration = 1,
        };
        const struct es_aws_credentials zero = {0};

        es_aws_credentials_release(NULL);
        es_aws_credentials_release(&cred);
        assert_memory_equal(&cred, &zero, sizeof(cred));

        cred.access_key_id = es_strdup(ACCESS_KEY_ID);
        cred.secret_access_key = es_strdup(SECRET_KEY);
        es_aws_credentials_release(&cred);
        assert_memory_equal(&cred, &zero, sizeof(cred));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_canonical_path),
            cmocka_unit_test(test_canonical_query),
            cmocka_unit_test(test_canonical_headers),
            cmocka_unit_test(test_host_from_url),
            cmocka_unit_test(test_sign_vanilla_request),
            cmocka_unit_test(test_session_token_signed),
            cmocka_unit_test(test_session_token_unsigned),
            cmocka_unit_test(test_session_token_empty_is_absent),
            cmocka_unit_test(test_payload_hash_of_body),
            cmocka_unit_test(test_payload_hash_given),
            cmocka_unit_test(test_signature_depends_on_inputs),
            cmocka_unit_test(test_rejects_invalid_request),
            cmocka_unit_test(test_rejects_invalid_fields),
            cmocka_unit_test(test_errors_hide_values),
            cmocka_unit_test(test_result_release),
            cmocka_unit_test(test_credentials_release),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
