"""Property bags across the wire: protobuf Structs to plain dicts and back, camelCase names.

The names are the declaration's (``gamelift_backfill.declaration``): a property added
there is spelled in camelCase here too. The plugin accepts secrets (Configure answers
``acceptSecrets``), so secret values arrive wrapped in the engine's secret signature
object: they are unwrapped on the way in, and the properties the schema marks secret are
wrapped again on the way out, so the state keeps them secret whatever the program's
language did.
Unknown values (preview) stay the SDK's sentinel string, which the core's unknown handling
recognises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc

from gamelift_backfill.declaration import RESOURCES, ResourceDeclaration, snake_names
from gamelift_backfill.declaration import camel as camel

SIG_KEY: str = rpc._special_sig_key
SECRET_SIG: str = rpc._special_secret_sig
UNKNOWN: str = rpc.UNKNOWN


def snake(name: str) -> str:
    """``fleetIds`` -> ``fleet_ids``."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def camel_path(field: str) -> str:
    """A failure's field (``players[0].PlayerId``) with its first segment in camelCase."""
    match = re.match(r"[A-Za-z_]+", field)
    if not match:
        return field
    return camel(match.group(0)) + field[match.end() :]


def unwrap(value: Any) -> Any:
    """A value without the engine's secret wrappers (at any depth)."""
    if isinstance(value, Mapping):
        if value.get(SIG_KEY) == SECRET_SIG:
            return unwrap(value.get("value"))
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def is_secret(value: Any) -> bool:
    """Whether ``value`` holds a secret at any depth."""
    if isinstance(value, Mapping):
        return value.get(SIG_KEY) == SECRET_SIG or any(is_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(is_secret(v) for v in value)
    return False


def secret_keys(struct: struct_pb2.Struct | None) -> set[str]:
    """The snake_case keys of ``struct`` whose values hold a secret. The engine does not
    re-mark outputs secret for a plugin that accepts secrets (it does so only for plugins
    that do not): the plugin must send them back secret itself."""
    if struct is None:
        return set()
    bag = json_format.MessageToDict(struct)
    return {snake(key) for key, value in bag.items() if is_secret(value)}


def from_struct(struct: struct_pb2.Struct | None) -> dict[str, Any]:
    """A property bag as snake_case keys and plain values (secrets unwrapped)."""
    if struct is None:
        return {}
    bag = json_format.MessageToDict(struct)
    return {snake(key): unwrap(value) for key, value in bag.items()}


def to_struct(bag: Mapping[str, Any], secret: Iterable[str] = ()) -> struct_pb2.Struct:
    """A snake_case bag as the engine's Struct; keys in ``secret`` sent as secrets."""
    secret_keys = set(secret)
    struct = struct_pb2.Struct()
    for key, value in bag.items():
        if value is None:
            continue
        if key in secret_keys and value != UNKNOWN:
            value = {SIG_KEY: SECRET_SIG, "value": value}
        struct[camel(key)] = value
    return struct


def name_pattern(resources: tuple[ResourceDeclaration, ...]) -> re.Pattern[str]:
    """Every snake_case property name of ``resources`` with an underscore, longest first."""
    return re.compile(r"\b(" + "|".join(map(re.escape, snake_names(resources))) + r")\b")


_SNAKE_NAMES = name_pattern(RESOURCES)


def phrase(message: str, names: re.Pattern[str] = _SNAKE_NAMES) -> str:
    """A core message with property names as this front end's users write them."""
    return names.sub(lambda m: camel(m.group(0)), message)
