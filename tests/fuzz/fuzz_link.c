/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for Link headers (registry/link.c) as tags/list pagination
 * sends them. Input: the header value. The "next" target, when found, is
 * also resolved against a registry URL, as the client does before fetching
 * the next page.
 */
#include "fuzz.h"
#include "registry/link.h"
#include "registry/url.h"

#define PAGE_URL "https://registry.example:5000/v2/team/app/tags/list?n=100"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *header = fuzz_text(data, size);
        struct es_error err = ES_ERROR_INIT;
        char *next = NULL;

        if (es_link_find_next(header, &next, &err) == 0) {
                if (next != NULL) {
                        char *resolved = NULL;

                        if (next[0] == '\0')
                                abort();
                        if (es_url_resolve(PAGE_URL, next, &resolved, &err) == 0 &&
                            resolved == NULL)
                                abort();
                        free(resolved);
                }
        } else if (err.message == NULL || next != NULL) {
                abort();
        }

        free(next);
        es_error_release(&err);
        free(header);
        return 0;
}
