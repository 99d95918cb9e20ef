"""A Python program that uses the dynamic resources is type-checked statically: the Args
classes and output annotations generated from the declaration are what mypy reads."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CORRECT = """
import pulumi

from gamelift_backfill.backfill_guard import BackfillGuard, BackfillGuardArgs
from gamelift_backfill.backfill_ticket import BackfillTicketArgs

fleet = pulumi.Output.from_input("fleet-1")
guard = BackfillGuard(
    "guard",
    BackfillGuardArgs(fleet_ids=[fleet], configuration_name="mm", max_concurrency=5),
)
count: pulumi.Output[int] = guard.active_ticket_count
pulumi.export("active", count)
adopted = BackfillTicketArgs(ticket_id="t-1", players=[{"PlayerId": "p-1"}])
"""

MISTAKEN = """
from gamelift_backfill.backfill_guard import BackfillGuard, BackfillGuardArgs

BackfillGuardArgs(fleet_ids=["fleet-1"], fleet_id="fleet-1")
BackfillGuardArgs(configuration_name="mm")
BackfillGuardArgs(fleet_ids=["fleet-1"], max_concurrency="5")
guard = BackfillGuard("guard", BackfillGuardArgs(fleet_ids=["fleet-1"]))
guard.active_tickets
"""


def test_mypy_refuses_misspelt_missing_and_mistyped_inputs(tmp_path: Path) -> None:
    """mypy, with the project's configuration, reports a misspelt keyword, a missing required
    input, a mistyped input and an output the resource does not have, and passes a correct
    program."""
    (tmp_path / "correct.py").write_text(textwrap.dedent(CORRECT).lstrip())
    (tmp_path / "mistaken.py").write_text(textwrap.dedent(MISTAKEN).lstrip())
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-error-summary",
            "--hide-error-context",
            "correct.py",
            "mistaken.py",
        ],
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line.rsplit("  [", 1)[0] for line in result.stdout.splitlines() if ": error:" in line]
    assert errors == [
        'mistaken.py:3: error: Unexpected keyword argument "fleet_id" for "BackfillGuardArgs"; '
        'did you mean "fleet_ids"?',
        'mistaken.py:4: error: Missing named argument "fleet_ids" for "BackfillGuardArgs"',
        'mistaken.py:5: error: Argument "max_concurrency" to "BackfillGuardArgs" has '
        'incompatible type "str"; expected "int | Awaitable[int] | Output[int] | None"',
        'mistaken.py:7: error: "BackfillGuard" has no attribute "active_tickets"; '
        'maybe "active_ticket_count"?',
    ], result.stdout + result.stderr
