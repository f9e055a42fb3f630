/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Growable byte buffer with a hard size limit. Every buffer filled from the
 * network is given one of the named limits in base/limits.h. The data is
 * always NUL-terminated (the terminator is not counted in len), so text
 * responses can be used as C strings after checking for embedded NULs.
 */
#ifndef ES_BASE_BUF_H
#define ES_BASE_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct es_buf {
        char *data;   /* owned; NULL until the first append */
        size_t len;   /* bytes stored, excluding the terminator */
        size_t alloc; /* bytes allocated */
        size_t max;   /* largest len allowed; 0 means no limit */
};

#define ES_BUF_INIT(limit)                                                                         \
        {                                                                                          \
                NULL, 0, 0, (limit)                                                                \
        }

void es_buf_init(struct es_buf *buf, size_t max);

/* Append n bytes. Returns 0, or -1 when the result would exceed max (buf unchanged). */
int es_buf_append(struct es_buf *buf, const void *data, size_t n)
    __attribute__((warn_unused_result));

/* Append a C string, ignoring max (for building requests, not for network input). */
void es_buf_puts(struct es_buf *buf, const char *s);
void es_buf_printf(struct es_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when the stored bytes contain a NUL. */
bool es_buf_has_nul(const struct es_buf *buf);

/* Hand out the data (never NULL: an empty string when nothing was stored) and reset. */
char *es_buf_take(struct es_buf *buf);

void es_buf_reset(struct es_buf *buf);
void es_buf_release(struct es_buf *buf);

#endif
