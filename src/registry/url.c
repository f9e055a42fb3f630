/* SPDX-License-Identifier: Apache-2.0 */
/*
 * URL resolution and comparison with libcurl's URL API, and query appending
 * done on the text so that an opaque upload state is sent back byte for byte.
 */
#include "registry/url.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"

static void curl_url_cleanupp(CURLU **u)
{
        if (*u)
                curl_url_cleanup(*u);
}

static void curl_freep(char **p)
{
        if (*p)
                curl_free(*p);
}

/*
 * libcurl documents that curl_url() returns NULL only when memory runs out,
 * which es_malloc() also treats as fatal.
 */
static CURLU *new_curl_url(void)
{
        CURLU *u = curl_url();

        if (u == NULL)
                abort();
        return u;
}

/*
 * Return a copy of url for error messages, without userinfo, query and
 * fragment, because upload and redirect URLs can carry signatures.
 */
static char *url_for_message(const char *url)
{
        size_t len = strcspn(url, "?#");
        const char *authority = strstr(url, "://");
        const char *at;
        size_t authority_len;

        if (authority == NULL || (size_t)(authority - url) >= len)
                return es_asprintf("%.*s%s", (int)len, url, url[len] ? "?..." : "");

        authority += 3;
        authority_len = strcspn(authority, "/?#");
        at = memrchr(authority, '@', authority_len);
        if (at == NULL)
                return es_asprintf("%.*s%s", (int)len, url, url[len] ? "?..." : "");
        return es_asprintf("%.*s%.*s%s", (int)(authority - url), url,
                           (int)(len - (size_t)(at + 1 - url)), at + 1, url[len] ? "?..." : "");
}

int es_url_resolve(const char *base, const char *ref, char **out, struct es_error *err)
{
        _cleanup_(curl_url_cleanupp) CURLU *u = new_curl_url();
        _cleanup_(curl_freep) char *scheme = NULL, *resolved = NULL;
        _cleanup_free_ char *shown_base = NULL, *shown_ref = NULL;
        CURLUcode rc;

        rc = curl_url_set(u, CURLUPART_URL, base, 0);
        if (rc != CURLUE_OK) {
                shown_base = url_for_message(base);
                return es_error_set(err, ES_ERR_INVALID, "invalid base URL \"%s\": %s", shown_base,
                                    curl_url_strerror(rc));
        }

        /*
         * An empty or fragment-only reference means the base itself (RFC 3986
         * section 5.2.2), but libcurl 7.88 drops the base's query for these.
         */
        if (ref[0] != '\0' && ref[0] != '#') {
                rc = curl_url_set(u, CURLUPART_URL, ref, 0);
                if (rc != CURLUE_OK) {
                        shown_ref = url_for_message(ref);
                        return es_error_set(err, ES_ERR_PROTOCOL, "invalid URL \"%s\": %s",
                                            shown_ref, curl_url_strerror(rc));
                }
        }

        rc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
        if (rc != CURLUE_OK ||
            (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
                shown_ref = url_for_message(ref);
                return es_error_set(err, ES_ERR_PROTOCOL,
                                    "invalid URL \"%s\": the scheme must be http or https",
                                    shown_ref);
        }

        /* Fragments are never sent to a server, and one would swallow an appended query. */
        rc = curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
        if (rc == CURLUE_OK)
                rc = curl_url_get(u, CURLUPART_URL, &resolved, 0);
        if (rc != CURLUE_OK) {
                shown_ref = url_for_message(ref);
                return es_error_set(err, ES_ERR_PROTOCOL, "invalid URL \"%s\": %s", shown_ref,
                                    curl_url_strerror(rc));
        }

        *out = es_strdup(resolved);
        return 0;
}

/* Percent-encode everything except the unreserved characters of RFC 3986. */
static void append_encoded(struct es_buf *buf, const char *s)
{
        static const char hex_digits[] = "0123456789ABCDEF";

        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                char encoded[4];

                if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
                        encoded[0] = (char)*p;
                        encoded[1] = '\0';
                } else {
                        encoded[0] = '%';
                        encoded[1] = hex_digits[*p >> 4];
                        encoded[2] = hex_digits[*p & 0x0f];
                        encoded[3] = '\0';
                }
                es_buf_puts(buf, encoded);
        }
}

char *es_url_append_query(const char *url, const char *name, const char *value)
{
        struct es_buf buf = ES_BUF_INIT(0);
        size_t end = strcspn(url, "#");
        const char *query = memchr(url, '?', end);

        es_buf_printf(&buf, "%.*s", (int)end, url);
        if (query == NULL)
                es_buf_puts(&buf, "?");
        else if (url[end - 1] != '?' && url[end - 1] != '&')
                es_buf_puts(&buf, "&");

        append_encoded(&buf, name);
        es_buf_puts(&buf, "=");
        append_encoded(&buf, value);
        es_buf_puts(&buf, url + end);
        return es_buf_take(&buf);
}

struct origin {
        char *scheme;
        char *host;
        char *port;
};

static void origin_release(struct origin *origin)
{
        curl_free(origin->scheme);
        curl_free(origin->host);
        curl_free(origin->port);
}

static bool origin_get(const char *url, struct origin *origin)
{
        _cleanup_(curl_url_cleanupp) CURLU *u = new_curl_url();

        return curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
               curl_url_get(u, CURLUPART_SCHEME, &origin->scheme, 0) == CURLUE_OK &&
               curl_url_get(u, CURLUPART_HOST, &origin->host, 0) == CURLUE_OK &&
               curl_url_get(u, CURLUPART_PORT, &origin->port, CURLU_DEFAULT_PORT) == CURLUE_OK;
}

bool es_url_same_origin(const char *a, const char *b)
{
        struct origin origin_a = {NULL, NULL, NULL}, origin_b = {NULL, NULL, NULL};
        bool same = false;

        if (origin_get(a, &origin_a) && origin_get(b, &origin_b)) {
                same = strcasecmp(origin_a.scheme, origin_b.scheme) == 0 &&
                       strcasecmp(origin_a.host, origin_b.host) == 0 &&
                       strcmp(origin_a.port, origin_b.port) == 0;
        }
        origin_release(&origin_a);
        origin_release(&origin_b);
        return same;
}
