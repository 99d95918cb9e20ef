"""The doctor reads a dynamic provider's pickle by its opcodes and never runs it, and finds
whether its module imports without importing it."""

from __future__ import annotations

import base64
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from doctor_helpers import export, guard, run_cli, write

from gamelift_backfill.doctor import pickles


class _Armed:
    """Pickles as a call of ``os.system`` (what a hostile state could carry)."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (self.command,))


def _armed_pickle(marker: Path) -> bytes:
    return pickle.dumps(_Armed(f"touch {marker}"), protocol=4)


def test_the_hostile_pickle_really_runs_code_when_unpickled(tmp_path: Path) -> None:
    """Control: unpickling this payload (in a child process) does create the marker file."""
    marker = tmp_path / "ran"
    payload = base64.b64encode(_armed_pickle(marker)).decode()
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import base64, pickle; pickle.loads(base64.b64decode('{payload}'))",
        ],
        check=True,
        timeout=60,
    )
    assert marker.exists()


@pytest.mark.parametrize("show", [True, False])
def test_doctor_never_runs_a_pickle_built_to_run_code(
    show: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A state whose __provider would run a command: the doctor reports, the command never runs."""
    marker = tmp_path / "ran"
    provider: Any = base64.b64encode(_armed_pickle(marker)).decode()
    if show:  # as `pulumi stack export --show-secrets` writes a secret
        provider = {
            "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
            "plaintext": json.dumps(provider),
        }
    path = write(tmp_path, export(guard(__provider=provider)))
    code, out, err = run_cli(capsys, "doctor", str(path), "--json")
    assert "Traceback" not in out + err
    assert code in (0, 8)
    assert json.loads(out)["success"] is True
    assert not marker.exists()


def test_references_are_read_from_opcodes() -> None:
    """The module and class of a by-reference pickle, and every global of a hostile one."""
    refs = pickles.references(pickle.dumps(_Armed("true"), protocol=4))
    assert pickles.Reference(os.system.__module__, "system") in refs
    committed = (  # tests/fixtures/state/backfill_guard_v1.json's __provider
        "gASVOQAAAAAAAACMGHByb3ZpZGVycy5iYWNrZmlsbF9ndWFyZJSMFUJhY2tmaWxsR3VhcmRQ"
        "cm92aWRlcpSTlCmBlC4="
    )
    assert pickles.references(pickles.decode(committed)) == [
        pickles.Reference("providers.backfill_guard", "BackfillGuardProvider")
    ]
    for protocol in (0, 2):  # GLOBAL opcodes
        refs = pickles.references(pickle.dumps(_Armed("true"), protocol=protocol))
        assert pickles.Reference(os.system.__module__, "system") in refs


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"\x80\x04junk").decode(), ""])
def test_unreadable_provider_is_a_finding_not_a_crash(value: str) -> None:
    """A __provider that is not a pickle is reported as unreadable."""
    from doctor_helpers import stack_of

    from gamelift_backfill.doctor import rules

    findings = rules.provider_modules(stack_of(guard(__provider=value)))
    assert [f.rule for f in findings] == ["provider-unreadable"]


def test_locate_runs_no_package_code(tmp_path: Path) -> None:
    """Finding `pkg.sub` does not run `pkg/__init__.py` (importlib.util.find_spec would)."""
    marker = tmp_path / "imported"
    package = tmp_path / "doctor_probe_pkg"
    package.mkdir()
    (package / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    (package / "sub.py").write_text("class Provider: ...\n")
    spec = pickles.locate("doctor_probe_pkg.sub", [str(tmp_path)])
    assert spec is not None
    assert pickles.defines(spec, "Provider") is True
    assert pickles.defines(spec, "Other") is False
    assert pickles.locate("doctor_probe_pkg.gone", [str(tmp_path)]) is None
    assert pickles.locate("doctor_probe_pkg.sub.deeper", [str(tmp_path)]) is None
    assert not marker.exists()
    assert "doctor_probe_pkg" not in sys.modules
