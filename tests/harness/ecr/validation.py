# SPDX-License-Identifier: Apache-2.0
"""Check request parameters against botocore's service models.

botocore's ParamValidator checks required members, types and minimum
lengths and values. It does not check maximums, enum values or patterns
(botocore 1.29), which the real services enforce, so ConstraintChecker walks
the same shapes for those. Both kinds of failure become
InvalidParameterException in the emulator.
"""

import functools
import re

import botocore.session
from botocore.validate import ParamValidator

REDACTED = "<redacted>"


@functools.lru_cache(maxsize=None)
def service_model(service_name):
    """Return botocore's model of a service ("ecr", "secretsmanager")."""
    return botocore.session.get_session().get_service_model(service_name)


@functools.lru_cache(maxsize=None)
def _compiled_pattern(pattern):
    try:
        return re.compile(pattern)
    except re.error:
        # NOTE: a model pattern that Python's re cannot compile (Java-only
        # syntax) is not checked.
        return None


def _describe(value):
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


class ConstraintChecker:
    """Collect the model constraints that botocore's ParamValidator skips."""

    def __init__(self):
        self.errors = []

    def check(self, value, shape, path):
        checker = getattr(self, f"_check_{shape.type_name}", None)
        if checker is not None:
            checker(value, shape, path)

    def _fail(self, path, value, constraint):
        self.errors.append(f"Invalid parameter at '{path}' failed to satisfy constraint: "
                           f"'{constraint}' (value: {_describe(value)})")

    def _check_structure(self, value, shape, path):
        for name, member in shape.members.items():
            if name in value:
                self.check(value[name], member, f"{path}.{name}" if path else name)

    def _check_list(self, value, shape, path):
        maximum = shape.metadata.get("max")
        if maximum is not None and len(value) > maximum:
            self._fail(path, f"{len(value)} items",
                       f"Member must have length less than or equal to {maximum}")
        for index, item in enumerate(value):
            self.check(item, shape.member, f"{path}[{index}]")

    def _check_map(self, value, shape, path):
        maximum = shape.metadata.get("max")
        if maximum is not None and len(value) > maximum:
            self._fail(path, f"{len(value)} entries",
                       f"Member must have length less than or equal to {maximum}")
        for key, item in value.items():
            self.check(key, shape.key, f"{path} (key: {key})")
            self.check(item, shape.value, f"{path}.{key}")

    def _check_string(self, value, shape, path):
        maximum = shape.metadata.get("max")
        if maximum is not None and len(value) > maximum:
            self._fail(path, value, f"Member must have length less than or equal to {maximum}")
        if shape.enum and value not in shape.enum:
            allowed = ", ".join(shape.enum)
            self._fail(path, value, f"Member must satisfy enum value set: [{allowed}]")
        pattern = shape.metadata.get("pattern")
        compiled = _compiled_pattern(pattern) if pattern else None
        if compiled is not None and compiled.fullmatch(value) is None:
            self._fail(path, value, f"Member must satisfy regular expression pattern: {pattern}")

    def _check_integer(self, value, shape, path):
        maximum = shape.metadata.get("max")
        if maximum is not None and value > maximum:
            self._fail(path, value, f"Member must have value less than or equal to {maximum}")

    _check_long = _check_integer


def validate_input(service_name, operation_name, params):
    """Return the list of problems with params for one operation (empty if valid)."""
    shape = service_model(service_name).operation_model(operation_name).input_shape
    if shape is None:
        return [] if not params else ["the operation takes no parameters"]
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        return [line for line in report.generate_report().splitlines() if line.strip()]
    checker = ConstraintChecker()
    checker.check(params, shape, "")
    return checker.errors


def validate_output(service_name, operation_name, result):
    """Return botocore's findings on a response's members and types ("" if none).

    Length and range findings are left out: the ECR model gives ListImages'
    imageIds a length of 1 to 100, but the service returns an empty list for
    an empty repository and up to 1000 entries per page.
    """
    shape = service_model(service_name).operation_model(operation_name).output_shape
    if shape is None:
        return ""
    report = ParamValidator().validate(result, shape)
    if not report.has_errors():
        return ""
    findings = [line for line in report.generate_report().splitlines()
                if line.strip() and not line.startswith(("Invalid length", "Invalid range"))]
    return "\n".join(findings)


def redact(value, shape):
    """Return a copy of value with members the model marks sensitive replaced."""
    if shape is None:
        return value
    if shape.metadata.get("sensitive"):
        return REDACTED
    if shape.type_name == "structure" and isinstance(value, dict):
        return {name: redact(item, shape.members.get(name)) for name, item in value.items()}
    if shape.type_name == "list" and isinstance(value, list):
        return [redact(item, shape.member) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {key: redact(item, shape.value) for key, item in value.items()}
    return value


def redact_input(service_name, operation_name, params):
    shape = service_model(service_name).operation_model(operation_name).input_shape
    return redact(params, shape)
