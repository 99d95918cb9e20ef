"""The README cannot rot: every command it names runs here, or a named test runs it.

Each `make TARGET` and `python -m MODULE` in README.md must appear in `EXERCISED_BY`,
which names the test that runs the same thing (a Makefile target's recipe must call what
that test calls). A new command in the README without a test fails here; so does a test
renamed or removed from under the README.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
MAKEFILE = (ROOT / "Makefile").read_text()

# Command -> (what its Makefile recipe or the test runs, the test that runs it).
EXERCISED_BY: dict[str, tuple[str, str]] = {
    "make test": ("$(BIN)/pytest", "tests/test_readme.py::test_ci_runs_exactly_the_test_command"),
    "make setup": (
        "$(AWSCLI_VENV)/.installed",
        "tests/test_emulator_process.py::test_aws_cli_is_a_second_real_client",
    ),
    "make demo": (
        "scripts/demo.py demo",
        "tests/test_demo.py::test_offline_demo_drains_every_ticket_and_deletes_the_configuration",
    ),
    "make up": (
        "scripts/demo.py up",
        "tests/test_demo.py::test_offline_up_then_down_tears_down_and_stops_the_emulator",
    ),
    "make down": (
        "scripts/demo.py down",
        "tests/test_demo.py::test_offline_up_then_down_tears_down_and_stops_the_emulator",
    ),
    "make bench": (
        "-m bench.bench_teardown",
        "tests/test_bench_smoke.py::test_quick_bench_reports_every_row_and_target",
    ),
    "make bench-emulator": (
        "-m bench.bench_emulator",
        "tests/test_readme.py::test_emulator_bench_prints_its_rate",
    ),
    "make bench-engine": (
        "-m bench.bench_engine",
        "tests/test_bench_engine_smoke.py::test_engine_bench_runs_every_scenario_and_prints_its_rows",
    ),
    "make soak": (
        "tests/test_soak.py -m soak_long",
        "tests/test_soak.py::test_short_soak_every_teardown_succeeds_or_fails_clearly_and_recovers",
    ),
    "python -m providers": ("", "tests/test_cli.py::test_real_subprocess"),
    "python -m build": (
        "",
        "tests/test_packaging.py::test_wheel_holds_only_the_package_and_both_console_commands",
    ),
    "python -m gamelift_emulator": (
        "",
        "tests/test_emulator_process.py::test_module_prints_url_first_and_exits_zero_on_sigterm",
    ),
    "python -m bench.bench_emulator": (
        "",
        "tests/test_readme.py::test_emulator_bench_prints_its_rate",
    ),
    "python -m bench.bench_teardown": (
        "",
        "tests/test_bench_smoke.py::test_quick_bench_reports_every_row_and_target",
    ),
}


def _readme_commands() -> set[str]:
    """Every `make TARGET` and `python -m MODULE` the README names."""
    targets = set(re.findall(r"\bmake ([a-z][a-z-]*)\b", README)) - {"the"}
    modules = set(re.findall(r"\bpython -m ([a-z_][a-z_.]*[a-z_])", README))
    return {f"make {t}" for t in targets} | {f"python -m {m}" for m in modules}


def _recipe(target: str) -> str:
    """A Makefile target's prerequisites and recipe lines."""
    match = re.search(rf"^{re.escape(target)}:(.*\n(?:\t.*\n)*)", MAKEFILE, flags=re.MULTILINE)
    assert match, f"the README names `make {target}`, which the Makefile does not have"
    return match.group(1)


def test_every_readme_command_is_exercised_by_a_test() -> None:
    """A command in the README with no test behind it, or a test that is gone, fails."""
    commands = _readme_commands()
    assert commands - EXERCISED_BY.keys() == set(), "add these to EXERCISED_BY with a test"
    for command in commands:
        runs, node = EXERCISED_BY[command]
        path, name = node.split("::")
        assert re.search(rf"^def {name}\(", (ROOT / path).read_text(), flags=re.MULTILINE), node
        if command.startswith("make "):
            assert runs in _recipe(command.removeprefix("make ")), (command, runs)


def test_ci_runs_exactly_the_test_command() -> None:
    """CI's entry point is the README's test command, and that command lints, types, tests."""
    assert "    make test " in README
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert [line for line in ci if line and not line.startswith("#")][-1] == "make test"
    assert re.search(r"^test: lint typecheck$", MAKEFILE, flags=re.MULTILINE)
    assert "ruff check" in _recipe("lint")
    assert "mypy" in _recipe("typecheck")


@pytest.mark.timeout(120)
def test_emulator_bench_prints_its_rate() -> None:
    """`make bench-emulator`'s program reports calls/s, the ratio to the bare responder, a
    call's time with slow connections open, and with --decompose its HTTP layer's ratio."""
    command = [sys.executable, "-m", "bench.bench_emulator", "--calls", "50", "--rounds", "2"]
    result = subprocess.run(
        [*command, "--slow-connections", "20", "--decompose"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(r"50 sequential calls, \d+ calls/s", result.stdout)
    assert re.search(r"ratio emulator / bare responder: \d+\.\d\d", result.stdout)
    assert re.search(r"with 20 idle or half-sent connections open: .* \d+ ms", result.stdout)
    for module in ("bench.http_layer", "bench.constant_responder"):
        assert re.search(rf"\({module}\): \d+ calls/s, ratio \d+\.\d\d", result.stdout), module
