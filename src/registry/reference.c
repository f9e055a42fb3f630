/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image reference parsing and normalisation in Docker's conventions, with the
 * repository path grammar of the OCI distribution spec.
 */
#include "registry/reference.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "registry/digest.h"

#define DOCKER_HUB           "docker.io"
#define DOCKER_HUB_LEGACY    "index.docker.io"
#define DOCKER_HUB_API_HOST  "registry-1.docker.io"
#define DOCKER_OFFICIAL_REPO "library/"

/* The distribution spec's limit on a repository path; Docker applies it too. */
#define MAX_REPOSITORY_LENGTH 255
#define MAX_TAG_LENGTH        128
/* Longest DNS name (RFC 1035) without the trailing dot. */
#define MAX_HOST_LENGTH 253

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_ascii_alnum(char c)
{
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_ascii_upper(char c)
{
        return c >= 'A' && c <= 'Z';
}

/*
 * Check one repository path component: [a-z0-9]+ joined by '.', '_', '__' or
 * runs of '-'. Returns NULL when valid, else a new message.
 */
static char *component_problem(const char *component, size_t len)
{
        size_t i = 0;

        if (len == 0)
                return es_strdup("repository path has an empty component");

        while (i < len) {
                size_t separator_start;

                if (!is_lower_alnum(component[i]))
                        return es_asprintf("repository path component \"%.*s\" must start with a "
                                           "lowercase letter or digit",
                                           (int)len, component);
                while (i < len && is_lower_alnum(component[i]))
                        i++;
                if (i == len)
                        break;

                separator_start = i;
                if (component[i] == '.') {
                        i++;
                } else if (component[i] == '_') {
                        i++;
                        if (i < len && component[i] == '_')
                                i++;
                } else if (component[i] == '-') {
                        while (i < len && component[i] == '-')
                                i++;
                } else {
                        return es_asprintf("invalid character '%c' in repository path component "
                                           "\"%.*s\"; allowed are a-z, 0-9, '.', '_' and '-'",
                                           component[i], (int)len, component);
                }

                if (i == len)
                        return es_asprintf("repository path component \"%.*s\" must end with a "
                                           "lowercase letter or digit",
                                           (int)len, component);
                if (!is_lower_alnum(component[i]))
                        return es_asprintf("invalid separator \"%.*s\" in repository path "
                                           "component \"%.*s\"; use one of '.', '_', '__' or '-'",
                                           (int)(i + 1 - separator_start),
                                           component + separator_start, (int)len, component);
        }
        return NULL;
}

/* Check a whole repository path. Returns NULL when valid, else a new message. */
static char *path_problem(const char *path, size_t len)
{
        const char *component = path;
        const char *end = path + len;

        for (size_t i = 0; i < len; i++) {
                if (is_ascii_upper(path[i]))
                        return es_strdup("repository names must be lowercase");
        }

        if (len == 0)
                return es_strdup("repository path is empty");
        if (len > MAX_REPOSITORY_LENGTH)
                return es_asprintf("repository path is %zu characters, the maximum is %d", len,
                                   MAX_REPOSITORY_LENGTH);

        while (component <= end) {
                const char *slash = memchr(component, '/', (size_t)(end - component));
                const char *component_end = slash ? slash : end;
                char *problem = component_problem(component, (size_t)(component_end - component));

                if (problem != NULL)
                        return problem;
                component = component_end + 1;
        }
        return NULL;
}

static const char *tag_problem(const char *tag)
{
        size_t len = strlen(tag);

        if (len == 0)
                return "tag is empty";
        if (len > MAX_TAG_LENGTH)
                return "tag is longer than 128 characters";
        if (!is_ascii_alnum(tag[0]) && tag[0] != '_')
                return "tag must start with a letter, digit or '_'";
        for (size_t i = 1; i < len; i++) {
                if (!is_ascii_alnum(tag[i]) && tag[i] != '_' && tag[i] != '.' && tag[i] != '-')
                        return "tag may contain only letters, digits, '_', '.' and '-'";
        }
        return NULL;
}

bool es_repository_path_is_valid(const char *path)
{
        _cleanup_free_ char *problem = path_problem(path, strlen(path));

        return problem == NULL;
}

bool es_tag_is_valid(const char *tag)
{
        return tag_problem(tag) == NULL;
}

/* Check ":PORT" where PORT is a decimal from 1 to 65535. */
static bool port_is_valid(const char *port, size_t len)
{
        unsigned long value = 0;

        if (len < 2 || len > 6 || port[0] != ':')
                return false;
        for (size_t i = 1; i < len; i++) {
                if (port[i] < '0' || port[i] > '9')
                        return false;
                value = value * 10 + (unsigned long)(port[i] - '0');
        }
        return value >= 1 && value <= 65535;
}

/* Check a DNS name or IPv4 address: labels of [A-Za-z0-9] with inner '-'. */
static bool host_name_is_valid(const char *host, size_t len)
{
        size_t label_start = 0;

        if (len == 0 || len > MAX_HOST_LENGTH)
                return false;
        for (size_t i = 0; i <= len; i++) {
                if (i == len || host[i] == '.') {
                        if (i == label_start || host[label_start] == '-' || host[i - 1] == '-')
                                return false;
                        label_start = i + 1;
                } else if (!is_ascii_alnum(host[i]) && host[i] != '-') {
                        return false;
                }
        }
        return true;
}

/* Check "[IPV6]" followed by nothing or a port. */
static bool bracketed_host_is_valid(const char *registry, size_t len, size_t *host_len)
{
        const char *close = memchr(registry, ']', len);
        char address[INET6_ADDRSTRLEN + 1];
        struct in6_addr parsed;
        size_t address_len;

        if (close == NULL)
                return false;
        address_len = (size_t)(close - registry) - 1;
        if (address_len == 0 || address_len >= sizeof(address))
                return false;
        memcpy(address, registry + 1, address_len);
        address[address_len] = '\0';
        if (inet_pton(AF_INET6, address, &parsed) != 1)
                return false;
        *host_len = (size_t)(close - registry) + 1;
        return true;
}

/* Check a registry: a host name, IPv4 address or bracketed IPv6 address, and an optional port. */
static bool registry_is_valid(const char *registry, size_t len)
{
        const char *colon;
        size_t host_len;

        if (len > 0 && registry[0] == '[') {
                if (!bracketed_host_is_valid(registry, len, &host_len))
                        return false;
        } else {
                colon = memchr(registry, ':', len);
                host_len = colon ? (size_t)(colon - registry) : len;
                if (!host_name_is_valid(registry, host_len))
                        return false;
        }
        return host_len == len || port_is_valid(registry + host_len, len - host_len);
}

/* Docker reads the first path component as a registry under these conditions. */
static bool component_names_registry(const char *component, size_t len)
{
        return memchr(component, '.', len) != NULL || memchr(component, ':', len) != NULL ||
               (len == 9 && memcmp(component, "localhost", 9) == 0) ||
               (len > 0 && component[0] == '[');
}

static int reference_invalid(struct es_error *err, const char *noun, const char *text,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Set `invalid NOUN "TEXT": REASON`. */
static int reference_invalid(struct es_error *err, const char *noun, const char *text,
                             const char *fmt, ...)
{
        _cleanup_free_ char *reason = NULL;
        va_list ap;

        va_start(ap, fmt);
        reason = es_vasprintf(fmt, ap);
        va_end(ap);
        return es_error_set(err, ES_ERR_INVALID, "invalid %s \"%s\": %s", noun, text, reason);
}

static int parse_reference(const char *text, bool repository_only, struct es_reference *out,
                           struct es_error *err)
{
        const char *noun = repository_only ? "repository" : "reference";
        _cleanup_free_ char *registry = NULL, *repository = NULL, *tag = NULL, *digest = NULL;
        _cleanup_free_ char *problem = NULL;
        const char *name_end, *last_slash, *colon, *first_slash, *path;
        size_t name_len, path_len;
        int r;

        if (text[0] == '\0')
                return reference_invalid(err, noun, text, "the %s is empty", noun);

        /* '@' cannot occur in a name or tag, so the first one starts the digest. */
        name_end = strchr(text, '@');
        if (name_end != NULL) {
                struct es_error digest_err = ES_ERROR_INIT;

                if (repository_only)
                        return reference_invalid(err, noun, text,
                                                 "a repository must not carry a digest; "
                                                 "remove \"%s\"",
                                                 name_end);
                r = es_digest_validate(name_end + 1, &digest_err);
                if (r < 0) {
                        reference_invalid(err, noun, text, "%s", es_error_message(&digest_err));
                        es_error_release(&digest_err);
                        return r;
                }
                digest = es_strdup(name_end + 1);
        } else {
                name_end = text + strlen(text);
        }
        name_len = (size_t)(name_end - text);

        /* A tag follows the last ':' after the last '/', so "host:5000/app" has none. */
        last_slash = memrchr(text, '/', name_len);
        colon = memchr(last_slash ? last_slash : text, ':',
                       (size_t)(name_end - (last_slash ? last_slash : text)));
        if (colon != NULL) {
                const char *tag_reason;

                if (repository_only)
                        return reference_invalid(err, noun, text,
                                                 "a repository must not carry a tag; remove "
                                                 "\"%.*s\"",
                                                 (int)(name_end - colon), colon);
                tag = es_strndup(colon + 1, (size_t)(name_end - colon - 1));
                tag_reason = tag_problem(tag);
                if (tag_reason != NULL)
                        return reference_invalid(err, noun, text, "invalid tag \"%s\": %s", tag,
                                                 tag_reason);
                name_len = (size_t)(colon - text);
        }

        first_slash = memchr(text, '/', name_len);
        if (first_slash != NULL && component_names_registry(text, (size_t)(first_slash - text))) {
                size_t registry_len = (size_t)(first_slash - text);

                if (!registry_is_valid(text, registry_len))
                        return reference_invalid(err, noun, text,
                                                 "invalid registry \"%.*s\"; expected a host "
                                                 "name, IPv4 address or [IPv6] address, "
                                                 "optionally with :PORT",
                                                 (int)registry_len, text);
                registry = es_strndup(text, registry_len);
                for (char *p = registry; *p; p++)
                        *p = (char)tolower((unsigned char)*p);
                path = first_slash + 1;
        } else {
                registry = es_strdup(DOCKER_HUB);
                path = text;
        }
        path_len = name_len - (size_t)(path - text);

        if (strcmp(registry, DOCKER_HUB_LEGACY) == 0) {
                free(registry);
                registry = es_strdup(DOCKER_HUB);
        }

        problem = path_problem(path, path_len);
        if (problem != NULL)
                return reference_invalid(err, noun, text, "%s", problem);

        /* Docker Hub keeps single-component official images under "library/". */
        if (strcmp(registry, DOCKER_HUB) == 0 && memchr(path, '/', path_len) == NULL)
                repository = es_asprintf(DOCKER_OFFICIAL_REPO "%.*s", (int)path_len, path);
        else
                repository = es_strndup(path, path_len);
        if (strlen(repository) > MAX_REPOSITORY_LENGTH)
                return reference_invalid(err, noun, text,
                                         "repository path \"%s\" is %zu characters, the maximum "
                                         "is %d",
                                         repository, strlen(repository), MAX_REPOSITORY_LENGTH);

        if (!repository_only && tag == NULL && digest == NULL)
                tag = es_strdup("latest");

        out->registry = TAKE_PTR(registry);
        out->repository = TAKE_PTR(repository);
        out->tag = TAKE_PTR(tag);
        out->digest = TAKE_PTR(digest);
        return 0;
}

int es_reference_parse(const char *text, struct es_reference *out, struct es_error *err)
{
        return parse_reference(text, false, out, err);
}

int es_reference_parse_repository(const char *text, struct es_reference *out, struct es_error *err)
{
        return parse_reference(text, true, out, err);
}

void es_reference_release(struct es_reference *ref)
{
        if (ref == NULL)
                return;
        free(ref->registry);
        free(ref->repository);
        free(ref->tag);
        free(ref->digest);
        memset(ref, 0, sizeof(*ref));
}

static char *strdup_or_null(const char *s)
{
        return s ? es_strdup(s) : NULL;
}

void es_reference_copy(struct es_reference *dst, const struct es_reference *src)
{
        dst->registry = strdup_or_null(src->registry);
        dst->repository = strdup_or_null(src->repository);
        dst->tag = strdup_or_null(src->tag);
        dst->digest = strdup_or_null(src->digest);
}

char *es_reference_format(const struct es_reference *ref)
{
        return es_asprintf("%s/%s%s%s%s%s", ref->registry, ref->repository, ref->tag ? ":" : "",
                           ref->tag ? ref->tag : "", ref->digest ? "@" : "",
                           ref->digest ? ref->digest : "");
}

const char *es_reference_api_host(const struct es_reference *ref)
{
        if (strcmp(ref->registry, DOCKER_HUB) == 0)
                return DOCKER_HUB_API_HOST;
        return ref->registry;
}

const char *es_reference_manifest_ref(const struct es_reference *ref)
{
        return ref->digest ? ref->digest : ref->tag;
}

bool es_registry_is_loopback(const char *registry)
{
        size_t len = strlen(registry);
        char host[INET6_ADDRSTRLEN + 1];
        size_t host_len;
        const char *colon;

        if (registry[0] == '[') {
                struct in6_addr address;
                const char *close = strchr(registry, ']');

                if (close == NULL)
                        return false;
                host_len = (size_t)(close - registry) - 1;
                if (host_len >= sizeof(host))
                        return false;
                memcpy(host, registry + 1, host_len);
                host[host_len] = '\0';
                return inet_pton(AF_INET6, host, &address) == 1 && IN6_IS_ADDR_LOOPBACK(&address) &&
                       (close[1] == '\0' || port_is_valid(close + 1, strlen(close + 1)));
        }

        colon = strchr(registry, ':');
        host_len = colon ? (size_t)(colon - registry) : len;
        if (colon != NULL && !port_is_valid(colon, len - host_len))
                return false;
        if (host_len == 9 && strncasecmp(registry, "localhost", 9) == 0)
                return true;
        if (host_len < sizeof(host)) {
                struct in_addr address;

                memcpy(host, registry, host_len);
                host[host_len] = '\0';
                if (inet_pton(AF_INET, host, &address) == 1)
                        return (ntohl(address.s_addr) >> 24) == 127;
        }
        return false;
}
