/* SPDX-License-Identifier: Apache-2.0 */
/* Growable byte buffer with a hard size limit. */
#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

void es_buf_init(struct es_buf *buf, size_t max)
{
        memset(buf, 0, sizeof(*buf));
        buf->max = max;
}

static void reserve(struct es_buf *buf, size_t extra)
{
        size_t need = buf->len + extra + 1;
        size_t alloc = buf->alloc ? buf->alloc : 256;

        if (need <= buf->alloc)
                return;
        while (alloc < need)
                alloc *= 2;
        buf->data = es_realloc(buf->data, alloc);
        buf->alloc = alloc;
}

int es_buf_append(struct es_buf *buf, const void *data, size_t n)
{
        if (buf->max != 0 && (n > buf->max || buf->len > buf->max - n))
                return -1;
        reserve(buf, n);
        if (n)
                memcpy(buf->data + buf->len, data, n);
        buf->len += n;
        buf->data[buf->len] = '\0';
        return 0;
}

void es_buf_puts(struct es_buf *buf, const char *s)
{
        size_t n = strlen(s);

        reserve(buf, n);
        memcpy(buf->data + buf->len, s, n + 1);
        buf->len += n;
}

void es_buf_printf(struct es_buf *buf, const char *fmt, ...)
{
        va_list ap;
        char *s;

        va_start(ap, fmt);
        s = es_vasprintf(fmt, ap);
        va_end(ap);
        es_buf_puts(buf, s);
        free(s);
}

bool es_buf_has_nul(const struct es_buf *buf)
{
        return buf->len > 0 && memchr(buf->data, '\0', buf->len) != NULL;
}

char *es_buf_take(struct es_buf *buf)
{
        char *data = buf->data ? buf->data : es_strdup("");

        buf->data = NULL;
        buf->len = buf->alloc = 0;
        return data;
}

void es_buf_reset(struct es_buf *buf)
{
        buf->len = 0;
        if (buf->data)
                buf->data[0] = '\0';
}

void es_buf_release(struct es_buf *buf)
{
        free(buf->data);
        buf->data = NULL;
        buf->len = buf->alloc = 0;
}
