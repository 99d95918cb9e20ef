"""Shared by the doctor's tests: the committed fixtures, a small export builder, a CLI run."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from gamelift_backfill import cli
from gamelift_backfill.doctor.model import DYNAMIC_GUARD, DYNAMIC_TICKET, Stack
from gamelift_backfill.doctor.state import parse_export

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "state" / "doctor"
STACK_URN = "urn:pulumi:dev::proj::pulumi:pulumi:Stack::proj-dev"
CONFIG_TYPE = "aws-native:gamelift:MatchmakingConfiguration"


def fixture(name: str) -> Path:
    """A committed fixture's path."""
    return FIXTURES / f"{name}.json"


def load(name: str) -> Stack:
    """A committed fixture, parsed."""
    return parse_export(fixture(name).read_bytes(), name)


def urn(type_: str, name: str) -> str:
    """A resource URN of the test stack."""
    return f"urn:pulumi:dev::proj::{type_}::{name}"


def resource(type_: str, name: str, **fields: Any) -> dict[str, Any]:
    """One resource in the export's shape; ``fields`` are its other export keys."""
    return {"urn": urn(type_, name), "custom": True, "type": type_, "parent": STACK_URN, **fields}


def export(*resources: Mapping[str, Any], pending: list[Any] | None = None) -> dict[str, Any]:
    """A deployment-version-3 export of ``resources``."""
    deployment: dict[str, Any] = {
        "manifest": {"time": "2026-11-29T12:00:00Z", "magic": "x", "version": "v3.272.0"},
        "resources": [
            {"urn": STACK_URN, "custom": False, "type": "pulumi:pulumi:Stack"},
            *resources,
        ],
    }
    if pending is not None:
        deployment["pending_operations"] = pending
    return {"version": 3, "deployment": deployment}


def stack_of(*resources: Mapping[str, Any]) -> Stack:
    """The parsed Stack of an export of ``resources``."""
    return parse_export(json.dumps(export(*resources)).encode())


def guard(name: str = "guard", **inputs: Any) -> dict[str, Any]:
    """A dynamic BackfillGuard with ``inputs`` (outputs the same)."""
    return resource(DYNAMIC_GUARD, name, id=f"{name}-id", inputs=inputs, outputs=inputs)


def ticket(name: str = "ticket", **inputs: Any) -> dict[str, Any]:
    """A dynamic BackfillTicket with ``inputs`` (outputs the same)."""
    return resource(DYNAMIC_TICKET, name, id=f"{name}-id", inputs=inputs, outputs=inputs)


def write(tmp_path: Path, document: Any, name: str = "state.json") -> Path:
    """``document`` written as JSON to a file of ``tmp_path``."""
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``python -m providers ARGV`` in-process: exit status, stdout, stderr."""
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
