"""The teardown benchmark still runs end to end (``--quick``, tiny sizes).

It asserts the shape of the report, never timings: figures of a smoke run on a shared
machine mean nothing, and a timing assertion would only make the suite flaky.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# "2.5x faster" / "1.3x slower": a ratio as the bench words it (bench/ratios.py).
RATIO = r"(?P<times>\d+\.\d)x (?P<word>faster|slower)"


def assert_worded(text: str, pattern: str, subject_seconds: float, other_seconds: float) -> None:
    """``text`` words other/subject, the quotient of the two figures the report holds: the
    word follows the sign of ratio - 1 and the number is the ratio (or its inverse, slower)."""
    found = re.search(pattern.format(ratio=RATIO), text)
    assert found is not None, (pattern, text)
    ratio = other_seconds / subject_seconds
    word = "faster" if ratio >= 1 else "slower"
    assert found["word"] == word, (text, ratio)
    assert found["times"] == f"{ratio if ratio >= 1 else 1 / ratio:.1f}", (text, ratio)


def test_quick_bench_reports_every_row_and_target(tmp_path: Path) -> None:
    """`--quick` writes every row and target, and words each ratio as the quotient of the
    times it reports (faster above 1, slower below), whatever the machine measured."""
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
    seconds = {(r["row"], r["tickets"]): r["seconds"] for r in rows}
    for r in rows:
        if r["row"] in (2, 3, 6):  # "guard Nx faster/slower": row 1's time against this row's
            guard = seconds[(1, r["tickets"])]
            assert_worded(r["compare"], "guard {ratio}", guard, r["seconds"])
        if r["row"] == 6:  # the native deletes against the dynamic ones (row 2)
            dynamic = seconds[(2, r["tickets"])]
            assert_worded(r["compare"], "^{ratio} than row 2", r["seconds"], dynamic)

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
