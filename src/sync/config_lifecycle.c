/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ECR lifecycle policies in the configuration, written inline as YAML with
 * ECR's field names or kept in a JSON file. Both become compact JSON text
 * checked by es_lifecycle_policy_validate(), whose "rules[N]: FIELD: ..."
 * messages are moved to the YAML node they name.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws/lifecycle.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "sync/config_internal.h"

/*
 * Largest policy file read. Indentation can make a file larger than the
 * compact text that ECR's limit applies to, so this is well above it.
 */
#define MAX_POLICY_FILE_SIZE (1024u * 1024)

/* True when a plain scalar reads as a YAML 1.2 float such as 1.5 or 2e3. */
static bool is_float(const char *text, double *value)
{
        char *end;
        bool has_digit = false;

        for (const char *p = text; *p; p++) {
                if (*p >= '0' && *p <= '9')
                        has_digit = true;
                else if (!strchr("+-.eE", *p))
                        return false;
        }
        if (!has_digit)
                return false;
        errno = 0;
        *value = strtod(text, &end);
        return *end == '\0' && errno == 0;
}

static json_t *scalar_to_json(const struct es_cfg_node *node)
{
        long long integer;
        double real;
        bool boolean;
        json_t *string;

        if (es_cfg_is_null(node))
                return json_null();
        if (es_cfg_is_bool(node, &boolean))
                return json_boolean(boolean);
        if (es_cfg_is_integer(node, &integer))
                return json_integer(integer);
        if (node->plain && is_float(node->text, &real))
                return json_real(real);

        /*
         * libyaml rejects invalid UTF-8 and surrogate escapes, so jansson's
         * UTF-8 check cannot fail here. The fallback only avoids a NULL.
         */
        string = json_string(node->text);
        return string ? string : json_string("");
}

static json_t *node_to_json(const struct es_cfg_node *node)
{
        json_t *out;

        switch (node->type) {
        case ES_CFG_SCALAR:
                return scalar_to_json(node);
        case ES_CFG_SEQUENCE:
                out = json_array();
                for (size_t i = 0; i < node->n_items; i++)
                        json_array_append_new(out, node_to_json(node->items[i]));
                return out;
        case ES_CFG_MAPPING:
                out = json_object();
                for (size_t i = 0; i < node->n_pairs; i++)
                        json_object_set_new(out, node->pairs[i].key->text,
                                            node_to_json(node->pairs[i].value));
                return out;
        }
        return json_null();
}

/* True for "rules", "rules[0]", "selection.tagPrefixList[1]" and the like. */
static bool is_field_path(const char *text, size_t len)
{
        size_t i = 0;

        if (len == 0)
                return false;
        while (i < len) {
                size_t start = i;

                while (i < len &&
                       ((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= 'A' && text[i] <= 'Z')))
                        i++;
                if (i == start)
                        return false;
                if (i < len && text[i] == '[') {
                        size_t digits = ++i;

                        while (i < len && text[i] >= '0' && text[i] <= '9')
                                i++;
                        if (i == digits || i >= len || text[i] != ']')
                                return false;
                        i++;
                }
                if (i < len) {
                        if (text[i] != '.')
                                return false;
                        i++;
                        if (i == len)
                                return false;
                }
        }
        return true;
}

/*
 * Follow one path component ("rules[2]", "selection") from *node, as far as
 * the YAML goes. Returns false once a step cannot be followed.
 */
static bool follow_component(const struct es_cfg_node **node, const char *component, size_t len)
{
        size_t name_len = strcspn(component, "[");
        _cleanup_free_ char *name = NULL;
        const struct es_cfg_node *next;

        if (name_len > len)
                name_len = len;
        name = es_strndup(component, name_len);
        next = es_cfg_mapping_get(*node, name);
        if (next == NULL)
                return false;
        *node = next;

        if (name_len < len) {
                size_t index = strtoul(component + name_len + 1, NULL, 10);

                if ((*node)->type != ES_CFG_SEQUENCE || index >= (*node)->n_items)
                        return false;
                *node = (*node)->items[index];
        }
        return true;
}

/*
 * Report a message from es_lifecycle_policy_validate() at the YAML node it
 * names. The message starts with "FIELD: " parts such as "rules[0]: " and
 * "selection.countNumber: "; "policy: " names the top level.
 */
static void report_policy_problem(struct es_cfg_diag *diag, const struct es_cfg_node *policy,
                                  const char *path, const char *message)
{
        struct es_buf key = ES_BUF_INIT(0);
        _cleanup_free_ char *key_text = NULL;
        const struct es_cfg_node *at = policy;
        const char *rest = message;
        bool following = true;
        const char *unknown;

        es_buf_puts(&key, path);
        for (;;) {
                const char *colon = strstr(rest, ": ");
                size_t len = colon ? (size_t)(colon - rest) : 0;

                if (colon == NULL || !is_field_path(rest, len))
                        break;
                if (!(len == 6 && strncmp(rest, "policy", 6) == 0)) {
                        const char *component = rest;

                        es_buf_printf(&key, ".%.*s", (int)len, rest);
                        while (following && component < rest + len) {
                                size_t component_len = strcspn(component, ".");

                                if (component + component_len > rest + len)
                                        component_len = (size_t)(rest + len - component);
                                following = follow_component(&at, component, component_len);
                                component += component_len + 1;
                        }
                }
                rest = colon + 2;
        }

        /* Point an unknown field at its key. */
        unknown = strncmp(rest, "unknown field '", 15) == 0 ? rest + 15 : NULL;
        if (unknown && following && at->type == ES_CFG_MAPPING) {
                _cleanup_free_ char *name = es_strndup(unknown, strcspn(unknown, "'"));
                const struct es_cfg_pair *pair = es_cfg_mapping_pair(at, name);

                if (pair)
                        at = pair->key;
        }

        key_text = es_buf_take(&key);
        es_cfg_report_at(diag, at, key_text, "%s", rest);
}

/*
 * Validate policy text. ECR rejects text under ES_LIFECYCLE_POLICY_MIN_LENGTH
 * characters, and es_lifecycle_policy_validate() checks that first. Every
 * valid policy is longer than that, so short text is checked once more with
 * trailing spaces (which JSON ignores) to name the field that is wrong
 * instead of only the length.
 */
static int validate_policy(const char *text, struct es_error *err)
{
        size_t len = strlen(text);
        _cleanup_free_ char *padded = NULL;
        int r;

        r = es_lifecycle_policy_validate(text, err);
        if (r >= 0 || len >= ES_LIFECYCLE_POLICY_MIN_LENGTH)
                return r;

        padded = es_asprintf("%s%*s", text, (int)(ES_LIFECYCLE_POLICY_MIN_LENGTH - len), "");
        if (es_lifecycle_policy_validate(padded, NULL) < 0)
                return es_lifecycle_policy_validate(padded, err);
        return r;
}

bool es_cfg_lifecycle_from_yaml(struct es_cfg_diag *diag, const struct es_cfg_node *node,
                                const char *path, char **json)
{
        json_auto_t *policy = NULL;
        _cleanup_free_ char *text = NULL;
        struct es_error err = ES_ERROR_INIT;

        if (node->type != ES_CFG_MAPPING) {
                es_cfg_report_at(diag, node, path,
                                 "expected a mapping with 'rules': ECR's lifecycle policy "
                                 "written as YAML");
                return false;
        }

        policy = node_to_json(node);
        text = json_dumps(policy, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (text == NULL)
                abort();
        if (validate_policy(text, &err) < 0) {
                report_policy_problem(diag, node, path, es_error_message(&err));
                es_error_release(&err);
                return false;
        }
        *json = TAKE_PTR(text);
        return true;
}

/* Read a whole regular file of at most max bytes. Sets *problem on failure. */
static char *read_small_file(const char *file, size_t max, size_t *len, char **problem)
{
        struct es_buf buf = ES_BUF_INIT(max);
        struct stat st;
        char chunk[8192];
        int fd;

        fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                *problem = es_asprintf("cannot open '%s': %s", file, strerror(errno));
                return NULL;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                *problem = es_asprintf("'%s' is not a regular file", file);
                close(fd);
                return NULL;
        }
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        *problem = es_asprintf("cannot read '%s': %s", file, strerror(errno));
                        break;
                }
                if (n == 0) {
                        close(fd);
                        *len = buf.len;
                        return es_buf_take(&buf);
                }
                if (es_buf_append(&buf, chunk, (size_t)n) < 0) {
                        *problem = es_asprintf("'%s' is larger than %zu bytes", file, max);
                        break;
                }
        }
        close(fd);
        es_buf_release(&buf);
        return NULL;
}

bool es_cfg_lifecycle_from_file(struct es_cfg_diag *diag, const struct es_cfg_node *node,
                                const char *path, const char *file, char **json)
{
        json_auto_t *policy = NULL;
        _cleanup_free_ char *content = NULL;
        _cleanup_free_ char *problem = NULL;
        _cleanup_free_ char *text = NULL;
        struct es_error err = ES_ERROR_INIT;
        json_error_t parse_error;
        size_t len = 0;

        content = read_small_file(file, MAX_POLICY_FILE_SIZE, &len, &problem);
        if (content == NULL) {
                es_cfg_report_at(diag, node, path, "%s", problem);
                return false;
        }

        policy = json_loadb(content, len, JSON_REJECT_DUPLICATES, &parse_error);
        if (policy == NULL) {
                es_cfg_report_at(diag, node, path, "%s:%d:%d: invalid JSON: %s", file,
                                 parse_error.line, parse_error.column, parse_error.text);
                return false;
        }

        /* ECR's length limit applies to the text sent, so send it compact. */
        text = json_dumps(policy, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (text == NULL) {
                es_cfg_report_at(diag, node, path, "'%s': expected a JSON object with \"rules\"",
                                 file);
                return false;
        }
        if (validate_policy(text, &err) < 0) {
                es_cfg_report_at(diag, node, path, "invalid lifecycle policy in '%s': %s", file,
                                 es_error_message(&err));
                es_error_release(&err);
                return false;
        }
        *json = TAKE_PTR(text);
        return true;
}
