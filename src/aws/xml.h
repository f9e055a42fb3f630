/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small XML reader for the responses of AWS query APIs (STS): it checks
 * that the document is well formed and extracts the text of elements named
 * by their path from the root. Namespace prefixes are ignored, attributes
 * are checked and skipped, the five predefined entities and character
 * references are decoded, CDATA sections are read, and a DOCTYPE is
 * rejected, so no entity is ever defined or expanded.
 */
#ifndef ES_AWS_XML_H
#define ES_AWS_XML_H

#include <stddef.h>

#include "base/error.h"

/* Maximum element nesting depth accepted. */
#define ES_AWS_XML_MAX_DEPTH 32

struct es_aws_xml_field {
        /* Local names from the root, e.g. "/ErrorResponse/Error/Code". */
        const char *path;
        /*
         * Output: the decoded text directly inside the first matching
         * element, trimmed, or NULL when no element matched. Caller frees
         * (with es_aws_secret_free for secrets).
         */
        char *value;
};

/*
 * Parse len bytes of XML and fill the value of each field. Returns 0, or
 * -ES_ERR_PROTOCOL for a document that is not well formed; the message
 * gives a byte offset and never quotes the document, which may contain
 * secrets. On failure every value is NULL.
 */
int es_aws_xml_extract(const char *xml, size_t len, struct es_aws_xml_field *fields,
                       size_t n_fields, struct es_error *err) __attribute__((warn_unused_result));

/* Free every field's value (wiping it first) and set it to NULL. */
void es_aws_xml_fields_release(struct es_aws_xml_field *fields, size_t n_fields);

#endif
