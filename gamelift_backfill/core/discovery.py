"""Game sessions of fleets and their automatic backfill tickets, streamed page by page.

DescribeGameSessions with a fleet or alias ID and no Location returns the sessions of the
fleet's home Region and all its remote locations (AWS API reference), so one listing per
fleet and status covers every location. StatusFilter takes a single status, hence one
listing for ACTIVATING and then one for ACTIVE: a session only ever goes from ACTIVATING to
ACTIVE, so in that order one that changes between the two listings is seen at least once
(in the other order it could be missed by both). Each session is kept as a small
:class:`ListedSession` (no players), streamed a page at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from .errors import translate
from .matchmaker_data import backfill_summary, same_configuration

SESSION_STATUSES = ("ACTIVATING", "ACTIVE")


@dataclass
class DiscoveryStats:
    """Counters of one listing: pages read, sessions seen, fleets that no longer exist."""

    pages: int = 0
    sessions: int = 0
    missing_fleets: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ListedSession:
    """What the drain needs of one game session: whether automatic backfill may still
    start for it (status, fullness, configuration) and the ticket its MatchmakerData names."""

    arn: str
    status: str
    auto_ticket_id: str | None
    configuration_arn: str | None
    players: int
    max_players: int

    @property
    def full(self) -> bool:
        """No open slot: GameLift starts no automatic backfill for it."""
        return self.max_players > 0 and self.players >= self.max_players


def fleet_selector(fleet: str) -> dict[str, str]:
    """DescribeGameSessions arguments for a fleet ID, fleet ARN or alias ID/ARN."""
    if fleet.startswith("alias-") or (fleet.startswith("arn:") and ":alias/" in fleet):
        return {"AliasId": fleet}
    if fleet.startswith("arn:"):
        return {"FleetId": fleet.rsplit("/", 1)[-1]}
    return {"FleetId": fleet}


def backfill_ticket_ids(
    client: Any,
    fleet_ids: Iterable[str],
    *,
    configuration_name: str | None = None,
    stats: DiscoveryStats | None = None,
    page_size: int | None = None,
) -> Iterator[str]:
    """Yield the ``autoBackfillTicketId`` of every ACTIVE/ACTIVATING session of the fleets.

    With ``configuration_name`` (name or ARN) only sessions whose MatchmakerData names it
    count. A fleet that does not exist is recorded in ``stats.missing_fleets``, not raised.
    """
    for session in game_sessions(
        client, fleet_ids, configuration_name=configuration_name, stats=stats, page_size=page_size
    ):
        if session.auto_ticket_id:
            yield session.auto_ticket_id


def game_sessions(
    client: Any,
    fleet_ids: Iterable[str],
    *,
    configuration_name: str | None = None,
    stats: DiscoveryStats | None = None,
    page_size: int | None = None,
) -> Iterator[ListedSession]:
    """Every ACTIVATING/ACTIVE matchmade session of the fleets (MatchmakerData naming a
    configuration; with ``configuration_name``, that one), page by page.

    A session that turned ACTIVE between the two listings comes twice (the later is newer).
    A fleet that does not exist is recorded in ``stats.missing_fleets``, not raised.
    """
    stats = stats if stats is not None else DiscoveryStats()
    pagination = {"PageSize": page_size} if page_size else {}
    paginator = client.get_paginator("describe_game_sessions")
    for fleet in dict.fromkeys(fleet_ids):
        selector = fleet_selector(fleet)
        for status in SESSION_STATUSES:
            try:
                for page in paginator.paginate(
                    **selector, StatusFilter=status, PaginationConfig=pagination
                ):
                    stats.pages += 1
                    for session in page.get("GameSessions", []):
                        stats.sessions += 1
                        ticket_id, arn = backfill_summary(session.get("MatchmakerData"))
                        if arn is None and ticket_id is None:
                            continue  # not made by FlexMatch: no automatic backfill
                        if configuration_name is None or same_configuration(
                            arn, configuration_name
                        ):
                            yield ListedSession(
                                arn=str(session.get("GameSessionId", "")),
                                status=str(session.get("Status", status)),
                                auto_ticket_id=ticket_id,
                                configuration_arn=arn,
                                players=int(session.get("CurrentPlayerSessionCount") or 0),
                                max_players=int(session.get("MaximumPlayerSessionCount") or 0),
                            )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "NotFoundException":
                    stats.missing_fleets.append(fleet)
                    break
                raise _translated(client, exc, fleet) from exc
            except Exception as exc:
                raise _translated(client, exc, fleet) from exc


def _translated(client: Any, exc: Exception, fleet: str) -> Exception:
    meta = getattr(client, "meta", None)
    return translate(
        exc,
        operation="DescribeGameSessions",
        fleet_id=fleet,
        region=getattr(meta, "region_name", None),
        endpoint_url=getattr(meta, "endpoint_url", None),
    )
