"""The drain shared by BackfillGuard delete and ``python -m providers drain``.

One pass lists the fleets' game sessions (discovery.py), takes their automatic backfill
tickets plus the explicit ones, describes the ones not yet known final in batches of 10,
hands the active ones to the stop pipeline (tickets.py) and waits for them. Passes repeat
until one finds nothing active and no ticket that ended unseen: GameLift starts a new
automatic ticket for a session whose ticket ended by itself (timed out, or completed a
match), possibly between a pass's listing and its describe, so only a pass in which nothing
changed proves the fleets drained. Within a pass the work overlaps: listing pages and
describing run one at a time on the pipeline's reader thread (so the deadline bounds them
too) while StopMatchmaking calls run on the pool, and confirmations of stopped tickets are
interleaved (``StopPipeline.pump``) instead of waiting for the listing to end.

Calls per ticket beyond the listing pages: 0.1 describe to find it active, 1 stop, and
about 0.1 describe to see it final (the first poll comes after GameLift's asynchronous
cancel has usually landed). Tickets seen final are remembered and never described again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Unpack

from .discovery import DiscoveryStats, backfill_ticket_ids
from .errors import StopTimeoutError
from .tickets import (
    PipelineOptions,
    ProgressEvent,
    StopPipeline,
    describe_batch,
)
from .waiters import DESCRIBE_BATCH, is_active


@dataclass
class DrainReport:
    """Outcome of a drain in which nothing was left active. Counts, never player IDs."""

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


def _listed(
    client: Any,
    fleet_ids: Sequence[str],
    ticket_ids: Iterable[str],
    configuration_name: str | None,
    stats: DiscoveryStats,
    skip: set[str],
) -> Iterator[str]:
    """Explicit then discovered ticket IDs, each once, minus those in ``skip``."""
    seen: set[str] = set()
    discovered = backfill_ticket_ids(
        client, fleet_ids, configuration_name=configuration_name, stats=stats
    )
    for ticket_id in chain(ticket_ids, discovered):
        if ticket_id not in seen and ticket_id not in skip:
            seen.add(ticket_id)
            yield ticket_id


def count_active(
    client: Any,
    fleet_ids: Sequence[str],
    *,
    configuration_name: str | None = None,
    ticket_ids: Iterable[str] = (),
) -> ActiveCount:
    """List the fleets and count active backfill tickets (listing pages + 0.1 call/ticket)."""
    stats = DiscoveryStats()
    count = ActiveCount()
    for batch in _batched(_listed(client, fleet_ids, ticket_ids, configuration_name, stats, set())):
        count.tickets += len(batch)
        count.describe_calls += 1
        tickets = describe_batch(client, batch).get("TicketList", [])
        count.active += sum(1 for t in tickets if is_active(t.get("Status")))
    count.sessions = stats.sessions
    count.missing_fleets = stats.missing_fleets
    return count


def drain(
    client: Any,
    fleet_ids: Sequence[str],
    *,
    configuration_name: str | None = None,
    ticket_ids: Iterable[str] = (),
    **options: Unpack[PipelineOptions],
) -> DrainReport:
    """Stop every active backfill ticket of the fleets, until a full pass finds none.

    StopMatchmaking goes through ``stop_client`` (by default ``client``), every read
    through ``client``; ``options`` as for ``StopPipeline``. Raises StopTimeoutError
    naming what is still active at the deadline, EndpointError naming the call GameLift
    left unanswered by then, and the translated error of any call that fails after
    botocore's retries.
    """
    extra = list(dict.fromkeys(ticket_ids))
    report = DrainReport()
    known_final: set[str] = set()
    listing = f"DescribeGameSessions for fleet {', '.join(dict.fromkeys(fleet_ids))}"
    with StopPipeline(client, **options) as pipeline:
        on_event, clock = pipeline.on_event, pipeline.clock
        while True:
            report.passes += 1
            on_event(ProgressEvent("pass", count=report.passes))
            late = clock() >= pipeline.deadline  # past the deadline: look, stop nothing more
            stats = DiscoveryStats()
            found: dict[str, str] = {}
            ended_unseen = 0  # listed tickets that ended since the last look, not by our stop
            listed = _listed(client, fleet_ids, extra, configuration_name, stats, known_final)
            batches = _batched(listed)
            while (batch := pipeline.read(listing, next, batches, None)) is not None:
                report.describe_calls += 1
                what = f"DescribeMatchmaking for ticket {', '.join(batch)}"
                response = pipeline.read(what, describe_batch, client, batch)
                described = {t["TicketId"]: t.get("Status") for t in response.get("TicketList", [])}
                active = 0
                for ticket_id in batch:
                    status = described.get(ticket_id)
                    if is_active(status):
                        active += 1
                        found[ticket_id] = str(status)
                        if not late:
                            pipeline.submit(ticket_id, str(status))
                    else:
                        known_final.add(ticket_id)
                        ended_unseen += 1
                        report.already_final += 1
                        on_event(ProgressEvent("already_final", ticket_id=ticket_id, status=status))
                if active:
                    on_event(ProgressEvent("found", count=active))
                pipeline.pump()
            for fleet in stats.missing_fleets:
                if fleet not in report.missing_fleets:
                    report.missing_fleets.append(fleet)
                    on_event(ProgressEvent("fleet_missing", fleet_id=fleet))
            report.sessions = stats.sessions
            report.list_pages += stats.pages
            if late and found:
                raise StopTimeoutError(found, pipeline.timeout_seconds)
            report.found_active += len(found)
            on_event(ProgressEvent("remaining", count=pipeline.outstanding))
            stop_report = pipeline.finish()
            known_final.update(stop_report.final_status)
            if not found and not ended_unseen:
                break
        report.stopped = len(pipeline.report.stopped)
        report.waited_out = len(pipeline.report.waited_out)
        report.already_final += len(pipeline.report.already_final)
        report.stop_calls = pipeline.report.stop_calls
        report.describe_calls += pipeline.report.describe_calls
    return report
