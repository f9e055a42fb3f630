/* SPDX-License-Identifier: Apache-2.0 */
/* A well-formedness-checking XML reader that extracts element text by path. */
#include "aws/xml.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/source.h"
#include "base/alloc.h"
#include "base/buf.h"

struct open_element {
        const char *name; /* qualified name, points into the document */
        size_t name_len;
        size_t path_len; /* length of parser.path up to and including this element */
        int capture;     /* index of the field being captured, or -1 */
};

struct parser {
        const char *data;
        size_t len;
        size_t pos;
        struct es_aws_xml_field *fields;
        size_t n_fields;
        struct es_buf *captures; /* one per field */
        bool *found;             /* one per field: an element matched */
        struct open_element stack[ES_AWS_XML_MAX_DEPTH];
        size_t depth;
        struct es_buf path; /* "/Root/Child" of the open elements, local names */
        bool root_closed;
        struct es_error *err;
};

static int fail(struct parser *p, const char *reason)
{
        return es_error_set(p->err, ES_ERR_PROTOCOL, "invalid XML at byte %zu: %s", p->pos, reason);
}

static bool starts_with(const struct parser *p, const char *s)
{
        size_t n = strlen(s);

        return p->len - p->pos >= n && memcmp(p->data + p->pos, s, n) == 0;
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_name_start(unsigned char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' ||
               c >= 0x80;
}

static bool is_name_char(unsigned char c)
{
        return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static void skip_space(struct parser *p)
{
        while (p->pos < p->len && is_space(p->data[p->pos]))
                p->pos++;
}

/* Skip past terminator, which must appear; used for comments, PIs and CDATA. */
static int skip_past(struct parser *p, const char *terminator, const char *what)
{
        const char *found =
            memmem(p->data + p->pos, p->len - p->pos, terminator, strlen(terminator));

        if (found == NULL)
                return fail(p, what);
        p->pos = (size_t)(found - p->data) + strlen(terminator);
        return 0;
}

static int read_name(struct parser *p, const char **name, size_t *len)
{
        size_t start = p->pos;

        if (p->pos >= p->len || !is_name_start((unsigned char)p->data[p->pos]))
                return fail(p, "expected a name");
        while (p->pos < p->len && is_name_char((unsigned char)p->data[p->pos]))
                p->pos++;
        *name = p->data + start;
        *len = p->pos - start;
        return 0;
}

static void append_utf8(struct es_buf *out, uint32_t cp)
{
        char bytes[5] = {0};

        if (cp < 0x80) {
                bytes[0] = (char)cp;
        } else if (cp < 0x800) {
                bytes[0] = (char)(0xc0 | (cp >> 6));
                bytes[1] = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
                bytes[0] = (char)(0xe0 | (cp >> 12));
                bytes[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                bytes[2] = (char)(0x80 | (cp & 0x3f));
        } else {
                bytes[0] = (char)(0xf0 | (cp >> 18));
                bytes[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
                bytes[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
                bytes[3] = (char)(0x80 | (cp & 0x3f));
        }
        es_buf_puts(out, bytes);
}

/* Decode the reference at p->pos ('&') into out, when out is not NULL. */
static int decode_reference(struct parser *p, struct es_buf *out)
{
        static const struct {
                const char *name;
                char value;
        } predefined[] = {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
        const char *start = p->data + p->pos + 1;
        const char *semicolon =
            memchr(start, ';', p->len - p->pos - 1 < 12 ? p->len - p->pos - 1 : 12);
        size_t len;

        if (semicolon == NULL)
                return fail(p, "'&' does not start a reference");
        len = (size_t)(semicolon - start);

        if (len >= 2 && start[0] == '#') {
                bool hex = start[1] == 'x';
                uint32_t cp = 0;
                size_t i = hex ? 2 : 1;

                if (i == len)
                        return fail(p, "empty character reference");
                for (; i < len; i++) {
                        char c = start[i];
                        uint32_t digit;

                        if (c >= '0' && c <= '9')
                                digit = (uint32_t)(c - '0');
                        else if (hex && c >= 'a' && c <= 'f')
                                digit = (uint32_t)(c - 'a' + 10);
                        else if (hex && c >= 'A' && c <= 'F')
                                digit = (uint32_t)(c - 'A' + 10);
                        else
                                return fail(p, "invalid character reference");
                        cp = cp * (hex ? 16 : 10) + digit;
                        if (cp > 0x10ffff)
                                return fail(p, "character reference out of range");
                }
                if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
                    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
                        return fail(p, "character reference to a character XML forbids");
                if (out)
                        append_utf8(out, cp);
                p->pos += len + 2;
                return 0;
        }

        for (size_t i = 0; i < sizeof(predefined) / sizeof(predefined[0]); i++) {
                if (strlen(predefined[i].name) == len &&
                    memcmp(predefined[i].name, start, len) == 0) {
                        if (out)
                                es_buf_puts(out, (char[]){predefined[i].value, '\0'});
                        p->pos += len + 2;
                        return 0;
                }
        }
        return fail(p, "unknown entity (only the five predefined ones are accepted)");
}

/* Character data up to the next '<'. */
static int parse_text(struct parser *p)
{
        struct es_buf *out = NULL;

        if (p->depth > 0 && p->stack[p->depth - 1].capture >= 0)
                out = &p->captures[p->stack[p->depth - 1].capture];

        while (p->pos < p->len && p->data[p->pos] != '<') {
                char c = p->data[p->pos];
                int r;

                if (c == '\0')
                        return fail(p, "NUL byte");
                if (p->depth == 0 && !is_space(c))
                        return fail(p, "text outside the root element");
                if (c == '&') {
                        if ((r = decode_reference(p, out)) < 0)
                                return r;
                        continue;
                }
                if (out)
                        es_buf_puts(out, (char[]){c, '\0'});
                p->pos++;
        }
        return 0;
}

static int parse_cdata(struct parser *p)
{
        size_t start;
        const char *end;

        if (p->depth == 0)
                return fail(p, "CDATA section outside the root element");
        p->pos += strlen("<![CDATA[");
        start = p->pos;
        end = memmem(p->data + start, p->len - start, "]]>", 3);
        if (end == NULL)
                return fail(p, "unterminated CDATA section");
        if (memchr(p->data + start, '\0', (size_t)(end - (p->data + start))) != NULL)
                return fail(p, "NUL byte");
        if (p->stack[p->depth - 1].capture >= 0 &&
            es_buf_append(&p->captures[p->stack[p->depth - 1].capture], p->data + start,
                          (size_t)(end - (p->data + start))) < 0)
                return fail(p, "element text too long");
        p->pos = (size_t)(end - p->data) + 3;
        return 0;
}

static int skip_attributes(struct parser *p, bool *self_closing)
{
        for (;;) {
                const char *name;
                size_t name_len;
                char quote;
                int r;

                skip_space(p);
                if (p->pos >= p->len)
                        return fail(p, "unterminated start tag");
                if (p->data[p->pos] == '>') {
                        p->pos++;
                        *self_closing = false;
                        return 0;
                }
                if (starts_with(p, "/>")) {
                        p->pos += 2;
                        *self_closing = true;
                        return 0;
                }
                if ((r = read_name(p, &name, &name_len)) < 0)
                        return r;
                skip_space(p);
                if (p->pos >= p->len || p->data[p->pos] != '=')
                        return fail(p, "expected '=' after an attribute name");
                p->pos++;
                skip_space(p);
                if (p->pos >= p->len || (p->data[p->pos] != '"' && p->data[p->pos] != '\''))
                        return fail(p, "expected a quoted attribute value");
                quote = p->data[p->pos++];
                while (p->pos < p->len && p->data[p->pos] != quote) {
                        if (p->data[p->pos] == '<' || p->data[p->pos] == '\0')
                                return fail(p, "invalid character in an attribute value");
                        if (p->data[p->pos] == '&') {
                                if ((r = decode_reference(p, NULL)) < 0)
                                        return r;
                                continue;
                        }
                        p->pos++;
                }
                if (p->pos >= p->len)
                        return fail(p, "unterminated attribute value");
                p->pos++;
        }
}

/* The part of a qualified name after its namespace prefix. */
static void local_name(const char *name, size_t len, const char **local, size_t *local_len)
{
        const char *colon = memchr(name, ':', len);

        *local = colon ? colon + 1 : name;
        *local_len = len - (size_t)(*local - name);
}

static int match_field(struct parser *p)
{
        for (size_t i = 0; i < p->n_fields; i++)
                if (!p->found[i] && strcmp(p->fields[i].path, p->path.data) == 0)
                        return (int)i;
        return -1;
}

static int parse_start_tag(struct parser *p)
{
        struct open_element *element;
        const char *name, *local;
        size_t name_len, local_len;
        bool self_closing = false;
        int r;

        if (p->root_closed)
                return fail(p, "a second root element");
        if (p->depth == ES_AWS_XML_MAX_DEPTH)
                return fail(p, "elements nested too deeply");
        p->pos++;
        if ((r = read_name(p, &name, &name_len)) < 0 || (r = skip_attributes(p, &self_closing)) < 0)
                return r;

        local_name(name, name_len, &local, &local_len);
        es_buf_puts(&p->path, "/");
        if (es_buf_append(&p->path, local, local_len) < 0)
                return fail(p, "element path too long");
        element = &p->stack[p->depth++];
        element->name = name;
        element->name_len = name_len;
        element->path_len = p->path.len;
        element->capture = match_field(p);
        if (element->capture >= 0)
                p->found[element->capture] = true;

        if (self_closing) {
                p->depth--;
                p->path.len = p->depth ? p->stack[p->depth - 1].path_len : 0;
                p->path.data[p->path.len] = '\0';
                if (p->depth == 0)
                        p->root_closed = true;
        }
        return 0;
}

static int parse_end_tag(struct parser *p)
{
        struct open_element *element;
        const char *name;
        size_t name_len;
        int r;

        p->pos += 2;
        if ((r = read_name(p, &name, &name_len)) < 0)
                return r;
        skip_space(p);
        if (p->pos >= p->len || p->data[p->pos] != '>')
                return fail(p, "expected '>' to close an end tag");
        p->pos++;
        if (p->depth == 0)
                return fail(p, "end tag without a start tag");
        element = &p->stack[p->depth - 1];
        if (element->name_len != name_len || memcmp(element->name, name, name_len) != 0)
                return fail(p, "end tag does not match the open element");

        p->depth--;
        p->path.len = p->depth ? p->stack[p->depth - 1].path_len : 0;
        p->path.data[p->path.len] = '\0';
        if (p->depth == 0)
                p->root_closed = true;
        return 0;
}

static int parse_document(struct parser *p)
{
        int r;

        if (starts_with(p, "\xef\xbb\xbf"))
                p->pos += 3;
        while (p->pos < p->len) {
                if (p->data[p->pos] != '<') {
                        r = parse_text(p);
                } else if (starts_with(p, "<?")) {
                        r = skip_past(p, "?>", "unterminated processing instruction");
                } else if (starts_with(p, "<!--")) {
                        r = skip_past(p, "-->", "unterminated comment");
                } else if (starts_with(p, "<![CDATA[")) {
                        r = parse_cdata(p);
                } else if (starts_with(p, "<!")) {
                        r = fail(p, "DOCTYPE and other declarations are not accepted");
                } else if (starts_with(p, "</")) {
                        r = parse_end_tag(p);
                } else {
                        r = parse_start_tag(p);
                }
                if (r < 0)
                        return r;
        }
        if (p->depth > 0)
                return fail(p, "unexpected end of the document");
        if (!p->root_closed)
                return fail(p, "no root element");
        return 0;
}

/* Copy the capture without surrounding XML whitespace. */
static char *trimmed(const struct es_buf *buf)
{
        const char *start = buf->data ? buf->data : "", *end = start + buf->len;

        while (start < end && is_space(*start))
                start++;
        while (end > start && is_space(end[-1]))
                end--;
        return es_strndup(start, (size_t)(end - start));
}

int es_aws_xml_extract(const char *xml, size_t len, struct es_aws_xml_field *fields,
                       size_t n_fields, struct es_error *err)
{
        struct parser p = {
            .data = xml,
            .len = len,
            .fields = fields,
            .n_fields = n_fields,
            .captures = es_calloc(n_fields ? n_fields : 1, sizeof(struct es_buf)),
            .found = es_calloc(n_fields ? n_fields : 1, sizeof(bool)),
            .path = ES_BUF_INIT(4096),
            .err = err,
        };
        int r;

        for (size_t i = 0; i < n_fields; i++) {
                fields[i].value = NULL;
                es_buf_init(&p.captures[i], ES_AWS_MAX_CREDENTIALS_RESPONSE);
        }
        es_buf_puts(&p.path, "");

        r = parse_document(&p);
        for (size_t i = 0; i < n_fields; i++) {
                if (r == 0 && p.found[i])
                        fields[i].value = trimmed(&p.captures[i]);
                if (p.captures[i].data)
                        explicit_bzero(p.captures[i].data, p.captures[i].alloc);
                es_buf_release(&p.captures[i]);
        }
        free(p.captures);
        free(p.found);
        es_buf_release(&p.path);
        return r;
}

void es_aws_xml_fields_release(struct es_aws_xml_field *fields, size_t n_fields)
{
        for (size_t i = 0; i < n_fields; i++) {
                es_aws_secret_free(fields[i].value);
                fields[i].value = NULL;
        }
}
