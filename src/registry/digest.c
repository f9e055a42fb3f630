/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Digest syntax checks and sha256 computation with OpenSSL 3's EVP interface.
 */
#include "registry/digest.h"

#include <assert.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"

/* Maximum number of characters of a rejected value quoted in an error message. */
#define MAX_QUOTED_DIGEST 100

struct es_sha256 {
        EVP_MD_CTX *md;
        bool finished;
};

struct digest_algorithm {
        const char *name;
        size_t hex_length;
};

static const struct digest_algorithm algorithms[] = {
    {"sha256", 64},
    {"sha512", 128},
};

static bool is_lower_hex(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int digest_invalid(struct es_error *err, const char *digest, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set "invalid digest "VALUE": REASON", cutting very long values short. */
static int digest_invalid(struct es_error *err, const char *digest, const char *fmt, ...)
{
        size_t len = strlen(digest);
        int shown_length = len > MAX_QUOTED_DIGEST ? MAX_QUOTED_DIGEST : (int)len;
        char *reason;
        va_list ap;
        int r;

        va_start(ap, fmt);
        reason = es_vasprintf(fmt, ap);
        va_end(ap);
        r = es_error_set(err, ES_ERR_INVALID, "invalid digest \"%.*s%s\": %s", shown_length, digest,
                         len > MAX_QUOTED_DIGEST ? "..." : "", reason);
        free(reason);
        return r;
}

static const struct digest_algorithm *find_algorithm(const char *name, size_t len)
{
        for (size_t i = 0; i < ES_ARRAY_SIZE(algorithms); i++) {
                if (strlen(algorithms[i].name) == len && memcmp(algorithms[i].name, name, len) == 0)
                        return &algorithms[i];
        }
        return NULL;
}

int es_digest_validate(const char *digest, struct es_error *err)
{
        const struct digest_algorithm *algorithm;
        const char *colon, *hex;
        size_t hex_length;

        if (digest == NULL || digest[0] == '\0')
                return es_error_set(err, ES_ERR_INVALID,
                                    "invalid digest \"\": expected ALGORITHM:HEX, e.g. sha256:...");

        colon = strchr(digest, ':');
        if (colon == NULL)
                return digest_invalid(err, digest,
                                      "missing ':' between algorithm and hex, expected e.g. "
                                      "sha256:<64 hex digits>");

        algorithm = find_algorithm(digest, (size_t)(colon - digest));
        if (algorithm == NULL)
                return digest_invalid(err, digest,
                                      "unknown algorithm \"%.*s\", expected sha256 or sha512",
                                      (int)(colon - digest > 20 ? 20 : colon - digest), digest);

        hex = colon + 1;
        hex_length = strlen(hex);
        if (hex_length != algorithm->hex_length)
                return digest_invalid(err, digest, "%s needs %zu hex digits, found %zu characters",
                                      algorithm->name, algorithm->hex_length, hex_length);

        for (size_t i = 0; i < hex_length; i++) {
                if (is_lower_hex(hex[i]))
                        continue;
                if (hex[i] >= 'A' && hex[i] <= 'F')
                        return digest_invalid(err, digest, "hex digits must be lowercase");
                return digest_invalid(err, digest, "character %zu is not a hex digit",
                                      (size_t)(hex - digest) + i + 1);
        }
        return 0;
}

int es_digest_validate_supported(const char *digest, struct es_error *err)
{
        int r = es_digest_validate(digest, err);

        if (r < 0)
                return r;
        if (strncmp(digest, "sha256:", 7) != 0)
                return digest_invalid(err, digest,
                                      "only sha256 content can be verified; this algorithm is "
                                      "not supported");
        return 0;
}

static void format_sha256(const unsigned char md[32], char out[ES_DIGEST_SHA256_LENGTH])
{
        static const char hex_digits[] = "0123456789abcdef";
        char *p = out;

        memcpy(p, "sha256:", 7);
        p += 7;
        for (size_t i = 0; i < 32; i++) {
                *p++ = hex_digits[md[i] >> 4];
                *p++ = hex_digits[md[i] & 0x0f];
        }
        *p = '\0';
}

/*
 * EVP calls with the built-in sha256 fail only when memory runs out or the
 * default provider cannot load. Like es_malloc(), treat that as fatal rather
 * than give every digest caller an error path it could never test.
 */
static void check_evp(int ok)
{
        if (!ok)
                abort();
}

void es_digest_sha256(const void *data, size_t len, char out[ES_DIGEST_SHA256_LENGTH])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int md_len = 0;

        check_evp(EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL));
        assert(md_len == 32);
        format_sha256(md, out);
}

struct es_sha256 *es_sha256_new(void)
{
        struct es_sha256 *ctx = es_calloc(1, sizeof(*ctx));

        ctx->md = EVP_MD_CTX_new();
        check_evp(ctx->md != NULL);
        check_evp(EVP_DigestInit_ex(ctx->md, EVP_sha256(), NULL));
        return ctx;
}

void es_sha256_update(struct es_sha256 *ctx, const void *data, size_t len)
{
        assert(!ctx->finished);
        if (len == 0)
                return;
        check_evp(EVP_DigestUpdate(ctx->md, data, len));
}

void es_sha256_final(struct es_sha256 *ctx, char out[ES_DIGEST_SHA256_LENGTH])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int md_len = 0;

        assert(!ctx->finished);
        check_evp(EVP_DigestFinal_ex(ctx->md, md, &md_len));
        assert(md_len == 32);
        ctx->finished = true;
        format_sha256(md, out);
}

void es_sha256_free(struct es_sha256 *ctx)
{
        if (ctx == NULL)
                return;
        EVP_MD_CTX_free(ctx->md);
        free(ctx);
}
