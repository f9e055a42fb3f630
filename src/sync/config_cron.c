/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Syntax check of the five-field cron expressions in `schedule`. Each field
 * is a comma-separated list of items: '*', a value, or a range A-B. A step
 * may follow '*' or a range after a slash: 0-30/10 is 0, 10, 20 and 30.
 * Months may be written JAN-DEC and weekdays SUN-SAT, in any case. Weekday
 * 0 and weekday 7 are both Sunday.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "sync/config_internal.h"

/* Fields of a cron expression, in order. */
#define CRON_FIELDS 5

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const weekday_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

struct cron_field {
        const char *name;
        int min, max;
        const char *const *names; /* names for min, min + 1, ...; NULL when none */
        size_t n_names;
        const char *accepts; /* what the field accepts, for messages */
};

static const struct cron_field fields[CRON_FIELDS] = {
    {"minute", 0, 59, NULL, 0, "0-59"},
    {"hour", 0, 23, NULL, 0, "0-23"},
    {"day-of-month", 1, 31, NULL, 0, "1-31"},
    {"month", 1, 12, month_names, 12, "1-12 or JAN-DEC"},
    {"day-of-week", 0, 7, weekday_names, 7, "0-7 or SUN-SAT"},
};

/* Read a number or a name at *p into *value. Returns false on a syntax or range error. */
static bool read_value(const struct cron_field *field, const char **p, int *value, char **problem)
{
        const char *start = *p;

        if (isdigit((unsigned char)**p)) {
                long v = 0;

                while (isdigit((unsigned char)**p)) {
                        if (v < 1000)
                                v = v * 10 + (**p - '0');
                        (*p)++;
                }
                if (v < field->min || v > field->max) {
                        *problem = es_asprintf("%.*s is out of range; expected %s",
                                               (int)(*p - start), start, field->accepts);
                        return false;
                }
                *value = (int)v;
                return true;
        }

        if (isalpha((unsigned char)**p) && field->names) {
                while (isalpha((unsigned char)**p))
                        (*p)++;
                for (size_t i = 0; i < field->n_names; i++) {
                        if (*p - start == 3 && strncasecmp(start, field->names[i], 3) == 0) {
                                *value = field->min + (int)i;
                                return true;
                        }
                }
                *problem = es_asprintf("unknown name '%.*s'; expected %s", (int)(*p - start), start,
                                       field->accepts);
                return false;
        }

        if (**p == '\0')
                *problem = es_asprintf("a value is missing; expected %s", field->accepts);
        else
                *problem = es_asprintf("unexpected '%c'; expected %s", **p, field->accepts);
        return false;
}

static bool check_item(const struct cron_field *field, const char **p, char **problem)
{
        bool stepped_base = false; /* '*' or a range, which a step may follow */
        int first, last;

        if (**p == '*') {
                (*p)++;
                stepped_base = true;
        } else {
                if (!read_value(field, p, &first, problem))
                        return false;
                if (**p == '-') {
                        (*p)++;
                        if (!read_value(field, p, &last, problem))
                                return false;
                        if (first > last) {
                                *problem = es_asprintf("the range %d-%d runs backwards; write "
                                                       "the lower value first",
                                                       first, last);
                                return false;
                        }
                        stepped_base = true;
                }
        }

        if (**p == '/') {
                long step = 0;

                (*p)++;
                if (!stepped_base) {
                        *problem = es_strdup("a step needs '*' or a range before it, such as "
                                             "*/15 or 0-30/10");
                        return false;
                }
                if (!isdigit((unsigned char)**p)) {
                        *problem = es_strdup("expected a step number after '/'");
                        return false;
                }
                while (isdigit((unsigned char)**p)) {
                        if (step < 1000)
                                step = step * 10 + (**p - '0');
                        (*p)++;
                }
                if (step < 1 || step > field->max) {
                        *problem = es_asprintf("the step must be 1 to %d", field->max);
                        return false;
                }
        }
        return true;
}

static bool check_field(const struct cron_field *field, const char *text, char **problem)
{
        const char *p = text;

        for (;;) {
                if (!check_item(field, &p, problem))
                        return false;
                if (*p == '\0')
                        return true;
                if (*p != ',') {
                        *problem = es_asprintf("unexpected '%c'; expected %s", *p, field->accepts);
                        return false;
                }
                p++;
        }
}

bool es_cfg_cron_check(const char *expression, char **problem)
{
        char *parts[CRON_FIELDS + 1] = {NULL};
        _cleanup_free_ char *copy = es_strdup(expression);
        size_t n = 0;
        char *saveptr = NULL;

        for (char *token = strtok_r(copy, " \t", &saveptr); token;
             token = strtok_r(NULL, " \t", &saveptr)) {
                if (n < CRON_FIELDS + 1)
                        parts[n] = token;
                n++;
        }
        if (n != CRON_FIELDS) {
                *problem = es_asprintf("expected 5 fields (minute hour day-of-month month "
                                       "day-of-week), found %zu",
                                       n);
                return false;
        }

        for (size_t i = 0; i < CRON_FIELDS; i++) {
                _cleanup_free_ char *reason = NULL;

                if (!check_field(&fields[i], parts[i], &reason)) {
                        *problem =
                            es_asprintf("%s field \"%s\": %s", fields[i].name, parts[i], reason);
                        return false;
                }
        }
        return true;
}
