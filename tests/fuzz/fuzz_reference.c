/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for image references (registry/reference.c) and digests
 * (registry/digest.c). A parsed reference must survive a round trip: its
 * formatted form parses to the same four parts, because sync plans and
 * reports print references that users paste back into configurations.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "registry/digest.h"
#include "registry/reference.h"

static bool same_string(const char *a, const char *b)
{
        if (a == NULL || b == NULL)
                return a == b;
        return strcmp(a, b) == 0;
}

static bool same_reference(const struct es_reference *a, const struct es_reference *b)
{
        return same_string(a->registry, b->registry) && same_string(a->repository, b->repository) &&
               same_string(a->tag, b->tag) && same_string(a->digest, b->digest);
}

/* Check the accessors and the format-parse round trip of a parsed reference. */
static void check_reference(const struct es_reference *ref, bool repository_only)
{
        struct es_reference again = {0}, copy = {0};
        struct es_error err = ES_ERROR_INIT;
        char *formatted = es_reference_format(ref);
        int r;

        if (ref->registry == NULL || ref->repository == NULL)
                abort();
        if (repository_only && (ref->tag != NULL || ref->digest != NULL))
                abort();
        if (!repository_only && ref->tag == NULL && ref->digest == NULL)
                abort();
        if (!es_repository_path_is_valid(ref->repository))
                abort();
        if (ref->tag != NULL && !es_tag_is_valid(ref->tag))
                abort();
        if (ref->digest != NULL && es_digest_validate(ref->digest, NULL) < 0)
                abort();

        (void)es_reference_api_host(ref);
        (void)es_registry_is_loopback(ref->registry);
        if (!repository_only && es_reference_manifest_ref(ref) == NULL)
                abort();

        if (repository_only)
                r = es_reference_parse_repository(formatted, &again, &err);
        else
                r = es_reference_parse(formatted, &again, &err);
        if (r < 0 || !same_reference(ref, &again))
                abort();

        es_reference_copy(&copy, ref);
        if (!same_reference(ref, &copy))
                abort();

        es_reference_release(&copy);
        es_reference_release(&again);
        es_error_release(&err);
        free(formatted);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_text(data, size);
        struct es_reference ref = {0};
        struct es_error err = ES_ERROR_INIT;

        if (es_reference_parse(text, &ref, &err) == 0) {
                check_reference(&ref, false);
                es_reference_release(&ref);
        } else if (err.message == NULL || ref.registry != NULL) {
                abort();
        }
        es_error_release(&err);

        if (es_reference_parse_repository(text, &ref, &err) == 0) {
                check_reference(&ref, true);
                es_reference_release(&ref);
        } else if (err.message == NULL || ref.registry != NULL) {
                abort();
        }
        es_error_release(&err);

        (void)es_repository_path_is_valid(text);
        (void)es_tag_is_valid(text);
        (void)es_registry_is_loopback(text);
        (void)es_digest_validate(text, NULL);
        (void)es_digest_validate_supported(text, NULL);

        free(text);
        return 0;
}
