/* SPDX-License-Identifier: Apache-2.0 */
/* The distribution API client: requests, authentication, retries. */
#include "registry/client.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/limits.h"
#include "base/log.h"
#include "registry/auth.h"
#include "registry/link.h"
#include "registry/manifest.h"
#include "registry/reference.h"
#include "registry/url.h"

/* Backoff between tries of a request that can be replayed. */
#define BACKOFF_FIRST_MS  500
#define BACKOFF_MAX_MS    8000
#define RETRY_AFTER_MAX_S 60
/* Longest registry error message kept. */
#define MAX_ERROR_MESSAGE 300

struct es_registry {
        struct es_http *http;
        struct es_auth *auth;
        char *name;
        char *api_host;
        bool push;
        bool insecure;
        char *ca_file;
        char *credentials_hint;
        struct es_rate_limit *rate_limit; /* shared; may be NULL */
        struct es_retry_policy retry;
        struct es_registry_counters counters; /* updated atomically */

        pthread_mutex_t lock; /* guards base_url */
        char *base_url;       /* "https://host:port", set by the first ping */
};

struct es_registry *es_registry_new(struct es_http *http, const struct es_registry_options *options)
{
        struct es_registry *registry = es_calloc(1, sizeof(*registry));
        struct es_auth_options auth_options = {
            .registry = options->registry,
            .credentials = options->credentials,
            .insecure_tls = options->insecure,
            .ca_file = options->ca_file,
        };

        registry->http = http;
        registry->ca_file = options->ca_file ? es_strdup(options->ca_file) : NULL;
        registry->credentials_hint = es_strdup(
            options->credentials_hint ? options->credentials_hint
                                      : "check them in the Docker config or credential helper");
        registry->name = es_strdup(options->registry);
        registry->api_host = es_strdup(options->api_host ? options->api_host : options->registry);
        registry->push = options->push;
        registry->insecure = options->insecure;
        registry->rate_limit = options->rate_limit;
        registry->retry = es_retry_policy_or_default(&options->retry);
        registry->auth = es_auth_new(http, &auth_options);
        pthread_mutex_init(&registry->lock, NULL);
        return registry;
}

void es_registry_free(struct es_registry *registry)
{
        if (registry == NULL)
                return;
        es_auth_free(registry->auth);
        pthread_mutex_destroy(&registry->lock);
        free(registry->name);
        free(registry->ca_file);
        free(registry->credentials_hint);
        free(registry->api_host);
        free(registry->base_url);
        free(registry);
}

const char *es_registry_name(const struct es_registry *registry)
{
        return registry->name;
}

static void count(unsigned long *counter)
{
        __atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

void es_registry_counters(struct es_registry *registry, struct es_registry_counters *out)
{
        out->requests = __atomic_load_n(&registry->counters.requests, __ATOMIC_RELAXED);
        out->manifest_gets = __atomic_load_n(&registry->counters.manifest_gets, __ATOMIC_RELAXED);
        out->manifest_heads = __atomic_load_n(&registry->counters.manifest_heads, __ATOMIC_RELAXED);
        out->blob_gets = __atomic_load_n(&registry->counters.blob_gets, __ATOMIC_RELAXED);
}

static void note_rate_limit(struct es_registry *registry, const struct es_http_response *response)
{
        if (registry->rate_limit == NULL)
                return;
        es_rate_limit_update(registry->rate_limit,
                             es_http_response_header(response, "ratelimit-limit"),
                             es_http_response_header(response, "ratelimit-remaining"));
}

void es_manifest_info_release(struct es_manifest_info *info)
{
        free(info->digest);
        free(info->media_type);
        memset(info, 0, sizeof(*info));
        info->size = -1;
}

/* One request as the client sends it; the URL is owned by the caller. */
struct call {
        const char *what; /* context for errors: "get manifest 'repo:tag'" */
        const char *repository;
        const char *extra_scope; /* another scope to ask for, or NULL */
        struct es_http_request request;
        const char *headers[4]; /* extra header lines; the Authorization line is added */
        size_t n_headers;
        bool replayable;
        const uint64_t *progress; /* bytes already delivered; replay only while 0 */
};

static void sleep_ms(long ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

        nanosleep(&ts, NULL);
}

static double seconds_since(const struct timespec *start)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Retry-After in seconds (delay-seconds form only), or -1 when absent or unreadable. */
static long retry_after_seconds(const struct es_http_response *response)
{
        const char *value = response ? es_http_response_header(response, "Retry-After") : NULL;
        char *end;
        long seconds;

        if (value == NULL)
                return -1;
        seconds = strtol(value, &end, 10);
        if (end == value || *end != '\0' || seconds < 0)
                return -1;
        return seconds;
}

/* Exponential backoff with jitter, or Retry-After when the server sent one. */
static long backoff_ms(int attempt, const struct es_http_response *response)
{
        long retry_after = retry_after_seconds(response);
        long base = BACKOFF_FIRST_MS << attempt;

        if (retry_after >= 0)
                return retry_after * 1000;
        if (base > BACKOFF_MAX_MS)
                base = BACKOFF_MAX_MS;
        return base / 2 + (long)(random() % (base + 1));
}

/* Keep printable ASCII of a registry-supplied message, cut to a sane length. */
static char *clean_message(const char *text)
{
        size_t len = strlen(text), n = 0;
        char *out;

        if (len > MAX_ERROR_MESSAGE)
                len = MAX_ERROR_MESSAGE;
        out = es_malloc(len + 1);
        for (size_t i = 0; i < len; i++)
                out[n++] = (text[i] >= ' ' && text[i] < 127) ? text[i] : ' ';
        out[n] = '\0';
        return out;
}

static enum es_error_code code_for_status(long status, const char *registry_code)
{
        if (status == 401 || status == 403)
                return ES_ERR_AUTH;
        if (status == 404)
                return ES_ERR_NOT_FOUND;
        if (status == 429 || (registry_code && strcmp(registry_code, "TOOMANYREQUESTS") == 0))
                return ES_ERR_RATE_LIMITED;
        if (status >= 500)
                return ES_ERR_TRANSIENT;
        if (registry_code && strcmp(registry_code, "DIGEST_INVALID") == 0)
                return ES_ERR_DIGEST;
        if (status >= 400)
                return ES_ERR_INVALID;
        return ES_ERR_PROTOCOL;
}

/* Build the error for an unexpected status from the registry's error body. */
static int status_error(struct es_registry *registry, const struct call *call,
                        const struct es_http_response *response, struct es_error *err)
{
        _cleanup_free_ char *message = NULL, *registry_code = NULL;
        json_t *root = NULL, *first;

        if (response->body.len > 0 && !response->body_truncated)
                root = json_loadb(response->body.data, response->body.len, 0, NULL);
        first = json_array_get(json_object_get(root, "errors"), 0);
        if (json_is_string(json_object_get(first, "code")))
                registry_code = clean_message(json_string_value(json_object_get(first, "code")));
        if (json_is_string(json_object_get(first, "message")))
                message = clean_message(json_string_value(json_object_get(first, "message")));
        /* A registry may echo the credentials it was sent. */
        es_auth_scrub(registry->auth, message);
        es_auth_scrub(registry->auth, registry_code);

        if (registry_code && message)
                es_error_set(err, code_for_status(response->status, registry_code),
                             "%s: HTTP %ld %s: %s", call->what, response->status, registry_code,
                             message);
        else
                es_error_set(err, code_for_status(response->status, registry_code), "%s: HTTP %ld",
                             call->what, response->status);
        es_error_set_http(err, response->status, registry_code);
        json_decref(root);
        return -(int)err->code;
}

/* "repo:tag" or "repo@sha256:..." for messages. */
static char *describe_ref(const char *repository, const char *reference)
{
        bool digest = strchr(reference, ':') != NULL;

        return es_asprintf("%s%c%s", repository, digest ? '@' : ':', reference);
}

static char *scope_for(const struct es_registry *registry, const struct call *call)
{
        const char *actions = registry->push ? "pull,push" : "pull";

        if (call->extra_scope)
                return es_asprintf("repository:%s:%s %s", call->repository, actions,
                                   call->extra_scope);
        return es_asprintf("repository:%s:%s", call->repository, actions);
}

static int ping_with_scheme(struct es_registry *registry, const char *scheme, struct es_error *err)
{
        _cleanup_free_ char *url = es_asprintf("%s://%s/v2/", scheme, registry->api_host);
        struct es_http_response response = {0};
        struct es_http_request request = {
            .method = "GET",
            .url = url,
            .insecure_tls = registry->insecure,
            .ca_file = registry->ca_file,
        };
        _cleanup_free_ char *challenge = NULL;
        int r;

        r = es_http_perform(registry->http, &request, &response, err);
        if (r < 0)
                return r;

        if (response.status == 401) {
                challenge = es_http_response_header_join(&response, "WWW-Authenticate");
                r = es_auth_challenge(registry->auth, challenge, "", false, err);
        } else if (response.status != 200) {
                r = es_error_set(err, ES_ERR_PROTOCOL,
                                 "'%s' answered HTTP %ld to GET /v2/: is it a registry?",
                                 registry->name, response.status);
                es_error_set_http(err, response.status, NULL);
        }
        es_http_response_release(&response);
        return r;
}

int es_registry_ping(struct es_registry *registry, struct es_error *err)
{
        const char *known;
        int r;

        pthread_mutex_lock(&registry->lock);
        if (registry->base_url) {
                pthread_mutex_unlock(&registry->lock);
                return 0;
        }

        known = es_http_scheme_get(registry->http, registry->api_host);
        r = ping_with_scheme(registry, known ? known : "https", err);
        if (r == -ES_ERR_TLS && known == NULL &&
            (registry->insecure || es_registry_is_loopback(registry->api_host))) {
                es_log_debug("registry: '%s' does not speak TLS, using plain HTTP",
                             registry->api_host);
                known = "http";
                es_error_release(err);
                r = ping_with_scheme(registry, known, err);
        } else if (r == -ES_ERR_TLS) {
                es_error_prefix(err, "'%s' (mark the registry insecure if it serves plain HTTP)",
                                registry->name);
        } else if (r == -ES_ERR_TRANSIENT) {
                es_error_prefix(err, "cannot reach registry '%s'", registry->name);
        }
        if (r >= 0) {
                if (known == NULL)
                        known = "https";
                es_http_scheme_set(registry->http, registry->api_host, known);
                registry->base_url = es_asprintf("%s://%s", known, registry->api_host);
        }
        pthread_mutex_unlock(&registry->lock);
        return r;
}

static char *api_url(struct es_registry *registry, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *api_url(struct es_registry *registry, const char *fmt, ...)
{
        _cleanup_free_ char *path = NULL;
        va_list ap;

        va_start(ap, fmt);
        path = es_vasprintf(fmt, ap);
        va_end(ap);
        return es_asprintf("%s%s", registry->base_url, path);
}

/*
 * Send a call: authenticate, answer one 401 with a new token, and retry
 * replayable calls after transient failures. On success the response is
 * the caller's to release, whatever its status.
 */
static bool can_replay(const struct call *call)
{
        return call->replayable && (call->progress == NULL || *call->progress == 0);
}

static int call_perform(struct es_registry *registry, struct call *call,
                        struct es_http_response *response, struct es_error *err)
{
        _cleanup_free_ char *scope = scope_for(registry, call);
        bool answered_challenge = false;
        struct timespec start;
        int r;

        clock_gettime(CLOCK_MONOTONIC, &start);
        for (int attempt = 0;; attempt++) {
                _cleanup_free_ char *authorization = NULL, *challenge = NULL;
                const char *headers[ES_ARRAY_SIZE(call->headers) + 1];
                size_t n = 0;
                long wait;

                /* Credentials go to the registry's own origin only, whatever a Location says. */
                r = 0;
                if (es_url_same_origin(call->request.url, registry->base_url))
                        r = es_auth_header(registry->auth, scope, &authorization, err);
                else
                        es_log_debug("registry: %s goes to another host, without credentials",
                                     call->what);
                if (r < 0)
                        return es_error_prefix(err, "%s", call->what);
                for (size_t i = 0; i < call->n_headers; i++)
                        headers[n++] = call->headers[i];
                if (authorization)
                        headers[n++] = authorization;
                call->request.headers = headers;
                call->request.n_headers = n;
                call->request.insecure_tls = registry->insecure;
                call->request.ca_file = registry->ca_file;

                count(&registry->counters.requests);
                r = es_http_perform(registry->http, &call->request, response, err);
                if (authorization)
                        explicit_bzero(authorization, strlen(authorization));
                call->request.headers = NULL;
                if (r < 0) {
                        wait = backoff_ms(attempt, NULL);
                        if (r == -ES_ERR_TRANSIENT && can_replay(call) &&
                            es_retry_allowed(&registry->retry, attempt, seconds_since(&start),
                                             wait)) {
                                es_log_debug("registry: %s: %s, retrying in %ld ms", call->what,
                                             es_error_message(err), wait);
                                sleep_ms(wait);
                                continue;
                        }
                        return es_error_prefix(err, "%s", call->what);
                }

                if (response->status == 401 && !answered_challenge) {
                        answered_challenge = true;
                        challenge = es_http_response_header_join(response, "WWW-Authenticate");
                        es_http_response_release(response);
                        r = es_auth_challenge(registry->auth, challenge, scope,
                                              authorization != NULL, err);
                        if (r < 0)
                                return es_error_prefix(err, "%s", call->what);
                        /* New credentials are in place; the caller may start over. */
                        if (!can_replay(call))
                                return es_error_set(err, ES_ERR_TRANSIENT,
                                                    "%s: HTTP 401: the token expired during the "
                                                    "request",
                                                    call->what);
                        continue;
                }

                if (response->status == 401 && answered_challenge && authorization != NULL) {
                        /* Fresh credentials were refused too. */
                        r = status_error(registry, call, response, err);
                        es_http_response_release(response);
                        return es_error_prefix(err,
                                               "'%s' refused the credentials, also after "
                                               "fetching them again; %s",
                                               registry->name, registry->credentials_hint);
                }

                /* A rate limit that lifts only after RETRY_AFTER_MAX_S is not waited out:
                 * the caller defers the work instead. */
                if (response->status == 429 && retry_after_seconds(response) > RETRY_AFTER_MAX_S)
                        return 0;

                wait = backoff_ms(attempt, response);
                if ((response->status >= 500 || response->status == 429) && can_replay(call) &&
                    es_retry_allowed(&registry->retry, attempt, seconds_since(&start), wait)) {
                        es_log_debug("registry: %s: HTTP %ld, retrying in %ld ms", call->what,
                                     response->status, wait);
                        es_http_response_release(response);
                        sleep_ms(wait);
                        continue;
                }
                return 0;
        }
}

static int call_prepare(struct es_registry *registry, struct call *call, struct es_error *err)
{
        int r = es_registry_ping(registry, err);

        if (r < 0)
                return es_error_prefix(err, "%s", call->what);
        return 0;
}

static void info_from_response(const struct es_http_response *response,
                               struct es_manifest_info *info)
{
        const char *digest = es_http_response_header(response, "Docker-Content-Digest");
        const char *type = es_http_response_header(response, "Content-Type");
        const char *length = es_http_response_header(response, "Content-Length");

        memset(info, 0, sizeof(*info));
        info->size = -1;
        if (digest && *digest)
                info->digest = es_strdup(digest);
        if (type && *type)
                info->media_type = es_strndup(type, strcspn(type, ";"));
        if (length)
                info->size = strtoll(length, NULL, 10);
}

int es_registry_manifest_head(struct es_registry *registry, const char *repository,
                              const char *reference, bool *found, struct es_manifest_info *info,
                              struct es_error *err)
{
        _cleanup_free_ char *ref_text = describe_ref(repository, reference);
        _cleanup_free_ char *what = es_asprintf("head manifest '%s'", ref_text);
        _cleanup_free_ char *accept = NULL, *url = NULL;
        struct es_http_response response = {0};
        struct call call = {.what = what, .repository = repository, .replayable = true};
        int r;

        *found = false;
        if ((r = call_prepare(registry, &call, err)) < 0)
                return r;
        url = api_url(registry, "/v2/%s/manifests/%s", repository, reference);
        accept = es_asprintf("Accept: %s", ES_MANIFEST_ACCEPT);
        call.request = (struct es_http_request){.method = "HEAD", .url = url};
        call.headers[call.n_headers++] = accept;

        count(&registry->counters.manifest_heads);
        r = call_perform(registry, &call, &response, err);
        if (r < 0)
                return r;
        note_rate_limit(registry, &response);
        if (response.status == 200) {
                *found = true;
                info_from_response(&response, info);
        } else if (response.status != 404) {
                r = status_error(registry, &call, &response, err);
        }
        es_http_response_release(&response);
        return r;
}

int es_registry_manifest_get(struct es_registry *registry, const char *repository,
                             const char *reference, struct es_buf *body,
                             struct es_manifest_info *info, struct es_error *err)
{
        _cleanup_free_ char *ref_text = describe_ref(repository, reference);
        _cleanup_free_ char *what = es_asprintf("get manifest '%s'", ref_text);
        _cleanup_free_ char *accept = NULL, *url = NULL;
        struct es_http_response response = {0};
        struct call call = {.what = what, .repository = repository, .replayable = true};
        int r;

        if ((r = call_prepare(registry, &call, err)) < 0)
                return r;
        url = api_url(registry, "/v2/%s/manifests/%s", repository, reference);
        accept = es_asprintf("Accept: %s", ES_MANIFEST_ACCEPT);
        call.request = (struct es_http_request){
            .method = "GET",
            .url = url,
            .max_body = ES_MAX_MANIFEST_SIZE,
        };
        call.headers[call.n_headers++] = accept;

        count(&registry->counters.manifest_gets);
        r = call_perform(registry, &call, &response, err);
        if (r < 0)
                return r;
        note_rate_limit(registry, &response);
        if (response.status != 200) {
                r = status_error(registry, &call, &response, err);
        } else if (response.body_truncated) {
                r = es_error_set(err, ES_ERR_INVALID, "%s: manifest is larger than %u bytes", what,
                                 ES_MAX_MANIFEST_SIZE);
        } else {
                info_from_response(&response, info);
                es_buf_release(body);
                *body = response.body;
                memset(&response.body, 0, sizeof(response.body));
        }
        es_http_response_release(&response);
        return r;
}

int es_registry_manifest_put(struct es_registry *registry, const char *repository,
                             const char *reference, const char *media_type, const char *data,
                             size_t len, struct es_error *err)
{
        _cleanup_free_ char *ref_text = describe_ref(repository, reference);
        _cleanup_free_ char *what = es_asprintf("push manifest '%s'", ref_text);
        _cleanup_free_ char *content_type = NULL, *url = NULL;
        struct es_http_response response = {0};
        struct call call = {.what = what, .repository = repository, .replayable = true};
        int r;

        if ((r = call_prepare(registry, &call, err)) < 0)
                return r;
        url = api_url(registry, "/v2/%s/manifests/%s", repository, reference);
        content_type = es_asprintf("Content-Type: %s", media_type);
        call.request = (struct es_http_request){
            .method = "PUT",
            .url = url,
            .body = data,
            .body_len = len,
        };
        call.headers[call.n_headers++] = content_type;

        r = call_perform(registry, &call, &response, err);
        if (r < 0)
                return r;
        if (response.status != 201 && response.status != 200)
                r = status_error(registry, &call, &response, err);
        es_http_response_release(&response);
        return r;
}

int es_registry_blob_head(struct es_registry *registry, const char *repository, const char *digest,
                          bool *found, struct es_error *err)
{
        _cleanup_free_ char *what = es_asprintf("head blob '%s@%s'", repository, digest);
        _cleanup_free_ char *url = NULL;
        struct es_http_response response = {0};
        struct call call = {.what = what, .repository = repository, .replayable = true};
        int r;

        *found = false;
        if ((r = call_prepare(registry, &call, err)) < 0)
                return r;
        url = api_url(registry, "/v2/%s/blobs/%s", repository, digest);
        call.request = (struct es_http_request){
            .method = "HEAD",
            .url = url,
            .follow_redirects = true,
        };

        r = call_perform(registry, &call, &response, err);
        if (r < 0)
                return r;
        if (response.status == 200)
                *found = true;
        else if (response.status != 404)
                r = status_error(registry, &call, &response, err);
        es_http_response_release(&response);
        return r;
}

/* Resumed downloads per blob GET, after the first attempt broke part-way. */
#define MAX_RESUMES 3

/*
 * Counts what reaches the caller's sink, so a failed GET is replayed only
 * while nothing has, and drops the first skip bytes of a body that restarts
 * from zero when a server ignores Range.
 */
struct counting_sink {
        es_http_write_fn write;
        void *ctx;
        uint64_t bytes;  /* delivered to the caller */
        uint64_t offset; /* where the current request's Range starts */
        uint64_t skip;   /* still to drop before delivering */
        long status;     /* of the current response, set as its headers arrive */
        bool started;    /* the current response's body has begun */
};

static int counting_write(const char *data, size_t len, void *ctx)
{
        struct counting_sink *sink = ctx;

        /* A server that ignores Range sends the whole blob again with 200. */
        if (!sink->started) {
                sink->started = true;
                sink->skip = sink->status == 200 ? sink->offset : 0;
        }
        if (sink->skip > 0) {
                size_t dropped = len < sink->skip ? len : (size_t)sink->skip;

                sink->skip -= dropped;
                data += dropped;
                len -= dropped;
                if (len == 0)
                        return 0;
        }
        sink->bytes += len;
        return sink->write(data, len, sink->ctx);
}

/* Check that a 206 answer starts where the request asked: "bytes START-END/TOTAL". */
static bool range_starts_at(const struct es_http_response *response, uint64_t offset)
{
        const char *value = es_http_response_header(response, "Content-Range");
        unsigned long long start;

        if (value == NULL || sscanf(value, "bytes %llu-", &start) != 1)
                return false;
        return start == offset;
}

int es_registry_blob_get(struct es_registry *registry, const char *repository, const char *digest,
                         es_http_write_fn write, void *write_ctx, struct es_error *err)
{
        _cleanup_free_ char *what = es_asprintf("get blob '%s@%s'", repository, digest);
        _cleanup_free_ char *url = NULL;
        struct counting_sink sink = {.write = write, .ctx = write_ctx};
        int r;

        if ((r = es_registry_ping(registry, err)) < 0)
                return es_error_prefix(err, "%s", what);
        url = api_url(registry, "/v2/%s/blobs/%s", repository, digest);

        for (int resume = 0;; resume++) {
                struct es_http_response response = {0};
                struct call call = {
                    .what = what,
                    .repository = repository,
                    .replayable = true,
                    .progress = &sink.bytes,
                };
                _cleanup_free_ char *range = NULL;
                uint64_t offset = sink.bytes;

                call.request = (struct es_http_request){
                    .method = "GET",
                    .url = url,
                    .write = counting_write,
                    .write_ctx = &sink,
                    .status_seen = &sink.status,
                    .follow_redirects = true,
                };
                sink.offset = offset;
                sink.started = false;
                if (offset > 0) {
                        range = es_asprintf("Range: bytes=%llu-", (unsigned long long)offset);
                        call.headers[call.n_headers++] = range;
                }
                count(&registry->counters.blob_gets);
                r = call_perform(registry, &call, &response, err);
                if (r == -ES_ERR_TRANSIENT && sink.bytes > offset && resume < MAX_RESUMES) {
                        /* The body broke after some bytes: ask for the rest. */
                        es_log_debug("registry: %s: %s; resuming at byte %llu", what,
                                     es_error_message(err), (unsigned long long)sink.bytes);
                        es_error_release(err);
                        continue;
                }
                if (r < 0)
                        return r;

                if (response.status == 206 && offset > 0 && !range_starts_at(&response, offset))
                        r = es_error_set(err, ES_ERR_PROTOCOL,
                                         "%s: the resumed body does not start at byte %llu", what,
                                         (unsigned long long)offset);
                else if (response.status != 200 && !(response.status == 206 && offset > 0))
                        r = status_error(registry, &call, &response, err);
                es_http_response_release(&response);
                return r;
        }
}

/* Resolve a Location header against the URL of the request that returned it. */
static int location_from(const struct call *call, const struct es_http_response *response,
                         char **out, struct es_error *err)
{
        const char *location = es_http_response_header(response, "Location");
        int r;

        if (location == NULL || *location == '\0')
                return es_error_set(err, ES_ERR_PROTOCOL, "%s: HTTP %ld without a Location header",
                                    call->what, response->status);
        r = es_url_resolve(call->request.url, location, out, err);
        if (r < 0)
                return es_error_prefix(err, "%s: invalid Location header", call->what);
        return 0;
}

static int upload_post(struct es_registry *registry, const char *repository, const char *digest,
                       const char *from_repository, bool *mounted, char **location,
                       struct es_error *err)
{
        _cleanup_free_ char *what = NULL, *url = NULL, *extra_scope = NULL;
        struct es_http_response response = {0};
        struct call call = {.repository = repository, .replayable = true};
        int r;

        if (from_repository) {
                what = es_asprintf("mount blob '%s' from '%s' into '%s'", digest, from_repository,
                                   repository);
                url = api_url(registry, "/v2/%s/blobs/uploads/?mount=%s&from=%s", repository,
                              digest, from_repository);
                extra_scope = es_asprintf("repository:%s:pull", from_repository);
                call.extra_scope = extra_scope;
        } else {
                what = es_asprintf("start upload to '%s'", repository);
                url = api_url(registry, "/v2/%s/blobs/uploads/", repository);
        }
        call.what = what;
        call.request = (struct es_http_request){.method = "POST", .url = url};

        r = call_perform(registry, &call, &response, err);
        if (r < 0)
                return r;
        if (from_repository && response.status == 201)
                *mounted = true;
        else if (response.status == 202)
                r = location_from(&call, &response, location, err);
        else
                r = status_error(registry, &call, &response, err);
        es_http_response_release(&response);
        return r;
}

int es_registry_upload_start(struct es_registry *registry, const char *repository,
                             const char *digest, const char *from_repository, bool *mounted,
                             char **location, struct es_error *err)
{
        struct es_error mount_err = ES_ERROR_INIT;
        int r;

        *mounted = false;
        *location = NULL;
        if ((r = es_registry_ping(registry, err)) < 0)
                return es_error_prefix(err, "start upload to '%s'", repository);

        if (from_repository) {
                /* A mount is an optimisation: 202 opens a normal session, and refusals
                 * (401, 403, or an error) fall back to a plain upload. */
                r = upload_post(registry, repository, digest, from_repository, mounted, location,
                                &mount_err);
                if (r >= 0) {
                        es_error_release(&mount_err);
                        return 0;
                }
                es_log_debug("registry: %s; uploading instead", es_error_message(&mount_err));
                es_error_release(&mount_err);
        }
        return upload_post(registry, repository, digest, NULL, mounted, location, err);
}

int es_registry_upload_patch(struct es_registry *registry, const char *repository, char **location,
                             es_http_read_fn read, void *read_ctx, int64_t size,
                             struct es_error *err)
{
        _cleanup_free_ char *what = es_asprintf("upload blob to '%s'", repository);
        struct es_http_response response = {0};
        struct call call = {.what = what, .repository = repository, .replayable = false};
        char *next = NULL;
        int r;

        call.request = (struct es_http_request){
            .method = "PATCH",
            .url = *location,
            .read = read,
            .read_ctx = read_ctx,
            .read_size = size,
        };
        call.headers[call.n_headers++] = "Content-Type: application/octet-stream";

        r = call_perform(registry, &call, &response, err);
        if (r < 0)
                return r;
        if (response.status == 202 || response.status == 204) {
                r = location_from(&call, &response, &next, err);
                if (r >= 0) {
                        free(*location);
                        *location = next;
                }
        } else {
                r = status_error(registry, &call, &response, err);
        }
        es_http_response_release(&response);
        return r;
}

int es_registry_upload_finish(struct es_registry *registry, const char *repository,
                              const char *location, const char *digest, struct es_error *err)
{
        _cleanup_free_ char *what =
            es_asprintf("complete upload of '%s' to '%s'", digest, repository);
        _cleanup_free_ char *url = es_url_append_query(location, "digest", digest);
        struct es_http_response response = {0};
        struct call call = {.what = what, .repository = repository, .replayable = false};
        struct es_error head_err = ES_ERROR_INIT;
        bool found = false;
        int r;

        call.request = (struct es_http_request){.method = "PUT", .url = url};
        r = call_perform(registry, &call, &response, err);
        if (r >= 0) {
                if (response.status != 201 && response.status != 204 && response.status != 200)
                        r = status_error(registry, &call, &response, err);
                es_http_response_release(&response);
        }
        if (r >= 0)
                return 0;

        /* The registry may have committed the blob before its answer was lost (and a resent
         * PUT then finds no session): the blob being there is what counts. */
        if (es_registry_blob_head(registry, repository, digest, &found, &head_err) >= 0 && found) {
                es_log_debug("registry: %s: %s, but the blob is there", what,
                             es_error_message(err));
                es_error_release(err);
                r = 0;
        }
        es_error_release(&head_err);
        return r;
}

void es_registry_upload_cancel(struct es_registry *registry, const char *repository,
                               const char *location)
{
        _cleanup_free_ char *what = es_asprintf("cancel upload to '%s'", repository);
        struct es_http_response response = {0};
        struct es_error err = ES_ERROR_INIT;
        struct call call = {.what = what, .repository = repository, .replayable = false};

        call.request = (struct es_http_request){.method = "DELETE", .url = location};
        if (call_perform(registry, &call, &response, &err) >= 0)
                es_http_response_release(&response);
        else
                es_log_debug("registry: %s", es_error_message(&err));
        es_error_release(&err);
}

/* Largest number of tags asked for per page; ECR rejects more than 1000. */
#define TAG_PAGE_SIZE 1000
/* Pages followed before a tag list is taken to be endless. */
#define MAX_TAG_PAGES 10000

static int report_tags(const struct es_buf *body, const char *what, es_registry_tag_fn fn,
                       void *ctx, struct es_error *err)
{
        json_t *root = json_loadb(body->data ? body->data : "", body->len, 0, NULL);
        json_t *tags = json_object_get(root, "tags"), *tag;
        size_t i;
        int r = 0;

        if (!json_is_object(root) || (!json_is_array(tags) && !json_is_null(tags) && tags)) {
                json_decref(root);
                return es_error_set(err, ES_ERR_PROTOCOL, "%s: the response is not a tag list",
                                    what);
        }
        json_array_foreach (tags, i, tag) {
                const char *name = json_string_value(tag);

                if (name == NULL || !es_tag_is_valid(name)) {
                        r = es_error_set(err, ES_ERR_PROTOCOL, "%s: invalid tag in the list", what);
                        break;
                }
                if ((r = fn(name, ctx)) < 0)
                        break;
        }
        json_decref(root);
        return r;
}

int es_registry_list_tags(struct es_registry *registry, const char *repository,
                          es_registry_tag_fn fn, void *ctx, struct es_error *err)
{
        _cleanup_free_ char *what = es_asprintf("list tags of '%s'", repository);
        _cleanup_free_ char *url = NULL, *previous = NULL;
        int r;

        if ((r = es_registry_ping(registry, err)) < 0)
                return es_error_prefix(err, "%s", what);
        url = api_url(registry, "/v2/%s/tags/list?n=%d", repository, TAG_PAGE_SIZE);

        for (int page = 0; page < MAX_TAG_PAGES; page++) {
                struct es_http_response response = {0};
                struct call call = {.what = what, .repository = repository, .replayable = true};
                const char *link;
                char *next = NULL;

                call.request = (struct es_http_request){
                    .method = "GET",
                    .url = url,
                    .max_body = ES_MAX_TAG_PAGE,
                };
                r = call_perform(registry, &call, &response, err);
                if (r < 0)
                        return r;
                if (response.status != 200)
                        r = status_error(registry, &call, &response, err);
                else if (response.body_truncated)
                        r = es_error_set(err, ES_ERR_PROTOCOL, "%s: a page is larger than %u bytes",
                                         what, ES_MAX_TAG_PAGE);
                else
                        r = report_tags(&response.body, what, fn, ctx, err);

                link = es_http_response_header(&response, "Link");
                if (r >= 0 && link) {
                        _cleanup_free_ char *target = NULL;

                        r = es_link_find_next(link, &target, err);
                        if (r >= 0 && target)
                                r = es_url_resolve(url, target, &next, err);
                        if (r < 0)
                                es_error_prefix(err, "%s", what);
                        else if (next && !es_url_same_origin(url, next))
                                r = es_error_set(err, ES_ERR_PROTOCOL,
                                                 "%s: the next page is on another host (%.*s)",
                                                 what, (int)strcspn(next, "?#"), next);
                }
                es_http_response_release(&response);
                if (r < 0) {
                        free(next);
                        return r;
                }
                if (next == NULL)
                        return 0;
                if (previous && strcmp(previous, next) == 0) {
                        free(next);
                        return es_error_set(err, ES_ERR_PROTOCOL,
                                            "%s: the next page is the same page again", what);
                }
                free(previous);
                previous = url;
                url = next;
        }
        return es_error_set(err, ES_ERR_PROTOCOL, "%s: more than %d pages", what, MAX_TAG_PAGES);
}
