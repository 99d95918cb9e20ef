"""Request validation from botocore's own GameLift service model.

botocore checks only required members and minimums on the client side; the service
checks the rest (lengths, patterns, ranges, list sizes, enums). The emulator walks the
same model so that it rejects what AWS rejects, with AWS's wording:

    1 validation error detected: Value 'x..x' at 'ticketId' failed to satisfy
    constraint: Member must have length less than or equal to 128

Raises:

* ``ValidationError`` (400 ``InvalidRequestException``, GameLift's code for this): a
  constraint of the model is not met (missing required member, length, pattern, range,
  list size, enum). Every violation is reported in one message, as AWS does.
* ``SerializationError`` (400 ``SerializationException``): a value has the wrong JSON
  type (a string where the model says integer, an object where it says list...), a
  number does not fit its type (int32 for integer, int64 for long, finite double), or
  a list or map holds a null.

The validated parameters are rebuilt as the backend should see them, the way AWS's
deserializers do: members the model does not know, and null members, are dropped at
every level, and integral floats of integer members become ints (``5.0`` -> ``5``).

Patterns in the model are written for Java (AWS's services run on it); the few that
spell astral characters as UTF-16 surrogate pairs are translated for Python's ``re``,
and all are compiled once, when the validator is built. Like Smithy, patterns are not
implicitly anchored (``re.search``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape

from gamelift_emulator.exceptions import InvalidRequestException, SerializationException

# Java spells U+10000..U+10FFFF as a range of surrogate pairs; Python needs \U escapes.
_SURROGATE_RANGE = re.compile(r"\\uD800\\uDC00-\\uDBFF\\uDFFF", re.IGNORECASE)
_MAX_REPORTED_VALUE = 256
_INTEGER_BOUNDS = {"integer": 2**31, "long": 2**63}


class ValidationError(InvalidRequestException):
    """One or more members fail the model's constraints.

    GameLift answers these as InvalidRequestException (see ``exceptions``), with the
    "N validation error(s) detected" message of AWS's front end.
    """

    def __init__(self, violations: list[str]) -> None:
        count = len(violations)
        noun = "error" if count == 1 else "errors"
        super().__init__(f"{count} validation {noun} detected: " + "; ".join(violations))
        self.violations = violations


class SerializationError(SerializationException):
    """The body is not JSON of the shape the operation expects."""


def _python_pattern(pattern: str) -> str:
    return _SURROGATE_RANGE.sub(r"\\U00010000-\\U0010FFFF", pattern)


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _render(value: object) -> str:
    """Render a value the way AWS's messages quote it (Java's toString), truncated."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list):
        parts: list[str] = []
        size = 0
        for item in value:
            parts.append(_text(item))
            size += len(parts[-1]) + 2
            if size > _MAX_REPORTED_VALUE:
                break
        text = "[" + ", ".join(parts) + "]"
    else:
        text = _text(value)
    if len(text) > _MAX_REPORTED_VALUE:
        text = text[:_MAX_REPORTED_VALUE] + "..."
    return f"'{text}'"


def _text(value: object) -> str:
    """``str(value)``, but a structure nested too deeply to print is elided."""
    try:
        return str(value)
    except RecursionError:
        return "..."


class RequestValidator:
    """Validates request parameters of GameLift operations against a service model."""

    def __init__(self, service_model: ServiceModel | None = None) -> None:
        self.model = service_model or _gamelift_model()
        self.operations: frozenset[str] = frozenset(self.model.operation_names)
        self._patterns: dict[str, re.Pattern[str]] = {}
        for name in self.model.shape_names:
            pattern = self.model.shape_for(name).metadata.get("pattern")
            if pattern and pattern not in self._patterns:
                self._patterns[pattern] = re.compile(_python_pattern(pattern))

    def validate(self, operation: str, params: object) -> dict[str, Any]:
        """Validate ``params`` for ``operation``; return the members the model knows.

        Members the model does not know are dropped, as AWS ignores them.
        """
        shape = self.model.operation_model(operation).input_shape
        if shape is None:
            return {}
        if not isinstance(params, dict):
            raise SerializationError(
                f"Start of structure or map found where not expected: expected an object "
                f"for {operation}'s input, got {type(params).__name__}"
            )
        violations: list[str] = []
        result = self._structure(shape, params, "", violations)
        if violations:
            raise ValidationError(violations)
        return result

    def _check(self, shape: Shape, value: object, path: str, violations: list[str]) -> Any:
        """Check one non-null value; return it as the backend should see it."""
        kind = shape.type_name
        if isinstance(shape, StructureShape):
            if not isinstance(value, dict):
                raise SerializationError(f"Expected an object at '{path}'")
            return self._structure(shape, value, path + ".", violations)
        if isinstance(shape, ListShape):
            if not isinstance(value, list):
                raise SerializationError(f"Expected a list at '{path}'")
            self._size(shape, value, len(value), path, violations)
            return [
                self._item(shape.member, item, f"{path}.{index}.member", violations)
                for index, item in enumerate(value, start=1)
            ]
        if isinstance(shape, MapShape):
            if not isinstance(value, dict):
                raise SerializationError(f"Expected an object (map) at '{path}'")
            self._size(shape, value, len(value), path, violations)
            return {
                self._check(shape.key, key, f"{path}.{key}.key", violations): self._item(
                    shape.value, item, f"{path}.{key}.value", violations
                )
                for key, item in value.items()
            }
        if kind == "string":
            if not isinstance(value, str):
                raise SerializationError(
                    f"Expected a string at '{path}', got {type(value).__name__}"
                )
            self._string(shape, value, path, violations)
        elif kind in ("integer", "long"):
            if isinstance(value, bool) or not (
                isinstance(value, int) or (isinstance(value, float) and value.is_integer())
            ):
                raise SerializationError(
                    f"Expected an integer at '{path}', got {type(value).__name__}"
                )
            number = int(value)
            bound = _INTEGER_BOUNDS[kind]
            if not -bound <= number < bound:
                raise SerializationError(f"Numeric value at '{path}' is out of range of {kind}")
            self._range(shape, number, path, violations)
            return number
        elif kind in ("float", "double"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SerializationError(
                    f"Expected a number at '{path}', got {type(value).__name__}"
                )
            if isinstance(value, int) and abs(value) > 2**1023:
                raise SerializationError(f"Numeric value at '{path}' is out of range of {kind}")
            self._range(shape, value, path, violations)
        elif kind == "boolean":
            if not isinstance(value, bool):
                raise SerializationError(
                    f"Expected a boolean at '{path}', got {type(value).__name__}"
                )
        elif kind == "timestamp":
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise SerializationError(f"Expected a timestamp at '{path}'")
        elif kind == "blob" and not isinstance(value, str):
            raise SerializationError(f"Expected base64 text (blob) at '{path}'")
        return value

    def _item(self, shape: Shape, value: object, path: str, violations: list[str]) -> Any:
        if value is None:
            raise SerializationError(f"Null value in a list or map at '{path}'")
        return self._check(shape, value, path, violations)

    def _structure(
        self, shape: StructureShape, value: dict[str, Any], prefix: str, violations: list[str]
    ) -> dict[str, Any]:
        for name in shape.required_members:
            if value.get(name) is None:
                violations.append(
                    f"Value null at '{prefix}{_lower_camel(name)}' failed to satisfy "
                    "constraint: Member must not be null"
                )
        return {
            name: self._check(member, value[name], prefix + _lower_camel(name), violations)
            for name, member in shape.members.items()
            if value.get(name) is not None
        }

    def _string(self, shape: Shape, value: str, path: str, violations: list[str]) -> None:
        self._size(shape, value, len(value), path, violations)
        enum = shape.enum
        if enum and value not in enum:
            violations.append(
                f"Value {_render(value)} at '{path}' failed to satisfy constraint: Member "
                f"must satisfy enum value set: [{', '.join(enum)}]"
            )
        pattern = shape.metadata.get("pattern")
        if pattern and not self._patterns[pattern].search(value):
            violations.append(
                f"Value {_render(value)} at '{path}' failed to satisfy constraint: Member "
                f"must satisfy regular expression pattern: {pattern}"
            )

    @staticmethod
    def _size(shape: Shape, value: object, size: int, path: str, violations: list[str]) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and size < low:
            violations.append(
                f"Value {_render(value)} at '{path}' failed to satisfy constraint: Member "
                f"must have length greater than or equal to {low}"
            )
        if high is not None and size > high:
            violations.append(
                f"Value {_render(value)} at '{path}' failed to satisfy constraint: Member "
                f"must have length less than or equal to {high}"
            )

    @staticmethod
    def _range(shape: Shape, value: float, path: str, violations: list[str]) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        shown = _render(int(value) if shape.type_name in ("integer", "long") else value)
        if low is not None and value < low:
            violations.append(
                f"Value {shown} at '{path}' failed to satisfy constraint: Member must have "
                f"value greater than or equal to {low}"
            )
        if high is not None and value > high:
            violations.append(
                f"Value {shown} at '{path}' failed to satisfy constraint: Member must have "
                f"value less than or equal to {high}"
            )


@functools.cache
def _gamelift_model() -> ServiceModel:
    model: ServiceModel = botocore.session.get_session().get_service_model("gamelift")
    return model


@functools.cache
def default_validator() -> RequestValidator:
    """The process-wide validator (building one compiles every pattern of the model)."""
    return RequestValidator()


def validate(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Validate with the process-wide validator; see ``RequestValidator.validate``."""
    return default_validator().validate(operation, params)
