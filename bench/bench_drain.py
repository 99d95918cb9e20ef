"""The quiet drain (issue 19) against the drain before it, as ratios in one run.

Baseline: ``gamelift_backfill/core/drain.py`` as of commit ``c3c5dec`` (the drain that
ended when a pass found nothing active), read from git and loaded as a module of the
package beside today's, so both run over the same discovery, stop pipeline and client.
Both drain the same seeded world on the local emulator (its own process): N non-full
matchmade sessions of an AUTOMATIC configuration, 5 ms latency per call, 200 ms between
StopMatchmaking and CANCELLED, replacement delay 0. Runs alternate (baseline, new, ...) so
that drift of a shared machine falls on both.

Then the extra time when replacement tickets do appear: a tenth of the sessions have their
automatic ticket end on its own (TIMED_OUT) just before the drain, with the replacement
delay D; the new drain's time minus its time on the world without them, as a multiple of D.
The baseline's outcome on that world is shown too: how many replacements were active
after it reported success.

    python -m bench.bench_drain [--sessions 200] [--repeats 3] [--delays 1,2,4]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gamelift_backfill.core.clients import clear_client_cache, gamelift_client
from gamelift_backfill.core.drain import drain
from gamelift_backfill.core.waiters import ACTIVE_STATUSES
from gamelift_emulator import EmulatorControl
from gamelift_emulator.launcher import launched
from testkit.aws_env import isolated_aws_env
from testkit.seeding import seed_configuration

ROOT = Path(__file__).resolve().parent.parent
BASELINE_COMMIT = "c3c5dec"
REGION = "us-east-1"
CONFIGURATION = "bench-auto"
LISTING = "DescribeGameSessions"
LATENCY_MS = 5.0
STOP_DELAY_MS = 200.0
ENDED_SHARE = 10  # one session in ENDED_SHARE has its ticket end on its own

DrainFn = Callable[..., Any]


def baseline_drain() -> DrainFn:
    """``drain`` of ``c3c5dec``'s drain.py, loaded as ``gamelift_backfill.core._baseline_drain``
    (so its relative imports resolve to today's discovery, tickets and waiters)."""
    source = subprocess.run(
        ["git", "show", f"{BASELINE_COMMIT}:gamelift_backfill/core/drain.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    name = "gamelift_backfill.core._baseline_drain"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "gamelift_backfill.core"
    sys.modules[name] = module
    exec(compile(source, f"{BASELINE_COMMIT}:drain.py", "exec"), module.__dict__)
    function: DrainFn = module.drain
    return function


@dataclass
class Run:
    """One drain of one world: seconds, GameLift calls by operation, what stayed active."""

    seconds: float
    calls: Counter[str]
    tickets: int
    active_after: int = 0
    error: str | None = None

    @property
    def per_ticket(self) -> float:
        """Calls per ticket beyond the listing pages."""
        return sum(n for op, n in self.calls.items() if op != LISTING) / max(1, self.tickets)


class World:
    """The emulated account, reseeded the same way before every drain."""

    def __init__(self, url: str, sessions: int, seed: int) -> None:
        self.url = url
        self.sessions = sessions
        self.seed = seed
        self.control = EmulatorControl(url, timeout=60)
        self.client = gamelift_client(REGION, url)

    def fresh(self, delay_s: float = 0.0, ended: int = 0) -> str:
        """Reset and seed: ``sessions`` sessions, the first ``ended`` of them with a ticket
        that just timed out (its replacement due ``delay_s`` later); the fleet ID."""
        self.control.reset()
        self.control.settings(
            stop_delay_ms=STOP_DELAY_MS, auto_backfill_delay_ms=delay_s * 1000, seed=self.seed
        )
        seed_configuration(
            self.client, CONFIGURATION, backfill_mode="AUTOMATIC", timeout_seconds=43200
        )
        fleet_id = self.control.create_fleet()["fleet_id"]
        tickets = [
            self.control.create_game_session(fleet_id, CONFIGURATION, 2, 4)[
                "auto_backfill_ticket_id"
            ]
            for _ in range(self.sessions)
        ]
        for ticket_id in tickets[:ended]:
            self.control.set_ticket_status(ticket_id, "TIMED_OUT")
        self.control.faults(latency_ms=LATENCY_MS)
        return str(fleet_id)

    def active(self) -> int:
        """Tickets still active in the account."""
        return sum(1 for t in self.control.tickets() if t.get("Status") in ACTIVE_STATUSES)

    def measure(self, fn: DrainFn, fleet_id: str, tickets: int) -> Run:
        """One drain, timed on the wall clock, its calls counted by the emulator."""
        before = Counter(self.control.calls())
        started = time.perf_counter()
        error = None
        try:
            fn(self.client, [fleet_id], timeout_seconds=120, max_concurrency=10)
        except Exception as exc:  # a figure of the run: reported, not raised
            error = f"{type(exc).__name__}: {str(exc)[:120]}"
        seconds = time.perf_counter() - started
        calls = Counter(self.control.calls())
        calls.subtract(before)
        return Run(seconds, +calls, tickets, error=error)


def ratio(new: float, old: float) -> str:
    return f"{new / old:.3f}x" if old else "n/a"


def main(argv: Sequence[str] | None = None) -> None:
    """Run both comparisons and print them as markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--delays", default="1,2,4", help="replacement delays (s), comma-separated")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    delays = [float(d) for d in args.delays.split(",") if d]
    baseline = baseline_drain()
    lines: list[str] = []
    with isolated_aws_env(), launched() as emulator:
        clear_client_cache()
        world = World(emulator.endpoint_url, args.sessions, args.seed)
        runs: dict[str, list[Run]] = {"baseline": [], "new": []}
        for _ in range(args.repeats):
            for label, fn in (("baseline", baseline), ("new", drain)):
                fleet_id = world.fresh()
                run = world.measure(fn, fleet_id, args.sessions)
                run.active_after = world.active()
                runs[label].append(run)
        old_s = statistics.median(r.seconds for r in runs["baseline"])
        new_s = statistics.median(r.seconds for r in runs["new"])
        old_c = statistics.median(r.per_ticket for r in runs["baseline"])
        new_c = statistics.median(r.per_ticket for r in runs["new"])
        old_l = statistics.median(r.calls[LISTING] for r in runs["baseline"])
        new_l = statistics.median(r.calls[LISTING] for r in runs["new"])
        lines += [
            f"Drain of {args.sessions} sessions, replacement delay 0, {LATENCY_MS:g} ms latency, "
            f"{STOP_DELAY_MS:g} ms cancel; median of {args.repeats} alternating runs each.",
            "",
            "| drain | time (s) | calls/ticket beyond listing | listing pages | errors |",
            "|---|---:|---:|---:|---|",
            f"| c3c5dec | {old_s:.3f} | {old_c:.3f} | {old_l:g} | "
            f"{[r.error for r in runs['baseline'] if r.error] or '-'} |",
            f"| quiet (new) | {new_s:.3f} | {new_c:.3f} | {new_l:g} | "
            f"{[r.error for r in runs['new'] if r.error] or '-'} |",
            f"| new / c3c5dec | {ratio(new_s, old_s)} | {ratio(new_c, old_c)} | "
            f"{ratio(new_l, old_l)} | |",
            "",
        ]
        ended = max(1, args.sessions // ENDED_SHARE)
        lines += [
            f"Replacements: {ended} of {args.sessions} sessions' tickets end on their own "
            "just before the drain; replacement delay D.",
            "",
            "| D (s) | new drain (s) | extra over delay 0 (s) | extra / D | new: outcome | "
            "c3c5dec: outcome |",
            "|---:|---:|---:|---:|---|---|",
        ]
        for delay in delays:
            fleet_id = world.fresh(delay, ended)
            new_run = world.measure(drain, fleet_id, args.sessions)
            new_active = world.active()
            fleet_id = world.fresh(delay, ended)
            old_run = world.measure(baseline, fleet_id, args.sessions)
            time.sleep(delay + 0.5)  # let the replacements the baseline did not wait for start
            old_active = world.active()
            extra = new_run.seconds - new_s
            new_outcome = new_run.error or f"success, {new_active} active after"
            old_outcome = old_run.error or (
                f"success in {old_run.seconds:.2f}s, {old_active} active {delay + 0.5:g}s later"
            )
            lines.append(
                f"| {delay:g} | {new_run.seconds:.3f} | {extra:.3f} | {extra / delay:.2f} | "
                f"{new_outcome} | {old_outcome} |"
            )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
