/* SPDX-License-Identifier: Apache-2.0 */
/* Error object: message, HTTP status and registry error code. */
#include "base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

int es_error_setv(struct es_error *err, enum es_error_code code, const char *fmt, va_list ap)
{
        if (err == NULL)
                return -(int)code;

        es_error_release(err);
        err->code = code;
        err->message = es_vasprintf(fmt, ap);
        return -(int)code;
}

int es_error_set(struct es_error *err, enum es_error_code code, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = es_error_setv(err, code, fmt, ap);
        va_end(ap);
        return r;
}

void es_error_set_http(struct es_error *err, long status, const char *registry_code)
{
        if (err == NULL)
                return;
        err->http_status = status;
        free(err->registry_code);
        err->registry_code = registry_code ? es_strdup(registry_code) : NULL;
}

int es_error_prefix(struct es_error *err, const char *fmt, ...)
{
        char *context, *joined;
        va_list ap;

        if (err == NULL)
                return -ES_ERR_INVALID;

        va_start(ap, fmt);
        context = es_vasprintf(fmt, ap);
        va_end(ap);

        joined = es_asprintf("%s: %s", context, es_error_message(err));
        free(context);
        free(err->message);
        err->message = joined;
        return -(int)(err->code ? err->code : ES_ERR_INVALID);
}

void es_error_move(struct es_error *dst, struct es_error *src)
{
        es_error_release(dst);
        *dst = *src;
        memset(src, 0, sizeof(*src));
}

void es_error_release(struct es_error *err)
{
        if (err == NULL)
                return;
        free(err->message);
        free(err->registry_code);
        memset(err, 0, sizeof(*err));
}

const char *es_error_code_name(enum es_error_code code)
{
        switch (code) {
        case ES_OK:
                return "success";
        case ES_ERR_INVALID:
                return "invalid input";
        case ES_ERR_NOT_FOUND:
                return "not found";
        case ES_ERR_AUTH:
                return "authentication failed";
        case ES_ERR_RATE_LIMITED:
                return "rate limited";
        case ES_ERR_DIGEST:
                return "digest mismatch";
        case ES_ERR_TRANSIENT:
                return "temporary failure";
        case ES_ERR_UNSUPPORTED:
                return "unsupported";
        case ES_ERR_PROTOCOL:
                return "protocol error";
        case ES_ERR_IO:
                return "I/O error";
        case ES_ERR_CANCELLED:
                return "cancelled";
        case ES_ERR_TLS:
                return "TLS handshake failed";
        }
        return "unknown error";
}

const char *es_error_message(const struct es_error *err)
{
        if (err == NULL)
                return "unknown error";
        if (err->message != NULL)
                return err->message;
        return es_error_code_name(err->code);
}
