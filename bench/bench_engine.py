"""Teardown through the real Pulumi engine: `pulumi destroy` of one BackfillGuard over N
active tickets, against the same N tickets as BackfillTicket resources, against
`gamelift-backfill drain` of the same tickets. Ratios in one run (docs/benchmarks.md).

Everything runs against one emulator (``python -m gamelift_emulator``, loopback, its own
process) with bench_teardown's realistic setting: 5 ms latency on every GameLift call and
200 ms between StopMatchmaking and CANCELLED. Before each scenario the emulator is reset and
one fleet gets N non-full matchmade sessions, each with its automatic backfill ticket.

Scenarios (each `up` untimed, then the `destroy` timed; the CLI of `testkit.pulumi_cli`,
own Pulumi home and file backend, no plugin downloads):

* native guard / native tickets: a YAML program (plain ``pulumi up`` / ``pulumi destroy``)
  with one ``gamelift-backfill:index:BackfillGuard``, or N ``BackfillTicket`` adopting the
  tickets (``ticketId``), through ``bin/pulumi-resource-gamelift-backfill``, at the
  engine's default parallelism (4 x GOMAXPROCS);
* dynamic guard / dynamic tickets: the same as a Python program with the dynamic provider
  (``up`` through the Automation API, `PulumiSandbox.python_program`; ``destroy`` is the
  plain CLI). The dynamic provider's plugin serves at most 4 calls at once;
* drain: ``python -m gamelift_backfill drain`` (the ``gamelift-backfill`` console command)
  of the same fleet, as a CI job would run it;
* fixed costs: the guard stacks and the drain with no ticket at all (engine, plugin and
  interpreter start-up), after one unreported warm-up of each.

Decomposition: GameLift calls per ticket from the emulator's counters (``/_emulator/calls``,
destroy only), and the engine's own report of each resource's delete time (``deleted
(0.85s)`` lines): their sum over the destroy's wall time is the concurrency achieved.

Every scenario runs ``--rounds`` times (3), interleaved, so that a burst of load on a
shared machine hits one round of each rather than every round of one: the tables show the
median round and each ratio's median over the rounds, with its range.

    python -m bench.bench_engine [--tickets 200] [--rounds 3] [--pulumi PATH] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.bench_emulator import emulator_url
from bench.bench_teardown import CONFIGURATION, REGION, Account
from bench.bench_teardown import Options as TeardownOptions
from testkit.aws_env import isolated_aws_env, isolated_environ
from testkit.pulumi_cli import PulumiSandbox, find_cli, why_no_cli

ROOT = Path(__file__).resolve().parent.parent
NATIVE_PLUGIN_DIR = ROOT / "bin"
PACKAGE_DIR = ROOT / "gamelift_backfill"
STOP_TIMEOUT_SECONDS = 900
COMMAND_TIMEOUT_SECONDS = 1800.0
LISTING = "DescribeGameSessions"

PYTHON_PROGRAM = '''"""bench_engine's Python program; this stack's spec is bench-<stack>.json."""
import json

import pulumi

from gamelift_backfill.backfill_guard import BackfillGuard, BackfillGuardArgs
from gamelift_backfill.backfill_ticket import BackfillTicket, BackfillTicketArgs

with open(f"bench-{pulumi.get_stack()}.json") as spec_file:
    spec = json.load(spec_file)
if spec["kind"] == "guard":
    BackfillGuard(
        "guard",
        BackfillGuardArgs(
            fleet_ids=[spec["fleet_id"]],
            configuration_name=spec["configuration_name"],
            stop_timeout_seconds=spec["stop_timeout_seconds"],
        ),
    )
else:
    for index, ticket_id in enumerate(spec["ticket_ids"]):
        BackfillTicket(
            f"ticket-{index}",
            BackfillTicketArgs(
                ticket_id=ticket_id, stop_timeout_seconds=spec["stop_timeout_seconds"]
            ),
        )
'''


@dataclass(frozen=True)
class Options:
    """One run: N, the emulator's realism, the CLI."""

    tickets: int = 200
    latency_ms: float = 5.0
    stop_delay_ms: float = 200.0
    pulumi: str = ""
    warmup: bool = True
    rounds: int = 3


@dataclass
class Measure:
    """One scenario timed once."""

    key: str
    scenario: str
    tickets: int
    seconds: float
    up_seconds: float | None = None
    deletes: list[float] = field(default_factory=list)
    """The engine's reported delete time of each resource (stack excluded)."""
    calls: dict[str, int] = field(default_factory=dict)
    """GameLift calls of the destroy (or drain) alone, by operation."""
    left_active: int = 0
    round: int = 0

    def calls_per_ticket(self) -> str:
        """StopMatchmaking / DescribeMatchmaking / listing pages, per ticket."""
        if not self.tickets:
            return "-"
        per = {op: n / self.tickets for op, n in self.calls.items()}
        stop, describe = per.get("StopMatchmaking", 0.0), per.get("DescribeMatchmaking", 0.0)
        return f"{stop:.2f} / {describe:.2f} / {per.get(LISTING, 0.0):.2f}"

    def concurrency(self) -> str:
        """Sum of the resources' delete times over the destroy's wall time: for N tickets the
        concurrency achieved, for one guard the share of the destroy spent in its delete."""
        if not self.deletes or self.seconds <= 0:
            return "-"
        return f"{sum(self.deletes) / self.seconds:.1f}"


@dataclass
class Report:
    """The run: where, when, the measures and their ratios."""

    options: Options
    started: str
    machine: str
    cli: str
    load_before: str
    load_after: str = ""
    measures: list[Measure] = field(default_factory=list)
    startup: dict[str, float] = field(default_factory=dict)
    """Median seconds from start to ready: each plugin to its port, the CLI's `version`."""

    def of(self, key: str) -> list[Measure]:
        """The rounds' measures of one scenario."""
        return [m for m in self.measures if m.key == key]

    def get(self, key: str) -> Measure:
        """The round whose destroy time is the median (the lower one of an even count)."""
        rounds = sorted(self.of(key), key=lambda m: m.seconds)
        return rounds[(len(rounds) - 1) // 2]

    def ratios(self) -> list[tuple[str, str, str]]:
        """(comparison, ratio, meaning) of the issue's four comparisons and two more: the
        median of the per-round ratios, with their range when there are several rounds."""

        def ratio(slow: str, fast: str) -> str:
            per_round = sorted(
                a.seconds / b.seconds
                for a, b in zip(self.of(slow), self.of(fast), strict=True)
                if b.seconds > 0
            )
            if not per_round:
                return "-"
            text = f"{statistics.median(per_round):.2f}"
            if len(per_round) > 1:
                text += f" ({per_round[0]:.2f}-{per_round[-1]:.2f})"
            return text

        return [
            (
                "native: N BackfillTickets / one guard",
                ratio("native-tickets", "native-guard"),
                "destroy of N ticket resources over the guard's destroy",
            ),
            (
                "dynamic: N BackfillTickets / one guard",
                ratio("dynamic-tickets", "dynamic-guard"),
                "the same with the dynamic provider (4 calls at once)",
            ),
            (
                "engine overhead, native guard / drain",
                ratio("native-guard", "drain"),
                "`pulumi destroy` of the guard stack over `gamelift-backfill drain`",
            ),
            (
                "engine overhead, dynamic guard / drain",
                ratio("dynamic-guard", "drain"),
                "the same with the dynamic provider",
            ),
            (
                "dynamic / native, guard",
                ratio("dynamic-guard", "native-guard"),
                "front end against front end, one guard",
            ),
            (
                "dynamic / native, N tickets",
                ratio("dynamic-tickets", "native-tickets"),
                "front end against front end, N ticket resources",
            ),
        ]


# -- the engine's output ------------------------------------------------------------------

_DELETED = re.compile(r"^\s*-\s+(?P<type>\S+)\s+(?P<name>\S+)\s+deleted \((?P<took>[0-9.hms]+)\)")
_DURATION_PART = re.compile(r"(?P<value>[0-9.]+)(?P<unit>h|ms|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def go_duration(text: str) -> float:
    """Seconds of a Go duration as the CLI prints it (``0.85s``, ``1m2.5s``, ``120ms``)."""
    return sum(
        float(part["value"]) * _UNIT_SECONDS[part["unit"]] for part in _DURATION_PART.finditer(text)
    )


def reported_deletes(output: str) -> list[float]:
    """Each resource's delete time as the engine reported it (the stack itself excluded)."""
    return [
        go_duration(match["took"])
        for line in output.splitlines()
        if (match := _DELETED.match(line)) and match["type"] != "pulumi:pulumi:Stack"
    ]


# -- projects -----------------------------------------------------------------------------


def yaml_project(folder: Path, resources: dict[str, Any]) -> Path:
    """A YAML program (JSON is YAML) using this checkout's native plugin from bin/."""
    folder.mkdir(parents=True)
    project = {
        "name": "bench-engine-yaml",
        "runtime": "yaml",
        "plugins": {"providers": [{"name": "gamelift-backfill", "path": str(NATIVE_PLUGIN_DIR)}]},
        "resources": resources,
    }
    (folder / "Pulumi.yaml").write_text(json.dumps(project, indent=1))
    return folder


def native_resources(kind: str, fleet_id: str, ticket_ids: Sequence[str]) -> dict[str, Any]:
    """One native guard, or one native BackfillTicket adopting each ticket."""
    if kind == "guard":
        return {
            "guard": {
                "type": "gamelift-backfill:index:BackfillGuard",
                "properties": {
                    "fleetIds": [fleet_id],
                    "configurationName": CONFIGURATION,
                    "stopTimeoutSeconds": STOP_TIMEOUT_SECONDS,
                },
            }
        }
    return {
        f"ticket-{index}": {
            "type": "gamelift-backfill:index:BackfillTicket",
            "properties": {"ticketId": ticket_id, "stopTimeoutSeconds": STOP_TIMEOUT_SECONDS},
        }
        for index, ticket_id in enumerate(ticket_ids)
    }


def python_project(folder: Path) -> Path:
    """The Python program, with the package beside it as a user's checkout has it (the
    dynamic provider is pickled by reference: destroy imports it from here)."""
    folder.mkdir(parents=True)
    (folder / "Pulumi.yaml").write_text(
        "name: bench-engine-python\nruntime:\n  name: python\n"
        "  options:\n    toolchain: pip\n    virtualenv: .venv\n"
    )
    (folder / "__main__.py").write_text(PYTHON_PROGRAM)
    shutil.copytree(
        PACKAGE_DIR, folder / PACKAGE_DIR.name, ignore=shutil.ignore_patterns("__pycache__")
    )
    (folder / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return folder


def stack_config(folder: Path, stack: str, url: str) -> None:
    """The stack's config file, written before ``stack init`` (which adds the salt)."""
    (folder / f"Pulumi.{stack}.yaml").write_text(
        json.dumps(
            {"config": {"gamelift-backfill:region": REGION, "gamelift-backfill:endpointUrl": url}}
        )
    )


# -- scenarios ----------------------------------------------------------------------------


class Bench:
    """One emulator, one Pulumi sandbox, a temporary folder for the projects."""

    def __init__(self, options: Options, url: str, work: Path, cli: Path) -> None:
        self.options = options
        self.account = Account(
            url,
            TeardownOptions(latency_ms=options.latency_ms, stop_delay_ms=options.stop_delay_ms),
        )
        self.url = url
        self.work = work
        self.sandbox = PulumiSandbox(work / "pulumi", cli)
        self.env = self.sandbox.env(AWS_REGION=REGION)
        self.python_dir = python_project(work / "python")
        self.count = 0

    def _stack(self) -> str:
        self.count += 1
        return f"s{self.count}"

    def _destroy(self, folder: Path, stack: str) -> tuple[float, str]:
        started = time.perf_counter()
        done = self.sandbox.run(
            "destroy", "--yes", "--skip-preview", "--stack", stack,
            cwd=folder, env=self.env, timeout=COMMAND_TIMEOUT_SECONDS,
        )  # fmt: skip
        return time.perf_counter() - started, done.stdout

    def native(self, key: str, kind: str, tickets: int) -> Measure:
        """A YAML program's up, then its destroy timed."""
        (fleet,) = self.account.fresh([tickets])
        stack = self._stack()
        folder = yaml_project(
            self.work / f"yaml-{stack}", native_resources(kind, fleet.fleet_id, fleet.ticket_ids)
        )
        stack_config(folder, stack, self.url)
        self.sandbox.run("stack", "init", stack, cwd=folder, env=self.env)
        started = time.perf_counter()
        self.sandbox.run(
            "up", "--yes", "--skip-preview", "--stack", stack,
            cwd=folder, env=self.env, timeout=COMMAND_TIMEOUT_SECONDS,
        )  # fmt: skip
        up = time.perf_counter() - started
        return self._measured(key, kind, "native", tickets, up, folder, stack)

    def dynamic(self, key: str, kind: str, tickets: int) -> Measure:
        """The Python program's up (Automation API), then its destroy (CLI) timed."""
        (fleet,) = self.account.fresh([tickets])
        stack = self._stack()
        folder = self.python_dir
        spec = {
            "kind": kind,
            "fleet_id": fleet.fleet_id,
            "configuration_name": CONFIGURATION,
            "ticket_ids": fleet.ticket_ids,
            "stop_timeout_seconds": STOP_TIMEOUT_SECONDS,
        }
        (folder / f"bench-{stack}.json").write_text(json.dumps(spec))
        stack_config(folder, stack, self.url)
        self.sandbox.run("stack", "init", stack, cwd=folder, env=self.env)
        started = time.perf_counter()
        self.sandbox.python_program(
            "up", "--stack", stack, cwd=folder, env=self.env, timeout=COMMAND_TIMEOUT_SECONDS
        )
        up = time.perf_counter() - started
        return self._measured(key, kind, "dynamic", tickets, up, folder, stack)

    def _measured(
        self, key: str, kind: str, front: str, tickets: int, up: float, folder: Path, stack: str
    ) -> Measure:
        active = self.account.active()
        if active != tickets:
            raise RuntimeError(f"{key}: {active} tickets active after up, seeded {tickets}")
        before = self.account.calls()
        seconds, output = self._destroy(folder, stack)
        calls = dict(self.account.calls() - before)
        what = "one BackfillGuard" if kind == "guard" else f"{tickets} BackfillTickets"
        measure = Measure(
            key,
            f"{front}: `pulumi destroy`, {what}",
            tickets,
            seconds,
            up,
            reported_deletes(output),
            calls,
            self.account.active(),
        )
        expected = 1 if kind == "guard" else tickets
        if len(measure.deletes) != expected:
            raise RuntimeError(f"{key}: the engine reported {len(measure.deletes)} deletes")
        return _checked(measure)

    def drain(self, key: str, tickets: int) -> Measure:
        """``python -m gamelift_backfill drain`` of a fleet with N tickets, timed."""
        (fleet,) = self.account.fresh([tickets])
        before = self.account.calls()
        command = [
            sys.executable, "-m", "gamelift_backfill", "drain",
            "--fleet-id", fleet.fleet_id, "--configuration-name", CONFIGURATION,
            "--region", REGION, "--endpoint-url", self.url,
            "--timeout", str(STOP_TIMEOUT_SECONDS), "--json",
        ]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=isolated_environ(),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"{key}: drain exited {done.returncode}: {done.stdout}{done.stderr}")
        calls = dict(self.account.calls() - before)
        measure = Measure(key, "`gamelift-backfill drain` (CLI)", tickets, seconds, None, [], calls)
        measure.left_active = self.account.active()
        return _checked(measure)


def _checked(measure: Measure) -> Measure:
    if measure.left_active:
        raise RuntimeError(f"{measure.key}: {measure.left_active} tickets still active")
    return measure


# -- start-up ----------------------------------------------------------------------------

STARTUP_SAMPLES = 3
UNREACHABLE_ENGINE = "127.0.0.1:1"
"""The engine address the plugins are started with here: they print their port before any
call to the engine."""


def ready_seconds(command: Sequence[str]) -> float:
    """Seconds until ``command`` prints its first line (a plugin: its port); then stopped."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        if not process.stdout.readline().strip():
            raise RuntimeError(f"{command[0]} printed nothing")
        return time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def startup(cli: Path) -> dict[str, float]:
    """Each plugin's time to its port and the CLI's `pulumi version`, median of a few."""
    commands = {
        "native plugin (bin/pulumi-resource-gamelift-backfill) to its port": [
            str(NATIVE_PLUGIN_DIR / "pulumi-resource-gamelift-backfill"),
            UNREACHABLE_ENGINE,
        ],
        "dynamic provider plugin (python -m pulumi.dynamic) to its port": [
            sys.executable, "-u", "-m", "pulumi.dynamic", UNREACHABLE_ENGINE,
        ],
        "`pulumi version`": [str(cli), "version"],
    }  # fmt: skip
    return {
        name: statistics.median(ready_seconds(command) for _ in range(STARTUP_SAMPLES))
        for name, command in commands.items()
    }


# -- the run ------------------------------------------------------------------------------


def machine() -> str:
    """CPU model and count, kernel."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}"


def load() -> str:
    """The 1/5/15-minute load averages."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def cli_version(cli: Path) -> str:
    done = subprocess.run([str(cli), "version"], capture_output=True, text=True, check=False)
    return f"{cli} {done.stdout.strip()}"


def run(options: Options, say: Callable[[str], None]) -> Report:
    """Every scenario once, in a fixed order, on one emulator."""
    cli = Path(options.pulumi) if options.pulumi else find_cli()
    if cli is None:
        raise SystemExit(f"no Pulumi CLI: {why_no_cli()}")
    report = Report(
        options,
        datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine(),
        cli_version(cli),
        load(),
    )
    n = options.tickets
    plan: list[tuple[str, Callable[[Bench], Measure]]] = [
        ("native-guard", lambda b: b.native("native-guard", "guard", n)),
        ("native-tickets", lambda b: b.native("native-tickets", "tickets", n)),
        ("dynamic-guard", lambda b: b.dynamic("dynamic-guard", "guard", n)),
        ("dynamic-tickets", lambda b: b.dynamic("dynamic-tickets", "tickets", n)),
        ("drain", lambda b: b.drain("drain", n)),
        ("native-guard-0", lambda b: b.native("native-guard-0", "guard", 0)),
        ("dynamic-guard-0", lambda b: b.dynamic("dynamic-guard-0", "guard", 0)),
        ("drain-0", lambda b: b.drain("drain-0", 0)),
    ]
    with (
        isolated_aws_env(),
        emulator_url(in_process=False) as url,
        tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp,
    ):
        bench = Bench(options, url, Path(tmp), cli)
        if options.warmup:
            say("warm-up (not reported): the zero-ticket scenarios once")
            for _, scenario in plan[-3:]:
                scenario(bench)
        for round_number in range(1, options.rounds + 1):
            for key, scenario in plan:
                say(f"round {round_number}, {key} ...")
                measure = scenario(bench)
                measure.round = round_number
                report.measures.append(measure)
                say(f"round {round_number}, {key}: {measure.seconds:.2f} s")
    report.startup = startup(cli)
    report.load_after = load()
    return report


def markdown(report: Report) -> str:
    """The report as docs/benchmarks.md shows it."""
    o = report.options
    lines = [
        f"bench_engine, {report.started}; {report.machine}",
        f"CLI: {report.cli}; N = {o.tickets}; {o.rounds} round(s), median shown; emulator: "
        f"{o.latency_ms:g} ms per call, {o.stop_delay_ms:g} ms StopMatchmaking -> CANCELLED; "
        f"load average before {report.load_before}, after {report.load_after}",
        "",
        "| scenario | tickets | destroy (s) | rounds (s) | up (s) "
        "| resources' delete time, sum (s) | sum / destroy "
        "| calls per ticket: Stop / DescribeMM / DescribeGS |",
        "|---|---:|---:|---|---:|---:|---:|---|",
    ]
    keys = list(dict.fromkeys(m.key for m in report.measures))
    for key in keys:
        m = report.get(key)
        every = ", ".join(f"{r.seconds:.2f}" for r in report.of(key))
        up = f"{m.up_seconds:.2f}" if m.up_seconds is not None else "-"
        total = f"{sum(m.deletes):.2f}" if m.deletes else "-"
        lines.append(
            f"| {m.scenario} | {m.tickets} | {m.seconds:.2f} | {every} | {up} | {total} "
            f"| {m.concurrency()} | {m.calls_per_ticket()} |"
        )
    lines += ["", "| ratio | value | what |", "|---|---:|---|"]
    lines += [f"| {name} | {value} | {what} |" for name, value, what in report.ratios()]
    fixed = {key: report.get(key).seconds for key in keys if report.get(key).tickets == 0}
    marginal = []
    for key, zero in (
        ("native-guard", "native-guard-0"),
        ("dynamic-guard", "dynamic-guard-0"),
        ("drain", "drain-0"),
    ):
        full = report.get(key)
        if zero in fixed and full.tickets:
            per = (full.seconds - fixed[zero]) / full.tickets * 1000
            marginal.append(f"{key}: {fixed[zero]:.2f} s fixed + {per:.1f} ms per ticket")
    lines += ["", "Fixed cost (0 tickets) and marginal cost per ticket: " + "; ".join(marginal)]
    ready = "; ".join(f"{name} {seconds:.2f} s" for name, seconds in report.startup.items())
    lines += ["", f"Start-up, median of {STARTUP_SAMPLES}: {ready}"]
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None) -> tuple[Options, Path | None, Path | None]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=Options.tickets, help="N (default 200)")
    parser.add_argument("--latency-ms", type=float, default=Options.latency_ms)
    parser.add_argument("--stop-delay-ms", type=float, default=Options.stop_delay_ms)
    parser.add_argument("--pulumi", default="", help="the CLI (default: testkit's find_cli)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=Options.rounds,
        help="repeat every scenario, interleaved; the table shows the median (default 3)",
    )
    parser.add_argument("--no-warmup", action="store_true", help="skip the warm-up")
    parser.add_argument("--output", type=Path, help="also write the markdown here")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    args = parser.parse_args(argv)
    if args.tickets < 1 or args.rounds < 1:
        parser.error("--tickets and --rounds must be at least 1")
    options = Options(
        tickets=args.tickets,
        latency_ms=args.latency_ms,
        stop_delay_ms=args.stop_delay_ms,
        pulumi=args.pulumi,
        warmup=not args.no_warmup,
        rounds=args.rounds,
    )
    return options, args.output, args.json


def main(argv: Sequence[str] | None = None) -> None:
    """Run, print the tables (and write them)."""
    options, output, json_path = parse_args(argv)
    report = run(options, say=lambda line: print(line, flush=True))
    text = markdown(report)
    print()
    print(text, flush=True)
    if output is not None:
        output.write_text(text)
    if json_path is not None:
        json_path.write_text(json.dumps(asdict(report), indent=2))


if __name__ == "__main__":
    main()
