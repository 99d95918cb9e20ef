"""The drain benchmark (issue 19) still runs end to end on tiny sizes.

It asserts the report's shape and what the drains did, never timings: the ratios it prints
are quotients of the figures beside them, and only the quiet drain leaves nothing active
after replacements, whatever the machine's speed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = (sys.executable, "-m", "bench.bench_drain")


def test_drain_bench_compares_both_drains_and_words_each_ratio_from_its_figures() -> None:
    """`python -m bench.bench_drain` prints both drains on one world, each ratio the
    quotient of the two figures it reports, and the quiet drain succeeding with nothing
    active after replacement tickets appear."""
    result = subprocess.run(
        [*COMMAND, "--sessions", "20", "--repeats", "1", "--delays", "0.2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    old = re.search(r"^\| c3c5dec \| ([\d.]+) \| ([\d.]+) \| (\d+) \| - \|$", out, re.M)
    new = re.search(r"^\| quiet \(new\) \| ([\d.]+) \| ([\d.]+) \| (\d+) \| - \|$", out, re.M)
    ratios = re.search(r"^\| new / c3c5dec \| ([\d.]+)x \| ([\d.]+)x \| ([\d.]+)x \|", out, re.M)
    assert old is not None, out
    assert new is not None, out
    assert ratios is not None, out
    for column in range(1, 4):
        quotient = float(new[column]) / float(old[column])
        assert abs(float(ratios[column]) - quotient) < 0.01 + 0.002 * quotient, out
    replaced = re.search(
        r"^\| 0\.2 \| [\d.]+ \| [-\d.]+ \| [-\d.]+ \| (.+?) \| (.+?) \|$", out, re.M
    )
    assert replaced is not None, out
    assert replaced[1] == "success, 0 active after", out
