"""When a game session is quiet: GameLift will start no new automatic backfill ticket for it.

A drain is done only when every game session in scope is quiet (issue 19). A listed session
(discovery.py lists only ACTIVATING and ACTIVE ones: any other is no longer ACTIVE, so
quiet) is quiet when:

- it is full (GameLift backfills only sessions with an open slot);
- its automatic backfill was turned off by a StopMatchmaking GameLift answered for the
  automatic ticket its MatchmakerData names: ours in this drain (accepted, 200), or anyone's,
  seen as that ticket being CANCELLED. On a session that is still ACTIVE, StopMatchmaking
  is how an automatic ticket gets CANCELLED (GameLift then starts no other; the emulator
  models the same), and the drain cannot tell whose it was: a timed-out earlier drain's,
  a BackfillTicket's, a user's, or a retry of our own abandoned call that landed late.
  Requiring "ours in this drain" would make the next teardown after a timeout wait out its
  whole deadline and fail. A ticket this drain first sees already gone counts the same:
  GameLift describes a ticket for a while after it ends, so that one ended well before the
  drain, and a replacement would already be named (AWS documents neither period; this is
  an assumption, and the emulator's retention is a setting).
  A ticket that ended on its own (COMPLETED, TIMED_OUT, FAILED) turned nothing off, and a
  StopMatchmaking on an ended ticket is refused: during the gap before the replacement the
  session's MatchmakerData still names the ended ticket. So does a ticket our accepted
  stop raced with (it went PLACING and then COMPLETED): an earlier drain's accepted stop
  is not remembered, and such a session stays watched;
- its configuration is not in AUTOMATIC mode (or no longer exists): one
  DescribeMatchmakingConfigurations per configuration and drain, asked only for sessions
  no cheaper rule made quiet.

Everything else (an ended ticket and no replacement yet, an ACTIVATING session, no ticket
yet) may still start automatic backfill: the drain watches it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .backfill_mode import configuration_backfill_mode
from .discovery import ListedSession
from .errors import SessionState
from .tickets import GONE

Read = Callable[..., Any]  # (what, fn, *args) -> fn(*args), under the drain's deadline

# An automatic ticket in this status had its session's backfill turned off by a StopMatchmaking.
CANCELLED = "CANCELLED"


class QuietJudge:
    """Remembers what one drain saw of automatic tickets and configurations, and says which
    listed sessions may still start automatic backfill."""

    def __init__(self, client: Any, accepted: set[str], read: Read) -> None:
        self._client = client
        self._accepted = accepted  # the stop pipeline's: StopMatchmaking answered 200
        self._read = read
        self._first_look: dict[str, str] = {}  # ticket -> status when first described
        self._last_status: dict[str, str] = {}
        self._modes: dict[str, str | None] = {}
        self.configuration_calls = 0

    def saw(self, ticket_id: str, status: str) -> None:
        """A ticket's status as a describe reported it (GONE when it was not returned)."""
        self._first_look.setdefault(ticket_id, status)
        self._last_status[ticket_id] = status

    def not_quiet(self, sessions: Iterable[ListedSession]) -> list[SessionState]:
        """The sessions that may still start automatic backfill, each with why."""
        states = []
        for session in sessions:
            reason = self._reason(session)
            if reason is not None:
                ticket = session.auto_ticket_id
                status = self._last_status.get(ticket) if ticket else None
                states.append(SessionState(session.arn, reason, ticket, status))
        return states

    def _reason(self, session: ListedSession) -> str | None:
        if session.full:
            return None
        ticket = session.auto_ticket_id
        if ticket and (
            ticket in self._accepted
            or self._last_status.get(ticket) == CANCELLED
            or self._first_look.get(ticket) == GONE
        ):
            return None
        if not self._automatic(session.configuration_arn):
            return None
        if session.status != "ACTIVE":
            return f"{session.status}, automatic backfill starts when it is ACTIVE"
        if not ticket:
            return "ACTIVE, not full, no automatic backfill ticket yet"
        status = self._last_status.get(ticket, "not yet described")
        return f"automatic ticket {ticket} ended {status} on its own, a replacement may start"

    def _automatic(self, configuration: str | None) -> bool:
        if not configuration:
            return False
        if configuration not in self._modes:
            self.configuration_calls += 1
            what = f"DescribeMatchmakingConfigurations for configuration {configuration}"
            self._modes[configuration] = self._read(
                what, configuration_backfill_mode, self._client, configuration
            )
        return self._modes[configuration] == "AUTOMATIC"
