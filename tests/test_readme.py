"""The README and docs/ cannot rot: every command they name runs here, or a named test runs
it, and every relative link they hold leads somewhere.

Each `make TARGET` and `python -m MODULE` in README.md or a page of docs/ must appear in
`EXERCISED_BY`, which names the test that runs the same thing (a Makefile target's recipe
must call what that test calls). A new command in the docs without a test fails here; so
does a test renamed or removed from under them. Each relative link of README.md, docs/,
policy/README.md and examples/README.md must name an existing file, and a heading of it
when the link has an anchor.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from native_helpers import native_plugin

from gamelift_backfill.backfill_guard import BackfillGuard, BackfillGuardArgs
from gamelift_backfill.backfill_ticket import BackfillTicket, BackfillTicketArgs
from gamelift_emulator import Emulator
from testkit.world import REGION

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCS = sorted((ROOT / "docs").rglob("*.md"))
MAKEFILE = (ROOT / "Makefile").read_text()
# Pages whose commands must be exercised, and pages whose relative links must resolve.
COMMAND_PAGES = [ROOT / "README.md", *DOCS]
LINKED_PAGES = [*COMMAND_PAGES, ROOT / "policy" / "README.md", ROOT / "examples" / "README.md"]
REFERENCE_DOC = ROOT / "docs" / "reference.md"
CLI_PAGES = [ROOT / "README.md", ROOT / "docs" / "cli.md"]
CLI_PREFIXES = ("gamelift-backfill ", "python -m providers ")
# Exit statuses of a command line the CLI accepted (2 is VALIDATION_ERROR: not accepted).
ACCEPTED = {0, 3, 7}
README_MAX_LINES = 300
GENERATED = re.compile(r"<!-- reference:begin[^>]*-->\n(.*?)<!-- reference:end -->", re.DOTALL)

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
    "python -m bench.bench_drain": (
        "",
        "tests/test_bench_drain_smoke.py::"
        "test_drain_bench_compares_both_drains_and_words_each_ratio_from_its_figures",
    ),
    "python -m bench.bench_engine": (
        "",
        "tests/test_bench_engine_smoke.py::test_engine_bench_runs_every_scenario_and_prints_its_rows",
    ),
    # docs/benchmarks.md: the engine bench's drain scenario is `python -m gamelift_backfill drain`.
    "python -m gamelift_backfill": (
        "",
        "tests/test_bench_engine_smoke.py::test_engine_bench_runs_every_scenario_and_prints_its_rows",
    ),
    "python -m gamelift_backfill.reference": (
        "",
        "tests/test_readme.py::test_reference_generator_prints_the_generated_tables",
    ),
    "python -m gamelift_backfill.codegen": (
        "",
        "tests/test_declaration.py::test_the_committed_python_source_is_what_the_declaration_renders",
    ),
    # The dynamic provider's plugin, as the engine starts it (testkit/plugin_host.py).
    "python -m pulumi.dynamic": (
        "",
        "tests/test_plugin_backfill_guard.py::test_destroy_drains_hundreds_of_sessions",
    ),
    "python -m pytest": ("", "tests/test_readme.py::test_pytest_runs_as_a_module"),
}


def _documented_commands() -> set[str]:
    """Every `make TARGET` and `python -m MODULE` that README.md or a page of docs/ names."""
    text = "\n".join(page.read_text() for page in COMMAND_PAGES)
    targets = set(re.findall(r"\bmake ([a-z][a-z-]*)\b", text)) - {"the"}
    modules = set(re.findall(r"\bpython -m ([a-z_][a-z_.]*[a-z_])", text))
    return {f"make {t}" for t in targets} | {f"python -m {m}" for m in modules}


def _prose(markdown: str) -> str:
    """The page without fenced code blocks and inline code, where nothing is a link."""
    without_fences = re.sub(r"^```.*?^```", "", markdown, flags=re.DOTALL | re.MULTILINE)
    return re.sub(r"`[^`\n]*`", "", without_fences)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    """The anchors of a page's headings, repeated ones numbered as GitHub numbers them."""
    without_fences = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.DOTALL | re.MULTILINE)
    seen: dict[str, int] = {}
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", without_fences, flags=re.MULTILINE):
        slug = _slug(heading)
        anchors.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def _relative_links(page: Path) -> list[str]:
    """The targets of a page's markdown links that are not URLs."""
    targets = re.findall(r"\]\(([^)\s]+)\)", _prose(page.read_text()))
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


def _recipe(target: str) -> str:
    """A Makefile target's prerequisites and recipe lines."""
    match = re.search(rf"^{re.escape(target)}:(.*\n(?:\t.*\n)*)", MAKEFILE, flags=re.MULTILINE)
    assert match, f"the docs name `make {target}`, which the Makefile does not have"
    return match.group(1)


def test_every_documented_command_is_exercised_by_a_test() -> None:
    """A command in the README or docs/ with no test behind it, or a test that is gone, fails."""
    commands = _documented_commands()
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


def test_every_relative_link_resolves() -> None:
    """Each relative link of the README and the docs names an existing file, and an existing
    heading of it when the link has an anchor."""
    broken: list[str] = []
    for page in LINKED_PAGES:
        for target in _relative_links(page):
            path, _, anchor = target.partition("#")
            destination = (page.parent / path).resolve() if path else page
            if not destination.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and anchor not in _anchors(destination):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def test_link_check_sees_headings_and_links_as_github_does() -> None:
    """The link check finds links outside code only, and anchors as GitHub makes them."""
    page = "[a](x.md#b) `[c](y.md)`\n```\n[d](z.md)\n```\n"
    assert re.findall(r"\]\(([^)\s]+)\)", _prose(page)) == ["x.md#b"]
    assert _slug("Why will my destroy stall? `doctor`") == "why-will-my-destroy-stall-doctor"
    assert _slug("Command line: `gamelift-backfill` (or `python -m providers`)") == (
        "command-line-gamelift-backfill-or-python--m-providers"
    )
    assert {"inputs", "inputs-1"} <= _anchors(REFERENCE_DOC)


def test_readme_is_a_page_for_users() -> None:
    """The README stays short (the rest lives in docs/) and links every page of docs/ that a
    user reads, directly or through docs/ itself."""
    assert len(README.splitlines()) <= README_MAX_LINES
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in _relative_links(ROOT / "README.md")}
    for name in ("reference", "cli", "iam", "troubleshooting", "migration", "emulator"):
        assert (ROOT / "docs" / f"{name}.md").resolve() in linked, name


def _fenced(markdown: str, language: str) -> list[str]:
    """The bodies of a page's fenced code blocks in ``language``."""
    return re.findall(rf"^```{language}\n(.*?)^```", markdown, flags=re.DOTALL | re.MULTILINE)


def test_python_programs_in_the_docs_use_real_arguments_and_outputs() -> None:
    """Each Python block of the README and docs/reference.md parses, passes only arguments
    the Args classes take, and reads only outputs the resources have."""
    args = {"BackfillGuardArgs": BackfillGuardArgs, "BackfillTicketArgs": BackfillTicketArgs}
    outputs = {*BackfillGuard.__annotations__, *BackfillTicket.__annotations__}
    blocks = [
        b
        for page in (ROOT / "README.md", REFERENCE_DOC)
        for b in _fenced(page.read_text(), "python")
    ]
    calls = 0
    for block in blocks:
        for node in ast.walk(ast.parse(block)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in args
            ):
                taken = inspect.signature(args[node.func.id]).parameters
                assert {k.arg for k in node.keywords} <= set(taken), ast.unparse(node)
                calls += 1
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "guard"
            ):
                assert node.attr in outputs, ast.unparse(node)
    assert calls >= 4, "the README and the reference show both resources' arguments"


@pytest.fixture(scope="module")
def native_schema(_session_emulator: Emulator) -> Iterator[dict[str, Any]]:
    """The native plugin's schema, as the engine gets it (GetSchema)."""
    with native_plugin(_session_emulator.endpoint_url) as plugin:
        yield plugin.get_schema()


def test_yaml_program_in_the_readme_uses_real_tokens_and_properties(
    native_schema: dict[str, Any],
) -> None:
    """The README's YAML program names a resource token of the plugin's schema, sets only its
    input properties, and its outputs read only properties the resource has."""
    (block,) = _fenced(README, "yaml")
    program = yaml.safe_load(block)
    names: dict[str, dict[str, Any]] = {}
    for name, resource in program["resources"].items():
        spec = native_schema["resources"][resource["type"]]
        assert set(resource["properties"]) <= set(spec["inputProperties"]), name
        names[name] = spec
    for expression in program["outputs"].values():
        reference = re.fullmatch(r"\$\{(\w+)\.(\w+)\}", expression)
        assert reference, expression
        assert reference[2] in names[reference[1]]["properties"], expression


def _cli_examples() -> list[str]:
    """The `stop`, `drain` and `status` command lines shown in the README and docs/cli.md
    (`doctor`'s, which read a state file, are checked by tests/test_doctor.py)."""
    examples = []
    for page in CLI_PAGES:
        for block in _fenced(page.read_text(), "console"):
            for line in block.splitlines():
                command = line.removeprefix("$ ").split(";")[0].strip()
                shown = line.startswith("$ ") and command.startswith(CLI_PREFIXES)
                if shown and " doctor " not in f" {command} ":
                    examples.append(command)
    return examples


def test_cli_examples_are_accepted_by_the_command_line(emulator: Emulator) -> None:
    """Each example command line of the README and docs/cli.md runs against the emulator and
    is accepted (no VALIDATION_ERROR); with --json it prints one JSON envelope."""
    examples = _cli_examples()
    assert len(examples) >= 6, examples
    env = {**os.environ, "AWS_ENDPOINT_URL_GAMELIFT": emulator.endpoint_url, "AWS_REGION": REGION}
    for example in examples:
        # The console command `gamelift-backfill` is `python -m gamelift_backfill` (its main).
        module, *arguments = shlex.split(example.removeprefix("python -m "))
        result = subprocess.run(
            [sys.executable, "-m", module.replace("-", "_"), *arguments],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode in ACCEPTED, (example, result.stdout, result.stderr)
        if "--json" in arguments:
            assert "success" in json.loads(result.stdout), example


def test_reference_generator_prints_the_generated_tables() -> None:
    """`python -m gamelift_backfill.reference` prints exactly the tables between the
    reference markers of docs/reference.md, so pasting its output refreshes them."""
    result = subprocess.run(
        [sys.executable, "-m", "gamelift_backfill.reference"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    generated = GENERATED.findall(REFERENCE_DOC.read_text())
    assert len(generated) == 1, "docs/reference.md holds one generated block"
    assert generated[0].strip() == result.stdout.strip()


def test_pytest_runs_as_a_module() -> None:
    """`python -m pytest tests/test_fault_matrix.py` (docs/RELIABILITY.md) finds its tests."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_fault_matrix.py", "--collect-only", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert re.search(r"^\d+ tests? collected", result.stdout, flags=re.MULTILINE)
