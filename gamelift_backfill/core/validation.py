"""Offline input validation driven by botocore's GameLift service model (no AWS call).

botocore itself checks only required members and minimums on the client; lengths,
patterns and list limits are the service's. Checking them here, from the same model,
lets preview (resource Check) and the CLI reject bad input before anything runs.

:func:`check_value` is generic: any value against any botocore shape, returning
``Failure(field, reason)`` with the path as the user wrote it
(``players[0].PlayerAttributes.skill``). :func:`validate_inputs` maps our snake_case
inputs onto shapes and adds the rules the model cannot express (endpoint URL, region,
timeouts). Callers decide how to present failures (``errors.InputError(failures)``).
Values for which ``is_unknown`` is true (Pulumi's preview sentinel) pass unchecked.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore.exceptions import InvalidRegionError
from botocore.model import ListShape, MapShape, Shape, StructureShape
from botocore.utils import validate_region_name

from .errors import Failure

Unknown = Callable[[Any], bool]

MAX_STOP_TIMEOUT_SECONDS = 24 * 3600
MAX_CONCURRENCY = 100


def _never(_: Any) -> bool:
    return False


@cache
def _service_model() -> Any:
    return botocore.session.get_session().get_service_model("gamelift")


def member_shape(operation: str, member: str) -> Shape:
    """The shape of ``member`` in ``operation``'s input."""
    shape: Shape = _service_model().operation_model(operation).input_shape.members[member]
    return shape


def _is_whole(value: float) -> bool:
    # An int is whole even when too large for a float (float(10**400) raises).
    return isinstance(value, int) or (math.isfinite(value) and value == int(value))


def check_value(value: Any, shape: Shape, path: str, is_unknown: Unknown = _never) -> list[Failure]:
    """Check ``value`` against ``shape`` recursively; one Failure per problem found."""
    if is_unknown(value):
        return []
    kind = shape.type_name
    meta = shape.metadata
    if kind == "string":
        if not isinstance(value, str):
            return [Failure(path, "must be a string")]
        failures = []
        if "min" in meta and len(value) < meta["min"]:
            failures.append(Failure(path, f"must be at least {meta['min']} characters long"))
        if "max" in meta and len(value) > meta["max"]:
            failures.append(Failure(path, f"must be at most {meta['max']} characters long"))
        if "pattern" in meta and re.search(meta["pattern"], value) is None:
            failures.append(Failure(path, f"must match the pattern {meta['pattern']}"))
        if shape.enum and value not in shape.enum:
            failures.append(Failure(path, f"must be one of {', '.join(shape.enum)}"))
        return failures
    if kind in ("integer", "long", "double", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return [Failure(path, "must be a number")]
        if kind in ("integer", "long") and not _is_whole(value):
            return [Failure(path, "must be a whole number")]
        if "min" in meta and value < meta["min"]:
            return [Failure(path, f"must be at least {meta['min']}")]
        if "max" in meta and value > meta["max"]:
            return [Failure(path, f"must be at most {meta['max']}")]
        return []
    if kind == "boolean":
        return [] if isinstance(value, bool) else [Failure(path, "must be true or false")]
    if isinstance(shape, ListShape):
        if not isinstance(value, list | tuple):
            return [Failure(path, "must be a list")]
        failures = _size(len(value), meta, path, "item")
        for i, item in enumerate(value):
            failures += check_value(item, shape.member, f"{path}[{i}]", is_unknown)
        return failures
    if isinstance(shape, MapShape):
        if not isinstance(value, Mapping):
            return [Failure(path, "must be a map")]
        failures = _size(len(value), meta, path, "entry")
        for key, item in value.items():
            failures += check_value(key, shape.key, f"{path} key {key!r}", is_unknown)
            failures += check_value(item, shape.value, f"{path}.{key}", is_unknown)
        return failures
    if isinstance(shape, StructureShape):
        return _check_structure(value, shape, path, is_unknown)
    return []


def _size(length: int, meta: Mapping[str, Any], path: str, noun: str) -> list[Failure]:
    if "min" in meta and length < meta["min"]:
        return [Failure(path, f"needs at least {meta['min']} {noun}(s)")]
    if "max" in meta and length > meta["max"]:
        return [Failure(path, f"takes at most {meta['max']} {noun}(s)")]
    return []


def _check_structure(
    value: Any, shape: StructureShape, path: str, is_unknown: Unknown
) -> list[Failure]:
    if not isinstance(value, Mapping):
        return [Failure(path, f"must be an object with {', '.join(shape.members)}")]
    failures = [
        Failure(f"{path}.{name}", "is required")
        for name in shape.required_members
        if value.get(name) is None
    ]
    for name, item in value.items():
        if name not in shape.members:
            failures.append(
                Failure(f"{path}.{name}", f"unknown; expected {', '.join(shape.members)}")
            )
        elif item is not None:
            failures += check_value(item, shape.members[name], f"{path}.{name}", is_unknown)
    if shape.metadata.get("union") or shape.name == "AttributeValue":
        # AttributeValue takes exactly one of S, N, SL, SDM (a union in all but name).
        given = [k for k, v in value.items() if v is not None]
        if len(given) != 1:
            failures.append(Failure(path, f"needs exactly one of {', '.join(shape.members)}"))
    return failures


def fleet_shape(fleet: str) -> Shape:
    """DescribeGameSessions' AliasId shape for alias IDs/ARNs, FleetId's otherwise."""
    is_alias = fleet.startswith("alias-") or (fleet.startswith("arn:") and ":alias/" in fleet)
    return member_shape("DescribeGameSessions", "AliasId" if is_alias else "FleetId")


# Input name -> (operation, member) whose shape the value must satisfy.
INPUT_SHAPES: dict[str, tuple[str, str]] = {
    "configuration_name": ("StartMatchBackfill", "ConfigurationName"),
    "game_session_arn": ("StartMatchBackfill", "GameSessionArn"),
    "players": ("StartMatchBackfill", "Players"),
    "ticket_id": ("StopMatchmaking", "TicketId"),
}
TICKET_ID_LISTS = ("ticket_ids",)


def check_endpoint_url(value: Any, field: str = "endpoint_url") -> list[Failure]:
    """``https://`` anywhere, or plain ``http://`` only to a loopback host.

    Signed requests must never cross a network in clear text.
    """
    if not isinstance(value, str):
        return [Failure(field, "must be a string URL")]
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [Failure(field, "must be an https:// URL (or http:// to a loopback host)")]
    if "@" in parts.netloc or "\\" in value or any(c.isspace() for c in value):
        # user:password@ is a credential in an input; and urllib3, which sends the request,
        # ends the host at a backslash where urlsplit does not (http://evil\@127.0.0.1).
        return [Failure(field, "must not contain user info (@), backslashes or whitespace")]
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return [Failure(field, "has an invalid port")]
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return [
            Failure(
                field,
                "plain http:// is allowed only to 127.0.0.0/8, ::1 or localhost; use https://",
            )
        ]
    return []


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_region(value: Any, field: str = "region") -> list[Failure]:
    """A syntactically valid region name (botocore's own rule)."""
    if not isinstance(value, str):
        return [Failure(field, "must be a string such as us-east-1")]
    try:
        validate_region_name(value)
    except InvalidRegionError:
        return [Failure(field, f"{value!r} is not a valid region name (e.g. us-east-1)")]
    return []


def _is_number(value: float) -> bool:
    """Finite; any int is (math.isfinite raises on one too large for a float)."""
    return isinstance(value, int) or math.isfinite(value)


def normalize_number(
    value: Any, field: str, *, minimum: float, maximum: float, integer: bool = False
) -> tuple[float | int | None, list[Failure]]:
    """A positive number within bounds; whole floats (gRPC turns 60 into 60.0) become ints."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not _is_number(value):
        return None, [Failure(field, "must be a number")]
    if integer and not _is_whole(value):
        return None, [Failure(field, "must be a whole number")]
    if not minimum <= value <= maximum:
        return None, [Failure(field, f"must be between {minimum:g} and {maximum:g}")]
    return (int(value) if _is_whole(float(value)) else float(value)), []


def validate_inputs(
    inputs: Mapping[str, Any], is_unknown: Unknown = _never
) -> tuple[dict[str, Any], list[Failure]]:
    """Check every known input; return the inputs normalised and the failures.

    Handles ``configuration_name``, ``game_session_arn``, ``players``, ``ticket_id``,
    ``ticket_ids``, ``fleet_ids``, ``region``, ``endpoint_url``, ``stop_timeout_seconds``,
    ``max_concurrency``; other keys pass through untouched. Absent/None inputs are skipped
    (which are required is the caller's rule).
    """
    out = dict(inputs)
    failures: list[Failure] = []
    for name, value in inputs.items():
        if value is None or is_unknown(value):
            continue
        if name in INPUT_SHAPES:
            failures += check_value(value, member_shape(*INPUT_SHAPES[name]), name, is_unknown)
            if name == "ticket_id" and value == "":
                failures.append(Failure(name, "must not be empty"))
            if name == "players" and isinstance(value, list):
                out[name] = normalize_players(value, is_unknown)
        elif name in ("ticket_ids", "fleet_ids"):
            failures += _check_id_list(name, value, is_unknown)
        elif name == "region":
            failures += check_region(value)
        elif name == "endpoint_url":
            failures += check_endpoint_url(value)
        elif name == "stop_timeout_seconds":
            out[name], more = normalize_number(
                value, name, minimum=1, maximum=MAX_STOP_TIMEOUT_SECONDS
            )
            failures += more
        elif name == "max_concurrency":
            out[name], more = normalize_number(
                value, name, minimum=1, maximum=MAX_CONCURRENCY, integer=True
            )
            failures += more
    return out, failures


def _check_id_list(name: str, value: Any, is_unknown: Unknown) -> list[Failure]:
    if not isinstance(value, list | tuple):
        return [Failure(name, "must be a list")]
    failures: list[Failure] = []
    for i, item in enumerate(value):
        path = f"{name}[{i}]"
        if is_unknown(item):
            continue
        if name == "fleet_ids":
            if not isinstance(item, str):
                failures.append(Failure(path, "must be a string"))
                continue
            failures += check_value(item, fleet_shape(item), path, is_unknown)
        else:
            failures += check_value(item, member_shape("StopMatchmaking", "TicketId"), path)
            if item == "":
                failures.append(Failure(path, "must not be empty"))
    return failures


def normalize_players(players: list[Any], is_unknown: Unknown = _never) -> list[Any]:
    """Players with LatencyInMs values as ints (they arrive as floats over gRPC)."""
    out: list[Any] = []
    for player in players:
        if isinstance(player, Mapping) and isinstance(player.get("LatencyInMs"), Mapping):
            latency = {
                k: int(v) if isinstance(v, float) and not is_unknown(v) and _is_whole(v) else v
                for k, v in player["LatencyInMs"].items()
            }
            player = {**player, "LatencyInMs": latency}
        out.append(player)
    return out
