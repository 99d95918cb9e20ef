"""A seeded randomized soak of teardowns: generator, runner and summary.

Each scenario, generated from ``(seed, index)`` alone, builds a world on the emulator
(fleets, game sessions with automatic backfill, manual tickets as BackfillTicket
resources, tickets forced into PLACING, REQUIRES_ACCEPTANCE or a final status), turns on a
fault mix (error rate, throttling, latency), and deletes: a BackfillGuard drain or the
BackfillTicket resources (up to 4 at once, as the engine does). While it deletes, events
fire at points the emulator's call counters show: game sessions terminate, a fleet is
deleted, automatic tickets time out (and GameLift regenerates them), placements finish.
GameLift starts a session's replacement automatic ticket after a seeded random gap
(``auto_backfill_delay_ms`` + jitter): none, short, or longer than a whole drain.

Checked for every scenario:

- a reported success leaves no active ticket and every game session quiet (GameLift can
  start no automatic backfill for it: backfill turned off by an accepted StopMatchmaking,
  not ACTIVE, full, or not AUTOMATIC), and the configuration can be deleted;
- a failure is clear: a known error code, naming the tickets (every ticket still active
  for a timeout) or fleet concerned, never a player ID;
- a failure is recoverable: clear the faults, let uncancellable tickets end, delete again
  from the same state: success, with the checks above.

Most scenarios call the provider classes in this process against one shared in-process
emulator (reset between scenarios), with polling and retry delays compressed
(`compressed_time`) so hundreds run in a minute. A seeded fraction runs through the real
plugin (`testkit.plugin_host.PluginHost`) at real speed, through a loopback proxy that
SIGKILLs the plugin the moment its seeded n-th StopMatchmaking call arrives (an event, not a
guessed time); a new plugin then deletes from the same state. Everything is loopback. A run
is exactly ``scenarios`` scenarios: its verdict comes from their outcomes, never from how
fast the machine is.

``python tests/soak.py --scenarios 2000 --seed 7`` runs it outside pytest;
``make soak`` runs the long version through pytest (marker ``soak_long``).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self
from unittest import mock

TESTS_DIR = Path(__file__).resolve().parent
for _path in (TESTS_DIR, TESTS_DIR.parent):  # as a script: import as under pytest
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.retries.standard  # noqa: E402
import pulumi  # noqa: E402
from fault_helpers import DYNAMIC_GUARD_URN as GUARD_URN  # noqa: E402
from fault_helpers import DYNAMIC_TICKET_URN as TICKET_URN  # noqa: E402
from fault_helpers import FaultProxy  # noqa: E402
from pulumi.dynamic import ConfigureRequest  # noqa: E402
from pulumi.dynamic.config import Config  # noqa: E402

import gamelift_backfill.core.tickets as core_tickets  # noqa: E402
from gamelift_backfill.backfill_guard import BackfillGuardArgs, BackfillGuardProvider  # noqa: E402
from gamelift_backfill.backfill_ticket import (  # noqa: E402
    DERIVED_KEY,
    BackfillTicketArgs,
    BackfillTicketProvider,
)
from gamelift_backfill.core.clients import clear_client_cache  # noqa: E402
from gamelift_backfill.core.errors import (  # noqa: E402
    BackfillError,
    NotQuietError,
    StopTimeoutError,
)
from gamelift_backfill.core.starting import derive_ticket_id  # noqa: E402
from gamelift_backfill.core.waiters import ACTIVE_STATUSES, Backoff  # noqa: E402
from gamelift_emulator import Emulator, EmulatorControl  # noqa: E402
from testkit.aws_env import isolated_aws_env  # noqa: E402
from testkit.plugin_host import (  # noqa: E402
    PluginError,
    PluginHost,
    program_inputs,
    state_round_trip,
)
from testkit.seeding import seed_configuration  # noqa: E402

REGION = "us-east-1"
CONFIGURATION = "cfg"
KNOWN_CODES = frozenset(
    {
        "VALIDATION_ERROR",
        "NOT_FOUND",
        "THROTTLED",
        "AUTH_ERROR",
        "SERVICE_ERROR",
        "UNSUPPORTED_REGION",
        "CONNECTION_ERROR",
        "TIMEOUT",
    }
)
CODE_BY_CLASS = {
    "BackfillError": "SERVICE_ERROR",
    "InputError": "VALIDATION_ERROR",
    "MatchmakerDataError": "VALIDATION_ERROR",
    "NotFoundError": "NOT_FOUND",
    "ThrottledError": "THROTTLED",
    "AuthError": "AUTH_ERROR",
    "ServiceError": "SERVICE_ERROR",
    "UnsupportedRegionError": "UNSUPPORTED_REGION",
    "EndpointError": "CONNECTION_ERROR",
    "StopTimeoutError": "TIMEOUT",
    "NotQuietError": "TIMEOUT",  # sessions that may still start automatic backfill
}
# Injected errors: 5xx, which botocore retries. (Injected ThrottlingException answers are
# left to the fault matrix: adaptive retry mode then holds the client at its floor rate of
# 0.5 calls/s for seconds, which this soak's time compression cannot shorten.)
ERROR_MIXES = (("InternalServiceException",),)
HANG_GUARD_SECONDS = 600.0  # only against a hang: a delete takes seconds
ENGINE_PARALLELISM = 4  # deletes of independent resources run at once, as the engine does
TIME_COMPRESSION = 50.0  # direct scenarios: polls and retry delays this many times shorter
FALSE_SUCCESS = "success reported, but"  # how a problem after a reported success begins

Kind = Literal["guard", "tickets"]
EventKind = Literal["terminate", "delete_fleet", "time_out", "place", "queue"]
Result = Literal["success", "recovered", "unrecovered"]
Resources = list[tuple[str, dict[str, Any]]]  # (ID, outputs in state)
Delete = Callable[[str, dict[str, Any]], None]


# -- generation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Faults:
    """A fault mix for the emulator (``POST /_emulator/faults``)."""

    seed: int
    error_rate: float = 0.0
    error_codes: tuple[str, ...] = ("InternalServiceException",)
    throttle: tuple[float, float] | None = None  # (rate per second, burst)
    latency_ms: float = 0.0

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"seed": self.seed}
        if self.error_rate:
            body["error_rate"] = self.error_rate
            body["error_codes"] = list(self.error_codes)
        if self.throttle:
            body["throttle"] = {"rate": self.throttle[0], "burst": self.throttle[1]}
        if self.latency_ms:
            body["latency_ms"] = self.latency_ms
        return body

    @property
    def any(self) -> bool:
        return bool(self.error_rate or self.throttle or self.latency_ms)


@dataclass(frozen=True)
class Event:
    """Something that happens mid-delete, once ``after_stops`` StopMatchmaking calls were made.

    ``target`` indexes the scenario's sessions (terminate, time_out) or fleets (delete_fleet);
    for ``queue`` (players start matchmaking) it is the number of players, in parties of up
    to 3.
    """

    kind: EventKind
    after_stops: int
    target: int = 0


@dataclass(frozen=True)
class Scenario:
    """One teardown, fully determined by ``(seed, index)``."""

    seed: int
    index: int
    kind: Kind
    sessions_per_fleet: tuple[int, ...]
    forced: tuple[tuple[int, str], ...]  # (session index, status of its ticket)
    faults: Faults
    events: tuple[Event, ...]
    placing_ends: bool  # placements finish during the delete (else: a timeout, then retry)
    via_plugin: bool
    kill_after_stops: int  # plugin scenarios: SIGKILL once this many stops were made
    acceptance: bool = False  # the configuration requires acceptance (nobody accepts)
    placement_ms: float = 100.0  # how long GameLift's own placements take
    replacement_delay_ms: float = 0.0  # the gap before a replacement automatic ticket ...
    replacement_jitter_ms: float = 0.0  # ... plus a seeded random part up to this

    @property
    def sessions(self) -> int:
        return sum(self.sessions_per_fleet)

    @property
    def stop_timeout(self) -> int:
        """Short when a placement never ends in time: the failure is part of the scenario."""
        stuck = any(status == "PLACING" for _, status in self.forced) and not self.placing_ends
        return 1 if stuck else 60


def generate(seed: int, index: int, plugin_fraction: float) -> Scenario:
    """The scenario ``index`` of the run seeded ``seed``; every ``1/plugin_fraction``-th
    one goes through the plugin."""
    rng = random.Random(f"soak:{seed}:{index}")
    plugin_every = round(1 / plugin_fraction) if plugin_fraction > 0 else 0
    kind: Kind = rng.choice(["guard", "guard", "tickets"])
    sessions_per_fleet = tuple(rng.randint(0, 5) for _ in range(rng.randint(1, 3)))
    sessions = sum(sessions_per_fleet)
    forced: list[tuple[int, str]] = []
    for session in range(sessions):
        if rng.random() < 0.25:
            status = rng.choice(
                ["PLACING", "REQUIRES_ACCEPTANCE", "COMPLETED", "TIMED_OUT", "CANCELLED"]
            )
            forced.append((session, status))
    via_plugin = plugin_every > 0 and index % plugin_every == plugin_every // 2
    faults = Faults(
        seed=rng.randint(0, 2**31),
        error_rate=rng.choice([0.0, 0.0, 0.0, 0.1, 0.2, 0.3, 0.6]),
        error_codes=rng.choice(ERROR_MIXES),
        throttle=rng.choice([None, None, None, None, (100.0, 5.0), (200.0, 10.0)]),
        latency_ms=rng.choice([0.0, 0.0, 0.0, 2.0, 5.0]),
    )
    if via_plugin:  # real retry delays: a mild mix keeps the scenario to seconds
        faults = Faults(
            seed=faults.seed, error_rate=min(faults.error_rate, 0.1), latency_ms=faults.latency_ms
        )
    events: list[Event] = []
    for _ in range(rng.choice([0, 0, 1, 2])):
        event_kind: EventKind = rng.choice(["terminate", "time_out", "delete_fleet"])
        target = (
            rng.randrange(len(sessions_per_fleet))
            if event_kind == "delete_fleet"
            else rng.randrange(max(sessions, 1))
        )
        events.append(Event(event_kind, rng.randint(1, max(sessions, 1)), target))
    placing_ends = rng.random() < 0.7
    if placing_ends:
        events.append(Event("place", rng.randint(1, 3)))
    # GameLift's own dynamics, from a stream of their own (the draws above stay as they were):
    # players queue mid-delete and match into the backfilled sessions (PLACING, COMPLETED,
    # sessions filling up, REQUIRES_ACCEPTANCE when the configuration asks for acceptance).
    natural = random.Random(f"soak-natural:{seed}:{index}")
    for _ in range(natural.choice([0, 1, 1, 2])):
        events.append(Event("queue", natural.randint(0, max(sessions, 1)), natural.choice([2, 6])))
    # The gap before a replacement automatic ticket (AWS documents none), from a stream of its
    # own: none, short, or longer than a whole drain (in-process drains take well under 1 s);
    # each replacement's own delay is uniform in [delay, delay + delay / 2].
    gap = random.Random(f"soak-gap:{seed}:{index}")
    delay_ms = gap.choice(
        [0.0, 0.0, gap.uniform(20, 200), gap.uniform(200, 1000), gap.uniform(1000, 3000)]
    )
    # Once "regenerate"; drawn still so the draws after it are unchanged. GameLift always
    # replaces an automatic ticket that ended on its own, after the gap drawn above.
    rng.random()
    return Scenario(
        seed=seed,
        index=index,
        kind=kind,
        sessions_per_fleet=sessions_per_fleet,
        forced=tuple(forced),
        faults=faults,
        events=tuple(events),
        placing_ends=placing_ends,
        acceptance=natural.random() < 0.2,
        placement_ms=natural.choice([20.0, 100.0, 300.0]),
        replacement_delay_ms=delay_ms,
        replacement_jitter_ms=delay_ms / 2,
        via_plugin=via_plugin,
        kill_after_stops=rng.randint(1, max(sessions, 1)),
    )


# -- outcome and summary -------------------------------------------------------------------


@dataclass
class Outcome:
    """What happened to one scenario."""

    scenario: Scenario
    result: Result
    first_error: str | None = None  # the code of the first attempt's failure
    killed: bool = False
    matches: int = 0  # matches GameLift made during the scenario (PotentialMatchCreated)
    waited_for_acceptance: int = 0  # of which needed acceptance
    problem: str | None = None  # for an unrecovered scenario: what went wrong
    seconds: float = 0.0
    false_success: bool = False  # success reported with a ticket active or a session not quiet
    first_delete_seconds: float = 0.0  # how long the first attempt's deletes took
    replacement_after_quiet_pass: bool = False  # see `GapWatch`
    needed_manual: bool = False  # recovered only once the configuration was MANUAL


@dataclass
class Summary:
    """The figures of a soak run."""

    seed: int
    outcomes: list[Outcome] = field(default_factory=list)
    wall_seconds: float = 0.0

    @property
    def scenarios(self) -> int:
        return len(self.outcomes)

    def count(self, result: Result) -> int:
        return sum(1 for o in self.outcomes if o.result == result)

    @property
    def unrecovered(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.result == "unrecovered"]

    @property
    def false_successes(self) -> list[Outcome]:
        """Scenarios where a delete reported success with a ticket active or a session not
        quiet (each also unrecovered)."""
        return [o for o in self.outcomes if o.false_success]

    @property
    def replacements_after_quiet_pass(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.replacement_after_quiet_pass]

    def report(self) -> str:
        """A few lines for a terminal or a document."""
        plugin = [o for o in self.outcomes if o.scenario.via_plugin]
        codes = Counter(o.first_error for o in self.outcomes if o.first_error)
        gap = [o for o in self.outcomes if o.scenario.replacement_delay_ms > 0]
        longer = [o for o in gap if o.scenario.replacement_delay_ms / 1000 > o.first_delete_seconds]
        lines = [
            f"soak seed {self.seed}: {self.scenarios} scenarios in {self.wall_seconds:.1f} s",
            f"  succeeded first time: {self.count('success')}",
            f"  failed clearly, then recovered by a retry: {self.count('recovered')}"
            + (f" ({', '.join(f'{c} {n}' for c, n in sorted(codes.items()))})" if codes else ""),
            f"  unrecovered: {self.count('unrecovered')}",
            f"  reported success with a ticket active or a session not quiet: "
            f"{len(self.false_successes)}",
            f"  with a gap before replacement tickets: {len(gap)} "
            f"(up to {max((o.scenario.replacement_delay_ms * 1.5 for o in gap), default=0):.0f}"
            f" ms; longer than the scenario's whole first delete: {len(longer)})",
            f"  a replacement appeared after a drain read that saw nothing active: "
            f"{len(self.replacements_after_quiet_pass)}",
            f"  recovered only with BackfillMode MANUAL (the remedy of a repeated "
            f"NotQuietError): {sum(1 for o in self.outcomes if o.needed_manual)}",
            f"  with GameLift's own matches during the delete: "
            f"{sum(1 for o in self.outcomes if o.matches)} "
            f"({sum(o.matches for o in self.outcomes)} matches, "
            f"{sum(o.waited_for_acceptance for o in self.outcomes)} waiting for acceptance)",
            f"  through the plugin: {len(plugin)}, of which SIGKILLed mid-delete: "
            f"{sum(1 for o in plugin if o.killed)}",
        ]
        lines += [f"  UNRECOVERED #{o.scenario.index}: {o.problem}" for o in self.unrecovered[:10]]
        return "\n".join(lines)


# -- running -------------------------------------------------------------------------------


@contextmanager
def compressed_time(factor: float = TIME_COMPRESSION) -> Iterator[None]:
    """Shorter polling, batching and retry delays for the in-process scenarios.

    Only the waits are scaled; the logic under test (what is stopped, retried, reported)
    is the same. The plugin scenarios run at real speed.
    """
    fast = functools.partial(Backoff, initial=0.5 / factor, maximum=10.0 / factor)
    delay = botocore.retries.standard.ExponentialBackoff.delay_amount

    def scaled(self: Any, context: Any) -> float:
        return float(delay(self, context)) / factor

    with (
        mock.patch.object(core_tickets, "Backoff", fast),
        mock.patch.object(core_tickets, "BATCH_LINGER_SECONDS", 1.0 / factor),
        mock.patch.object(botocore.retries.standard.ExponentialBackoff, "delay_amount", scaled),
    ):
        yield


@contextmanager
def captured_logs() -> Iterator[list[str]]:
    """What the providers log through ``pulumi.log`` (stderr in a plugin), kept, not shown."""
    lines: list[str] = []
    lock = threading.Lock()

    def keep(message: str, *_: Any, **__: Any) -> None:
        with lock:
            lines.append(message)

    with contextlib.ExitStack() as stack:
        for level in ("debug", "info", "warn", "error"):
            stack.enter_context(mock.patch.object(pulumi.log, level, keep))
        yield lines


@dataclass
class Built:
    """What a scenario built: fleets, sessions and their tickets, resources to delete.

    ``proxy``: plugin scenarios' endpoint (stored in every resource's state), where the
    plugin is killed at an exact StopMatchmaking call.
    """

    fleets: list[str]
    sessions: list[str]
    auto_tickets: list[str]
    resources: list[tuple[str, dict[str, Any]]]  # (ID, outputs in state)
    player_ids: set[str]
    proxy: FaultProxy | None = None
    newcomers: list[str] = field(default_factory=list)  # the players' own matchmaking tickets


class _Beside:
    """A thread that watches the emulator while a scenario's deletes run (``with``), if
    ``wanted``; it stops when the block ends."""

    wanted = True

    def __init__(self) -> None:
        self.leave = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> Self:
        if self.wanted:
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.leave.set()
        if self.thread.is_alive():
            self.thread.join(timeout=30)

    def _watch(self) -> None:
        raise NotImplementedError


class Watcher(_Beside):
    """Fires a scenario's events once the emulator shows enough StopMatchmaking calls."""

    def __init__(self, runner: SoakRunner, scenario: Scenario, world: Built) -> None:
        super().__init__()
        self.runner, self.scenario, self.world = runner, scenario, world
        self.pending = sorted(scenario.events, key=lambda e: e.after_stops)
        self.wanted = bool(self.pending)

    def _watch(self) -> None:
        while self.pending and not self.leave.wait(0.005):
            stops = self.runner.control.calls().get("StopMatchmaking", 0)
            while self.pending and self.pending[0].after_stops <= stops:
                self.runner.fire(self.pending.pop(0), self.world)


class GapWatch(_Beside):
    """Sees from outside whether a replacement automatic ticket appeared after a pass of the
    drain that saw nothing active: a read of the drain's (DescribeGameSessions or
    DescribeMatchmaking) made between two looks that both found no backfill ticket active,
    then a new automatic ticket. Watches guard scenarios with a replacement gap only."""

    POLL_SECONDS = 0.02

    def __init__(self, runner: SoakRunner, scenario: Scenario, world: Built) -> None:
        super().__init__()
        self.control, self.world = runner.control, world
        self.seen = False
        self.wanted = scenario.kind == "guard" and scenario.replacement_delay_ms > 0

    def _watch(self) -> None:
        known = {t["TicketId"] for t in self.control.tickets() if t["Automatic"]}
        quiet_at: int | None = None  # the drain's reads when nothing was seen active
        quiet_pass = False
        while not self.leave.wait(self.POLL_SECONDS):
            calls = self.control.calls()
            reads = calls.get("DescribeGameSessions", 0) + calls.get("DescribeMatchmaking", 0)
            backfill = [
                t
                for t in self.control.tickets()
                if t["TicketId"] not in self.world.newcomers
                and (t["Automatic"] or t.get("GameSessionArn"))
            ]
            new = {t["TicketId"] for t in backfill if t["Automatic"]} - known
            if new and quiet_pass:
                self.seen = True
                return
            known |= new
            if any(t["Status"] in ACTIVE_STATUSES for t in backfill):
                quiet_at = None
            elif quiet_at is None:
                quiet_at = reads
            elif reads > quiet_at:
                quiet_pass = True


class SoakRunner:
    """Runs scenarios against one emulator; plugin scenarios share one live plugin."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.control: EmulatorControl = emulator.control
        self.endpoint = emulator.endpoint_url
        self.gamelift = boto3.session.Session().client(
            "gamelift",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=botocore.config.Config(retries={"total_max_attempts": 1}),
        )
        self.ticket_provider = BackfillTicketProvider()
        self.guard_provider = BackfillGuardProvider()
        config = Config(raw_config={"aws:region": REGION}, project_name="gamelift-backfill")
        self.ticket_provider.configure(ConfigureRequest(config))
        self.guard_provider.configure(ConfigureRequest(config))
        self._plugin: PluginHost | None = None
        # The next plugin starts in the background while a scenario runs (a start costs ~1 s).
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="plugin-start")
        self._spare: Future[PluginHost] | None = None

    def close(self) -> None:
        for host in (self._plugin, self._spare.result() if self._spare else None):
            if host is not None:
                host.close()
        self._plugin = self._spare = None
        self._starter.shutdown()

    # -- the run ---------------------------------------------------------------------------

    def run(self, scenario: Scenario) -> Outcome:
        """Build, delete, check; on failure check it is clear, recover and check again."""
        self.control.reset()
        world = self.build(scenario)
        if scenario.via_plugin:
            outcome = self._run_through_plugin(scenario, world)
        else:
            with compressed_time():
                outcome = self._run_direct(scenario, world)
            if scenario.faults.throttle:
                clear_client_cache()  # adaptive mode's client-side rate stays low otherwise
        proposed = [
            e["detail"]
            for e in self.control.events(configuration=CONFIGURATION)
            if e["detail"]["type"] == "PotentialMatchCreated"
        ]
        outcome.matches = len(proposed)
        outcome.waited_for_acceptance = sum(1 for d in proposed if d["acceptanceRequired"])
        return outcome

    def _run_direct(self, scenario: Scenario, world: Built) -> Outcome:
        self.control.faults(**scenario.faults.body())
        with captured_logs() as logs:
            with Watcher(self, scenario, world), GapWatch(self, scenario, world) as gap:
                started = time.monotonic()
                errors = self._delete(world.resources, self._delete_direct)
                first_delete_seconds = time.monotonic() - started
            outcome = self._judge(scenario, world, errors, self._delete_direct)
        outcome.first_delete_seconds = first_delete_seconds
        outcome.replacement_after_quiet_pass = gap.seen
        leaked = [p for p in world.player_ids if any(p in line for line in logs)]
        if leaked and outcome.result != "unrecovered":
            outcome.result, outcome.problem = "unrecovered", f"player ID in the log: {leaked[0]}"
        return outcome

    def _run_through_plugin(self, scenario: Scenario, world: Built) -> Outcome:
        """Delete through the plugin; SIGKILL it when its n-th StopMatchmaking arrives (if the
        delete makes that many), then delete again with a new one."""
        host = first = self._plugin or self._start_plugin()
        assert world.proxy is not None
        self.control.faults(**scenario.faults.body())
        killing = threading.Event()  # set before the kill, so seen once the calls failed

        def kill(_: object) -> None:
            killing.set()
            host.kill()

        world.proxy.on("StopMatchmaking", kill, nth=scenario.kill_after_stops, before=True)
        with Watcher(self, scenario, world), GapWatch(self, scenario, world) as gap:
            started = time.monotonic()
            pending = self._delete_async(world.resources, functools.partial(_plugin_delete, host))
            errors = [f.exception(timeout=HANG_GUARD_SECONDS) for f in pending]
            killed = killing.is_set()
            if killed:
                # The engine kept every resource whose delete did not answer: delete again.
                host.close()
                host = self._plugin = self._start_plugin()
                again = [i for i, e in enumerate(errors) if e is not None]
                retried = self._delete(
                    [world.resources[i] for i in again], functools.partial(_plugin_delete, host)
                )
                for i, error in zip(again, retried, strict=True):
                    errors[i] = error
            first_delete_seconds = time.monotonic() - started
        try:
            outcome = self._judge(scenario, world, errors, functools.partial(_plugin_delete, host))
        finally:
            world.proxy.close()
        outcome.killed = killed
        outcome.first_delete_seconds = first_delete_seconds
        outcome.replacement_after_quiet_pass = gap.seen
        logs = first.stderr + host.stderr
        leaked = [p for p in world.player_ids if p in logs]
        if leaked and outcome.result != "unrecovered":
            outcome.result, outcome.problem = "unrecovered", f"player ID in the log: {leaked[0]}"
        return outcome

    def _judge(
        self,
        scenario: Scenario,
        world: Built,
        errors: list[BaseException | None],
        delete: Delete,
    ) -> Outcome:
        """Check the attempt; if it failed, check the failure and the recovery."""
        failed = [e for e in errors if e is not None]
        if not failed:
            problem = self._after_success(world)
            return Outcome(
                scenario,
                "success" if problem is None else "unrecovered",
                None,
                problem=problem,
                false_success=_is_false_success(problem),
            )
        code = _code_of(failed[0])
        for error in failed:
            problem = self._unclear(error, world)
            if problem:
                return Outcome(scenario, "unrecovered", code, problem=problem)
        # Recover as a user would: the faults pass, uncancellable tickets end, destroy again
        # (a new `pulumi destroy` is a new plugin process: fresh clients, whose adaptive
        # retry mode has not been slowed down by the first attempt's throttling).
        self.control.clear_faults()
        clear_client_cache()
        for ticket in self.control.tickets():
            if ticket["Status"] in ("PLACING", "REQUIRES_ACCEPTANCE"):
                self.control.set_ticket_status(ticket["TicketId"], "COMPLETED")
        self._await_owed_replacements(scenario, world)
        left = [world.resources[i] for i, e in enumerate(errors) if e is not None]
        retry = self._delete(left, delete)
        failures = [e for e in retry if e is not None]
        manual = bool(failures) and all(_not_quiet(e) for e in failures)
        if manual:
            # NotQuietError again: a session whose automatic ticket an earlier attempt's
            # accepted stop raced with (it ended on its own after) is not remembered as
            # turned off, so no retry sees it quiet. The documented remedy: the
            # configuration's BackfillMode MANUAL (disableAutomaticBackfill), then again.
            self.gamelift.update_matchmaking_configuration(
                Name=CONFIGURATION, BackfillMode="MANUAL"
            )
            left = [r for r, e in zip(left, retry, strict=True) if e is not None]
            retry = self._delete(left, delete)
        still = [e for e in retry if e is not None]
        if still:
            problem = f"retry failed: {_describe(still[0])}"
            return Outcome(scenario, "unrecovered", code, problem=problem)
        problem = self._after_success(world)
        return Outcome(
            scenario,
            "recovered" if problem is None else "unrecovered",
            code,
            problem=problem,
            false_success=_is_false_success(problem),
            needed_manual=manual,
        )

    def _after_success(self, world: Built) -> str | None:
        """No active ticket is left (but the players' own matchmaking tickets, which are not
        backfill), and the configuration can be deleted once those ended too."""
        self.control.clear_faults()
        active = [
            t["TicketId"]
            for t in self.control.tickets()
            if t["Status"] in ACTIVE_STATUSES and t["TicketId"] not in world.newcomers
        ]
        if active:
            return f"{FALSE_SUCCESS} {len(active)} ticket(s) active: {active[:5]}"
        loud = self._sessions_not_quiet(world)
        if loud:
            return f"{FALSE_SUCCESS} {len(loud)} session(s) not quiet: {sorted(loud)[:5]}"
        self._settle_newcomers(world)
        try:
            self.gamelift.delete_matchmaking_configuration(Name=CONFIGURATION)
        except Exception as exc:
            return f"configuration not deletable after success: {exc}"
        return None

    def _sessions_not_quiet(self, world: Built) -> dict[str, str | None]:
        """The scenario's game sessions GameLift could still start automatic backfill for,
        each with the automatic ticket its MatchmakerData names (seen from outside). A
        session is quiet when its configuration is not AUTOMATIC, it is not ACTIVE, it is
        full, or a StopMatchmaking of the ticket it names was accepted (GameLift answered
        200: the emulator's call log), which turned its backfill off for good even if the
        ticket then ended otherwise; a CANCELLED ticket was stopped so too."""
        (configuration,) = self.gamelift.describe_matchmaking_configurations(Names=[CONFIGURATION])[
            "Configurations"
        ]
        if configuration.get("BackfillMode") != "AUTOMATIC":
            return {}
        statuses = {t["TicketId"]: t["Status"] for t in self.control.tickets()}
        stopped = {
            str(call.get("TicketId"))
            for call in self.control.call_log()
            if call["operation"] == "StopMatchmaking" and call.get("status") == 200
        }
        loud: dict[str, str | None] = {}
        for fleet in world.fleets:
            try:
                pages = self.gamelift.get_paginator("describe_game_sessions").paginate(
                    FleetId=fleet
                )
                sessions = [s for page in pages for s in page["GameSessions"]]
            except self.gamelift.exceptions.NotFoundException:
                continue  # the fleet was deleted, its sessions with it
            for session in sessions:
                if session["Status"] != "ACTIVE" or (
                    session["CurrentPlayerSessionCount"] >= session["MaximumPlayerSessionCount"]
                ):
                    continue
                data = json.loads(session.get("MatchmakerData") or "{}")
                ticket = data.get("autoBackfillTicketId")
                if ticket is None or (
                    statuses.get(ticket) != "CANCELLED" and ticket not in stopped
                ):
                    loud[session["GameSessionId"]] = ticket
        return loud

    def _await_owed_replacements(self, scenario: Scenario, world: Built) -> None:
        """Before the retry, as a user retrying later would: wait (polling, bounded by the
        longest gap) until GameLift has started each replacement it still owes a session,
        so the retry's drain can see and stop it within its own deadline."""
        bound = (scenario.replacement_delay_ms + scenario.replacement_jitter_ms) / 1000 + 5.0
        deadline = time.monotonic() + bound
        pause = threading.Event()
        while time.monotonic() < deadline:
            loud = self._sessions_not_quiet(world)
            statuses = {t["TicketId"]: t["Status"] for t in self.control.tickets()}
            if all(statuses.get(t or "") in ACTIVE_STATUSES for t in loud.values()):
                return
            pause.wait(0.02)

    def _unclear(self, error: BaseException, world: Built) -> str | None:
        """Why ``error`` is not a clear failure, or None."""
        message = _message_of(error)
        code = _code_of(error)
        if code not in KNOWN_CODES:
            return f"unknown error: {_describe(error)}"
        names = [*world.fleets, *world.sessions, *_ticket_ids(self.control), *world.auto_tickets]
        names += [resource_id for resource_id, _ in world.resources]
        if not any(name in message for name in names):
            return f"error names no ticket, session or fleet: {_describe(error)}"
        if isinstance(error, StopTimeoutError):
            missing = [t for t in list(error.still_active)[:20] if t not in message]
            if missing:
                return f"timeout does not name {missing}"
        leaked = [p for p in world.player_ids if p in message]
        if leaked:
            return f"player ID in an error message: {_describe(error)}"
        return None

    # -- deletes ---------------------------------------------------------------------------

    def _delete(self, resources: Resources, delete: Delete) -> list[BaseException | None]:
        """Delete every resource (``ENGINE_PARALLELISM`` at once); each one's error or None."""
        return [
            f.exception(timeout=HANG_GUARD_SECONDS) for f in self._delete_async(resources, delete)
        ]

    @staticmethod
    def _delete_async(resources: Resources, delete: Delete) -> list[Future[None]]:
        pool = ThreadPoolExecutor(max_workers=ENGINE_PARALLELISM)
        futures = [pool.submit(delete, resource_id, state) for resource_id, state in resources]
        pool.shutdown(wait=False)
        return futures

    def _delete_direct(self, resource_id: str, state: dict[str, Any]) -> None:
        if "fleet_ids" in state:
            self.guard_provider.delete(resource_id, state)
        else:
            self.ticket_provider.delete(resource_id, state)

    def _start_plugin(self) -> PluginHost:
        """A started plugin: the spare if there is one; another spare is started meanwhile."""
        spare, self._spare = self._spare, self._starter.submit(_new_plugin)
        return spare.result() if spare is not None else _new_plugin()

    # -- the world -------------------------------------------------------------------------

    def build(self, scenario: Scenario) -> Built:
        """Configuration, fleets, sessions, forced statuses and the resources to delete."""
        self.control.settings(
            stop_delay_ms=5,
            auto_backfill_regenerate=True,
            match_delay_ms=10,
            placement_ms=scenario.placement_ms,
            auto_backfill_delay_ms=scenario.replacement_delay_ms,
            auto_backfill_delay_jitter_ms=scenario.replacement_jitter_ms,
            seed=scenario.faults.seed,
        )
        backfill_mode = "AUTOMATIC" if scenario.kind == "guard" else "MANUAL"
        seed_configuration(
            self.gamelift, CONFIGURATION, backfill_mode=backfill_mode, timeout_seconds=600
        )
        if scenario.acceptance:  # nobody accepts: matches wait, then time out after 2 s
            self.gamelift.update_matchmaking_configuration(
                Name=CONFIGURATION, AcceptanceRequired=True, AcceptanceTimeoutSeconds=2
            )
        fleets: list[str] = []
        sessions: list[str] = []
        auto_tickets: list[str] = []
        for per_fleet in scenario.sessions_per_fleet:
            fleet = self.control.create_fleet()["fleet_id"]
            fleets.append(fleet)
            for _ in range(per_fleet):
                session = self.control.create_game_session(fleet, CONFIGURATION, 2, 8)
                sessions.append(session["GameSessionId"])
                if session.get("auto_backfill_ticket_id"):
                    auto_tickets.append(session["auto_backfill_ticket_id"])
        proxy = FaultProxy(self.endpoint) if scenario.via_plugin else None
        endpoint = proxy.endpoint_url if proxy is not None else self.endpoint
        resources = (
            [self._create_guard(scenario, fleets, endpoint)]
            if scenario.kind == "guard"
            else [self._create_ticket(scenario, i, arn, endpoint) for i, arn in enumerate(sessions)]
        )
        by_session = self._ticket_of_session(scenario, sessions, auto_tickets, resources)
        for session_index, status in scenario.forced:
            ticket = by_session.get(session_index)
            if ticket is not None:
                self.control.set_ticket_status(ticket, status)
        player_ids = {
            str(p["PlayerId"]) for t in self.control.tickets() for p in t.get("Players", [])
        }
        return Built(fleets, sessions, auto_tickets, resources, player_ids, proxy)

    @staticmethod
    def _ticket_of_session(
        scenario: Scenario,
        sessions: list[str],
        auto_tickets: list[str],
        resources: list[tuple[str, dict[str, Any]]],
    ) -> dict[int, str]:
        if scenario.kind == "guard":
            return dict(enumerate(auto_tickets))
        return {i: resource_id for i, (resource_id, _) in enumerate(resources)}

    def _create_guard(
        self, scenario: Scenario, fleets: list[str], endpoint: str
    ) -> tuple[str, dict[str, Any]]:
        args = BackfillGuardArgs(
            fleet_ids=fleets,
            endpoint_url=endpoint,
            stop_timeout_seconds=scenario.stop_timeout,
        )
        if scenario.via_plugin:
            return self._create_through_plugin(GUARD_URN, BackfillGuardProvider(), args.to_props())
        checked = self.guard_provider.check({}, args.to_props())
        created = self.guard_provider.create(checked.inputs)
        return str(created.id), dict(created.outs or {})

    def _create_ticket(
        self, scenario: Scenario, number: int, session: str, endpoint: str
    ) -> tuple[str, dict[str, Any]]:
        name = f"ticket-{number}"
        args = BackfillTicketArgs(
            configuration_name=CONFIGURATION,
            game_session_arn=session,
            endpoint_url=endpoint,
            stop_timeout_seconds=scenario.stop_timeout,
        )
        identity = {
            "configuration_name": CONFIGURATION,
            "game_session_arn": session,
            "players": None,
            "region": None,
        }
        props = {
            **args.to_props(),
            DERIVED_KEY: derive_ticket_id("soak", f"s{scenario.index}", name, identity),
        }
        if scenario.via_plugin:
            return self._create_through_plugin(TICKET_URN, BackfillTicketProvider(), props)
        checked = self.ticket_provider.check({}, props)
        created = self.ticket_provider.create(checked.inputs)
        return str(created.id), dict(created.outs or {})

    def _create_through_plugin(
        self, urn: str, provider: Any, props: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        if self._plugin is None:
            self._plugin = self._start_plugin()
        news = program_inputs(provider, props)
        created = self._plugin.create(urn, self._plugin.check(urn, {}, news).inputs)
        return created.id, state_round_trip(created.outs)

    def fire(self, event: Event, world: Built) -> None:
        """Make one mid-delete event happen (a target already gone is no error)."""
        try:
            if event.kind == "terminate" and world.sessions:
                arn = world.sessions[event.target % len(world.sessions)]
                self.control.terminate_game_session(arn)
            elif event.kind == "delete_fleet" and world.fleets:
                self.control.delete_fleet(world.fleets[event.target % len(world.fleets)])
            elif event.kind == "time_out":
                searching = [
                    t["TicketId"]
                    for t in self.control.tickets()
                    if t["Status"] in ("QUEUED", "SEARCHING")
                ]
                if searching:
                    self.control.set_ticket_status(
                        searching[event.target % len(searching)], "TIMED_OUT"
                    )
            elif event.kind == "queue":
                self._queue_players(event, world)
            elif event.kind == "place":
                for ticket in self.control.tickets():
                    if ticket["Status"] == "PLACING":
                        self.control.set_ticket_status(ticket["TicketId"], "COMPLETED")
        except Exception:
            return

    def _queue_players(self, event: Event, world: Built) -> None:
        """``event.target`` new players start matchmaking, in parties of up to 3."""
        left = event.target
        while left > 0:
            size = min(3, left)
            left -= size
            number = len(world.newcomers)
            ids = [f"newcomer-{number}-{i}" for i in range(size)]
            players = [{"PlayerId": p, "PlayerAttributes": {"skill": {"N": 10}}} for p in ids]
            world.player_ids.update(ids)
            ticket = self.gamelift.start_matchmaking(
                ConfigurationName=CONFIGURATION, Players=players
            )
            world.newcomers.append(ticket["MatchmakingTicket"]["TicketId"])

    def _settle_newcomers(self, world: Built) -> None:
        """The players' own tickets end, as the game would end them: stopped, or placed."""
        deadline = time.monotonic() + 30
        pause = threading.Event()
        while time.monotonic() < deadline:
            active = {
                t["TicketId"]: t["Status"]
                for t in self.control.tickets()
                if t["TicketId"] in world.newcomers and t["Status"] in ACTIVE_STATUSES
            }
            if not active:
                return
            for ticket_id, status in active.items():
                if status != "PLACING":  # a placement ends by itself
                    with contextlib.suppress(self.gamelift.exceptions.InvalidRequestException):
                        self.gamelift.stop_matchmaking(TicketId=ticket_id)
            pause.wait(0.02)


def _new_plugin() -> PluginHost:
    host = PluginHost(config={"aws:region": REGION})
    host.start()
    return host


def _plugin_delete(host: PluginHost, resource_id: str, state: dict[str, Any]) -> None:
    """Delete through the plugin, as `pulumi destroy` does."""
    host.delete(resource_id, GUARD_URN if "fleet_ids" in state else TICKET_URN, state)


def _not_quiet(error: BaseException) -> bool:
    """A NotQuietError: sessions that may still start automatic backfill (also when it
    crossed the plugin as a traceback line)."""
    return isinstance(error, NotQuietError) or _message_of(error).startswith(
        "gamelift_backfill.core.errors.NotQuietError"
    )


def _is_false_success(problem: str | None) -> bool:
    return problem is not None and problem.startswith(FALSE_SUCCESS)


def _ticket_ids(control: EmulatorControl) -> list[str]:
    return [t["TicketId"] for t in control.tickets()]


def _message_of(error: BaseException) -> str:
    if isinstance(error, PluginError):
        return error.provider_message
    return str(error)


def _code_of(error: BaseException) -> str:
    """The CLI code of a core error, also when it crossed the plugin as a traceback line."""
    if isinstance(error, BackfillError):
        return error.code
    if isinstance(error, PluginError):
        head = error.provider_message.split(":", 1)[0]
        if head.startswith("gamelift_backfill.core.errors."):
            return CODE_BY_CLASS.get(head.rsplit(".", 1)[-1], "UNKNOWN")
    return "UNKNOWN"


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {_message_of(error)[:300]}"


def run_soak(
    emulator: Emulator,
    *,
    scenarios: int,
    seed: int,
    plugin_fraction: float,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> Summary:
    """Run exactly ``scenarios`` scenarios and sum them up (the wall time is only reported)."""
    summary = Summary(seed=seed)
    started = time.monotonic()
    runner = SoakRunner(emulator)
    try:
        with isolated_aws_env():
            for index in range(scenarios):
                scenario_started = time.monotonic()
                outcome = runner.run(generate(seed, index, plugin_fraction))
                outcome.seconds = time.monotonic() - scenario_started
                summary.outcomes.append(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)
    finally:
        runner.close()
        summary.wall_seconds = time.monotonic() - started
    return summary


def main(argv: list[str] | None = None) -> int:
    """Run a soak on a fresh loopback emulator; exit 1 if any scenario is unrecovered."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--plugin-fraction", type=float, default=0.02)
    args = parser.parse_args(argv)
    with Emulator(region=REGION) as emulator:
        summary = run_soak(
            emulator,
            scenarios=args.scenarios,
            seed=args.seed,
            plugin_fraction=args.plugin_fraction,
        )
    print(summary.report())
    return 1 if summary.unrecovered else 0


if __name__ == "__main__":
    sys.exit(main())
