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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Plan:
    """What validating one shape needs from the model, read once per shape."""

    kind: str  # "structure", "list", "map" or the scalar's type name
    low: float | None = None  # min (length, size or value)
    high: float | None = None  # max
    enum: tuple[str, ...] = ()
    pattern: str | None = None
    compiled: re.Pattern[str] | None = None
    required: tuple[tuple[str, str], ...] = ()  # (member, its name in messages)
    members: tuple[tuple[str, str, Shape], ...] = ()  # (member, message name, shape)


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
        self._inputs: dict[str, StructureShape | None] = {}
        self._plans: dict[int, tuple[Shape, _Plan]] = {}  # by id(shape); the shape kept

    def validate(self, operation: str, params: object) -> dict[str, Any]:
        """Validate ``params`` for ``operation``; return the members the model knows.

        Members the model does not know are dropped, as AWS ignores them.
        """
        try:
            shape = self._inputs[operation]
        except KeyError:
            shape = self._inputs[operation] = self.model.operation_model(operation).input_shape
        if shape is None:
            return {}
        if not isinstance(params, dict):
            raise SerializationError(
                f"Start of structure or map found where not expected: expected an object "
                f"for {operation}'s input, got {type(params).__name__}"
            )
        violations: list[str] = []
        result = self._structure(self._plan(shape), params, "", violations)
        if violations:
            raise ValidationError(violations)
        return result

    def _plan(self, shape: Shape) -> _Plan:
        known = self._plans.get(id(shape))
        if known is not None:
            return known[1]
        metadata = shape.metadata
        pattern = metadata.get("pattern")
        plan = _Plan(
            kind=shape.type_name,
            low=metadata.get("min"),
            high=metadata.get("max"),
            enum=tuple(metadata.get("enum", ())),
            pattern=pattern,
            compiled=self._patterns[pattern] if pattern else None,
            required=tuple((n, _lower_camel(n)) for n in metadata.get("required", ())),
            members=tuple((n, _lower_camel(n), m) for n, m in shape.members.items())
            if isinstance(shape, StructureShape)
            else (),
        )
        self._plans[id(shape)] = (shape, plan)
        return plan

    def _check(self, shape: Shape, value: object, path: str, violations: list[str]) -> Any:
        """Check one non-null value; return it as the backend should see it."""
        plan = self._plan(shape)
        kind = plan.kind
        if kind == "structure":
            if not isinstance(value, dict):
                raise SerializationError(f"Expected an object at '{path}'")
            return self._structure(plan, value, path + ".", violations)
        if kind == "list":
            assert isinstance(shape, ListShape)
            if not isinstance(value, list):
                raise SerializationError(f"Expected a list at '{path}'")
            self._size(plan, value, len(value), path, violations)
            return [
                self._item(shape.member, item, f"{path}.{index}.member", violations)
                for index, item in enumerate(value, start=1)
            ]
        if kind == "map":
            assert isinstance(shape, MapShape)
            if not isinstance(value, dict):
                raise SerializationError(f"Expected an object (map) at '{path}'")
            self._size(plan, value, len(value), path, violations)
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
            self._string(plan, value, path, violations)
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
            self._range(plan, number, path, violations)
            return number
        elif kind in ("float", "double"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SerializationError(
                    f"Expected a number at '{path}', got {type(value).__name__}"
                )
            if isinstance(value, int) and abs(value) > 2**1023:
                raise SerializationError(f"Numeric value at '{path}' is out of range of {kind}")
            self._range(plan, value, path, violations)
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
        self, plan: _Plan, value: dict[str, Any], prefix: str, violations: list[str]
    ) -> dict[str, Any]:
        for name, shown in plan.required:
            if value.get(name) is None:
                violations.append(
                    f"Value null at '{prefix}{shown}' failed to satisfy "
                    "constraint: Member must not be null"
                )
        return {
            name: self._check(member, value[name], prefix + shown, violations)
            for name, shown, member in plan.members
            if value.get(name) is not None
        }

    def _string(self, plan: _Plan, value: str, path: str, violations: list[str]) -> None:
        self._size(plan, value, len(value), path, violations)
        if plan.enum and value not in plan.enum:
            violations.append(
                f"Value {_render(value)} at '{path}' failed to satisfy constraint: Member "
                f"must satisfy enum value set: [{', '.join(plan.enum)}]"
            )
        if plan.compiled is not None and not plan.compiled.search(value):
            violations.append(
                f"Value {_render(value)} at '{path}' failed to satisfy constraint: Member "
                f"must satisfy regular expression pattern: {plan.pattern}"
            )

    @staticmethod
    def _size(plan: _Plan, value: object, size: int, path: str, violations: list[str]) -> None:
        low, high = plan.low, plan.high
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
    def _range(plan: _Plan, value: float, path: str, violations: list[str]) -> None:
        low, high = plan.low, plan.high
        shown = _render(int(value) if plan.kind in ("integer", "long") else value)
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
