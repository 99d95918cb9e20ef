"""The drain shared by BackfillGuard delete and ``python -m providers drain``.

A drain is done when nothing it found is active and every game session in scope is quiet
(quiet.py): GameLift will start no new automatic backfill ticket for it. One pass
(:func:`_drain_pass`) lists the fleets' game sessions (discovery.py), takes their automatic
backfill tickets plus the explicit ones, describes the ones not yet known final in batches
of 10, hands the active ones to the stop pipeline (tickets.py) and waits for them. Within a
pass the work overlaps: listing pages and describes run one at a time on the pipeline's
reader thread (so the deadline bounds them too) while StopMatchmaking calls run on the
pool, and confirmations of stopped tickets are interleaved (``StopPipeline.pump``).

After a pass, a session whose automatic ticket we stopped (GameLift answered 200) is quiet,
so when every ticket was stopped by us the drain ends after one pass, with no wait. A
session whose ticket ended on its own may get a replacement some time later (AWS does not
say how long): the drain watches it, passing again after the watch's backoff, stops the
replacement that appears (which turns that session's backfill off), and at the deadline
fails with NotQuietError naming the sessions still not quiet, never with success.

Scope: the sessions of the last pass's listing. A session FlexMatch places after that
listing is matchmaking's, not backfill's; no drain can see it.

Calls per ticket beyond the listing pages: 0.1 describe to find it active, 1 stop, and
about 0.1 describe to see it final (the first poll comes after GameLift's asynchronous
cancel has usually landed). Tickets seen final are remembered and never described again.
DescribeMatchmakingConfigurations is called once per configuration, and only for sessions
not already quiet by cheaper rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Unpack

from .discovery import DiscoveryStats, ListedSession, game_sessions
from .errors import NotQuietError, StopTimeoutError
from .quiet import QuietJudge
from .tickets import (
    GONE,
    PipelineOptions,
    ProgressEvent,
    StopPipeline,
    describe_batch,
)
from .waiters import DESCRIBE_BATCH, Backoff, is_active

# Between passes that watch sessions not yet quiet: a replacement is caught within about
# twice its delay after the ticket it replaces ended, and a 900 s deadline costs at most
# about 90 listings.
WATCH_BACKOFF = Backoff(initial=1.0, factor=2.0, maximum=10.0)


@dataclass
class DrainReport:
    """Outcome of a drain that left nothing active and every session quiet. Counts, never
    player IDs."""

    passes: int = 0
    found_active: int = 0  # distinct tickets found active (and then stopped or waited out)
    stopped: int = 0  # our cancel accepted, then seen final
    waited_out: int = 0  # refused (PLACING, REQUIRES_ACCEPTANCE), seen final later
    already_final: int = 0  # listed but already final or gone
    sessions: int = 0  # game sessions seen in the last pass
    missing_fleets: list[str] = field(default_factory=list)
    list_pages: int = 0
    stop_calls: int = 0
    describe_calls: int = 0
    configuration_calls: int = 0  # DescribeMatchmakingConfigurations
    watched: int = 0  # pauses to watch sessions not yet quiet (each followed by a pass)


@dataclass
class ActiveCount:
    """How many listed backfill tickets are active now (BackfillGuard create/read)."""

    active: int = 0
    tickets: int = 0
    sessions: int = 0
    missing_fleets: list[str] = field(default_factory=list)
    describe_calls: int = 0


def _batched(ids: Iterator[str], size: int = DESCRIBE_BATCH) -> Iterator[list[str]]:
    batch: list[str] = []
    for ticket_id in ids:
        batch.append(ticket_id)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True)
class _Scope:
    """What a drain covers: fleets, explicit tickets, the configuration filter."""

    fleet_ids: Sequence[str]
    ticket_ids: Sequence[str]
    configuration_name: str | None

    @property
    def listing(self) -> str:
        """The listing call, as an error names it."""
        return f"DescribeGameSessions for fleet {', '.join(dict.fromkeys(self.fleet_ids))}"


@dataclass
class _Pass:
    """What one pass saw: its sessions (by ARN, the newest view) and the tickets active."""

    stats: DiscoveryStats = field(default_factory=DiscoveryStats)
    sessions: dict[str, ListedSession] = field(default_factory=dict)
    found: dict[str, str] = field(default_factory=dict)


def _listed(
    client: Any, scope: _Scope, seen: _Pass, skip: set[str] | frozenset[str] = frozenset()
) -> Iterator[str]:
    """Explicit then discovered ticket IDs, each once, minus those in ``skip``; every
    listed session is recorded in ``seen.sessions`` as it streams by."""

    def ticket_ids() -> Iterator[str]:
        yield from scope.ticket_ids
        for session in game_sessions(
            client,
            scope.fleet_ids,
            configuration_name=scope.configuration_name,
            stats=seen.stats,
        ):
            seen.sessions[session.arn] = session
            if session.auto_ticket_id:
                yield session.auto_ticket_id

    yielded: set[str] = set()
    for ticket_id in ticket_ids():
        if ticket_id not in yielded and ticket_id not in skip:
            yielded.add(ticket_id)
            yield ticket_id


def count_active(
    client: Any,
    fleet_ids: Sequence[str],
    *,
    configuration_name: str | None = None,
    ticket_ids: Iterable[str] = (),
) -> ActiveCount:
    """List the fleets and count active backfill tickets (listing pages + 0.1 call/ticket)."""
    seen = _Pass()
    count = ActiveCount()
    scope = _Scope(fleet_ids, list(dict.fromkeys(ticket_ids)), configuration_name)
    for batch in _batched(_listed(client, scope, seen)):
        count.tickets += len(batch)
        count.describe_calls += 1
        tickets = describe_batch(client, batch).get("TicketList", [])
        count.active += sum(1 for t in tickets if is_active(t.get("Status")))
    count.sessions = seen.stats.sessions
    count.missing_fleets = seen.stats.missing_fleets
    return count


def _drain_pass(
    client: Any,
    scope: _Scope,
    pipeline: StopPipeline,
    judge: QuietJudge,
    known_final: set[str],
    report: DrainReport,
) -> _Pass:
    """List, describe what is not known final, stop what is active and wait for it.

    Past the deadline a pass only looks: it stops nothing more, and raises StopTimeoutError
    naming what it found active.
    """
    on_event = pipeline.on_event
    report.passes += 1
    on_event(ProgressEvent("pass", count=report.passes))
    late = pipeline.clock() >= pipeline.deadline
    seen = _Pass()
    batches = _batched(_listed(client, scope, seen, known_final))
    while (batch := pipeline.read(scope.listing, next, batches, None)) is not None:
        report.describe_calls += 1
        what = f"DescribeMatchmaking for ticket {', '.join(batch)}"
        response = pipeline.read(what, describe_batch, client, batch)
        described = {t["TicketId"]: t.get("Status") for t in response.get("TicketList", [])}
        active = 0
        for ticket_id in batch:
            status = described.get(ticket_id)
            judge.saw(ticket_id, str(status or GONE))
            if is_active(status):
                active += 1
                seen.found[ticket_id] = str(status)
                if not late:
                    pipeline.submit(ticket_id, str(status))
            else:
                known_final.add(ticket_id)
                report.already_final += 1
                on_event(ProgressEvent("already_final", ticket_id=ticket_id, status=status))
        if active:
            on_event(ProgressEvent("found", count=active))
        pipeline.pump()
    for fleet in seen.stats.missing_fleets:
        if fleet not in report.missing_fleets:
            report.missing_fleets.append(fleet)
            on_event(ProgressEvent("fleet_missing", fleet_id=fleet))
    report.sessions = seen.stats.sessions
    report.list_pages += seen.stats.pages
    if late and seen.found:
        raise StopTimeoutError(seen.found, pipeline.timeout_seconds)
    report.found_active += len(seen.found)
    on_event(ProgressEvent("remaining", count=pipeline.outstanding))
    for ticket_id, status in pipeline.finish().final_status.items():
        if ticket_id not in known_final:
            known_final.add(ticket_id)
            judge.saw(ticket_id, status)
    return seen


def drain(
    client: Any,
    fleet_ids: Sequence[str],
    *,
    configuration_name: str | None = None,
    ticket_ids: Iterable[str] = (),
    watch_backoff: Backoff = WATCH_BACKOFF,
    **options: Unpack[PipelineOptions],
) -> DrainReport:
    """Stop every active backfill ticket of the fleets, until every session is quiet.

    StopMatchmaking goes through ``stop_client`` (by default ``client``), every read
    through ``client``; ``options`` as for ``StopPipeline`` (its clock and sleep also pace
    the watch, ``watch_backoff`` apart). Raises StopTimeoutError naming what is still
    active at the deadline, NotQuietError (a StopTimeoutError) naming the game sessions
    that may still start automatic backfill then, EndpointError naming the call GameLift
    left unanswered by then, and the translated error of any call that fails after
    botocore's retries.
    """
    scope = _Scope(fleet_ids, list(dict.fromkeys(ticket_ids)), configuration_name)
    report = DrainReport()
    known_final: set[str] = set()
    with StopPipeline(client, **options) as pipeline:
        judge = QuietJudge(client, pipeline.accepted, pipeline.read)
        pauses = watch_backoff.delays()
        while True:
            seen = _drain_pass(client, scope, pipeline, judge, known_final, report)
            not_quiet = judge.not_quiet(seen.sessions.values())
            if not not_quiet:
                break
            now = pipeline.clock()
            if now >= pipeline.deadline:
                raise NotQuietError(not_quiet, pipeline.timeout_seconds)
            report.watched += 1
            pipeline.on_event(ProgressEvent("watching", count=len(not_quiet)))
            pipeline.sleep(min(next(pauses), pipeline.deadline - now))
        report.stopped = len(pipeline.report.stopped)
        report.waited_out = len(pipeline.report.waited_out)
        report.already_final += len(pipeline.report.already_final)
        report.stop_calls = pipeline.report.stop_calls
        report.describe_calls += pipeline.report.describe_calls
        report.configuration_calls = judge.configuration_calls
    return report
