/* SPDX-License-Identifier: Apache-2.0 */
/* The libcurl transport: pooled easy handles over one share handle. */
#include "http/http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/limits.h"
#include "base/log.h"
#include "config.h"

/* Seconds to wait for a TCP connection and TLS handshake. */
#define CONNECT_TIMEOUT 30L
/* A transfer slower than LOW_SPEED_LIMIT bytes/s for LOW_SPEED_TIME seconds is abandoned. */
#define LOW_SPEED_LIMIT 1L
#define LOW_SPEED_TIME  120L
/* Largest header block kept per response. */
#define MAX_HEADERS 256

struct scheme_entry {
        char *host;
        const char *scheme;
};

struct es_http {
        CURLSH *share;
        pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

        pthread_mutex_t lock; /* guards the fields below */
        CURL **idle;          /* easy handles ready for reuse */
        size_t n_idle, idle_alloc;
        struct scheme_entry *schemes;
        size_t n_schemes;

        char *ca_file;
        char *user_agent;
};

static void share_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *ctx)
{
        struct es_http *http = ctx;

        pthread_mutex_lock(&http->share_locks[data]);
}

static void share_unlock(CURL *handle, curl_lock_data data, void *ctx)
{
        struct es_http *http = ctx;

        pthread_mutex_unlock(&http->share_locks[data]);
}

static void global_init(void)
{
        curl_global_init(CURL_GLOBAL_DEFAULT);
}

int es_http_new(const struct es_http_options *options, struct es_http **out, struct es_error *err)
{
        static pthread_once_t global_once = PTHREAD_ONCE_INIT;
        struct es_http *http;

        pthread_once(&global_once, global_init);

        http = es_calloc(1, sizeof(*http));
        pthread_mutex_init(&http->lock, NULL);
        for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
                pthread_mutex_init(&http->share_locks[i], NULL);

        http->share = curl_share_init();
        if (http->share == NULL) {
                es_http_free(http);
                return es_error_set(err, ES_ERR_IO, "cannot create the libcurl share handle");
        }
        curl_share_setopt(http->share, CURLSHOPT_LOCKFUNC, share_lock);
        curl_share_setopt(http->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
        curl_share_setopt(http->share, CURLSHOPT_USERDATA, http);
        curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
        /* Connections are not shared: libcurl does not support sharing its connection cache
         * between threads. Each pooled easy handle keeps its own connections instead. */

        if (options && options->ca_file)
                http->ca_file = es_strdup(options->ca_file);
        http->user_agent = es_strdup(options && options->user_agent ? options->user_agent
                                                                    : "ecr-sync/" ES_VERSION);
        *out = http;
        return 0;
}

void es_http_free(struct es_http *http)
{
        if (http == NULL)
                return;
        for (size_t i = 0; i < http->n_idle; i++)
                curl_easy_cleanup(http->idle[i]);
        free(http->idle);
        if (http->share)
                curl_share_cleanup(http->share);
        for (size_t i = 0; i < http->n_schemes; i++)
                free(http->schemes[i].host);
        free(http->schemes);
        for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
                pthread_mutex_destroy(&http->share_locks[i]);
        pthread_mutex_destroy(&http->lock);
        free(http->ca_file);
        free(http->user_agent);
        free(http);
}

static CURL *handle_acquire(struct es_http *http)
{
        CURL *curl = NULL;

        pthread_mutex_lock(&http->lock);
        if (http->n_idle > 0)
                curl = http->idle[--http->n_idle];
        pthread_mutex_unlock(&http->lock);

        if (curl == NULL) {
                curl = curl_easy_init();
                if (curl == NULL) {
                        fputs("ecr-sync: cannot create a libcurl handle\n", stderr);
                        abort();
                }
        } else {
                /* Keeps the handle's connections and caches, clears options. */
                curl_easy_reset(curl);
        }
        return curl;
}

static void handle_release(struct es_http *http, CURL *curl)
{
        pthread_mutex_lock(&http->lock);
        if (http->n_idle == http->idle_alloc) {
                http->idle_alloc = http->idle_alloc ? http->idle_alloc * 2 : 8;
                http->idle = es_realloc(http->idle, http->idle_alloc * sizeof(*http->idle));
        }
        http->idle[http->n_idle++] = curl;
        pthread_mutex_unlock(&http->lock);
}

/* State shared by the libcurl callbacks of one request. */
struct transfer {
        const struct es_http_request *request;
        struct es_http_response *response;
        const char *body; /* in-memory request body still to send */
        size_t body_left;
        bool sink_active; /* status known to be 2xx and a sink is set */
};

static void headers_clear(struct es_http_response *response)
{
        for (size_t i = 0; i < response->n_headers; i++) {
                free(response->headers[i].name);
                free(response->headers[i].value);
        }
        free(response->headers);
        response->headers = NULL;
        response->n_headers = 0;
}

static size_t on_header(char *data, size_t size, size_t count, void *ctx)
{
        struct transfer *transfer = ctx;
        struct es_http_response *response = transfer->response;
        size_t len = size * count, name_len;
        const char *colon, *value, *end;

        /* A status line starts a new response: a redirect, 100 Continue, or the final one. */
        if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
                const char *space = memchr(data, ' ', len);

                headers_clear(response);
                response->status = space ? strtol(space + 1, NULL, 10) : 0;
                if (transfer->request->status_seen)
                        *transfer->request->status_seen = response->status;
                transfer->sink_active = transfer->request->write != NULL &&
                                        response->status >= 200 && response->status < 300;
                return len;
        }

        colon = memchr(data, ':', len);
        if (colon == NULL || colon == data)
                return len;
        if (response->n_headers >= MAX_HEADERS)
                return len;

        name_len = (size_t)(colon - data);
        value = colon + 1;
        end = data + len;
        while (value < end && (*value == ' ' || *value == '\t'))
                value++;
        while (end > value &&
               (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
                end--;

        response->headers =
            es_realloc(response->headers, (response->n_headers + 1) * sizeof(*response->headers));
        response->headers[response->n_headers].name = es_strndup(data, name_len);
        response->headers[response->n_headers].value = es_strndup(value, (size_t)(end - value));
        response->n_headers++;
        return len;
}

static size_t on_write(char *data, size_t size, size_t count, void *ctx)
{
        struct transfer *transfer = ctx;
        struct es_http_response *response = transfer->response;
        size_t len = size * count;

        if (transfer->sink_active) {
                if (transfer->request->write(data, len, transfer->request->write_ctx) < 0) {
                        response->sink_failed = true;
                        return CURL_WRITEFUNC_ERROR;
                }
                return len;
        }
        if (es_buf_append(&response->body, data, len) < 0) {
                response->body_truncated = true;
                return CURL_WRITEFUNC_ERROR;
        }
        return len;
}

static size_t on_read(char *buffer, size_t size, size_t count, void *ctx)
{
        struct transfer *transfer = ctx;
        const struct es_http_request *request = transfer->request;
        size_t len = size * count;
        ssize_t n;

        if (request->read == NULL) {
                if (len > transfer->body_left)
                        len = transfer->body_left;
                memcpy(buffer, transfer->body, len);
                transfer->body += len;
                transfer->body_left -= len;
                return len;
        }

        n = request->read(buffer, len, request->read_ctx);
        if (n < 0)
                return CURL_READFUNC_ABORT;
        return (size_t)n;
}

/* "METHOD scheme://host/path" without the query, which may carry signed parameters. */
static char *describe(const struct es_http_request *request)
{
        size_t len = strcspn(request->url, "?#");

        return es_asprintf("%s %.*s", request->method, (int)len, request->url);
}

static int transport_error(const struct es_http_request *request, CURLcode code, const char *detail,
                           struct es_error *err)
{
        _cleanup_free_ char *what = describe(request);
        const char *text = detail && *detail ? detail : curl_easy_strerror(code);

        switch (code) {
        case CURLE_SSL_CONNECT_ERROR:
                return es_error_set(err, ES_ERR_TLS, "%s: TLS handshake failed: %s", what, text);
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
                return es_error_set(err, ES_ERR_PROTOCOL,
                                    "%s: certificate verification failed: %s; trust the "
                                    "registry's CA (copy --ca-file, or registries.HOST.ca_file "
                                    "in a sync configuration), or mark the registry insecure",
                                    what, text);
        case CURLE_TOO_MANY_REDIRECTS:
                return es_error_set(err, ES_ERR_PROTOCOL, "%s: %s", what, text);
        case CURLE_OUT_OF_MEMORY:
                /* libcurl 7.88 reports a response header over its 100 KiB limit this way. */
                return es_error_set(err, ES_ERR_PROTOCOL,
                                    "%s: the response headers are too large (%s)", what, text);
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
                return es_error_set(err, ES_ERR_INVALID, "%s: %s", what, text);
        default:
                return es_error_set(err, ES_ERR_TRANSIENT, "%s: %s", what, text);
        }
}

static struct curl_slist *build_headers(const struct es_http_request *request)
{
        struct curl_slist *list = NULL, *next;

        for (size_t i = 0; i < request->n_headers; i++) {
                next = curl_slist_append(list, request->headers[i]);
                if (next == NULL)
                        abort();
                list = next;
        }
        /* Send bodies at once instead of waiting for 100 Continue. */
        next = curl_slist_append(list, "Expect:");
        if (next == NULL)
                abort();
        return next;
}

static void configure(struct es_http *http, CURL *curl, const struct es_http_request *request,
                      struct transfer *transfer, struct curl_slist *headers, char *errbuf)
{
        curl_easy_setopt(curl, CURLOPT_URL, request->url);
        curl_easy_setopt(curl, CURLOPT_SHARE, http->share);
        curl_easy_setopt(curl, CURLOPT_USERAGENT, http->user_agent);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        if (request->connect_timeout_ms > 0)
                curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, request->connect_timeout_ms);
        else
                curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
        if (request->timeout_ms > 0)
                curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, request->timeout_ms);
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_LIMIT);
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, transfer);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, transfer);
        curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, NULL);
        if (request->ca_file)
                curl_easy_setopt(curl, CURLOPT_CAINFO, request->ca_file);
        else if (http->ca_file)
                curl_easy_setopt(curl, CURLOPT_CAINFO, http->ca_file);
        if (request->insecure_tls) {
                curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
                curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (request->follow_redirects) {
                /* libcurl keeps custom Authorization headers to the first origin only
                 * (scheme, host and port) unless CURLOPT_UNRESTRICTED_AUTH is set. */
                curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
                curl_easy_setopt(curl, CURLOPT_MAXREDIRS, (long)ES_MAX_REDIRECTS);
                curl_easy_setopt(curl, CURLOPT_UNRESTRICTED_AUTH, 0L);
        }

        if (strcmp(request->method, "HEAD") == 0) {
                curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
        } else if (strcmp(request->method, "GET") == 0) {
                curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        } else if (request->read != NULL || request->body != NULL ||
                   strcmp(request->method, "DELETE") != 0) {
                curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
                curl_easy_setopt(curl, CURLOPT_READDATA, transfer);
                curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
                                 request->read ? (curl_off_t)request->read_size
                                               : (curl_off_t)request->body_len);
                curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request->method);
        } else {
                curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request->method);
        }
}

int es_http_perform(struct es_http *http, const struct es_http_request *request,
                    struct es_http_response *response, struct es_error *err)
{
        char errbuf[CURL_ERROR_SIZE] = "";
        struct transfer transfer = {
            .request = request,
            .response = response,
            .body = request->body,
            .body_left = request->body ? request->body_len : 0,
        };
        struct curl_slist *headers;
        CURLcode code;
        CURL *curl;

        memset(response, 0, sizeof(*response));
        es_buf_init(&response->body, request->max_body ? request->max_body : ES_MAX_ERROR_BODY);

        curl = handle_acquire(http);
        headers = build_headers(request);
        configure(http, curl, request, &transfer, headers, errbuf);

        if (es_log_enabled(ES_LOG_DEBUG)) {
                _cleanup_free_ char *what = describe(request);
                es_log_debug("http: %s", what);
        }
        code = curl_easy_perform(curl);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(headers);
        if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && response->body_truncated))
                curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response->status);
        handle_release(http, curl);

        if (code == CURLE_WRITE_ERROR && response->body_truncated)
                return 0;
        if (code != CURLE_OK) {
                int r;

                if (response->sink_failed)
                        r = es_error_set(err, ES_ERR_CANCELLED, "transfer stopped by its reader");
                else
                        r = transport_error(request, code, errbuf, err);
                es_http_response_release(response);
                return r;
        }
        if (es_log_enabled(ES_LOG_DEBUG)) {
                _cleanup_free_ char *what = describe(request);
                es_log_debug("http: %s -> %ld", what, response->status);
        }
        return 0;
}

void es_http_response_release(struct es_http_response *response)
{
        headers_clear(response);
        es_buf_release(&response->body);
}

const char *es_http_response_header(const struct es_http_response *response, const char *name)
{
        for (size_t i = 0; i < response->n_headers; i++)
                if (strcasecmp(response->headers[i].name, name) == 0)
                        return response->headers[i].value;
        return NULL;
}

char *es_http_response_header_join(const struct es_http_response *response, const char *name)
{
        struct es_buf joined = ES_BUF_INIT(0);

        for (size_t i = 0; i < response->n_headers; i++) {
                if (strcasecmp(response->headers[i].name, name) != 0)
                        continue;
                if (joined.len)
                        es_buf_puts(&joined, ", ");
                es_buf_puts(&joined, response->headers[i].value);
        }
        return joined.data ? es_buf_take(&joined) : NULL;
}

const char *es_http_scheme_get(struct es_http *http, const char *host)
{
        const char *scheme = NULL;

        pthread_mutex_lock(&http->lock);
        for (size_t i = 0; i < http->n_schemes; i++)
                if (strcasecmp(http->schemes[i].host, host) == 0)
                        scheme = http->schemes[i].scheme;
        pthread_mutex_unlock(&http->lock);
        return scheme;
}

void es_http_scheme_set(struct es_http *http, const char *host, const char *scheme)
{
        const char *stored = strcmp(scheme, "http") == 0 ? "http" : "https";

        pthread_mutex_lock(&http->lock);
        for (size_t i = 0; i < http->n_schemes; i++) {
                if (strcasecmp(http->schemes[i].host, host) == 0) {
                        http->schemes[i].scheme = stored;
                        pthread_mutex_unlock(&http->lock);
                        return;
                }
        }
        http->schemes = es_realloc(http->schemes, (http->n_schemes + 1) * sizeof(*http->schemes));
        http->schemes[http->n_schemes].host = es_strdup(host);
        http->schemes[http->n_schemes].scheme = stored;
        http->n_schemes++;
        pthread_mutex_unlock(&http->lock);
}
