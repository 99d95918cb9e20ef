"""Teardown side by side: one BackfillGuard drain against what else stops backfill tickets.

Everything runs against the local emulator (``python -m gamelift_emulator``, loopback, in
its own process) with a realistic setting: 5 ms latency on every GameLift call and
200 ms between StopMatchmaking and CANCELLED. Resources are driven through the real
plugin (``tests/plugin_host.py`` starts ``python -m pulumi.dynamic`` as the engine does),
so the figures include gRPC, state serialization and the provider itself.

Rows (see docs/benchmarks.md):

1. one BackfillGuard delete draining N automatic tickets;
2. the same N tickets as adopted BackfillTicket resources, deleted 4 at a time (the
   plugin serves at most 4 calls at once, whatever the engine's parallelism);
3. a destroy-time ``aws gamelift stop-matchmaking`` per ticket, sequential (AWS CLI in
   its own virtualenv); beyond ``--cli-full-max`` tickets a sample is timed and the
   total extrapolated linearly, and the table says so;
4. the guard with the emulator's throttle on (per-operation token buckets) against the
   floor max(cancellation delay, N / rate);
5. K guards, each in its own plugin process, draining their own fleets at once in one
   throttled account, once per botocore retry mode;
6. row 2's tickets as BackfillTicket resources of the native plugin
   (``bin/pulumi-resource-gamelift-backfill``, started as the engine starts it), deleted
   ``--native-parallel`` (16) at a time, as the engine's parallelism sends them: the native
   plugin has no 4-call cap. Compared with row 2 and with the guard.

Also: GameLift calls per ticket of the drain (listing pages counted apart) and the
plugin process's peak RSS (VmHWM) for a drain of ``--memory-sessions`` game sessions.

    python -m bench.bench_teardown [--quick] [--sizes 100,1000] [--guards 20] ...

Bounded: every plugin call has a timeout, every process started here is stopped here.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import boto3
import botocore.config

from bench.bench_emulator import emulator_url
from bench.ratios import ratio_words
from gamelift_backfill.backfill_guard import BackfillGuardArgs, BackfillGuardProvider
from gamelift_backfill.backfill_ticket import BackfillTicketArgs, BackfillTicketProvider
from gamelift_backfill.core.waiters import ACTIVE_STATUSES
from gamelift_backfill.reference import PACKAGE, TICKET_TOKEN
from gamelift_emulator import EmulatorControl
from testkit.aws_env import isolated_aws_env, isolated_environ
from testkit.plugin_host import (
    PLUGIN_MAX_CONCURRENT_CALLS,
    EngineStub,
    PluginError,
    PluginHost,
    make_urn,
    program_inputs,
    state_round_trip,
)
from testkit.seeding import seed_configuration

ROOT = Path(__file__).resolve().parent.parent

NATIVE_PLUGIN = ROOT / "bin" / "pulumi-resource-gamelift-backfill"
AWS_CLI = ROOT / ".venv-awscli" / "bin" / "aws"
RESULTS = Path(__file__).resolve().parent / "results" / "latest.md"
REGION = "us-east-1"
CONFIGURATION = "bench-auto"
GUARD_TYPE = "pulumi-python:dynamic/gamelift:BackfillGuard"
TICKET_TYPE = "pulumi-python:dynamic/gamelift:BackfillTicket"
LISTING = "DescribeGameSessions"
SEED_THREADS = 8

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Options:
    """Sizes and emulator settings of one run; ``--quick`` shrinks the sizes only."""

    sizes: tuple[int, ...] = (100, 1000)
    cli_full_max: int = 100
    cli_sample: int = 100
    latency_ms: float = 5.0
    stop_delay_ms: float = 200.0
    throttle_rate: float = 20.0
    throttle_burst: float = 40.0
    guards: int = 20
    tickets_per_guard: int = 50
    memory_sessions: int = 10_000
    retry_modes: tuple[str, ...] = ("standard", "adaptive")
    stop_timeout_seconds: int = 900
    call_timeout_seconds: float = 960.0
    native_parallel: int = 16  # the engine's default parallelism on a 4-CPU machine
    quick: bool = False

    def floor(self, tickets: int) -> float:
        """The fastest any drain can go: one cancellation delay, or N StopMatchmaking
        calls at the throttled rate, whichever is longer."""
        return max(self.stop_delay_ms / 1000.0, tickets / self.throttle_rate)

    def strict_bound(self, tickets: int) -> float:
        """The exact lower bound, a little under the floor: the bucket starts full, so the
        last accepted stop comes (N - burst) / rate in, and its cancel lands one delay later."""
        return max(0.0, tickets - self.throttle_burst) / self.throttle_rate + (
            self.stop_delay_ms / 1000.0
        )


QUICK = Options(
    sizes=(4, 8),
    cli_full_max=4,
    cli_sample=2,
    guards=2,
    tickets_per_guard=3,
    memory_sessions=50,
    quick=True,
)


@dataclass
class Row:
    """One line of the table: a scenario timed once at one size."""

    row: int
    scenario: str
    tickets: int
    seconds: float
    basis: str  # "measured", or how it was extrapolated
    compare: str = ""  # ratio to the guard or to the floor
    notes: str = ""


@dataclass
class Target:
    """One of issue 4's targets, with the figure it was judged on."""

    name: str
    measured: str
    passed: bool


@dataclass
class Drain:
    """What one guard delete did: time, calls by operation, tickets left active."""

    seconds: float
    calls: dict[str, int]
    left_active: int
    error: str | None = None
    peak_rss_kb: int = 0
    rss_before_kb: int = 0

    def calls_per_ticket(self, tickets: int) -> float:
        """GameLift calls per ticket beyond the listing pages (throttled attempts count)."""
        beyond = sum(n for op, n in self.calls.items() if op != LISTING)
        return beyond / max(1, tickets)


@dataclass
class Report:
    """Everything the run measured, for the table, the markdown file and ``--json``."""

    options: Options
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    details: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Fleet:
    """A seeded fleet and the automatic backfill tickets of its sessions."""

    fleet_id: str
    ticket_ids: list[str]


@dataclass(frozen=True)
class Deployed:
    """A resource as the engine keeps it in state after create."""

    urn: str
    id: str
    outs: dict[str, Any]
    inputs: dict[str, Any]


# -- the emulator and the account --------------------------------------------------------


class Account:
    """The emulated GameLift account: seeding, faults, call counters, ticket statuses."""

    def __init__(self, url: str, options: Options) -> None:
        self.url = url
        self.options = options
        self.control = EmulatorControl(url, timeout=60)
        self.gamelift = boto3.session.Session().client(
            "gamelift",
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=botocore.config.Config(retries={"total_max_attempts": 1}),
        )

    def fresh(self, sessions_per_fleet: Sequence[int]) -> list[Fleet]:
        """Forget everything; one fleet per entry with that many non-full matchmade
        sessions, each with its automatic backfill ticket."""
        self.control.reset()
        self.control.settings(stop_delay_ms=self.options.stop_delay_ms)
        seed_configuration(
            self.gamelift,
            CONFIGURATION,
            backfill_mode="AUTOMATIC",
            timeout_seconds=43200,  # no ticket times out during the run
            rule_set="bench",
            queue="bench",
        )
        fleets = []
        for count in sessions_per_fleet:
            fleet_id = self.control.create_fleet()["fleet_id"]
            tickets = parallel_map(self._seed_session, [fleet_id] * count)
            fleets.append(Fleet(fleet_id, tickets))
        self.realistic()
        return fleets

    def _seed_session(self, fleet_id: str) -> str:
        session = self.control.create_game_session(fleet_id, CONFIGURATION, 2, 4)
        ticket_id = session["auto_backfill_ticket_id"]
        assert ticket_id, "a non-full session of an AUTOMATIC configuration has a ticket"
        return str(ticket_id)

    def realistic(self) -> None:
        """5 ms on every GameLift call, no throttling (buckets forgotten)."""
        self.control.faults(latency_ms=self.options.latency_ms)

    def throttled(self) -> None:
        """The realistic latency plus a token bucket per operation (full at the start)."""
        self.control.faults(
            latency_ms=self.options.latency_ms,
            throttle={"rate": self.options.throttle_rate, "burst": self.options.throttle_burst},
        )

    def calls(self) -> Counter[str]:
        """GameLift calls per operation since the reset (throttled attempts included)."""
        return Counter(self.control.calls())

    def active(self) -> int:
        """Tickets of any kind still active in the account."""
        return sum(1 for t in self.control.tickets() if t.get("Status") in ACTIVE_STATUSES)


# -- the plugin ---------------------------------------------------------------------------


def plugin_env(home: Path, retry_mode: str | None = None) -> dict[str, str]:
    """On top of the isolated environment (``run``): a home of its own, and botocore's own
    ``AWS_RETRY_MODE`` (honoured by the core) when given."""
    env = {"HOME": str(home), "AWS_PAGER": ""}
    if retry_mode:
        env["AWS_RETRY_MODE"] = retry_mode
    return env


@contextlib.contextmanager
def plugin(home: Path, options: Options, retry_mode: str | None = None) -> Iterator[PluginHost]:
    """A plugin process as the engine starts one for a stack; stopped on exit."""
    host = PluginHost(
        config={"aws:region": REGION},
        env=plugin_env(home, retry_mode),
        call_timeout=options.call_timeout_seconds,
    )
    with host:
        yield host


def deploy(host: PluginHost, urn: str, provider: Any, props: dict[str, Any]) -> Deployed:
    """Check then create, as ``pulumi up`` does; the result as it is stored in state."""
    checked = host.check(urn, {}, program_inputs(provider, props))
    if checked.failures:
        raise RuntimeError(f"check failed for {urn}: {checked.failures}")
    created = host.create(urn, checked.inputs)
    return Deployed(
        urn, created.id, state_round_trip(created.outs), state_round_trip(checked.inputs)
    )


def destroy(host: PluginHost, resource: Deployed) -> None:
    """Delete from state, as ``pulumi destroy`` does."""
    host.delete(resource.id, resource.urn, resource.outs, old_inputs=resource.inputs)


def deploy_guard(
    host: PluginHost, url: str, fleet_id: str, name: str, options: Options
) -> Deployed:
    """A BackfillGuard of one fleet, filtered on the bench configuration."""
    args = BackfillGuardArgs(
        fleet_ids=[fleet_id],
        configuration_name=CONFIGURATION,
        region=REGION,
        endpoint_url=url,
        stop_timeout_seconds=options.stop_timeout_seconds,
    )
    return deploy(host, make_urn(name, GUARD_TYPE), BackfillGuardProvider(), args.to_props())


def deploy_ticket(host: PluginHost, url: str, ticket_id: str, options: Options) -> Deployed:
    """A BackfillTicket adopting an existing (automatic) ticket: ``ticket_id`` alone."""
    args = BackfillTicketArgs(
        ticket_id=ticket_id,
        region=REGION,
        endpoint_url=url,
        stop_timeout_seconds=options.stop_timeout_seconds,
    )
    urn = make_urn(f"ticket-{ticket_id[-12:]}", TICKET_TYPE)
    return deploy(host, urn, BackfillTicketProvider(), args.to_props())


@contextlib.contextmanager
def native_plugin(home: Path, options: Options, url: str) -> Iterator[PluginHost]:
    """The native plugin as the engine starts it (engine stub for its log); stopped on exit."""
    host = PluginHost(
        command=[str(NATIVE_PLUGIN)],
        package=PACKAGE,
        engine=EngineStub(),
        config={"region": REGION, "endpointUrl": url},
        env=plugin_env(home),
        call_timeout=options.call_timeout_seconds,
    )
    with host:
        yield host


def deploy_native_ticket(host: PluginHost, ticket_id: str, options: Options) -> Deployed:
    """A native BackfillTicket adopting an existing ticket (``ticketId`` alone)."""
    urn = make_urn(f"ticket-{ticket_id[-12:]}", TICKET_TOKEN)
    props = {"ticketId": ticket_id, "stopTimeoutSeconds": options.stop_timeout_seconds}
    checked = host.check(urn, {}, props)
    if checked.failures:
        raise RuntimeError(f"check failed for {urn}: {checked.failures}")
    created = host.create(urn, checked.inputs)
    return Deployed(
        urn, created.id, state_round_trip(created.outs), state_round_trip(checked.inputs)
    )


def memory_kb(pid: int, key: str) -> int:
    """``VmHWM`` (peak resident set) or ``VmRSS`` of a process, in kB (0 if unreadable)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


# -- scenarios ----------------------------------------------------------------------------


def parallel_map(
    fn: Callable[[T], R], items: Sequence[T] | range, workers: int = SEED_THREADS
) -> list[R]:
    """``map`` on a bounded thread pool, results in order; the first error propagates."""
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(fn, items))


def timed(fn: Callable[[], object]) -> float:
    """Wall-clock seconds of ``fn()``."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def guard_drain(account: Account, home: Path, sessions: int, *, throttled: bool) -> Drain:
    """Row 1 (or 4 when throttled): create one guard, then time its delete."""
    options = account.options
    (fleet,) = account.fresh([sessions])
    with plugin(home, options) as host:
        guard = deploy_guard(host, account.url, fleet.fleet_id, "guard", options)
        if throttled:
            account.throttled()
        before = account.calls()
        rss_before = memory_kb(host.pid, "VmRSS")
        error = None
        started = time.perf_counter()
        try:
            destroy(host, guard)
        except Exception as exc:  # reported as a failure, not hidden
            error = _reason(exc)
        seconds = time.perf_counter() - started
        calls = dict(account.calls() - before)
        peak = memory_kb(host.pid, "VmHWM")
    account.realistic()
    return Drain(seconds, calls, account.active(), error, peak, rss_before)


def ticket_deletes(account: Account, home: Path, tickets: int) -> float:
    """Row 2: adopt each ticket as a BackfillTicket, then time deleting them 4 at a time."""
    options = account.options
    (fleet,) = account.fresh([tickets])
    workers = PLUGIN_MAX_CONCURRENT_CALLS
    with plugin(home, options) as host:
        resources = parallel_map(
            lambda ticket_id: deploy_ticket(host, account.url, ticket_id, options),
            fleet.ticket_ids,
            workers,
        )
        seconds = timed(lambda: parallel_map(lambda r: destroy(host, r), resources, workers))
    left = account.active()
    if left:
        raise RuntimeError(f"{left} ticket(s) still active after the BackfillTicket deletes")
    return seconds


def cli_stops(account: Account, home: Path, tickets: int) -> tuple[float, str]:
    """Row 3: one ``aws gamelift stop-matchmaking`` per ticket, sequential; sampled and
    extrapolated linearly beyond ``cli_full_max``. Returns seconds and the basis."""
    options = account.options
    (fleet,) = account.fresh([tickets])
    ids = fleet.ticket_ids
    sample = ids if tickets <= options.cli_full_max else ids[: options.cli_sample]
    env = isolated_environ(HOME=str(home), AWS_PAGER="")
    command = [str(AWS_CLI), "gamelift", "stop-matchmaking", "--region", REGION]
    command += ["--endpoint-url", account.url]
    started = time.perf_counter()
    for ticket_id in sample:
        subprocess.run(
            [*command, "--ticket-id", ticket_id],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
    seconds = time.perf_counter() - started
    stopped = account.calls().get("StopMatchmaking", 0)
    if stopped != len(sample):
        raise RuntimeError(f"emulator counted {stopped} StopMatchmaking, ran {len(sample)}")
    if len(sample) == tickets:
        return seconds, "measured"
    per = seconds / len(sample)
    return (
        per * tickets,
        f"extrapolated: {len(sample)} of {tickets} run ({per:.2f} s each) x{tickets}",
    )


def native_ticket_deletes(account: Account, home: Path, tickets: int) -> float:
    """Row 6: row 2 through the native plugin, ``native_parallel`` deletes at a time."""
    options = account.options
    (fleet,) = account.fresh([tickets])
    workers = options.native_parallel
    with native_plugin(home, options, account.url) as host:
        resources = parallel_map(
            lambda ticket_id: deploy_native_ticket(host, ticket_id, options),
            fleet.ticket_ids,
            workers,
        )
        seconds = timed(lambda: parallel_map(lambda r: destroy(host, r), resources, workers))
    left = account.active()
    if left:
        raise RuntimeError(f"{left} ticket(s) still active after the native deletes")
    return seconds


@dataclass
class Crowd:
    """Row 5: K guards deleted at once."""

    seconds: float
    failures: list[str]
    calls: dict[str, int]
    left_active: int
    slowest: float


def many_guards(account: Account, home: Path, retry_mode: str) -> Crowd:
    """K plugin processes (K stacks), one guard each on its own fleet, deleted at once."""
    options = account.options
    fleets = [f.fleet_id for f in account.fresh([options.tickets_per_guard] * options.guards)]
    with contextlib.ExitStack() as stack:
        hosts = [stack.enter_context(plugin(home, options, retry_mode)) for _ in fleets]
        guards = parallel_map(
            lambda i: deploy_guard(hosts[i], account.url, fleets[i], f"guard-{i}", options),
            range(len(fleets)),
            len(fleets),
        )
        account.throttled()
        before = account.calls()
        durations: list[float] = [0.0] * len(fleets)
        failures: list[str] = []
        lock = threading.Lock()

        def one(i: int) -> None:
            started = time.perf_counter()
            try:
                destroy(hosts[i], guards[i])
            except Exception as exc:
                with lock:
                    failures.append(f"guard-{i} after {time.perf_counter() - started:.1f} s: ")
                    failures[-1] += _reason(exc)
            durations[i] = time.perf_counter() - started

        seconds = timed(lambda: parallel_map(one, range(len(fleets)), len(fleets)))
        calls = dict(account.calls() - before)
    account.realistic()
    return Crowd(seconds, failures, calls, account.active(), max(durations))


# -- the run ------------------------------------------------------------------------------


def run(options: Options, say: Callable[[str], None] = print) -> Report:
    """Every scenario, in one emulator, one after the other; returns the report."""
    report = Report(options)
    with (
        isolated_aws_env(),
        emulator_url(in_process=False) as url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        home = Path(tmp)
        account = Account(url, options)
        drains: dict[int, Drain] = {}
        for n in options.sizes:
            say(f"[1] guard drain, N={n}")
            drains[n] = drain = guard_drain(account, home, n, throttled=False)
            _check_drain(drain, f"guard drain N={n}")
            report.rows.append(Row(1, "BackfillGuard delete", n, drain.seconds, "measured"))
        for n in options.sizes:
            say(f"[2] {n} BackfillTicket deletes, {PLUGIN_MAX_CONCURRENT_CALLS} at a time")
            seconds = ticket_deletes(account, home, n)
            report.rows.append(
                Row(
                    2,
                    "BackfillTicket deletes (4 at a time)",
                    n,
                    seconds,
                    "measured",
                    _faster(seconds, drains[n].seconds),
                )
            )
        for n in options.sizes:
            say(f"[6] {n} native BackfillTicket deletes, {options.native_parallel} at a time")
            seconds = native_ticket_deletes(account, home, n)
            dynamic = next(r for r in report.rows if r.row == 2 and r.tickets == n).seconds
            report.rows.append(
                Row(
                    6,
                    f"native BackfillTicket deletes ({options.native_parallel} at a time)",
                    n,
                    seconds,
                    "measured",
                    f"{ratio_words(dynamic / seconds)} than row 2; "
                    + _faster(seconds, drains[n].seconds),
                )
            )
        for n in options.sizes:
            say(f"[3] AWS CLI stop-matchmaking per ticket, N={n}")
            seconds, basis = cli_stops(account, home, n)
            report.rows.append(
                Row(
                    3,
                    "aws gamelift stop-matchmaking per ticket",
                    n,
                    seconds,
                    basis,
                    _faster(seconds, drains[n].seconds),
                    "does not wait for CANCELLED",
                )
            )
        throttled: dict[int, Drain] = {}
        for n in options.sizes:
            say(f"[4] guard drain, throttled, N={n}")
            throttled[n] = drain = guard_drain(account, home, n, throttled=True)
            report.rows.append(
                Row(
                    4,
                    "BackfillGuard delete, throttled",
                    n,
                    drain.seconds,
                    "measured",
                    _vs_floor(drain.seconds, options, n),
                    _drain_notes(drain),
                )
            )
        crowds: dict[str, Crowd] = {}
        total = options.guards * options.tickets_per_guard
        for mode in options.retry_modes:
            say(f"[5] {options.guards} guards at once, throttled, retry mode {mode}")
            crowds[mode] = crowd = many_guards(account, home, mode)
            notes = (
                f"{len(crowd.failures)} failed, {crowd.left_active} left active, "
                f"{sum(crowd.calls.values())} calls"
            )
            report.rows.append(
                Row(
                    5,
                    f"{options.guards} guards at once, throttled, {mode}",
                    total,
                    crowd.seconds,
                    "measured",
                    _vs_floor(crowd.seconds, options, total),
                    notes,
                )
            )
        say(f"[m] guard drain of {options.memory_sessions} game sessions (peak RSS)")
        memory = guard_drain(account, home, options.memory_sessions, throttled=False)
        _check_drain(memory, f"memory drain of {options.memory_sessions} sessions")
    _judge(report, drains, throttled, crowds, memory)
    return report


def _check_drain(drain: Drain, what: str) -> None:
    """An unthrottled drain that fails or leaves tickets is a bug, not a figure."""
    if drain.error or drain.left_active:
        raise RuntimeError(f"{what}: {drain.error or ''} {drain.left_active} left active")


def _faster(seconds: float, guard: float) -> str:
    return f"guard {ratio_words(seconds / guard)}"


def _vs_floor(seconds: float, options: Options, tickets: int) -> str:
    floor, strict = options.floor(tickets), options.strict_bound(tickets)
    return (
        f"{seconds / floor:.2f}x floor ({floor:.1f} s); "
        f"{seconds / strict:.2f}x strict bound ({strict:.1f} s)"
    )


def _reason(exc: Exception) -> str:
    """The provider's own message (last line of the plugin's traceback), shortened."""
    message = exc.provider_message if isinstance(exc, PluginError) else str(exc)
    return f"{type(exc).__name__}: {message[:300]}"


def _drain_notes(drain: Drain) -> str:
    status = "failed: " + drain.error if drain.error else "ok"
    return f"{status}, {drain.left_active} left active, {sum(drain.calls.values())} calls"


def _judge(
    report: Report,
    drains: dict[int, Drain],
    throttled: dict[int, Drain],
    crowds: dict[str, Crowd],
    memory: Drain,
) -> None:
    """The targets of issue 4, judged at the largest size, plus the detail behind them."""
    options = report.options
    n = max(options.sizes)
    by_row = {(r.row, r.tickets): r for r in report.rows}
    guard = by_row[(1, n)].seconds
    tickets_x = by_row[(2, n)].seconds / guard
    cli = by_row[(3, n)]
    cli_x = cli.seconds / guard
    cli_basis = "" if cli.basis == "measured" else " (CLI time extrapolated)"
    report.targets.append(
        Target(
            f"guard >= 10x faster than BackfillTicket deletes, N={n}",
            f"{tickets_x:.1f}x",
            tickets_x >= 10,
        )
    )
    report.targets.append(
        Target(
            f"guard >= 100x faster than AWS CLI per ticket, N={n}",
            f"{cli_x:.1f}x{cli_basis}",
            cli_x >= 100,
        )
    )
    for size, drain in sorted(throttled.items()):
        ratio = drain.seconds / options.floor(size)
        report.targets.append(
            Target(
                f"throttled guard within 1.3x floor, no failure, N={size}",
                f"{ratio:.2f}x, {'failed' if drain.error else 'no failure'}",
                ratio <= 1.3 and not drain.error and not drain.left_active,
            )
        )
    total = options.guards * options.tickets_per_guard
    for mode, crowd in crowds.items():
        ratio = crowd.seconds / options.floor(total)
        ok = ratio <= 1.3 and not crowd.failures and not crowd.left_active
        report.targets.append(
            Target(
                f"{options.guards} guards at once within 1.3x floor, no failure, {mode}",
                f"{ratio:.2f}x, {len(crowd.failures)} failed",
                ok,
            )
        )
    per_ticket = drains[n].calls_per_ticket(n)
    report.targets.append(
        Target(
            f"<= 1.2 calls per ticket beyond listing pages, N={n}",
            f"{per_ticket:.2f}",
            per_ticket <= 1.2,
        )
    )
    peak_mb = memory.peak_rss_kb / 1024
    report.targets.append(
        Target(
            f"peak RSS < 200 MB, {options.memory_sessions} game sessions",
            f"{peak_mb:.0f} MB",
            0 < peak_mb < 200,
        )
    )
    for size, drain in sorted(drains.items()):
        report.details.append(f"guard drain N={size}: {_calls_text(drain, size)}")
    for size, drain in sorted(throttled.items()):
        report.details.append(f"throttled guard drain N={size}: {_calls_text(drain, size)}")
    for mode, crowd in crowds.items():
        report.details.append(
            f"{options.guards} guards, {mode}: slowest guard {crowd.slowest:.1f} s; "
            f"calls {_ops(crowd.calls)}"
            + (f"; failures: {'; '.join(crowd.failures[:3])}" if crowd.failures else "")
        )
    report.details.append(
        f"memory: {options.memory_sessions} sessions drained in {memory.seconds:.1f} s; plugin "
        f"RSS before the delete {memory.rss_before_kb / 1024:.0f} MB, peak (VmHWM, whole "
        f"process life: imports, create's listing, drain) {peak_mb:.0f} MB; "
        f"{_calls_text(memory, options.memory_sessions)}"
    )


def _ops(calls: dict[str, int]) -> str:
    return ", ".join(f"{op} {count}" for op, count in sorted(calls.items()))


def _calls_text(drain: Drain, tickets: int) -> str:
    return (
        f"{drain.calls_per_ticket(tickets):.2f} calls/ticket beyond "
        f"{drain.calls.get(LISTING, 0)} listing pages ({_ops(drain.calls)})"
    )


# -- output -------------------------------------------------------------------------------


def markdown(report: Report) -> str:
    """The report as markdown: the table, the targets, the detail, the settings."""
    o = report.options
    lines = [
        f"Teardown benchmark, {date.today().isoformat()}"
        + (" (--quick: tiny sizes, not a measurement)" if o.quick else ""),
        "",
        f"Emulator: {o.latency_ms:g} ms latency per call, {o.stop_delay_ms:g} ms cancellation "
        f"delay; throttled rows: {o.throttle_rate:g} calls/s, burst {o.throttle_burst:g}, "
        "per operation.",
        "",
        "| # | scenario | tickets | time (s) | basis | compared | notes |",
        "|---|---|---:|---:|---|---|---|",
    ]
    for r in report.rows:
        lines.append(
            f"| {r.row} | {r.scenario} | {r.tickets} | {r.seconds:.2f} | {r.basis} | "
            f"{r.compare} | {r.notes} |"
        )
    lines += ["", "| target | measured | result |", "|---|---|---|"]
    for t in report.targets:
        lines.append(f"| {t.name} | {t.measured} | {'PASS' if t.passed else 'FAIL'} |")
    lines += [""] + [f"- {d}" for d in report.details]
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None = None) -> tuple[Options, Path, Path | None]:
    """Options, markdown path and JSON path; ``--quick`` first, explicit flags override."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--sizes", help="ticket counts of rows 1-4, comma-separated")
    parser.add_argument("--cli-full-max", type=int, help="run the CLI for every ticket up to N")
    parser.add_argument("--cli-sample", type=int, help="CLI commands timed beyond that")
    parser.add_argument("--guards", type=int, help="K of row 5")
    parser.add_argument("--tickets-per-guard", type=int)
    parser.add_argument("--memory-sessions", type=int)
    parser.add_argument("--retry-modes", help="comma-separated: standard,adaptive")
    parser.add_argument("--throttle-rate", type=float)
    parser.add_argument("--throttle-burst", type=float)
    parser.add_argument("--native-parallel", type=int, help="deletes at once in row 6 (16)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="markdown file")
    parser.add_argument("--json", type=Path, help="also write the report as JSON")
    args = parser.parse_args(argv)
    options = QUICK if args.quick else Options()
    changes: dict[str, Any] = {}
    if args.sizes:
        changes["sizes"] = tuple(int(s) for s in args.sizes.split(","))
    if args.retry_modes:
        changes["retry_modes"] = tuple(args.retry_modes.split(","))
    for name in (
        "cli_full_max",
        "cli_sample",
        "guards",
        "tickets_per_guard",
        "memory_sessions",
        "throttle_rate",
        "throttle_burst",
        "native_parallel",
    ):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    return replace(options, **changes), args.output, args.json


def main(argv: Sequence[str] | None = None) -> None:
    """Command line entry point: run, print the table, write the markdown (and JSON)."""
    options, output, json_path = parse_args(argv)
    report = run(options, say=lambda line: print(line, flush=True))
    text = markdown(report)
    print()
    print(text)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    if json_path:
        json_path.write_text(json.dumps(asdict(report), indent=2))


if __name__ == "__main__":
    main()
