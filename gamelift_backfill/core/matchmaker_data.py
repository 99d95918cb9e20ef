"""Parse a game session's MatchmakerData (the JSON FlexMatch writes onto every matched session).

Shape, as GameLift's server SDKs read it::

    {"matchId": "...", "matchmakingConfigurationArn": "arn:...:matchmakingconfiguration/NAME",
     "teams": [{"name": "red", "players": [{"playerId": "...", "attributes": {
         "skill": {"attributeType": "DOUBLE", "valueAttribute": 23.0}}}]}],
     "autoBackfillMode": "AUTOMATIC", "autoBackfillTicketId": "..."}

From it we take the Players list StartMatchBackfill wants (attributes converted to
GameLift's AttributeValue form ``{S|N|SL|SDM}``), the automatic backfill ticket, and the
configuration. Error messages name teams and players by position, never by player ID.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import Failure, MatchmakerDataError

# attributeType -> the AttributeValue member StartMatchBackfill expects
ATTRIBUTE_KEYS = {"STRING": "S", "DOUBLE": "N", "STRING_LIST": "SL", "STRING_DOUBLE_MAP": "SDM"}
# Types that carry no value (the Go server SDK writes NONE); skipped like the C# SDK does.
EMPTY_ATTRIBUTE_TYPES = frozenset({None, "NONE"})


@dataclass(frozen=True)
class MatchmakerData:
    """The parts of MatchmakerData the core uses."""

    match_id: str | None = None
    configuration_arn: str | None = None
    auto_backfill_mode: str | None = None
    auto_backfill_ticket_id: str | None = None
    players: list[dict[str, Any]] = field(default_factory=list)

    @property
    def configuration_name(self) -> str | None:
        """The configuration's name (the ARN's last path segment)."""
        return configuration_name_of(self.configuration_arn) if self.configuration_arn else None


def configuration_name_of(name_or_arn: str) -> str:
    """``arn:...:matchmakingconfiguration/NAME`` -> ``NAME``; a plain name is returned as is."""
    return name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn


def same_configuration(arn: str | None, name_or_arn: str) -> bool:
    """Whether a MatchmakerData configuration ARN denotes ``name_or_arn`` (name or ARN)."""
    if not arn:
        return False
    if name_or_arn.startswith("arn:"):
        return arn == name_or_arn
    return configuration_name_of(arn) == name_or_arn


def _fail(where: str, reason: str) -> MatchmakerDataError:
    return MatchmakerDataError(
        [
            Failure(
                "players",
                f"cannot derive players from MatchmakerData ({where}: {reason}); "
                "pass `players` explicitly",
            )
        ]
    )


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, "expected a number")
    return float(value)


def _attribute(raw: Any, where: str) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        raise _fail(where, "expected an object with attributeType and valueAttribute")
    kind = raw.get("attributeType")
    value = raw.get("valueAttribute")
    if kind in EMPTY_ATTRIBUTE_TYPES:
        return None
    key = ATTRIBUTE_KEYS.get(kind) if isinstance(kind, str) else None
    if key is None:
        raise _fail(where, f"unknown attributeType {kind!r}")
    if key == "S":
        if not isinstance(value, str):
            raise _fail(where, "STRING needs a string")
        return {"S": value}
    if key == "N":
        return {"N": _number(value, where)}
    if key == "SL":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _fail(where, "STRING_LIST needs a list of strings")
        return {"SL": list(value)}
    if not isinstance(value, Mapping):
        raise _fail(where, "STRING_DOUBLE_MAP needs an object of numbers")
    return {"SDM": {str(k): _number(v, f"{where}.{k}") for k, v in value.items()}}


def _players(teams: Any) -> list[dict[str, Any]]:
    if not isinstance(teams, list):
        raise _fail("teams", "expected a list")
    players: list[dict[str, Any]] = []
    for t, team in enumerate(teams):
        if not isinstance(team, Mapping) or not isinstance(team.get("players", []), list):
            raise _fail(f"teams[{t}]", "expected an object with a players list")
        name = team.get("name")
        for p, raw in enumerate(team.get("players", [])):
            where = f"teams[{t}].players[{p}]"
            if not isinstance(raw, Mapping):
                raise _fail(where, "expected an object")
            player_id = raw.get("playerId")
            if not isinstance(player_id, str) or not player_id:
                raise _fail(where, "no playerId")
            attributes = raw.get("attributes") or {}
            if not isinstance(attributes, Mapping):
                raise _fail(f"{where}.attributes", "expected an object")
            converted = {
                str(k): v
                for k, a in attributes.items()
                if (v := _attribute(a, f"{where}.attributes.{k}")) is not None
            }
            player: dict[str, Any] = {"PlayerId": player_id, "PlayerAttributes": converted}
            if isinstance(name, str) and name:
                player["Team"] = name
            players.append(player)
    return players


def parse(raw: str | None) -> MatchmakerData:
    """Parse MatchmakerData; raises MatchmakerDataError when it is absent or malformed."""
    if not raw:
        raise _fail("MatchmakerData", "the game session has none (not created by FlexMatch?)")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _fail("MatchmakerData", f"not JSON ({exc.msg})") from None
    if not isinstance(data, Mapping):
        raise _fail("MatchmakerData", "expected a JSON object")
    return MatchmakerData(
        match_id=_optional_str(data.get("matchId")),
        configuration_arn=_optional_str(data.get("matchmakingConfigurationArn")),
        auto_backfill_mode=_optional_str(data.get("autoBackfillMode")),
        auto_backfill_ticket_id=_optional_str(data.get("autoBackfillTicketId")),
        players=_players(data.get("teams", [])),
    )


def backfill_summary(raw: str | None) -> tuple[str | None, str | None]:
    """``(autoBackfillTicketId, matchmakingConfigurationArn)`` for discovery, never raising.

    Discovery must not fail a whole drain on one session's odd data, and does not need the
    players, so it skips their conversion and treats anything unreadable as "no ticket".
    """
    if not raw:
        return None, None
    try:
        data = json.loads(raw)
    except ValueError:
        return None, None
    if not isinstance(data, Mapping):
        return None, None
    return (
        _optional_str(data.get("autoBackfillTicketId")),
        _optional_str(data.get("matchmakingConfigurationArn")),
    )


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
