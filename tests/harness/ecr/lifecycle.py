# SPDX-License-Identifier: Apache-2.0
"""Check ECR lifecycle policy documents the way PutLifecyclePolicy does.

The rules follow "Lifecycle policy properties in Amazon ECR" in the Amazon
ECR User Guide. `rules` is a non-empty list of objects with a unique positive
`rulePriority`, an optional `description`, a `selection` and an `action` of
type `expire`. A rule with tagStatus `any` must have the highest priority.
A selection has `tagStatus` tagged, untagged or any. A tagged selection needs
`tagPrefixList` or `tagPatternList`, an untagged or any selection has
neither, and a tag pattern has at most four `*` wildcards. `countType`
imageCountMoreThan takes no `countUnit`, sinceImagePushed needs `countUnit`
days, and `countNumber` is a positive integer. Unknown keys are rejected.
"""

import json

RULE_KEYS = {"rulePriority", "description", "selection", "action"}
SELECTION_KEYS = {"tagStatus", "tagPrefixList", "tagPatternList", "countType", "countUnit",
                  "countNumber"}
TAG_STATUSES = ("tagged", "untagged", "any")
MAX_PATTERN_WILDCARDS = 4
COUNT_TYPES = ("imageCountMoreThan", "sinceImagePushed")


class PolicyError(Exception):
    """A lifecycle policy document that ECR would reject."""


def _is_positive_integer(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _check_keys(document, allowed, where):
    extra = sorted(set(document) - allowed)
    if extra:
        raise PolicyError(f"extraneous key [{extra[0]}] is not permitted in {where}")


def _check_tag_list(selection, key, where):
    values = selection[key]
    if not isinstance(values, list) or not values:
        raise PolicyError(f"{where}.selection.{key} must be a non-empty list of strings")
    for value in values:
        if not isinstance(value, str) or not value:
            raise PolicyError(f"{where}.selection.{key} must contain only non-empty strings")


def _check_selection(selection, where):
    if not isinstance(selection, dict):
        raise PolicyError(f"{where}.selection must be an object")
    _check_keys(selection, SELECTION_KEYS, f"{where}.selection")

    tag_status = selection.get("tagStatus")
    if tag_status not in TAG_STATUSES:
        raise PolicyError(f"{where}.selection.tagStatus must be one of {', '.join(TAG_STATUSES)}, "
                          f"not {tag_status!r}")
    tag_lists = [key for key in ("tagPrefixList", "tagPatternList") if key in selection]
    if tag_status == "tagged":
        if not tag_lists:
            raise PolicyError(f"{where}.selection with tagStatus tagged needs tagPrefixList "
                              "or tagPatternList")
        for key in tag_lists:
            _check_tag_list(selection, key, where)
        for pattern in selection.get("tagPatternList", []):
            if pattern.count("*") > MAX_PATTERN_WILDCARDS:
                raise PolicyError(f"{where}.selection.tagPatternList entry '{pattern}' has more "
                                  f"than {MAX_PATTERN_WILDCARDS} wildcards")
    elif tag_lists:
        raise PolicyError(f"{where}.selection.{tag_lists[0]} is only allowed with "
                          "tagStatus tagged")

    count_type = selection.get("countType")
    if count_type not in COUNT_TYPES:
        raise PolicyError(f"{where}.selection.countType must be one of {', '.join(COUNT_TYPES)}, "
                          f"not {count_type!r}")
    if count_type == "sinceImagePushed" and selection.get("countUnit") != "days":
        raise PolicyError(f"{where}.selection.countUnit must be 'days' with countType "
                          "sinceImagePushed")
    if count_type == "imageCountMoreThan" and "countUnit" in selection:
        raise PolicyError(f"{where}.selection.countUnit is not allowed with countType "
                          "imageCountMoreThan")
    if not _is_positive_integer(selection.get("countNumber")):
        raise PolicyError(f"{where}.selection.countNumber must be an integer of at least 1")


def check_policy(text):
    """Raise PolicyError if text is not a lifecycle policy ECR accepts."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PolicyError(f"the policy is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise PolicyError("the policy must be a JSON object")
    _check_keys(document, {"rules"}, "the policy")
    rules = document.get("rules")
    if not isinstance(rules, list) or not rules:
        raise PolicyError("the policy needs a non-empty 'rules' list")

    priorities = set()
    for index, rule in enumerate(rules):
        where = f"rules[{index}]"
        if not isinstance(rule, dict):
            raise PolicyError(f"{where} must be an object")
        _check_keys(rule, RULE_KEYS, where)
        priority = rule.get("rulePriority")
        if not _is_positive_integer(priority):
            raise PolicyError(f"{where}.rulePriority must be an integer of at least 1")
        if priority in priorities:
            raise PolicyError(f"{where}.rulePriority {priority} is used by another rule")
        priorities.add(priority)
        if "description" in rule and not isinstance(rule["description"], str):
            raise PolicyError(f"{where}.description must be a string")
        _check_selection(rule.get("selection"), where)
        action = rule.get("action")
        if action != {"type": "expire"}:
            raise PolicyError(f"{where}.action must be {{\"type\": \"expire\"}}")

    any_priorities = [rule["rulePriority"] for rule in rules
                      if rule["selection"]["tagStatus"] == "any"]
    if any_priorities and max(any_priorities) < max(priorities):
        raise PolicyError("a rule with tagStatus any must have the highest rulePriority")
