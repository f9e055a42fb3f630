/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for registry/link.c: finding the "next" link in a Link header. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "registry/link.h"

struct valid_case {
        const char *header;
        const char *next; /* NULL when the header has no next link */
};

struct invalid_case {
        const char *header;
        const char *message;
};

static void test_find_next(void **state)
{
        static const struct valid_case cases[] = {
            {"</v2/nginx/tags/list?last=1.27&n=100>; rel=\"next\"",
             "/v2/nginx/tags/list?last=1.27&n=100"},
            {"<https://r.example/v2/x/tags/list?n=2&last=b>; rel=\"next\"",
             "https://r.example/v2/x/tags/list?n=2&last=b"},
            {"</a>; rel=\"prev\", </b>; rel=\"next\"", "/b"},
            {"</b>; rel=\"next\", </a>; rel=\"prev\"", "/b"},
            {"</first>; rel=\"next\", </second>; rel=\"next\"", "/first"},
            {"</c>; rel=\"next prev\"", "/c"},
            {"</c>; rel=\"prev  next\"", "/c"},
            {"</c>; rel=\"nextpage\"", NULL},
            {"</d>; rel=next", "/d"},
            {"</e>; title=\"x, y; z\"; rel=\"next\"; type=\"text/plain\"", "/e"},
            {"</e>; type=text/plain; rel=next", "/e"},
            {"</f>; rel=\"prev\"", NULL},
            {"</f>", NULL},
            {"", NULL},
            {"  ", NULL},
            {"</g>; REL=\"NEXT\"", "/g"},
            {"</g>; rel=\"Next\"", "/g"},
            {"</h>; rel=\"prev\"; rel=\"next\"", NULL},
            {"  </i> ;rel = \"next\"  ", "/i"},
            {"</j?a=1,2>; rel=\"next\"", "/j?a=1,2"},
            {"</k>; crossorigin; rel=\"next\"", "/k"},
            {"</l>; rel=\"\"", NULL},
            {"</m>;rel=\"n\\ext\"", "/m"},
            {"</n>; rel=\"prev\",</o>;rel=next,</p>;rel=last", "/o"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_error err = ES_ERROR_INIT;
                _cleanup_free_ char *next = NULL;
                int r = es_link_find_next(cases[i].header, &next, &err);

                if (r != 0)
                        print_error("header '%s': %s\n", cases[i].header, es_error_message(&err));
                assert_int_equal(r, 0);
                if (cases[i].next == NULL) {
                        if (next != NULL)
                                print_error("header '%s': expected no next link, got '%s'\n",
                                            cases[i].header, next);
                        assert_null(next);
                } else {
                        if (next == NULL)
                                print_error("header '%s': no next link found\n", cases[i].header);
                        assert_non_null(next);
                        assert_string_equal(next, cases[i].next);
                }
                es_error_release(&err);
        }
}

static void test_find_next_rejects_malformed(void **state)
{
        static const struct invalid_case cases[] = {
            {"/v2/x; rel=\"next\"",
             "invalid Link header: expected '<' to open a link target at offset 0"},
            {"</v2/x; rel=\"next\"",
             "invalid Link header: missing '>' after the link target at offset 0"},
            {"</a>; rel=\"next", "invalid Link header: unterminated quoted string at offset 15"},
            {"</a>; rel=\"next\\", "invalid Link header: unterminated quoted string at offset "
                                   "15"},
            {"</a> rel=\"next\"",
             "invalid Link header: expected ';' or ',' after the link target at offset 5"},
            {"</a>; =\"x\"", "invalid Link header: expected a token at offset 6"},
            {"</a>; rel=", "invalid Link header: missing param value at offset 10"},
            {"<>; rel=\"next\"", "invalid Link header: empty target for rel \"next\" at offset 14"},
            {"</a>; rel=\"next\", garbage",
             "invalid Link header: expected '<' to open a link target at offset 18"},
            {"</a>; rel=\"prev\" x",
             "invalid Link header: expected ';' or ',' after the link target at offset 17"},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(cases); i++) {
                struct es_error err = ES_ERROR_INIT;
                char *next = (char *)"untouched";
                int r = es_link_find_next(cases[i].header, &next, &err);

                if (r != -ES_ERR_PROTOCOL)
                        print_error("header '%s' was accepted or failed with %d\n", cases[i].header,
                                    r);
                assert_int_equal(r, -ES_ERR_PROTOCOL);
                assert_null(next);
                if (strcmp(es_error_message(&err), cases[i].message) != 0)
                        print_error("header '%s'\n", cases[i].header);
                assert_string_equal(es_error_message(&err), cases[i].message);
                es_error_release(&err);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_find_next),
            cmocka_unit_test(test_find_next_rejects_malformed),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
