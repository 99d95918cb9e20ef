"""The one place StopMatchmaking and StartMatchBackfill are called, and stop-and-wait.

:func:`stop_and_wait` (a BackfillTicket delete, ``python -m providers stop``) and the drain
both go through :class:`StopPipeline`: StopMatchmaking on a bounded thread pool, each
answer classified, then confirmation with DescribeMatchmaking in batches of 10 on the
waiter's backoff until every ticket is seen final or gone, or the deadline passes.

The deadline bounds every call: the reads the driving thread needs (describes, and the
drain's listing pages) run on a reader thread and are waited for with the time left, so an
endpoint that stops answering fails the stop at the deadline (plus ``LAST_LOOK_SECONDS``),
not after botocore's read timeout times its attempts. Stops may go through a client of
their own (``stop_client``), whose adaptive rate limiter the reads then do not share.

How answers are classified:

- 200: the cancel is accepted; GameLift applies it asynchronously, so the ticket is polled
  until it is seen final (never reported stopped before that).
- NotFoundException: gone, unless DescribeMatchmaking still shows it.
- InvalidRequestException: the ticket is already final, or in PLACING/REQUIRES_ACCEPTANCE,
  which cannot be cancelled. It is polled (not stopped again) and waited out; if it goes
  back to QUEUED/SEARCHING (a player rejected the match) it is stopped once more, at most
  ``MAX_RESTOPS`` times.
- anything else: translated (errors.py) and raised; throttling and 5xx were already
  retried by botocore's retry mode.

Default timeout: ``DEFAULT_STOP_TIMEOUT_SECONDS`` = 900. A ticket that cannot be cancelled
must end on its own: REQUIRES_ACCEPTANCE lasts up to the configuration's acceptance
timeout (at most 600 s) and PLACING as long as a placement (minutes). 900 s covers the
longest acceptance wait plus the asynchronous cancel and a placement, while a destroy
still fails, naming the tickets, within a quarter of an hour when something is really wrong.

Clock and sleep are injectable so tests drive time without sleeping.
"""

from __future__ import annotations

import heapq
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, TypeVar, Unpack

from botocore.exceptions import ClientError

from . import matchmaker_data
from .errors import (
    BackfillError,
    EndpointError,
    Failure,
    InputError,
    NotFoundError,
    ServiceError,
    StopTimeoutError,
    TicketState,
    translate,
)
from .waiters import DESCRIBE_BATCH, Backoff, batch_state, is_active
from .workers import DaemonPool

DEFAULT_STOP_TIMEOUT_SECONDS = 900.0
DEFAULT_MAX_CONCURRENCY = 10
MAX_RESTOPS = 3
GONE = "GONE"  # reported status of a ticket GameLift no longer returns
# How long a ready ticket may wait for its batch of 10 to fill while stops are in flight.
BATCH_LINGER_SECONDS = 1.0
# Past the deadline, how long the last look (one describe of what is still pending, so
# the error names fresh statuses) may take. Every call must be answered by then.
LAST_LOOK_SECONDS = 2.0

T = TypeVar("T")

Clock = Callable[[], float]
Sleep = Callable[[float], None]
StopOutcome = Literal["accepted", "refused", "not_found"]
EventKind = Literal[
    "found",  # tickets found active (count)
    "stopping",  # StopMatchmaking sent
    "cancel_accepted",  # StopMatchmaking answered 200
    "refused",  # StopMatchmaking refused (PLACING, REQUIRES_ACCEPTANCE or final)
    "stopped",  # seen final after our cancel
    "already_final",  # final or gone without our cancel
    "remaining",  # tickets not yet seen final (count)
    "fleet_missing",  # a fleet that no longer exists (drain)
    "pass",  # a drain pass begins (count = pass number)
    "watching",  # game sessions that may still start automatic backfill, watched (count)
]


@dataclass(frozen=True)
class ProgressEvent:
    """One progress notice; carries ticket and fleet IDs and statuses, never player IDs."""

    kind: EventKind
    count: int = 1
    ticket_id: str | None = None
    status: str | None = None
    fleet_id: str | None = None


OnEvent = Callable[[ProgressEvent], None]


@dataclass
class ProgressTally:
    """Running counts of a stop or a drain, from its events: what a progress display shows.

    A ticket counts as stopped (or already final) only once it was submitted for stopping,
    so a display never runs ahead of what was really seen ended.
    """

    found: int = 0
    stopped: int = 0
    already_final: int = 0
    pending: set[str] = field(default_factory=set)

    def count(self, event: ProgressEvent) -> None:
        """Take one event into the counts."""
        if event.kind == "found":
            self.found += event.count
        elif event.kind == "stopping" and event.ticket_id:
            self.pending.add(event.ticket_id)
        elif event.kind in ("stopped", "already_final"):
            if event.ticket_id in self.pending:
                self.pending.discard(event.ticket_id)
                self.stopped += event.kind == "stopped"
            self.already_final += event.kind == "already_final"


def _ignore(_: ProgressEvent) -> None:
    pass


@dataclass
class StopReport:
    """What happened to each ticket; every ticket in it was seen final or gone."""

    final_status: dict[str, str] = field(default_factory=dict)  # ticket -> status or GONE
    stopped: list[str] = field(default_factory=list)  # our cancel accepted, then seen final
    already_final: list[str] = field(default_factory=list)  # final/gone before our cancel
    waited_out: list[str] = field(default_factory=list)  # refused while active, ended later
    stop_calls: int = 0
    describe_calls: int = 0

    def merge(self, other: StopReport) -> None:
        """Add another report's tickets and calls into this one."""
        self.final_status.update(other.final_status)
        self.stopped += other.stopped
        self.already_final += other.already_final
        self.waited_out += other.waited_out
        self.stop_calls += other.stop_calls
        self.describe_calls += other.describe_calls


def _where(client: Any) -> dict[str, Any]:
    meta = getattr(client, "meta", None)
    return {
        "region": getattr(meta, "region_name", None),
        "endpoint_url": getattr(meta, "endpoint_url", None),
    }


def _batches(ids: Sequence[str], size: int = DESCRIBE_BATCH) -> Iterable[list[str]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def describe_batch(client: Any, ticket_ids: Sequence[str]) -> dict[str, Any]:
    """One DescribeMatchmaking call (at most 10 IDs); the raw response."""
    if len(ticket_ids) > DESCRIBE_BATCH:
        raise ValueError(f"DescribeMatchmaking takes at most {DESCRIBE_BATCH} ticket IDs")
    try:
        response: dict[str, Any] = client.describe_matchmaking(TicketIds=list(ticket_ids))
    except Exception as exc:
        raise translate(
            exc, operation="DescribeMatchmaking", ticket_ids=ticket_ids, **_where(client)
        ) from exc
    return response


def describe_tickets(client: Any, ticket_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The tickets GameLift still returns, by ID, described in batches of 10 (absent = gone)."""
    found: dict[str, dict[str, Any]] = {}
    for batch in _batches(list(dict.fromkeys(ticket_ids))):
        for ticket in describe_batch(client, batch).get("TicketList", []):
            found[ticket["TicketId"]] = ticket
    return found


def stop_ticket(client: Any, ticket_id: str) -> StopOutcome:
    """Call StopMatchmaking once and classify the answer; other errors are raised translated."""
    try:
        client.stop_matchmaking(TicketId=ticket_id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == "NotFoundException":
            return "not_found"
        if code == "InvalidRequestException":
            return "refused"
        raise translate(
            exc, operation="StopMatchmaking", ticket_ids=[ticket_id], **_where(client)
        ) from exc
    except Exception as exc:
        raise translate(
            exc, operation="StopMatchmaking", ticket_ids=[ticket_id], **_where(client)
        ) from exc
    return "accepted"


@dataclass
class _Pending:
    ticket_id: str
    last_status: str
    outcome: StopOutcome | None = None  # None while StopMatchmaking is in flight
    stop_unanswered: bool = False  # our StopMatchmaking still in flight when the wait ended
    polls: int = 0
    restops: int = 0
    seen_active_after_refusal: bool = False
    restop_due: bool = False


class PipelineOptions(TypedDict, total=False):
    """How a stop or a drain runs; each key optional, defaults as in :class:`StopPipeline`."""

    timeout_seconds: float
    stop_client: Any
    max_concurrency: int
    clock: Clock
    sleep: Sleep
    on_event: OnEvent
    backoff: Backoff | None


class StopPipeline:
    """Stops tickets on a bounded pool and confirms them final in batches of 10.

    ``submit`` never blocks; ``pump`` does the work that is due without waiting (so a
    caller can interleave it with discovery); ``finish`` waits for everything submitted
    until the deadline (``timeout_seconds`` from now) and raises StopTimeoutError for what
    is still active; ``read`` runs a caller's read call under the same deadline.
    Not thread-safe: one thread drives it; the pool runs StopMatchmaking (with
    ``stop_client``, by default ``client``) and the reader thread every read.
    """

    def __init__(
        self,
        client: Any,
        *,
        timeout_seconds: float = DEFAULT_STOP_TIMEOUT_SECONDS,
        stop_client: Any = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        on_event: OnEvent = _ignore,
        backoff: Backoff | None = None,
    ) -> None:
        self._client = client
        self._stop_client = client if stop_client is None else stop_client
        self._pool = DaemonPool(max_concurrency, "stop")
        self._reader = DaemonPool(1, "read")
        self.timeout_seconds = timeout_seconds
        self.deadline = clock() + timeout_seconds
        self.clock = clock
        self.sleep = sleep
        self.on_event = on_event
        self._backoff = backoff or Backoff()
        self._pending: dict[str, _Pending] = {}
        self._in_flight: dict[Future[StopOutcome], str] = {}
        self._schedule: list[tuple[float, int, str]] = []  # (ready_at, seq, ticket) heap
        self._ready: list[str] = []
        self._ready_since = 0.0
        self._seq = 0
        self.report = StopReport()
        self.accepted: set[str] = set()  # tickets whose StopMatchmaking GameLift answered 200

    def __enter__(self) -> StopPipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop queued calls; calls already sent finish in the background."""
        self._pool.shutdown()
        self._reader.shutdown()

    def read(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the reader thread, waited for until the deadline (plus the last
        look's grace); EndpointError naming ``what`` if GameLift has not answered by then."""
        future = self._reader.submit(fn, *args)
        try:
            return self._within_deadline(future)
        except TimeoutError:
            if future.done():  # the call's own error, not our wait
                raise
            raise self._unanswered(what) from None

    def _within_deadline(self, future: Future[T]) -> T:
        left = self.deadline + LAST_LOOK_SECONDS - self.clock()
        return future.result(timeout=max(0.0, left))

    def _unanswered(self, what: str) -> EndpointError:
        where = _where(self._client)
        stopping = set(self._in_flight.values())
        pending = list(self._pending)
        more = " ..." if len(pending) > 20 else ""
        still = f" {len(pending)} ticket(s) not yet seen ended: {', '.join(pending[:20])}{more}."
        return EndpointError(
            f"{what}: GameLift did not answer within the {self.timeout_seconds:g}s deadline "
            f"in region {where['region']} at {where['endpoint_url']}.{still if pending else ''}",
            operation=what,
            remaining=[
                TicketState(t, p.last_status, p.stop_unanswered or t in stopping)
                for t, p in self._pending.items()
            ],
            remedies=["check_endpoint", "retry", "raise_timeout"],
        )

    def remaining(self) -> list[TicketState]:
        """Every ticket not yet seen ended, as the errors carry it."""
        return [TicketState(t, p.last_status, p.stop_unanswered) for t, p in self._pending.items()]

    @property
    def outstanding(self) -> int:
        """Tickets submitted and not yet seen final."""
        return len(self._pending)

    def submit(self, ticket_id: str, status: str = "UNKNOWN") -> None:
        """Stop ``ticket_id`` (last seen in ``status``) unless it is already in the pipeline."""
        if ticket_id in self._pending:
            return
        self._pending[ticket_id] = _Pending(ticket_id, status)
        self._send_stop(ticket_id)

    def _send_stop(self, ticket_id: str) -> None:
        self.report.stop_calls += 1
        self.on_event(ProgressEvent("stopping", ticket_id=ticket_id))
        future = self._pool.submit(stop_ticket, self._stop_client, ticket_id)
        self._in_flight[future] = ticket_id

    def _schedule_poll(self, ticket_id: str, delay: float) -> None:
        self._seq += 1
        heapq.heappush(self._schedule, (self.clock() + delay, self._seq, ticket_id))

    def _collect_stops(self) -> None:
        for future in [f for f in self._in_flight if f.done()]:
            ticket_id = self._in_flight.pop(future)
            outcome = future.result()  # a translated BackfillError propagates
            pending = self._pending[ticket_id]
            pending.outcome = outcome
            if outcome == "accepted":
                self.accepted.add(ticket_id)
                self.on_event(ProgressEvent("cancel_accepted", ticket_id=ticket_id))
                self._schedule_poll(ticket_id, self._backoff.delay(0))
            else:
                self.on_event(ProgressEvent("refused", ticket_id=ticket_id, status=outcome))
                self._schedule_poll(ticket_id, 0.0)

    def _take_ready(self, flush: bool) -> list[str] | None:
        now = self.clock()
        while self._schedule and self._schedule[0][0] <= now:
            _, _, ticket_id = heapq.heappop(self._schedule)
            pending = self._pending[ticket_id]
            if pending.restop_due:
                pending.restop_due = False
                pending.restops += 1
                pending.outcome = None
                self._send_stop(ticket_id)
                continue
            if not self._ready:
                self._ready_since = now
            self._ready.append(ticket_id)
        if not self._ready:
            return None
        full = len(self._ready) >= DESCRIBE_BATCH
        lingered = now - self._ready_since >= BATCH_LINGER_SECONDS
        nothing_else_coming = flush and not self._in_flight and not self._schedule
        if full or lingered or nothing_else_coming:
            batch, self._ready = self._ready[:DESCRIBE_BATCH], self._ready[DESCRIBE_BATCH:]
            self._ready_since = now
            return batch
        return None

    def _confirm(self, batch: list[str]) -> None:
        self.report.describe_calls += 1
        what = f"DescribeMatchmaking for ticket {', '.join(batch)}"
        response = self.read(what, describe_batch, self._client, batch)
        all_final = batch_state(response) == "success"
        found = {t["TicketId"]: t for t in response.get("TicketList", [])}
        for ticket_id in batch:
            pending = self._pending[ticket_id]
            status = found.get(ticket_id, {}).get("Status")
            if all_final or not is_active(status):
                self._finish(pending, status or GONE)
                continue
            pending.last_status = str(status)
            if pending.outcome != "accepted":
                pending.seen_active_after_refusal = True
                # Cancellable again (a refused match went back to searching, or a NotFound
                # that was not true): stop it once more when its next poll is due.
                pending.restop_due = (
                    status in ("QUEUED", "SEARCHING") and pending.restops < MAX_RESTOPS
                )
            pending.polls += 1
            self._schedule_poll(ticket_id, self._backoff.delay(pending.polls))

    def _finish(self, pending: _Pending, status: str) -> None:
        del self._pending[pending.ticket_id]
        self.report.final_status[pending.ticket_id] = status
        if pending.outcome == "accepted":
            self.report.stopped.append(pending.ticket_id)
            self.on_event(ProgressEvent("stopped", ticket_id=pending.ticket_id, status=status))
        elif pending.seen_active_after_refusal:
            self.report.waited_out.append(pending.ticket_id)
            self.on_event(ProgressEvent("stopped", ticket_id=pending.ticket_id, status=status))
        else:
            self.report.already_final.append(pending.ticket_id)
            self.on_event(
                ProgressEvent("already_final", ticket_id=pending.ticket_id, status=status)
            )

    def pump(self, flush: bool = False) -> None:
        """Collect finished stops and describe every batch that is due, without waiting.

        Partial batches wait to fill (up to ``BATCH_LINGER_SECONDS``) unless ``flush`` says
        no more stops are coming and none is in flight.
        """
        self._collect_stops()
        while (batch := self._take_ready(flush)) is not None:
            self._confirm(batch)
            self._collect_stops()

    def finish(self) -> StopReport:
        """Wait until every submitted ticket is seen final or gone, or raise at the deadline."""
        deadline = self.deadline
        while self._pending:
            self.pump(flush=True)
            if not self._pending:
                break
            now = self.clock()
            if now >= deadline:
                self._last_look()
                if self._pending:
                    self.on_event(ProgressEvent("remaining", count=len(self._pending)))
                    raise StopTimeoutError(self.remaining(), self.timeout_seconds)
                break
            next_poll = self._schedule[0][0] if self._schedule else deadline
            if self._ready:
                next_poll = min(next_poll, self._ready_since + BATCH_LINGER_SECONDS)
            pause = max(0.0, min(next_poll, deadline) - now)
            if self._in_flight:
                wait(list(self._in_flight), timeout=pause, return_when=FIRST_COMPLETED)
            else:
                self.sleep(pause)
        return self.report

    def _last_look(self) -> None:
        """At the deadline, describe what is still pending once, so no status is stale.

        Statuses GameLift does not describe within ``LAST_LOOK_SECONDS`` stay as last seen.
        """
        self._collect_stops()
        stopping = set(self._in_flight.values())
        waiting = [t for t in self._pending if t not in stopping]
        self._schedule, self._ready = [], []
        for batch in _batches(waiting):
            self.report.describe_calls += 1
            future = self._reader.submit(describe_batch, self._client, batch)
            try:
                response = self._within_deadline(future)
            except TimeoutError:
                if future.done():
                    raise
                break
            found = {t["TicketId"]: t for t in response.get("TicketList", [])}
            for ticket_id in batch:
                status = found.get(ticket_id, {}).get("Status")
                if is_active(status):
                    self._pending[ticket_id].last_status = str(status)
                else:
                    self._finish(self._pending[ticket_id], status or GONE)
        for ticket_id in stopping:
            if ticket_id in self._pending:
                self._pending[ticket_id].stop_unanswered = True


def stop_and_wait(
    client: Any, ticket_ids: Sequence[str], **options: Unpack[PipelineOptions]
) -> StopReport:
    """Stop every ticket and wait until each is final or gone; StopTimeoutError otherwise.

    StopMatchmaking goes through ``stop_client`` (by default ``client``), every read
    through ``client``; ``options`` as for :class:`StopPipeline`.
    """
    with StopPipeline(client, **options) as pipeline:
        for ticket_id in dict.fromkeys(ticket_ids):
            pipeline.submit(ticket_id)
        return pipeline.finish()


def players_from_game_session(client: Any, game_session_arn: str) -> list[dict[str, Any]]:
    """The game session's players (from its MatchmakerData) in StartMatchBackfill's form."""
    try:
        response = client.describe_game_sessions(GameSessionId=game_session_arn)
    except Exception as exc:
        raise translate(exc, operation="DescribeGameSessions", **_where(client)) from exc
    sessions = response.get("GameSessions", [])
    if not sessions:
        region = _where(client)["region"]
        raise NotFoundError(
            f"game session {game_session_arn} not found in region {region}: check "
            "`game_session_arn` and `region`"
        )
    return matchmaker_data.parse(sessions[0].get("MatchmakerData")).players


def start_backfill(
    client: Any,
    *,
    configuration_name: str,
    game_session_arn: str | None = None,
    players: list[dict[str, Any]] | None = None,
    ticket_id: str | None = None,
    on_started: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Start a backfill ticket and return it (the MatchmakingTicket as GameLift answers).

    Players default to those of the game session's MatchmakerData. Transactional: if
    ``on_started`` raises, or the start's answer is lost (connection error, 5xx) for an ID
    generated here, the ticket is stopped before the error propagates, so no active ticket
    is left that no state knows. A refused start stops nothing.
    """
    if players is None:
        if not game_session_arn:
            raise InputError(
                [Failure("players", "give `players`, or `game_session_arn` to derive them from")]
            )
        players = players_from_game_session(client, game_session_arn)
    chosen_here = not ticket_id
    ticket_id = ticket_id or str(uuid.uuid4())
    request: dict[str, Any] = {
        "TicketId": ticket_id,
        "ConfigurationName": configuration_name,
        "Players": players,
    }
    if game_session_arn:
        request["GameSessionArn"] = game_session_arn
    player_ids = [str(p.get("PlayerId", "")) for p in players]
    started = False
    try:
        ticket: dict[str, Any] = client.start_match_backfill(**request)["MatchmakingTicket"]
        started = True
        if on_started is not None:
            on_started(ticket)
    except Exception as exc:
        error = translate(
            exc,
            operation="StartMatchBackfill",
            ticket_ids=[ticket_id],
            redact=player_ids,
            **_where(client),
        )
        if started or (_outcome_unknown(error) and chosen_here):
            _rollback(client, ticket_id, error)
        elif _outcome_unknown(error):
            _add_note(error, ticket_id, f"Ticket {ticket_id} may have started.")
        raise error from None
    return ticket


def _outcome_unknown(error: BackfillError) -> bool:
    """The request may have reached GameLift and succeeded without us seeing the answer."""
    if isinstance(error, EndpointError):
        return True
    return isinstance(error, ServiceError) and (error.http_status or 0) >= 500


def _add_note(error: BackfillError, ticket_id: str, note: str) -> None:
    """Say that ``ticket_id`` may still run; front ends phrase how to check and stop it."""
    error.message = f"{error.message} {note}"
    error.args = (error.message,)
    error.remaining += (TicketState(ticket_id, "UNKNOWN"),)
    error.remedies += ("stop_remaining",)


def _rollback(client: Any, ticket_id: str, error: BackfillError) -> None:
    """Stop a ticket this call started (or may have); a failed stop is added to ``error``.

    Only tickets that are ours are stopped: one whose start succeeded, or one whose start
    may have succeeded under an ID generated here. A refused start (an ID that already
    exists, a missing configuration) started nothing, and an ID the caller chose may
    belong to a ticket someone else started.
    """
    try:
        stop_ticket(client, ticket_id)
    except BackfillError as stop_error:
        _add_note(
            error,
            ticket_id,
            f"Ticket {ticket_id} may have started and could not be stopped ({stop_error.code}).",
        )
