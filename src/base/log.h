/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging to stderr as text or JSON lines. Thread-safe: each line is written
 * whole. Library modules log at debug level only; the CLI decides what the
 * user sees at the other levels. Never pass a secret to these functions.
 */
#ifndef ES_BASE_LOG_H
#define ES_BASE_LOG_H

#include <stdbool.h>

enum es_log_level {
        ES_LOG_ERROR = 0,
        ES_LOG_WARNING = 1,
        ES_LOG_INFO = 2,
        ES_LOG_DEBUG = 3,
};

enum es_log_format {
        ES_LOG_TEXT = 0,
        ES_LOG_JSON = 1,
};

/* Set before starting threads. Defaults: info, text. */
void es_log_setup(enum es_log_level level, enum es_log_format format);

bool es_log_enabled(enum es_log_level level);

void es_log(enum es_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define es_log_error(...)   es_log(ES_LOG_ERROR, __VA_ARGS__)
#define es_log_warning(...) es_log(ES_LOG_WARNING, __VA_ARGS__)
#define es_log_info(...)    es_log(ES_LOG_INFO, __VA_ARGS__)
#define es_log_debug(...)                                                                          \
        do {                                                                                       \
                if (es_log_enabled(ES_LOG_DEBUG))                                                  \
                        es_log(ES_LOG_DEBUG, __VA_ARGS__);                                         \
        } while (0)

#endif
