/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AWS Signature Version 4, Authorization-header form. The rules follow AWS's
 * SigV4 test suite (published with aws-c-auth) and, where the suite is
 * silent, botocore 1.29's SigV4Auth and S3SigV4Auth. tests/unit/aws checks
 * the code against both.
 *
 * Departures from botocore:
 * - a query taken from the URL is decoded and encoded again, where botocore
 *   signs it as written;
 * - empty "&&" query segments are skipped;
 * - an empty S3 path signs as "/";
 * - the method is signed as given, not uppercased;
 * - a Date header is signed like any other and does not replace X-Amz-Date;
 * - User-Agent, Expect and X-Amzn-Trace-Id are signed when the caller passes them.
 */
#include "aws/sigv4.h"

#include <assert.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"

#define ALGORITHM         "AWS4-HMAC-SHA256"
#define SCOPE_TERMINATOR  "aws4_request"
#define SHA256_LENGTH     32
#define SHA256_HEX_LENGTH 64

/* "YYYYMMDDTHHMMSSZ" and its NUL. */
#define AMZ_DATE_SIZE 17

/* Maximum length of a value quoted in an error message. */
#define MAX_QUOTED_LENGTH 80

/* A byte range inside a string owned by someone else. */
struct span {
        const char *data;
        size_t len;
};

/* The parts of the URL that the signature covers. */
struct url_parts {
        char *host;        /* value for the Host header; owned */
        struct span path;  /* empty when the URL has no path */
        struct span query; /* text after '?', without the fragment */
};

/* One query parameter, name and value percent-encoded in canonical form. */
struct query_param {
        char *name;  /* owned */
        char *value; /* owned */
};

/* One header line to sign. */
struct signed_header {
        char *name;        /* lowercase; owned */
        struct span value; /* as given: not yet trimmed or unfolded */
        size_t order;      /* position in the input; keeps repeated names in order */
};

/* Headers that es_sigv4_sign() produces itself, so callers may not pass them in. */
static const char *const signer_headers[] = {
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
};

/* Append to a buffer without a size limit (max 0), where es_buf_append() cannot fail. */
static void append_bytes(struct es_buf *buf, const void *data, size_t len)
{
        int r = es_buf_append(buf, data, len);

        assert(r == 0);
        (void)r;
}

static void wipe_string(char *s)
{
        if (s == NULL)
                return;
        explicit_bzero(s, strlen(s));
        free(s);
}

static void wipe_stringp(char **s)
{
        wipe_string(*s);
}

/* Cleanup for a buffer that may hold the session token. */
static void buf_wipe_release(struct es_buf *buf)
{
        if (buf->data != NULL)
                explicit_bzero(buf->data, buf->alloc);
        es_buf_release(buf);
}

static bool is_alnum(unsigned char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* The characters that percent-encoding leaves alone (RFC 3986 "unreserved"). */
static bool is_unreserved(unsigned char c)
{
        return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Characters of an HTTP token (RFC 9110 section 5.6.2): methods and header names. */
static bool is_token_char(unsigned char c)
{
        return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Visible ASCII: what tokens, key ids and hashes may contain. */
static bool is_visible_ascii(unsigned char c)
{
        return c > 0x20 && c < 0x7f;
}

/* Whitespace that canonical header values trim and collapse, folds included. */
static bool is_header_space(unsigned char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int hex_value(unsigned char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static void hex_encode(const unsigned char *data, size_t len, char *out)
{
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < len; i++) {
                out[2 * i] = digits[data[i] >> 4];
                out[2 * i + 1] = digits[data[i] & 0xf];
        }
        out[2 * len] = '\0';
}

/* Percent-encode every byte outside the unreserved set, with uppercase hex digits. */
static void append_percent_encoded(struct es_buf *buf, const char *data, size_t len,
                                   bool keep_slash)
{
        static const char digits[] = "0123456789ABCDEF";

        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)data[i];

                if (is_unreserved(c) || (keep_slash && c == '/')) {
                        append_bytes(buf, &data[i], 1);
                } else {
                        char escaped[3] = {'%', digits[c >> 4], digits[c & 0xf]};

                        append_bytes(buf, escaped, sizeof(escaped));
                }
        }
}

static int sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LENGTH + 1],
                      struct es_error *err)
{
        unsigned char digest[SHA256_LENGTH];
        unsigned int digest_len = 0;

        if (!EVP_Digest(data, len, digest, &digest_len, EVP_sha256(), NULL) ||
            digest_len != SHA256_LENGTH)
                return es_error_set(err, ES_ERR_IO, "sha256 failed in libcrypto");
        hex_encode(digest, SHA256_LENGTH, out);
        return 0;
}

static int hmac_sha256(const void *key, size_t key_len, const char *data,
                       unsigned char out[SHA256_LENGTH], struct es_error *err)
{
        unsigned int out_len = 0;

        if (key_len > INT_MAX)
                return es_error_set(err, ES_ERR_INVALID,
                                    "AWS secret access key of %zu bytes is too long", key_len);
        if (HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)data, strlen(data), out,
                 &out_len) == NULL ||
            out_len != SHA256_LENGTH)
                return es_error_set(err, ES_ERR_IO, "HMAC-SHA256 failed in libcrypto");
        return 0;
}

static int check_scope_part(const char *field, const char *value, struct es_error *err)
{
        if (value == NULL || value[0] == '\0')
                return es_error_set(err, ES_ERR_INVALID, "missing %s for SigV4 signing", field);

        /* Region and service go into the credential scope, which '/' separates. */
        for (const char *p = value; *p != '\0'; p++)
                if (!is_alnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
                        return es_error_set(err, ES_ERR_INVALID,
                                            "invalid %s \"%.*s\": expected letters, digits, "
                                            "'-', '_' or '.'",
                                            field, MAX_QUOTED_LENGTH, value);
        return 0;
}

static bool has_only_visible_ascii(const char *s)
{
        for (; *s != '\0'; s++)
                if (!is_visible_ascii((unsigned char)*s))
                        return false;
        return true;
}

static int check_credentials(const struct es_aws_credentials *cred, struct es_error *err)
{
        if (cred->access_key_id == NULL || cred->access_key_id[0] == '\0')
                return es_error_set(err, ES_ERR_INVALID, "missing AWS access key id");

        /* The key id is written into "Credential=KEY/DATE/...", which ',' and '/' would break. */
        if (!has_only_visible_ascii(cred->access_key_id) || strpbrk(cred->access_key_id, ",/"))
                return es_error_set(err, ES_ERR_INVALID,
                                    "invalid AWS access key id: expected visible ASCII "
                                    "characters other than ',' and '/'");
        if (cred->secret_access_key == NULL || cred->secret_access_key[0] == '\0')
                return es_error_set(err, ES_ERR_INVALID, "missing AWS secret access key");
        if (cred->session_token != NULL && !has_only_visible_ascii(cred->session_token))
                return es_error_set(err, ES_ERR_INVALID,
                                    "invalid AWS session token: expected visible ASCII "
                                    "characters only");
        return 0;
}

static int format_amz_date(time_t timestamp, char out[AMZ_DATE_SIZE], struct es_error *err)
{
        struct tm tm;

        if (timestamp < 0 || gmtime_r(&timestamp, &tm) == NULL || tm.tm_year + 1900 > 9999)
                return es_error_set(err, ES_ERR_INVALID,
                                    "invalid signing time %lld: expected a time between "
                                    "1970 and 9999",
                                    (long long)timestamp);
        if (strftime(out, AMZ_DATE_SIZE, "%Y%m%dT%H%M%SZ", &tm) != AMZ_DATE_SIZE - 1)
                return es_error_set(err, ES_ERR_INVALID, "invalid signing time %lld",
                                    (long long)timestamp);
        return 0;
}

static bool is_ipv6_char(unsigned char c)
{
        return hex_value(c) >= 0 || c == ':' || c == '.';
}

/*
 * Split the authority into host and port and build the Host header value the
 * way HTTP clients send it: host in lowercase, port only when it is not the
 * scheme's default.
 */
static int parse_authority(struct span authority, unsigned default_port, char **out_host,
                           struct es_error *err)
{
        const char *start = authority.data;
        const char *end = authority.data + authority.len;
        const char *host_end;
        unsigned long port = default_port;
        struct es_buf host = ES_BUF_INIT(0);

        if (memchr(start, '@', authority.len) != NULL)
                return es_error_set(err, ES_ERR_INVALID,
                                    "invalid URL: user information before the host is not "
                                    "supported");

        if (start < end && *start == '[') {
                host_end = memchr(start, ']', authority.len);
                if (host_end == NULL)
                        return es_error_set(err, ES_ERR_INVALID,
                                            "invalid URL: missing ']' after the IPv6 address");
                for (const char *p = start + 1; p < host_end; p++)
                        if (!is_ipv6_char((unsigned char)*p))
                                return es_error_set(err, ES_ERR_INVALID,
                                                    "invalid URL: invalid character in the "
                                                    "IPv6 address \"%.*s\"",
                                                    (int)(host_end - start + 1), start);
                host_end++;
        } else {
                host_end = memchr(start, ':', authority.len);
                if (host_end == NULL)
                        host_end = end;
                for (const char *p = start; p < host_end; p++)
                        if (!is_unreserved((unsigned char)*p))
                                return es_error_set(err, ES_ERR_INVALID,
                                                    "invalid URL: invalid character 0x%02x in "
                                                    "the host name",
                                                    (unsigned char)*p);
        }
        if (host_end == start || (host_end - start == 2 && *start == '['))
                return es_error_set(err, ES_ERR_INVALID, "invalid URL: missing host");

        if (host_end < end) {
                const char *digits = host_end + 1;
                size_t n = (size_t)(end - digits);

                if (*host_end != ':' || n == 0 || n > 5 || strspn(digits, "0123456789") < n)
                        return es_error_set(err, ES_ERR_INVALID,
                                            "invalid URL: invalid port \"%.*s\" after the host",
                                            n > MAX_QUOTED_LENGTH ? MAX_QUOTED_LENGTH : (int)n,
                                            digits);
                port = strtoul(digits, NULL, 10);
                if (port == 0 || port > 65535)
                        return es_error_set(err, ES_ERR_INVALID,
                                            "invalid URL: port %lu is out of range 1-65535", port);
        }

        for (const char *p = start; p < host_end; p++) {
                char c = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;

                append_bytes(&host, &c, 1);
        }
        if (port != default_port)
                es_buf_printf(&host, ":%lu", port);
        *out_host = es_buf_take(&host);
        return 0;
}

/* Split an absolute http or https URL into the parts that are signed. */
static int parse_url(const char *url, struct url_parts *parts, struct es_error *err)
{
        const char *scheme_end, *authority, *rest;
        size_t scheme_len;
        unsigned default_port;
        int r;

        if (url == NULL || url[0] == '\0')
                return es_error_set(err, ES_ERR_INVALID, "missing URL for SigV4 signing");

        for (const char *p = url; *p != '\0'; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return es_error_set(err, ES_ERR_INVALID,
                                            "invalid URL: control character 0x%02x at offset %zu",
                                            (unsigned char)*p, (size_t)(p - url));

        scheme_end = strstr(url, "://");
        if (scheme_end == NULL)
                return es_error_set(err, ES_ERR_INVALID,
                                    "invalid URL: expected an absolute http or https URL");
        scheme_len = (size_t)(scheme_end - url);
        if (scheme_len == 4 && strncasecmp(url, "http", 4) == 0)
                default_port = 80;
        else if (scheme_len == 5 && strncasecmp(url, "https", 5) == 0)
                default_port = 443;
        else
                return es_error_set(
                    err, ES_ERR_INVALID, "invalid URL: scheme \"%.*s\" is not http or https",
                    scheme_len > MAX_QUOTED_LENGTH ? MAX_QUOTED_LENGTH : (int)scheme_len, url);

        authority = scheme_end + 3;
        rest = authority + strcspn(authority, "/?#");
        r = parse_authority((struct span){authority, (size_t)(rest - authority)}, default_port,
                            &parts->host, err);
        if (r < 0)
                return r;

        /* The fragment never leaves the client, so it is not signed. */
        parts->path = (struct span){rest, strcspn(rest, "?#")};
        rest += parts->path.len;
        if (*rest == '?') {
                rest++;
                parts->query = (struct span){rest, strcspn(rest, "#")};
        } else {
                parts->query = (struct span){rest, 0};
        }
        return 0;
}

/*
 * Remove empty, "." and ".." segments. A trailing slash stays unless the path
 * ends in a dot segment, as in botocore and aws-c-auth, so "/a/b/.." becomes
 * "/a". Returns an owned string starting with '/'.
 */
static char *normalize_path(struct span path)
{
        _cleanup_free_ struct span *segments = es_calloc(path.len + 1, sizeof(*segments));
        struct es_buf out = ES_BUF_INIT(0);
        const char *p = path.data, *end = path.data + path.len;
        size_t count = 0;

        while (p <= end) {
                const char *slash = memchr(p, '/', (size_t)(end - p));
                const char *segment_end = slash ? slash : end;
                size_t len = (size_t)(segment_end - p);

                if (len == 2 && p[0] == '.' && p[1] == '.') {
                        if (count > 0)
                                count--;
                } else if (len > 0 && !(len == 1 && p[0] == '.')) {
                        segments[count++] = (struct span){p, len};
                }
                p = segment_end + 1;
        }

        append_bytes(&out, "/", 1);
        for (size_t i = 0; i < count; i++) {
                if (i > 0)
                        append_bytes(&out, "/", 1);
                append_bytes(&out, segments[i].data, segments[i].len);
        }
        if (count > 0 && path.len > 0 && end[-1] == '/')
                append_bytes(&out, "/", 1);
        return es_buf_take(&out);
}

static void append_canonical_path(struct es_buf *buf, struct span path, bool normalize, bool encode)
{
        _cleanup_free_ char *normalized = NULL;

        if (path.len == 0) {
                append_bytes(buf, "/", 1);
                return;
        }
        if (normalize) {
                normalized = normalize_path(path);
                path = (struct span){normalized, strlen(normalized)};
        }
        if (encode)
                append_percent_encoded(buf, path.data, path.len, true);
        else
                append_bytes(buf, path.data, path.len);
}

/*
 * Decode one query name or value and encode it again in canonical form.
 * '+' decodes to a space: botocore sends parameters through urllib's
 * urlencode, which writes a space as '+', and signs that space as "%20". A
 * literal plus must be sent as "%2B". Returns NULL on a malformed escape and
 * sets *bad_offset to its position in the span.
 */
static char *canonicalize_query_part(struct span part, size_t *bad_offset)
{
        _cleanup_(es_buf_release) struct es_buf decoded = ES_BUF_INIT(0);
        struct es_buf encoded = ES_BUF_INIT(0);

        for (size_t i = 0; i < part.len; i++) {
                char c = part.data[i];

                if (c == '%') {
                        int high = -1, low = -1;

                        if (i + 2 < part.len) {
                                high = hex_value((unsigned char)part.data[i + 1]);
                                low = hex_value((unsigned char)part.data[i + 2]);
                        }
                        if (high < 0 || low < 0) {
                                *bad_offset = i;
                                return NULL;
                        }
                        c = (char)(high << 4 | low);
                        i += 2;
                } else if (c == '+') {
                        c = ' ';
                }
                append_bytes(&decoded, &c, 1);
        }

        append_percent_encoded(&encoded, decoded.data ? decoded.data : "", decoded.len, false);
        return es_buf_take(&encoded);
}

static int compare_query_params(const void *a, const void *b)
{
        const struct query_param *x = a, *y = b;
        int r = strcmp(x->name, y->name);

        return r != 0 ? r : strcmp(x->value, y->value);
}

static void free_query_params(struct query_param *params, size_t count)
{
        for (size_t i = 0; i < count; i++) {
                free(params[i].name);
                free(params[i].value);
        }
        free(params);
}

/*
 * Append the canonical query string: every parameter decoded and encoded
 * again, sorted by encoded name and then value. Empty "&&" segments are
 * skipped, and a name without '=' gets an empty value.
 */
static int append_canonical_query(struct es_buf *buf, struct span query, struct es_error *err)
{
        struct query_param *params = es_calloc(query.len / 2 + 1, sizeof(*params));
        const char *p = query.data, *end = query.data + query.len;
        size_t count = 0;
        int r = 0;

        while (p < end) {
                const char *amp = memchr(p, '&', (size_t)(end - p));
                const char *param_end = amp ? amp : end;
                const char *equals = memchr(p, '=', (size_t)(param_end - p));
                struct span name = {p, (size_t)((equals ? equals : param_end) - p)};
                struct span value = {equals ? equals + 1 : param_end, 0};
                size_t bad = 0;

                value.len = (size_t)(param_end - value.data);
                if (param_end > p) {
                        struct query_param *param = &params[count++];

                        param->name = canonicalize_query_part(name, &bad);
                        if (param->name == NULL) {
                                r = es_error_set(err, ES_ERR_INVALID,
                                                 "invalid URL: malformed percent-encoding at "
                                                 "offset %zu of the query",
                                                 (size_t)(name.data - query.data) + bad);
                                goto done;
                        }
                        param->value = canonicalize_query_part(value, &bad);
                        if (param->value == NULL) {
                                r = es_error_set(err, ES_ERR_INVALID,
                                                 "invalid URL: malformed percent-encoding at "
                                                 "offset %zu of the query",
                                                 (size_t)(value.data - query.data) + bad);
                                goto done;
                        }
                }
                p = param_end + 1;
        }

        qsort(params, count, sizeof(*params), compare_query_params);
        for (size_t i = 0; i < count; i++) {
                if (i > 0)
                        append_bytes(buf, "&", 1);
                es_buf_puts(buf, params[i].name);
                append_bytes(buf, "=", 1);
                es_buf_puts(buf, params[i].value);
        }

done:
        free_query_params(params, count);
        return r;
}

/*
 * Check a header value: visible characters, spaces, tabs and bytes above 0x7f,
 * plus CR and LF only where they fold the value onto a line that starts with
 * a space or a tab.
 */
static bool is_valid_header_value(struct span value)
{
        for (size_t i = 0; i < value.len; i++) {
                unsigned char c = (unsigned char)value.data[i];

                if (c == '\r' && i + 1 < value.len && value.data[i + 1] == '\n') {
                        i++;
                        c = '\n';
                }
                if (c == '\n') {
                        if (i + 1 < value.len &&
                            (value.data[i + 1] == ' ' || value.data[i + 1] == '\t'))
                                continue;
                        return false;
                }
                if (c != '\t' && (c < 0x20 || c == 0x7f))
                        return false;
        }
        return true;
}

/* Parse "Name: value" into a header with a lowercase name. */
static int parse_header_line(const char *line, size_t index, struct signed_header *header,
                             struct es_error *err)
{
        const char *colon = line ? strchr(line, ':') : NULL;
        size_t name_len;
        char *name;

        if (colon == NULL)
                return es_error_set(err, ES_ERR_INVALID,
                                    "invalid request header %zu: missing ':' after the name",
                                    index);
        name_len = (size_t)(colon - line);
        if (name_len == 0)
                return es_error_set(err, ES_ERR_INVALID,
                                    "invalid request header %zu: empty name before ':'", index);
        for (size_t i = 0; i < name_len; i++)
                if (!is_token_char((unsigned char)line[i]))
                        return es_error_set(err, ES_ERR_INVALID,
                                            "invalid request header %zu: invalid character "
                                            "0x%02x in the name",
                                            index, (unsigned char)line[i]);

        name = es_strndup(line, name_len);
        for (char *p = name; *p != '\0'; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');

        for (size_t i = 0; i < ES_ARRAY_SIZE(signer_headers); i++) {
                if (strcmp(name, signer_headers[i]) == 0) {
                        int r = es_error_set(err, ES_ERR_INVALID,
                                             "invalid request header %zu: \"%s\" is produced by "
                                             "the signer; remove it from the request headers",
                                             index, name);

                        free(name);
                        return r;
                }
        }

        header->name = name;
        header->value = (struct span){colon + 1, strlen(colon + 1)};
        header->order = index;
        if (!is_valid_header_value(header->value)) {
                int r = es_error_set(err, ES_ERR_INVALID,
                                     "invalid request header \"%s\": control character in the "
                                     "value, or CR or LF that does not fold it",
                                     name);

                free(name);
                header->name = NULL;
                return r;
        }
        return 0;
}

static int compare_headers(const void *a, const void *b)
{
        const struct signed_header *x = a, *y = b;
        int r = strcmp(x->name, y->name);

        if (r != 0)
                return r;
        return x->order < y->order ? -1 : x->order > y->order;
}

static void free_headers(struct signed_header *headers, size_t count)
{
        for (size_t i = 0; i < count; i++)
                free(headers[i].name);
        free(headers);
}

/*
 * Append a value without surrounding whitespace and with every inner run of
 * whitespace, folds included, collapsed to one space.
 */
static void append_trimmed_value(struct es_buf *buf, struct span value)
{
        bool pending_space = false;
        bool started = false;

        for (size_t i = 0; i < value.len; i++) {
                if (is_header_space((unsigned char)value.data[i])) {
                        pending_space = started;
                        continue;
                }
                if (pending_space)
                        append_bytes(buf, " ", 1);
                append_bytes(buf, &value.data[i], 1);
                pending_space = false;
                started = true;
        }
}

/*
 * Append the canonical header block (one "name:value\n" line per name, values
 * of repeated names joined by ',' in request order) to buf, and the signed
 * header list ("host;x-amz-date") to signed_names. Sorts headers.
 *
 * NOTE: an empty value of a repeated header leaves an empty item ("a,,b"), as
 * in botocore. aws-c-auth drops it, and the AWS test suite has no such case.
 */
static void append_canonical_headers(struct es_buf *buf, struct es_buf *signed_names,
                                     struct signed_header *headers, size_t count)
{
        qsort(headers, count, sizeof(*headers), compare_headers);
        for (size_t i = 0; i < count; i++) {
                if (i > 0 && strcmp(headers[i].name, headers[i - 1].name) == 0) {
                        append_bytes(buf, ",", 1);
                } else {
                        if (i > 0) {
                                append_bytes(buf, "\n", 1);
                                append_bytes(signed_names, ";", 1);
                        }
                        es_buf_puts(buf, headers[i].name);
                        append_bytes(buf, ":", 1);
                        es_buf_puts(signed_names, headers[i].name);
                }
                append_trimmed_value(buf, headers[i].value);
        }
        append_bytes(buf, "\n", 1);
}

static int check_payload_hash(const char *hash, struct es_error *err)
{
        if (hash[0] == '\0' || !has_only_visible_ascii(hash))
                return es_error_set(err, ES_ERR_INVALID,
                                    "invalid payload hash: expected hex sha256 or a fixed value "
                                    "such as UNSIGNED-PAYLOAD");
        return 0;
}

/* Append a header that the signer adds; value is borrowed. */
static void add_header(struct signed_header *headers, size_t *count, const char *name,
                       const char *value)
{
        headers[*count] = (struct signed_header){
            .name = es_strdup(name),
            .value = {value, strlen(value)},
            .order = *count,
        };
        (*count)++;
}

/*
 * Collect the caller's headers plus the ones the signer adds. Host comes from
 * the URL unless the caller passed it; values point into req, cred, host,
 * amz_date and payload_hash, which must outlive the array.
 */
static int collect_headers(const struct es_sigv4_request *req,
                           const struct es_aws_credentials *cred, const char *host,
                           const char *amz_date, const char *payload_hash,
                           struct signed_header **out_headers, size_t *out_count,
                           struct es_error *err)
{
        struct signed_header *headers = es_calloc(req->n_headers + 4, sizeof(*headers));
        bool has_host = false;
        size_t count = 0;
        int r;

        assert(req->headers != NULL || req->n_headers == 0);
        for (size_t i = 0; i < req->n_headers; i++) {
                r = parse_header_line(req->headers[i], i, &headers[count], err);
                if (r < 0) {
                        free_headers(headers, count);
                        return r;
                }
                has_host = has_host || strcmp(headers[count].name, "host") == 0;
                count++;
        }

        if (!has_host)
                add_header(headers, &count, "host", host);
        add_header(headers, &count, "x-amz-date", amz_date);
        if (cred->session_token != NULL && cred->session_token[0] != '\0' &&
            req->sign_session_token)
                add_header(headers, &count, "x-amz-security-token", cred->session_token);
        if (req->add_content_sha256)
                add_header(headers, &count, "x-amz-content-sha256", payload_hash);

        *out_headers = headers;
        *out_count = count;
        return 0;
}

/* Build the canonical request and the signed header list. */
static int build_canonical_request(const struct es_sigv4_request *req,
                                   const struct es_aws_credentials *cred,
                                   const struct url_parts *url, const char *amz_date,
                                   const char *payload_hash, char **out_request,
                                   char **out_signed_names, struct es_error *err)
{
        _cleanup_(buf_wipe_release) struct es_buf request = ES_BUF_INIT(0);
        _cleanup_(es_buf_release) struct es_buf signed_names = ES_BUF_INIT(0);
        struct signed_header *headers = NULL;
        size_t count = 0;
        int r;

        es_buf_puts(&request, req->method);
        append_bytes(&request, "\n", 1);
        append_canonical_path(&request, url->path, req->normalize_path, req->encode_path);
        append_bytes(&request, "\n", 1);
        r = append_canonical_query(&request, url->query, err);
        if (r < 0)
                return r;
        append_bytes(&request, "\n", 1);

        r = collect_headers(req, cred, url->host, amz_date, payload_hash, &headers, &count, err);
        if (r < 0)
                return r;
        append_canonical_headers(&request, &signed_names, headers, count);
        free_headers(headers, count);

        es_buf_printf(&request, "\n%s\n%s", signed_names.data, payload_hash);
        *out_request = es_buf_take(&request);
        *out_signed_names = es_buf_take(&signed_names);
        return 0;
}

/*
 * Derive the signing key: HMAC-SHA256 chained over the date, region, service
 * and "aws4_request", starting from "AWS4" followed by the secret key.
 */
static int derive_signing_key(const char *secret, const char *date, const char *region,
                              const char *service, unsigned char key[SHA256_LENGTH],
                              struct es_error *err)
{
        size_t secret_len = strlen(secret);
        size_t seed_len = 4 + secret_len;
        char *seed = es_malloc(seed_len);
        unsigned char k_date[SHA256_LENGTH], k_region[SHA256_LENGTH], k_service[SHA256_LENGTH];
        int r;

        memcpy(seed, "AWS4", 4);
        memcpy(seed + 4, secret, secret_len);

        if ((r = hmac_sha256(seed, seed_len, date, k_date, err)) == 0 &&
            (r = hmac_sha256(k_date, sizeof(k_date), region, k_region, err)) == 0 &&
            (r = hmac_sha256(k_region, sizeof(k_region), service, k_service, err)) == 0)
                r = hmac_sha256(k_service, sizeof(k_service), SCOPE_TERMINATOR, key, err);

        explicit_bzero(seed, seed_len);
        free(seed);
        explicit_bzero(k_date, sizeof(k_date));
        explicit_bzero(k_region, sizeof(k_region));
        explicit_bzero(k_service, sizeof(k_service));
        return r;
}

/* Sign string_to_sign with the key derived for the date of amz_date; writes hex. */
static int compute_signature(const char *secret, const char *amz_date, const char *region,
                             const char *service, const char *string_to_sign,
                             char signature[SHA256_HEX_LENGTH + 1], struct es_error *err)
{
        unsigned char key[SHA256_LENGTH], mac[SHA256_LENGTH];
        char date[9];
        int r;

        memcpy(date, amz_date, 8);
        date[8] = '\0';
        r = derive_signing_key(secret, date, region, service, key, err);
        if (r == 0)
                r = hmac_sha256(key, sizeof(key), string_to_sign, mac, err);
        explicit_bzero(key, sizeof(key));
        if (r < 0)
                return r;
        hex_encode(mac, sizeof(mac), signature);
        return 0;
}

static int check_request(const struct es_sigv4_request *req, struct es_error *err)
{
        int r;

        if ((r = check_scope_part("region", req->region, err)) < 0 ||
            (r = check_scope_part("service", req->service, err)) < 0)
                return r;
        if (req->method == NULL || req->method[0] == '\0')
                return es_error_set(err, ES_ERR_INVALID, "missing HTTP method for SigV4 signing");
        for (const char *p = req->method; *p != '\0'; p++)
                if (!is_token_char((unsigned char)*p))
                        return es_error_set(err, ES_ERR_INVALID,
                                            "invalid HTTP method: invalid character 0x%02x",
                                            (unsigned char)*p);
        if (req->payload_hash != NULL && (r = check_payload_hash(req->payload_hash, err)) < 0)
                return r;
        return 0;
}

int es_sigv4_sign(const struct es_sigv4_request *req, const struct es_aws_credentials *cred,
                  struct es_sigv4_result *out, struct es_error *err)
{
        _cleanup_free_ char *host = NULL;
        _cleanup_free_ char *signed_names = NULL;
        _cleanup_free_ char *string_to_sign = NULL;
        _cleanup_(wipe_stringp) char *canonical_request = NULL;
        char amz_date[AMZ_DATE_SIZE], payload_hash[SHA256_HEX_LENGTH + 1];
        char request_hash[SHA256_HEX_LENGTH + 1], signature[SHA256_HEX_LENGTH + 1];
        const char *payload;
        struct url_parts url = {0};
        int r;

        assert(req != NULL);
        assert(cred != NULL);
        assert(out != NULL);
        assert(req->body != NULL || req->body_len == 0);

        if ((r = check_request(req, err)) < 0 || (r = check_credentials(cred, err)) < 0 ||
            (r = format_amz_date(req->timestamp, amz_date, err)) < 0 ||
            (r = parse_url(req->url, &url, err)) < 0)
                return r;
        host = url.host;

        payload = req->payload_hash;
        if (payload == NULL) {
                r = sha256_hex(req->body_len ? req->body : "", req->body_len, payload_hash, err);
                if (r < 0)
                        return r;
                payload = payload_hash;
        }

        r = build_canonical_request(req, cred, &url, amz_date, payload, &canonical_request,
                                    &signed_names, err);
        if (r < 0)
                return r;
        r = sha256_hex(canonical_request, strlen(canonical_request), request_hash, err);
        if (r < 0)
                return r;
        string_to_sign = es_asprintf(ALGORITHM "\n%s\n%.8s/%s/%s/" SCOPE_TERMINATOR "\n%s",
                                     amz_date, amz_date, req->region, req->service, request_hash);

        r = compute_signature(cred->secret_access_key, amz_date, req->region, req->service,
                              string_to_sign, signature, err);
        if (r < 0)
                return r;

        *out = (struct es_sigv4_result){
            .canonical_request = TAKE_PTR(canonical_request),
            .string_to_sign = TAKE_PTR(string_to_sign),
            .signature = es_strdup(signature),
            .amz_date = es_strdup(amz_date),
            .authorization = es_asprintf(ALGORITHM " Credential=%s/%.8s/%s/%s/" SCOPE_TERMINATOR
                                                   ", SignedHeaders=%s, Signature=%s",
                                         cred->access_key_id, amz_date, req->region, req->service,
                                         signed_names, signature),
            .security_token_header =
                cred->session_token && cred->session_token[0]
                    ? es_asprintf("X-Amz-Security-Token: %s", cred->session_token)
                    : NULL,
            .content_sha256_header =
                req->add_content_sha256 ? es_asprintf("X-Amz-Content-SHA256: %s", payload) : NULL,
        };
        return 0;
}

void es_sigv4_result_release(struct es_sigv4_result *result)
{
        if (result == NULL)
                return;
        wipe_string(result->canonical_request);
        wipe_string(result->security_token_header);
        free(result->string_to_sign);
        free(result->signature);
        free(result->amz_date);
        free(result->authorization);
        free(result->content_sha256_header);
        memset(result, 0, sizeof(*result));
}

void es_aws_credentials_release(struct es_aws_credentials *cred)
{
        if (cred == NULL)
                return;
        free(cred->access_key_id);
        wipe_string(cred->secret_access_key);
        wipe_string(cred->session_token);
        memset(cred, 0, sizeof(*cred));
}
