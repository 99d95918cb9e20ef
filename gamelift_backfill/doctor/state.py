"""Read a ``pulumi stack export`` (deployment version 3) into the doctor's resource model.

Every problem with the input is an :class:`InputError` naming what is wrong and how to get
a good export; nothing here raises anything else on bad input. Secrets are unwrapped when
the export was made with ``--show-secrets`` (``plaintext``) and become :class:`Unknown`
when encrypted (``ciphertext``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

from gamelift_backfill.core.errors import Failure, InputError

from .model import Resource, Stack, Unknown

DEPLOYMENT_VERSION = 3
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
# An export of 100,000 resources is well under this; more is not a state export.
MAX_EXPORT_BYTES = 512 * 1024 * 1024
EXPORT_HINT = (
    "write it with `pulumi stack export --file state.json` "
    "(add --show-secrets to check provider modules)"
)


def _bad(source: str, reason: str) -> InputError:
    return InputError([Failure(source, f"{reason}; {EXPORT_HINT}")])


def read_source(source: str, stdin: BinaryIO | None = None) -> bytes:
    """The bytes of the export: a file path, or ``-`` for standard input."""
    if source == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        data = stream.read(MAX_EXPORT_BYTES + 1)
    else:
        path = Path(source)
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_EXPORT_BYTES + 1)
        except OSError as exc:
            raise _bad(source, f"cannot read the file ({exc.strerror or exc})") from None
    if len(data) > MAX_EXPORT_BYTES:
        raise _bad(source, f"larger than {MAX_EXPORT_BYTES:,} bytes: not a stack export")
    return data


def parse_export(data: bytes, source: str = "STATE") -> Stack:
    """Parse export bytes into a :class:`Stack` (resources and pending operations)."""
    try:
        return _parse(data, source)
    except RecursionError:
        raise _bad(source, "nested too deeply to be a stack export") from None


def _parse(data: bytes, source: str) -> Stack:
    try:
        document = json.loads(data)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise _bad(
            source, f"not valid JSON ({exc.msg} at {where}): truncated or not an export"
        ) from None
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:
        raise _bad(source, f"not valid JSON ({type(exc).__name__})") from None
    if not isinstance(document, dict) or "deployment" not in document:
        raise _bad(source, "no `deployment` object: not the output of `pulumi stack export`")
    version = document.get("version")
    if version != DEPLOYMENT_VERSION:
        raise _bad(
            source,
            f"deployment version {version!r} is not supported (version {DEPLOYMENT_VERSION} is); "
            "export it with Pulumi CLI 3.x",
        )
    deployment = document["deployment"]
    if not isinstance(deployment, dict):
        raise _bad(source, "`deployment` is not an object")
    resources = _list(deployment, "resources", source)
    pending = _list(deployment, "pending_operations", source)
    stack = Stack(resources={})
    for index, raw in enumerate(resources):
        resource = _resource(raw, f"{source}: resources[{index}]")
        if resource.pending_delete:
            stack.replaced.append(resource)
        else:
            stack.resources[resource.urn] = resource
    for index, raw in enumerate(pending):
        where = f"{source}: pending_operations[{index}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            raise _bad(where, "not an object with a `type`")
        resource = _resource(raw.get("resource"), f"{where}.resource", raw["type"])
        # The delete of a replaced resource (`delete: true`) shares its URN with the live
        # one that replaced it: the ID tells them apart (a run killed while the old guard
        # drained leaves exactly that).
        old = next(
            (
                i
                for i, r in enumerate(stack.replaced)
                if resource.id and r.urn == resource.urn and r.id == resource.id
            ),
            None,
        )
        if old is not None:
            stack.replaced[old] = replace(stack.replaced[old], pending_operation=raw["type"])
            continue
        # A pending create is not in `resources`; others are: keep the state's, marked.
        known = stack.resources.get(resource.urn)
        base = known if known is not None else resource
        stack.resources[resource.urn] = replace(base, pending_operation=raw["type"])
    if any(isinstance(v, Unknown) for r in stack.resources.values() for v in r.inputs.values()):
        stack.notes.append(
            "some values are encrypted secrets: export with --show-secrets to check them"
        )
    return stack


def _list(deployment: Mapping[str, Any], key: str, source: str) -> list[Any]:
    value = deployment.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _bad(source, f"`deployment.{key}` is not a list")
    return value


def _resource(raw: Any, where: str, pending_operation: str | None = None) -> Resource:
    if not isinstance(raw, dict):
        raise _bad(where, "not an object")
    urn, type_ = raw.get("urn"), raw.get("type")
    if not isinstance(urn, str) or not isinstance(type_, str):
        raise _bad(where, "no `urn` or `type` string")
    property_dependencies = raw.get("propertyDependencies") or {}
    if not isinstance(property_dependencies, dict):
        raise _bad(f"{where} ({urn})", "`propertyDependencies` is not an object")
    return Resource(
        urn=urn,
        type=type_,
        inputs=_bag(raw.get("inputs"), f"{where} ({urn}).inputs"),
        outputs=_bag(raw.get("outputs"), f"{where} ({urn}).outputs"),
        dependencies=_urns(raw.get("dependencies"), f"{where} ({urn}).dependencies"),
        property_dependencies={
            str(key): _urns(value, f"{where} ({urn}).propertyDependencies.{key}")
            for key, value in property_dependencies.items()
        },
        id=raw["id"] if isinstance(raw.get("id"), str) and raw["id"] else None,
        parent=raw.get("parent") if isinstance(raw.get("parent"), str) else None,
        custom=raw.get("custom") is True,
        protect=raw.get("protect") is True,
        retain_on_delete=raw.get("retainOnDelete") is True,
        external=raw.get("external") is True,
        deleted_with=raw.get("deletedWith") or None,
        pending_delete=raw.get("delete") is True,
        pending_operation=pending_operation,
    )


def _bag(raw: Any, where: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _bad(where, "not an object")
    return {str(key): unwrap(value) for key, value in raw.items()}


def _urns(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(u, str) for u in raw):
        raise _bad(where, "not a list of URNs")
    return tuple(raw)


def unwrap(value: Any) -> Any:
    """A property value with secrets opened (``plaintext``) or made Unknown (``ciphertext``)."""
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    if not isinstance(value, dict):
        return value
    if value.get(SECRET_SIG_KEY) == SECRET_SIG:
        if "plaintext" in value and isinstance(value["plaintext"], str):
            try:
                return unwrap(json.loads(value["plaintext"]))
            except ValueError:
                return Unknown("a secret whose plaintext is not JSON")
        if "value" in value:  # the engine's own in-memory form
            return unwrap(value["value"])
        return Unknown("an encrypted secret (export with --show-secrets to read it)")
    return {str(key): unwrap(item) for key, item in value.items()}
