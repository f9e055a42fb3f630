/* SPDX-License-Identifier: Apache-2.0 */
/* Logging to stderr as text or JSON lines. */
#include "base/log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/alloc.h"

static enum es_log_level max_level = ES_LOG_INFO;
static enum es_log_format log_format = ES_LOG_TEXT;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void es_log_setup(enum es_log_level level, enum es_log_format format)
{
        max_level = level;
        log_format = format;
}

bool es_log_enabled(enum es_log_level level)
{
        return level <= max_level;
}

static void format_time(char *out, size_t size)
{
        struct timespec now;
        struct tm tm;

        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 now.tv_nsec / 1000000);
}

static void write_json(enum es_log_level level, const char *message)
{
        char stamp[64];
        json_t *line;
        char *text;

        format_time(stamp, sizeof(stamp));
        line = json_pack("{s:s, s:s, s:s}", "time", stamp, "level", level_names[level], "msg",
                         message);
        /* json_pack fails only on invalid UTF-8: fall back to a lossy copy. */
        if (line == NULL)
                line = json_pack("{s:s, s:s, s:s}", "time", stamp, "level", level_names[level],
                                 "msg", "(message not valid UTF-8)");
        text = json_dumps(line, JSON_COMPACT);
        fprintf(stderr, "%s\n", text);
        free(text);
        json_decref(line);
}

void es_log(enum es_log_level level, const char *fmt, ...)
{
        va_list ap;
        char *message;

        if (!es_log_enabled(level))
                return;

        va_start(ap, fmt);
        message = es_vasprintf(fmt, ap);
        va_end(ap);

        pthread_mutex_lock(&log_lock);
        if (log_format == ES_LOG_JSON)
                write_json(level, message);
        else if (level == ES_LOG_INFO)
                fprintf(stderr, "%s\n", message);
        else
                fprintf(stderr, "%s: %s\n", level_names[level], message);
        fflush(stderr);
        pthread_mutex_unlock(&log_lock);
        free(message);
}
