/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reader for Docker's config.json. Secrets from the file (passwords, "auth"
 * values, identity tokens) go only into struct es_docker_auth; messages name
 * the file, the key and the registry instead.
 */
#include "registry/docker_config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/limits.h"

#define DOCKER_HUB_KEY "https://index.docker.io/v1/"

/* Names under which Docker Hub appears, in references and in config keys. */
static const char *const docker_hub_hosts[] = {
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
};

/* Members of an "auths" entry that must be strings when present. */
static const char *const auth_string_members[] = {
    "auth", "username", "password", "identitytoken", "registrytoken", "email",
};

struct es_docker_config {
        json_t *root; /* NULL for a missing or empty file */
        char *path;
};

static int config_error(struct es_error *err, enum es_error_code code, const char *path,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Set `invalid Docker config "PATH": REASON`. */
static int config_error(struct es_error *err, enum es_error_code code, const char *path,
                        const char *fmt, ...)
{
        _cleanup_free_ char *reason = NULL;
        va_list ap;

        va_start(ap, fmt);
        reason = es_vasprintf(fmt, ap);
        va_end(ap);
        return es_error_set(err, code, "invalid Docker config \"%s\": %s", path, reason);
}

/*
 * Describe a jansson error without its text, which quotes the input near the
 * error and could show a password.
 */
static const char *json_problem(const json_error_t *json_err)
{
        switch (json_error_code(json_err)) {
        case json_error_premature_end_of_input:
                return "unexpected end of input";
        case json_error_end_of_input_expected:
                return "unexpected text after the JSON value";
        case json_error_invalid_utf8:
                return "invalid UTF-8";
        case json_error_null_character:
                return "NUL character";
        case json_error_numeric_overflow:
                return "number out of range";
        default:
                return "invalid syntax";
        }
}

/* True for a helper name that can form a docker-credential-NAME program name. */
static bool helper_name_is_valid(const char *name)
{
        if (name[0] == '\0' || name[0] == '.' || name[0] == '-')
                return false;
        for (const char *p = name; *p; p++) {
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
                        return false;
        }
        return true;
}

static int check_helper(const char *path, const char *field, json_t *value, struct es_error *err)
{
        const char *name;

        if (!json_is_string(value))
                return config_error(err, ES_ERR_INVALID, path, "%s: expected a string", field);
        name = json_string_value(value);
        if (name[0] != '\0' && !helper_name_is_valid(name))
                return config_error(err, ES_ERR_INVALID, path,
                                    "%s: invalid credential helper name \"%s\"; expected "
                                    "letters, digits, '-', '_' and '.'",
                                    field, name);
        return 0;
}

/* Check the members this module reads, so that lookups only meet the expected types. */
static int check_config(json_t *root, const char *path, struct es_error *err)
{
        json_t *auths = json_object_get(root, "auths");
        json_t *helpers = json_object_get(root, "credHelpers");
        json_t *store = json_object_get(root, "credsStore");
        const char *key;
        json_t *value;
        int r;

        if (auths != NULL && !json_is_object(auths))
                return config_error(err, ES_ERR_INVALID, path, "auths: expected an object");
        json_object_foreach (auths, key, value) {
                if (!json_is_object(value))
                        return config_error(err, ES_ERR_INVALID, path,
                                            "auths[\"%s\"]: expected an object", key);
                for (size_t i = 0; i < ES_ARRAY_SIZE(auth_string_members); i++) {
                        json_t *member = json_object_get(value, auth_string_members[i]);

                        if (member != NULL && !json_is_string(member))
                                return config_error(err, ES_ERR_INVALID, path,
                                                    "auths[\"%s\"].%s: expected a string", key,
                                                    auth_string_members[i]);
                }
        }

        if (helpers != NULL && !json_is_object(helpers))
                return config_error(err, ES_ERR_INVALID, path, "credHelpers: expected an object");
        json_object_foreach (helpers, key, value) {
                _cleanup_free_ char *field = es_asprintf("credHelpers[\"%s\"]", key);

                r = check_helper(path, field, value, err);
                if (r < 0)
                        return r;
        }

        if (store != NULL)
                return check_helper(path, "credsStore", store, err);
        return 0;
}

static bool is_blank(const char *data, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                if (data[i] != ' ' && data[i] != '\t' && data[i] != '\n' && data[i] != '\r')
                        return false;
        }
        return true;
}

int es_docker_config_parse(const char *data, size_t len, const char *path,
                           struct es_docker_config **out, struct es_error *err)
{
        _cleanup_(json_decrefp) json_t *root = NULL;
        struct es_docker_config *config;
        json_error_t json_err;
        int r;

        if (len > ES_MAX_DOCKER_CONFIG)
                return config_error(err, ES_ERR_INVALID, path,
                                    "%zu bytes, the maximum is %u bytes (4 MiB)", len,
                                    ES_MAX_DOCKER_CONFIG);

        /* Docker itself reads an empty file as an empty configuration. */
        if (!is_blank(data, len)) {
                root = json_loadb(data, len, 0, &json_err);
                if (root == NULL)
                        return config_error(err, ES_ERR_INVALID, path,
                                            "invalid JSON at line %d, column %d: %s", json_err.line,
                                            json_err.column, json_problem(&json_err));
                if (!json_is_object(root))
                        return config_error(err, ES_ERR_INVALID, path,
                                            "expected a JSON object at the top level");
                r = check_config(root, path, err);
                if (r < 0)
                        return r;
        }

        config = es_calloc(1, sizeof(*config));
        config->root = TAKE_PTR(root);
        config->path = es_strdup(path);
        *out = config;
        return 0;
}

/* Read a file of at most ES_MAX_DOCKER_CONFIG bytes. Sets *missing when it does not exist. */
static int read_config_file(const char *path, struct es_buf *buf, bool *missing,
                            struct es_error *err)
{
        char chunk[16 * 1024];
        struct stat st;
        int fd;

        *missing = false;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno == ENOENT || errno == ENOTDIR) {
                        *missing = true;
                        return 0;
                }
                return es_error_set(err, ES_ERR_IO, "failed to open Docker config \"%s\": %s", path,
                                    strerror(errno));
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return es_error_set(err, ES_ERR_IO,
                                    "failed to read Docker config \"%s\": not a regular file",
                                    path);
        }

        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int saved = errno;

                        close(fd);
                        explicit_bzero(chunk, sizeof(chunk));
                        return es_error_set(err, ES_ERR_IO,
                                            "failed to read Docker config \"%s\": %s", path,
                                            strerror(saved));
                }
                if (n == 0)
                        break;
                if (es_buf_append(buf, chunk, (size_t)n) < 0) {
                        close(fd);
                        explicit_bzero(chunk, sizeof(chunk));
                        return config_error(err, ES_ERR_INVALID, path,
                                            "larger than the maximum of %u bytes (4 MiB)",
                                            ES_MAX_DOCKER_CONFIG);
                }
        }
        close(fd);
        explicit_bzero(chunk, sizeof(chunk));
        return 0;
}

/* The home directory from $HOME, else the password database, or NULL. */
static char *home_directory(void)
{
        const char *home = getenv("HOME");
        struct passwd pw, *result = NULL;
        char buffer[4096];

        if (home != NULL && home[0] != '\0')
                return es_strdup(home);
        if (getpwuid_r(getuid(), &pw, buffer, sizeof(buffer), &result) != 0 || result == NULL ||
            result->pw_dir == NULL || result->pw_dir[0] == '\0')
                return NULL;
        return es_strdup(result->pw_dir);
}

int es_docker_config_load(struct es_docker_config **out, struct es_error *err)
{
        const char *dir = getenv("DOCKER_CONFIG");
        _cleanup_free_ char *path = NULL, *home = NULL;
        struct es_buf buf = ES_BUF_INIT(ES_MAX_DOCKER_CONFIG);
        bool missing = false;
        int r;

        if (dir != NULL && dir[0] != '\0') {
                path = es_asprintf("%s/config.json", dir);
        } else {
                home = home_directory();
                if (home != NULL)
                        path = es_asprintf("%s/.docker/config.json", home);
        }

        if (path == NULL) {
                missing = true;
        } else {
                r = read_config_file(path, &buf, &missing, err);
                if (r < 0)
                        goto done;
        }

        if (missing)
                r = es_docker_config_parse("", 0, path ? path : "(no home directory)", out, err);
        else
                r = es_docker_config_parse(buf.data ? buf.data : "", buf.len, path, out, err);

done:
        if (buf.data != NULL)
                explicit_bzero(buf.data, buf.len);
        es_buf_release(&buf);
        return r;
}

static bool is_docker_hub(const char *host, size_t len)
{
        for (size_t i = 0; i < ES_ARRAY_SIZE(docker_hub_hosts); i++) {
                if (strlen(docker_hub_hosts[i]) == len &&
                    strncasecmp(host, docker_hub_hosts[i], len) == 0)
                        return true;
        }
        return false;
}

/*
 * True when a config key names the registry: the key's host, after removing
 * an http:// or https:// scheme and any path, equals it. All Docker Hub names
 * match each other.
 */
static bool key_matches(const char *key, const char *registry)
{
        const char *host = key;
        size_t host_len;

        if (strncasecmp(host, "https://", 8) == 0)
                host += 8;
        else if (strncasecmp(host, "http://", 7) == 0)
                host += 7;
        host_len = strcspn(host, "/");

        if (is_docker_hub(registry, strlen(registry)))
                return is_docker_hub(host, host_len);
        return strlen(registry) == host_len && strncasecmp(host, registry, host_len) == 0;
}

/* True when an entry's key is the one Docker itself writes for this registry. */
static bool key_is_canonical(const char *key, const char *registry)
{
        if (is_docker_hub(registry, strlen(registry)))
                return strcmp(key, DOCKER_HUB_KEY) == 0;
        return strcasecmp(key, registry) == 0;
}

static const char *entry_string(json_t *entry, const char *member)
{
        const char *value = json_string_value(json_object_get(entry, member));

        return value != NULL && value[0] != '\0' ? value : NULL;
}

static bool entry_has_credentials(json_t *entry)
{
        return entry_string(entry, "auth") != NULL || entry_string(entry, "username") != NULL ||
               entry_string(entry, "password") != NULL ||
               entry_string(entry, "identitytoken") != NULL;
}

/*
 * Find the object member for the registry: the canonical key first, then the
 * first matching key in file order. With want_credentials, skip entries
 * without any, such as the empty ones Docker writes next to a credsStore.
 */
static json_t *find_entry(json_t *object, const char *registry, bool want_credentials,
                          const char **found_key)
{
        for (int pass = 0; pass < 2; pass++) {
                const char *key;
                json_t *value;

                json_object_foreach (object, key, value) {
                        bool match = pass == 0 ? key_is_canonical(key, registry)
                                               : key_matches(key, registry);

                        if (!match || (want_credentials && !entry_has_credentials(value)))
                                continue;
                        *found_key = key;
                        return value;
                }
        }
        return NULL;
}

static int base64_value(char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

/*
 * Decode standard base64 (RFC 4648 section 4) into a new NUL-terminated
 * string. Padding is optional and line breaks are skipped, as Go's decoder
 * that Docker uses does. Returns NULL for invalid input or a decoded NUL.
 */
static char *base64_decode(const char *in)
{
        size_t in_len = strlen(in);
        char *out = es_malloc(in_len / 4 * 3 + 4);
        size_t out_len = 0, chars = 0, padding = 0;
        uint32_t bits = 0;
        int bit_count = 0;

        for (const char *p = in; *p; p++) {
                int value;

                if (*p == '\r' || *p == '\n')
                        continue;
                if (*p == '=') {
                        padding++;
                        continue;
                }
                value = base64_value(*p);
                if (value < 0 || padding > 0)
                        goto invalid;

                chars++;
                bits = (bits << 6) | (uint32_t)value;
                bit_count += 6;
                if (bit_count >= 8) {
                        bit_count -= 8;
                        out[out_len++] = (char)((bits >> bit_count) & 0xff);
                        bits &= (1u << bit_count) - 1;
                }
        }

        if (chars % 4 == 1 || padding > 2 || (padding > 0 && (chars + padding) % 4 != 0))
                goto invalid;
        if (memchr(out, '\0', out_len) != NULL)
                goto invalid;
        out[out_len] = '\0';
        return out;

invalid:
        explicit_bzero(out, in_len / 4 * 3 + 4);
        free(out);
        return NULL;
}

static void free_secret(char *secret)
{
        if (secret != NULL) {
                explicit_bzero(secret, strlen(secret));
                free(secret);
        }
}

static int read_auth_entry(const struct es_docker_config *config, const char *registry,
                           const char *key, json_t *entry, struct es_docker_auth *out,
                           struct es_error *err)
{
        const char *encoded = entry_string(entry, "auth");
        const char *token = entry_string(entry, "identitytoken");
        const char *username = entry_string(entry, "username");
        const char *password = entry_string(entry, "password");

        /* "auth" wins over separate fields, as in Docker. */
        if (encoded != NULL) {
                char *decoded = base64_decode(encoded);
                char *colon = decoded ? strchr(decoded, ':') : NULL;

                if (colon == NULL) {
                        free_secret(decoded);
                        return config_error(err, ES_ERR_INVALID, config->path,
                                            "auths[\"%s\"].auth for registry \"%s\" is not "
                                            "base64 of \"user:password\"; log in again or fix "
                                            "the entry",
                                            key, registry);
                }
                out->username = es_strndup(decoded, (size_t)(colon - decoded));
                out->password = es_strdup(colon + 1);
                free_secret(decoded);
        } else {
                out->username = username ? es_strdup(username) : NULL;
                out->password = password ? es_strdup(password) : NULL;
        }
        out->identity_token = token ? es_strdup(token) : NULL;
        return 0;
}

int es_docker_config_lookup(const struct es_docker_config *config, const char *registry,
                            struct es_docker_auth *out, bool *found, struct es_error *err)
{
        struct es_docker_auth auth = {NULL, NULL, NULL, NULL};
        const char *key = NULL, *store;
        json_t *helpers, *auths, *entry;
        int r;

        *found = false;
        memset(out, 0, sizeof(*out));
        if (config->root == NULL)
                return 0;

        helpers = json_object_get(config->root, "credHelpers");
        entry = find_entry(helpers, registry, false, &key);
        if (entry != NULL && json_string_value(entry)[0] != '\0') {
                out->helper = es_strdup(json_string_value(entry));
                *found = true;
                return 0;
        }

        auths = json_object_get(config->root, "auths");
        entry = find_entry(auths, registry, true, &key);
        if (entry != NULL) {
                r = read_auth_entry(config, registry, key, entry, &auth, err);
                if (r < 0)
                        return r;
                *out = auth;
                *found = true;
                return 0;
        }

        store = json_string_value(json_object_get(config->root, "credsStore"));
        if (store != NULL && store[0] != '\0') {
                out->helper = es_strdup(store);
                *found = true;
        }
        return 0;
}

void es_docker_auth_release(struct es_docker_auth *auth)
{
        if (auth == NULL)
                return;
        free(auth->username);
        free_secret(auth->password);
        free_secret(auth->identity_token);
        free(auth->helper);
        memset(auth, 0, sizeof(*auth));
}

void es_docker_config_free(struct es_docker_config *config)
{
        if (config == NULL)
                return;
        if (config->root != NULL)
                json_decref(config->root);
        free(config->path);
        free(config);
}
