/* SPDX-License-Identifier: Apache-2.0 */
/* Local validation of ECR lifecycle policies. */
#include "aws/lifecycle.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"

/* Wildcards allowed in one tagPatternList entry. */
#define MAX_PATTERN_WILDCARDS 4

static bool key_is_one_of(const char *key, const char *const *allowed)
{
        for (; *allowed; allowed++)
                if (strcmp(key, *allowed) == 0)
                        return true;
        return false;
}

static int check_keys(json_t *object, const char *const *allowed, const char *where,
                      struct es_error *err)
{
        const char *key;
        json_t *value;

        json_object_foreach (object, key, value) {
                if (!key_is_one_of(key, allowed))
                        return es_error_set(err, ES_ERR_INVALID, "%s: unknown field '%s'", where,
                                            key);
        }
        return 0;
}

static int check_tag_list(json_t *list, const char *name, bool patterns, const char *where,
                          struct es_error *err)
{
        size_t i;
        json_t *item;

        if (!json_is_array(list) || json_array_size(list) == 0)
                return es_error_set(err, ES_ERR_INVALID,
                                    "%s: selection.%s: expected a non-empty list of strings", where,
                                    name);
        json_array_foreach (list, i, item) {
                const char *text = json_string_value(item);
                size_t wildcards = 0;

                if (text == NULL || *text == '\0')
                        return es_error_set(err, ES_ERR_INVALID,
                                            "%s: selection.%s[%zu]: expected a non-empty string",
                                            where, name, i);
                for (const char *p = text; patterns && *p; p++)
                        wildcards += *p == '*';
                if (wildcards > MAX_PATTERN_WILDCARDS)
                        return es_error_set(err, ES_ERR_INVALID,
                                            "%s: selection.%s[%zu]: '%s' has more than %d "
                                            "wildcards",
                                            where, name, i, text, MAX_PATTERN_WILDCARDS);
        }
        return 0;
}

static int check_selection(json_t *selection, const char *where, struct es_error *err)
{
        static const char *const keys[] = {"tagStatus", "tagPrefixList", "tagPatternList",
                                           "countType", "countUnit",     "countNumber",
                                           NULL};
        const char *status, *count_type;
        json_t *prefixes, *patterns, *unit, *number;
        int r;

        if (!json_is_object(selection))
                return es_error_set(err, ES_ERR_INVALID, "%s: selection: expected an object",
                                    where);
        if ((r = check_keys(selection, keys, where, err)) < 0)
                return r;

        status = json_string_value(json_object_get(selection, "tagStatus"));
        if (status == NULL || (strcmp(status, "tagged") != 0 && strcmp(status, "untagged") != 0 &&
                               strcmp(status, "any") != 0))
                return es_error_set(err, ES_ERR_INVALID,
                                    "%s: selection.tagStatus: expected \"tagged\", \"untagged\" "
                                    "or \"any\"",
                                    where);

        prefixes = json_object_get(selection, "tagPrefixList");
        patterns = json_object_get(selection, "tagPatternList");
        if (strcmp(status, "tagged") == 0) {
                if (prefixes && patterns)
                        return es_error_set(err, ES_ERR_INVALID,
                                            "%s: selection: give tagPrefixList or "
                                            "tagPatternList, not both",
                                            where);
                if (!prefixes && !patterns)
                        return es_error_set(err, ES_ERR_INVALID,
                                            "%s: selection: tagStatus \"tagged\" needs "
                                            "tagPrefixList or tagPatternList",
                                            where);
                r = prefixes ? check_tag_list(prefixes, "tagPrefixList", false, where, err)
                             : check_tag_list(patterns, "tagPatternList", true, where, err);
                if (r < 0)
                        return r;
        } else if (prefixes || patterns) {
                return es_error_set(err, ES_ERR_INVALID,
                                    "%s: selection: %s applies only to tagStatus \"tagged\"", where,
                                    prefixes ? "tagPrefixList" : "tagPatternList");
        }

        count_type = json_string_value(json_object_get(selection, "countType"));
        unit = json_object_get(selection, "countUnit");
        if (count_type == NULL || (strcmp(count_type, "imageCountMoreThan") != 0 &&
                                   strcmp(count_type, "sinceImagePushed") != 0))
                return es_error_set(err, ES_ERR_INVALID,
                                    "%s: selection.countType: expected \"imageCountMoreThan\" "
                                    "or \"sinceImagePushed\"",
                                    where);
        if (strcmp(count_type, "sinceImagePushed") == 0 &&
            !(json_is_string(unit) && strcmp(json_string_value(unit), "days") == 0))
                return es_error_set(err, ES_ERR_INVALID,
                                    "%s: selection.countUnit: expected \"days\" with countType "
                                    "\"sinceImagePushed\"",
                                    where);
        if (strcmp(count_type, "imageCountMoreThan") == 0 && unit)
                return es_error_set(err, ES_ERR_INVALID,
                                    "%s: selection.countUnit: not allowed with countType "
                                    "\"imageCountMoreThan\"",
                                    where);

        number = json_object_get(selection, "countNumber");
        if (!json_is_integer(number) || json_integer_value(number) < 1)
                return es_error_set(err, ES_ERR_INVALID,
                                    "%s: selection.countNumber: expected a whole number >= 1",
                                    where);
        return 0;
}

static int check_rule(json_t *rule, const char *where, struct es_error *err)
{
        static const char *const keys[] = {"rulePriority", "description", "selection", "action",
                                           NULL};
        json_t *priority = json_object_get(rule, "rulePriority");
        json_t *description = json_object_get(rule, "description");
        json_t *action = json_object_get(rule, "action");
        const char *type;
        int r;

        if (!json_is_object(rule))
                return es_error_set(err, ES_ERR_INVALID, "%s: expected an object", where);
        if ((r = check_keys(rule, keys, where, err)) < 0)
                return r;
        if (!json_is_integer(priority) || json_integer_value(priority) < 1)
                return es_error_set(err, ES_ERR_INVALID,
                                    "%s: rulePriority: expected a whole number >= 1", where);
        if (description && !json_is_string(description))
                return es_error_set(err, ES_ERR_INVALID, "%s: description: expected a string",
                                    where);
        if ((r = check_selection(json_object_get(rule, "selection"), where, err)) < 0)
                return r;

        type = json_string_value(json_object_get(action, "type"));
        if (!json_is_object(action) || json_object_size(action) != 1 || type == NULL ||
            strcmp(type, "expire") != 0)
                return es_error_set(err, ES_ERR_INVALID,
                                    "%s: action: expected {\"type\": \"expire\"}", where);
        return 0;
}

static int check_rules(json_t *rules, struct es_error *err)
{
        json_int_t highest = 0;
        size_t i, j;
        json_t *rule;
        int r;

        if (!json_is_array(rules) || json_array_size(rules) == 0)
                return es_error_set(err, ES_ERR_INVALID, "rules: expected a non-empty list");

        json_array_foreach (rules, i, rule) {
                char where[64];
                json_int_t priority;

                snprintf(where, sizeof(where), "rules[%zu]", i);
                if ((r = check_rule(rule, where, err)) < 0)
                        return r;

                priority = json_integer_value(json_object_get(rule, "rulePriority"));
                for (j = 0; j < i; j++)
                        if (json_integer_value(json_object_get(json_array_get(rules, j),
                                                               "rulePriority")) == priority)
                                return es_error_set(err, ES_ERR_INVALID,
                                                    "%s: rulePriority: %lld is also the "
                                                    "priority of rules[%zu]",
                                                    where, (long long)priority, j);
                if (priority > highest)
                        highest = priority;
        }
        json_array_foreach (rules, i, rule) {
                json_int_t priority = json_integer_value(json_object_get(rule, "rulePriority"));
                const char *status = json_string_value(
                    json_object_get(json_object_get(rule, "selection"), "tagStatus"));

                if (strcmp(status, "any") == 0 && priority != highest)
                        return es_error_set(err, ES_ERR_INVALID,
                                            "rules[%zu]: a rule with tagStatus \"any\" must have "
                                            "the highest rulePriority (%lld), not %lld",
                                            i, (long long)highest, (long long)priority);
        }
        return 0;
}

int es_lifecycle_policy_validate(const char *text, struct es_error *err)
{
        size_t len = strlen(text);
        json_error_t parse_error;
        json_t *root;
        int r;

        if (len < ES_LIFECYCLE_POLICY_MIN_LENGTH || len > ES_LIFECYCLE_POLICY_MAX_LENGTH)
                return es_error_set(err, ES_ERR_INVALID,
                                    "the policy text has %zu characters; ECR accepts %d to %d", len,
                                    ES_LIFECYCLE_POLICY_MIN_LENGTH, ES_LIFECYCLE_POLICY_MAX_LENGTH);

        root = json_loads(text, 0, &parse_error);
        if (root == NULL)
                return es_error_set(err, ES_ERR_INVALID, "invalid JSON at line %d column %d: %s",
                                    parse_error.line, parse_error.column, parse_error.text);
        if (!json_is_object(root)) {
                r = es_error_set(err, ES_ERR_INVALID, "expected a JSON object with \"rules\"");
        } else {
                static const char *const keys[] = {"rules", NULL};

                r = check_keys(root, keys, "policy", err);
                if (r >= 0)
                        r = check_rules(json_object_get(root, "rules"), err);
        }
        json_decref(root);
        return r;
}
