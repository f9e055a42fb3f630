/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reader for ~/.aws/config and ~/.aws/credentials. The INI dialect follows
 * Python's configparser in strict mode plus botocore's one level of nested
 * sub-sections; see config.h for the rules.
 */
#include "aws/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws/process.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/log.h"

struct es_aws_config {
        struct es_aws_ini files[2]; /* indexed by enum es_aws_config_file */
        char *paths[2];
};

static int ini_error(struct es_error *err, const char *path, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int ini_error(struct es_error *err, const char *path, unsigned line, const char *fmt, ...)
{
        _cleanup_free_ char *reason = NULL;
        va_list ap;

        va_start(ap, fmt);
        reason = es_vasprintf(fmt, ap);
        va_end(ap);
        return es_error_set(err, ES_ERR_INVALID, "%s:%u: %s", path, line, reason);
}

static void entry_release(struct es_aws_ini_entry *entry)
{
        for (size_t i = 0; i < entry->n_children; i++)
                entry_release(&entry->children[i]);
        free(entry->children);
        free(entry->key);
        free(entry->value);
}

void es_aws_ini_release(struct es_aws_ini *ini)
{
        for (size_t i = 0; i < ini->n_sections; i++) {
                struct es_aws_ini_section *section = &ini->sections[i];

                for (size_t j = 0; j < section->n_entries; j++)
                        entry_release(&section->entries[j]);
                free(section->entries);
                free(section->name);
        }
        free(ini->sections);
        free(ini->path);
        ini->sections = NULL;
        ini->n_sections = 0;
        ini->path = NULL;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

/* Trim blanks from both ends of [*start, *end). */
static void trim(const char **start, const char **end)
{
        while (*start < *end && is_blank(**start))
                (*start)++;
        while (*end > *start && is_blank((*end)[-1]))
                (*end)--;
}

static struct es_aws_ini_entry *entry_append(struct es_aws_ini_entry **entries, size_t *n,
                                             const char *key, size_t key_len, const char *value,
                                             size_t value_len, unsigned line)
{
        struct es_aws_ini_entry *entry;

        *entries = es_realloc(*entries, (*n + 1) * sizeof(**entries));
        entry = &(*entries)[(*n)++];
        memset(entry, 0, sizeof(*entry));
        entry->key = es_strndup(key, key_len);
        entry->value = es_strndup(value, value_len);
        entry->line = line;
        return entry;
}

/* Parse "[name]" with an optional trailing comment. */
static int parse_header(struct es_aws_ini *ini, const char *start, const char *end, unsigned line,
                        struct es_error *err)
{
        const char *close = memchr(start, ']', (size_t)(end - start));
        const char *name = start + 1, *name_end, *rest;
        struct es_aws_ini_section *section;

        if (close == NULL)
                return ini_error(err, ini->path, line, "section header without a closing ']'");
        rest = close + 1;
        while (rest < end && is_blank(*rest))
                rest++;
        if (rest < end && *rest != '#' && *rest != ';')
                return ini_error(err, ini->path, line, "unexpected text after the section header");

        name_end = close;
        trim(&name, &name_end);
        if (name == name_end)
                return ini_error(err, ini->path, line, "empty section name");

        for (size_t i = 0; i < ini->n_sections; i++) {
                const char *other = ini->sections[i].name;

                if (strlen(other) == (size_t)(name_end - name) &&
                    memcmp(other, name, (size_t)(name_end - name)) == 0)
                        return ini_error(err, ini->path, line,
                                         "duplicate section [%s], first defined at line %u", other,
                                         ini->sections[i].line);
        }

        ini->sections = es_realloc(ini->sections, (ini->n_sections + 1) * sizeof(*ini->sections));
        section = &ini->sections[ini->n_sections++];
        memset(section, 0, sizeof(*section));
        section->name = es_strndup(name, (size_t)(name_end - name));
        section->line = line;
        return 0;
}

/* Parse "key = value" or "key: value" into the current section. */
static int parse_option(struct es_aws_ini *ini, const char *start, const char *end, unsigned line,
                        struct es_aws_ini_entry **out, struct es_error *err)
{
        struct es_aws_ini_section *section;
        const char *key = start, *key_end, *value, *value_end = end;
        _cleanup_free_ char *lowered = NULL;
        size_t key_len;
        char delimiter;

        if (ini->n_sections == 0)
                return ini_error(err, ini->path, line,
                                 "'key = value' line before any [section] header");
        section = &ini->sections[ini->n_sections - 1];

        key_end = start;
        while (key_end < end && *key_end != '=' && *key_end != ':')
                key_end++;
        if (key_end == end)
                return ini_error(err, ini->path, line, "expected 'key = value' or '[section]'");
        delimiter = *key_end;
        value = key_end + 1;
        trim(&key, &key_end);
        trim(&value, &value_end);
        if (key == key_end)
                return ini_error(err, ini->path, line, "missing key before '%c'", delimiter);

        key_len = (size_t)(key_end - key);
        lowered = es_strndup(key, key_len);
        for (char *p = lowered; *p; p++)
                *p = (char)tolower((unsigned char)*p);

        for (size_t i = 0; i < section->n_entries; i++)
                if (strcmp(section->entries[i].key, lowered) == 0)
                        return ini_error(err, ini->path, line,
                                         "duplicate key '%s' in section [%s], first set at line %u",
                                         lowered, section->name, section->entries[i].line);

        *out = entry_append(&section->entries, &section->n_entries, lowered, key_len, value,
                            (size_t)(value_end - value), line);
        return 0;
}

/*
 * Handle an indented line after an option: a `name = value` line of a
 * sub-section when the option's own value was empty, else one more line of
 * a multi-line value.
 */
static int parse_continuation(struct es_aws_ini *ini, struct es_aws_ini_entry *entry,
                              const char *start, const char *end, unsigned line,
                              struct es_error *err)
{
        const char *key = start, *key_end, *value, *value_end = end;
        char *joined;

        if (entry->value[0] != '\0' && entry->n_children == 0) {
                joined = es_asprintf("%s\n%.*s", entry->value, (int)(end - start), start);
                free(entry->value);
                entry->value = joined;
                return 0;
        }

        key_end = memchr(start, '=', (size_t)(end - start));
        if (key_end == NULL)
                return ini_error(err, ini->path, line,
                                 "expected 'key = value' in the sub-section of '%s'", entry->key);
        value = key_end + 1;
        trim(&key, &key_end);
        trim(&value, &value_end);
        if (key == key_end)
                return ini_error(err, ini->path, line,
                                 "missing key before '=' in the sub-section "
                                 "of '%s'",
                                 entry->key);
        entry_append(&entry->children, &entry->n_children, key, (size_t)(key_end - key), value,
                     (size_t)(value_end - value), line);
        return 0;
}

int es_aws_ini_parse(const char *text, size_t len, const char *path, struct es_aws_ini *out,
                     struct es_error *err)
{
        struct es_aws_ini ini = {.path = es_strdup(path)};
        struct es_aws_ini_entry *option = NULL; /* the last option, for continuation lines */
        size_t option_indent = 0;
        const char *p = text, *text_end = text + len;
        unsigned line = 0;
        int r = 0;

        if (len > 0 && memchr(text, '\0', len) != NULL) {
                r = es_error_set(err, ES_ERR_INVALID, "%s: contains a NUL byte", path);
                goto done;
        }
        if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
                p += 3;

        while (p < text_end) {
                const char *eol = memchr(p, '\n', (size_t)(text_end - p));
                const char *line_start = p, *start = p, *end = eol ? eol : text_end;
                size_t indent;

                p = eol ? eol + 1 : text_end;
                line++;
                if (end > start && end[-1] == '\r')
                        end--;
                trim(&start, &end);
                indent = (size_t)(start - line_start);
                if (start == end || *start == '#' || *start == ';')
                        continue;

                if (option != NULL && indent > option_indent) {
                        r = parse_continuation(&ini, option, start, end, line, err);
                        if (r < 0)
                                goto done;
                        continue;
                }

                if (*start == '[') {
                        option = NULL;
                        r = parse_header(&ini, start, end, line, err);
                } else {
                        r = parse_option(&ini, start, end, line, &option, err);
                        option_indent = indent;
                }
                if (r < 0)
                        goto done;
        }

        *out = ini;
        return 0;

done:
        es_aws_ini_release(&ini);
        return r;
}

const struct es_aws_ini_section *es_aws_ini_section(const struct es_aws_ini *ini, const char *name)
{
        for (size_t i = 0; i < ini->n_sections; i++)
                if (strcmp(ini->sections[i].name, name) == 0)
                        return &ini->sections[i];
        return NULL;
}

const struct es_aws_ini_entry *es_aws_ini_entry(const struct es_aws_ini_section *section,
                                                const char *key)
{
        for (size_t i = 0; i < section->n_entries; i++)
                if (strcmp(section->entries[i].key, key) == 0)
                        return &section->entries[i];
        return NULL;
}

char *es_aws_home_dir(void)
{
        const char *home = getenv("HOME");
        struct passwd pw, *found = NULL;
        char buffer[4096];

        if (home != NULL && home[0] != '\0')
                return es_strdup(home);
        if (getpwuid_r(getuid(), &pw, buffer, sizeof(buffer), &found) != 0 || found == NULL ||
            pw.pw_dir == NULL)
                return NULL;
        return es_strdup(pw.pw_dir);
}

/* The path from an environment variable or the default under ~/.aws, with "~/" expanded. */
static int resolve_path(const char *variable, const char *default_name, char **out,
                        struct es_error *err)
{
        const char *value = getenv(variable);
        _cleanup_free_ char *home = NULL;

        if (value != NULL && value[0] != '\0' && strncmp(value, "~/", 2) != 0) {
                *out = es_strdup(value);
                return 0;
        }
        home = es_aws_home_dir();
        if (home == NULL)
                return es_error_set(err, ES_ERR_IO,
                                    "cannot find the home directory for the AWS %s file; set "
                                    "HOME or %s",
                                    default_name, variable);
        if (value != NULL && value[0] != '\0')
                *out = es_asprintf("%s/%s", home, value + 2);
        else
                *out = es_asprintf("%s/.aws/%s", home, default_name);
        return 0;
}

/* Read and parse one file; a missing file yields an empty ini. */
static int load_file(const char *path, struct es_aws_ini *out, struct es_error *err)
{
        struct es_buf data = ES_BUF_INIT(ES_AWS_MAX_CONFIG_FILE);
        char chunk[8192];
        struct stat st;
        int fd, r;

        if (path == NULL) {
                memset(out, 0, sizeof(*out));
                return 0;
        }
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno == ENOENT) {
                        memset(out, 0, sizeof(*out));
                        out->path = es_strdup(path);
                        return 0;
                }
                return es_error_set(err, ES_ERR_IO, "cannot open \"%s\": %s", path,
                                    strerror(errno));
        }
        if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
                close(fd);
                return es_error_set(err, ES_ERR_IO, "cannot read \"%s\": it is a directory", path);
        }
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = es_error_set(err, ES_ERR_IO, "cannot read \"%s\": %s", path,
                                         strerror(errno));
                        goto done;
                }
                if (n == 0)
                        break;
                if (es_buf_append(&data, chunk, (size_t)n) < 0) {
                        r = es_error_set(err, ES_ERR_INVALID, "\"%s\" is larger than %u bytes",
                                         path, ES_AWS_MAX_CONFIG_FILE);
                        goto done;
                }
        }
        r = es_aws_ini_parse(data.data ? data.data : "", data.len, path, out, err);

done:
        close(fd);
        es_buf_release(&data);
        return r;
}

int es_aws_config_load_paths(const char *config_path, const char *credentials_path,
                             struct es_aws_config **out, struct es_error *err)
{
        struct es_aws_config *config = es_calloc(1, sizeof(*config));
        int r;

        config->paths[ES_AWS_CONFIG_FILE] = config_path ? es_strdup(config_path) : NULL;
        config->paths[ES_AWS_CREDENTIALS_FILE] =
            credentials_path ? es_strdup(credentials_path) : NULL;
        if ((r = load_file(config_path, &config->files[ES_AWS_CONFIG_FILE], err)) < 0 ||
            (r = load_file(credentials_path, &config->files[ES_AWS_CREDENTIALS_FILE], err)) < 0) {
                es_aws_config_free(config);
                return r;
        }
        es_log_debug("aws: loaded \"%s\" (%zu sections) and \"%s\" (%zu sections)",
                     config_path ? config_path : "-", config->files[ES_AWS_CONFIG_FILE].n_sections,
                     credentials_path ? credentials_path : "-",
                     config->files[ES_AWS_CREDENTIALS_FILE].n_sections);
        *out = config;
        return 0;
}

int es_aws_config_load(struct es_aws_config **out, struct es_error *err)
{
        _cleanup_free_ char *config_path = NULL, *credentials_path = NULL;
        int r;

        if ((r = resolve_path("AWS_CONFIG_FILE", "config", &config_path, err)) < 0 ||
            (r = resolve_path("AWS_SHARED_CREDENTIALS_FILE", "credentials", &credentials_path,
                              err)) < 0)
                return r;
        return es_aws_config_load_paths(config_path, credentials_path, out, err);
}

int es_aws_config_parse(const char *config_text, const char *config_path,
                        const char *credentials_text, const char *credentials_path,
                        struct es_aws_config **out, struct es_error *err)
{
        struct es_aws_config *config = es_calloc(1, sizeof(*config));
        int r = 0;

        config->paths[ES_AWS_CONFIG_FILE] = es_strdup(config_path);
        config->paths[ES_AWS_CREDENTIALS_FILE] = es_strdup(credentials_path);
        if (config_text)
                r = es_aws_ini_parse(config_text, strlen(config_text), config_path,
                                     &config->files[ES_AWS_CONFIG_FILE], err);
        if (r == 0 && credentials_text)
                r = es_aws_ini_parse(credentials_text, strlen(credentials_text), credentials_path,
                                     &config->files[ES_AWS_CREDENTIALS_FILE], err);
        if (r < 0) {
                es_aws_config_free(config);
                return r;
        }
        *out = config;
        return 0;
}

void es_aws_config_free(struct es_aws_config *config)
{
        if (config == NULL)
                return;
        for (size_t i = 0; i < ES_ARRAY_SIZE(config->files); i++) {
                es_aws_ini_release(&config->files[i]);
                free(config->paths[i]);
        }
        free(config);
}

const char *es_aws_config_path(const struct es_aws_config *config, enum es_aws_config_file file)
{
        return config->paths[file];
}

/*
 * The name a config-file section "KIND NAME" gives, as botocore reads it with
 * shlex: exactly one word after KIND, which may be quoted. Returns NULL for a
 * section of another kind or with a malformed name. Caller frees.
 */
static char *typed_section_name(const char *section, const char *kind)
{
        size_t kind_len = strlen(kind);
        char **words = NULL;
        size_t n_words = 0;
        char *name = NULL;

        if (strncmp(section, kind, kind_len) != 0 || !is_blank(section[kind_len]))
                return NULL;
        if (es_aws_shell_split(section, &words, &n_words, NULL) < 0)
                return NULL;
        if (n_words == 2)
                name = es_strdup(words[1]);
        es_aws_argv_free(words);
        return name;
}

/* True when a config-file section defines the profile. */
static bool config_section_is_profile(const char *section, const char *profile)
{
        _cleanup_free_ char *name = NULL;

        if (strcmp(section, "default") == 0)
                return strcmp(profile, "default") == 0;
        name = typed_section_name(section, "profile");
        return name != NULL && strcmp(name, profile) == 0;
}

/*
 * The section defining the profile in one file. In the config file both
 * [default] and [profile default] name the default profile; the later one
 * wins whole, as in botocore's dictionary of profiles.
 */
static const struct es_aws_ini_section *profile_section(const struct es_aws_config *config,
                                                        enum es_aws_config_file file,
                                                        const char *profile)
{
        const struct es_aws_ini *ini = &config->files[file];
        const struct es_aws_ini_section *found = NULL;

        if (file == ES_AWS_CREDENTIALS_FILE)
                return es_aws_ini_section(ini, profile);
        for (size_t i = 0; i < ini->n_sections; i++)
                if (config_section_is_profile(ini->sections[i].name, profile))
                        found = &ini->sections[i];
        return found;
}

bool es_aws_config_has_profile(const struct es_aws_config *config, const char *profile)
{
        return profile_section(config, ES_AWS_CONFIG_FILE, profile) != NULL ||
               profile_section(config, ES_AWS_CREDENTIALS_FILE, profile) != NULL;
}

static struct es_aws_config_value section_value(const struct es_aws_config *config,
                                                enum es_aws_config_file file,
                                                const struct es_aws_ini_section *section,
                                                const char *key)
{
        struct es_aws_config_value result = {0};
        const struct es_aws_ini_entry *entry;

        if (section == NULL)
                return result;
        entry = es_aws_ini_entry(section, key);
        if (entry == NULL)
                return result;
        result.value = entry->value;
        result.path = config->files[file].path;
        result.line = entry->line;
        return result;
}

struct es_aws_config_value es_aws_config_get_in(const struct es_aws_config *config,
                                                enum es_aws_config_file file, const char *profile,
                                                const char *key)
{
        return section_value(config, file, profile_section(config, file, profile), key);
}

struct es_aws_config_value es_aws_config_get(const struct es_aws_config *config,
                                             const char *profile, const char *key)
{
        struct es_aws_config_value value =
            es_aws_config_get_in(config, ES_AWS_CREDENTIALS_FILE, profile, key);

        if (value.value != NULL)
                return value;
        return es_aws_config_get_in(config, ES_AWS_CONFIG_FILE, profile, key);
}

static const struct es_aws_ini_section *sso_section(const struct es_aws_config *config,
                                                    const char *session)
{
        const struct es_aws_ini *ini = &config->files[ES_AWS_CONFIG_FILE];
        const struct es_aws_ini_section *found = NULL;

        for (size_t i = 0; i < ini->n_sections; i++) {
                _cleanup_free_ char *name =
                    typed_section_name(ini->sections[i].name, "sso-session");

                if (name != NULL && strcmp(name, session) == 0)
                        found = &ini->sections[i];
        }
        return found;
}

bool es_aws_config_has_sso_session(const struct es_aws_config *config, const char *session)
{
        return sso_section(config, session) != NULL;
}

struct es_aws_config_value es_aws_config_sso_session_get(const struct es_aws_config *config,
                                                         const char *session, const char *key)
{
        return section_value(config, ES_AWS_CONFIG_FILE, sso_section(config, session), key);
}
