"""Control operations of a backend: seeding, forcing states and views for ``/_emulator/``.

None of these is a GameLift operation, and none is reachable through ``X-Amz-Target``:
the wire layer dispatches only its explicit table (``responses.OPERATIONS``). Their names
therefore never collide with GameLift's (``seed_fleet``, not ``create_fleet``).
"""

from __future__ import annotations

import uuid

from .backend_state import Json, locked
from .exceptions import ConflictException, InvalidRequestException
from .matches import MatchOperations
from .matchmaking import ALL_STATUSES, FINAL_STATUSES, TIMEOUT_STATUSES, Ticket
from .players import generate_players
from .resources import Fleet

__all__ = ["ControlOperations"]


class ControlOperations(MatchOperations):
    """What the control API does to one backend, on top of tickets and resources."""

    @locked
    def seed_fleet(self, fleet_id: str | None = None, locations: list[str] | None = None) -> Json:
        """A fleet homed in this Region, with optional remote locations."""
        fleet_id = fleet_id or f"fleet-{uuid.uuid4()}"
        if fleet_id in self._fleets:
            raise ConflictException(f"Fleet {fleet_id} already exists.")
        remote = [loc for loc in dict.fromkeys(locations or []) if loc != self.region]
        fleet = Fleet(
            fleet_id,
            self._arn("fleet", fleet_id),
            [self.region, *remote],
            creation_time=self.clock.now(),
            seq=self._next_seq(),
        )
        self._fleets[fleet_id] = fleet
        return {"fleet_id": fleet.fleet_id, "fleet_arn": fleet.fleet_arn}

    @locked
    def remove_fleet(self, fleet_id: str) -> None:
        """Drop a fleet, its aliases and sessions; their active tickets fail."""
        fleet = self._fleet(fleet_id)
        now = self.clock.now()
        for seq in fleet.session_seqs:
            session = self._sessions_by_seq.pop(seq, None)
            if session is not None:
                self._end_session(session, now)
                del self._sessions[session.arn]
        self._aliases = {a: v for a, v in self._aliases.items() if v.fleet_id != fleet.fleet_id}
        self._tags.pop(fleet.fleet_arn, None)
        del self._fleets[fleet.fleet_id]

    @locked
    def seed_alias(self, fleet_id: str, alias_id: str | None = None) -> Json:
        """An alias routing to ``fleet_id`` (alias ARNs carry no account)."""
        fleet = self._fleet(fleet_id)
        routing = {"Type": "SIMPLE", "FleetId": fleet.fleet_id}
        alias = self._add_alias(alias_id or fleet.fleet_id, routing, alias_id=alias_id)
        return {"alias_id": alias.alias_id, "alias_arn": alias.data["AliasArn"]}

    @locked
    def seed_game_session(
        self,
        fleet_id: str,
        configuration_name: str,
        player_count: int,
        max_players: int,
        location: str | None = None,
    ) -> Json:
        """A session as a match of ``configuration_name`` would have made it.

        Returns the session as DescribeGameSessions does plus ``auto_backfill_ticket_id``.
        """
        fleet = self._fleet(fleet_id)
        configuration = self._configuration(configuration_name)
        if not 0 <= player_count <= max_players or max_players < 1:
            raise InvalidRequestException(
                "player_count must be between 0 and max_players, and max_players at least 1."
            )
        shape = self._rule_sets[configuration.data["RuleSetName"]].shape
        assert shape is not None  # rule sets always carry their parsed shape
        session = self._add_session(fleet, location, max_players)
        session.player_count = player_count
        session.configuration_name = configuration.data["Name"]
        session.configuration_arn = configuration.data["ConfigurationArn"]
        session.match_id = str(uuid.uuid4())
        session.teams = shape.teams
        session.players = generate_players(shape, player_count)
        session.backfill_mode = configuration.data["BackfillMode"]
        session.auto_backfill = session.backfill_mode == "AUTOMATIC"
        self._maybe_auto_backfill(session, session.creation_time)
        return {**session.describe(), "auto_backfill_ticket_id": session.auto_ticket_id}

    @locked
    def end_game_session(self, game_session_arn: str) -> None:
        """The session ends at once; its active backfill ticket is cancelled."""
        self._end_session(self._session(game_session_arn), self.clock.now())

    @locked
    def force_ticket_status(self, ticket_id: str, status: str) -> Json:
        """Put a ticket in any GameLift status; final ones get an EndTime."""
        if status not in ALL_STATUSES:
            raise InvalidRequestException(
                f"Unknown ticket status {status}; valid: " + ", ".join(sorted(ALL_STATUSES))
            )
        ticket = self._ticket(ticket_id)
        now = self.clock.now()
        ticket.epoch += 1  # whatever was scheduled for the old status no longer applies
        ticket.cancel_requested = False
        if status in FINAL_STATUSES:
            reason = None if status in ("COMPLETED", "CANCELLED") else status
            self._finish(ticket, status, now, reason=reason, message=f"Forced to {status}.")
        else:
            self._set_status(ticket, status, now, None, None)
            if status == "QUEUED":
                self._schedule(now + self.settings.queued_ms / 1000.0, "search", ticket)
            if status in TIMEOUT_STATUSES:
                self._schedule(max(now, ticket.timeout_at), "timeout", ticket)
        return self._list_entry(ticket)

    @locked
    def list_tickets(self) -> list[Json]:
        """Every ticket still visible, in creation order, with GameLift names."""
        return [self._list_entry(t) for t in self._tickets.values()]

    @staticmethod
    def _list_entry(ticket: Ticket) -> Json:
        entry = ticket.describe()
        entry["GameSessionArn"] = ticket.game_session_arn
        entry["Automatic"] = ticket.automatic
        return entry

    @locked
    def matchmaking_events(self, configuration: str | None = None) -> list[Json]:
        """FlexMatch events oldest first, all or of one configuration (name or ARN)."""
        return self.event_log.events(configuration)

    @locked
    def fleet_records(self) -> list[Json]:
        """Fleets with their locations, for inspection."""
        return [
            {"fleet_id": f.fleet_id, "fleet_arn": f.fleet_arn, "locations": list(f.locations)}
            for f in self._fleets.values()
        ]
