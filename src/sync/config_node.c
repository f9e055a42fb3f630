/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading typed values out of configuration nodes, and the list of problems
 * found, each with its position and key path.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "sync/config.h"
#include "sync/config_internal.h"

static void report_va(struct es_cfg_diag *diag, int line, int column, const char *key,
                      const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void report_va(struct es_cfg_diag *diag, int line, int column, const char *key,
                      const char *fmt, va_list ap)
{
        _cleanup_free_ char *text = es_vasprintf(fmt, ap);
        struct es_cfg_problem *problem;

        diag->problems =
            es_realloc(diag->problems, (diag->n_problems + 1) * sizeof(*diag->problems));
        problem = &diag->problems[diag->n_problems];
        problem->line = line;
        problem->column = column;
        problem->sequence = diag->n_problems;
        problem->message = key && *key ? es_asprintf("%s: %s", key, text) : TAKE_PTR(text);
        diag->n_problems++;
}

void es_cfg_report(struct es_cfg_diag *diag, int line, int column, const char *key, const char *fmt,
                   ...)
{
        va_list ap;

        va_start(ap, fmt);
        report_va(diag, line, column, key, fmt, ap);
        va_end(ap);
}

void es_cfg_report_at(struct es_cfg_diag *diag, const struct es_cfg_node *node, const char *key,
                      const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        report_va(diag, node->line, node->column, key, fmt, ap);
        va_end(ap);
}

static int compare_problems(const void *a, const void *b)
{
        const struct es_cfg_problem *x = a, *y = b;

        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        if (x->column != y->column)
                return x->column < y->column ? -1 : 1;
        return x->sequence < y->sequence ? -1 : x->sequence > y->sequence;
}

char *es_cfg_diag_format(const struct es_cfg_diag *diag)
{
        struct es_buf out = ES_BUF_INIT(0);
        size_t n_listed;

        if (diag->n_problems == 0)
                return NULL;

        qsort(diag->problems, diag->n_problems, sizeof(*diag->problems), compare_problems);
        n_listed = diag->n_problems < ES_SYNC_CONFIG_MAX_ERRORS ? diag->n_problems
                                                                : ES_SYNC_CONFIG_MAX_ERRORS;
        for (size_t i = 0; i < n_listed; i++) {
                const struct es_cfg_problem *p = &diag->problems[i];

                es_buf_printf(&out, "%s%s:%d:%d: %s", i ? "\n" : "", diag->file, p->line, p->column,
                              p->message);
        }
        if (diag->n_problems > n_listed)
                es_buf_printf(&out, "\n%s: %zu more problems not shown", diag->file,
                              diag->n_problems - n_listed);
        return es_buf_take(&out);
}

void es_cfg_diag_release(struct es_cfg_diag *diag)
{
        for (size_t i = 0; i < diag->n_problems; i++)
                free(diag->problems[i].message);
        free(diag->problems);
        diag->problems = NULL;
        diag->n_problems = 0;
}

static bool key_needs_quotes(const char *key)
{
        if (*key == '\0')
                return true;
        for (const char *p = key; *p; p++)
                if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
                        return true;
        return false;
}

char *es_cfg_path_key(const char *parent, const char *key)
{
        struct es_buf out = ES_BUF_INIT(0);

        es_buf_puts(&out, parent ? parent : "");
        if (!key_needs_quotes(key)) {
                es_buf_printf(&out, "%s%s", out.len ? "." : "", key);
                return es_buf_take(&out);
        }

        es_buf_puts(&out, out.len ? ".\"" : "\"");
        for (const char *p = key; *p; p++) {
                char c[3] = {'\\', *p, '\0'};

                es_buf_puts(&out, (*p == '"' || *p == '\\') ? c : c + 1);
        }
        es_buf_puts(&out, "\"");
        return es_buf_take(&out);
}

char *es_cfg_path_index(const char *parent, size_t index)
{
        return es_asprintf("%s[%zu]", parent ? parent : "", index);
}

bool es_cfg_is_null(const struct es_cfg_node *node)
{
        static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

        if (node->type != ES_CFG_SCALAR || !node->plain)
                return false;
        for (size_t i = 0; i < ES_ARRAY_SIZE(nulls); i++)
                if (strcmp(node->text, nulls[i]) == 0)
                        return true;
        return false;
}

bool es_cfg_is_bool(const struct es_cfg_node *node, bool *value)
{
        static const char *const trues[] = {"true", "True", "TRUE"};
        static const char *const falses[] = {"false", "False", "FALSE"};

        if (node->type != ES_CFG_SCALAR || !node->plain)
                return false;
        for (size_t i = 0; i < ES_ARRAY_SIZE(trues); i++) {
                if (strcmp(node->text, trues[i]) == 0) {
                        *value = true;
                        return true;
                }
                if (strcmp(node->text, falses[i]) == 0) {
                        *value = false;
                        return true;
                }
        }
        return false;
}

/* Decimal integers only: YAML's 0x and 0o forms are rare in configuration files. */
bool es_cfg_is_integer(const struct es_cfg_node *node, long long *value)
{
        const char *p;
        char *end;
        long long v;

        if (node->type != ES_CFG_SCALAR || !node->plain)
                return false;
        p = node->text;
        if (*p == '+' || *p == '-')
                p++;
        if (!isdigit((unsigned char)*p))
                return false;
        for (; *p; p++)
                if (!isdigit((unsigned char)*p))
                        return false;

        errno = 0;
        v = strtoll(node->text, &end, 10);
        if (errno == ERANGE)
                return false;
        *value = v;
        return true;
}

/* The key closest to key among names, when it is close enough to be a typo. */
static const char *closest_name(const char *key, const char *const *names)
{
        const char *best = NULL;
        size_t best_distance = (size_t)-1;
        size_t limit = strlen(key) / 3 > 2 ? strlen(key) / 3 : 2;

        for (const char *const *name = names; *name; name++) {
                size_t d = es_cfg_edit_distance(key, *name);

                if (d < best_distance) {
                        best_distance = d;
                        best = *name;
                }
        }
        return best_distance <= limit ? best : NULL;
}

static char *list_names(const char *const *names)
{
        struct es_buf out = ES_BUF_INIT(0);

        for (const char *const *name = names; *name; name++)
                es_buf_printf(&out, "%s'%s'", name == names ? "" : ", ", *name);
        return es_buf_take(&out);
}

bool es_cfg_read_mapping(struct es_cfg_diag *diag, const struct es_cfg_node *node, const char *path,
                         const char *expected, const char *const *names,
                         const struct es_cfg_node **values)
{
        size_t n_names = 0;

        while (names[n_names])
                n_names++;
        for (size_t i = 0; i < n_names; i++)
                values[i] = NULL;

        if (node->type != ES_CFG_MAPPING) {
                es_cfg_report_at(diag, node, path, "expected %s", expected);
                return false;
        }

        for (size_t i = 0; i < node->n_pairs; i++) {
                const struct es_cfg_pair *pair = &node->pairs[i];
                _cleanup_free_ char *key_path = NULL;
                const char *suggestion;
                size_t j;

                for (j = 0; j < n_names; j++)
                        if (strcmp(pair->key->text, names[j]) == 0)
                                break;
                if (j < n_names) {
                        values[j] = pair->value;
                        continue;
                }

                key_path = es_cfg_path_key(path, pair->key->text);
                suggestion = closest_name(pair->key->text, names);
                if (suggestion) {
                        es_cfg_report_at(diag, pair->key, key_path,
                                         "unknown key; did you mean '%s'?", suggestion);
                } else {
                        _cleanup_free_ char *valid = list_names(names);

                        es_cfg_report_at(diag, pair->key, key_path,
                                         "unknown key; expected one of %s", valid);
                }
        }
        return true;
}

bool es_cfg_read_string(struct es_cfg_diag *diag, const struct es_cfg_node *node, const char *path,
                        bool allow_empty, char **out)
{
        bool ignored;

        if (node->type != ES_CFG_SCALAR || es_cfg_is_null(node) || es_cfg_is_bool(node, &ignored)) {
                es_cfg_report_at(diag, node, path,
                                 node->type == ES_CFG_SCALAR && !es_cfg_is_null(node)
                                     ? "expected a string; quote the value to use it as text"
                                     : "expected a string");
                return false;
        }
        if (!allow_empty && node->text[0] == '\0') {
                es_cfg_report_at(diag, node, path, "expected a non-empty string");
                return false;
        }
        *out = es_strdup(node->text);
        return true;
}

bool es_cfg_read_bool(struct es_cfg_diag *diag, const struct es_cfg_node *node, const char *path,
                      bool *out)
{
        if (!es_cfg_is_bool(node, out)) {
                es_cfg_report_at(diag, node, path, "expected true or false");
                return false;
        }
        return true;
}

bool es_cfg_read_integer(struct es_cfg_diag *diag, const struct es_cfg_node *node, const char *path,
                         long long min, long long max, long long *out)
{
        long long value;

        if (!es_cfg_is_integer(node, &value) || value < min) {
                es_cfg_report_at(diag, node, path, "expected a whole number >= %lld", min);
                return false;
        }
        if (value > max) {
                es_cfg_report_at(diag, node, path, "expected a whole number from %lld to %lld", min,
                                 max);
                return false;
        }
        *out = value;
        return true;
}

void es_cfg_strings_free(char **strings, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(strings[i]);
        free(strings);
}

bool es_cfg_read_string_list(struct es_cfg_diag *diag, const struct es_cfg_node *node,
                             const char *path, char ***out, size_t *n)
{
        char **strings;
        size_t count = 0;

        if (node->type != ES_CFG_SEQUENCE) {
                es_cfg_report_at(diag, node, path, "expected a list of strings");
                return false;
        }

        strings = es_calloc(node->n_items + 1, sizeof(*strings));
        for (size_t i = 0; i < node->n_items; i++) {
                _cleanup_free_ char *item_path = es_cfg_path_index(path, i);

                if (!es_cfg_read_string(diag, node->items[i], item_path, false, &strings[count])) {
                        es_cfg_strings_free(strings, count);
                        return false;
                }
                count++;
        }
        *out = strings;
        *n = count;
        return true;
}

size_t es_cfg_edit_distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        _cleanup_free_ size_t *row = es_calloc(lb + 1, sizeof(*row));
        size_t result;

        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diagonal = row[0];

                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t above = row[j];
                        size_t best = diagonal + (a[i - 1] != b[j - 1]);

                        if (above + 1 < best)
                                best = above + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        row[j] = best;
                        diagonal = above;
                }
        }
        result = row[lb];
        return result;
}
