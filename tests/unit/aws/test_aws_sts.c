/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for aws/xml.c and the response parsing of aws/sts.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "aws/source.h"
#include "aws/sts.h"
#include "aws/xml.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"

#define NS "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\""

static const char assume_role_response[] =
    "<AssumeRoleResponse " NS ">\n"
    "  <AssumeRoleResult>\n"
    "    <SourceIdentity>dev</SourceIdentity>\n"
    "    <AssumedRoleUser>\n"
    "      <Arn>arn:aws:sts::123456789012:assumed-role/demo/s</Arn>\n"
    "      <AssumedRoleId>ARO123EXAMPLE123:s</AssumedRoleId>\n"
    "    </AssumedRoleUser>\n"
    "    <Credentials>\n"
    "      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>\n"
    "      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>\n"
    "      <SessionToken>AQoDYXdzEPT//////////wEXAMPLEtc764&#x2B;a=</SessionToken>\n"
    "      <Expiration>2019-11-09T13:34:41Z</Expiration>\n"
    "    </Credentials>\n"
    "    <PackedPolicySize>6</PackedPolicySize>\n"
    "  </AssumeRoleResult>\n"
    "  <ResponseMetadata>\n"
    "    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n"
    "  </ResponseMetadata>\n"
    "</AssumeRoleResponse>\n";

static void test_xml_extract(void **state)
{
        static const struct {
                const char *xml;
                const char *path;
                const char *expected; /* NULL: no such element */
        } cases[] = {
            {"<a><b>text</b></a>", "/a/b", "text"},
            {"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a><b>x</b></a>", "/a/b", "x"},
            {"<a><b> padded \n</b></a>", "/a/b", "padded"},
            {"<a><b>&lt;&gt;&amp;&quot;&apos;</b></a>", "/a/b", "<>&\"'"},
            {"<a><b>&#65;&#x42;&#x00e9;&#x20AC;&#x1F600;</b></a>", "/a/b",
             "AB\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"},
            {"<a><b><![CDATA[<raw> & stuff]]></b></a>", "/a/b", "<raw> & stuff"},
            {"<a><b>x<!-- comment -->y</b></a>", "/a/b", "xy"},
            {"<ns:a xmlns:ns=\"u\"><ns:b attr='1' other=\"2\">v</ns:b></ns:a>", "/a/b", "v"},
            {"<a><b>first</b><b>second</b></a>", "/a/b", "first"},
            {"<a><c><b>deep</b></c><b>shallow</b></a>", "/a/b", "shallow"},
            {"<a><b/></a>", "/a/b", ""},
            {"<a><b></b></a>", "/a/b", ""},
            {"<a><b>x</b></a>", "/a/c", NULL},
            {"<a><b>x</b></a>", "/b", NULL},
            {"<a ><b\n>x</b ></a>", "/a/b", "x"},
            {"\xef\xbb\xbf<a><b>bom</b></a>", "/a/b", "bom"},
            {"<!-- before --><a><b>x</b></a><!-- after -->\n", "/a/b", "x"},
            {"<a><b attr=\"&amp;\">x</b></a>", "/a/b", "x"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_aws_xml_field field = {cases[i].path, NULL};
                struct es_error err = ES_ERROR_INIT;
                int r = es_aws_xml_extract(cases[i].xml, strlen(cases[i].xml), &field, 1, &err);

                if (r != 0)
                        print_error("case %zu: %s\n", i, es_error_message(&err));
                assert_int_equal(r, 0);
                if (cases[i].expected == NULL) {
                        assert_null(field.value);
                } else {
                        if (field.value == NULL || strcmp(field.value, cases[i].expected) != 0)
                                print_error("case %zu: expected '%s', got '%s'\n", i,
                                            cases[i].expected,
                                            field.value ? field.value : "(null)");
                        assert_non_null(field.value);
                        assert_string_equal(field.value, cases[i].expected);
                }
                es_aws_xml_fields_release(&field, 1);
                es_error_release(&err);
        }
}

static void test_xml_rejects_malformed(void **state)
{
        static const struct {
                const char *xml;
                const char *message;
        } cases[] = {
            {"", "invalid XML at byte 0: no root element"},
            {"   ", "invalid XML at byte 3: no root element"},
            {"<a><b>x</a>", "invalid XML at byte 11: end tag does not match the open element"},
            {"<a><b>x</b>", "invalid XML at byte 11: unexpected end of the document"},
            {"<a>x</a><b/>", "invalid XML at byte 8: a second root element"},
            {"text<a/>", "invalid XML at byte 0: text outside the root element"},
            {"<a>&unknown;</a>",
             "invalid XML at byte 3: unknown entity (only the five predefined ones are "
             "accepted)"},
            {"<a>& x</a>", "invalid XML at byte 3: '&' does not start a reference"},
            {"<a>&#0;</a>",
             "invalid XML at byte 3: character reference to a character XML forbids"},
            {"<a>&#xD800;</a>",
             "invalid XML at byte 3: character reference to a character XML forbids"},
            {"<a>&#x110000;</a>", "invalid XML at byte 3: character reference out of range"},
            {"<a>&#xZZ;</a>", "invalid XML at byte 3: invalid character reference"},
            {"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
             "invalid XML at byte 0: DOCTYPE and other declarations are not accepted"},
            {"<a b=c></a>", "invalid XML at byte 5: expected a quoted attribute value"},
            {"<a b></a>", "invalid XML at byte 4: expected '=' after an attribute name"},
            {"<a b=\"x></a>", "invalid XML at byte 8: invalid character in an attribute value"},
            {"<a><![CDATA[x</a>", "invalid XML at byte 12: unterminated CDATA section"},
            {"<a><!-- x</a>", "invalid XML at byte 3: unterminated comment"},
            {"<1a/>", "invalid XML at byte 1: expected a name"},
            {"</a>", "invalid XML at byte 4: end tag without a start tag"},
            {"<a", "invalid XML at byte 2: unterminated start tag"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_aws_xml_field field = {"/a", NULL};
                struct es_error err = ES_ERROR_INIT;
                int r = es_aws_xml_extract(cases[i].xml, strlen(cases[i].xml), &field, 1, &err);

                if (r != -ES_ERR_PROTOCOL || strcmp(es_error_message(&err), cases[i].message) != 0)
                        print_error("case %zu: r=%d '%s'\n", i, r, es_error_message(&err));
                assert_int_equal(r, -ES_ERR_PROTOCOL);
                assert_string_equal(es_error_message(&err), cases[i].message);
                assert_null(field.value);
                es_error_release(&err);
        }
}

static void test_xml_rejects_nul_and_deep_nesting(void **state)
{
        static const char with_nul[] = "<a>x\0y</a>";
        struct es_aws_xml_field field = {"/a", NULL};
        struct es_error err = ES_ERROR_INIT;
        struct es_buf deep = ES_BUF_INIT(0);

        assert_int_equal(es_aws_xml_extract(with_nul, sizeof(with_nul) - 1, &field, 1, &err),
                         -ES_ERR_PROTOCOL);
        assert_string_equal(es_error_message(&err), "invalid XML at byte 4: NUL byte");

        for (int i = 0; i < ES_AWS_XML_MAX_DEPTH + 1; i++)
                es_buf_puts(&deep, "<a>");
        assert_int_equal(es_aws_xml_extract(deep.data, deep.len, &field, 1, &err),
                         -ES_ERR_PROTOCOL);
        assert_non_null(strstr(es_error_message(&err), "elements nested too deeply"));
        es_buf_release(&deep);
        es_error_release(&err);
}

static void test_sts_parse_assume_role(void **state)
{
        struct es_aws_credentials credentials = {0};
        struct es_error err = ES_ERROR_INIT;
        time_t expected;
        int r;

        r = es_aws_sts_parse_response("AssumeRole", 200, assume_role_response,
                                      strlen(assume_role_response), &credentials, &err);
        if (r != 0)
                print_error("%s\n", es_error_message(&err));
        assert_int_equal(r, 0);
        assert_string_equal(credentials.access_key_id, "ASIAIOSFODNN7EXAMPLE");
        assert_string_equal(credentials.secret_access_key,
                            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
        assert_string_equal(credentials.session_token, "AQoDYXdzEPT//////////wEXAMPLEtc764+a=");
        assert_int_equal(es_aws_time_parse("2019-11-09T13:34:41Z", &expected), 0);
        assert_int_equal(credentials.expiration, expected);
        es_aws_credentials_release(&credentials);
}

static void test_sts_parse_web_identity(void **state)
{
        static const char body[] =
            "<AssumeRoleWithWebIdentityResponse " NS "><AssumeRoleWithWebIdentityResult>"
            "<SubjectFromWebIdentityToken>system:serviceaccount:ns:sa"
            "</SubjectFromWebIdentityToken>"
            "<Credentials><SessionToken>tok&amp;en</SessionToken>"
            "<SecretAccessKey>sec&lt;ret</SecretAccessKey>"
            "<Expiration>2024-05-01T12:00:00.000Z</Expiration>"
            "<AccessKeyId>ASIAWEB</AccessKeyId></Credentials>"
            "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
        struct es_aws_credentials credentials = {0};
        struct es_error err = ES_ERROR_INIT;
        time_t expected;

        assert_int_equal(es_aws_sts_parse_response("AssumeRoleWithWebIdentity", 200, body,
                                                   strlen(body), &credentials, &err),
                         0);
        assert_string_equal(credentials.access_key_id, "ASIAWEB");
        assert_string_equal(credentials.secret_access_key, "sec<ret");
        assert_string_equal(credentials.session_token, "tok&en");
        assert_int_equal(es_aws_time_parse("2024-05-01T12:00:00Z", &expected), 0);
        assert_int_equal(credentials.expiration, expected);
        es_aws_credentials_release(&credentials);

        /* The response of the other action does not match. */
        assert_int_equal(
            es_aws_sts_parse_response("AssumeRole", 200, body, strlen(body), &credentials, &err),
            -ES_ERR_PROTOCOL);
        assert_string_equal(es_error_message(&err),
                            "the response has no AssumeRoleResult/Credentials/AccessKeyId");
        es_error_release(&err);
}

static void test_sts_parse_errors(void **state)
{
        static const struct {
                long status;
                const char *body;
                enum es_error_code code;
                const char *message;
                const char *service_code;
        } cases[] = {
            {403,
             "<ErrorResponse " NS "><Error><Type>Sender</Type><Code>AccessDenied</Code>"
             "<Message>User: arn:aws:iam::1:user/u is not authorized to perform: "
             "sts:AssumeRole on resource: arn:aws:iam::1:role/&quot;r&quot; &amp; more"
             "</Message></Error><RequestId>id</RequestId></ErrorResponse>",
             ES_ERR_AUTH,
             "403 AccessDenied: User: arn:aws:iam::1:user/u is not authorized to perform: "
             "sts:AssumeRole on resource: arn:aws:iam::1:role/\"r\" & more",
             "AccessDenied"},
            {403,
             "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>The request "
             "signature we calculated does not match</Message></Error></ErrorResponse>",
             ES_ERR_AUTH,
             "403 SignatureDoesNotMatch: The request signature we calculated does not match",
             "SignatureDoesNotMatch"},
            {400,
             "<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>bad\ntoken"
             "</Message></Error></ErrorResponse>",
             ES_ERR_AUTH, "400 InvalidIdentityToken: bad token", "InvalidIdentityToken"},
            {400,
             "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message>"
             "</Error></ErrorResponse>",
             ES_ERR_RATE_LIMITED, "400 Throttling: Rate exceeded", "Throttling"},
            {400,
             "<ErrorResponse><Error><Code>ValidationError</Code><Message>1 validation error"
             "</Message></Error></ErrorResponse>",
             ES_ERR_INVALID, "400 ValidationError: 1 validation error", "ValidationError"},
            {503, "<Error><Code>ServiceUnavailable</Code></Error>", ES_ERR_TRANSIENT,
             "503 ServiceUnavailable", "ServiceUnavailable"},
            {500, "not xml at all", ES_ERR_TRANSIENT, "HTTP 500 without a readable error", NULL},
            {403, "", ES_ERR_AUTH, "HTTP 403 without a readable error", NULL},
            {404, "<html><body>Not Found</body></html>", ES_ERR_INVALID, "HTTP 404", NULL},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_aws_credentials credentials = {0};
                struct es_error err = ES_ERROR_INIT;
                int r = es_aws_sts_parse_response("AssumeRole", cases[i].status, cases[i].body,
                                                  strlen(cases[i].body), &credentials, &err);

                if (r != -(int)cases[i].code ||
                    strcmp(es_error_message(&err), cases[i].message) != 0)
                        print_error("case %zu: r=%d '%s'\n", i, r, es_error_message(&err));
                assert_int_equal(r, -(int)cases[i].code);
                assert_string_equal(es_error_message(&err), cases[i].message);
                assert_int_equal(err.http_status, cases[i].status);
                if (cases[i].service_code)
                        assert_string_equal(err.registry_code, cases[i].service_code);
                else
                        assert_null(err.registry_code);
                assert_null(credentials.access_key_id);
                es_error_release(&err);
        }
}

static void test_sts_parse_rejects_bad_credentials(void **state)
{
        static const struct {
                const char *credentials; /* the inside of <Credentials> */
                const char *message;
        } cases[] = {
            {"<AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
             "<Expiration>2024-01-01T00:00:00Z</Expiration>",
             "the response has no AssumeRoleResult/Credentials/SessionToken"},
            {"<AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
             "<SessionToken>T</SessionToken><Expiration>tomorrow</Expiration>",
             "the response's Expiration \"tomorrow\" is not an ISO 8601 time"},
            {"<AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
             "<SessionToken>T&#10;Injected: header</SessionToken>"
             "<Expiration>2024-01-01T00:00:00Z</Expiration>",
             "the STS response: the session token contains a character that is not printable "
             "ASCII (at byte 1)"},
            {"<AccessKeyId></AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
             "<SessionToken>T</SessionToken><Expiration>2024-01-01T00:00:00Z</Expiration>",
             "the response has no AssumeRoleResult/Credentials/AccessKeyId"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *body = es_asprintf(
                    "<AssumeRoleResponse><AssumeRoleResult><Credentials>%s</Credentials>"
                    "</AssumeRoleResult></AssumeRoleResponse>",
                    cases[i].credentials);
                struct es_aws_credentials credentials = {0};
                struct es_error err = ES_ERROR_INIT;
                int r = es_aws_sts_parse_response("AssumeRole", 200, body, strlen(body),
                                                  &credentials, &err);

                if (r != -ES_ERR_PROTOCOL || strcmp(es_error_message(&err), cases[i].message) != 0)
                        print_error("case %zu: r=%d '%s'\n", i, r, es_error_message(&err));
                assert_int_equal(r, -ES_ERR_PROTOCOL);
                assert_string_equal(es_error_message(&err), cases[i].message);
                assert_null(credentials.access_key_id);
                es_error_release(&err);
        }
}

/* A malformed success response must not leak its secret into the message. */
static void test_sts_parse_error_hides_secrets(void **state)
{
        static const char body[] = "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
                                   "<SecretAccessKey>TOPSECRET</SecretAccessKey><Oops>"
                                   "</AssumeRoleResult></AssumeRoleResponse>";
        struct es_aws_credentials credentials = {0};
        struct es_error err = ES_ERROR_INIT;

        assert_int_equal(
            es_aws_sts_parse_response("AssumeRole", 200, body, strlen(body), &credentials, &err),
            -ES_ERR_PROTOCOL);
        assert_non_null(strstr(es_error_message(&err), "invalid XML at byte"));
        assert_null(strstr(es_error_message(&err), "TOPSECRET"));
        es_error_release(&err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_xml_extract),
            cmocka_unit_test(test_xml_rejects_malformed),
            cmocka_unit_test(test_xml_rejects_nul_and_deep_nesting),
            cmocka_unit_test(test_sts_parse_assume_role),
            cmocka_unit_test(test_sts_parse_web_identity),
            cmocka_unit_test(test_sts_parse_errors),
            cmocka_unit_test(test_sts_parse_rejects_bad_credentials),
            cmocka_unit_test(test_sts_parse_error_hides_secrets),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
