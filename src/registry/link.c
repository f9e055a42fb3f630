/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Link header parser (RFC 8288 section 3): comma-separated link-values, each
 * "<target>" followed by ";"-separated params whose values are tokens or
 * quoted strings.
 */
#include "registry/link.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"

/* Maximum length of a param name or value. A rel value is a few words. */
#define MAX_LINK_PARAM (8u * 1024)

struct parser {
        const char *start;
        const char *p;
        struct es_error *err;
};

/* tchar from RFC 7230 section 3.2.6. */
static bool is_tchar(char c)
{
        return isalnum((unsigned char)c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static void skip_spaces(struct parser *ps)
{
        while (*ps->p == ' ' || *ps->p == '\t')
                ps->p++;
}

static int syntax_error(struct parser *ps, const char *problem)
{
        return es_error_set(ps->err, ES_ERR_PROTOCOL, "invalid Link header: %s at offset %zu",
                            problem, (size_t)(ps->p - ps->start));
}

static int parse_quoted(struct parser *ps, char **out)
{
        struct es_buf value = ES_BUF_INIT(MAX_LINK_PARAM);

        ps->p++;
        for (;;) {
                char c = *ps->p;

                if (c == '\\' && ps->p[1] != '\0') {
                        ps->p++;
                        c = *ps->p;
                } else if (c == '\0' || c == '\\') {
                        es_buf_release(&value);
                        return syntax_error(ps, "unterminated quoted string");
                } else if (c == '"') {
                        break;
                }
                if (es_buf_append(&value, &c, 1) < 0) {
                        es_buf_release(&value);
                        return syntax_error(ps, "param value longer than 8 KiB");
                }
                ps->p++;
        }
        ps->p++;
        *out = es_buf_take(&value);
        return 0;
}

/*
 * Read an unquoted param value. RFC 8288 allows only a token, but values such
 * as type=text/plain are common, so it runs to the next ';', ',' or space.
 */
static int parse_unquoted(struct parser *ps, char **out)
{
        size_t n = strcspn(ps->p, ";, \t");

        if (n == 0)
                return syntax_error(ps, "missing param value");
        if (n > MAX_LINK_PARAM)
                return syntax_error(ps, "param value longer than 8 KiB");
        *out = es_strndup(ps->p, n);
        ps->p += n;
        return 0;
}

static int parse_token(struct parser *ps, char **out)
{
        const char *start = ps->p;

        while (is_tchar(*ps->p))
                ps->p++;
        if (ps->p == start)
                return syntax_error(ps, "expected a token");
        if ((size_t)(ps->p - start) > MAX_LINK_PARAM)
                return syntax_error(ps, "param name longer than 8 KiB");
        *out = es_strndup(start, (size_t)(ps->p - start));
        return 0;
}

/* True when the space-separated relation types in rel include "next" in any case. */
static bool rel_includes_next(const char *rel)
{
        const char *p = rel;

        while (*p != '\0') {
                size_t n;

                while (*p == ' ' || *p == '\t')
                        p++;
                n = strcspn(p, " \t");
                if (n == 4 && strncasecmp(p, "next", 4) == 0)
                        return true;
                p += n;
        }
        return false;
}

/*
 * Parse one link-value. Sets *target to a new string and *rel to the first
 * rel param (NULL when absent), as RFC 8288 says later ones are ignored.
 */
static int parse_link(struct parser *ps, char **target, char **rel)
{
        _cleanup_free_ char *link_target = NULL, *link_rel = NULL;
        const char *close;
        int r;

        if (*ps->p != '<')
                return syntax_error(ps, "expected '<' to open a link target");
        close = strchr(ps->p, '>');
        if (close == NULL)
                return syntax_error(ps, "missing '>' after the link target");
        link_target = es_strndup(ps->p + 1, (size_t)(close - ps->p - 1));
        ps->p = close + 1;

        for (;;) {
                _cleanup_free_ char *name = NULL, *value = NULL;

                skip_spaces(ps);
                if (*ps->p == '\0' || *ps->p == ',')
                        break;
                if (*ps->p != ';')
                        return syntax_error(ps, "expected ';' or ',' after the link target");
                ps->p++;
                skip_spaces(ps);

                r = parse_token(ps, &name);
                if (r < 0)
                        return r;
                skip_spaces(ps);
                if (*ps->p == '=') {
                        ps->p++;
                        skip_spaces(ps);
                        r = *ps->p == '"' ? parse_quoted(ps, &value) : parse_unquoted(ps, &value);
                        if (r < 0)
                                return r;
                }

                if (strcasecmp(name, "rel") == 0 && link_rel == NULL)
                        link_rel = value ? TAKE_PTR(value) : es_strdup("");
        }

        *target = TAKE_PTR(link_target);
        *rel = TAKE_PTR(link_rel);
        return 0;
}

int es_link_find_next(const char *header, char **out, struct es_error *err)
{
        struct parser ps = {header, header, err};
        _cleanup_free_ char *next = NULL;

        *out = NULL;
        for (;;) {
                _cleanup_free_ char *target = NULL, *rel = NULL;
                int r;

                while (*ps.p == ' ' || *ps.p == '\t' || *ps.p == ',')
                        ps.p++;
                if (*ps.p == '\0')
                        break;

                r = parse_link(&ps, &target, &rel);
                if (r < 0)
                        return r;
                if (next == NULL && rel != NULL && rel_includes_next(rel)) {
                        if (target[0] == '\0')
                                return syntax_error(&ps, "empty target for rel \"next\"");
                        next = TAKE_PTR(target);
                }
        }

        *out = TAKE_PTR(next);
        return 0;
}
