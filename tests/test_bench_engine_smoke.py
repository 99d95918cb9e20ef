"""The engine benchmark (bench/bench_engine.py) still runs end to end with a tiny N.

Through the real Pulumi CLI of the ``pulumi_cli`` fixture. It asserts that every scenario
ran and printed its row, never a timing: figures of a smoke run on a shared machine mean
nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = (
    "native-guard",
    "native-tickets",
    "dynamic-guard",
    "dynamic-tickets",
    "drain",
    "native-guard-0",
    "dynamic-guard-0",
    "drain-0",
)

pytestmark = pytest.mark.e2e


def test_engine_bench_runs_every_scenario_and_prints_its_rows(
    pulumi_cli: Path, tmp_path: Path
) -> None:
    """`python -m bench.bench_engine --tickets 2` runs each destroy through the real CLI and
    the drain, ends every ticket, and prints a row per scenario and every ratio."""
    report_json = tmp_path / "report.json"
    command = [sys.executable, "-m", "bench.bench_engine", "--tickets", "2", "--rounds", "1"]
    result = subprocess.run(
        [*command, "--no-warmup", "--pulumi", str(pulumi_cli), "--json", str(report_json)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    report = json.loads(report_json.read_text())
    assert [m["key"] for m in report["measures"]] == list(SCENARIOS)
    assert all(m["left_active"] == 0 for m in report["measures"])
    for scenario in ("native: `pulumi destroy`, one BackfillGuard", "2 BackfillTickets"):
        assert scenario in result.stdout
    assert "| `gamelift-backfill drain` (CLI) | 2 |" in result.stdout
    for ratio in (
        "native: N BackfillTickets / one guard",
        "dynamic: N BackfillTickets / one guard",
        "engine overhead, native guard / drain",
        "engine overhead, dynamic guard / drain",
    ):
        assert f"| {ratio} |" in result.stdout
    assert "Fixed cost (0 tickets)" in result.stdout
