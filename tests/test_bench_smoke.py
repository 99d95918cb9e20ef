"""The teardown benchmark still runs end to end (``--quick``, tiny sizes).

It asserts the shape of the report, never timings: figures of a smoke run on a shared
machine mean nothing, and a timing assertion would only make the suite flaky.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_bench_reports_every_row_and_target(tmp_path: Path) -> None:
    markdown = tmp_path / "latest.md"
    report_json = tmp_path / "report.json"
    command = [sys.executable, "-m", "bench.bench_teardown", "--quick"]
    result = subprocess.run(
        [*command, "--output", str(markdown), "--json", str(report_json)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    report = json.loads(report_json.read_text())
    options = report["options"]
    rows = report["rows"]
    sizes = options["sizes"]
    for row in (1, 2, 3, 4, 6):
        assert sorted(r["tickets"] for r in rows if r["row"] == row) == sorted(sizes)
    crowd = [r for r in rows if r["row"] == 5]
    assert len(crowd) == len(options["retry_modes"])
    assert all(r["tickets"] == options["guards"] * options["tickets_per_guard"] for r in crowd)
    assert all(r["seconds"] > 0 for r in rows)
    native = [r for r in rows if r["row"] == 6]
    assert all("faster than row 2" in r["compare"] for r in native)

    # The CLI row past --cli-full-max is an extrapolation and must say so.
    cli = {r["tickets"]: r["basis"] for r in rows if r["row"] == 3}
    for tickets, basis in cli.items():
        expected = "measured" if tickets <= options["cli_full_max"] else "extrapolated"
        assert basis.startswith(expected)

    names = " | ".join(t["name"] for t in report["targets"])
    for fragment in ("10x", "100x", "1.3x floor", "calls per ticket", "peak RSS"):
        assert fragment in names
    assert all(isinstance(t["passed"], bool) for t in report["targets"])

    text = markdown.read_text()
    assert "| # | scenario | tickets | time (s) | basis | compared | notes |" in text
    assert "| target | measured | result |" in text
    assert text in result.stdout
