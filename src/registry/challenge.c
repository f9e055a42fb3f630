/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WWW-Authenticate parser (RFC 7235 section 4.1). Commas separate both
 * challenges and the params inside one, so a token followed by '=' is read
 * as a param of the latest challenge and any other token starts a new one.
 */
#include "registry/challenge.h"

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/cleanup.h"

/* Maximum length of a scheme, param name or param value. */
#define MAX_CHALLENGE_ITEM (8u * 1024)

/* Maximum number of challenges in one header value, so that memory use stays bounded. */
#define MAX_CHALLENGES 64

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

/* token68 characters from RFC 7235 section 2.1, without the trailing '='. */
static bool is_token68_char(char c)
{
        return isalnum((unsigned char)c) || (c != '\0' && strchr("-._~+/", c) != NULL);
}

static void skip_spaces(struct parser *ps)
{
        while (*ps->p == ' ' || *ps->p == '\t')
                ps->p++;
}

static void skip_spaces_and_commas(struct parser *ps)
{
        while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == ',')
                ps->p++;
}

static int syntax_error(struct parser *ps, const char *problem)
{
        return es_error_set(ps->err, ES_ERR_PROTOCOL,
                            "invalid WWW-Authenticate header: %s at offset %zu", problem,
                            (size_t)(ps->p - ps->start));
}

static size_t token_length(const char *p)
{
        size_t n = 0;

        while (is_tchar(p[n]))
                n++;
        return n;
}

/*
 * After a scheme and its spaces, check for a token68 credential such as
 * "Negotiate YII=": token68 characters, then '=' padding, then the end of the
 * element. Returns its length, or 0 when the text is something else.
 */
static size_t token68_length(const char *p)
{
        size_t n = 0;

        while (is_token68_char(p[n]))
                n++;
        if (n == 0)
                return 0;
        while (p[n] == '=')
                n++;
        while (p[n] == ' ' || p[n] == '\t')
                n++;
        return (p[n] == '\0' || p[n] == ',') ? n : 0;
}

/* Read a quoted-string starting at the opening quote, unescaping quoted-pairs. */
static int parse_quoted(struct parser *ps, char **out)
{
        struct es_buf value = ES_BUF_INIT(MAX_CHALLENGE_ITEM);

        ps->p++;
        for (;;) {
                char c = *ps->p;

                if (c == '\0') {
                        es_buf_release(&value);
                        return syntax_error(ps, "unterminated quoted string");
                }
                if (c == '"')
                        break;
                if (c == '\\') {
                        ps->p++;
                        c = *ps->p;
                        if (c == '\0') {
                                es_buf_release(&value);
                                return syntax_error(ps, "unterminated quoted string");
                        }
                }
                if (es_buf_append(&value, &c, 1) < 0) {
                        es_buf_release(&value);
                        return syntax_error(ps, "quoted string longer than 8 KiB");
                }
                ps->p++;
        }
        ps->p++;
        *out = es_buf_take(&value);
        return 0;
}

/*
 * Read a param value. An unquoted value should be a token, but some servers
 * send bare URLs such as realm=https://auth.example/token, so it runs to the
 * next comma or space instead.
 */
static int parse_value(struct parser *ps, char **out)
{
        size_t n;

        if (*ps->p == '"')
                return parse_quoted(ps, out);

        n = strcspn(ps->p, ", \t");
        if (n == 0)
                return syntax_error(ps, "missing param value");
        if (n > MAX_CHALLENGE_ITEM)
                return syntax_error(ps, "param value longer than 8 KiB");
        *out = es_strndup(ps->p, n);
        ps->p += n;
        return 0;
}

/* Store a known param. The first occurrence wins, because RFC 7235 allows each name once. */
static void store_param(struct es_challenge *challenge, const char *name, size_t name_len,
                        char **value)
{
        static const struct {
                const char *name;
                size_t offset;
        } known[] = {
            {"realm", offsetof(struct es_challenge, realm)},
            {"service", offsetof(struct es_challenge, service)},
            {"scope", offsetof(struct es_challenge, scope)},
            {"error", offsetof(struct es_challenge, error)},
        };

        for (size_t i = 0; i < ES_ARRAY_SIZE(known); i++) {
                char **field = (char **)((char *)challenge + known[i].offset);

                if (strlen(known[i].name) != name_len ||
                    strncasecmp(known[i].name, name, name_len) != 0)
                        continue;
                if (*field == NULL)
                        *field = TAKE_PTR(*value);
                return;
        }
}

static void release_challenge(struct es_challenge *challenge)
{
        free(challenge->scheme);
        free(challenge->realm);
        free(challenge->service);
        free(challenge->scope);
        free(challenge->error);
        memset(challenge, 0, sizeof(*challenge));
}

static struct es_challenge *add_challenge(struct es_challenge_list *list, const char *scheme,
                                          size_t len)
{
        struct es_challenge *challenge;

        list->items = es_realloc(list->items, (list->count + 1) * sizeof(*list->items));
        challenge = &list->items[list->count++];
        memset(challenge, 0, sizeof(*challenge));
        challenge->scheme = es_strndup(scheme, len);
        for (char *p = challenge->scheme; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        return challenge;
}

static int parse_element(struct parser *ps, struct es_challenge_list *list)
{
        const char *name = ps->p;
        size_t name_len = token_length(ps->p);
        size_t credential_len;

        if (name_len == 0)
                return syntax_error(ps, "expected an auth scheme or param name");
        if (name_len > MAX_CHALLENGE_ITEM)
                return syntax_error(ps, "auth scheme or param name longer than 8 KiB");
        ps->p += name_len;
        skip_spaces(ps);

        if (*ps->p == '=') {
                _cleanup_free_ char *value = NULL;
                int r;

                if (list->count == 0)
                        return syntax_error(ps, "auth param without a scheme");
                ps->p++;
                skip_spaces(ps);
                r = parse_value(ps, &value);
                if (r < 0)
                        return r;
                store_param(&list->items[list->count - 1], name, name_len, &value);
        } else {
                if (list->count >= MAX_CHALLENGES)
                        return syntax_error(ps, "more than 64 challenges");
                add_challenge(list, name, name_len);

                /* Skip a token68 credential, because no registry auth scheme uses one. */
                credential_len = token68_length(ps->p);
                ps->p += credential_len;
                if (credential_len == 0 && *ps->p != '\0' && *ps->p != ',')
                        return 0; /* the first auth-param follows after the space */
        }

        skip_spaces(ps);
        if (*ps->p != '\0' && *ps->p != ',')
                return syntax_error(ps, "expected ',' between params");
        return 0;
}

int es_challenge_parse(const char *header, struct es_challenge_list *out, struct es_error *err)
{
        struct es_challenge_list list = {NULL, 0};
        struct parser ps = {header, header, err};
        int r;

        skip_spaces_and_commas(&ps);
        if (*ps.p == '\0')
                return es_error_set(err, ES_ERR_PROTOCOL,
                                    "invalid WWW-Authenticate header: no challenge in an empty "
                                    "value");

        while (*ps.p != '\0') {
                r = parse_element(&ps, &list);
                if (r < 0) {
                        es_challenge_list_release(&list);
                        return r;
                }
                skip_spaces_and_commas(&ps);
        }

        *out = list;
        return 0;
}

const struct es_challenge *es_challenge_find(const struct es_challenge_list *list,
                                             const char *scheme)
{
        for (size_t i = 0; i < list->count; i++) {
                if (strcmp(list->items[i].scheme, scheme) == 0)
                        return &list->items[i];
        }
        return NULL;
}

void es_challenge_list_release(struct es_challenge_list *list)
{
        if (list == NULL)
                return;
        for (size_t i = 0; i < list->count; i++)
                release_challenge(&list->items[i]);
        free(list->items);
        list->items = NULL;
        list->count = 0;
}
