/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the URL helpers (registry/url.c) with the URLs that
 * registries send: Location headers and Link targets. Input: one URL text,
 * resolved as a reference against fixed base URLs, and as a base for fixed
 * references. A resolved URL must be absolute http or https without a
 * fragment, and must have the same origin as itself.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "registry/url.h"

static const char *const bases[] = {
    "https://registry.example:5000/v2/team/app/blobs/uploads/",
    "http://127.0.0.1:5000/v2/app/tags/list?n=100",
    "https://[::1]/v2/",
};

static const char *const references[] = {
    "/v2/team/app/blobs/uploads/0f1e2d3c?_state=c3RhdGU%3D",
    "?last=1.27&n=100",
    "https://cdn.example/blobs/sha256/ab?X-Amz-Signature=00#part",
    "../../tags/list",
    "",
};

static void check_resolved(const char *url)
{
        if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
                abort();
        if (strchr(url, '#') != NULL)
                abort();
        if (!es_url_same_origin(url, url))
                abort();
}

static void resolve(const char *base, const char *ref)
{
        struct es_error err = ES_ERROR_INIT;
        char *out = NULL;

        if (es_url_resolve(base, ref, &out, &err) == 0) {
                check_resolved(out);
                free(out);
        } else if (err.message == NULL || out != NULL) {
                abort();
        }
        es_error_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_text(data, size);
        char *appended;

        for (size_t i = 0; i < ES_ARRAY_SIZE(bases); i++) {
                resolve(bases[i], text);
                (void)es_url_same_origin(bases[i], text);
        }
        for (size_t i = 0; i < ES_ARRAY_SIZE(references); i++)
                resolve(text, references[i]);

        /* The appended query must keep the original text before it byte for byte. */
        appended = es_url_append_query(text, "digest", "sha256:0123");
        if (strncmp(appended, text, strcspn(text, "#")) != 0)
                abort();
        free(appended);
        appended = es_url_append_query(bases[1], "last", text);
        free(appended);

        free(text);
        return 0;
}
