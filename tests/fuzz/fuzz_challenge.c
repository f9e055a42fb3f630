/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for WWW-Authenticate values (registry/challenge.c). Input: the
 * header value. A value that parses must give at most 64 challenges, each
 * with a lowercase scheme, as es_challenge_parse() promises.
 */
#include <ctype.h>

#include "fuzz.h"
#include "registry/challenge.h"

/* Same limit as MAX_CHALLENGES in registry/challenge.c, which the header documents. */
#define MAX_CHALLENGES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *header = fuzz_text(data, size);
        struct es_challenge_list list = {0};
        struct es_error err = ES_ERROR_INIT;

        if (es_challenge_parse(header, &list, &err) == 0) {
                const struct es_challenge *bearer = es_challenge_find(&list, "bearer");

                if (list.count > MAX_CHALLENGES || (list.count > 0 && list.items == NULL))
                        abort();
                for (size_t i = 0; i < list.count; i++) {
                        const char *scheme = list.items[i].scheme;

                        if (scheme == NULL || scheme[0] == '\0')
                                abort();
                        for (const char *c = scheme; *c != '\0'; c++) {
                                if (isupper((unsigned char)*c))
                                        abort();
                        }
                }
                if (bearer != NULL && bearer->scheme[0] != 'b')
                        abort();
                (void)es_challenge_find(&list, "basic");
                es_challenge_list_release(&list);
        } else if (err.message == NULL || list.items != NULL) {
                abort();
        }

        es_error_release(&err);
        free(header);
        return 0;
}
